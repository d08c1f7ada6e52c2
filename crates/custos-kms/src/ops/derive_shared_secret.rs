//! `DeriveSharedSecret`: ECDH between the private key of a `KEY_AGREEMENT`
//! key and the peer's public key (DER `SubjectPublicKeyInfo` on the same
//! curve). Returns the raw shared secret, as AWS does; deriving keys from
//! it is the caller's business.

use custos_store::Engine;
use custos_wire::SecretBlob;
use custos_wire::shapes::{DeriveSharedSecretRequest, DeriveSharedSecretResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::material::Material;
use crate::model::{KeyAgreementAlgorithm, KeyUsage};
use crate::ops::{check_grant_tokens, check_key_id, key_arn};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn derive_shared_secret(
        &self,
        caller: &Caller,
        req: DeriveSharedSecretRequest,
    ) -> Result<DeriveSharedSecretResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("keyAgreementAlgorithm", &req.key_agreement_algorithm);
        v.one_of(
            "keyAgreementAlgorithm",
            req.key_agreement_algorithm.as_deref(),
            KeyAgreementAlgorithm::NAMES,
        );
        v.required("publicKey", &req.public_key);
        v.blob_length(
            "publicKey",
            req.public_key.as_ref().map(|p| p.0.len()),
            1,
            8192,
            false,
        );
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Custos.".into(),
            ));
        }
        let peer = req.public_key.unwrap_or_default().0;

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::DeriveSharedSecret, KeySource::Named(&raw))
            .conditions(crate::authz::Conditions {
                key_agreement_algorithm: req.key_agreement_algorithm.as_deref(),
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::KeyAgreement)
            .dry_run(req.dry_run);
        // The agreement is part of the checks: a peer key not on the curve
        // fails a dry run as it fails the request.
        let (authorized, mut secret) = self
            .access_checked(caller, request, async |a| {
                let key = a.key();
                let Material::Ecdh(private) = self.current_material(a).await? else {
                    return Err(KmsError::Corrupt {
                        what: format!("key agreement key {}", key.key_id),
                    });
                };
                private.agree(&peer).map_err(|_| {
                    KmsError::ValidationMessage(format!(
                        "The PublicKey is not a valid DER-encoded SubjectPublicKeyInfo of a \
                         point on the curve of key spec {}.",
                        key.key_spec.as_str()
                    ))
                })
            })
            .await?;
        let key = authorized.key();
        Ok(DeriveSharedSecretResponse {
            key_id: key_arn(key),
            shared_secret: SecretBlob::new(std::mem::take(secret.expose_secret_mut())),
            key_agreement_algorithm: KeyAgreementAlgorithm::Ecdh.as_str().to_owned(),
            key_origin: key.origin.as_str().to_owned(),
        })
    }
}
