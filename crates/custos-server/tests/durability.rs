//! What must survive a restart, and what must never reach the disk.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use base64::Engine as _;
use common::{SECRET_KEY, client, config, error_of, start};
use custos_kms::OpenError;
use custos_kms::root_key::RootKeyError;
use custos_server::StartError;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_key_alias_and_ciphertext() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ciphertexts = Vec::new();
    let mut ids = Vec::new();
    {
        let server = start(dir.path()).await;
        let kms = client(&server);
        for i in 0..3 {
            let id = kms
                .create_key()
                .description(format!("key {i}"))
                .send()
                .await
                .expect("CreateKey")
                .key_metadata()
                .expect("meta")
                .key_id()
                .to_owned();
            kms.create_alias()
                .alias_name(format!("alias/k{i}"))
                .target_key_id(&id)
                .send()
                .await
                .expect("CreateAlias");
            let plaintext = format!("secret number {i}").into_bytes();
            let blob = kms
                .encrypt()
                .key_id(format!("alias/k{i}"))
                .plaintext(Blob::new(plaintext.clone()))
                .encryption_context("i", i.to_string())
                .send()
                .await
                .expect("Encrypt")
                .ciphertext_blob()
                .expect("blob")
                .clone();
            ciphertexts.push((i, blob, plaintext));
            ids.push(id);
        }
        server.shutdown().await;
    }
    let server = start(dir.path()).await;
    let kms = client(&server);
    for (i, id) in ids.iter().enumerate() {
        let meta = kms
            .describe_key()
            .key_id(format!("alias/k{i}"))
            .send()
            .await
            .expect("DescribeKey");
        let meta = meta.key_metadata().expect("meta");
        assert_eq!(meta.key_id(), id);
        assert_eq!(meta.description(), Some(format!("key {i}").as_str()));
    }
    for (i, blob, plaintext) in ciphertexts {
        let out = kms
            .decrypt()
            .ciphertext_blob(blob)
            .encryption_context("i", i.to_string())
            .send()
            .await
            .expect("Decrypt after restart");
        assert_eq!(out.plaintext().expect("pt").as_ref(), &plaintext[..]);
    }
    let listed = kms.list_keys().send().await.expect("ListKeys");
    assert_eq!(listed.keys().len(), 3);
    server.shutdown().await;
}

/// Every file below `dir`, except the development root key file (which
/// holds the root key by design), as bytes.
fn data_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != "root.key") {
                out.push((
                    path.display().to_string(),
                    std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    assert!(
        out.len() >= 3,
        "expected the store and the TLS files: {out:?}"
    );
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The forms a secret could take on disk.
fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .into_bytes(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_data_key_secret_or_plaintext_reaches_the_data_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut secrets: Vec<(String, Vec<u8>)> =
        vec![("bootstrap secret".into(), SECRET_KEY.as_bytes().to_vec())];
    {
        let server = start(dir.path()).await;
        let kms = client(&server);
        let id = common::new_key(&kms).await;
        for _ in 0..20 {
            let dk = kms
                .generate_data_key()
                .key_id(&id)
                .key_spec(DataKeySpec::Aes256)
                .send()
                .await
                .expect("GenerateDataKey");
            secrets.push((
                "data key".into(),
                dk.plaintext().expect("pt").as_ref().to_vec(),
            ));
        }
        let marker = b"CUSTOS-KNOWN-PLAINTEXT-7f3a9c".to_vec();
        kms.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(marker.clone()))
            .send()
            .await
            .expect("Encrypt");
        secrets.push(("plaintext".into(), marker));
        server.shutdown().await;
    }
    let files = data_files(dir.path());
    for (what, secret) in &secrets {
        for form in encodings(secret) {
            for (path, bytes) in &files {
                assert!(!contains(bytes, &form), "{what} found in {path}");
            }
        }
    }
    // The data directory and the root key file are private.
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(dir.path()) & 0o077, 0, "data dir is private");
    assert_eq!(mode(&dir.path().join("root.key")), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_opened_with_another_root_key_decrypts_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob;
    {
        let server = start(dir.path()).await;
        let kms = client(&server);
        let id = kms.create_key().send().await.expect("CreateKey");
        blob = kms
            .encrypt()
            .key_id(id.key_metadata().expect("meta").key_id())
            .plaintext(Blob::new(b"only for the right root key".to_vec()))
            .send()
            .await
            .expect("Encrypt")
            .ciphertext_blob()
            .expect("blob")
            .clone();
        server.shutdown().await;
    }
    // Copy everything but the root key.
    let copy = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        dir.path().join("custos.redb"),
        copy.path().join("custos.redb"),
    )
    .expect("copy");
    std::fs::create_dir(copy.path().join("tls")).expect("mkdir");
    for entry in std::fs::read_dir(dir.path().join("tls")).expect("tls dir") {
        let entry = entry.expect("entry");
        std::fs::copy(
            entry.path(),
            copy.path().join("tls").join(entry.file_name()),
        )
        .expect("copy");
    }
    std::fs::set_permissions(copy.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    // Without a key file, the development provider does not make one for a
    // store that exists.
    let refused = custos_server::start(config(copy.path())).await;
    assert!(
        matches!(refused, Err(StartError::NoDevelopmentKey)),
        "{refused:?}"
    );
    assert!(!copy.path().join("root.key").exists());
    // With a root key of its own, the store key does not unwrap.
    custos_kms::root_key::file::FileProvider::open_or_create(&copy.path().join("root.key"))
        .expect("another root key");
    let refused = custos_server::start(config(copy.path())).await;
    assert!(
        matches!(
            refused,
            Err(StartError::Open(OpenError::RootKey(RootKeyError::WrongKey)))
        ),
        "{refused:?}"
    );

    // The original, with its own root key, still decrypts.
    let server = start(dir.path()).await;
    let kms = client(&server);
    let out = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(
        out.plaintext().expect("pt").as_ref(),
        b"only for the right root key"
    );
    server.shutdown().await;

    // A ciphertext taken to another installation names a key that is not
    // there.
    let other = tempfile::tempdir().expect("tempdir");
    let server = start(other.path()).await;
    let kms = client(&server);
    let e = kms
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .expect_err("elsewhere");
    assert_eq!(error_of(&e).0, "AccessDeniedException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_key_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    start(dir.path()).await.shutdown().await;
    let key = dir.path().join("root.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let refused = custos_server::start(config(dir.path())).await;
    assert!(
        matches!(
            refused,
            Err(StartError::RootKey(RootKeyError::Permissions { .. }))
        ),
        "{refused:?}"
    );
}
