//! Grants: allow-only permissions on one key for one grantee, beside the
//! key policy.
//!
//! A grant names a key, a grantee principal (a user or role ARN; a role's
//! grant applies to all its sessions), the operations it allows, an
//! optional retiring principal and optional encryption-context
//! constraints. It is stored sealed under the store key and bound to its
//! row (`Grants` table, `{key id}/{grant id}`), so that editing the store
//! cannot forge one. The store is consistent, so a grant works on every
//! node as soon as `CreateGrant` returns; grant tokens are accepted, and
//! the one `RetireGrant` takes is checked.
//!
//! Grants are consulted only when the policies alone would refuse
//! (without an explicit deny), so a request the key policy or IAM already
//! allows never reads them.

use std::collections::BTreeMap;

use base64::Engine as _;
use custos_crypto::seal;
use custos_store::{Engine, Table};
use custos_wire::shapes::GrantConstraints;
use serde::{Deserialize, Serialize};

use crate::authz::{Action, Conditions};
use crate::context::EncryptionContext;
use crate::{Caller, Kms, KmsError};

pub(crate) const GRANT_FORMAT: u32 = 1;
/// AWS's quota of grants per key.
pub(crate) const MAX_GRANTS_PER_KEY: usize = 50_000;

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GrantRecord {
    pub(crate) format: u32,
    pub(crate) grant_id: String,
    pub(crate) key_id: String,
    pub(crate) key_arn: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    pub(crate) grantee_principal: String,
    #[serde(default)]
    pub(crate) retiring_principal: Option<String>,
    pub(crate) operations: Vec<String>,
    #[serde(default)]
    pub(crate) constraints: Option<GrantConstraints>,
    /// `arn:aws:iam::<account>:root` of the account that created it.
    pub(crate) issuing_account: String,
    pub(crate) created_ms: i64,
}

impl GrantRecord {
    /// Whether a grant with `operations` and `constraints` is no wider
    /// than this one: its operations a subset, and its constraints at
    /// least as strict (the same pairs required, or more).
    pub(crate) fn covers(
        &self,
        operations: &[String],
        constraints: &Option<GrantConstraints>,
    ) -> bool {
        if !operations.iter().all(|o| self.operations.contains(o)) {
            return false;
        }
        let Some(mine) = &self.constraints else {
            return true;
        };
        let Some(theirs) = constraints else {
            return false;
        };
        let pairs_of = |c: &GrantConstraints| {
            c.encryption_context_equals
                .clone()
                .or_else(|| c.encryption_context_subset.clone())
                .unwrap_or_default()
        };
        let (mine_pairs, theirs_pairs) = (pairs_of(mine), pairs_of(theirs));
        let contains_mine = mine_pairs
            .iter()
            .all(|(k, v)| theirs_pairs.get(k) == Some(v));
        match (
            &mine.encryption_context_equals,
            &theirs.encryption_context_equals,
        ) {
            // Mine demands exactly these pairs: so must theirs.
            (Some(_), Some(_)) => mine_pairs == theirs_pairs,
            (Some(_), None) => false,
            // Mine demands at least these pairs: theirs must demand them.
            (None, _) => contains_mine,
        }
    }

    /// Whether the grant names `caller` (its ARN, or the role of its
    /// session).
    pub(crate) fn names(&self, caller: &Caller) -> bool {
        self.grantee_principal == caller.principal_arn()
            || caller
                .principal()
                .role_arn()
                .is_some_and(|r| r == self.grantee_principal)
    }

    /// Whether the grant's retiring principal is `caller`.
    pub(crate) fn retirable_by(&self, caller: &Caller) -> bool {
        self.retiring_principal.as_deref().is_some_and(|p| {
            p == caller.principal_arn() || caller.principal().role_arn() == Some(p)
        })
    }

    /// Whether the grant allows `action` for a request with `context`.
    fn allows(&self, action: Action, context: Option<&EncryptionContext>) -> bool {
        let name = action.name().trim_start_matches("kms:");
        if !self.operations.iter().any(|o| o == name) {
            return false;
        }
        let Some(c) = &self.constraints else {
            return true;
        };
        // Constraints speak of encryption contexts: operations that take
        // none (DescribeKey, RetireGrant, CreateGrant) ignore them, as AWS.
        if !takes_context(action) {
            return true;
        }
        let given: BTreeMap<&str, &str> = context.map(|c| c.iter().collect()).unwrap_or_default();
        if let Some(equals) = &c.encryption_context_equals
            && !(equals.len() == given.len()
                && equals
                    .iter()
                    .all(|(k, v)| given.get(k.as_str()) == Some(&v.as_str())))
        {
            return false;
        }
        if let Some(subset) = &c.encryption_context_subset
            && !subset
                .iter()
                .all(|(k, v)| given.get(k.as_str()) == Some(&v.as_str()))
        {
            return false;
        }
        true
    }
}

/// Operations whose requests carry an encryption context.
fn takes_context(action: Action) -> bool {
    matches!(
        action,
        Action::Encrypt
            | Action::Decrypt
            | Action::GenerateDataKey
            | Action::GenerateDataKeyWithoutPlaintext
            | Action::GenerateDataKeyPair
            | Action::GenerateDataKeyPairWithoutPlaintext
            | Action::ReEncryptFrom
            | Action::ReEncryptTo
    )
}

pub(crate) fn grant_row(key_id: &str, grant_id: &str) -> Vec<u8> {
    format!("{key_id}/{grant_id}").into_bytes()
}

pub(crate) fn grant_prefix(key_id: &str) -> Vec<u8> {
    format!("{key_id}/").into_bytes()
}

fn grant_aad(row: &[u8]) -> Vec<u8> {
    seal::aad("custos.grant.v1", &[row])
}

fn token_aad() -> Vec<u8> {
    seal::aad("custos.grant-token.v1", &[])
}

/// What a grant token holds.
#[derive(Serialize, Deserialize)]
struct TokenClaims {
    key_id: String,
    grant_id: String,
}

impl<E: Engine> Kms<E> {
    pub(crate) fn seal_grant(&self, grant: &GrantRecord) -> Result<Vec<u8>, KmsError> {
        let row = grant_row(&grant.key_id, &grant.grant_id);
        let json = serde_json::to_vec(grant).map_err(|_| KmsError::Corrupt {
            what: "grant".into(),
        })?;
        Ok(self.sealer().seal(&grant_aad(&row), &json)?)
    }

    fn open_grant(&self, row: &[u8], bytes: &[u8]) -> Result<GrantRecord, KmsError> {
        let corrupt = || KmsError::Corrupt {
            what: format!("grant {}", String::from_utf8_lossy(row)),
        };
        let json = self
            .sealer()
            .open(&grant_aad(row), bytes)
            .map_err(|_| corrupt())?;
        let grant: GrantRecord =
            serde_json::from_slice(json.expose_secret()).map_err(|_| corrupt())?;
        if grant.format != GRANT_FORMAT {
            return Err(corrupt());
        }
        Ok(grant)
    }

    /// Every grant of key `key_id`, in grant-id order, with its sealed
    /// bytes.
    pub(crate) async fn grants_of(
        &self,
        key_id: &str,
    ) -> Result<Vec<(GrantRecord, Vec<u8>)>, KmsError> {
        let rows = self
            .engine()
            .scan(
                Table::Grants,
                &grant_prefix(key_id),
                None,
                MAX_GRANTS_PER_KEY + 1,
            )
            .await?;
        rows.into_iter()
            .map(|(row, bytes)| Ok((self.open_grant(&row, &bytes)?, bytes)))
            .collect()
    }

    /// Every grant of every key (for `ListRetirableGrants`).
    pub(crate) async fn all_grants(&self) -> Result<Vec<GrantRecord>, KmsError> {
        let rows = self
            .engine()
            .scan(Table::Grants, b"", None, usize::MAX)
            .await?;
        rows.into_iter()
            .map(|(row, bytes)| self.open_grant(&row, &bytes))
            .collect()
    }

    /// A grant on `key_id` that allows `caller` to perform `action` with
    /// `conditions`, if there is one.
    pub(crate) async fn grant_allowing(
        &self,
        caller: &Caller,
        action: Action,
        key_id: &str,
        conditions: &Conditions<'_>,
    ) -> Result<Option<GrantRecord>, KmsError> {
        Ok(self
            .grants_of(key_id)
            .await?
            .into_iter()
            .map(|(g, _)| g)
            .find(|g| g.names(caller) && g.allows(action, conditions.encryption_context)))
    }

    /// A grant token for `grant`: its identity, sealed, so that a token
    /// cannot be made up or pointed at another grant.
    pub(crate) fn grant_token(&self, grant: &GrantRecord) -> Result<String, KmsError> {
        let claims = TokenClaims {
            key_id: grant.key_id.clone(),
            grant_id: grant.grant_id.clone(),
        };
        let json = serde_json::to_vec(&claims).map_err(|_| KmsError::Corrupt {
            what: "grant token".into(),
        })?;
        let sealed = self.sealer().seal(&token_aad(), &json)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    /// Every grant token a request brings must be one Custos made
    /// (`InvalidGrantTokenException` otherwise). Grants take effect at
    /// once here, so a valid token changes nothing else.
    pub(crate) fn check_grant_token_list(
        &self,
        tokens: &Option<Vec<String>>,
    ) -> Result<(), KmsError> {
        for token in tokens.iter().flatten() {
            self.open_grant_token(token)?;
        }
        Ok(())
    }

    /// The key id and grant id a token names, or `InvalidGrantToken`.
    pub(crate) fn open_grant_token(&self, token: &str) -> Result<(String, String), KmsError> {
        let invalid = || KmsError::InvalidGrantToken("Invalid grant token.".into());
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|_| invalid())?;
        let json = self
            .sealer()
            .open(&token_aad(), &sealed)
            .map_err(|_| invalid())?;
        let claims: TokenClaims =
            serde_json::from_slice(json.expose_secret()).map_err(|_| invalid())?;
        Ok((claims.key_id, claims.grant_id))
    }
}
