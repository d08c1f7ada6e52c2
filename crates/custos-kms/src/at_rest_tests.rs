//! Key material, the store key and identity secrets never reach the store
//! in plaintext: create them, read them back through the domain, then scan
//! every byte of the store file for them.

use std::sync::Arc;

use base64::Engine as _;
use custos_store::redb::RedbEngine;
use custos_wire::shapes::CreateKeyRequest;

use crate::authz::access::Authorized;
use crate::root_key::file::FileProvider;
use crate::{Caller, Kms, Region, Settings, SystemClock};

fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .into_bytes(),
    ]
}

#[tokio::test]
async fn the_store_file_holds_no_secret_in_any_encoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_path = dir.path().join("store.redb");
    let region = Region::parse("us-east-1").expect("region");
    let mut secrets: Vec<(&str, Vec<u8>)> = Vec::new();
    {
        let root = FileProvider::open_or_create(&dir.path().join("root.key")).expect("root");
        let engine = RedbEngine::open(&store_path).expect("store");
        let kms = Kms::open(
            engine.clone(),
            &root,
            Settings {
                account_id: None,
                regions: vec![region.clone()],
                clock: Arc::new(SystemClock::new()),
            },
        )
        .await
        .expect("open");
        let caller = Caller::for_tests(kms.account().clone(), region.clone(), "test");
        for _ in 0..5 {
            let created = kms
                .create_key(&caller, CreateKeyRequest::default())
                .await
                .expect("create");
            let key = kms
                .resolve(&caller, &created.key_metadata.key_id)
                .await
                .expect("resolve");
            let material = kms
                .material(&Authorized::for_test(key), 1)
                .await
                .expect("material");
            secrets.push(("key material", material.expose_secret().to_vec()));
        }
        // Private keys of every kind, and an HMAC key: only sealed bytes of
        // them reach the store (the public keys are in the key records).
        for (spec, usage) in [
            ("RSA_2048", "SIGN_VERIFY"),
            ("RSA_2048", "ENCRYPT_DECRYPT"),
            ("ECC_NIST_P256", "SIGN_VERIFY"),
            ("ECC_NIST_P384", "KEY_AGREEMENT"),
            ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"),
            ("ML_DSA_44", "SIGN_VERIFY"),
            ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE"),
            ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ] {
            let created = kms
                .create_key(
                    &caller,
                    CreateKeyRequest {
                        key_spec: Some(spec.into()),
                        key_usage: Some(usage.into()),
                        ..CreateKeyRequest::default()
                    },
                )
                .await
                .expect("create");
            let key = kms
                .resolve(&caller, &created.key_metadata.key_id)
                .await
                .expect("resolve");
            let material = kms
                .key_material(&Authorized::for_test(key), 1)
                .await
                .expect("material");
            let encoded = material.encode().expect("encode");
            // Without the format byte: the private key bytes themselves.
            secrets.push(("private key", encoded.expose_secret()[1..].to_vec()));
        }
        secrets.push(("store key", kms.sealer().store_key_for_tests().to_vec()));
        let iam = custos_iam::Iam::new(engine, kms.store_sealer(), kms.shared_clock());
        let bootstrap = iam
            .ensure_bootstrap(kms.account(), None)
            .await
            .expect("bootstrap");
        let secret = bootstrap.new_secret.expect("generated secret");
        secrets.push(("identity secret", secret.expose_secret().to_vec()));
        // The administrator is stored: the account lists one user.
        let accounts = iam.accounts().await.expect("accounts");
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].users, 1);
    }
    let bytes = std::fs::read(&store_path).expect("read store");
    assert!(bytes.len() > 1000);
    for (what, secret) in &secrets {
        assert!(
            secret.len() >= 32,
            "{what} is long enough not to match by chance"
        );
        for form in forms(secret) {
            assert!(
                !bytes.windows(form.len()).any(|w| w == form.as_slice()),
                "{what} found in the store file"
            );
        }
    }
}
