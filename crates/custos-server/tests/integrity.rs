//! Records that decide behaviour cannot be edited into obedience. Key and
//! alias records are stored in the clear, each with an HMAC tag under a
//! key derived from the store key, bound to its row. Here an attacker with
//! write access to the store file re-enables a disabled key, widens nothing
//! but a state field, swaps a public key for one whose private key they
//! hold, points an alias at another key, and moves a whole record to
//! another key's row: every one is refused with `KMSInternalException`
//! (and recorded as such in the audit log), never obeyed.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use common::{client, error_of, new_key_of, start, without_retries};
use custos_store::{Batch, Engine, Table};
use serde_json::Value;

/// The stored rows of `table` in a stopped server's data directory.
async fn rows(engine: &impl Engine, table: Table) -> Vec<(Vec<u8>, Value)> {
    engine
        .scan(table, b"", None, 10_000)
        .await
        .expect("scan")
        .into_iter()
        .map(|(row, bytes)| (row, serde_json::from_slice(&bytes).expect("stored JSON")))
        .collect()
}

fn row_of(rows: &[(Vec<u8>, Value)], field: &str, value: &str) -> (Vec<u8>, Value) {
    rows.iter()
        .find(|(_, v)| v["record"][field] == value)
        .cloned()
        .unwrap_or_else(|| panic!("no record with {field} = {value}"))
}

async fn put(engine: &impl Engine, table: Table, row: Vec<u8>, stored: &Value) {
    let mut batch = Batch::new();
    batch.put(table, row, serde_json::to_vec(stored).expect("json"));
    engine.commit(batch).await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_swapped_and_moved_records_are_refused_not_obeyed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let disabled = new_key_of(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    kms.disable_key()
        .key_id(&disabled)
        .send()
        .await
        .expect("DisableKey");
    let victim = new_key_of(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let attacker = new_key_of(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let aliased = new_key_of(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let moved_over = new_key_of(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let intact = new_key_of(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    kms.create_alias()
        .alias_name("alias/payments")
        .target_key_id(&aliased)
        .send()
        .await
        .expect("CreateAlias");
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

    {
        let engine =
            custos_store::redb::RedbEngine::open(&dir.path().join("custos.redb")).expect("store");
        let keys = rows(&engine, Table::Keys).await;
        // A disabled key re-enabled by an edit of its state.
        let (row, mut stored) = row_of(&keys, "key_id", &disabled);
        assert_eq!(stored["record"]["state"], "Disabled");
        stored["record"]["state"] = "Enabled".into();
        put(&engine, Table::Keys, row, &stored).await;
        // A public key swapped for the attacker's.
        let (row, mut stored) = row_of(&keys, "key_id", &victim);
        let (_, theirs) = row_of(&keys, "key_id", &attacker);
        stored["record"]["public_key"] = theirs["record"]["public_key"].clone();
        put(&engine, Table::Keys, row, &stored).await;
        // A whole, authentic record moved onto another key's row.
        let (row, _) = row_of(&keys, "key_id", &moved_over);
        let (_, other) = row_of(&keys, "key_id", &intact);
        put(&engine, Table::Keys, row, &other).await;
        // An alias pointed at another key.
        let aliases = rows(&engine, Table::Aliases).await;
        let (row, mut stored) = row_of(&aliases, "alias_name", "alias/payments");
        stored["record"]["key_id"] = intact.clone().into();
        put(&engine, Table::Aliases, row, &stored).await;
    }

    let server = start(dir.path()).await;
    // One attempt per request: each refusal is one audit event.
    let kms = without_retries(&client(&server));
    let encrypt = |key: &str| {
        kms.encrypt()
            .key_id(key)
            .plaintext(Blob::new(b"secret".to_vec()))
            .send()
    };
    for key in [disabled.as_str(), moved_over.as_str(), "alias/payments"] {
        let e = encrypt(key)
            .await
            .expect_err("an edited record is not obeyed");
        assert_eq!(
            (error_of(&e).0.as_str(), error_of(&e).2),
            ("KMSInternalException", 500),
            "{key}"
        );
    }
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
    assert_eq!(error_of(&verify).0, "KMSInternalException");
    let public = kms
        .get_public_key()
        .key_id(&victim)
        .send()
        .await
        .expect_err("the swapped public key is not handed out");
    assert_eq!(error_of(&public).0, "KMSInternalException");
    // The record of a key nobody touched still works.
    encrypt(&intact).await.expect("an intact key encrypts");
    kms.get_public_key()
        .key_id(&attacker)
        .send()
        .await
        .expect("an intact key's public key");
    server.shutdown().await;

    // Each refusal is in the audit log, as what it was.
    let audit = dir.path().join("audit");
    let mut refusals = 0;
    custos_audit::chain::for_each_event(&audit, |_, event| {
        if event["errorCode"] == "KMSInternalException" {
            refusals += 1;
        }
    })
    .expect("audit log");
    assert_eq!(refusals, 5);
}
