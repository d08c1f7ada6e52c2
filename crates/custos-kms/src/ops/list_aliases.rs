//! `ListAliases`: the aliases of the caller's region in name order, paged,
//! optionally only those of one key.

use custos_store::{Engine, Table};
use custos_wire::Timestamp;
use custos_wire::shapes::{AliasListEntry, ListAliasesRequest, ListAliasesResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::names::{AliasName, KeyRef};
use crate::ops::{check_key_id, check_limit, check_marker};
use crate::{Caller, Kms, KmsError};

const DEFAULT_LIMIT: usize = 50;
/// AWS documents 100 as the largest page; larger limits return fewer.
const MAX_PAGE: usize = 100;
/// Rows read per scan while filtering by key.
const SCAN_CHUNK: usize = 256;

impl<E: Engine> Kms<E> {
    pub async fn list_aliases(
        &self,
        caller: &Caller,
        req: ListAliasesRequest,
    ) -> Result<ListAliasesResponse, KmsError> {
        let mut v = Violations::new();
        check_key_id(&mut v, "keyId", &req.key_id);
        check_limit(&mut v, req.limit);
        check_marker(&mut v, &req.marker);
        v.into_result()?;
        let limit = req
            .limit
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(DEFAULT_LIMIT)
            .min(MAX_PAGE);
        let after = match &req.marker {
            Some(m) => Some(AliasName::parse(m).map_err(|_| {
                KmsError::InvalidMarker(format!("Marker {m} is not a marker ListAliases returned."))
            })?),
            None => None,
        };
        let filter = match &req.key_id {
            Some(raw) => {
                if KeyRef::parse(raw).is_ok_and(|r| r.is_alias()) {
                    return Err(KmsError::InvalidArn(
                        "Key Aliases are not supported for this operation".into(),
                    ));
                }
                // `kms:ListAliases` is not scoped to a key: identity
                // policies decide, whichever key the request names.
                let key = self.resolve(caller, raw).await?;
                self.authorize_account(caller, Action::ListAliases, &Default::default())?;
                Some(key.key_id)
            }
            None => {
                self.authorize_account(caller, Action::ListAliases, &Default::default())?;
                None
            }
        };

        let region = caller.region();
        let prefix = crate::keys::alias_prefix(region, caller.account());
        let mut cursor = after.map(|a| crate::keys::alias_row(region, caller.account(), &a));
        let mut aliases = Vec::new();
        let mut truncated = false;
        'scan: loop {
            let rows = self
                .engine()
                .scan(Table::Aliases, &prefix, cursor.as_deref(), SCAN_CHUNK)
                .await?;
            let exhausted = rows.len() < SCAN_CHUNK;
            for (row, bytes) in rows {
                let record = self.read_alias_record(&row, &bytes)?;
                cursor = Some(row);
                if filter.as_ref().is_some_and(|k| *k != record.key_id) {
                    continue;
                }
                if aliases.len() == limit {
                    truncated = true;
                    break 'scan;
                }
                aliases.push(AliasListEntry {
                    alias_arn: format!(
                        "arn:aws:kms:{region}:{}:{}",
                        caller.account(),
                        record.alias_name
                    ),
                    alias_name: record.alias_name,
                    target_key_id: Some(record.key_id),
                    creation_date: Some(Timestamp::from_millis(record.created_ms)),
                    last_updated_date: Some(Timestamp::from_millis(record.updated_ms)),
                });
            }
            if exhausted {
                break;
            }
        }
        Ok(ListAliasesResponse {
            next_marker: truncated
                .then(|| aliases.last().map(|a| a.alias_name.clone()))
                .flatten(),
            aliases,
            truncated,
        })
    }
}
