//! `ListKeys`: the keys of the caller's region, in key-id order, paged.
//!
//! The marker is the id of the last key of the previous page, so a page
//! boundary stays correct while keys are created or deleted.

use custos_store::{Engine, Table};
use custos_wire::shapes::{KeyListEntry, ListKeysRequest, ListKeysResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::keys::key_row;
use crate::names::KeyUuid;
use crate::ops::{check_limit, check_marker, key_arn};
use crate::{Caller, Kms, KmsError};

const DEFAULT_LIMIT: usize = 100;
/// Rows read from the store at a time.
const SCAN_CHUNK: usize = 256;

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

        self.authorize_account(caller, Action::ListKeys, &Default::default())?;

        let region = caller.region().as_str();
        let prefix = format!("{region}/").into_bytes();
        let after = after.map(|id| key_row(region, &id.to_string()));
        // Key rows are per region, not per account (key ids are unique
        // across accounts): the caller's keys are picked out of the scan.
        let account = caller.account().as_str();
        let mut keys = Vec::with_capacity(limit.min(SCAN_CHUNK));
        let mut cursor = after;
        let mut truncated = false;
        'scan: loop {
            let rows = self
                .engine()
                .scan(Table::Keys, &prefix, cursor.as_deref(), SCAN_CHUNK)
                .await?;
            let exhausted = rows.len() < SCAN_CHUNK;
            for (row, bytes) in rows {
                let key = self.read_key_record(&row, &bytes)?;
                cursor = Some(row);
                if key.account_id != account {
                    continue;
                }
                if keys.len() == limit {
                    truncated = true;
                    break 'scan;
                }
                keys.push(KeyListEntry {
                    key_arn: key_arn(&key),
                    key_id: key.key_id,
                });
            }
            if exhausted {
                break;
            }
        }
        Ok(ListKeysResponse {
            next_marker: truncated
                .then(|| keys.last().map(|k| k.key_id.clone()))
                .flatten(),
            keys,
            truncated,
        })
    }
}
