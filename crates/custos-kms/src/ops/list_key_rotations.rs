//! `ListKeyRotations`: the key's material versions made by rotation
//! (`ROTATIONS_ONLY`, the default) or all of them (`ALL_KEY_MATERIAL`),
//! oldest first, paged by version.

use custos_store::Engine;
use custos_wire::Timestamp;
use custos_wire::shapes::{ListKeyRotationsRequest, ListKeyRotationsResponse, RotationsListEntry};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::{check_key_id, check_limit, check_marker, require_rotatable};
use crate::{Caller, Kms, KmsError};

const DEFAULT_LIMIT: usize = 100;

impl<E: Engine> Kms<E> {
    pub async fn list_key_rotations(
        &self,
        caller: &Caller,
        req: ListKeyRotationsRequest,
    ) -> Result<ListKeyRotationsResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.one_of(
            "includeKeyMaterial",
            req.include_key_material.as_deref(),
            &["ALL_KEY_MATERIAL", "ROTATIONS_ONLY"],
        );
        check_limit(&mut v, req.limit);
        check_marker(&mut v, &req.marker);
        v.into_result()?;
        let all = req.include_key_material.as_deref() == Some("ALL_KEY_MATERIAL");
        let limit = req
            .limit
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(DEFAULT_LIMIT);
        let after = match &req.marker {
            Some(m) => Some(m.parse::<u32>().map_err(|_| {
                KmsError::InvalidMarker(format!(
                    "Marker {m} is not a marker ListKeyRotations returned."
                ))
            })?),
            None => None,
        };

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::ListKeyRotations, KeySource::Named(&raw))
            .need(Need::NotPending);
        let (key, ()) = self
            .access_checked(caller, request, async |a| require_rotatable(a.key()))
            .await?;
        let key = key.key();

        let current = key.current_material().map(|m| m.version);
        let mut rows = key
            .materials
            .iter()
            .filter(|m| all || m.rotation_type.is_some())
            .filter(|m| after.is_none_or(|a| m.version > a));
        let page: Vec<_> = rows.by_ref().take(limit).collect();
        let truncated = rows.next().is_some();
        Ok(ListKeyRotationsResponse {
            next_marker: truncated
                .then(|| page.last().map(|m| m.version.to_string()))
                .flatten(),
            rotations: page
                .iter()
                .map(|m| RotationsListEntry {
                    key_id: key.key_id.clone(),
                    key_material_id: m.material_id.clone(),
                    key_material_state: if Some(m.version) == current {
                        "CURRENT"
                    } else {
                        "NON_CURRENT"
                    }
                    .to_owned(),
                    rotation_date: m
                        .rotation_type
                        .map(|_| Timestamp::from_millis(m.created_ms)),
                    rotation_type: m.rotation_type.map(|t| t.as_str().to_owned()),
                })
                .collect(),
            truncated,
        })
    }
}
