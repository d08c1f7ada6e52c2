//! `GenerateDataKeyPair`: a fresh asymmetric key pair for use outside
//! Custos: the public key (DER `SubjectPublicKeyInfo`), the private key
//! (PKCS #8 DER) in plaintext, and the private key encrypted under a
//! symmetric KMS key, bound to the encryption context.

use custos_store::Engine;
use custos_wire::shapes::{self, GenerateDataKeyPairRequest, GenerateDataKeyPairResponse};
use custos_wire::validation::Violations;
use custos_wire::{Blob, SecretBlob};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::model::{DataKeyPairSpec, KeySpec, KeyUsage};
use crate::ops::{blocking, check_grant_tokens, check_key_id, context, key_arn};
use crate::{Caller, Kms, KmsError};

/// What both data-key-pair operations share.
pub(crate) struct DataKeyPairParams {
    pub key_id: Option<String>,
    pub key_pair_spec: Option<String>,
    pub encryption_context: Option<shapes::EncryptionContext>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// A generated pair.
pub(crate) struct DataKeyPair {
    pub private_plaintext: SecretBlob,
    pub private_ciphertext: Vec<u8>,
    pub public_key: Vec<u8>,
    pub key_arn: String,
    pub spec: DataKeyPairSpec,
    pub material_id: String,
}

impl<E: Engine> Kms<E> {
    pub async fn generate_data_key_pair(
        &self,
        caller: &Caller,
        req: GenerateDataKeyPairRequest,
    ) -> Result<GenerateDataKeyPairResponse, KmsError> {
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Custos.".into(),
            ));
        }
        let pair = self
            .make_data_key_pair(
                caller,
                Action::GenerateDataKeyPair,
                DataKeyPairParams {
                    key_id: req.key_id,
                    key_pair_spec: req.key_pair_spec,
                    encryption_context: req.encryption_context,
                    grant_tokens: req.grant_tokens,
                    dry_run: req.dry_run,
                },
            )
            .await?;
        Ok(GenerateDataKeyPairResponse {
            private_key_ciphertext_blob: Blob(pair.private_ciphertext),
            private_key_plaintext: pair.private_plaintext,
            public_key: Blob(pair.public_key),
            key_id: pair.key_arn,
            key_pair_spec: pair.spec.as_str().to_owned(),
            key_material_id: Some(pair.material_id),
        })
    }

    /// Parses, checks and generates, for both data-key-pair operations.
    pub(crate) async fn make_data_key_pair(
        &self,
        caller: &Caller,
        action: Action,
        req: DataKeyPairParams,
    ) -> Result<DataKeyPair, KmsError> {
        let mut v = Violations::new();
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("keyId", &req.key_id);
        v.required("keyPairSpec", &req.key_pair_spec);
        v.one_of(
            "keyPairSpec",
            req.key_pair_spec.as_deref(),
            DataKeyPairSpec::NAMES,
        );
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        // Validated above: the parse cannot fail.
        let spec = req
            .key_pair_spec
            .as_deref()
            .and_then(DataKeyPairSpec::parse)
            .unwrap_or(DataKeyPairSpec::Rsa2048);
        let context = context(req.encryption_context);

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(action, KeySource::Named(&raw))
            .conditions(crate::authz::Conditions {
                encryption_context: Some(&context),
                // The algorithm the data key is encrypted with, as AWS
                // reports it for these operations.
                encryption_algorithm: Some("SYMMETRIC_DEFAULT"),
                data_key_pair_spec: Some(spec.as_str()),
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt)
            .dry_run(req.dry_run);
        let (authorized, ()) = self
            .access_checked(caller, request, async |a| {
                require_symmetric_key(a.key(), action)?;
                if spec == DataKeyPairSpec::Sm2 {
                    return Err(KmsError::UnsupportedOperation(
                        "KeyPairSpec SM2 is not supported in this Region".into(),
                    ));
                }
                Ok(())
            })
            .await?;

        let (private, public_key) = blocking(move || crate::material::data_key_pair(spec)).await?;
        let (private_ciphertext, material_id) = self
            .encrypt_with_current(&authorized, &context, private.expose_secret())
            .await?;
        Ok(DataKeyPair {
            private_plaintext: SecretBlob::new(private.expose_secret().to_vec()),
            private_ciphertext,
            public_key,
            key_arn: key_arn(authorized.key()),
            spec,
            material_id,
        })
    }
}

/// The key of the data-key operations must be a symmetric encryption key;
/// an RSA `ENCRYPT_DECRYPT` key passes the usage check but not this one.
pub(crate) fn require_symmetric_key(
    key: &crate::model::KeyRecord,
    action: Action,
) -> Result<(), KmsError> {
    let operation = action.name().trim_start_matches("kms:");
    if key.key_spec == KeySpec::SymmetricDefault {
        Ok(())
    } else {
        Err(KmsError::InvalidKeyUsage(format!(
            "{} key KeySpec is {} which is not valid for {operation}.",
            key_arn(key),
            key.key_spec.as_str()
        )))
    }
}
