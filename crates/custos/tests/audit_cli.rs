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
