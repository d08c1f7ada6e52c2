//! `PutKeyPolicy`: replaces the key policy, after the document checks and
//! the lockout safety check.

use custos_store::Engine;
use custos_wire::shapes::{Empty, PutKeyPolicyRequest};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::get_key_policy::require_default_name;
use crate::ops::{check_key_id, check_policy, check_policy_name};
use crate::{Caller, Kms, KmsError, policy};

impl<E: Engine> Kms<E> {
    pub async fn put_key_policy(
        &self,
        caller: &Caller,
        req: PutKeyPolicyRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        check_policy_name(&mut v, &req.policy_name);
        v.required("policy", &req.policy);
        check_policy(&mut v, &req.policy);
        v.into_result()?;
        let document = req.policy.unwrap_or_default();

        let raw = req.key_id.unwrap_or_default();
        let bypass = req.bypass_policy_lockout_safety_check == Some(true);
        let request = KeyRequest::new(Action::PutKeyPolicy, KeySource::Named(&raw))
            .need(Need::AnyState)
            .conditions(crate::authz::Conditions {
                bypass_policy_lockout_safety_check: req.bypass_policy_lockout_safety_check,
                ..crate::authz::Conditions::default()
            });
        let (key, parsed) = self
            .access_checked(caller, request, async |a| {
                require_default_name(req.policy_name.as_deref())?;
                let parsed = policy::check_document(&document)?;
                self.check_lockout(caller, a.key(), &parsed, bypass)?;
                Ok(parsed)
            })
            .await?;
        self.check_principals(&parsed).await?;
        self.modify(&key, |k, _| {
            k.policy = document.clone();
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
