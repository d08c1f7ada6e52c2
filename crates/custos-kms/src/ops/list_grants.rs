//! `ListGrants`: the grants of one key, in grant-id order, paged,
//! optionally one grant or one grantee's.

use custos_store::Engine;
use custos_wire::Timestamp;
use custos_wire::shapes::{GrantListEntry, ListGrantsRequest, ListGrantsResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::grants::GrantRecord;
use crate::ops::{check_key_id, check_marker};
use crate::{Caller, Kms, KmsError};

/// `Limit` when none is given, and the largest, as AWS.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: i64 = 100;

pub(crate) fn grant_entry(g: &GrantRecord) -> GrantListEntry {
    GrantListEntry {
        key_id: g.key_arn.clone(),
        grant_id: g.grant_id.clone(),
        name: g.name.clone(),
        creation_date: Timestamp::from_millis(g.created_ms),
        grantee_principal: g.grantee_principal.clone(),
        retiring_principal: g.retiring_principal.clone(),
        issuing_account: g.issuing_account.clone(),
        operations: g.operations.clone(),
        constraints: g.constraints.clone(),
    }
}

/// A marker is the grant id a previous page ended with (64 hex digits).
pub(crate) fn check_grant_marker(marker: Option<&str>) -> Result<(), KmsError> {
    match marker {
        Some(m) if !(m.len() == 64 && m.bytes().all(|b| b.is_ascii_hexdigit())) => Err(
            KmsError::InvalidMarker(format!("Marker {m} is not a marker a grant list returned.")),
        ),
        _ => Ok(()),
    }
}

/// One page of `grants` (in grant-id order) after `marker`.
pub(crate) fn grants_page(
    grants: Vec<GrantRecord>,
    marker: Option<&str>,
    limit: Option<i64>,
) -> ListGrantsResponse {
    let limit = limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(DEFAULT_LIMIT);
    let mut rest: Vec<GrantRecord> = grants
        .into_iter()
        .filter(|g| marker.is_none_or(|m| g.grant_id.as_str() > m))
        .collect();
    let truncated = rest.len() > limit;
    rest.truncate(limit);
    ListGrantsResponse {
        next_marker: truncated
            .then(|| rest.last().map(|g| g.grant_id.clone()))
            .flatten(),
        grants: rest.iter().map(grant_entry).collect(),
        truncated,
    }
}

impl<E: Engine> Kms<E> {
    pub async fn list_grants(
        &self,
        caller: &Caller,
        req: ListGrantsRequest,
    ) -> Result<ListGrantsResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.range("limit", req.limit, 1, MAX_LIMIT);
        check_marker(&mut v, &req.marker);
        v.length("grantId", req.grant_id.as_deref(), 1, 128);
        v.length("granteePrincipal", req.grantee_principal.as_deref(), 1, 256);
        v.into_result()?;
        let raw = req.key_id.unwrap_or_default();
        check_grant_marker(req.marker.as_deref())?;

        let request = KeyRequest::new(Action::ListGrants, KeySource::Named(&raw))
            .conditions(crate::authz::Conditions {
                grant_is_for_aws_resource: Some(false),
                ..crate::authz::Conditions::default()
            })
            .need(Need::AnyState);
        let key = self.access(caller, request).await?.into_key();
        let grants: Vec<GrantRecord> = self
            .grants_of(&key.key_id)
            .await?
            .into_iter()
            .map(|(g, _)| g)
            .filter(|g| req.grant_id.as_deref().is_none_or(|id| g.grant_id == id))
            .filter(|g| {
                req.grantee_principal
                    .as_deref()
                    .is_none_or(|p| g.grantee_principal == p)
            })
            .collect();
        Ok(grants_page(grants, req.marker.as_deref(), req.limit))
    }
}
