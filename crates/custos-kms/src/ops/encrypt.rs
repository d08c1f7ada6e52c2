//! `Encrypt`: up to 4 KiB of plaintext under a symmetric key, bound to an
//! encryption context (see `crate::ciphertext` for the blob), or a short
//! plaintext under the public key of an RSA `ENCRYPT_DECRYPT` key with
//! RSA-OAEP (the ciphertext is the raw OAEP block, as long as the modulus,
//! which any RSA implementation can decrypt).

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{EncryptRequest, EncryptResponse};
use custos_wire::validation::Violations;

use crate::algorithms::{check_rsa_plaintext, rsa_padding};
use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::context::EncryptionContext;
use crate::model::{KeyRecord, KeySpec, KeyUsage};
use crate::ops::{
    check_encryption_algorithm, check_grant_tokens, check_key_id, context, key_arn,
    require_symmetric_algorithm,
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
        self.check_grant_token_list(&req.grant_tokens)?;
        let raw = req.key_id.unwrap_or_default();
        let plaintext = req.plaintext.unwrap_or_default();
        let context = context(req.encryption_context);

        let request = KeyRequest::new(Action::Encrypt, KeySource::Named(&raw))
            .conditions(crate::authz::Conditions {
                encryption_context: Some(&context),
                // AWS fills in the default when the parameter is omitted.
                encryption_algorithm: Some(
                    req.encryption_algorithm
                        .as_deref()
                        .unwrap_or("SYMMETRIC_DEFAULT"),
                ),
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt)
            .dry_run(req.dry_run);
        // RSA keys: the padding for the algorithm; symmetric keys: none.
        let (authorized, rsa) = self
            .access_checked(caller, request, async |a| {
                let key = a.key();
                if key.key_spec == KeySpec::SymmetricDefault {
                    require_symmetric_algorithm(key, req.encryption_algorithm.as_deref())?;
                    return Ok(None);
                }
                let (algorithm, padding) = rsa_padding(key, req.encryption_algorithm.as_deref())?;
                check_rsa_plaintext(key, algorithm, plaintext.len())?;
                refuse_asymmetric_context(&context)?;
                Ok(Some((algorithm, padding)))
            })
            .await?;
        let key = authorized.key();
        if let Some((algorithm, padding)) = rsa {
            let public = self.bound_public_key(&authorized).await?;
            let ciphertext = rsa_encrypt(key, &public, padding, &plaintext.0)?;
            return Ok(EncryptResponse {
                ciphertext_blob: Blob(ciphertext),
                key_id: key_arn(key),
                encryption_algorithm: algorithm.as_str().to_owned(),
            });
        }
        let (blob, _) = self
            .encrypt_with_current(&authorized, &context, &plaintext.0)
            .await?;
        Ok(EncryptResponse {
            ciphertext_blob: Blob(blob),
            key_id: key_arn(key),
            encryption_algorithm: "SYMMETRIC_DEFAULT".to_owned(),
        })
    }
}

/// RSA keys take no encryption context (RSA-OAEP has no associated data
/// here); refusing one is safer than ignoring it.
pub(crate) fn refuse_asymmetric_context(context: &EncryptionContext) -> Result<(), KmsError> {
    if context.is_empty() {
        Ok(())
    } else {
        Err(KmsError::ValidationMessage(
            "EncryptionContext is not supported for asymmetric KMS keys.".into(),
        ))
    }
}

/// RSA-OAEP under `public`, the (bound) public key of `key`.
pub(crate) fn rsa_encrypt(
    key: &KeyRecord,
    public: &[u8],
    padding: custos_crypto::rsa::RsaPadding,
    plaintext: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let corrupt = || KmsError::Corrupt {
        what: format!("public key of {}", key.key_id),
    };
    let public = custos_crypto::rsa::RsaPublicKey::from_der(public).map_err(|_| corrupt())?;
    Ok(public.encrypt(padding, plaintext)?)
}
