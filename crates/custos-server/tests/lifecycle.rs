//! The key lifecycle through the official SDK: states, deletion, rotation,
//! ReEncrypt, tags and policies, with AWS's errors.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{IncludeKeyMaterial, KeyState, Tag};
use common::{ACCOUNT, REGION, arn, client, encrypt, error_of, new_key, start};

async fn state(kms: &aws_sdk_kms::Client, key: &str) -> KeyState {
    kms.describe_key()
        .key_id(key)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata()
        .and_then(|m| m.key_state().cloned())
        .expect("state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_enable_and_describe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let id = new_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/d")
        .target_key_id(&id)
        .send()
        .await
        .expect("alias");
    let blob = encrypt(&kms, &id, b"x").await;

    kms.disable_key()
        .key_id("alias/d")
        .send()
        .await
        .expect("DisableKey");
    assert_eq!(state(&kms, &id).await, KeyState::Disabled);
    let meta = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert!(!meta.key_metadata().expect("meta").enabled());
    for key in [id.clone(), "alias/d".to_owned()] {
        let e = kms
            .encrypt()
            .key_id(&key)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await
            .expect_err("disabled");
        assert_eq!(
            error_of(&e),
            (
                "DisabledException".into(),
                format!("{} is disabled.", arn(&id)),
                400
            )
        );
    }
    let e = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(error_of(&e).0, "DisabledException");
    let e = kms
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(16)
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(error_of(&e).0, "DisabledException");
    // Disabling twice is fine, as on AWS.
    kms.disable_key()
        .key_id(&id)
        .send()
        .await
        .expect("DisableKey again");

    kms.enable_key()
        .key_id(arn(&id))
        .send()
        .await
        .expect("EnableKey");
    assert_eq!(state(&kms, &id).await, KeyState::Enabled);
    kms.decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .expect("decrypt again");

    kms.update_key_description()
        .key_id(&id)
        .description("new words")
        .send()
        .await
        .expect("UpdateKeyDescription");
    let meta = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        meta.key_metadata().and_then(|m| m.description()),
        Some("new words")
    );
    let e = kms
        .enable_key()
        .key_id("nope")
        .send()
        .await
        .expect_err("bad id");
    assert_eq!(error_of(&e).0, "NotFoundException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_and_cancel_deletion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let id = new_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/p")
        .target_key_id(&id)
        .send()
        .await
        .expect("alias");
    let blob = encrypt(&kms, &id, b"x").await;

    let out = kms
        .schedule_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect("schedule");
    assert_eq!(out.key_id(), Some(arn(&id).as_str()));
    assert_eq!(out.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(out.pending_window_in_days(), Some(30));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let when = out.deletion_date().expect("date").secs();
    assert!((when - now - 30 * 86_400).abs() < 120, "{when} vs {now}");

    let meta = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let meta = meta.key_metadata().expect("meta");
    assert_eq!(meta.key_state(), Some(&KeyState::PendingDeletion));
    assert!(!meta.enabled());
    assert!(meta.deletion_date().is_some());
    assert_eq!(meta.pending_deletion_window_in_days(), Some(30));

    let pending = format!("{} is pending deletion.", arn(&id));
    let e = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .expect_err("pending");
    assert_eq!(
        error_of(&e),
        ("KMSInvalidStateException".into(), pending.clone(), 400)
    );
    let e = kms
        .encrypt()
        .key_id("alias/p")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("pending");
    assert_eq!(error_of(&e).0, "KMSInvalidStateException");
    let e = kms
        .schedule_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect_err("twice");
    assert_eq!(
        error_of(&e),
        ("KMSInvalidStateException".into(), pending.clone(), 400)
    );
    let e = kms
        .enable_key()
        .key_id(&id)
        .send()
        .await
        .expect_err("enable pending");
    assert_eq!(error_of(&e).0, "KMSInvalidStateException");
    let e = kms
        .create_alias()
        .alias_name("alias/p2")
        .target_key_id(&id)
        .send()
        .await
        .expect_err("alias to pending");
    assert_eq!(error_of(&e).0, "KMSInvalidStateException");
    // Still listed and described while pending.
    assert_eq!(
        kms.list_keys().send().await.expect("ListKeys").keys().len(),
        1
    );

    let out = kms
        .cancel_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect("cancel");
    assert_eq!(out.key_id(), Some(arn(&id).as_str()));
    let meta = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    let meta = meta.key_metadata().expect("meta");
    assert_eq!(meta.key_state(), Some(&KeyState::Disabled));
    assert!(meta.deletion_date().is_none());
    let e = kms
        .cancel_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect_err("not pending");
    assert_eq!(
        error_of(&e),
        (
            "KMSInvalidStateException".into(),
            format!("{} is not pending deletion.", arn(&id)),
            400
        )
    );

    for days in [6, 31] {
        let e = kms
            .schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(days)
            .send()
            .await
            .expect_err("window");
        assert_eq!(error_of(&e).0, "ValidationException", "{days}");
    }
    let out = kms
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("7 days");
    assert_eq!(out.pending_window_in_days(), Some(7));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_every_ciphertext_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id;
    let mut blobs = Vec::new();
    {
        let server = start(dir.path()).await;
        let kms = client(&server);
        id = new_key(&kms).await;
        let status = kms
            .get_key_rotation_status()
            .key_id(&id)
            .send()
            .await
            .expect("status");
        assert!(!status.key_rotation_enabled());
        assert_eq!(status.key_id(), Some(arn(&id).as_str()));

        kms.enable_key_rotation()
            .key_id(&id)
            .rotation_period_in_days(180)
            .send()
            .await
            .expect("EnableKeyRotation");
        let status = kms
            .get_key_rotation_status()
            .key_id(&id)
            .send()
            .await
            .expect("status");
        assert!(status.key_rotation_enabled());
        assert_eq!(status.rotation_period_in_days(), Some(180));
        assert!(status.next_rotation_date().is_some());
        let e = kms
            .enable_key_rotation()
            .key_id(&id)
            .rotation_period_in_days(89)
            .send()
            .await
            .expect_err("period");
        assert_eq!(error_of(&e).0, "ValidationException");

        let first_material = kms
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .expect("describe")
            .key_metadata()
            .and_then(|m| m.current_key_material_id().map(str::to_owned))
            .expect("material id");
        blobs.push((encrypt(&kms, &id, b"v1").await, b"v1".to_vec()));
        for round in 2..=4u8 {
            let out = kms
                .rotate_key_on_demand()
                .key_id(&id)
                .send()
                .await
                .expect("rotate");
            assert_eq!(out.key_id(), Some(arn(&id).as_str()));
            let text = vec![b'v', b'0' + round];
            blobs.push((encrypt(&kms, &id, &text).await, text));
        }
        let rotations = kms
            .list_key_rotations()
            .key_id(&id)
            .send()
            .await
            .expect("list");
        assert_eq!(rotations.rotations().len(), 3);
        assert!(
            rotations
                .rotations()
                .iter()
                .all(|r| r.rotation_type().map(|t| t.as_str()) == Some("ON_DEMAND"))
        );
        let all = kms
            .list_key_rotations()
            .key_id(&id)
            .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
            .limit(2)
            .send()
            .await
            .expect("list all");
        assert_eq!(all.rotations().len(), 2);
        assert!(all.truncated());
        assert_eq!(
            all.rotations()[0].key_material_id(),
            Some(first_material.as_str())
        );
        let rest = kms
            .list_key_rotations()
            .key_id(&id)
            .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
            .marker(all.next_marker().expect("marker"))
            .send()
            .await
            .expect("list rest");
        assert_eq!(rest.rotations().len(), 2);
        assert!(!rest.truncated());
        server.shutdown().await;
    }
    let server = start(dir.path()).await;
    let kms = client(&server);
    for (blob, text) in &blobs {
        let out = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .send()
            .await
            .expect("decrypt");
        assert_eq!(out.plaintext().expect("pt").as_ref(), &text[..]);
    }
    // Each blob was made with a different material; decrypt says which.
    let mut ids = std::collections::HashSet::new();
    for (blob, _) in &blobs {
        let out = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .send()
            .await
            .expect("decrypt");
        ids.insert(out.key_material_id().expect("material id").to_owned());
    }
    assert_eq!(ids.len(), 4);
    // At most 10 on-demand rotations.
    for _ in 0..7 {
        kms.rotate_key_on_demand()
            .key_id(&id)
            .send()
            .await
            .expect("rotate");
    }
    let e = kms
        .rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect_err("limit");
    assert_eq!(error_of(&e).0, "LimitExceededException");
    kms.disable_key_rotation()
        .key_id(&id)
        .send()
        .await
        .expect("DisableKeyRotation");
    let status = kms
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .expect("status");
    assert!(!status.key_rotation_enabled());
    kms.disable_key().key_id(&id).send().await.expect("disable");
    let e = kms
        .rotate_key_on_demand()
        .key_id(&id)
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(error_of(&e).0, "DisabledException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encrypt_between_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let a = new_key(&kms).await;
    let b = new_key(&kms).await;
    kms.create_alias()
        .alias_name("alias/b")
        .target_key_id(&b)
        .send()
        .await
        .expect("alias");
    let blob = kms
        .encrypt()
        .key_id(&a)
        .plaintext(Blob::new(b"moving house".to_vec()))
        .encryption_context("from", "a")
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("blob")
        .clone();
    for destination in [
        b.clone(),
        arn(&b),
        "alias/b".to_owned(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/b"),
    ] {
        let out = kms
            .re_encrypt()
            .ciphertext_blob(blob.clone())
            .source_encryption_context("from", "a")
            .destination_key_id(&destination)
            .destination_encryption_context("to", "b")
            .send()
            .await
            .expect("ReEncrypt");
        assert_eq!(out.source_key_id(), Some(arn(&a).as_str()));
        assert_eq!(out.key_id(), Some(arn(&b).as_str()));
        let back = kms
            .decrypt()
            .ciphertext_blob(out.ciphertext_blob().expect("blob").clone())
            .encryption_context("to", "b")
            .key_id("alias/b")
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(back.plaintext().expect("pt").as_ref(), b"moving house");
    }
    let e = kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .destination_key_id(&b)
        .send()
        .await
        .expect_err("missing source context");
    assert_eq!(error_of(&e).0, "InvalidCiphertextException");
    let e = kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("from", "a")
        .source_key_id(&b)
        .destination_key_id(&b)
        .send()
        .await
        .expect_err("wrong source");
    assert_eq!(error_of(&e).0, "IncorrectKeyException");
    kms.disable_key().key_id(&b).send().await.expect("disable");
    let e = kms
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("from", "a")
        .destination_key_id(&b)
        .send()
        .await
        .expect_err("disabled destination");
    assert_eq!(error_of(&e).0, "DisabledException");
    kms.disable_key().key_id(&a).send().await.expect("disable");
    kms.enable_key().key_id(&b).send().await.expect("enable");
    let e = kms
        .re_encrypt()
        .ciphertext_blob(blob)
        .source_encryption_context("from", "a")
        .destination_key_id(&b)
        .send()
        .await
        .expect_err("disabled source");
    assert_eq!(error_of(&e).0, "DisabledException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let id = new_key(&kms).await;
    let tag = |k: &str, v: &str| Tag::builder().tag_key(k).tag_value(v).build().expect("tag");
    kms.tag_resource()
        .key_id(&id)
        .tags(tag("b", "2"))
        .tags(tag("a", "1"))
        .tags(tag("c", "3"))
        .send()
        .await
        .expect("TagResource");
    kms.tag_resource()
        .key_id(arn(&id))
        .tags(tag("a", "one"))
        .send()
        .await
        .expect("replace");
    let page = kms
        .list_resource_tags()
        .key_id(&id)
        .limit(2)
        .send()
        .await
        .expect("list");
    let got: Vec<_> = page
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
        .collect();
    assert_eq!(
        got,
        [("a".to_owned(), "one".to_owned()), ("b".into(), "2".into())]
    );
    assert!(page.truncated());
    let rest = kms
        .list_resource_tags()
        .key_id(&id)
        .marker(page.next_marker().expect("marker"))
        .send()
        .await
        .expect("list rest");
    assert_eq!(rest.tags().len(), 1);
    assert!(!rest.truncated());
    kms.untag_resource()
        .key_id(&id)
        .tag_keys("b")
        .tag_keys("zz")
        .send()
        .await
        .expect("untag");
    let all = kms
        .list_resource_tags()
        .key_id(&id)
        .send()
        .await
        .expect("list");
    assert_eq!(all.tags().len(), 2);

    let e = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("aws:x", "y"))
        .send()
        .await
        .expect_err("aws:");
    assert_eq!(error_of(&e).0, "TagException");
    let mut many = kms.tag_resource().key_id(&id);
    for i in 0..49 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    let e = many.send().await.expect_err("51 tags");
    assert_eq!(error_of(&e).0, "LimitExceededException");
    let e = kms
        .tag_resource()
        .key_id("alias/x")
        .tags(tag("a", "b"))
        .send()
        .await
        .expect_err("alias");
    assert_eq!(error_of(&e).0, "InvalidArnException");
    kms.schedule_key_deletion()
        .key_id(&id)
        .send()
        .await
        .expect("schedule");
    let e = kms
        .tag_resource()
        .key_id(&id)
        .tags(tag("d", "4"))
        .send()
        .await
        .expect_err("pending");
    assert_eq!(error_of(&e).0, "KMSInvalidStateException");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let id = new_key(&kms).await;
    let policy = kms
        .get_key_policy()
        .key_id(&id)
        .send()
        .await
        .expect("GetKeyPolicy");
    assert_eq!(policy.policy_name(), Some("default"));
    assert_eq!(
        policy.policy(),
        Some(
            format!(
                "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{ACCOUNT}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
            )
            .as_str()
        )
    );
    let names = kms
        .list_key_policies()
        .key_id(&id)
        .send()
        .await
        .expect("ListKeyPolicies");
    assert_eq!(names.policy_names(), ["default"]);
    assert!(!names.truncated());

    let mine = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Sid\":\"admin\",\"Effect\":\"Allow\",\
         \"Principal\":{{\"AWS\":\"arn:aws:iam::{ACCOUNT}:user/custos-admin\"}},\"Action\":\"kms:*\",\"Resource\":\"*\"}}]}}"
    );
    kms.put_key_policy()
        .key_id(&id)
        .policy(&mine)
        .send()
        .await
        .expect("PutKeyPolicy");
    let got = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.policy(),
        Some(mine.as_str()),
        "stored and returned exactly"
    );

    // A policy for another user only (who must exist to be named).
    common::iam::user_with_key(&common::iam::iam(&server), "someone-else").await;
    let lockout = format!(
        "{{\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"arn:aws:iam::{ACCOUNT}:user/someone-else\"}},\
         \"Action\":\"kms:*\",\"Resource\":\"*\"}}]}}"
    );
    let e = kms
        .put_key_policy()
        .key_id(&id)
        .policy(&lockout)
        .send()
        .await
        .expect_err("lockout");
    assert_eq!(
        error_of(&e),
        (
            "MalformedPolicyDocumentException".into(),
            "The new key policy will not allow you to update the key policy in the future.".into(),
            400
        )
    );
    kms.put_key_policy()
        .key_id(&id)
        .policy(&lockout)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .expect("bypass");
    // Locked out indeed: the policy no longer lets the administrator in,
    // and authorization comes before any look at the new document.
    let e = kms
        .put_key_policy()
        .key_id(&id)
        .policy("{not json")
        .send()
        .await
        .expect_err("locked out");
    assert_eq!(error_of(&e).0, "AccessDeniedException");
    assert_eq!(error_of(&e).2, 400);
    let id = new_key(&kms).await;
    let e = kms
        .put_key_policy()
        .key_id(&id)
        .policy("{not json")
        .send()
        .await
        .expect_err("json");
    assert_eq!(error_of(&e).0, "MalformedPolicyDocumentException");
    let huge = format!("{{\"Statement\":[], \"x\":\"{}\"}}", "a".repeat(40_000));
    let e = kms
        .put_key_policy()
        .key_id(&id)
        .policy(huge)
        .send()
        .await
        .expect_err("size");
    assert_eq!(error_of(&e).0, "MalformedPolicyDocumentException");
    let e = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("other")
        .send()
        .await
        .expect_err("name");
    assert_eq!(error_of(&e).0, "NotFoundException");
    let e = kms
        .create_key()
        .policy(&lockout)
        .send()
        .await
        .expect_err("create lockout");
    assert_eq!(error_of(&e).0, "MalformedPolicyDocumentException");
    server.shutdown().await;
}
