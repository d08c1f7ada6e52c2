//! `GetKeyPolicy`: the key policy, exactly as stored.

use custos_store::Engine;
use custos_wire::shapes::{GetKeyPolicyRequest, GetKeyPolicyResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::{check_key_id, check_policy_name};
use crate::policy::DEFAULT_POLICY_NAME;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn get_key_policy(
        &self,
        caller: &Caller,
        req: GetKeyPolicyRequest,
    ) -> Result<GetKeyPolicyResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        check_policy_name(&mut v, &req.policy_name);
        v.into_result()?;

        let raw = req.key_id.unwrap_or_default();
        let request =
            KeyRequest::new(Action::GetKeyPolicy, KeySource::Named(&raw)).need(Need::AnyState);
        let (key, ()) = self
            .access_checked(caller, request, async |_| {
                require_default_name(req.policy_name.as_deref())
            })
            .await?;
        Ok(GetKeyPolicyResponse {
            policy: key.into_key().policy,
            policy_name: DEFAULT_POLICY_NAME.to_owned(),
        })
    }
}

/// A key has one policy, named `default`.
pub(crate) fn require_default_name(name: Option<&str>) -> Result<(), KmsError> {
    match name {
        None | Some(DEFAULT_POLICY_NAME) => Ok(()),
        Some(other) => Err(KmsError::NotFound(format!(
            "No such policy exists: {other}. The only key policy name is \"default\"."
        ))),
    }
}
