//! The Custos storage-engine interface.
//!
//! Custos persists everything through the small [`Engine`] trait: a handful
//! of named tables of byte keys and byte values, point reads, ordered prefix
//! scans and atomic, conditional batches of writes. The KMS domain decides
//! what the bytes mean; an engine never sees key material in plaintext, only
//! records that the domain has already sealed under the root key.
//!
//! # Layout
//!
//! - [`Engine`], [`Batch`], [`Table`] and [`StoreError`]: the interface.
//! - [`clock`]: trusted time for the domains ([`clock::Clock`]), with a
//!   manual clock for tests.
//! - [`redb`]: the embedded engine, the default (one file in the data dir).
//! - [`conformance`]: the suite every engine must pass. Each engine's tests
//!   instantiate it with [`conformance_tests!`]; a new engine is done when
//!   the suite passes against it unchanged.
//!
//! # Contract
//!
//! - [`Engine::commit`] is atomic: either every write of a batch is applied
//!   or none is. Its checks ([`Check`]) are evaluated inside the same
//!   transaction, so concurrent writers (threads, or later several Custos
//!   nodes on one database) cannot both win a race: one gets
//!   [`StoreError::Conflict`].
//! - `commit` returns `Ok` only once the batch is durable: after a crash or
//!   power loss the batch is either wholly there or wholly absent. Custos
//!   answers a client only after that.
//!
//! # What this crate deliberately does not do
//!
//! No caching, no schema, no encryption: those are the domain's. Engines
//! store what they are given.

pub mod clock;
pub mod conformance;
pub mod redb;

use std::future::Future;

/// The tables Custos uses. A closed set, so engines can create them all up
/// front and a typo cannot create a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Installation metadata: format version, account, root-key check value.
    Meta,
    /// KMS key metadata records, one per key.
    Keys,
    /// Sealed key material, one record per key and material version.
    Material,
    /// Aliases, keyed by region and alias name.
    Aliases,
    /// Access keys, each a sealed record holding its secret.
    Identities,
    /// IAM records (accounts, users, groups, roles, managed policies),
    /// each sealed: authenticated and bound to its row.
    Iam,
    /// KMS grants, keyed by key id and grant id, each sealed.
    Grants,
}

impl Table {
    pub const ALL: [Table; 7] = [
        Table::Meta,
        Table::Keys,
        Table::Material,
        Table::Aliases,
        Table::Identities,
        Table::Iam,
        Table::Grants,
    ];

    /// A stable name, used by engines as a table or namespace name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Keys => "keys",
            Table::Material => "material",
            Table::Aliases => "aliases",
            Table::Identities => "identities",
            Table::Iam => "iam",
            Table::Grants => "grants",
        }
    }
}

/// A condition a batch requires, checked atomically with its writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The key must not exist.
    Absent { table: Table, key: Vec<u8> },
    /// The key must exist with exactly this value (optimistic concurrency:
    /// read a record, change it, write it back only if nobody else did).
    Equals {
        table: Table,
        key: Vec<u8>,
        value: Vec<u8>,
    },
}

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put {
        table: Table,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        table: Table,
        key: Vec<u8>,
    },
}

/// Checks and writes applied atomically by [`Engine::commit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub checks: Vec<Check>,
    pub writes: Vec<Write>,
}

impl Batch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires `key` to be absent from `table`.
    pub fn require_absent(&mut self, table: Table, key: impl Into<Vec<u8>>) -> &mut Self {
        self.checks.push(Check::Absent {
            table,
            key: key.into(),
        });
        self
    }

    /// Requires `key` to hold exactly `value` in `table`.
    pub fn require_equals(
        &mut self,
        table: Table,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.checks.push(Check::Equals {
            table,
            key: key.into(),
            value: value.into(),
        });
        self
    }

    pub fn put(
        &mut self,
        table: Table,
        key: impl Into<Vec<u8>>,
        value: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.writes.push(Write::Put {
            table,
            key: key.into(),
            value: value.into(),
        });
        self
    }

    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) -> &mut Self {
        self.writes.push(Write::Delete {
            table,
            key: key.into(),
        });
        self
    }
}

/// A key and its value, as returned by [`Engine::scan`].
pub type Entry = (Vec<u8>, Vec<u8>);

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A [`Check`] of the batch did not hold; nothing was written.
    #[error("a precondition of the write did not hold")]
    Conflict,
    /// The engine failed (I/O, corruption, connection); the write may or may
    /// not have been applied only if the engine says so in the source.
    #[error("storage engine failure")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl StoreError {
    pub fn engine(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Engine(Box::new(e))
    }
}

/// A storage engine. See the crate documentation for the contract.
pub trait Engine: Send + Sync + 'static {
    /// The value stored under `key`, if any.
    fn get(
        &self,
        table: Table,
        key: &[u8],
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Up to `limit` entries whose keys start with `prefix`, in ascending
    /// byte order of key, starting strictly after `after` when given.
    fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// Applies `batch` atomically and durably, or returns
    /// [`StoreError::Conflict`] without writing anything.
    fn commit(&self, batch: Batch) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every entry of every table as of one moment (no commit is half in
    /// it), table by table in [`Table::ALL`] order, keys ascending: what an
    /// online backup copies.
    fn snapshot(&self)
    -> impl Future<Output = Result<Vec<(Table, Vec<Entry>)>, StoreError>> + Send;

    /// Makes rows deleted so far unrecoverable from the engine's storage:
    /// no free page, older copy of a page or log keeps them. Costly (it
    /// may rewrite everything, holding other transactions meanwhile):
    /// called after deletions, not per request.
    fn purge(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
}
