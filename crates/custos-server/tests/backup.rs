//! Backups as an operator takes them: online, under load, through the
//! operator socket; restored into an empty data directory with the same
//! root key, the server decrypts every ciphertext acknowledged before the
//! backup began, and every key the backup holds is whole.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_kms::primitives::Blob;
use custos_server::operator::request;

/// What a load task saw acknowledged, and whether before the backup began.
#[derive(Default)]
struct Acked {
    keys: Vec<(String, bool)>,
    ciphertexts: Vec<(Vec<u8>, Vec<u8>, bool)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_everything_acknowledged_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = common::start(dir.path()).await;
    let kms = common::client(&server);
    let started = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for task in 0..3u8 {
        let (kms, started, stop) = (kms.clone(), Arc::clone(&started), Arc::clone(&stop));
        load.push(tokio::spawn(async move {
            let mut acked = Acked::default();
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let key = common::new_key(&kms).await;
                acked
                    .keys
                    .push((key.clone(), !started.load(Ordering::SeqCst)));
                for _ in 0..3 {
                    n += 1;
                    let plain = format!("task {task} message {n}").into_bytes();
                    let blob = common::encrypt(&kms, &key, &plain).await;
                    // Read after the answer: `true` means acknowledged
                    // before the backup was asked for.
                    let before = !started.load(Ordering::SeqCst);
                    acked.ciphertexts.push((blob.into_inner(), plain, before));
                }
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    started.store(true, Ordering::SeqCst);
    let reply = request(&server.operator_socket, b"backup")
        .await
        .expect("backup");
    assert_eq!(reply.error, None);
    // The load goes on a little after the snapshot, then stops.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Acked::default();
    for task in load {
        let a = task.await.expect("load task");
        acked.keys.extend(a.keys);
        acked.ciphertexts.extend(a.ciphertexts);
    }
    let before = acked.ciphertexts.iter().filter(|c| c.2).count();
    assert!(before > 0 && before < acked.ciphertexts.len(), "{before}");
    server.shutdown().await;

    // Into an empty directory, with the same (development) root key.
    let target = tempfile::tempdir().expect("target");
    std::fs::copy(dir.path().join("root.key"), target.path().join("root.key")).expect("root key");
    let restored = custos_server::restore(&common::config(target.path()), &reply.data, &[])
        .await
        .expect("restore");
    assert!(restored.header.audit_head.is_some());
    // Only once.
    assert!(
        custos_server::restore(&common::config(target.path()), &reply.data, &[])
            .await
            .is_err()
    );
    let server = common::start(target.path()).await;
    let kms = common::client(&server);
    for (blob, plain, _) in acked.ciphertexts.iter().filter(|c| c.2) {
        let back = kms
            .decrypt()
            .ciphertext_blob(Blob::new(blob.clone()))
            .send()
            .await
            .expect("a ciphertext acknowledged before the backup decrypts");
        assert_eq!(
            back.plaintext.expect("plaintext").as_ref(),
            plain.as_slice()
        );
    }
    for (key, _) in acked.keys.iter().filter(|k| k.1) {
        kms.describe_key().key_id(key).send().await.expect("key");
    }
    // Whatever the snapshot holds is whole: every listed key encrypts.
    let listed = kms.list_keys().limit(1000).send().await.expect("ListKeys");
    let listed = listed.keys.unwrap_or_default();
    assert!(listed.len() >= acked.keys.iter().filter(|k| k.1).count());
    for key in listed {
        let id = key.key_id.expect("id");
        common::encrypt(&kms, &id, b"whole").await;
    }
    // The clients' CA bundle still holds: the same CA came back.
    assert_eq!(
        std::fs::read(target.path().join("tls/ca.pem")).expect("ca"),
        std::fs::read(dir.path().join("tls/ca.pem")).expect("ca")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_server_takes_no_backup_and_a_backup_is_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = common::start(dir.path()).await;
    let sealed = request(&server.operator_socket, b"seal")
        .await
        .expect("seal");
    assert!(sealed.status.sealed);
    let refused = request(&server.operator_socket, b"backup")
        .await
        .expect("answer");
    assert!(refused.error.expect("refused").contains("sealed"));
    assert!(refused.data.is_empty());
    let opened = request(&server.operator_socket, b"unseal")
        .await
        .expect("unseal");
    assert!(!opened.status.sealed);
    let taken = request(&server.operator_socket, b"backup")
        .await
        .expect("backup");
    assert_eq!(taken.error, None);
    assert_eq!(taken.backup_bytes, Some(taken.data.len() as u64));
    server.shutdown().await;
    let log = std::fs::read_dir(dir.path().join("audit"))
        .expect("audit dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .map(|p| std::fs::read_to_string(p).expect("log"))
        .collect::<String>();
    assert_eq!(log.matches(r#""eventName":"Backup""#).count(), 1);
}
