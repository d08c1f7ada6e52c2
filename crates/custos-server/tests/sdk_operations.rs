//! Every operation of this stage, success and error paths, through the
//! official `aws-sdk-kms` client against the real server over HTTPS.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeySpec, KeyUsageType, Tag};
use common::{ACCOUNT, REGION, arn, client, client_with, error_of, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_and_describe_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);

    let created = kms
        .create_key()
        .description("my key")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("core")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("CreateKey");
    let meta = created.key_metadata().expect("metadata");
    let id = meta.key_id().to_owned();
    assert_eq!(id.len(), 36);
    assert_eq!(meta.arn(), Some(arn(&id).as_str()));
    assert_eq!(meta.aws_account_id(), Some(ACCOUNT));
    assert_eq!(meta.description(), Some("my key"));
    assert!(meta.enabled());
    assert_eq!(meta.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(meta.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(meta.key_state().map(|s| s.as_str()), Some("Enabled"));
    assert_eq!(meta.origin().map(|o| o.as_str()), Some("AWS_KMS"));
    assert_eq!(meta.key_manager().map(|o| o.as_str()), Some("CUSTOMER"));
    assert_eq!(meta.multi_region(), Some(false));
    assert_eq!(
        meta.encryption_algorithms()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["SYMMETRIC_DEFAULT"]
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let created_at = meta.creation_date().expect("date").secs();
    assert!((now - created_at).abs() < 60, "{created_at} vs {now}");
    assert_eq!(meta.current_key_material_id().map(str::len), Some(64));

    kms.create_alias()
        .alias_name("alias/described")
        .target_key_id(&id)
        .send()
        .await
        .expect("CreateAlias");
    for form in [
        id.clone(),
        arn(&id),
        "alias/described".to_owned(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/described"),
    ] {
        let d = kms
            .describe_key()
            .key_id(&form)
            .send()
            .await
            .expect("DescribeKey");
        assert_eq!(
            d.key_metadata().map(|m| m.key_id()),
            Some(id.as_str()),
            "{form}"
        );
    }

    let e = kms
        .describe_key()
        .key_id("nope")
        .send()
        .await
        .expect_err("bad id");
    assert_eq!(
        error_of(&e),
        (
            "NotFoundException".into(),
            "Invalid keyId 'nope'".into(),
            400
        )
    );
    let missing = "00000000-0000-4000-8000-000000000000";
    let e = kms
        .describe_key()
        .key_id(missing)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(
        error_of(&e),
        (
            "NotFoundException".into(),
            format!("Key '{}' does not exist", arn(missing)),
            400
        )
    );
    let e = kms
        .describe_key()
        .key_id("alias/none")
        .send()
        .await
        .expect_err("no alias");
    assert_eq!(
        error_of(&e).1,
        format!("Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/none is not found.")
    );
    let other_region = format!("arn:aws:kms:ap-southeast-1:{ACCOUNT}:key/{id}");
    let e = kms
        .describe_key()
        .key_id(other_region)
        .send()
        .await
        .expect_err("region");
    assert_eq!(error_of(&e).1, "Invalid arn ap-southeast-1");
    let e = kms
        .describe_key()
        .key_id("")
        .send()
        .await
        .expect_err("empty");
    assert_eq!(
        error_of(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
                .into(),
            400
        )
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_refuses_what_aws_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);

    let e = kms
        .create_key()
        .key_spec(KeySpec::SymmetricDefault)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect_err("incompatible");
    assert_eq!(
        error_of(&e).1,
        "KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT"
    );
    let e = kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .send()
        .await
        .expect_err("no usage");
    assert_eq!(error_of(&e).0, "ValidationException");
    let e = kms
        .create_key()
        .key_spec(KeySpec::Sm2)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect_err("SM2 outside China");
    assert_eq!(error_of(&e).0, "UnsupportedOperationException");
    let e = kms
        .create_key()
        .policy("not json")
        .send()
        .await
        .expect_err("policy");
    assert_eq!(error_of(&e).0, "MalformedPolicyDocumentException");
    let e = kms
        .create_key()
        .tags(
            Tag::builder()
                .tag_key("aws:x")
                .tag_value("y")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect_err("reserved tag");
    assert_eq!(error_of(&e).0, "TagException");
    let e = kms
        .create_key()
        .description("x".repeat(8193))
        .send()
        .await
        .expect_err("long description");
    assert_eq!(error_of(&e).0, "ValidationException");
    // A refused request leaves nothing behind.
    let keys = kms.list_keys().send().await.expect("ListKeys");
    assert!(keys.keys().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_keys_pages_through_every_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let k = kms.create_key().send().await.expect("CreateKey");
        ids.push(k.key_metadata().expect("meta").key_id().to_owned());
    }
    // A key in another region is not listed here.
    let paris = client_with(&server, "eu-west-3", common::ACCESS_KEY, common::SECRET_KEY);
    paris
        .create_key()
        .send()
        .await
        .expect("CreateKey in eu-west-3");

    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_keys()
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListKeys");
        assert!(page.keys().len() <= 2);
        for k in page.keys() {
            assert_eq!(k.key_arn(), Some(arn(k.key_id().expect("id")).as_str()));
            seen.push(k.key_id().expect("id").to_owned());
        }
        if !page.truncated() {
            assert!(page.next_marker().is_none());
            break;
        }
        marker = page.next_marker().map(str::to_owned);
    }
    ids.sort();
    assert_eq!(seen, ids);

    let e = kms.list_keys().limit(0).send().await.expect_err("limit 0");
    assert_eq!(
        error_of(&e).1,
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
    let e = kms
        .list_keys()
        .limit(1001)
        .send()
        .await
        .expect_err("limit 1001");
    assert_eq!(error_of(&e).0, "ValidationException");
    let e = kms
        .list_keys()
        .marker("garbage")
        .send()
        .await
        .expect_err("marker");
    assert_eq!(error_of(&e).0, "InvalidMarkerException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_and_decrypt_with_every_key_id_form() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let id = common::new_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/app")
        .target_key_id(&id)
        .send()
        .await
        .expect("CreateAlias");
    let forms = [
        id.clone(),
        arn(&id),
        "alias/app".to_owned(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/app"),
    ];
    for form in &forms {
        let out = kms
            .encrypt()
            .key_id(form)
            .plaintext(Blob::new(b"attack at dawn".to_vec()))
            .encryption_context("purpose", "test")
            .send()
            .await
            .expect("Encrypt");
        assert_eq!(out.key_id(), Some(arn(&id).as_str()), "{form}");
        assert_eq!(
            out.encryption_algorithm().map(|a| a.as_str()),
            Some("SYMMETRIC_DEFAULT")
        );
        let blob = out.ciphertext_blob().expect("blob").clone();

        // Without KeyId, and with the same key named in every form.
        let plain = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("purpose", "test")
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(
            plain.plaintext().map(|p| p.as_ref()),
            Some(&b"attack at dawn"[..])
        );
        assert_eq!(plain.key_id(), Some(arn(&id).as_str()));
        for named in &forms {
            kms.decrypt()
                .ciphertext_blob(blob.clone())
                .encryption_context("purpose", "test")
                .key_id(named)
                .send()
                .await
                .expect("Decrypt with KeyId");
        }

        // Any change of context fails, and says nothing more.
        for (k, v) in [("purpose", "other"), ("Purpose", "test")] {
            let e = kms
                .decrypt()
                .ciphertext_blob(blob.clone())
                .encryption_context(k, v)
                .send()
                .await
                .expect_err("wrong context");
            assert_eq!(
                error_of(&e),
                ("InvalidCiphertextException".into(), String::new(), 400)
            );
        }
        let e = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .send()
            .await
            .expect_err("no ctx");
        assert_eq!(error_of(&e).0, "InvalidCiphertextException");
    }

    // Every single-bit change of a blob is detected.
    let blob = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![7u8; 64]))
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("blob")
        .as_ref()
        .to_vec();
    for i in (0..blob.len()).step_by(3) {
        let mut bad = blob.clone();
        bad[i] ^= 0x01;
        let e = kms
            .decrypt()
            .ciphertext_blob(Blob::new(bad))
            .send()
            .await
            .expect_err("flip");
        let code = error_of(&e).0;
        // Byte 1..17 names the key: a flip there names a key that does not
        // exist, which AWS reports as AccessDenied.
        assert!(
            code == "InvalidCiphertextException" || code == "AccessDeniedException",
            "byte {i}: {code}"
        );
    }
    let e = kms
        .decrypt()
        .ciphertext_blob(Blob::new(blob[..blob.len() - 1].to_vec()))
        .send()
        .await
        .expect_err("truncated");
    assert_eq!(error_of(&e).0, "InvalidCiphertextException");

    // A KeyId that names another key.
    let other = kms.create_key().send().await.expect("CreateKey");
    let other_id = other.key_metadata().expect("meta").key_id();
    let e = kms
        .decrypt()
        .ciphertext_blob(Blob::new(blob.clone()))
        .key_id(other_id)
        .send()
        .await
        .expect_err("other key");
    assert_eq!(
        error_of(&e),
        (
            "IncorrectKeyException".into(),
            "The key ID in the request does not identify a CMK that can perform this operation."
                .into(),
            400
        )
    );

    // Limits of the model.
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![0u8; 4097]))
        .send()
        .await
        .expect_err("too long");
    assert_eq!(
        error_of(&e).1,
        "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
         Member must have length less than or equal to 4096"
    );
    kms.encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![0u8; 4096]))
        .send()
        .await
        .expect("4096 bytes is allowed");
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(Vec::new()))
        .send()
        .await
        .expect_err("empty");
    assert_eq!(error_of(&e).0, "ValidationException");
    let e = kms
        .decrypt()
        .ciphertext_blob(Blob::new(vec![1u8; 6145]))
        .send()
        .await
        .expect_err("too long");
    assert_eq!(error_of(&e).0, "ValidationException");
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_algorithm(aws_sdk_kms::types::EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await
        .expect_err("wrong algorithm");
    assert_eq!(error_of(&e).0, "InvalidKeyUsageException");
    let e = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .dry_run(true)
        .send()
        .await
        .expect_err("dry run");
    assert_eq!(error_of(&e).0, "DryRunOperationException");
    assert_eq!(error_of(&e).2, 412);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_keys_and_random_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let id = common::new_key(&kms).await;

    for (spec, len) in [(DataKeySpec::Aes256, 32), (DataKeySpec::Aes128, 16)] {
        let dk = kms
            .generate_data_key()
            .key_id(&id)
            .key_spec(spec)
            .encryption_context("file", "a.txt")
            .send()
            .await
            .expect("GenerateDataKey");
        let plaintext = dk.plaintext().expect("plaintext").as_ref().to_vec();
        assert_eq!(plaintext.len(), len);
        assert_eq!(dk.key_id(), Some(arn(&id).as_str()));
        let back = kms
            .decrypt()
            .ciphertext_blob(dk.ciphertext_blob().expect("blob").clone())
            .encryption_context("file", "a.txt")
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(back.plaintext().expect("pt").as_ref(), &plaintext[..]);
    }
    for n in [1, 64, 1024] {
        let dk = kms
            .generate_data_key()
            .key_id(&id)
            .number_of_bytes(n)
            .send()
            .await
            .expect("GenerateDataKey NumberOfBytes");
        assert_eq!(dk.plaintext().expect("pt").as_ref().len(), n as usize);
    }
    let wp = kms
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect("GenerateDataKeyWithoutPlaintext");
    assert_eq!(wp.key_id(), Some(arn(&id).as_str()));
    let back = kms
        .decrypt()
        .ciphertext_blob(wp.ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(back.plaintext().expect("pt").as_ref().len(), 32);

    let e = kms
        .generate_data_key()
        .key_id(&id)
        .send()
        .await
        .expect_err("neither");
    assert_eq!(
        error_of(&e),
        (
            "ValidationException".into(),
            "Please specify either number of bytes or key spec.".into(),
            400
        )
    );
    let e = kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(32)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect_err("both");
    assert_eq!(error_of(&e).0, "ValidationException");
    let e = kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(1025)
        .send()
        .await
        .expect_err("too many");
    assert_eq!(
        error_of(&e).1,
        "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy \
         constraint: Member must have value less than or equal to 1024"
    );
    let e = kms
        .generate_data_key_without_plaintext()
        .key_id("alias/none")
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect_err("no alias");
    assert_eq!(error_of(&e).0, "NotFoundException");

    let r = kms
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .expect("GenerateRandom");
    let bytes = r.plaintext().expect("pt").as_ref().to_vec();
    assert_eq!(bytes.len(), 1024);
    assert!(bytes.iter().any(|b| *b != 0));
    let r2 = kms
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .expect("GenerateRandom");
    assert_ne!(r2.plaintext().expect("pt").as_ref(), &bytes[..]);
    let e = kms
        .generate_random()
        .number_of_bytes(0)
        .send()
        .await
        .expect_err("zero");
    assert_eq!(error_of(&e).0, "ValidationException");
    let e = kms.generate_random().send().await.expect_err("missing");
    assert_eq!(error_of(&e).1, "NumberOfBytes is required.");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_follow_aws_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let a = kms.create_key().send().await.expect("key a");
    let a = a.key_metadata().expect("meta").key_id().to_owned();
    let b = kms.create_key().send().await.expect("key b");
    let b = b.key_metadata().expect("meta").key_id().to_owned();

    for name in ["alias/one", "alias/two", "alias/three"] {
        kms.create_alias()
            .alias_name(name)
            .target_key_id(&a)
            .send()
            .await
            .expect("CreateAlias");
    }
    kms.create_alias()
        .alias_name("alias/b")
        .target_key_id(arn(&b))
        .send()
        .await
        .expect("CreateAlias by ARN");

    let e = kms
        .create_alias()
        .alias_name("alias/one")
        .target_key_id(&b)
        .send()
        .await
        .expect_err("exists");
    assert_eq!(
        error_of(&e),
        (
            "AlreadyExistsException".into(),
            format!(
                "An alias with the name arn:aws:kms:{REGION}:{ACCOUNT}:alias/one already exists"
            ),
            400
        )
    );
    let e = kms
        .create_alias()
        .alias_name("alias/aws/s3")
        .target_key_id(&a)
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(error_of(&e).0, "NotAuthorizedException");
    let e = kms
        .create_alias()
        .alias_name("noprefix")
        .target_key_id(&a)
        .send()
        .await
        .expect_err("prefix");
    assert_eq!(
        error_of(&e).1,
        "Alias must start with the prefix \"alias/\". Please see \
         https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
    );
    let e = kms
        .create_alias()
        .alias_name("alias/bad name")
        .target_key_id(&a)
        .send()
        .await
        .expect_err("pattern");
    assert_eq!(
        error_of(&e).1,
        "1 validation error detected: Value 'alias/bad name' at 'aliasName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
    );
    let e = kms
        .create_alias()
        .alias_name("alias/to-alias")
        .target_key_id("alias/one")
        .send()
        .await
        .expect_err("alias target");
    assert_eq!(error_of(&e).0, "ValidationException");

    // Paging, and the KeyId filter.
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let page = kms
            .list_aliases()
            .limit(1)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListAliases");
        for al in page.aliases() {
            names.push(al.alias_name().expect("name").to_owned());
            assert_eq!(
                al.alias_arn(),
                Some(
                    format!(
                        "arn:aws:kms:{REGION}:{ACCOUNT}:{}",
                        al.alias_name().expect("name")
                    )
                    .as_str()
                )
            );
            assert!(al.creation_date().is_some());
        }
        if !page.truncated() {
            break;
        }
        marker = page.next_marker().map(str::to_owned);
    }
    assert_eq!(names, ["alias/b", "alias/one", "alias/three", "alias/two"]);
    let of_a = kms.list_aliases().key_id(&a).send().await.expect("filter");
    assert_eq!(of_a.aliases().len(), 3);
    assert!(
        of_a.aliases()
            .iter()
            .all(|x| x.target_key_id() == Some(a.as_str()))
    );
    let of_b = kms
        .list_aliases()
        .key_id(arn(&b))
        .send()
        .await
        .expect("filter by ARN");
    assert_eq!(of_b.aliases().len(), 1);
    let e = kms
        .list_aliases()
        .key_id("00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .expect_err("no key");
    assert_eq!(error_of(&e).0, "NotFoundException");

    // UpdateAlias moves it; encryption follows the alias.
    kms.update_alias()
        .alias_name("alias/one")
        .target_key_id(&b)
        .send()
        .await
        .expect("UpdateAlias");
    let out = kms
        .encrypt()
        .key_id("alias/one")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    assert_eq!(out.key_id(), Some(arn(&b).as_str()));
    let e = kms
        .update_alias()
        .alias_name("alias/none")
        .target_key_id(&b)
        .send()
        .await
        .expect_err("missing");
    assert_eq!(error_of(&e).0, "NotFoundException");

    kms.delete_alias()
        .alias_name("alias/one")
        .send()
        .await
        .expect("DeleteAlias");
    let e = kms
        .delete_alias()
        .alias_name("alias/one")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(
        error_of(&e).1,
        format!("Alias arn:aws:kms:{REGION}:{ACCOUNT}:alias/one is not found.")
    );
    let e = kms
        .delete_alias()
        .alias_name("alias/aws/s3")
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(error_of(&e).0, "NotAuthorizedException");
    // Aliases are per region.
    let paris = client_with(&server, "eu-west-3", common::ACCESS_KEY, common::SECRET_KEY);
    let listed = paris
        .list_aliases()
        .send()
        .await
        .expect("ListAliases in eu-west-3");
    assert!(listed.aliases().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_is_enforced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;

    let wrong_secret = client_with(
        &server,
        REGION,
        common::ACCESS_KEY,
        "wrong-secret-wrong-secret",
    );
    let e = wrong_secret
        .list_keys()
        .send()
        .await
        .expect_err("bad secret");
    assert_eq!(
        error_of(&e),
        (
            "InvalidSignatureException".into(),
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
                .into(),
            400
        )
    );
    let stranger = client_with(&server, REGION, "AKIAUNKNOWNUNKNOWN00", common::SECRET_KEY);
    let e = stranger.list_keys().send().await.expect_err("unknown key");
    assert_eq!(
        error_of(&e),
        (
            "UnrecognizedClientException".into(),
            "The security token included in the request is invalid.".into(),
            400
        )
    );
    let elsewhere = client_with(
        &server,
        "ap-south-1",
        common::ACCESS_KEY,
        common::SECRET_KEY,
    );
    let e = elsewhere
        .list_keys()
        .send()
        .await
        .expect_err("unserved region");
    let (code, message, _) = error_of(&e);
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("Credential should be scoped to a valid region"),
        "{message}"
    );
    server.shutdown().await;
}
