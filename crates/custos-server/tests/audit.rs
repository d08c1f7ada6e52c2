//! The audit trail as a user of the server sees it: every request —
//! successes, refusals, validation errors, failed authentications, IAM
//! calls — is one CloudTrail event in the hash-chained log under
//! `<data dir>/audit`, holding no secret; the log verifies; and when it
//! cannot be written, requests fail closed and service resumes by itself.

mod common;

use std::path::Path;
use std::time::Duration;

use aws_sdk_kms::primitives::Blob;
use base64::Engine as _;
use common::iam::{Keys, iam, kms_as, user_with_key};
use common::{ACCOUNT, REGION, arn, client, error_of, start};
use custos_test_support::Mount;
use serde_json::Value;

/// Every event of the log in `dir`, in order, after verifying the chain.
fn events(data_dir: &Path) -> Vec<Value> {
    let dir = data_dir.join("audit");
    let report = custos_audit::verify::verify(&dir).expect("the audit chain verifies");
    // Shutdown signed a digest of everything.
    assert!(report.digests >= 1, "{report:?}");
    assert_eq!(report.covered, report.records, "{report:?}");
    let mut out = Vec::new();
    for (_, path) in custos_audit::chain::segments(&dir).expect("segments") {
        let bytes = std::fs::read(path).expect("read");
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let line = custos_audit::chain::parse_line(line).expect("a record");
            out.push(serde_json::from_slice(line.event).expect("event JSON"));
        }
    }
    assert_eq!(out.len() as u64, report.records);
    out
}

/// `GET path` without credentials, as a probe or a scraper sends it.
async fn probe(server: &custos_server::Running, path: &str) -> common::raw::RawResponse {
    let client = common::raw::RawClient::new(server);
    let mut request = common::raw::RawRequest::post(&client.host(), b"").with_method("GET");
    request.target = path.to_owned();
    client.exchange(request.to_bytes()).await.response()
}

/// The value of a series (a metric's name, with its labels if any) in a
/// Prometheus text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
}

fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["eventName"] == name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_is_one_cloudtrail_event_without_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let plaintext = b"the canary plaintext 5f1e9c";
    let created = kms
        .create_key()
        .description("audited")
        .send()
        .await
        .expect("CreateKey");
    let key = created
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_owned();
    let blob = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(plaintext.to_vec()))
        .encryption_context("tenant", "acme")
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("blob")
        .clone();
    let decrypted = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("tenant", "acme")
        .send()
        .await
        .expect("Decrypt");
    let material = decrypted.key_material_id().expect("material id").to_owned();
    let e = kms
        .generate_data_key()
        .key_id(&key)
        .send()
        .await
        .expect_err("neither NumberOfBytes nor KeySpec");
    assert_eq!(error_of(&e).0, "ValidationException");
    // A refusal by authorization.
    let nobody_keys = user_with_key(&iam(&server), "nobody").await;
    iam(&server)
        .tag_user()
        .user_name("nobody")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("blue")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("TagUser");
    let nobody = kms_as(&server, &nobody_keys);
    nobody
        .encrypt()
        .key_id(arn(&key))
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("refused");
    // A failed authentication: a known key id with a wrong secret.
    let forged = common::without_retries(&kms_as(
        &server,
        &Keys::long_term(common::ACCESS_KEY, "wrong-secret"),
    ));
    forged.list_keys().send().await.expect_err("bad signature");
    server.shutdown().await;

    let all = events(dir.path());
    // Nothing secret anywhere in the log, in any encoding.
    let text = all.iter().map(Value::to_string).collect::<String>();
    for secret in [
        String::from_utf8_lossy(plaintext).into_owned(),
        base64::engine::general_purpose::STANDARD.encode(plaintext),
        base64::engine::general_purpose::STANDARD.encode(blob.as_ref()),
        // The secret CreateAccessKey returned over the wire.
        nobody_keys.secret.clone(),
    ] {
        assert!(!text.contains(&secret), "{secret} is in the audit log");
    }
    for event in &all {
        assert_eq!(event["eventVersion"], "1.11");
        assert_eq!(event["eventCategory"], "Management");
        assert_eq!(event["managementEvent"], true);
        assert_eq!(event["eventType"], "AwsApiCall");
        assert_eq!(event["eventID"].as_str().map(str::len), Some(36));
        assert_eq!(event["requestID"].as_str().map(str::len), Some(36));
        assert_eq!(event["sourceIPAddress"], "127.0.0.1");
        assert_eq!(event["tlsDetails"]["tlsVersion"], "TLSv1.3");
    }

    let create = named(&all, "CreateKey");
    assert_eq!(create.len(), 1);
    assert_eq!(create[0]["eventSource"], "kms.amazonaws.com");
    assert_eq!(create[0]["readOnly"], false);
    assert_eq!(create[0]["requestParameters"]["description"], "audited");
    assert_eq!(create[0]["responseElements"]["keyMetadata"]["keyId"], key);
    assert_eq!(create[0]["resources"][0]["ARN"], arn(&key));

    let admin = |e: &Value| {
        assert_eq!(e["userIdentity"]["type"], "IAMUser");
        assert_eq!(
            e["userIdentity"]["arn"],
            format!("arn:aws:iam::{ACCOUNT}:user/custos-admin")
        );
        assert_eq!(e["userIdentity"]["accessKeyId"], common::ACCESS_KEY);
        assert_eq!(e["userIdentity"]["userName"], "custos-admin");
        assert_eq!(e["recipientAccountId"], ACCOUNT);
        assert_eq!(e["awsRegion"], REGION);
    };
    let decrypt = named(&all, "Decrypt");
    assert_eq!(decrypt.len(), 1);
    let d = decrypt[0];
    admin(d);
    assert_eq!(d["readOnly"], true);
    // The key the ciphertext named, though the request named none.
    assert_eq!(d["requestParameters"]["keyId"], arn(&key));
    assert_eq!(
        d["requestParameters"]["encryptionContext"],
        serde_json::json!({"tenant": "acme"})
    );
    assert!(d["requestParameters"].get("ciphertextBlob").is_none());
    assert_eq!(d["responseElements"], Value::Null);
    assert_eq!(d["additionalEventData"]["keyMaterialId"], material);
    assert_eq!(
        d["resources"],
        serde_json::json!([{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": arn(&key)}])
    );

    let encrypts = named(&all, "Encrypt");
    assert_eq!(encrypts.len(), 2);
    assert!(encrypts[0].get("errorCode").is_none());
    assert!(encrypts[0]["requestParameters"].get("plaintext").is_none());
    let refused = encrypts[1];
    assert_eq!(refused["errorCode"], "AccessDeniedException");
    assert!(
        refused["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("is not authorized to perform: kms:Encrypt")),
        "{refused}"
    );
    assert_eq!(
        refused["userIdentity"]["arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/nobody")
    );

    let invalid = named(&all, "GenerateDataKey");
    assert_eq!(invalid[0]["errorCode"], "ValidationException");

    let failed = named(&all, "ListKeys");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["userIdentity"]["type"], "Unknown");
    assert_eq!(failed[0]["userIdentity"]["accessKeyId"], common::ACCESS_KEY);
    assert_eq!(failed[0]["errorCode"], "InvalidSignatureException");
    assert_eq!(failed[0]["requestParameters"], Value::Null);

    // IAM calls are recorded too, under their own source.
    let users = named(&all, "CreateUser");
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["eventSource"], "iam.amazonaws.com");
    // Lists as CloudTrail logs them.
    let tagged = named(&all, "TagUser");
    assert_eq!(
        tagged[0]["requestParameters"],
        serde_json::json!({"userName": "nobody", "tags": [{"key": "team", "value": "blue"}]})
    );
    assert_eq!(users[0]["requestParameters"]["userName"], "nobody");
    // CreateAccessKey's response (the new secret) is not logged.
    let keys = named(&all, "CreateAccessKey");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["responseElements"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_log_fails_requests_closed_and_recovers_by_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = common::without_retries(&client(&server));
    let key = common::new_key(&kms).await;
    let audit = dir.path().join("audit");
    let ready = probe(&server, "/readyz").await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.json()["audit"], "writable");
    let scraped = String::from_utf8(probe(&server, "/metrics").await.body).expect("text");
    assert_eq!(metric(&scraped, "custos_audit_writable"), 1.0);
    assert!(metric(&scraped, "custos_audit_records_total") >= 1.0);
    assert_eq!(metric(&scraped, "custos_audit_write_failures_total"), 0.0);
    assert!(metric(&scraped, "custos_audit_sync_seconds_count") >= 1.0);

    // The log's directory replaced by a file: nothing can be written.
    std::fs::remove_dir_all(&audit).expect("remove");
    std::fs::write(&audit, b"not a directory").expect("file");
    let e = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("fails closed");
    assert_eq!(
        (error_of(&e).0.as_str(), error_of(&e).2),
        ("KMSInternalException", 500)
    );
    // While it is known unwritable, requests are refused before they reach
    // the domain: a CreateKey now creates nothing.
    // (That it is quick is not asserted here: speed is measured, not
    // timed in tests; the append's own bound is `APPEND_TIMEOUT`.)
    let e = kms.create_key().send().await.expect_err("refused");
    assert_eq!(error_of(&e).0, "KMSInternalException");
    // Operators see it: not ready, and why; still alive.
    let unready = probe(&server, "/readyz").await;
    assert_eq!(unready.status, 503, "{unready:?}");
    assert_eq!(unready.json()["audit"], "unwritable");
    assert!(
        unready.json()["auditUnwritableSince"].is_string(),
        "{unready:?}"
    );
    assert_eq!(probe(&server, "/healthz").await.status, 200);
    let scraped = String::from_utf8(probe(&server, "/metrics").await.body).expect("text");
    assert_eq!(metric(&scraped, "custos_audit_writable"), 0.0);
    assert!(metric(&scraped, "custos_audit_write_failures_total") >= 1.0);
    assert!(metric(&scraped, "custos_audit_unwritable_since_seconds") > 0.0);

    // The cause gone, service resumes by itself.
    std::fs::remove_file(&audit).expect("remove the file");
    let mut resumed = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if kms.list_keys().send().await.is_ok() {
            resumed = true;
            break;
        }
    }
    assert!(resumed, "the server resumed once the log was writable");
    assert_eq!(probe(&server, "/readyz").await.status, 200);
    let keys = kms.list_keys().send().await.expect("ListKeys");
    assert_eq!(
        keys.keys().len(),
        1,
        "the refused CreateKey created nothing"
    );
    server.shutdown().await;

    // The new segment continues the chain; the removed one is reported.
    let broken = custos_audit::verify::verify(&audit).expect_err("a segment is missing");
    assert!(
        matches!(
            broken.kind,
            custos_audit::verify::Damage::MissingSegment { .. }
        ),
        "{broken}"
    );
    let first = custos_audit::chain::segments(&audit).expect("segments");
    let bytes = std::fs::read(&first[0].1).expect("read");
    let line = bytes.split(|b| *b == b'\n').next().expect("a line");
    let event: Value =
        serde_json::from_slice(custos_audit::chain::parse_line(line).expect("record").event)
            .expect("json");
    assert_eq!(event["eventName"], "AuditLogResumed");
    assert_eq!(event["eventType"], "AwsServiceEvent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedulers_deletions_and_rotations_are_recorded_as_service_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("fits");
    let clock = std::sync::Arc::new(custos_kms::ManualClock::new(now_ms));
    let server = custos_server::start_with_clock(common::config(dir.path()), clock.clone())
        .await
        .expect("server starts");
    let kms = client(&server);
    let doomed = common::new_key(&kms).await;
    let rotating = common::new_key(&kms).await;
    kms.schedule_key_deletion()
        .key_id(&doomed)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");
    kms.enable_key_rotation()
        .key_id(&rotating)
        .rotation_period_in_days(90)
        .send()
        .await
        .expect("EnableKeyRotation");
    server.run_scheduled_pass().await;
    clock.advance_ms(91 * 24 * 60 * 60 * 1000);
    server.run_scheduled_pass().await;
    server.shutdown().await;

    let all = events(dir.path());
    let deleted = named(&all, "DeleteKey");
    assert_eq!(deleted.len(), 1, "{all:?}");
    assert_eq!(deleted[0]["eventType"], "AwsServiceEvent");
    assert_eq!(deleted[0]["userIdentity"]["invokedBy"], "kms.amazonaws.com");
    assert_eq!(deleted[0]["resources"][0]["ARN"], arn(&doomed));
    assert_eq!(deleted[0]["recipientAccountId"], ACCOUNT);
    let rotated = named(&all, "RotateKey");
    assert_eq!(rotated.len(), 1, "{all:?}");
    assert_eq!(rotated[0]["resources"][0]["ARN"], arn(&rotating));
    assert_eq!(
        rotated[0]["additionalEventData"]["keyMaterialId"]
            .as_str()
            .map(str::len),
        Some(64)
    );
}

/// A small tmpfs at `at`, unmounted when dropped. Needs root (or
/// CAP_SYS_ADMIN), which the test command has.
fn small_disk(at: &Path, size: &str) -> Mount {
    Mount::tmpfs(at, size)
        .unwrap_or_else(|| panic!("mounting a tmpfs needs root (scripts/test runs as root)"))
}

/// Fills the filesystem of `path` to the last byte with a file at `path`.
fn fill(path: &Path) {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0x55u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let mut byte = 0;
    while f.write_all(&chunk[..1]).is_ok() && byte < 64 * 1024 {
        byte += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_requests_closed_then_service_resumes_when_space_is_freed() {
    use aws_sdk_kms::operation::RequestId as _;

    let dir = tempfile::tempdir().expect("tempdir");
    let disk = small_disk(&dir.path().join("small"), "4m");
    let audit = disk.path().join("audit");
    let mut config = common::config(&dir.path().join("data"));
    config.audit_dir = Some(audit.clone());
    let server = custos_server::start(config).await.expect("server starts");
    let kms = common::without_retries(&client(&server));
    let key = common::new_key(&kms).await;
    let encrypt = || {
        kms.encrypt()
            .key_id(&key)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
    };

    // Fill the disk to the last byte.
    let filler = disk.path().join("filler");
    fill(&filler);

    // Requests go on while the space the log had claimed lasts, then fail
    // closed: a 500, not a hang (each answer is awaited; the SDK's own
    // timeouts would fail a hang), and every answered one is recorded.
    let mut answered = Vec::new();
    let mut first_failure = None;
    for _ in 0..20_000 {
        match encrypt().await {
            Ok(out) => answered.push(out.request_id().expect("request id").to_owned()),
            Err(e) => {
                first_failure = Some(e);
                break;
            }
        }
    }
    let e = first_failure.expect("a full disk fails requests");
    assert_eq!(
        (error_of(&e).0.as_str(), error_of(&e).2),
        ("KMSInternalException", 500),
        "{e:?}"
    );
    // Known unwritable, the next ones are refused before the domain.
    for _ in 0..20 {
        let e = encrypt().await.expect_err("refused while the disk is full");
        assert_eq!(error_of(&e).0, "KMSInternalException");
    }
    assert_eq!(probe(&server, "/readyz").await.status, 503);

    // Space freed: service resumes by itself.
    std::fs::remove_file(&filler).expect("free the space");
    let mut resumed = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(out) = encrypt().await {
            answered.push(out.request_id().expect("request id").to_owned());
            resumed = true;
            break;
        }
    }
    assert!(resumed, "the server resumed once space was freed");
    assert_eq!(probe(&server, "/readyz").await.status, 200);
    server.shutdown().await;

    // The chain is whole, holds every answered request, and says when
    // the log could not be written.
    let report = custos_audit::verify::verify(&audit).expect("the log verifies");
    let mut logged = std::collections::HashSet::new();
    let mut resumed_events = 0;
    custos_audit::chain::for_each_event(&audit, |_, event| {
        if event["eventName"] == "AuditLogResumed" {
            resumed_events += 1;
        }
        if let Some(id) = event["requestID"].as_str() {
            logged.insert(id.to_owned());
        }
    })
    .expect("read");
    let missing: Vec<&String> = answered.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} answered requests missing from {} records",
        missing.len(),
        report.records
    );
    assert_eq!(resumed_events, 1);
}

/// `/metrics` counts requests by operation and status, KMS errors by type,
/// times them, and counts connections; no key id becomes a label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_errors_latency_and_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = common::without_retries(&client(&server));
    let key = common::new_key(&kms).await;
    for _ in 0..3 {
        common::encrypt(&kms, &key, b"counted").await;
    }
    let missing = "11111111-2222-3333-4444-555555555555";
    let refused = kms.describe_key().key_id(missing).send().await;
    assert!(refused.is_err());
    let scraped = String::from_utf8(probe(&server, "/metrics").await.body).expect("text");
    let line = |series: &str| metric(&scraped, series);
    assert_eq!(
        line(r#"custos_requests_total{api="kms",operation="Encrypt",status="200"}"#),
        3.0
    );
    assert_eq!(
        line(r#"custos_requests_total{api="kms",operation="DescribeKey",status="400"}"#),
        1.0
    );
    assert_eq!(
        line(r#"custos_kms_errors_total{operation="DescribeKey",error="NotFoundException"}"#),
        1.0
    );
    assert_eq!(
        line(r#"custos_request_duration_seconds_count{api="kms",operation="Encrypt"}"#),
        3.0
    );
    assert_eq!(
        line(r#"custos_request_duration_seconds_bucket{api="kms",operation="Encrypt",le="+Inf"}"#),
        3.0
    );
    assert!(line("custos_connections_total") >= 1.0);
    assert!(line("custos_connections_open") >= 1.0);
    assert_eq!(line("custos_store_healthy"), 1.0);
    // CreateKey committed (at least) once, durably, and timed.
    assert!(line("custos_store_commit_seconds_count") >= 1.0);
    assert_eq!(
        line("custos_store_commit_seconds_count"),
        line(r#"custos_store_commit_seconds_bucket{le="+Inf"}"#)
    );
    assert_eq!(line("custos_store_commit_failures_total"), 0.0);
    // Five authentications with one access key: the first reads the
    // credential, the rest find it cached. Three Encrypts of one key: its
    // policy is parsed once (at most; CreateKey may have cached it).
    assert_eq!(
        line(r#"custos_cache_lookups_total{cache="credential",result="miss"}"#),
        1.0
    );
    assert_eq!(
        line(r#"custos_cache_lookups_total{cache="credential",result="hit"}"#),
        4.0
    );
    assert!(line(r#"custos_cache_lookups_total{cache="key_policy",result="hit"}"#) >= 2.0);
    assert!(line(r#"custos_cache_lookups_total{cache="key_policy",result="miss"}"#) <= 1.0);
    // The server's own scheduler runs a pass at start; one more here.
    let passes = r#"custos_scheduler_passes_total{outcome="done"}"#;
    let before = line(passes);
    server.run_scheduled_pass().await;
    let scraped = String::from_utf8(probe(&server, "/metrics").await.body).expect("text");
    assert_eq!(metric(&scraped, passes), before + 1.0);
    // The pass counted the one key, enabled.
    assert_eq!(metric(&scraped, r#"custos_keys{state="Enabled"}"#), 1.0);
    assert_eq!(
        metric(&scraped, r#"custos_keys{state="PendingDeletion"}"#),
        0.0
    );
    assert!(!scraped.contains(&key) && !scraped.contains(missing));
    server.shutdown().await;
}

/// The store on a disk that fills up: CreateKey fails with AWS's 500
/// while `/readyz` says the store is failing, then, once space is freed,
/// the store reopens by itself and every key that was acknowledged is
/// there. (The audit log is on another disk: its own full-disk behaviour
/// is the test above.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_the_store_answers_500s_then_the_store_reopens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let disk = small_disk(&dir.path().join("small"), "16m");
    let mut config = common::config(&disk.path().join("data"));
    config.audit_dir = Some(dir.path().join("audit"));
    let server = custos_server::start(config).await.expect("server starts");
    let kms = common::without_retries(&client(&server));
    let mut acknowledged = vec![common::new_key(&kms).await];

    let filler = disk.path().join("filler");
    fill(&filler);
    let mut failure = None;
    for _ in 0..10_000 {
        match kms.create_key().description("x".repeat(8192)).send().await {
            Ok(out) => acknowledged.push(out.key_metadata().expect("metadata").key_id().to_owned()),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let e = failure.expect("a full disk fails a write");
    assert_eq!(
        (error_of(&e).0.as_str(), error_of(&e).2),
        ("KMSInternalException", 500),
        "{e:?}"
    );
    let ready = probe(&server, "/readyz").await;
    assert_eq!(ready.status, 503, "{ready:?}");
    assert!(String::from_utf8_lossy(&ready.body).contains(r#""store":"failing""#));
    let scraped = String::from_utf8(probe(&server, "/metrics").await.body).expect("text");
    assert_eq!(metric(&scraped, "custos_store_healthy"), 0.0);
    assert!(metric(&scraped, "custos_store_commit_failures_total") >= 1.0);

    std::fs::remove_file(&filler).expect("free the space");
    let mut resumed = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(out) = kms.create_key().send().await {
            acknowledged.push(out.key_metadata().expect("metadata").key_id().to_owned());
            resumed = true;
            break;
        }
    }
    assert!(resumed, "the store reopened once space was freed");
    assert_eq!(probe(&server, "/readyz").await.status, 200);
    for id in &acknowledged {
        kms.describe_key()
            .key_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("acknowledged key {id} is there: {e:?}"));
    }
    server.shutdown().await;
}
