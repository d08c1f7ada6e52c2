//! The embedded engine, on redb: one file, ACID transactions, durable
//! commits (redb's default `Durability::Immediate` fsyncs before a commit
//! returns).

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::{Batch, Check, Engine, Entry, StoreError, Table, Write};

fn definition(table: Table) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(table.name())
}

/// The embedded storage engine.
#[derive(Clone)]
pub struct RedbEngine {
    db: Arc<Database>,
}

impl std::fmt::Debug for RedbEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbEngine").finish_non_exhaustive()
    }
}

impl RedbEngine {
    /// Opens, or creates, the database file at `path` and every table.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let db = Database::create(path).map_err(StoreError::engine)?;
        let txn = db.begin_write().map_err(StoreError::engine)?;
        for table in Table::ALL {
            txn.open_table(definition(table))
                .map_err(StoreError::engine)?;
        }
        txn.commit().map_err(StoreError::engine)?;
        Ok(Self { db: Arc::new(db) })
    }

    fn get_blocking(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::engine)?;
        let t = txn
            .open_table(definition(table))
            .map_err(StoreError::engine)?;
        Ok(t.get(key)
            .map_err(StoreError::engine)?
            .map(|v| v.value().to_vec()))
    }

    fn scan_blocking(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::engine)?;
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

    fn commit_blocking(&self, batch: Batch) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(StoreError::engine)?;
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
}

impl Engine for RedbEngine {
    async fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        // Reads are served from redb's page cache and take microseconds; a
        // thread hop would cost more than it saves.
        self.get_blocking(table, key)
    }

    async fn scan(
        &self,
        table: Table,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<Entry>, StoreError> {
        self.scan_blocking(table, prefix, after, limit)
    }

    async fn snapshot(&self) -> Result<Vec<(Table, Vec<Entry>)>, StoreError> {
        // One read transaction: redb's MVCC gives every table as of the
        // same commit, without blocking writers.
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let txn = this.db.begin_read().map_err(StoreError::engine)?;
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
        })
        .await
        .map_err(StoreError::engine)?
    }

    async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        // A commit waits for fsync: keep it off the async workers.
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.commit_blocking(batch))
            .await
            .map_err(StoreError::engine)?
    }
}
