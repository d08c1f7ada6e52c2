//! The conformance suite against the embedded redb engine, plus what only
//! an on-disk engine can show: data survives reopening.

use custos_store::redb::RedbEngine;
use custos_store::{Batch, Engine, Table};

fn fresh() -> (RedbEngine, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = RedbEngine::open(&dir.path().join("store.redb")).expect("open");
    (engine, dir)
}

custos_store::conformance_tests!(fresh());

#[tokio::test]
async fn committed_data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.redb");
    {
        let e = RedbEngine::open(&path).expect("open");
        let mut b = Batch::new();
        b.put(Table::Keys, b"k".to_vec(), b"v".to_vec());
        e.commit(b).await.expect("commit");
    }
    let e = RedbEngine::open(&path).expect("reopen");
    assert_eq!(
        e.get(Table::Keys, b"k").await.expect("get"),
        Some(b"v".to_vec())
    );
}

/// Without a purge, a deleted row's bytes outlive it in free pages and
/// older page copies; after one, no byte of it is left in the file, and a
/// purge cut short leaves the store as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_leaves_no_copy_of_deleted_rows_in_the_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.redb");
    let e = RedbEngine::open(&path).expect("open");
    let value = |i: u32| -> Vec<u8> {
        // Distinct bytes per row: an xorshift stream seeded by the row.
        let mut x = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..96)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    };
    // One commit per row, as the server writes: pages are copied over and
    // over.
    for i in 0..2000u32 {
        let mut b = Batch::new();
        b.put(Table::Material, i.to_be_bytes().to_vec(), value(i));
        e.commit(b).await.expect("commit");
    }
    let doomed: Vec<u32> = (0..2000).step_by(50).collect();
    for i in &doomed {
        let mut b = Batch::new();
        b.delete(Table::Material, i.to_be_bytes().to_vec());
        e.commit(b).await.expect("delete");
    }
    // One pass over the file, looking up every 32-byte window among the
    // doomed rows' first 32 bytes.
    let wanted: std::collections::HashSet<Vec<u8>> =
        doomed.iter().map(|i| value(*i)[..32].to_vec()).collect();
    let left = || {
        let bytes = std::fs::read(&path).expect("read");
        let found: std::collections::HashSet<&[u8]> =
            bytes.windows(32).filter(|w| wanted.contains(*w)).collect();
        found.len()
    };
    assert!(left() > 0, "redb keeps old copies: this test can see them");
    e.purge().await.expect("purge");
    assert_eq!(left(), 0);
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(
        e.get(Table::Material, &1u32.to_be_bytes())
            .await
            .expect("get"),
        Some(value(1))
    );
    drop(e);
    // A purge that died before its rename: its partial copy is removed,
    // the store opens as it was.
    std::fs::write(dir.path().join("store.redb.purge"), b"partial").expect("write");
    let e = RedbEngine::open(&path).expect("reopen");
    assert!(!dir.path().join("store.redb.purge").exists());
    assert_eq!(
        e.get(Table::Material, &1u32.to_be_bytes())
            .await
            .expect("get"),
        Some(value(1))
    );
    assert_eq!(
        e.get(Table::Material, &0u32.to_be_bytes())
            .await
            .expect("get"),
        None
    );
}
