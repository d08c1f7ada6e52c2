//! The conformance suite every storage engine must pass.
//!
//! Each case is a public async function taking an empty engine. An engine's
//! test file instantiates all of them with
//! `custos_store::conformance_tests!(make_engine())`, where the expression
//! evaluates to `(engine, guard)` and the guard (a temporary directory, a
//! database schema) lives as long as the test.
//!
//! The assertions panic with a description: this module is test code that
//! lives in the library only so that every engine crate can reuse it.

#![allow(clippy::unwrap_used, reason = "test suite: a failure is a panic")]

use std::sync::Arc;

use crate::{Batch, Engine, StoreError, Table};

/// Instantiates every conformance case as a `#[tokio::test]`.
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            get_missing_is_none,
            put_then_get,
            put_overwrites,
            delete_removes,
            tables_are_independent,
            absent_check_conflicts_and_writes_nothing,
            equals_check_compares_whole_value,
            failed_batch_is_atomic,
            scan_respects_prefix_order_after_and_limit,
            scan_prefix_boundaries,
            empty_and_binary_keys,
            large_values_round_trip,
            concurrent_creators_exactly_one_wins,
            concurrent_compare_and_swap_loses_no_update,
            snapshot_is_one_moment_of_every_table,
            purge_keeps_every_live_row_and_loses_no_concurrent_write
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (engine, _guard) = $make;
                $crate::conformance::$case(&engine).await;
            }
        )*
    };
}

pub async fn get_missing_is_none<E: Engine>(e: &E) {
    assert_eq!(e.get(Table::Keys, b"nope").await.unwrap(), None);
}

pub async fn put_then_get<E: Engine>(e: &E) {
    let mut b = Batch::new();
    b.put(Table::Keys, b"k".to_vec(), b"v".to_vec());
    e.commit(b).await.unwrap();
    assert_eq!(e.get(Table::Keys, b"k").await.unwrap(), Some(b"v".to_vec()));
}

pub async fn put_overwrites<E: Engine>(e: &E) {
    for v in [b"one".as_slice(), b"two"] {
        let mut b = Batch::new();
        b.put(Table::Keys, b"k".to_vec(), v.to_vec());
        e.commit(b).await.unwrap();
    }
    assert_eq!(
        e.get(Table::Keys, b"k").await.unwrap(),
        Some(b"two".to_vec())
    );
}

pub async fn delete_removes<E: Engine>(e: &E) {
    let mut b = Batch::new();
    b.put(Table::Aliases, b"a".to_vec(), b"1".to_vec());
    e.commit(b).await.unwrap();
    let mut b = Batch::new();
    b.delete(Table::Aliases, b"a".to_vec());
    // Deleting what is not there is not an error.
    b.delete(Table::Aliases, b"never".to_vec());
    e.commit(b).await.unwrap();
    assert_eq!(e.get(Table::Aliases, b"a").await.unwrap(), None);
}

pub async fn tables_are_independent<E: Engine>(e: &E) {
    let mut b = Batch::new();
    for (i, t) in Table::ALL.iter().enumerate() {
        b.put(*t, b"same".to_vec(), vec![i as u8]);
    }
    e.commit(b).await.unwrap();
    for (i, t) in Table::ALL.iter().enumerate() {
        assert_eq!(e.get(*t, b"same").await.unwrap(), Some(vec![i as u8]));
        let all = e.scan(*t, b"", None, 100).await.unwrap();
        assert_eq!(all, vec![(b"same".to_vec(), vec![i as u8])], "{t:?}");
    }
}

pub async fn absent_check_conflicts_and_writes_nothing<E: Engine>(e: &E) {
    let mut b = Batch::new();
    b.require_absent(Table::Aliases, b"alias/x".to_vec()).put(
        Table::Aliases,
        b"alias/x".to_vec(),
        b"key-1".to_vec(),
    );
    e.commit(b).await.unwrap();

    let mut b = Batch::new();
    b.require_absent(Table::Aliases, b"alias/x".to_vec())
        .put(Table::Aliases, b"alias/x".to_vec(), b"key-2".to_vec())
        .put(Table::Keys, b"side-effect".to_vec(), b"!".to_vec());
    assert!(matches!(e.commit(b).await, Err(StoreError::Conflict)));
    assert_eq!(
        e.get(Table::Aliases, b"alias/x").await.unwrap(),
        Some(b"key-1".to_vec())
    );
    assert_eq!(e.get(Table::Keys, b"side-effect").await.unwrap(), None);
}

pub async fn equals_check_compares_whole_value<E: Engine>(e: &E) {
    let mut b = Batch::new();
    b.put(Table::Keys, b"k".to_vec(), b"abc".to_vec());
    e.commit(b).await.unwrap();
    for wrong in [b"ab".as_slice(), b"abcd", b"abd", b""] {
        let mut b = Batch::new();
        b.require_equals(Table::Keys, b"k".to_vec(), wrong.to_vec())
            .put(Table::Keys, b"k".to_vec(), b"new".to_vec());
        assert!(matches!(e.commit(b).await, Err(StoreError::Conflict)));
    }
    // Equals on a missing key never holds.
    let mut b = Batch::new();
    b.require_equals(Table::Keys, b"missing".to_vec(), b"".to_vec());
    assert!(matches!(e.commit(b).await, Err(StoreError::Conflict)));

    let mut b = Batch::new();
    b.require_equals(Table::Keys, b"k".to_vec(), b"abc".to_vec())
        .put(Table::Keys, b"k".to_vec(), b"new".to_vec());
    e.commit(b).await.unwrap();
    assert_eq!(
        e.get(Table::Keys, b"k").await.unwrap(),
        Some(b"new".to_vec())
    );
}

pub async fn failed_batch_is_atomic<E: Engine>(e: &E) {
    let mut b = Batch::new();
    b.put(Table::Keys, b"exists".to_vec(), b"1".to_vec());
    e.commit(b).await.unwrap();
    // The failing check comes last; the writes listed before it must not
    // survive either.
    let mut b = Batch::new();
    b.put(Table::Keys, b"a".to_vec(), b"1".to_vec())
        .delete(Table::Keys, b"exists".to_vec())
        .put(Table::Material, b"m".to_vec(), b"1".to_vec())
        .require_absent(Table::Meta, b"free".to_vec())
        .require_absent(Table::Keys, b"exists".to_vec());
    assert!(matches!(e.commit(b).await, Err(StoreError::Conflict)));
    assert_eq!(e.get(Table::Keys, b"a").await.unwrap(), None);
    assert_eq!(e.get(Table::Material, b"m").await.unwrap(), None);
    assert_eq!(
        e.get(Table::Keys, b"exists").await.unwrap(),
        Some(b"1".to_vec())
    );
}

pub async fn scan_respects_prefix_order_after_and_limit<E: Engine>(e: &E) {
    let mut b = Batch::new();
    // Inserted out of order on purpose.
    for k in ["p/c", "p/a", "q/a", "p/b", "o/z", "p/d"] {
        b.put(Table::Keys, k.as_bytes().to_vec(), k.as_bytes().to_vec());
    }
    e.commit(b).await.unwrap();
    let keys = |v: Vec<(Vec<u8>, Vec<u8>)>| {
        v.into_iter()
            .map(|(k, _)| String::from_utf8(k).unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(e.scan(Table::Keys, b"p/", None, 100).await.unwrap()),
        ["p/a", "p/b", "p/c", "p/d"]
    );
    assert_eq!(
        keys(e.scan(Table::Keys, b"p/", None, 2).await.unwrap()),
        ["p/a", "p/b"]
    );
    assert_eq!(
        keys(e.scan(Table::Keys, b"p/", Some(b"p/b"), 2).await.unwrap()),
        ["p/c", "p/d"]
    );
    // `after` need not exist, and may sort before the prefix.
    assert_eq!(
        keys(e.scan(Table::Keys, b"p/", Some(b"p/bb"), 10).await.unwrap()),
        ["p/c", "p/d"]
    );
    assert_eq!(
        keys(e.scan(Table::Keys, b"p/", Some(b"a"), 1).await.unwrap()),
        ["p/a"]
    );
    assert!(
        e.scan(Table::Keys, b"p/", Some(b"p/d"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        e.scan(Table::Keys, b"p/", None, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(e.scan(Table::Keys, b"", None, 100).await.unwrap().len(), 6);
}

pub async fn scan_prefix_boundaries<E: Engine>(e: &E) {
    let mut b = Batch::new();
    for k in [
        b"a\xff".as_slice(),
        b"a\xff\xff",
        b"a\xff\x00",
        b"b",
        b"a",
        b"\xff",
    ] {
        b.put(Table::Meta, k.to_vec(), b"".to_vec());
    }
    e.commit(b).await.unwrap();
    let got: Vec<Vec<u8>> = e
        .scan(Table::Meta, b"a\xff", None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        got,
        vec![
            b"a\xff".to_vec(),
            b"a\xff\x00".to_vec(),
            b"a\xff\xff".to_vec()
        ]
    );
    let got = e.scan(Table::Meta, b"\xff", None, 100).await.unwrap();
    assert_eq!(got.len(), 1);
}

pub async fn empty_and_binary_keys<E: Engine>(e: &E) {
    let mut b = Batch::new();
    b.put(Table::Identities, Vec::new(), b"empty key".to_vec())
        .put(Table::Identities, vec![0, 0, 0], vec![0xff; 3])
        .put(Table::Identities, b"empty value".to_vec(), Vec::new());
    e.commit(b).await.unwrap();
    assert_eq!(
        e.get(Table::Identities, b"").await.unwrap(),
        Some(b"empty key".to_vec())
    );
    assert_eq!(
        e.get(Table::Identities, &[0, 0, 0]).await.unwrap(),
        Some(vec![0xff; 3])
    );
    assert_eq!(
        e.get(Table::Identities, b"empty value").await.unwrap(),
        Some(Vec::new())
    );
}

pub async fn large_values_round_trip<E: Engine>(e: &E) {
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut b = Batch::new();
    b.put(Table::Material, b"big".to_vec(), big.clone());
    e.commit(b).await.unwrap();
    assert_eq!(e.get(Table::Material, b"big").await.unwrap(), Some(big));
}

pub async fn concurrent_creators_exactly_one_wins<E: Engine + Clone>(e: &E) {
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let e = e.clone();
        tasks.push(tokio::spawn(async move {
            let mut b = Batch::new();
            b.require_absent(Table::Aliases, b"race".to_vec()).put(
                Table::Aliases,
                b"race".to_vec(),
                vec![i],
            );
            e.commit(b).await
        }));
    }
    let mut wins = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(()) => wins.push(i as u8),
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(wins.len(), 1, "exactly one creator wins: {wins:?}");
    assert_eq!(e.get(Table::Aliases, b"race").await.unwrap(), Some(wins));
}

pub async fn concurrent_compare_and_swap_loses_no_update<E: Engine + Clone>(e: &E) {
    let mut b = Batch::new();
    b.put(
        Table::Keys,
        b"counter".to_vec(),
        0u64.to_be_bytes().to_vec(),
    );
    e.commit(b).await.unwrap();
    let e = Arc::new(e.clone());
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let e = Arc::clone(&e);
        tasks.push(tokio::spawn(async move {
            for _ in 0..10 {
                loop {
                    let cur = e.get(Table::Keys, b"counter").await.unwrap().unwrap();
                    let n = u64::from_be_bytes(cur.as_slice().try_into().unwrap());
                    let mut b = Batch::new();
                    b.require_equals(Table::Keys, b"counter".to_vec(), cur).put(
                        Table::Keys,
                        b"counter".to_vec(),
                        (n + 1).to_be_bytes().to_vec(),
                    );
                    match e.commit(b).await {
                        Ok(()) => break,
                        Err(StoreError::Conflict) => continue,
                        Err(other) => panic!("unexpected error {other:?}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let v = e.get(Table::Keys, b"counter").await.unwrap().unwrap();
    assert_eq!(u64::from_be_bytes(v.as_slice().try_into().unwrap()), 80);
}

/// A snapshot holds every table as of one commit: while a writer moves
/// units between two tables in one batch, every snapshot's total is whole.
pub async fn snapshot_is_one_moment_of_every_table<E: Engine + Clone>(e: &E) {
    let put = |a: u64| {
        let mut b = Batch::new();
        b.put(Table::Keys, b"a".to_vec(), a.to_be_bytes().to_vec())
            .put(
                Table::Grants,
                b"b".to_vec(),
                (100 - a).to_be_bytes().to_vec(),
            );
        b
    };
    e.commit(put(0)).await.unwrap();
    let mut extra = Batch::new();
    extra.put(Table::Meta, b"m".to_vec(), b"1".to_vec());
    e.commit(extra).await.unwrap();
    let writer = {
        let e = e.clone();
        tokio::spawn(async move {
            for a in 1..=100 {
                e.commit(put(a)).await.unwrap();
            }
        })
    };
    let value = |snap: &[(Table, Vec<crate::Entry>)], table: Table, key: &[u8]| -> u64 {
        let (_, entries) = snap.iter().find(|(t, _)| *t == table).unwrap();
        let (_, v) = entries.iter().find(|(k, _)| k == key).unwrap();
        u64::from_be_bytes(v.as_slice().try_into().unwrap())
    };
    let mut seen = 0;
    while !writer.is_finished() || seen == 0 {
        let snap = e.snapshot().await.unwrap();
        assert_eq!(
            snap.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            Table::ALL.to_vec()
        );
        assert_eq!(
            value(&snap, Table::Keys, b"a") + value(&snap, Table::Grants, b"b"),
            100
        );
        seen += 1;
    }
    writer.await.unwrap();
    let last = e.snapshot().await.unwrap();
    assert_eq!(value(&last, Table::Keys, b"a"), 100);
    let (_, meta) = last.iter().find(|(t, _)| *t == Table::Meta).unwrap();
    assert_eq!(meta, &vec![(b"m".to_vec(), b"1".to_vec())]);
}

/// A purge changes nothing a reader sees: live rows stay, deleted ones stay
/// deleted, and writes made while it runs are all there after it.
pub async fn purge_keeps_every_live_row_and_loses_no_concurrent_write<E: Engine + Clone>(e: &E) {
    let mut b = Batch::new();
    for i in 0..200u32 {
        b.put(
            Table::Material,
            i.to_be_bytes().to_vec(),
            vec![i as u8; 300],
        );
    }
    b.put(Table::Meta, b"m".to_vec(), b"1".to_vec());
    e.commit(b).await.unwrap();
    let mut b = Batch::new();
    for i in (0..200u32).step_by(3) {
        b.delete(Table::Material, i.to_be_bytes().to_vec());
    }
    e.commit(b).await.unwrap();
    let writer = {
        let e = e.clone();
        tokio::spawn(async move {
            for i in 0..50u32 {
                let mut b = Batch::new();
                b.put(Table::Grants, i.to_be_bytes().to_vec(), b"during".to_vec());
                e.commit(b).await.unwrap();
            }
        })
    };
    e.purge().await.unwrap();
    e.purge().await.unwrap();
    writer.await.unwrap();
    for i in 0..200u32 {
        let got = e.get(Table::Material, &i.to_be_bytes()).await.unwrap();
        if i % 3 == 0 {
            assert_eq!(got, None, "row {i} was deleted");
        } else {
            assert_eq!(got, Some(vec![i as u8; 300]), "row {i}");
        }
    }
    assert_eq!(
        e.scan(Table::Grants, b"", None, 100).await.unwrap().len(),
        50
    );
    assert_eq!(e.get(Table::Meta, b"m").await.unwrap(), Some(b"1".to_vec()));
    // Still a working store.
    let mut b = Batch::new();
    b.require_absent(Table::Meta, b"after".to_vec()).put(
        Table::Meta,
        b"after".to_vec(),
        b"1".to_vec(),
    );
    e.commit(b).await.unwrap();
}
