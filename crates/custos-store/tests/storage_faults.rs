//! The embedded engine after real storage faults: a small tmpfs filled up
//! and freed, and a bind mount of it made read-only and writable again.
//! The engine must recover by itself once the cause is gone, lose no
//! acknowledged write and acknowledge no write it did not make durable.
//!
//! Mounting needs root (CAP_SYS_ADMIN), which the test machines have; the
//! test fails rather than pass without testing anything, unless
//! `CUSTOS_SKIP_MOUNT_TESTS=1` says the machine cannot mount.

use std::time::Duration;

use custos_store::redb::RedbEngine;
use custos_store::{Batch, Engine, Table};
use custos_test_support::{Mount, mount_tests_skipped};

fn put(key: &[u8], value: &[u8]) -> Batch {
    let mut b = Batch::new();
    b.put(Table::Keys, key.to_vec(), value.to_vec());
    b
}

/// Commits until one fails, as a server under load would; returns the
/// acknowledged keys.
async fn write_until_failure(e: &RedbEngine, tag: &str, value: &[u8]) -> Vec<Vec<u8>> {
    let mut acknowledged = Vec::new();
    for i in 0..100_000 {
        let key = format!("{tag}-{i:06}").into_bytes();
        match e.commit(put(&key, value)).await {
            Ok(()) => acknowledged.push(key),
            Err(_) => return acknowledged,
        }
    }
    panic!("the store never failed");
}

/// Retries a commit until it is acknowledged (the engine reopens the file
/// at most once a second), within a bound.
async fn commit_eventually(e: &RedbEngine, key: &[u8]) {
    for _ in 0..200 {
        if e.commit(put(key, b"after")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the store did not recover");
}

async fn assert_all_present(e: &RedbEngine, keys: &[Vec<u8>], value: &[u8]) {
    for key in keys {
        assert_eq!(
            e.get(Table::Keys, key).await.expect("read").as_deref(),
            Some(value),
            "acknowledged write {} is present",
            String::from_utf8_lossy(key)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_recovers_from_a_full_disk_and_a_read_only_mount() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(disk) = Mount::tmpfs(&dir.path().join("disk"), "4m") else {
        assert!(
            mount_tests_skipped(),
            "cannot mount a tmpfs (set CUSTOS_SKIP_MOUNT_TESTS=1 on a machine that cannot)"
        );
        return;
    };
    // The store lives on a bind mount of the tmpfs, which can be made
    // read-only on its own; the filler is written through the tmpfs.
    let view = Mount::bind(disk.path(), &dir.path().join("view"));
    let path = view.path().join("store.redb");
    let e = RedbEngine::open(&path).expect("open");
    let value = vec![7u8; 2048];

    // 1. The disk fills up under the writes.
    let before_full = write_until_failure(&e, "a", &value).await;
    assert!(
        !before_full.is_empty(),
        "some writes landed before the disk filled"
    );
    assert!(!e.is_healthy(), "the engine knows it is failing");

    // 2. Room is made: the disk only holds the store, so it grows.
    let filler = disk.path().join("filler");
    assert!(disk.remount("size=16m"), "the tmpfs grows");
    commit_eventually(&e, b"after-full").await;
    assert!(e.is_healthy());
    assert_all_present(&e, &before_full, &value).await;

    // 3. Fill it again with a filler file, then delete the filler.
    let mut f = std::fs::File::create(&filler).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);
    let second = write_until_failure(&e, "b", &value).await;
    std::fs::remove_file(&filler).expect("free the space");
    commit_eventually(&e, b"after-filler").await;
    assert_all_present(&e, &before_full, &value).await;
    assert_all_present(&e, &second, &value).await;

    // 4. The store's mount is made read-only. Linux refuses that while a
    // file on it is open for writing; the engine closes its file as soon
    // as it meets an I/O error (here, a full disk again), and only opens
    // it again when the next operation comes.
    let mut f = std::fs::File::create(&filler).expect("filler");
    while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
    drop(f);
    let third = write_until_failure(&e, "c", &value).await;
    let mut read_only = false;
    for _ in 0..400 {
        if view.remount("bind,ro") {
            read_only = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(read_only, "the mount was made read-only");
    std::fs::remove_file(&filler).expect("free the space");
    // Read-only: nothing is acknowledged, however long it is tried.
    for _ in 0..30 {
        assert!(e.commit(put(b"while-ro", b"x")).await.is_err());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(view.remount("bind,rw"), "the mount is writable again");
    commit_eventually(&e, b"after-ro").await;
    assert_eq!(e.get(Table::Keys, b"while-ro").await.expect("read"), None);
    for keys in [&before_full, &second, &third] {
        assert_all_present(&e, keys, &value).await;
    }
    drop(e);
    // And all of it is durable: a fresh open sees every acknowledged write.
    let e = RedbEngine::open(&path).expect("reopen");
    for keys in [&before_full, &second, &third] {
        assert_all_present(&e, keys, &value).await;
    }
    drop(view);
    drop(disk);
}
