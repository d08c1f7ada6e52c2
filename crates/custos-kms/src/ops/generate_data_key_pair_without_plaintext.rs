//! `GenerateDataKeyPairWithoutPlaintext`: as `GenerateDataKeyPair`, without
//! the plaintext private key in the response.

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{
    GenerateDataKeyPairWithoutPlaintextRequest, GenerateDataKeyPairWithoutPlaintextResponse,
};

use crate::ops::generate_data_key_pair::DataKeyPairParams;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn generate_data_key_pair_without_plaintext(
        &self,
        caller: &Caller,
        req: GenerateDataKeyPairWithoutPlaintextRequest,
    ) -> Result<GenerateDataKeyPairWithoutPlaintextResponse, KmsError> {
        let pair = self
            .make_data_key_pair(
                caller,
                crate::authz::Action::GenerateDataKeyPairWithoutPlaintext,
                DataKeyPairParams {
                    key_id: req.key_id,
                    key_pair_spec: req.key_pair_spec,
                    encryption_context: req.encryption_context,
                    grant_tokens: req.grant_tokens,
                    dry_run: req.dry_run,
                },
            )
            .await?;
        // The plaintext private key is dropped here, wiped.
        drop(pair.private_plaintext);
        Ok(GenerateDataKeyPairWithoutPlaintextResponse {
            private_key_ciphertext_blob: Blob(pair.private_ciphertext),
            public_key: Blob(pair.public_key),
            key_id: pair.key_arn,
            key_pair_spec: pair.spec.as_str().to_owned(),
            key_material_id: Some(pair.material_id),
        })
    }
}
