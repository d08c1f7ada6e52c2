//! The server's logs as an operator's pipeline meets them: a standard
//! error nobody reads, or one that is closed, never holds a request; text
//! logs carry no colour codes when not on a terminal; JSON logs are one
//! object per line; no secret reaches them.

mod common;

use std::io::Read as _;
use std::process::Stdio;

use custos_test_support::python;

use common::{start_server_logging_to, with_env};

/// `n` refused requests (a wrong secret: each one is a debug log line),
/// then one that works; the script prints `ok` at the end.
const LOAD: &str = r#"
import os, sys, boto3, botocore
n = int(sys.argv[1])
cfg = botocore.config.Config(retries={"max_attempts": 1})
bad = boto3.client("kms", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key="wrong-secret-0123456789", config=cfg)
for _ in range(n):
    try:
        bad.list_keys()
        sys.exit("a wrong secret was accepted")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidSignatureException", e
key = boto3.client("kms", config=cfg).create_key()["KeyMetadata"]["KeyId"]
print("ok", key)
"#;

fn load(server: &common::Server, home: &std::path::Path, n: usize) -> String {
    let out = with_env(python(), Some(server), home)
        .args(["-c", LOAD, &n.to_string()])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_standard_error_nobody_reads_or_a_closed_one_never_holds_a_request() {
    let home = tempfile::tempdir().expect("home");
    // Debug logs, to a pipe that is never read: a pipe holds 64 KiB, and
    // 1,500 refusals log well over that.
    let mut server = start_server_logging_to(
        tempfile::tempdir().expect("data"),
        &[],
        &[("CUSTOS_LOG", "debug")],
        Stdio::piped(),
    );
    assert!(load(&server, home.path(), 1500).starts_with("ok "));
    // The reader goes away: writes fail with a broken pipe, requests do
    // not.
    drop(server.take_stderr());
    assert!(load(&server, home.path(), 200).starts_with("ok "));
}

#[test]
fn text_logs_have_no_colour_codes_off_a_terminal_and_json_logs_are_json() {
    let home = tempfile::tempdir().expect("home");
    for format in ["text", "json"] {
        let mut server = start_server_logging_to(
            tempfile::tempdir().expect("data"),
            &[],
            &[("CUSTOS_LOG", "debug"), ("CUSTOS_LOG_FORMAT", format)],
            Stdio::piped(),
        );
        let mut stderr = server.take_stderr().expect("piped");
        assert!(load(&server, home.path(), 3).starts_with("ok "));
        let secret = server.env["AWS_SECRET_ACCESS_KEY"].clone();
        // SIGTERM: the server logs its shutdown and flushes its logs.
        drop(server.stop_gracefully());
        let mut text = String::new();
        stderr.read_to_string(&mut text).expect("read logs");
        assert!(text.contains("shutting down"), "{format}: {text}");
        assert!(!text.contains('\u{1b}'), "{format}: colour codes in {text}");
        assert!(!text.contains(&secret), "{format}: the secret was logged");
        assert!(!text.contains("wrong-secret-0123456789"));
        if format == "json" {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
            }
        }
    }
}
