//! `Encrypt`: up to 4 KiB of plaintext under a symmetric key, bound to an
//! encryption context. See `crate::ciphertext` for the blob.

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{EncryptRequest, EncryptResponse};
use custos_wire::validation::Violations;

use crate::model::KeyUsage;
use crate::ops::{
    check_encryption_algorithm, check_grant_tokens, check_key_id, context, key_arn,
    require_symmetric_algorithm, require_usage,
};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn encrypt(
        &self,
        caller: &Caller,
        req: EncryptRequest,
    ) -> Result<EncryptResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("plaintext", &req.plaintext);
        v.blob_length(
            "plaintext",
            req.plaintext.as_ref().map(|p| p.len()),
            1,
            4096,
            true,
        );
        check_grant_tokens(&mut v, &req.grant_tokens);
        check_encryption_algorithm(&mut v, "encryptionAlgorithm", &req.encryption_algorithm);
        v.into_result()?;
        let raw = req.key_id.unwrap_or_default();
        let plaintext = req.plaintext.unwrap_or_default();
        let context = context(req.encryption_context);

        let key = self.resolve(caller, &raw).await?;
        self.authorize(caller, "kms:Encrypt", Some(&key))?;
        self.require_enabled(&key)?;
        require_usage(&key, KeyUsage::EncryptDecrypt, "Encrypt")?;
        require_symmetric_algorithm(&key, req.encryption_algorithm.as_deref())?;
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }

        let (blob, _) = self
            .encrypt_with_current(&key, &context, &plaintext.0)
            .await?;
        Ok(EncryptResponse {
            ciphertext_blob: Blob(blob),
            key_id: key_arn(&key),
            encryption_algorithm: "SYMMETRIC_DEFAULT".to_owned(),
        })
    }
}
