//! No answered request is missing from the audit log after a crash: a
//! load of Encrypt requests (boto3, eight threads, each answered request id
//! written down as soon as it is answered), the server killed with SIGKILL
//! in the middle, then every written-down request id must be in the log,
//! and the log must verify.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use custos_test_support::python;

use common::{create_key, start_server, with_env};

#[test]
fn every_answered_request_survives_a_kill_in_the_audit_log() {
    let server = start_server();
    let home = tempfile::tempdir().expect("home");
    let key = create_key(&server, home.path());
    let ids_file = home.path().join("answered.txt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/audit_crash_load.py");
    let mut load = with_env(python(), Some(&server), home.path())
        .arg(&script)
        .arg(&key)
        .arg(&ids_file)
        .arg("6")
        .spawn()
        .expect("the load runs (CUSTOS_PYTHON with boto3: run scripts/test)");
    // Let answers accumulate, then crash the server under load.
    let mut answered = 0;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        answered = std::fs::read_to_string(&ids_file)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if answered >= 200 {
            break;
        }
    }
    assert!(answered >= 200, "the load got {answered} answers");
    let dir = server.stop();
    let _ = load.wait();

    let audit = dir.path().join("audit");
    let report = custos_audit::verify::verify(&audit).expect("the log verifies after the crash");
    // Read as the server leaves it after a crash: the segment being
    // written is zero-filled after its records.
    let mut logged = HashSet::new();
    custos_audit::chain::for_each_event(&audit, |_, event| {
        if let Some(id) = event["requestID"].as_str() {
            logged.insert(id.to_owned());
        }
    })
    .expect("segments");
    let ids = std::fs::read_to_string(&ids_file).expect("ids");
    let missing: Vec<&str> = ids.lines().filter(|id| !logged.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered requests are not in the log ({} records): {:?}",
        missing.len(),
        ids.lines().count(),
        report.records,
        &missing[..missing.len().min(5)]
    );
}
