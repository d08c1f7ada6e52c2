//! `GenerateRandom`: 1 to 1024 bytes from the CSPRNG.

use custos_store::Engine;
use custos_wire::shapes::{GenerateRandomRequest, GenerateRandomResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::ops::random_secret;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn generate_random(
        &self,
        caller: &Caller,
        req: GenerateRandomRequest,
    ) -> Result<GenerateRandomResponse, KmsError> {
        let mut v = Violations::new();
        v.range("numberOfBytes", req.number_of_bytes, 1, 1024);
        v.length(
            "customKeyStoreId",
            req.custom_key_store_id.as_deref(),
            1,
            64,
        );
        v.into_result()?;
        let Some(n) = req.number_of_bytes.and_then(|n| usize::try_from(n).ok()) else {
            return Err(KmsError::ValidationMessage(
                "NumberOfBytes is required.".into(),
            ));
        };
        if let Some(id) = req.custom_key_store_id {
            return Err(KmsError::CustomKeyStoreNotFound(format!(
                "Custom key store {id} does not exist; Custos has no custom key stores."
            )));
        }
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Custos.".into(),
            ));
        }

        self.authorize_account(caller, Action::GenerateRandom, &Default::default())?;

        Ok(GenerateRandomResponse {
            plaintext: random_secret(n)?,
        })
    }
}
