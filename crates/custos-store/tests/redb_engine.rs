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
