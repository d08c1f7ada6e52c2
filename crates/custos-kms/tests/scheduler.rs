//! The scheduler under an injected clock: deletion never early (not even
//! when the wall clock jumps), surviving restarts, losing to a cancel;
//! automatic rotation on time, old ciphertexts still decrypting.

use std::path::Path;
use std::sync::Arc;

use custos_kms::root_key::file::FileProvider;
use custos_kms::{Caller, Kms, KmsError, ManualClock, Region, Settings};
use custos_store::redb::RedbEngine;
use custos_store::{Engine, Table};
use custos_wire::SecretBlob;
use custos_wire::shapes::{
    CreateAliasRequest, CreateKeyRequest, DecryptRequest, DescribeKeyRequest,
    EnableKeyRotationRequest, EncryptRequest, KeyIdRequest, ScheduleKeyDeletionRequest,
};

const DAY: i64 = 24 * 60 * 60 * 1000;
const START: i64 = 1_800_000_000_000;

struct Rig {
    kms: Kms<RedbEngine>,
    engine: RedbEngine,
    clock: ManualClock,
    caller: Caller,
}

async fn open(dir: &Path, clock: ManualClock) -> Rig {
    let engine = RedbEngine::open(&dir.join("store.redb")).expect("store");
    let root = FileProvider::open_or_create(&dir.join("root.key")).expect("root key");
    let region = Region::parse("us-east-1").expect("region");
    let kms = Kms::open(
        engine.clone(),
        &root,
        Settings {
            account_id: None,
            regions: vec![region.clone()],
            clock: Arc::new(clock.clone()),
        },
    )
    .await
    .expect("open");
    let caller = Caller::for_tests(kms.account().clone(), region, "test");
    Rig {
        kms,
        engine,
        clock,
        caller,
    }
}

impl Rig {
    async fn create_key(&self) -> String {
        self.kms
            .create_key(&self.caller, CreateKeyRequest::default())
            .await
            .expect("create")
            .key_metadata
            .key_id
    }

    async fn exists(&self, id: &str) -> bool {
        let req = DescribeKeyRequest {
            key_id: Some(id.to_owned()),
            grant_tokens: None,
        };
        match self.kms.describe_key(&self.caller, req).await {
            Ok(_) => true,
            Err(KmsError::NotFound(_)) => false,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    async fn schedule_deletion(&self, id: &str, days: i64) {
        self.kms
            .schedule_key_deletion(
                &self.caller,
                ScheduleKeyDeletionRequest {
                    key_id: Some(id.to_owned()),
                    pending_window_in_days: Some(days),
                },
            )
            .await
            .expect("schedule");
    }

    async fn encrypt(&self, id: &str, plaintext: &[u8]) -> Vec<u8> {
        self.kms
            .encrypt(
                &self.caller,
                EncryptRequest {
                    key_id: Some(id.to_owned()),
                    plaintext: Some(SecretBlob::new(plaintext.to_vec())),
                    ..EncryptRequest::default()
                },
            )
            .await
            .expect("encrypt")
            .ciphertext_blob
            .0
    }

    async fn decrypt(&self, blob: &[u8]) -> Vec<u8> {
        let out = self
            .kms
            .decrypt(
                &self.caller,
                DecryptRequest {
                    ciphertext_blob: Some(custos_wire::Blob(blob.to_vec())),
                    ..DecryptRequest::default()
                },
            )
            .await
            .expect("decrypt");
        out.plaintext.0.to_vec()
    }
}

#[tokio::test]
async fn deletion_happens_on_time_and_never_early_even_when_the_clock_jumps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rig = open(dir.path(), ManualClock::new(START)).await;
    let id = rig.create_key().await;
    rig.kms
        .create_alias(
            &rig.caller,
            CreateAliasRequest {
                alias_name: Some("alias/doomed".into()),
                target_key_id: Some(id.clone()),
            },
        )
        .await
        .expect("alias");
    let material_prefix = format!("us-east-1/{id}/").into_bytes();
    let sealed = rig
        .engine
        .scan(Table::Material, &material_prefix, None, 10)
        .await
        .expect("scan");
    assert_eq!(sealed.len(), 1);
    let in_file = |tail: &[u8]| {
        let bytes = std::fs::read(dir.path().join("store.redb")).expect("read");
        bytes.windows(tail.len()).any(|w| w == tail)
    };
    // The scan below can see sealed material: it is there now.
    assert!(
        in_file(&sealed[0].1[13..]),
        "the scan finds live sealed material"
    );
    let alias_row = format!("us-east-1/{}/alias/doomed", rig.kms.account());
    assert_eq!(
        rig.engine
            .scan(Table::Aliases, alias_row.as_bytes(), None, 10)
            .await
            .expect("scan")
            .len(),
        1,
        "the alias row is where the check below looks"
    );
    rig.schedule_deletion(&id, 7).await;

    rig.clock.advance_ms(7 * DAY - 1);
    let early = rig.kms.run_scheduled_work().await.expect("pass");
    assert_eq!(early.deleted, 0);
    assert!(rig.exists(&id).await, "one millisecond early");
    // The pass counts the keys it read, by state.
    assert_eq!(early.keys_by_state.get("PendingDeletion"), Some(&1));

    // The wall clock jumps 100 days ahead; no time has really passed.
    rig.clock.set_wall_ms(START + 107 * DAY);
    assert_eq!(rig.kms.run_scheduled_work().await.expect("pass").deleted, 0);
    assert!(rig.exists(&id).await, "a clock jump must not delete");

    rig.clock.advance_ms(1);
    let due = rig.kms.run_scheduled_work().await.expect("pass");
    assert_eq!(due.deleted, 1);
    assert!(!rig.exists(&id).await);
    // A key the pass destroyed is not counted.
    assert_eq!(due.keys_by_state.get("PendingDeletion"), Some(&0));
    let material_left = rig
        .engine
        .scan(Table::Material, &material_prefix, None, 10)
        .await
        .expect("scan");
    assert!(material_left.is_empty(), "every material version is gone");
    assert!(
        rig.engine
            .scan(Table::Aliases, alias_row.as_bytes(), None, 10)
            .await
            .expect("scan")
            .is_empty(),
        "the alias went with the key"
    );
    drop(rig);
    // No byte of the sealed material is left in the store file.
    for (_, sealed_material) in sealed {
        assert!(
            !in_file(&sealed_material[13..]),
            "sealed material still in the store file"
        );
    }
}

#[tokio::test]
async fn the_waiting_period_survives_restarts_and_downtime_only_delays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id;
    {
        let rig = open(dir.path(), ManualClock::new(START)).await;
        id = rig.create_key().await;
        rig.schedule_deletion(&id, 7).await;
        rig.clock.advance_ms(3 * DAY);
        rig.kms.run_scheduled_work().await.expect("pass");
        assert!(rig.exists(&id).await);
    }
    // Restarted ten days later by the wall clock: the downtime is not
    // counted, so four more days of running are needed.
    let clock = ManualClock::new(START + 13 * DAY);
    let rig = open(dir.path(), clock).await;
    assert_eq!(rig.kms.run_scheduled_work().await.expect("pass").deleted, 0);
    assert!(rig.exists(&id).await, "downtime does not count");
    rig.clock.advance_ms(4 * DAY - 1);
    assert_eq!(rig.kms.run_scheduled_work().await.expect("pass").deleted, 0);
    rig.clock.advance_ms(1);
    assert_eq!(rig.kms.run_scheduled_work().await.expect("pass").deleted, 1);
    assert!(!rig.exists(&id).await);
}

#[tokio::test]
async fn a_cancelled_deletion_never_happens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rig = open(dir.path(), ManualClock::new(START)).await;
    let id = rig.create_key().await;
    let blob = rig.encrypt(&id, b"keep me").await;
    rig.schedule_deletion(&id, 7).await;
    rig.clock.advance_ms(6 * DAY);
    rig.kms
        .cancel_key_deletion(
            &rig.caller,
            KeyIdRequest {
                key_id: Some(id.clone()),
            },
        )
        .await
        .expect("cancel");
    rig.clock.advance_ms(60 * DAY);
    assert_eq!(rig.kms.run_scheduled_work().await.expect("pass").deleted, 0);
    rig.kms
        .enable_key(
            &rig.caller,
            KeyIdRequest {
                key_id: Some(id.clone()),
            },
        )
        .await
        .expect("enable");
    assert_eq!(rig.decrypt(&blob).await, b"keep me");
}

#[tokio::test]
async fn automatic_rotation_on_time_keeps_old_ciphertexts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rig = open(dir.path(), ManualClock::new(START)).await;
    let id = rig.create_key().await;
    let before = rig.encrypt(&id, b"before rotation").await;
    rig.kms
        .enable_key_rotation(
            &rig.caller,
            EnableKeyRotationRequest {
                key_id: Some(id.clone()),
                rotation_period_in_days: Some(90),
            },
        )
        .await
        .expect("enable rotation");
    rig.clock.advance_ms(90 * DAY - 1);
    assert_eq!(rig.kms.run_scheduled_work().await.expect("pass").rotated, 0);
    rig.clock.advance_ms(1);
    assert_eq!(rig.kms.run_scheduled_work().await.expect("pass").rotated, 1);
    let after = rig.encrypt(&id, b"after rotation").await;
    // The blob names its material version: 1 before, 2 after.
    assert_eq!(&before[17..21], &1u32.to_be_bytes());
    assert_eq!(&after[17..21], &2u32.to_be_bytes());
    let status = rig
        .kms
        .get_key_rotation_status(
            &rig.caller,
            KeyIdRequest {
                key_id: Some(id.clone()),
            },
        )
        .await
        .expect("status");
    assert_eq!(
        status.next_rotation_date.map(|t| t.millis()),
        Some(START + 180 * DAY)
    );
    drop(rig);
    let rig = open(dir.path(), ManualClock::new(START + 91 * DAY)).await;
    assert_eq!(rig.decrypt(&before).await, b"before rotation");
    assert_eq!(rig.decrypt(&after).await, b"after rotation");
}

/// Deletion destroys: on a store of 10,000 keys, whose pages have been
/// rewritten many times over (every insert copies a leaf), no byte of a
/// deleted key's sealed material is left anywhere in the store file once
/// its waiting period ends: not in a live page, a free page or an older
/// copy of a page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_material_leaves_no_copy_in_a_store_of_ten_thousand_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rig = open(dir.path(), ManualClock::new(START)).await;
    let mut ids = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        ids.push(rig.create_key().await);
    }
    let doomed: Vec<&String> = ids.iter().step_by(500).collect();
    let mut sealed = Vec::new();
    for id in &doomed {
        let prefix = format!("us-east-1/{id}/").into_bytes();
        let rows = rig
            .engine
            .scan(Table::Material, &prefix, None, 10)
            .await
            .expect("scan");
        assert_eq!(rows.len(), 1);
        sealed.push(rows[0].1.clone());
        rig.schedule_deletion(id, 7).await;
    }
    let found = |sealed: &[Vec<u8>]| {
        let bytes = std::fs::read(dir.path().join("store.redb")).expect("read");
        sealed
            .iter()
            .filter(|s| bytes.windows(s.len() - 13).any(|w| w == &s[13..]))
            .count()
    };
    assert_eq!(found(&sealed), sealed.len(), "the scan sees live material");
    rig.clock.advance_ms(7 * DAY);
    let done = rig.kms.run_scheduled_work().await.expect("pass");
    assert_eq!(done.deleted, doomed.len());
    assert!(done.purged);
    assert_eq!(found(&sealed), 0, "sealed material left in the store file");
    // Nothing left to purge: the next pass does not rewrite the store.
    assert!(!rig.kms.run_scheduled_work().await.expect("pass").purged);
    // The other keys are untouched.
    for id in ids.iter().skip(1).step_by(997) {
        assert!(rig.exists(id).await);
    }
}
