//! Custos principals: accounts, IAM users, groups, roles, managed and
//! inline policies, access keys and STS sessions, and the typed
//! [`Caller`] that only SigV4 verification produces.
//!
//! One Custos serves one or more 12-digit accounts. Every principal
//! belongs to one account, and the account of a request is the account
//! of the credential that signed it.
//!
//! # Layout
//!
//! - [`names`]: regions and account ids.
//! - [`arn`]: the ARNs of users, groups, roles, policies and sessions.
//! - `ids` (private): AWS-shaped unique ids, access key ids, secrets.
//! - `records` (private): the stored records, each sealed under the store
//!   key and bound to its row, so that an edited store is refused.
//! - `session` (private): stateless STS session tokens.
//! - [`caller`]: [`Caller`] and [`Principal`].
//! - [`auth`]: [`Iam::authenticate`], the only maker of a `Caller`, with
//!   its credential cache.
//! - [`accounts`]: accounts and their first administrators (the bootstrap
//!   administrator of a new installation is one).
//! - [`authorize`]: IAM and STS requests are authorized by the caller's
//!   identity policies.
//! - [`ops`]: the IAM and STS operations, one module per kind of entity.
//! - [`error`]: the domain error, [`IamError`].
//!
//! # What this crate deliberately does not do
//!
//! No HTTP and no XML: the server turns Query requests into
//! `custos-iam-wire` shapes and [`IamError`]s into IAM's error documents.
//! No policy grammar of its own: documents are parsed and evaluated by
//! `custos-policy`. No KMS: key policies and grants are the KMS domain's;
//! it receives the caller, with its identity policies, from here.

pub mod accounts;
pub mod arn;
pub mod auth;
pub mod authorize;
pub mod caller;
pub mod error;
pub(crate) mod ids;
pub mod names;
pub mod ops;
pub(crate) mod records;
pub(crate) mod session;

use std::sync::Arc;

use custos_crypto::seal::Sealer;
use custos_store::Engine;
use custos_store::clock::Clock;

pub use auth::{AuthFailure, Connection, Scope};
pub use caller::{Caller, IdentityPolicies, Principal};
pub use error::IamError;
pub use ids::valid_access_key_id;
pub use names::{AccountId, Region};

use records::{GroupRecord, Kind, Loaded, PolicyRecord, RoleRecord, UserRecord};

/// The IAM domain over one storage engine.
pub struct Iam<E> {
    engine: E,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    cache: auth::CredentialCache,
}

impl<E> std::fmt::Debug for Iam<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iam").finish_non_exhaustive()
    }
}

impl<E: Engine> Iam<E> {
    /// The IAM domain over `engine`, sealing with the installation's store
    /// key.
    pub fn new(engine: E, sealer: Arc<Sealer>, clock: Arc<dyn Clock>) -> Self {
        Self {
            engine,
            sealer,
            clock,
            cache: auth::CredentialCache::default(),
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Forgets every cached credential: called after every IAM write, so
    /// that this node honours the change at once.
    pub(crate) fn invalidate(&self) {
        self.cache.clear();
    }

    pub(crate) async fn user_record(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<Loaded<UserRecord>>, IamError> {
        self.load(Kind::User, account, name).await
    }

    pub(crate) async fn group_record(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<Loaded<GroupRecord>>, IamError> {
        self.load(Kind::Group, account, name).await
    }

    pub(crate) async fn role_record(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<Loaded<RoleRecord>>, IamError> {
        self.load(Kind::Role, account, name).await
    }

    pub(crate) async fn policy_record(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<Loaded<PolicyRecord>>, IamError> {
        self.load(Kind::Policy, account, name).await
    }

    pub(crate) async fn load<T: serde::de::DeserializeOwned>(
        &self,
        kind: Kind,
        account: &AccountId,
        name: &str,
    ) -> Result<Option<Loaded<T>>, IamError> {
        let row = records::row(kind, account.as_str(), name);
        let loaded: Option<Loaded<T>> =
            records::load(&self.engine, &self.sealer, custos_store::Table::Iam, &row).await?;
        Ok(loaded)
    }
}
