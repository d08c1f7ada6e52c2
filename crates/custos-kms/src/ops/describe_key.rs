//! `DescribeKey`: a key's metadata, in any key state.

use custos_store::Engine;
use custos_wire::shapes::{DescribeKeyRequest, DescribeKeyResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::{check_grant_tokens, check_key_id, key_metadata};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn describe_key(
        &self,
        caller: &Caller,
        req: DescribeKeyRequest,
    ) -> Result<DescribeKeyResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        let raw = req.key_id.unwrap_or_default();

        let request =
            KeyRequest::new(Action::DescribeKey, KeySource::Named(&raw)).need(Need::AnyState);
        let key = self.access(caller, request).await?;

        Ok(DescribeKeyResponse {
            key_metadata: key_metadata(key.key()),
        })
    }
}
