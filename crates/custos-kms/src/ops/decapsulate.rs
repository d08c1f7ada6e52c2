//! `Decapsulate`: the shared secret of an ML-KEM ciphertext, with the
//! private key of an `ENCAPSULATE_DECAPSULATE` key. As on AWS, a ciphertext
//! of the wrong length is `InvalidCiphertextException`; any other
//! ciphertext yields a secret (ML-KEM's implicit rejection: a forged or
//! altered ciphertext gives a pseudo-random one).

use custos_store::Engine;
use custos_wire::SecretBlob;
use custos_wire::shapes::{DecapsulateRequest, DecapsulateResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::material::Material;
use crate::model::{EncapsulationAlgorithm, KeyUsage};
use crate::ops::encapsulate::check_encapsulation_algorithm;
use crate::ops::{check_grant_tokens, check_key_id, key_arn};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn decapsulate(
        &self,
        caller: &Caller,
        req: DecapsulateRequest,
    ) -> Result<DecapsulateResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required(
            "sharedSecretCiphertextBlob",
            &req.shared_secret_ciphertext_blob,
        );
        v.blob_length(
            "sharedSecretCiphertextBlob",
            req.shared_secret_ciphertext_blob
                .as_ref()
                .map(|b| b.0.len()),
            1,
            6144,
            false,
        );
        check_encapsulation_algorithm(&mut v, &req.encapsulation_algorithm);
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        let ciphertext = req.shared_secret_ciphertext_blob.unwrap_or_default().0;

        let raw = req.key_id.clone().unwrap_or_default();
        let request = KeyRequest::new(Action::Decapsulate, KeySource::Named(&raw))
            .usage(KeyUsage::EncapsulateDecapsulate)
            .dry_run(req.dry_run);
        // Decapsulation is part of the checks: a bad ciphertext fails a dry
        // run as it fails the request.
        let (authorized, mut secret) = self
            .access_checked(caller, request, async |a| {
                let Material::MlKem(private) = self.current_material(a).await? else {
                    return Err(KmsError::Corrupt {
                        what: format!("ML-KEM key {}", a.key().key_id),
                    });
                };
                private
                    .decapsulate(&ciphertext)
                    .map_err(|_| KmsError::InvalidCiphertext)
            })
            .await?;
        let key = authorized.key();
        Ok(DecapsulateResponse {
            key_id: key_arn(key),
            shared_secret: SecretBlob::new(std::mem::take(secret.expose_secret_mut())),
            encapsulation_algorithm: EncapsulationAlgorithm::MlKem.as_str().to_owned(),
        })
    }
}
