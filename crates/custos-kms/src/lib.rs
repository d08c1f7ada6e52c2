//! The Custos KMS domain.
//!
//! [`Kms`] holds the unsealed store key and a storage [`Engine`], and
//! implements the AWS KMS operations, one module per operation under
//! [`ops`]. Each operation takes the caller's verified identity
//! ([`Caller`]) and a request shape from `custos-wire`, and follows the
//! same three steps: parse the request into domain types (validation
//! errors first, as AWS reports them), apply it, and build the response.
//!
//! # Layout
//!
//! - [`names`]: regions, accounts, key ids, alias names, ARNs and the
//!   four forms of `KeyId` ([`names::KeyRef`]), resolved in one place
//!   ([`Kms::resolve`]).
//! - [`model`]: the key record and the enumerations of its attributes.
//! - [`context`]: the canonical encoding of encryption contexts.
//! - [`ciphertext`]: the ciphertext blob format.
//! - [`seal`]: how secrets are sealed under the store key before storage.
//! - [`root_key`]: root-key providers, which wrap the store key.
//! - [`backup`]: sealed backups of the whole store, and their restore.
//! - [`authz`]: the authorization step every operation passes through.
//! - `grants`: grants, stored sealed, consulted when policies alone refuse.
//! - [`keys`]: loading, resolving and storing keys and their material.
//! - `material`: key material of every key spec, its sealed formats, and
//!   the crypto-layer keys it loads into.
//! - `algorithms`: AWS's algorithm names mapped to crypto-layer schemes,
//!   with AWS's rules for message types, digest lengths and plaintext
//!   sizes.
//! - [`ops`]: the operations.
//! - [`error`]: the domain's error type, [`KmsError`].
//!
//! # What this crate deliberately does not do
//!
//! No HTTP, no JSON parsing of requests, no SQL, no TLS: the server crate
//! turns bytes into request shapes and [`KmsError`]s into wire errors. The
//! only JSON here is the encoding of persisted records.

pub(crate) mod algorithms;
pub mod authz;
pub mod backup;
pub mod ciphertext;
pub use custos_store::clock;
pub mod context;
pub mod error;
pub(crate) mod grants;
pub mod keys;
pub(crate) mod material;
pub mod model;
pub mod names;
pub mod ops;
pub mod policy;
pub mod quotas;
pub mod root_key;
pub mod scheduler;
pub(crate) use custos_crypto::seal;

#[cfg(test)]
mod at_rest_tests;

use std::sync::Arc;

use custos_crypto::Key256;
use custos_store::{Batch, Engine, StoreError, Table};
use serde::{Deserialize, Serialize};

pub use authz::Caller;
pub use clock::{Clock, ManualClock, SystemClock};
use custos_crypto::seal::Sealer;
pub use error::KmsError;
pub use names::{AccountId, Region};
use root_key::{RootKeyError, RootKeyProvider};

/// How a [`Kms`] is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The account this installation serves. `None`: the one recorded in
    /// the store, or a random one for a new store.
    pub account_id: Option<AccountId>,
    /// The regions served. Keys, aliases and ARNs are per region.
    pub regions: Vec<Region>,
    pub clock: Arc<dyn Clock>,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    RootKey(#[from] RootKeyError),
    #[error(
        "this data directory is sealed with a root key of kind `{recorded}`, \
         but the configured provider is `{configured}`"
    )]
    ProviderMismatch {
        recorded: String,
        configured: &'static str,
    },
    #[error(
        "this data directory belongs to account {recorded}; the configuration says {configured}"
    )]
    AccountMismatch {
        recorded: String,
        configured: String,
    },
    #[error("the installation record is unreadable (written by a newer Custos?)")]
    Corrupt,
    #[error("no region to serve")]
    NoRegion,
    #[error(transparent)]
    Crypto(#[from] custos_crypto::Error),
}

/// The installation record: what every node of an installation shares.
#[derive(Debug, Serialize, Deserialize)]
struct Installation {
    format: u32,
    installation_id: String,
    account_id: String,
    created_ms: i64,
    root_key_kind: String,
    /// The store key, wrapped by the root-key provider (hex).
    wrapped_store_key: String,
}

const INSTALLATION: &[u8] = b"installation";
/// Present once alias rows carry their account (`{region}/{account}/{alias}`).
const ALIAS_LAYOUT_2: &[u8] = b"alias-rows-per-account";

/// Present once key and alias records carry their authentication tag.
const RECORDS_AUTHENTICATED: &[u8] = b"records-authenticated-v1";

/// Gives every key and alias record of a store made before records were
/// authenticated its tag, once, in one batch. The records are trusted as
/// they are at this moment (an edit made before the upgrade goes
/// undetected); from then on a record without a right tag is refused.
async fn authenticate_record_rows<E: Engine>(engine: &E, sealer: &Sealer) -> Result<(), OpenError> {
    if engine
        .get(Table::Meta, RECORDS_AUTHENTICATED)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let mut batch = Batch::new();
    for table in [Table::Keys, Table::Aliases] {
        for (row, value) in engine.scan(table, b"", None, usize::MAX).await? {
            let stored = keys::authenticate_record(sealer, table, &row, &value)
                .map_err(|_| OpenError::Corrupt)?;
            batch
                .require_equals(table, row.clone(), value)
                .put(table, row, stored);
        }
    }
    batch
        .require_absent(Table::Meta, RECORDS_AUTHENTICATED)
        .put(Table::Meta, RECORDS_AUTHENTICATED, b"1".to_vec());
    match engine.commit(batch).await {
        // Another node upgraded it first.
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Moves alias rows of the first layout (`{region}/{alias}`, when an
/// installation had one account) under `account`, once, in one batch.
async fn upgrade_alias_rows<E: Engine>(engine: &E, account: &AccountId) -> Result<(), OpenError> {
    if engine.get(Table::Meta, ALIAS_LAYOUT_2).await?.is_some() {
        return Ok(());
    }
    let mut batch = Batch::new();
    for (row, value) in engine.scan(Table::Aliases, b"", None, usize::MAX).await? {
        let text = String::from_utf8_lossy(&row).into_owned();
        if let Some((region, rest)) = text.split_once('/')
            && rest.starts_with("alias/")
        {
            batch
                .require_equals(Table::Aliases, row.clone(), value.clone())
                .delete(Table::Aliases, row)
                .put(
                    Table::Aliases,
                    format!("{region}/{account}/{rest}").into_bytes(),
                    value,
                );
        }
    }
    batch.require_absent(Table::Meta, ALIAS_LAYOUT_2).put(
        Table::Meta,
        ALIAS_LAYOUT_2,
        b"1".to_vec(),
    );
    match engine.commit(batch).await {
        // Another node upgraded it first.
        Ok(()) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
const INSTALLATION_FORMAT: u32 = 1;

fn store_key_aad(installation_id: &str) -> Vec<u8> {
    seal::aad("custos.store-key.v1", &[installation_id.as_bytes()])
}

/// The KMS domain over one storage engine.
pub struct Kms<E> {
    engine: E,
    sealer: Arc<Sealer>,
    account: AccountId,
    regions: Vec<Region>,
    clock: Arc<dyn Clock>,
    /// The scheduler's anchor: trusted time and monotonic time when this
    /// node first read the trusted clock (see `scheduler`).
    anchor: std::sync::Mutex<Option<(i64, i64)>>,
    /// Key policies, parsed once per text.
    policy_cache: authz::PolicyCache,
    /// Request quotas (off unless configured).
    limiter: quotas::Limiter,
    /// Key records, decoded once per content.
    decoded_keys: keys::DecodedKeys,
    bound_public_keys: keys::BoundPublicKeys,
    /// Who exists, for the principals of key policies (none: not checked,
    /// as in unit tests without identities).
    principals: Option<Arc<dyn policy::PrincipalDirectory>>,
}

impl<E> std::fmt::Debug for Kms<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms")
            .field("account", &self.account)
            .field("regions", &self.regions)
            .finish_non_exhaustive()
    }
}

/// What a store records of its root key, readable before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedStoreKey {
    /// The provider's kind (`file`, `passphrase`, `shares`, …).
    pub root_key_kind: String,
    /// The store key as that provider wrapped it.
    pub wrapped: Vec<u8>,
    /// The installation's first account.
    pub account_id: String,
}

/// The wrapped store key of the store in `engine`, `None` if it has not
/// been initialised: what a sealed server needs to know before the shares
/// that open it are entered.
pub async fn sealed_store_key<E: Engine>(engine: &E) -> Result<Option<SealedStoreKey>, OpenError> {
    let Some(bytes) = engine.get(Table::Meta, INSTALLATION).await? else {
        return Ok(None);
    };
    let record: Installation = serde_json::from_slice(&bytes).map_err(|_| OpenError::Corrupt)?;
    if record.format != INSTALLATION_FORMAT {
        return Err(OpenError::Corrupt);
    }
    Ok(Some(SealedStoreKey {
        root_key_kind: record.root_key_kind,
        wrapped: hex::decode(&record.wrapped_store_key).map_err(|_| OpenError::Corrupt)?,
        account_id: record.account_id,
    }))
}

/// Re-wraps the store key of the store in `engine`, unwrapped with `old`,
/// under `new`: a rekey. One atomic write of the installation record;
/// nothing sealed under the store key changes. The new wrapping is opened
/// again before it replaces the old one.
pub async fn rewrap_store_key<E: Engine>(
    engine: &E,
    old: &dyn RootKeyProvider,
    new: &dyn RootKeyProvider,
) -> Result<(), OpenError> {
    let bytes = engine
        .get(Table::Meta, INSTALLATION)
        .await?
        .ok_or(OpenError::Corrupt)?;
    let mut record: Installation =
        serde_json::from_slice(&bytes).map_err(|_| OpenError::Corrupt)?;
    if record.format != INSTALLATION_FORMAT {
        return Err(OpenError::Corrupt);
    }
    if record.root_key_kind != old.kind() {
        return Err(OpenError::ProviderMismatch {
            recorded: record.root_key_kind,
            configured: old.kind(),
        });
    }
    let aad = store_key_aad(&record.installation_id);
    let wrapped = hex::decode(&record.wrapped_store_key).map_err(|_| OpenError::Corrupt)?;
    let store_key = old.unwrap(&wrapped, &aad)?;
    let rewrapped = new.wrap(&store_key, &aad)?;
    let again = new.unwrap(&rewrapped, &aad)?;
    if !custos_crypto::ct::eq(again.expose_secret(), store_key.expose_secret()) {
        return Err(OpenError::Corrupt);
    }
    record.root_key_kind = new.kind().to_owned();
    record.wrapped_store_key = hex::encode(rewrapped);
    let mut batch = Batch::new();
    batch.require_equals(Table::Meta, INSTALLATION, bytes).put(
        Table::Meta,
        INSTALLATION,
        serde_json::to_vec(&record).map_err(|_| OpenError::Corrupt)?,
    );
    engine.commit(batch).await?;
    Ok(())
}

impl<E: Engine> Kms<E> {
    /// Opens the store, initialising it on first use, and unwraps the store
    /// key with `root`. Fails closed: a wrong root key, a provider of
    /// another kind or an account mismatch refuse to start.
    pub async fn open(
        engine: E,
        root: &dyn RootKeyProvider,
        settings: Settings,
    ) -> Result<Self, OpenError> {
        if settings.regions.is_empty() {
            return Err(OpenError::NoRegion);
        }
        let (account, store_key) = match engine.get(Table::Meta, INSTALLATION).await? {
            Some(bytes) => Self::unlock(&bytes, root, &settings)?,
            None => match Self::initialise(&engine, root, &settings).await {
                Ok(v) => v,
                // Another node initialised it first: use theirs.
                Err(OpenError::Store(StoreError::Conflict)) => {
                    let bytes = engine
                        .get(Table::Meta, INSTALLATION)
                        .await?
                        .ok_or(OpenError::Corrupt)?;
                    Self::unlock(&bytes, root, &settings)?
                }
                Err(e) => return Err(e),
            },
        };
        upgrade_alias_rows(&engine, &account).await?;
        let sealer = Arc::new(Sealer::new(store_key));
        authenticate_record_rows(&engine, &sealer).await?;
        Ok(Self {
            engine,
            sealer,
            account,
            regions: settings.regions,
            clock: settings.clock,
            anchor: std::sync::Mutex::new(None),
            policy_cache: authz::PolicyCache::default(),
            limiter: quotas::Limiter::default(),
            decoded_keys: keys::DecodedKeys::default(),
            bound_public_keys: keys::BoundPublicKeys::default(),
            principals: None,
        })
    }

    async fn initialise(
        engine: &E,
        root: &dyn RootKeyProvider,
        settings: &Settings,
    ) -> Result<(AccountId, Key256), OpenError> {
        let account = match &settings.account_id {
            Some(a) => a.clone(),
            None => AccountId::generate()?,
        };
        let installation_id = hex::encode(custos_crypto::rand::array::<16>()?);
        let store_key = Key256::generate()?;
        let wrapped = root.wrap(&store_key, &store_key_aad(&installation_id))?;
        let record = Installation {
            format: INSTALLATION_FORMAT,
            installation_id,
            account_id: account.as_str().to_owned(),
            created_ms: settings.clock.now_ms(),
            root_key_kind: root.kind().to_owned(),
            wrapped_store_key: hex::encode(wrapped),
        };
        let bytes = serde_json::to_vec(&record).map_err(|_| OpenError::Corrupt)?;
        let mut batch = Batch::new();
        batch
            .require_absent(Table::Meta, INSTALLATION)
            .put(Table::Meta, INSTALLATION, bytes)
            // A new store has its alias rows in the current layout from
            // the start.
            .put(Table::Meta, ALIAS_LAYOUT_2, b"1".to_vec())
            // And its key and alias records are authenticated from the
            // start.
            .put(Table::Meta, RECORDS_AUTHENTICATED, b"1".to_vec());
        engine.commit(batch).await?;
        Ok((account, store_key))
    }

    fn unlock(
        bytes: &[u8],
        root: &dyn RootKeyProvider,
        settings: &Settings,
    ) -> Result<(AccountId, Key256), OpenError> {
        let record: Installation = serde_json::from_slice(bytes).map_err(|_| OpenError::Corrupt)?;
        if record.format != INSTALLATION_FORMAT {
            return Err(OpenError::Corrupt);
        }
        let account = AccountId::parse(&record.account_id).ok_or(OpenError::Corrupt)?;
        if let Some(configured) = &settings.account_id
            && configured != &account
        {
            return Err(OpenError::AccountMismatch {
                recorded: account.to_string(),
                configured: configured.to_string(),
            });
        }
        if record.root_key_kind != root.kind() {
            return Err(OpenError::ProviderMismatch {
                recorded: record.root_key_kind,
                configured: root.kind(),
            });
        }
        let wrapped = hex::decode(&record.wrapped_store_key).map_err(|_| OpenError::Corrupt)?;
        let store_key = root.unwrap(&wrapped, &store_key_aad(&record.installation_id))?;
        Ok((account, store_key))
    }

    /// Applies request quotas (none by default).
    pub fn with_quotas(mut self, quotas: quotas::Quotas) -> Self {
        self.limiter = quotas::Limiter::new(quotas);
        self
    }

    /// Checks the principals of key policies against `directory`.
    pub fn with_principals(mut self, directory: Arc<dyn policy::PrincipalDirectory>) -> Self {
        self.principals = Some(directory);
        self
    }

    /// Refuses a key policy naming a principal that does not exist, as AWS
    /// does (`MalformedPolicyDocumentException`).
    pub(crate) async fn check_principals(
        &self,
        policy: &custos_policy::Policy,
    ) -> Result<(), KmsError> {
        let Some(directory) = &self.principals else {
            return Ok(());
        };
        for principal in policy.principal_arns() {
            if !directory.exists(principal).await? {
                return Err(KmsError::MalformedPolicyDocument(
                    policy::INVALID_PRINCIPALS.into(),
                ));
            }
        }
        Ok(())
    }

    /// Key-policy cache lookups so far: (answered from the cache, parsed).
    pub fn policy_cache_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.policy_cache.hits.load(Relaxed),
            self.policy_cache.misses.load(Relaxed),
        )
    }

    /// The store key's sealer, shared with the domains beside this one
    /// (IAM), which seal their records under the same key.
    pub fn store_sealer(&self) -> Arc<Sealer> {
        Arc::clone(&self.sealer)
    }

    /// The clock, shared with the domains beside this one.
    pub fn shared_clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// The installation's first account: the one of the bootstrap
    /// administrator. Requests act in the account of their caller.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The regions served.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The region named `name`, if it is served.
    pub fn served_region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.as_str() == name)
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub(crate) fn anchor(&self) -> &std::sync::Mutex<Option<(i64, i64)>> {
        &self.anchor
    }

    pub(crate) fn engine(&self) -> &E {
        &self.engine
    }

    pub(crate) fn bound_public_keys(&self) -> &keys::BoundPublicKeys {
        &self.bound_public_keys
    }

    pub(crate) fn decoded_keys(&self) -> &keys::DecodedKeys {
        &self.decoded_keys
    }

    pub(crate) fn sealer(&self) -> &Sealer {
        &self.sealer
    }
}

impl<E> Kms<E> {
    /// Seals a secret of the installation that is not key material (the
    /// generated TLS server key), bound to `purpose`, for storage outside
    /// the store.
    pub fn seal_local(&self, purpose: &str, secret: &[u8]) -> Result<Vec<u8>, KmsError> {
        let aad = seal::aad("custos.local-secret.v1", &[purpose.as_bytes()]);
        Ok(self.sealer.seal(&aad, secret)?)
    }

    /// Opens what [`Kms::seal_local`] sealed for the same `purpose`.
    pub fn open_local(
        &self,
        purpose: &str,
        sealed: &[u8],
    ) -> Result<custos_crypto::SecretBytes, KmsError> {
        let aad = seal::aad("custos.local-secret.v1", &[purpose.as_bytes()]);
        self.sealer
            .open(&aad, sealed)
            .map_err(|_| KmsError::Corrupt {
                what: format!("sealed {purpose}"),
            })
    }
}
