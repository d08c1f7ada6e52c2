//! Encrypted backups of a whole store, and their restore.
//!
//! A backup is every row of every table as of one moment (the engine's
//! [`Engine::snapshot`]), plus the few files of the data directory a
//! restored server needs (its TLS certificate and key, the audit signing
//! key: each sealed already, or public), sealed as one under the store key.
//! Only the root key that unwraps that store key opens it, so a backup is
//! no weaker than the data directory it came from (see
//! `docs/storage-format.md` for the layout):
//!
//! ```text
//! "CUSTOSBK" ‖ version (1) ‖ header length (u32 BE) ‖ header (JSON) ‖ sealed payload
//! ```
//!
//! The header is public: the installation record (account, root-key
//! kind, the wrapped store key), the time, the row count and the audit
//! chain's head. The payload is sealed with the header's digest as
//! associated data, so neither can be swapped for another backup's.

use custos_crypto::SecretBytes;
use custos_crypto::seal::Sealer;
use custos_store::{Batch, Engine, StoreError, Table};
use serde::{Deserialize, Serialize};

use crate::root_key::{RootKeyError, RootKeyProvider};
use crate::{INSTALLATION, Installation, Kms, KmsError, seal, store_key_aad};

const MAGIC: &[u8; 8] = b"CUSTOSBK";
const VERSION: u8 = 1;
/// The largest header read back (it holds one installation record).
const MAX_HEADER: usize = 64 * 1024;

/// Where the audit chain stood when a backup was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditHead {
    /// The last record's sequence number.
    pub seq: u64,
    /// Its hash (hex).
    pub hash: String,
}

/// What a backup says of itself, readable without the root key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupHeader {
    pub format: u32,
    pub created_ms: i64,
    /// The installation record, as stored.
    pub installation: String,
    /// Rows in the payload.
    pub rows: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audit_head: Option<AuditHead>,
}

impl BackupHeader {
    fn record(&self) -> Result<Installation, BackupError> {
        serde_json::from_str(&self.installation).map_err(|_| BackupError::Corrupt)
    }

    /// The root-key provider's kind the backup needs.
    pub fn root_key_kind(&self) -> Result<String, BackupError> {
        Ok(self.record()?.root_key_kind)
    }

    /// The store key as the root wrapped it (what a shares unsealer checks
    /// shares against).
    pub fn wrapped_store_key(&self) -> Result<Vec<u8>, BackupError> {
        hex::decode(self.record()?.wrapped_store_key).map_err(|_| BackupError::Corrupt)
    }

    pub fn account_id(&self) -> Result<String, BackupError> {
        Ok(self.record()?.account_id)
    }
}

/// A file of the data directory carried in a backup.
pub struct BackupFile {
    /// Relative to the data directory, `/`-separated.
    pub name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for BackupFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupFile")
            .field("name", &self.name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Why a backup could not be read or restored.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not a Custos backup")]
    NotABackup,
    #[error("a backup of format {0}, from a newer Custos")]
    Newer(u8),
    #[error("the backup is damaged or was altered")]
    Corrupt,
    #[error(
        "the backup was taken under a root key of kind `{recorded}`; the configured provider \
         is `{configured}`"
    )]
    ProviderMismatch {
        recorded: String,
        configured: &'static str,
    },
    #[error("the backup does not open with this root key: {0}")]
    RootKey(#[from] RootKeyError),
    #[error("the target already holds a store: restore only into an empty data directory")]
    NotEmpty,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn payload_aad(installation_id: &str, header: &[u8]) -> Vec<u8> {
    let digest = custos_crypto::mac::sha256(header);
    seal::aad("custos.backup.v1", &[installation_id.as_bytes(), &digest])
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Reads what [`put_bytes`] wrote, advancing `at`.
fn take<'a>(bytes: &'a [u8], at: &mut usize) -> Result<&'a [u8], BackupError> {
    let len = bytes
        .get(*at..*at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or(BackupError::Corrupt)? as usize;
    let out = bytes
        .get(*at + 4..*at + 4 + len)
        .ok_or(BackupError::Corrupt)?;
    *at += 4 + len;
    Ok(out)
}

impl<E: Engine> Kms<E> {
    /// A backup of the whole store as of now, with `files`, sealed under
    /// the store key. Taken online: writers are not blocked, and no commit
    /// is half in it.
    pub async fn backup(
        &self,
        files: Vec<BackupFile>,
        audit_head: Option<AuditHead>,
    ) -> Result<Vec<u8>, KmsError> {
        let snapshot = self.engine.snapshot().await?;
        let installation = snapshot
            .iter()
            .find(|(t, _)| *t == Table::Meta)
            .and_then(|(_, rows)| rows.iter().find(|(k, _)| k == INSTALLATION))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| KmsError::Corrupt {
                what: "installation record".into(),
            })?;
        let installation_text = String::from_utf8(installation).map_err(|_| KmsError::Corrupt {
            what: "installation record".into(),
        })?;
        let record: Installation =
            serde_json::from_str(&installation_text).map_err(|_| KmsError::Corrupt {
                what: "installation record".into(),
            })?;
        let rows: usize = snapshot.iter().map(|(_, r)| r.len()).sum();
        // The payload holds records, sealed or authenticated each, and
        // key metadata in the clear: wiped once sealed.
        let mut payload = SecretBytes::new(Vec::new());
        let out = payload.expose_secret_mut();
        out.extend_from_slice(&(rows as u64).to_be_bytes());
        for (table, entries) in &snapshot {
            let index = Table::ALL
                .iter()
                .position(|t| t == table)
                .unwrap_or_default() as u8;
            for (key, value) in entries {
                out.push(index);
                put_bytes(out, key);
                put_bytes(out, value);
            }
        }
        out.extend_from_slice(&(files.len() as u32).to_be_bytes());
        for file in &files {
            put_bytes(out, file.name.as_bytes());
            put_bytes(out, &file.bytes);
        }
        let header = serde_json::to_vec(&BackupHeader {
            format: u32::from(VERSION),
            created_ms: self.clock.now_ms(),
            installation: installation_text,
            rows: rows as u64,
            audit_head,
        })
        .map_err(|_| KmsError::Corrupt {
            what: "backup header".into(),
        })?;
        let sealed = self.sealer.seal(
            &payload_aad(&record.installation_id, &header),
            payload.expose_secret(),
        )?;
        let mut file = Vec::with_capacity(MAGIC.len() + 5 + header.len() + sealed.len());
        file.extend_from_slice(MAGIC);
        file.push(VERSION);
        put_bytes(&mut file, &header);
        file.extend_from_slice(&sealed);
        Ok(file)
    }
}

/// The header of a backup, and where its sealed payload starts.
pub fn read_header(bytes: &[u8]) -> Result<(BackupHeader, usize), BackupError> {
    if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(BackupError::NotABackup);
    }
    match bytes.get(MAGIC.len()) {
        Some(&VERSION) => {}
        Some(&v) if v > VERSION => return Err(BackupError::Newer(v)),
        _ => return Err(BackupError::Corrupt),
    }
    let mut at = MAGIC.len() + 1;
    let header = take(bytes, &mut at)?;
    if header.len() > MAX_HEADER {
        return Err(BackupError::Corrupt);
    }
    let parsed: BackupHeader = serde_json::from_slice(header).map_err(|_| BackupError::Corrupt)?;
    Ok((parsed, at))
}

/// What a restore wrote, and the files it hands back to be written.
#[derive(Debug)]
pub struct Restored {
    pub header: BackupHeader,
    pub files: Vec<BackupFile>,
}

/// Restores `backup` into `engine`, which must hold no store, after
/// opening it with `root`. All rows are written in one batch: a restore
/// that fails or is killed leaves the target empty. A backup carrying a
/// file not named in `allowed` is refused before anything is written.
pub async fn restore<E: Engine>(
    engine: &E,
    root: &dyn RootKeyProvider,
    backup: &[u8],
    allowed: &[&str],
) -> Result<Restored, BackupError> {
    let (header, at) = read_header(backup)?;
    let record = header.record()?;
    if record.root_key_kind != root.kind() {
        return Err(BackupError::ProviderMismatch {
            recorded: record.root_key_kind,
            configured: root.kind(),
        });
    }
    if engine.get(Table::Meta, INSTALLATION).await?.is_some() {
        return Err(BackupError::NotEmpty);
    }
    let wrapped = header.wrapped_store_key()?;
    let store_key = root.unwrap(&wrapped, &store_key_aad(&record.installation_id))?;
    let sealer = Sealer::new(store_key);
    let header_bytes = {
        let mut i = MAGIC.len() + 1;
        take(backup, &mut i)?
    };
    let payload = sealer
        .open(
            &payload_aad(&record.installation_id, header_bytes),
            &backup[at..],
        )
        .map_err(|_| BackupError::Corrupt)?;
    let bytes = payload.expose_secret();
    let rows = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or(BackupError::Corrupt)?;
    if rows != header.rows {
        return Err(BackupError::Corrupt);
    }
    let mut at = 8;
    let mut batch = Batch::new();
    let mut installation_seen = false;
    for _ in 0..rows {
        let table = *bytes.get(at).ok_or(BackupError::Corrupt)?;
        at += 1;
        let table = *Table::ALL
            .get(usize::from(table))
            .ok_or(BackupError::Corrupt)?;
        let key = take(bytes, &mut at)?.to_vec();
        let value = take(bytes, &mut at)?.to_vec();
        if table == Table::Meta && key == INSTALLATION {
            // The header's record is the one inside, byte for byte.
            if value != header.installation.as_bytes() {
                return Err(BackupError::Corrupt);
            }
            installation_seen = true;
        }
        batch.put(table, key, value);
    }
    if !installation_seen {
        return Err(BackupError::Corrupt);
    }
    let count = bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or(BackupError::Corrupt)?;
    at += 4;
    let mut files = Vec::new();
    for _ in 0..count {
        let name =
            String::from_utf8(take(bytes, &mut at)?.to_vec()).map_err(|_| BackupError::Corrupt)?;
        if !allowed.contains(&name.as_str()) {
            return Err(BackupError::Corrupt);
        }
        let bytes = take(bytes, &mut at)?.to_vec();
        files.push(BackupFile { name, bytes });
    }
    if at != bytes.len() {
        return Err(BackupError::Corrupt);
    }
    batch.require_absent(Table::Meta, INSTALLATION);
    match engine.commit(batch).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(BackupError::NotEmpty),
        Err(e) => return Err(e.into()),
    }
    Ok(Restored { header, files })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use custos_store::redb::RedbEngine;

    use super::*;
    use crate::root_key::file::FileProvider;
    use crate::{Region, Settings, SystemClock};

    const FILES: &[&str] = &["tls/ca.pem"];

    async fn store(dir: &std::path::Path, root: &FileProvider) -> Kms<RedbEngine> {
        let engine = RedbEngine::open(&dir.join("store.redb")).expect("store");
        Kms::open(
            engine,
            root,
            Settings {
                account_id: None,
                regions: vec![Region::parse("us-east-1").expect("region")],
                clock: Arc::new(SystemClock::new()),
            },
        )
        .await
        .expect("open")
    }

    #[tokio::test]
    async fn a_backup_restores_once_into_an_empty_store_and_detects_any_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = FileProvider::open_or_create(&dir.path().join("root.key")).expect("root");
        let kms = store(dir.path(), &root).await;
        let files = vec![BackupFile {
            name: "tls/ca.pem".into(),
            bytes: b"public".to_vec(),
        }];
        let head = AuditHead {
            seq: 7,
            hash: "ab".repeat(32),
        };
        let backup = kms.backup(files, Some(head.clone())).await.expect("backup");
        let (header, _) = read_header(&backup).expect("header");
        assert_eq!(header.audit_head, Some(head));
        assert_eq!(header.root_key_kind().expect("kind"), "file");

        let target = tempfile::tempdir().expect("target");
        let engine = RedbEngine::open(&target.path().join("store.redb")).expect("store");
        // Any changed byte, of header or payload, and a cut: refused, and
        // nothing written.
        for i in [0, 8, 20, backup.len() / 2, backup.len() - 1] {
            let mut bad = backup.clone();
            bad[i] ^= 1;
            assert!(
                restore(&engine, &root, &bad, FILES).await.is_err(),
                "byte {i}"
            );
        }
        assert!(
            restore(&engine, &root, &backup[..backup.len() - 1], FILES)
                .await
                .is_err()
        );
        let other = FileProvider::open_or_create(&target.path().join("other.key")).expect("root");
        assert!(matches!(
            restore(&engine, &other, &backup, FILES).await,
            Err(BackupError::RootKey(RootKeyError::WrongKey))
        ));
        assert!(
            engine
                .snapshot()
                .await
                .expect("snapshot")
                .iter()
                .all(|(_, r)| r.is_empty())
        );

        // A file it is not told to expect: refused, nothing written.
        assert!(matches!(
            restore(&engine, &root, &backup, &[]).await,
            Err(BackupError::Corrupt)
        ));
        let restored = restore(&engine, &root, &backup, FILES)
            .await
            .expect("restore");
        assert_eq!(restored.files.len(), 1);
        assert_eq!(restored.files[0].bytes, b"public");
        assert_eq!(
            engine.snapshot().await.expect("snapshot"),
            kms.engine.snapshot().await.expect("snapshot")
        );
        assert!(matches!(
            restore(&engine, &root, &backup, FILES).await,
            Err(BackupError::NotEmpty)
        ));
        assert!(matches!(
            restore(&engine, &root, b"CUSTOSBK\x09", FILES).await,
            Err(BackupError::Newer(9))
        ));
        assert!(matches!(
            restore(&engine, &root, b"hello", FILES).await,
            Err(BackupError::NotABackup)
        ));
    }
}
