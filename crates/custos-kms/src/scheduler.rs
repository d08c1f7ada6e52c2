//! Background work: destroying keys whose waiting period has ended, and
//! rotating keys whose rotation date has come.
//!
//! # Time the scheduler trusts
//!
//! Destroying a key is irreversible, so it must never happen early — not
//! even if the wall clock is set forward by an operator or a bad time
//! server. The scheduler therefore compares deletion dates with a
//! *trusted time*, which
//!
//! - never runs ahead of the wall clock,
//! - advances no faster than the monotonic clock since this node started
//!   (so a jump of the wall clock does not move it), and
//! - never goes back (it is persisted, `meta/scheduler-clock`, and several
//!   nodes only ever raise it).
//!
//! Time while no Custos node runs is not counted: after a long shutdown,
//! deletions and rotations happen late by that long. Late is safe; early
//! is not.

use custos_store::{Batch, Engine, StoreError, Table};
use serde::{Deserialize, Serialize};

use crate::keys::key_row;
use crate::model::{KeyRecord, KeyState, RotationType};
use crate::ops::DAY_MS;
use crate::{Kms, KmsError};

const CLOCK_ROW: &[u8] = b"scheduler-clock";
const CLOCK_FORMAT: u32 = 1;
/// Rows read per scan.
const CHUNK: usize = 256;
/// Present while deleted material may still sit in the engine's free
/// pages (see [`Engine::purge`]).
const PURGE_PENDING: &[u8] = b"purge-pending";

#[derive(Debug, Serialize, Deserialize)]
struct ClockRecord {
    format: u32,
    trusted_ms: i64,
}

/// What one pass of the scheduler did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WorkDone {
    pub deleted: usize,
    pub rotated: usize,
    /// Whether the engine purged deleted rows from its storage.
    pub purged: bool,
    /// Each action, for the audit trail (the server records them).
    pub actions: Vec<ScheduledAction>,
    /// The keys the pass read, by state (`KeyState::as_str`), those it
    /// destroyed left out: the pass reads every key anyway, so this is
    /// where the server's key counts come from.
    pub keys_by_state: std::collections::BTreeMap<&'static str, u64>,
}

/// One thing the scheduler did to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledAction {
    /// `DeleteKey` (its material destroyed) or `RotateKey` (automatic
    /// rotation), as CloudTrail names them.
    pub event_name: &'static str,
    pub key_arn: String,
    pub account_id: String,
    pub region: String,
    /// The new material of a rotation.
    pub key_material_id: Option<String>,
}

impl ScheduledAction {
    fn on(key: &KeyRecord, event_name: &'static str, key_material_id: Option<String>) -> Self {
        ScheduledAction {
            event_name,
            key_arn: key.arn(),
            account_id: key.account_id.clone(),
            region: key.region.clone(),
            key_material_id,
        }
    }
}

impl<E: Engine> Kms<E> {
    /// The trusted time (see the module documentation), persisted.
    pub async fn trusted_now_ms(&self) -> Result<i64, KmsError> {
        let stored_bytes = self.engine().get(Table::Meta, CLOCK_ROW).await?;
        let stored = match &stored_bytes {
            Some(b) => Some(
                serde_json::from_slice::<ClockRecord>(b)
                    .ok()
                    .filter(|r| r.format == CLOCK_FORMAT)
                    .ok_or_else(|| KmsError::Corrupt {
                        what: "scheduler clock".into(),
                    })?
                    .trusted_ms,
            ),
            None => None,
        };
        let wall = self.clock().now_ms();
        let mono = self.clock().monotonic_ms();
        let candidate = {
            // Poisoning would mean a panic while holding two integers.
            let mut anchor = self.anchor().lock().unwrap_or_else(|p| p.into_inner());
            let (at, at_mono) = *anchor.get_or_insert((stored.unwrap_or(wall), mono));
            wall.min(at.saturating_add(mono - at_mono))
        };
        let trusted = stored.map_or(candidate, |s| s.max(candidate));
        if stored.is_none_or(|s| trusted > s) {
            let record = serde_json::to_vec(&ClockRecord {
                format: CLOCK_FORMAT,
                trusted_ms: trusted,
            })
            .map_err(|_| KmsError::Corrupt {
                what: "scheduler clock".into(),
            })?;
            let mut batch = Batch::new();
            match stored_bytes {
                Some(old) => batch.require_equals(Table::Meta, CLOCK_ROW, old),
                None => batch.require_absent(Table::Meta, CLOCK_ROW),
            };
            batch.put(Table::Meta, CLOCK_ROW, record);
            match self.engine().commit(batch).await {
                // Another node moved it meanwhile: its value is as good.
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(trusted)
    }

    /// One pass: destroys every key whose deletion date has passed and
    /// rotates every enabled key whose rotation date has come.
    pub async fn run_scheduled_work(&self) -> Result<WorkDone, KmsError> {
        let now = self.trusted_now_ms().await?;
        let mut done = WorkDone::default();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let rows = self
                .engine()
                .scan(Table::Keys, b"", after.as_deref(), CHUNK)
                .await?;
            let last_chunk = rows.len() < CHUNK;
            for (row, bytes) in rows {
                let key = self.read_key_record(&row, &bytes)?;
                after = Some(row);
                *done.keys_by_state.entry(key.state.as_str()).or_default() += 1;
                if key.state == KeyState::PendingDeletion
                    && key.deletion_ms.is_some_and(|d| d <= now)
                {
                    if self.destroy(&key, bytes).await? {
                        done.deleted += 1;
                        done.actions
                            .push(ScheduledAction::on(&key, "DeleteKey", None));
                        // Gone: not counted.
                        if let Some(n) = done.keys_by_state.get_mut(key.state.as_str()) {
                            *n -= 1;
                        }
                    }
                } else if key.state == KeyState::Enabled
                    && key
                        .rotation
                        .as_ref()
                        .is_some_and(|r| r.next_rotation_ms <= now)
                {
                    // None: another node rotated it, or it changed meanwhile.
                    if let Some(rotated) = self.rotate_automatically(&key, now).await? {
                        done.rotated += 1;
                        let material = rotated.current_material().map(|m| m.material_id.clone());
                        done.actions
                            .push(ScheduledAction::on(&key, "RotateKey", material));
                    }
                }
            }
            if last_chunk {
                break;
            }
        }
        // Deleted material is gone from the store's pages only once the
        // engine purges them; a marker written with each deletion makes a
        // purge that a crash interrupted happen at the next pass.
        if let Some(marker) = self.engine().get(Table::Meta, PURGE_PENDING).await? {
            self.engine().purge().await?;
            let mut batch = Batch::new();
            batch
                .require_equals(Table::Meta, PURGE_PENDING, marker)
                .delete(Table::Meta, PURGE_PENDING);
            match self.engine().commit(batch).await {
                // Another deletion since: purged again next pass.
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            done.purged = true;
        }
        if done.deleted + done.rotated > 0 {
            tracing::info!(
                deleted = done.deleted,
                rotated = done.rotated,
                "scheduled work done"
            );
        }
        Ok(done)
    }

    /// Deletes the key record, every version of its material and its
    /// aliases, in one atomic batch conditioned on the record being
    /// unchanged (a `CancelKeyDeletion` that wins the race keeps the key).
    async fn destroy(&self, key: &KeyRecord, record_bytes: Vec<u8>) -> Result<bool, KmsError> {
        let row = key_row(&key.region, &key.key_id);
        let mut batch = Batch::new();
        batch
            .require_equals(Table::Keys, row.clone(), record_bytes)
            .delete(Table::Keys, row)
            // A fresh value each time, so that a purge's clearing of the
            // marker cannot swallow a deletion made while it ran.
            .put(
                Table::Meta,
                PURGE_PENDING,
                custos_crypto::rand::array::<16>()?.to_vec(),
            );
        let material_prefix = format!("{}/{}/", key.region, key.key_id).into_bytes();
        for (material_row, _) in self
            .engine()
            .scan(Table::Material, &material_prefix, None, usize::MAX)
            .await?
        {
            batch.delete(Table::Material, material_row);
        }
        // Grants go with their key.
        for (grant_row, _) in self
            .engine()
            .scan(
                Table::Grants,
                &crate::grants::grant_prefix(&key.key_id),
                None,
                usize::MAX,
            )
            .await?
        {
            batch.delete(Table::Grants, grant_row);
        }
        let alias_prefix = format!("{}/{}/", key.region, key.account_id).into_bytes();

        let mut after: Option<Vec<u8>> = None;
        loop {
            let rows = self
                .engine()
                .scan(Table::Aliases, &alias_prefix, after.as_deref(), CHUNK)
                .await?;
            let last_chunk = rows.len() < CHUNK;
            for (alias_row, bytes) in rows {
                if self.read_alias_record(&alias_row, &bytes)?.key_id == key.key_id {
                    batch.require_equals(Table::Aliases, alias_row.clone(), bytes);
                    batch.delete(Table::Aliases, alias_row.clone());
                }
                after = Some(alias_row);
            }
            if last_chunk {
                break;
            }
        }
        match self.engine().commit(batch).await {
            Ok(()) => {
                tracing::info!(key = %key.arn(), "key and all its material destroyed");
                Ok(true)
            }
            // Changed meanwhile (cancelled, or an alias moved): the next
            // pass decides again.
            Err(StoreError::Conflict) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Rotates `key` if it is still due; the record written, or `None`
    /// when there was nothing to do any more.
    async fn rotate_automatically(
        &self,
        key: &KeyRecord,
        now: i64,
    ) -> Result<Option<KeyRecord>, KmsError> {
        let wall = self.now_ms();
        // Decided on the record as it is when written: it may have been
        // rotated (by another node) or disabled since it was scanned.
        let mut rotated = false;
        let record = self
            .modify_key(key, |k, batch| {
                rotated = false;
                let Some(rotation) = k.rotation.clone() else {
                    return Ok(());
                };
                if k.state != KeyState::Enabled || rotation.next_rotation_ms > now {
                    return Ok(());
                }
                rotated = true;
                self.add_material_version(k, RotationType::Automatic, wall, batch)?;
                let period = i64::from(rotation.period_days) * DAY_MS;
                let mut next = rotation.next_rotation_ms;
                while next <= now {
                    next += period;
                }
                if let Some(r) = k.rotation.as_mut() {
                    r.next_rotation_ms = next;
                }
                Ok(())
            })
            .await?;
        Ok(rotated.then_some(record))
    }
}
