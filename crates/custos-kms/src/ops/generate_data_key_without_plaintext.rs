//! `GenerateDataKeyWithoutPlaintext`: as `GenerateDataKey`, but only the
//! encrypted copy leaves the service.

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{
    GenerateDataKeyWithoutPlaintextRequest, GenerateDataKeyWithoutPlaintextResponse,
};

use crate::ops::generate_data_key::DataKeyParams;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn generate_data_key_without_plaintext(
        &self,
        caller: &Caller,
        req: GenerateDataKeyWithoutPlaintextRequest,
    ) -> Result<GenerateDataKeyWithoutPlaintextResponse, KmsError> {
        let data_key = self
            .make_data_key(
                caller,
                crate::authz::Action::GenerateDataKeyWithoutPlaintext,
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
        // The plaintext copy drops here, zeroized.
        Ok(GenerateDataKeyWithoutPlaintextResponse {
            ciphertext_blob: Blob(data_key.ciphertext),
            key_id: data_key.key_arn,
            key_material_id: Some(data_key.material_id),
        })
    }
}
