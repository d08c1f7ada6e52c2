//! `ListKeyPolicies`: always `["default"]`, as on AWS.

use custos_store::Engine;
use custos_wire::shapes::{ListKeyPoliciesRequest, ListKeyPoliciesResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::{check_key_id, check_limit, check_marker};
use crate::policy::DEFAULT_POLICY_NAME;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn list_key_policies(
        &self,
        caller: &Caller,
        req: ListKeyPoliciesRequest,
    ) -> Result<ListKeyPoliciesResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        check_limit(&mut v, req.limit);
        check_marker(&mut v, &req.marker);
        v.into_result()?;
        if let Some(m) = req.marker {
            return Err(KmsError::InvalidMarker(format!(
                "Marker {m} is not a marker ListKeyPolicies returned."
            )));
        }

        let raw = req.key_id.unwrap_or_default();
        let request =
            KeyRequest::new(Action::ListKeyPolicies, KeySource::Named(&raw)).need(Need::AnyState);
        self.access(caller, request).await?;
        Ok(ListKeyPoliciesResponse {
            policy_names: vec![DEFAULT_POLICY_NAME.to_owned()],
            next_marker: None,
            truncated: false,
        })
    }
}
