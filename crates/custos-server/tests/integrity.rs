//! Records that decide behaviour cannot be edited into obedience. A key
//! record (with its public key) is not sealed, so here an attacker with
//! write access to the store swaps one key's public key for another's,
//! whose private key they hold: Verify would then accept their signatures,
//! and RSA Encrypt would encrypt to them. Custos checks a public key
//! against the key's sealed private key before it trusts it, and refuses.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use common::{client, error_of, start};
use custos_store::{Batch, Engine, Table};

/// Replaces the public key in `victim`'s record with `attacker`'s, as an
/// edit of the store file would, in a stopped server's data directory.
async fn swap_public_key(data_dir: &std::path::Path, victim: &str, attacker: &str) {
    let engine =
        custos_store::redb::RedbEngine::open(&data_dir.join("custos.redb")).expect("store");
    let rows = engine
        .scan(Table::Keys, b"", None, 1000)
        .await
        .expect("scan");
    let record = |id: &str| {
        rows.iter()
            .find(|(_, v)| {
                serde_json::from_slice::<serde_json::Value>(v).is_ok_and(|r| r["key_id"] == id)
            })
            .cloned()
            .unwrap_or_else(|| panic!("no record of {id}"))
    };
    let (row, bytes) = record(victim);
    let (_, theirs) = record(attacker);
    let mut edited: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    let theirs: serde_json::Value = serde_json::from_slice(&theirs).expect("json");
    assert!(edited["public_key"].is_string(), "{edited}");
    edited["public_key"] = theirs["public_key"].clone();
    let mut batch = Batch::new();
    batch.put(Table::Keys, row, serde_json::to_vec(&edited).expect("json"));
    engine.commit(batch).await.expect("commit");
}

async fn new_key(kms: &aws_sdk_kms::Client, spec: KeySpec, usage: KeyUsageType) -> String {
    kms.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swapped_public_key_is_refused_not_trusted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let victim = new_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let attacker = new_key(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let rsa_victim = new_key(&kms, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    let rsa_attacker = new_key(&kms, KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt).await;
    // The "attacker's" signature (their private key is in this store only
    // so that the test can sign with it).
    let forged = kms
        .sign()
        .key_id(&attacker)
        .message(Blob::new(b"pay mallory".to_vec()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Sign")
        .signature()
        .expect("signature")
        .clone();
    server.shutdown().await;

    swap_public_key(dir.path(), &victim, &attacker).await;
    swap_public_key(dir.path(), &rsa_victim, &rsa_attacker).await;

    let server = start(dir.path()).await;
    let kms = client(&server);
    let verify = kms
        .verify()
        .key_id(&victim)
        .message(Blob::new(b"pay mallory".to_vec()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .signature(forged)
        .send()
        .await
        .expect_err("the forged signature is not accepted");
    assert_eq!(
        (error_of(&verify).0.as_str(), error_of(&verify).2),
        ("KMSInternalException", 500)
    );
    let public = kms
        .get_public_key()
        .key_id(&victim)
        .send()
        .await
        .expect_err("the swapped public key is not handed out");
    assert_eq!(error_of(&public).0, "KMSInternalException");
    let encrypt = kms
        .encrypt()
        .key_id(&rsa_victim)
        .plaintext(Blob::new(b"for the victim only".to_vec()))
        .encryption_algorithm(aws_sdk_kms::types::EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .expect_err("nothing is encrypted to the attacker's key");
    assert_eq!(error_of(&encrypt).0, "KMSInternalException");

    // The keys left alone work as before.
    kms.get_public_key()
        .key_id(&attacker)
        .send()
        .await
        .expect("an intact key's public key");
    server.shutdown().await;
}
