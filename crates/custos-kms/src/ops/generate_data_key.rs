//! `GenerateDataKey`: a fresh data key, returned in plaintext and
//! encrypted under a symmetric KMS key.

use custos_store::Engine;
use custos_wire::shapes::{self, GenerateDataKeyRequest, GenerateDataKeyResponse};
use custos_wire::validation::Violations;
use custos_wire::{Blob, SecretBlob};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::model::{DataKeySpec, KeyUsage};
use crate::ops::generate_data_key_pair::require_symmetric_key;
use crate::ops::{
    check_grant_tokens, check_key_id, context, data_key_length, key_arn, random_secret,
};
use crate::{Caller, Kms, KmsError};

/// What `GenerateDataKey` and `GenerateDataKeyWithoutPlaintext` share.
pub(crate) struct DataKeyParams {
    pub key_id: Option<String>,
    pub encryption_context: Option<shapes::EncryptionContext>,
    pub number_of_bytes: Option<i64>,
    pub key_spec: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

/// A generated data key.
pub(crate) struct DataKey {
    pub plaintext: SecretBlob,
    pub ciphertext: Vec<u8>,
    pub key_arn: String,
    pub material_id: String,
}

impl<E: Engine> Kms<E> {
    pub async fn generate_data_key(
        &self,
        caller: &Caller,
        req: GenerateDataKeyRequest,
    ) -> Result<GenerateDataKeyResponse, KmsError> {
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Custos.".into(),
            ));
        }
        let data_key = self
            .make_data_key(
                caller,
                Action::GenerateDataKey,
                DataKeyParams {
                    key_id: req.key_id,
                    encryption_context: req.encryption_context,
                    number_of_bytes: req.number_of_bytes,
                    key_spec: req.key_spec,
                    grant_tokens: req.grant_tokens,
                    dry_run: req.dry_run,
                },
            )
            .await?;
        Ok(GenerateDataKeyResponse {
            ciphertext_blob: Blob(data_key.ciphertext),
            plaintext: data_key.plaintext,
            key_id: data_key.key_arn,
            key_material_id: Some(data_key.material_id),
        })
    }

    /// Parses, checks and generates, for both data-key operations.
    pub(crate) async fn make_data_key(
        &self,
        caller: &Caller,
        action: Action,
        req: DataKeyParams,
    ) -> Result<DataKey, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.range("numberOfBytes", req.number_of_bytes, 1, 1024);
        v.one_of("keySpec", req.key_spec.as_deref(), DataKeySpec::NAMES);
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        let len = data_key_length(req.number_of_bytes, req.key_spec.as_deref())?;
        let raw = req.key_id.unwrap_or_default();
        let context = context(req.encryption_context);

        let request = KeyRequest::new(action, KeySource::Named(&raw))
            .conditions(crate::authz::Conditions {
                encryption_context: Some(&context),
                // The algorithm the data key is encrypted with, as AWS
                // reports it for these operations.
                encryption_algorithm: Some("SYMMETRIC_DEFAULT"),
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt)
            .dry_run(req.dry_run);
        let (authorized, ()) = self
            .access_checked(caller, request, async |a| {
                require_symmetric_key(a.key(), action)
            })
            .await?;

        let plaintext = random_secret(len)?;
        let (ciphertext, material_id) = self
            .encrypt_with_current(&authorized, &context, &plaintext.0)
            .await?;
        Ok(DataKey {
            plaintext,
            ciphertext,
            key_arn: key_arn(authorized.key()),
            material_id,
        })
    }
}
