//! The IAM records and how they are stored.
//!
//! Every record is JSON sealed under the store key with associated data
//! naming its table and row (`custos.iam-record.v1`, table, row key). A
//! record therefore cannot be read, edited, or moved to another row (to
//! give one user another's policies, say) without the store key: a
//! changed byte, a swapped row or a forged record fails to open, and the
//! request that needed it is refused as an internal error, never obeyed.
//! What sealing alone cannot see is a *replay* of an older sealed version
//! of the same row; docs/identities.md says so.
//!
//! # Rows (in [`Table::Iam`] unless said otherwise)
//!
//! - `account/<account>`: an account.
//! - `user/<account>/<lowercase name>`: a user with its inline policies,
//!   attached managed policies, group memberships and access key ids.
//! - `group/<account>/<lowercase name>`, `role/<account>/<lowercase name>`.
//! - `policy/<account>/<lowercase name>`: a customer managed policy with
//!   its versions.
//! - `lastused/<access key id>`: when an access key was last used.
//! - [`Table::Identities`] `<access key id>`: an access key and its
//!   secret.
//!
//! IAM names are unique without regard to case, so rows use the lowercase
//! name and records keep the name as given.

use std::collections::BTreeMap;

use custos_crypto::seal::{self, Sealer};
use custos_store::{Engine, Table};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::IamError;

/// The format of every record below; bumped when one changes shape.
pub(crate) const RECORD_FORMAT: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
    Role,
    Policy,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Role => "role",
            Kind::Policy => "policy",
        }
    }
}

/// The row of an account-scoped entity named `name`.
pub(crate) fn row(kind: Kind, account: &str, name: &str) -> Vec<u8> {
    format!("{}/{account}/{}", kind.label(), name.to_lowercase()).into_bytes()
}

/// The prefix of every row of `kind` in `account`.
pub(crate) fn prefix(kind: Kind, account: &str) -> Vec<u8> {
    format!("{}/{account}/", kind.label()).into_bytes()
}

pub(crate) fn account_row(account: &str) -> Vec<u8> {
    format!("account/{account}").into_bytes()
}

pub(crate) fn last_used_row(access_key_id: &str) -> Vec<u8> {
    format!("lastused/{access_key_id}").into_bytes()
}

fn record_aad(table: Table, row: &[u8]) -> Vec<u8> {
    seal::aad("custos.iam-record.v1", &[table.name().as_bytes(), row])
}

/// Seals `record` for `row` of `table`.
pub(crate) fn seal_record<T: Serialize>(
    sealer: &Sealer,
    table: Table,
    row: &[u8],
    record: &T,
) -> Result<Vec<u8>, IamError> {
    let json =
        zeroize::Zeroizing::new(serde_json::to_vec(record).map_err(|_| IamError::Corrupt {
            what: "record to write".into(),
        })?);
    Ok(sealer.seal(&record_aad(table, row), &json)?)
}

/// Opens what [`seal_record`] sealed for the same row.
pub(crate) fn open_record<T: DeserializeOwned>(
    sealer: &Sealer,
    table: Table,
    row: &[u8],
    bytes: &[u8],
) -> Result<T, IamError> {
    let corrupt = || IamError::Corrupt {
        what: String::from_utf8_lossy(row).into_owned(),
    };
    let json = sealer
        .open(&record_aad(table, row), bytes)
        .map_err(|_| corrupt())?;
    let value: T = serde_json::from_slice(json.expose_secret()).map_err(|_| corrupt())?;
    Ok(value)
}

/// A record as read, with the sealed bytes it was read from: a write
/// that replaces it requires them unchanged (optimistic concurrency).
#[derive(Debug)]
pub(crate) struct Loaded<T> {
    pub(crate) record: T,
    pub(crate) raw: Vec<u8>,
}

pub(crate) async fn load<E: Engine, T: DeserializeOwned>(
    engine: &E,
    sealer: &Sealer,
    table: Table,
    row: &[u8],
) -> Result<Option<Loaded<T>>, IamError> {
    match engine.get(table, row).await? {
        Some(raw) => Ok(Some(Loaded {
            record: open_record(sealer, table, row, &raw)?,
            raw,
        })),
        None => Ok(None),
    }
}

/// Every record of `kind` in `account`, in row order, with its row.
pub(crate) async fn scan_all<E: Engine, T: DeserializeOwned>(
    engine: &E,
    sealer: &Sealer,
    kind: Kind,
    account: &str,
) -> Result<Vec<Loaded<T>>, IamError> {
    const CHUNK: usize = 500;
    let prefix = prefix(kind, account);
    let mut out = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let entries = engine
            .scan(Table::Iam, &prefix, after.as_deref(), CHUNK)
            .await?;
        let n = entries.len();
        for (row, raw) in entries {
            let record = open_record(sealer, Table::Iam, &row, &raw)?;
            after = Some(row);
            out.push(Loaded { record, raw });
        }
        if n < CHUNK {
            return Ok(out);
        }
    }
}

/// An account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AccountRecord {
    pub(crate) format: u32,
    pub(crate) account_id: String,
    pub(crate) created_ms: i64,
}

/// Inline policies by name, in the order IAM lists them (by name).
pub(crate) type InlinePolicies = BTreeMap<String, String>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UserRecord {
    pub(crate) format: u32,
    pub(crate) account_id: String,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) user_id: String,
    pub(crate) created_ms: i64,
    #[serde(default)]
    pub(crate) tags: Vec<(String, String)>,
    #[serde(default)]
    pub(crate) inline_policies: InlinePolicies,
    /// ARNs of attached managed policies.
    #[serde(default)]
    pub(crate) attached: Vec<String>,
    /// Names (as given) of the groups the user is in.
    #[serde(default)]
    pub(crate) groups: Vec<String>,
    #[serde(default)]
    pub(crate) access_keys: Vec<String>,
    #[serde(default)]
    pub(crate) permissions_boundary: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GroupRecord {
    pub(crate) format: u32,
    pub(crate) account_id: String,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) group_id: String,
    pub(crate) created_ms: i64,
    #[serde(default)]
    pub(crate) inline_policies: InlinePolicies,
    #[serde(default)]
    pub(crate) attached: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RoleRecord {
    pub(crate) format: u32,
    pub(crate) account_id: String,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) role_id: String,
    pub(crate) created_ms: i64,
    pub(crate) trust_policy: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    pub(crate) max_session_duration: u32,
    #[serde(default)]
    pub(crate) tags: Vec<(String, String)>,
    #[serde(default)]
    pub(crate) inline_policies: InlinePolicies,
    #[serde(default)]
    pub(crate) attached: Vec<String>,
    #[serde(default)]
    pub(crate) permissions_boundary: Option<String>,
    #[serde(default)]
    pub(crate) last_used_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PolicyVersionRecord {
    /// `v1`, `v2`, … as IAM numbers them.
    pub(crate) version: u32,
    pub(crate) document: String,
    pub(crate) created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PolicyRecord {
    pub(crate) format: u32,
    pub(crate) account_id: String,
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) policy_id: String,
    pub(crate) created_ms: i64,
    pub(crate) updated_ms: i64,
    #[serde(default)]
    pub(crate) description: Option<String>,
    pub(crate) default_version: u32,
    pub(crate) next_version: u32,
    pub(crate) versions: Vec<PolicyVersionRecord>,
    pub(crate) attachment_count: u32,
    #[serde(default)]
    pub(crate) tags: Vec<(String, String)>,
}

impl PolicyRecord {
    pub(crate) fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.version == self.default_version)
            .map(|v| v.document.as_str())
    }
}

/// An access key, with its secret, in [`Table::Identities`].
#[derive(Serialize, Deserialize)]
pub(crate) struct AccessKeyRecord {
    pub(crate) format: u32,
    pub(crate) access_key_id: String,
    pub(crate) account_id: String,
    /// The owner's name as given (rows use its lowercase form).
    pub(crate) user_name: String,
    pub(crate) user_id: String,
    pub(crate) active: bool,
    pub(crate) created_ms: i64,
    /// The secret access key. The whole record is sealed; this field is
    /// wiped with the record (see `Drop`).
    pub(crate) secret: String,
}

impl Drop for AccessKeyRecord {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("user_name", &self.user_name)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// When an access key was last used, and where.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LastUsedRecord {
    pub(crate) format: u32,
    pub(crate) used_ms: i64,
    pub(crate) service: String,
    pub(crate) region: String,
}
