//! `custos audit verify`, as an operator runs it: on a data directory the
//! server wrote (the AWS CLI's requests are in its log), then after a byte
//! of the log was changed, which it must report with the place and kind.

mod common;

use std::process::Command;

use common::{create_key, start_server};

fn verify(dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["audit", "verify", "--data-dir"])
        .arg(dir)
        .env("CUSTOS_LOG", "warn")
        .output()
        .expect("custos runs")
}

#[test]
fn verify_reports_an_intact_log_and_names_an_edited_record() {
    let server = start_server();
    let home = tempfile::tempdir().expect("home");
    let key = create_key(&server, home.path());
    let dir = server.stop_gracefully();

    let out = verify(dir.path());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("chain intact"), "{said}");
    assert!(said.contains("1 signed digests"), "{said}");
    let keys = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["audit", "keys", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("custos runs");
    let listed = String::from_utf8_lossy(&keys.stdout);
    assert!(
        keys.status.success() && listed.lines().count() == 1,
        "{listed}"
    );
    assert!(
        said.contains(listed.split_whitespace().next().unwrap_or("-")),
        "{said}"
    );

    // Exported in CloudTrail's layout, readable as CloudTrail's files are.
    let out_dir = tempfile::tempdir().expect("out");
    let exported = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["audit", "export", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .expect("custos runs");
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let mut found = Vec::new();
    let mut pending = vec![out_dir.path().join("AWSLogs")];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("read") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty());
    let gz = found
        .iter()
        .find(|p| p.to_string_lossy().contains("/CloudTrail/us-east-1/"))
        .expect("a file of the region");
    let unzipped = Command::new("gzip")
        .args(["-dc"])
        .arg(gz)
        .output()
        .expect("gzip runs");
    let file: serde_json::Value = serde_json::from_slice(&unzipped.stdout).expect("json");
    assert!(
        file["Records"]
            .as_array()
            .is_some_and(|r| r.iter().any(|e| e["eventName"] == "CreateKey")),
        "{file}"
    );

    // Change one character of the CreateKey event (its key id).
    let audit = dir.path().join("audit");
    let (_, segment) = custos_audit::chain::segments(&audit)
        .expect("segments")
        .pop()
        .expect("a segment");
    let text = std::fs::read_to_string(&segment).expect("read");
    assert!(text.contains(&key), "the CreateKey event names the key");
    let other = if key.starts_with('f') { "0" } else { "f" };
    let forged = text.replacen(&key, &format!("{other}{}", &key[1..]), 1);
    assert_ne!(forged, text);
    std::fs::write(&segment, forged).expect("write");

    let out = verify(dir.path());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("the record was changed"), "{said}");
    assert!(said.contains("line "), "{said}");
}

/// `aws cloudtrail <args>` with the printed environment; its JSON output.
fn aws_cloudtrail(
    server: &common::Server,
    home: &std::path::Path,
    args: &[&str],
) -> serde_json::Value {
    let out = common::with_env("aws", Some(server), home)
        .arg("cloudtrail")
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("the AWS CLI (`aws`) is installed: run scripts/test");
    assert!(
        out.status.success(),
        "aws cloudtrail {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[test]
fn the_aws_cli_looks_up_events_by_name_resource_and_page() {
    let server = start_server();
    let home = tempfile::tempdir().expect("home");
    let arn = create_key(&server, home.path());
    common::aws_kms(&server, home.path(), &["describe-key", "--key-id", &arn]);
    common::aws_kms(&server, home.path(), &["describe-key", "--key-id", &arn]);

    // GetKeyLastUsage: nothing yet, then the Encrypt, named as in the trail.
    let unused = common::aws_kms(
        &server,
        home.path(),
        &["get-key-last-usage", "--key-id", &arn],
    );
    assert_eq!(unused["KeyId"], arn.as_str());
    assert_eq!(unused["KeyLastUsage"], serde_json::json!({}), "{unused}");
    assert!(unused["TrackingStartDate"].is_string() || unused["TrackingStartDate"].is_number());
    common::aws_kms(
        &server,
        home.path(),
        &["encrypt", "--key-id", &arn, "--plaintext", "aGVsbG8="],
    );
    let used = common::aws_kms(
        &server,
        home.path(),
        &["get-key-last-usage", "--key-id", &arn],
    );
    assert_eq!(used["KeyLastUsage"]["Operation"], "Encrypt", "{used}");
    let encrypt_event = aws_cloudtrail(
        &server,
        home.path(),
        &[
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=Encrypt",
        ],
    );
    assert_eq!(
        used["KeyLastUsage"]["CloudTrailEventId"], encrypt_event["Events"][0]["EventId"],
        "{used} {encrypt_event}"
    );

    let by_name = aws_cloudtrail(
        &server,
        home.path(),
        &[
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=CreateKey",
        ],
    );
    let events = by_name["Events"].as_array().expect("Events");
    assert_eq!(events.len(), 1, "{by_name}");
    assert_eq!(events[0]["EventName"], "CreateKey");
    assert_eq!(events[0]["EventSource"], "kms.amazonaws.com");
    assert_eq!(events[0]["ReadOnly"], "false");
    assert_eq!(events[0]["Username"], "custos-admin");
    assert_eq!(events[0]["Resources"][0]["ResourceName"], arn);
    let full: serde_json::Value =
        serde_json::from_str(events[0]["CloudTrailEvent"].as_str().expect("string"))
            .expect("the event's JSON");
    assert_eq!(full["eventName"], "CreateKey");
    assert_eq!(full["resources"][0]["ARN"], arn);

    let by_resource = aws_cloudtrail(
        &server,
        home.path(),
        &[
            "lookup-events",
            "--lookup-attributes",
            &format!("AttributeKey=ResourceName,AttributeValue={arn}"),
        ],
    );
    let names: Vec<&str> = by_resource["Events"]
        .as_array()
        .expect("Events")
        .iter()
        .filter_map(|e| e["EventName"].as_str())
        .collect();
    // Newest first.
    assert_eq!(
        names,
        [
            "GetKeyLastUsage",
            "Encrypt",
            "GetKeyLastUsage",
            "DescribeKey",
            "DescribeKey",
            "CreateKey"
        ],
        "{by_resource}"
    );

    // One page at a time.
    let first = aws_cloudtrail(
        &server,
        home.path(),
        &[
            "lookup-events",
            "--no-paginate",
            "--max-results",
            "1",
            "--lookup-attributes",
            &format!("AttributeKey=ResourceName,AttributeValue={arn}"),
        ],
    );
    assert_eq!(first["Events"].as_array().map(Vec::len), Some(1));
    let token = first["NextToken"].as_str().expect("a next page");
    let second = aws_cloudtrail(
        &server,
        home.path(),
        &[
            "lookup-events",
            "--no-paginate",
            "--max-results",
            "5",
            "--next-token",
            token,
            "--lookup-attributes",
            &format!("AttributeKey=ResourceName,AttributeValue={arn}"),
        ],
    );
    assert_eq!(
        second["Events"].as_array().map(Vec::len),
        Some(5),
        "{second}"
    );
    assert!(second.get("NextToken").is_none());

    // Reading the trail is itself authorized: a user needs
    // cloudtrail:LookupEvents in an identity policy.
    let iam = |args: &[&str]| -> serde_json::Value {
        let out = common::with_env("aws", Some(&server), home.path())
            .arg("iam")
            .args(args)
            .args(["--output", "json"])
            .output()
            .expect("aws runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    };
    iam(&["create-user", "--user-name", "reader"]);
    let key = iam(&["create-access-key", "--user-name", "reader"]);
    let id = key["AccessKey"]["AccessKeyId"]
        .as_str()
        .expect("id")
        .to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .expect("secret")
        .to_owned();
    let as_reader = || {
        common::with_env("aws", Some(&server), home.path())
            .env("AWS_ACCESS_KEY_ID", &id)
            .env("AWS_SECRET_ACCESS_KEY", &secret)
            .args(["cloudtrail", "lookup-events", "--output", "json"])
            .output()
            .expect("aws runs")
    };
    let refused = as_reader();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("AccessDeniedException")
            && said.contains("is not authorized to perform: cloudtrail:LookupEvents"),
        "{said}"
    );
    iam(&[
        "put-user-policy",
        "--user-name",
        "reader",
        "--policy-name",
        "trail",
        "--policy-document",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:LookupEvents","Resource":"*"}]}"#,
    ]);
    let allowed = as_reader();
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&allowed.stdout).expect("json");
    let names: Vec<&str> = seen["Events"]
        .as_array()
        .expect("Events")
        .iter()
        .filter_map(|e| e["EventName"].as_str())
        .collect();
    // Its own refused lookup is in the trail too.
    assert!(
        names.contains(&"CreateKey") && names.contains(&"LookupEvents"),
        "{names:?}"
    );
    drop(server.stop());
}
