//! The embedded engine, on redb: one file, ACID transactions, durable
//! commits (redb's default `Durability::Immediate` fsyncs before a commit
//! returns).
//!
//! [`Engine::purge`] copies the live rows into a new file and renames it
//! over the old one: redb, like any copy-on-write B-tree, leaves old copies
//! of pages (and so of deleted rows) in free pages until they are reused,
//! and a copy holds none. The database handle sits behind an async
//! read-write lock so that the swap waits for transactions in flight and
//! holds new ones (without blocking the runtime's threads) until it is
//! done.
//!
//! After an I/O error (a full disk, a filesystem remounted read-only, a
//! failing device) redb refuses every later operation until the database
//! is closed and opened again. So the engine does that itself: the
//! operation that met the error fails, the engine is marked failing, and
//! the next operation (at most once a second) closes the file and opens it
//! again, which replays redb's recovery to the last durable commit. Until
//! that succeeds every operation fails at once; when the cause is gone the
//! store serves again without a restart. A commit is acknowledged only
//! when redb's fsync returned, so nothing acknowledged is lost and nothing
//! unwritten is acknowledged; a failed commit may or may not have landed,
//! as with any storage error.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use crate::{Batch, Check, Engine, Entry, StoreError, Table, Write};

fn definition(table: Table) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(table.name())
}

/// How often a failing store tries to open its file again.
const REOPEN_EVERY: Duration = Duration::from_secs(1);

/// The embedded storage engine.
#[derive(Clone)]
pub struct RedbEngine {
    /// `None` between closing a failed database and opening it again.
    db: Arc<RwLock<Option<Database>>>,
    path: Arc<PathBuf>,
    health: Arc<Health>,
}

#[derive(Debug, Default)]
struct Health {
    failing: AtomicBool,
    last_reopen: std::sync::Mutex<Option<Instant>>,
    commits: CommitStats,
}

/// Upper bounds, in microseconds, of the buckets of [`CommitStats::micros`].
pub const COMMIT_BUCKETS_MICROS: [u64; 10] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000, 1_000_000,
];

/// Durable commits, for metrics: counters only grow.
#[derive(Debug, Default)]
pub struct CommitStats {
    /// Commits (each an fsync) that took at most each bound of
    /// [`COMMIT_BUCKETS_MICROS`] (not cumulative), and beyond the last.
    pub micros: [AtomicU64; COMMIT_BUCKETS_MICROS.len() + 1],
    pub micros_sum: AtomicU64,
    /// Commits that failed (a check that did not hold is not a failure).
    pub failures: AtomicU64,
}

impl CommitStats {
    fn record(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let bucket = COMMIT_BUCKETS_MICROS
            .iter()
            .position(|b| micros <= *b)
            .unwrap_or(COMMIT_BUCKETS_MICROS.len());
        self.micros[bucket].fetch_add(1, Ordering::Relaxed);
        self.micros_sum.fetch_add(micros, Ordering::Relaxed);
    }
}

/// Why the store cannot serve now.
#[derive(Debug, thiserror::Error)]
#[error("the store is unavailable after an I/O error; it is being reopened")]
struct Unavailable;

/// Whether `e` leaves redb refusing everything until it is reopened.
fn needs_reopen(e: &redb::Error) -> bool {
    matches!(
        e,
        redb::Error::Io(_)
            | redb::Error::PreviousIo
            | redb::Error::Backend(_)
            | redb::Error::DatabaseClosed
    )
}

impl std::fmt::Debug for RedbEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbEngine").finish_non_exhaustive()
    }
}

/// Where a purge writes its copy before renaming it over the store.
fn purge_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".purge");
    PathBuf::from(name)
}

/// Creates the database file at `path`, readable by its owner only, with
/// every table.
fn create(path: &Path) -> Result<Database, StoreError> {
    // Made 0600 here rather than by redb, which would take the umask.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(StoreError::engine)?;
    let db = Database::create(path).map_err(StoreError::engine)?;
    let txn = db.begin_write().map_err(StoreError::engine)?;
    for table in Table::ALL {
        txn.open_table(definition(table))
            .map_err(StoreError::engine)?;
    }
    txn.commit().map_err(StoreError::engine)?;
    Ok(db)
}

impl RedbEngine {
    /// Opens, or creates, the database file at `path` and every table.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // A purge that died before its rename left a partial copy: the
        // store itself is whole.
        match std::fs::remove_file(purge_path(path)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(StoreError::engine(e)),
        }
        Ok(Self {
            db: Arc::new(RwLock::new(Some(create(path)?))),
            path: Arc::new(path.to_owned()),
            health: Arc::default(),
        })
    }

    /// How long durable commits have taken, and how many failed.
    pub fn commit_stats(&self) -> &CommitStats {
        &self.health.commits
    }

    /// Whether the store is serving (not recovering from an I/O error).
    pub fn is_healthy(&self) -> bool {
        !self.health.failing.load(Ordering::SeqCst)
    }

    /// The open database, reopening it first if it failed.
    async fn database(
        &self,
    ) -> Result<OwnedRwLockReadGuard<Option<Database>, Database>, StoreError> {
        if !self.is_healthy() {
            self.reopen().await;
        }
        let guard = Arc::clone(&self.db).read_owned().await;
        OwnedRwLockReadGuard::try_map(guard, Option::as_ref)
            .map_err(|_| StoreError::engine(Unavailable))
    }

    /// `result` as a store error; an error redb does not recover from by
    /// itself marks the store failing.
    fn checked<T>(&self, result: Result<T, redb::Error>) -> Result<T, StoreError> {
        result.map_err(|e| {
            if needs_reopen(&e) && !self.health.failing.swap(true, Ordering::SeqCst) {
                tracing::error!(error = %e, "store I/O failed; it will be reopened");
                self.close_failed();
            }
            StoreError::engine(e)
        })
    }

    /// Closes a database that met an I/O error, once the operations in
    /// flight are done: its handle is of no more use, and an open file
    /// keeps a filesystem from being remounted or unmounted by whoever is
    /// repairing it.
    fn close_failed(&self) {
        let db = Arc::clone(&self.db);
        let health = Arc::clone(&self.health);
        tokio::spawn(async move {
            let mut db = db.write_owned().await;
            if health.failing.load(Ordering::SeqCst) {
                // Dropping a redb database may touch the file: off the
                // async workers.
                let _ = tokio::task::spawn_blocking(move || *db = None).await;
            }
        });
    }

    /// Closes the failed database and opens it again, at most once per
    /// [`REOPEN_EVERY`].
    async fn reopen(&self) {
        {
            let mut last = self
                .health
                .last_reopen
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < REOPEN_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let mut db = Arc::clone(&self.db).write_owned().await;
        if self.is_healthy() {
            return;
        }
        let path = Arc::clone(&self.path);
        let reopened = tokio::task::spawn_blocking(move || {
            // Closed first: redb holds a lock on the file while open.
            *db = None;
            // Opening commits a transaction: the file can be written again.
            *db = create(&path).ok();
            db.is_some()
        })
        .await
        .unwrap_or(false);
        match reopened {
            true => {
                self.health.failing.store(false, Ordering::SeqCst);
                tracing::warn!("store reopened after an I/O error; serving again");
            }
            false => tracing::debug!("store still cannot be reopened"),
        }
    }

    fn get_blocking(
        db: &Database,
        table: Table,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, redb::Error> {
        let txn = db.begin_read()?;
        let t = txn.open_table(definition(table))?;
        Ok(t.get(key)?.map(|v| v.value().to_vec()))
    }

    fn scan_blocking(
        db: &Database,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, redb::Error> {
        let txn = db.begin_read()?;
        let t = txn.open_table(definition(table))?;
        let start: &[u8] = match after {
            Some(a) if a > prefix => a,
            _ => prefix,
        };
        let mut out = Vec::new();
        for item in t.range(start..)? {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            let k = k.value();
            if !k.starts_with(prefix) {
                break;
            }
            if after.is_some_and(|a| k <= a) {
                continue;
            }
            out.push((k.to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn snapshot_blocking(db: &Database) -> Result<Vec<(Table, Vec<Entry>)>, redb::Error> {
        // One read transaction: redb's MVCC gives every table as of the
        // same commit, without blocking writers.
        let txn = db.begin_read()?;
        let mut out = Vec::with_capacity(Table::ALL.len());
        for table in Table::ALL {
            let t = txn.open_table(definition(table))?;
            let mut entries = Vec::new();
            for item in t.iter()? {
                let (k, v) = item?;
                entries.push((k.value().to_vec(), v.value().to_vec()));
            }
            out.push((table, entries));
        }
        Ok(out)
    }

    /// Applies `batch`; `Ok(false)` if one of its checks did not hold (and
    /// nothing was written).
    fn commit_blocking(db: &Database, batch: Batch) -> Result<bool, redb::Error> {
        let txn = db.begin_write()?;
        {
            for check in &batch.checks {
                let (table, key) = match check {
                    Check::Absent { table, key } | Check::Equals { table, key, .. } => {
                        (*table, key)
                    }
                };
                let t = txn.open_table(definition(table))?;
                let current = t.get(key.as_slice())?;
                let holds = match (check, current) {
                    (Check::Absent { .. }, None) => true,
                    (Check::Equals { value, .. }, Some(cur)) => cur.value() == value.as_slice(),
                    _ => false,
                };
                if !holds {
                    // Dropping the transaction aborts it: nothing is written.
                    return Ok(false);
                }
            }
            for write in &batch.writes {
                match write {
                    Write::Put { table, key, value } => {
                        let mut t = txn.open_table(definition(*table))?;
                        t.insert(key.as_slice(), value.as_slice())?;
                    }
                    Write::Delete { table, key } => {
                        let mut t = txn.open_table(definition(*table))?;
                        t.remove(key.as_slice())?;
                    }
                }
            }
        }
        // Durability::Immediate is redb's default: this fsyncs.
        txn.commit()?;
        Ok(true)
    }

    /// Copies every live row into a new file, durably, and renames it over
    /// the store; the caller holds the database exclusively.
    fn purge_blocking(db: &mut Option<Database>, path: &Path) -> Result<(), StoreError> {
        let Some(current) = db.as_ref() else {
            return Err(StoreError::engine(Unavailable));
        };
        let copy_path = purge_path(path);
        let _ = std::fs::remove_file(&copy_path);
        let rows = Self::snapshot_blocking(current).map_err(StoreError::engine)?;
        let copy = create(&copy_path)?;
        let txn = copy.begin_write().map_err(StoreError::engine)?;
        for (table, entries) in &rows {
            let mut t = txn
                .open_table(definition(*table))
                .map_err(StoreError::engine)?;
            for (k, v) in entries {
                t.insert(k.as_slice(), v.as_slice())
                    .map_err(StoreError::engine)?;
            }
        }
        txn.commit().map_err(StoreError::engine)?;
        drop(rows);
        std::fs::rename(&copy_path, path).map_err(StoreError::engine)?;
        // From the rename on, the path is the copy: so is the handle, even
        // if the directory's sync below fails. The old file, unlinked,
        // closes with its handle.
        *db = Some(copy);
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(StoreError::engine)?;
        }
        Ok(())
    }
}

impl Engine for RedbEngine {
    async fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        // Reads are served from redb's page cache and take microseconds; a
        // thread hop would cost more than it saves.
        let db = self.database().await?;
        self.checked(Self::get_blocking(&db, table, key))
    }

    async fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let db = self.database().await?;
        self.checked(Self::scan_blocking(&db, table, prefix, after, limit))
    }

    async fn snapshot(&self) -> Result<Vec<(Table, Vec<Entry>)>, StoreError> {
        let db = self.database().await?;
        let result = tokio::task::spawn_blocking(move || Self::snapshot_blocking(&db))
            .await
            .map_err(StoreError::engine)?;
        self.checked(result)
    }

    async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        // A commit waits for fsync: keep it off the async workers.
        let db = self.database().await?;
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(move || Self::commit_blocking(&db, batch))
            .await
            .map_err(StoreError::engine)?;
        match &result {
            Ok(true) => self.health.commits.record(started.elapsed()),
            Ok(false) => {}
            Err(_) => {
                self.health.commits.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        match self.checked(result)? {
            true => Ok(()),
            false => Err(StoreError::Conflict),
        }
    }

    async fn purge(&self) -> Result<(), StoreError> {
        let mut db = Arc::clone(&self.db).write_owned().await;
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || Self::purge_blocking(&mut db, &path))
            .await
            .map_err(StoreError::engine)?
    }
}
