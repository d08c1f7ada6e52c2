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

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tokio::sync::RwLock;

use crate::{Batch, Check, Engine, Entry, StoreError, Table, Write};

fn definition(table: Table) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(table.name())
}

/// The embedded storage engine.
#[derive(Clone)]
pub struct RedbEngine {
    db: Arc<RwLock<Database>>,
    path: Arc<PathBuf>,
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
            db: Arc::new(RwLock::new(create(path)?)),
            path: Arc::new(path.to_owned()),
        })
    }

    fn get_blocking(
        db: &Database,
        table: Table,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = db.begin_read().map_err(StoreError::engine)?;
        let t = txn
            .open_table(definition(table))
            .map_err(StoreError::engine)?;
        Ok(t.get(key)
            .map_err(StoreError::engine)?
            .map(|v| v.value().to_vec()))
    }

    fn scan_blocking(
        db: &Database,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let txn = db.begin_read().map_err(StoreError::engine)?;
        let t = txn
            .open_table(definition(table))
            .map_err(StoreError::engine)?;
        let start: &[u8] = match after {
            Some(a) if a > prefix => a,
            _ => prefix,
        };
        let mut out = Vec::new();
        for item in t.range(start..).map_err(StoreError::engine)? {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item.map_err(StoreError::engine)?;
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

    fn snapshot_blocking(db: &Database) -> Result<Vec<(Table, Vec<Entry>)>, StoreError> {
        // One read transaction: redb's MVCC gives every table as of the
        // same commit, without blocking writers.
        let txn = db.begin_read().map_err(StoreError::engine)?;
        let mut out = Vec::with_capacity(Table::ALL.len());
        for table in Table::ALL {
            let t = txn
                .open_table(definition(table))
                .map_err(StoreError::engine)?;
            let mut entries = Vec::new();
            for item in t.iter().map_err(StoreError::engine)? {
                let (k, v) = item.map_err(StoreError::engine)?;
                entries.push((k.value().to_vec(), v.value().to_vec()));
            }
            out.push((table, entries));
        }
        Ok(out)
    }

    fn commit_blocking(db: &Database, batch: Batch) -> Result<(), StoreError> {
        let txn = db.begin_write().map_err(StoreError::engine)?;
        {
            for check in &batch.checks {
                let (table, key) = match check {
                    Check::Absent { table, key } | Check::Equals { table, key, .. } => {
                        (*table, key)
                    }
                };
                let t = txn
                    .open_table(definition(table))
                    .map_err(StoreError::engine)?;
                let current = t.get(key.as_slice()).map_err(StoreError::engine)?;
                let holds = match (check, current) {
                    (Check::Absent { .. }, None) => true,
                    (Check::Equals { value, .. }, Some(cur)) => cur.value() == value.as_slice(),
                    _ => false,
                };
                if !holds {
                    // Dropping the transaction aborts it: nothing is written.
                    return Err(StoreError::Conflict);
                }
            }
            for write in &batch.writes {
                match write {
                    Write::Put { table, key, value } => {
                        let mut t = txn
                            .open_table(definition(*table))
                            .map_err(StoreError::engine)?;
                        t.insert(key.as_slice(), value.as_slice())
                            .map_err(StoreError::engine)?;
                    }
                    Write::Delete { table, key } => {
                        let mut t = txn
                            .open_table(definition(*table))
                            .map_err(StoreError::engine)?;
                        t.remove(key.as_slice()).map_err(StoreError::engine)?;
                    }
                }
            }
        }
        // Durability::Immediate is redb's default: this fsyncs.
        txn.commit().map_err(StoreError::engine)
    }

    /// Copies every live row into a new file, durably, and renames it over
    /// the store; the caller holds the database exclusively.
    fn purge_blocking(db: &mut Database, path: &Path) -> Result<(), StoreError> {
        let copy_path = purge_path(path);
        let _ = std::fs::remove_file(&copy_path);
        let rows = Self::snapshot_blocking(db)?;
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
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(StoreError::engine)?;
        }
        // The old file, unlinked, closes with its handle.
        *db = copy;
        Ok(())
    }
}

impl Engine for RedbEngine {
    async fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        // Reads are served from redb's page cache and take microseconds; a
        // thread hop would cost more than it saves.
        let db = self.db.read().await;
        Self::get_blocking(&db, table, key)
    }

    async fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let db = self.db.read().await;
        Self::scan_blocking(&db, table, prefix, after, limit)
    }

    async fn snapshot(&self) -> Result<Vec<(Table, Vec<Entry>)>, StoreError> {
        let db = Arc::clone(&self.db).read_owned().await;
        tokio::task::spawn_blocking(move || Self::snapshot_blocking(&db))
            .await
            .map_err(StoreError::engine)?
    }

    async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        // A commit waits for fsync: keep it off the async workers.
        let db = Arc::clone(&self.db).read_owned().await;
        tokio::task::spawn_blocking(move || Self::commit_blocking(&db, batch))
            .await
            .map_err(StoreError::engine)?
    }

    async fn purge(&self) -> Result<(), StoreError> {
        let mut db = Arc::clone(&self.db).write_owned().await;
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || Self::purge_blocking(&mut db, &path))
            .await
            .map_err(StoreError::engine)?
    }
}
