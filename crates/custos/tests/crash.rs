//! The short kill -9 test: concurrent writers (boto3, four threads each
//! creating keys and aliases and encrypting under them), the server killed
//! with SIGKILL at a random moment, restarted on the same data directory,
//! three times; then every write that was answered must be there. The long
//! version is `scripts/crash-soak`.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use custos_test_support::python;

use common::{Server, start_server_with, with_env};

const ACCESS_KEY: &str = "AKIACRASHTEST0000001";
const SECRET: &str = "crash-test-secret-access-key-000000000";
const CYCLES: usize = 3;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/crash_writers.py")
}

fn start(dir: tempfile::TempDir, secret_file: &Path) -> Server {
    start_server_with(
        dir,
        &[
            "--bootstrap-access-key-id",
            ACCESS_KEY,
            "--bootstrap-secret-access-key-file",
            secret_file.to_str().expect("utf-8 path"),
        ],
        &[],
    )
}

fn writers(server: &Server, home: &Path) -> std::process::Command {
    let mut c = with_env(python(), Some(server), home);
    c.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .arg(script());
    c
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[test]
fn every_answered_write_survives_repeated_kills() {
    let home = tempfile::tempdir().expect("home");
    let secret_file = home.path().join("secret");
    std::fs::write(&secret_file, SECRET).expect("secret");
    std::fs::set_permissions(
        &secret_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let answered = home.path().join("answered.jsonl");
    // A different moment each run, printed so that a failure can be
    // replayed by hand.
    let mut seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos()
        | 1;
    eprintln!("kill schedule seed: {seed}");
    let mut dir = tempfile::tempdir().expect("data dir");
    for cycle in 0..CYCLES {
        let server = start(dir, &secret_file);
        let before = lines(&answered);
        let mut load = writers(&server, home.path())
            .args(["load", answered.to_str().expect("utf-8"), "60", "4"])
            .arg(format!("c{cycle}"))
            .spawn()
            .expect("the writers run (CUSTOS_PYTHON with boto3: run scripts/test)");
        for _ in 0..300 {
            if lines(&answered) >= before + 30 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(
            lines(&answered) >= before + 30,
            "cycle {cycle}: the writers got answers"
        );
        // xorshift: 0 to 1 s more of writes before the kill.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        std::thread::sleep(Duration::from_millis(u64::from(seed % 1000)));
        dir = server.stop();
        let _ = load.kill();
        let _ = load.wait();
    }
    let server = start(dir, &secret_file);
    let out = writers(&server, home.path())
        .args(["check", answered.to_str().expect("utf-8")])
        .output()
        .expect("the check runs");
    assert!(
        out.status.success(),
        "answered writes are missing after {CYCLES} kills: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("counts");
    eprintln!("checked after {CYCLES} kills: {counts}");
    assert!(counts["keys"].as_u64().is_some_and(|n| n >= 30), "{counts}");
    assert!(
        counts["aliases"].as_u64().is_some_and(|n| n > 0),
        "{counts}"
    );
    assert!(
        counts["ciphertexts"].as_u64().is_some_and(|n| n > 0),
        "{counts}"
    );
}
