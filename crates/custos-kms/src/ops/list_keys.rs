//! `ListKeys`: the keys of the caller's region, in key-id order, paged.
//!
//! The marker is the id of the last key of the previous page, so a page
//! boundary stays correct while keys are created or deleted.

use custos_store::{Engine, Table};
use custos_wire::shapes::{KeyListEntry, ListKeysRequest, ListKeysResponse};
use custos_wire::validation::Violations;

use crate::keys::{decode_key, key_row};
use crate::names::KeyUuid;
use crate::ops::{check_limit, check_marker, key_arn};
use crate::{Caller, Kms, KmsError};

const DEFAULT_LIMIT: usize = 100;

impl<E: Engine> Kms<E> {
    pub async fn list_keys(
        &self,
        caller: &Caller,
        req: ListKeysRequest,
    ) -> Result<ListKeysResponse, KmsError> {
        let mut v = Violations::new();
        check_limit(&mut v, req.limit);
        check_marker(&mut v, &req.marker);
        v.into_result()?;
        let limit = req
            .limit
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(DEFAULT_LIMIT);
        let after = match &req.marker {
            Some(m) => Some(KeyUuid::parse(m).ok_or_else(|| {
                KmsError::InvalidMarker(format!("Marker {m} is not a marker ListKeys returned."))
            })?),
            None => None,
        };

        self.authorize(caller, "kms:ListKeys", None)?;

        let region = caller.region.as_str();
        let prefix = format!("{region}/").into_bytes();
        let after = after.map(|id| key_row(region, &id.to_string()));
        let mut rows = self
            .engine()
            .scan(Table::Keys, &prefix, after.as_deref(), limit + 1)
            .await?;
        let truncated = rows.len() > limit;
        rows.truncate(limit);
        let keys = rows
            .iter()
            .map(|(_, bytes)| {
                let key = decode_key(bytes)?;
                Ok(KeyListEntry {
                    key_arn: key_arn(&key),
                    key_id: key.key_id,
                })
            })
            .collect::<Result<Vec<_>, KmsError>>()?;
        Ok(ListKeysResponse {
            next_marker: truncated
                .then(|| keys.last().map(|k| k.key_id.clone()))
                .flatten(),
            keys,
            truncated,
        })
    }
}
