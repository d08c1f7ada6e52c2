//! `GetPublicKey`: the DER `SubjectPublicKeyInfo` of an asymmetric key,
//! with the metadata AWS returns beside it.

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{GetPublicKeyRequest, GetPublicKeyResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::ops::{check_grant_tokens, check_key_id, key_arn, names};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn get_public_key(
        &self,
        caller: &Caller,
        req: GetPublicKeyRequest,
    ) -> Result<GetPublicKeyResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::GetPublicKey, KeySource::Named(&raw));
        let (key, ()) = self
            .access_checked(caller, request, async |a| {
                let key = a.key();
                if key.key_spec.is_asymmetric() {
                    Ok(())
                } else {
                    Err(KmsError::UnsupportedOperation(format!(
                        "{} key spec is {} which is not valid for GetPublicKey.",
                        key_arn(key),
                        key.key_spec.as_str()
                    )))
                }
            })
            .await?;
        let public = self.bound_public_key(&key).await?;
        let key = key.into_key();
        let algorithms = key.key_spec.algorithms(key.key_usage);
        Ok(GetPublicKeyResponse {
            key_id: key_arn(&key),
            public_key: Blob(public),
            customer_master_key_spec: key.key_spec.as_str().to_owned(),
            key_spec: key.key_spec.as_str().to_owned(),
            key_usage: key.key_usage.as_str().to_owned(),
            encryption_algorithms: names(&algorithms.encryption, |a| a.as_str()),
            signing_algorithms: names(&algorithms.signing, |a| a.as_str()),
            key_agreement_algorithms: names(&algorithms.key_agreement, |a| a.as_str()),
            encapsulation_algorithms: names(&algorithms.encapsulation, |a| a.as_str()),
        })
    }
}
