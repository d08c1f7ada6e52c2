//! `Encapsulate`: a fresh 32-byte shared secret and its ML-KEM ciphertext
//! under the public key of an `ENCAPSULATE_DECAPSULATE` key.

use custos_store::Engine;
use custos_wire::shapes::{EncapsulateRequest, EncapsulateResponse};
use custos_wire::validation::Violations;
use custos_wire::{Blob, SecretBlob};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::material::ml_kem;
use crate::model::{EncapsulationAlgorithm, KeyUsage};
use crate::ops::{check_grant_tokens, check_key_id, key_arn};
use crate::{Caller, Kms, KmsError};

/// Model validation of the `EncapsulationAlgorithm` member.
pub(crate) fn check_encapsulation_algorithm(v: &mut Violations, value: &Option<String>) {
    v.required("encapsulationAlgorithm", value);
    v.one_of(
        "encapsulationAlgorithm",
        value.as_deref(),
        EncapsulationAlgorithm::NAMES,
    );
}

impl<E: Engine> Kms<E> {
    pub async fn encapsulate(
        &self,
        caller: &Caller,
        req: EncapsulateRequest,
    ) -> Result<EncapsulateResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        check_encapsulation_algorithm(&mut v, &req.encapsulation_algorithm);
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;

        let raw = req.key_id.clone().unwrap_or_default();
        let request = KeyRequest::new(Action::Encapsulate, KeySource::Named(&raw))
            .usage(KeyUsage::EncapsulateDecapsulate)
            .dry_run(req.dry_run);
        let authorized = self.access(caller, request).await?;
        let key = authorized.key();

        let corrupt = || KmsError::Corrupt {
            what: format!("public key of {}", key.key_id),
        };
        let level = ml_kem(key.key_spec).ok_or_else(corrupt)?;
        let public = self.bound_public_key(&authorized).await?;
        let (ciphertext, mut secret) =
            custos_crypto::kem::encapsulate(level, &public).map_err(|_| corrupt())?;
        Ok(EncapsulateResponse {
            key_id: key_arn(key),
            shared_secret: SecretBlob::new(std::mem::take(secret.expose_secret_mut())),
            shared_secret_ciphertext_blob: Blob(ciphertext),
            encapsulation_algorithm: EncapsulationAlgorithm::MlKem.as_str().to_owned(),
        })
    }
}
