//! The policy examples of AWS's KMS Developer Guide, run end to end as a
//! user would: start `custos server`, give it a second account
//! (444455556666, the guide's "other account"), and drive both with boto3
//! through `tests/interop/policy_examples_boto3.py`.
//!
//! The script names each example's page, applies the example's key policy
//! or IAM policy, and checks that the request the example allows succeeds
//! and the one it means to refuse gets AWS's `AccessDeniedException`.
//! Where Custos is known to answer differently from the guide, the script
//! lists the case in its `KNOWN_GAPS` (and fails if such a case starts to
//! pass, so that the list stays true).
//!
//! Needs a Python with boto3 in `CUSTOS_PYTHON` (`scripts/test` installs
//! one); the test fails, rather than skips, without it.

mod common;

use std::path::Path;
use std::process::Command;

use custos_test_support::python;

use common::{start_server, start_server_in, with_env};

/// The second account, as the guide's examples spell it.
const OTHER_ACCOUNT: &str = "444455556666";

/// The value of `export NAME=value` in what `custos account create` printed.
fn exported(printed: &str, name: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.strip_prefix(&format!("export {name}=")))
        .unwrap_or_else(|| panic!("{name} printed in {printed}"))
        .to_owned()
}

#[test]
fn the_kms_developer_guide_policy_examples_hold_under_boto3() {
    // The first start prints the bootstrap administrator's secret, once.
    let first = start_server();
    let account = first.account();
    let admin_id = first.env["AWS_ACCESS_KEY_ID"].clone();
    let admin_secret = first.env["AWS_SECRET_ACCESS_KEY"].clone();
    let dir = first.stop();

    let out = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args([
            "account",
            "create",
            "--account-id",
            OTHER_ACCOUNT,
            "--data-dir",
        ])
        .arg(dir.path())
        .env("CUSTOS_LOG", "warn")
        .output()
        .expect("custos account create runs");
    assert!(
        out.status.success(),
        "custos account create failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    let other_id = exported(&printed, "AWS_ACCESS_KEY_ID");
    let other_secret = exported(&printed, "AWS_SECRET_ACCESS_KEY");

    let server = start_server_in(dir);
    let home = tempfile::tempdir().expect("home");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/policy_examples_boto3.py");
    let out = with_env(python(), Some(&server), home.path())
        .arg(&script)
        .env("AWS_ACCESS_KEY_ID", &admin_id)
        .env("AWS_SECRET_ACCESS_KEY", &admin_secret)
        .env("CUSTOS_TEST_ACCOUNT", &account)
        .env("CUSTOS_OTHER_ACCOUNT", OTHER_ACCOUNT)
        .env("CUSTOS_OTHER_ACCESS_KEY_ID", &other_id)
        .env("CUSTOS_OTHER_SECRET_ACCESS_KEY", &other_secret)
        .output()
        .expect("run the boto3 script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The list of examples and known gaps, shown with `--nocapture`.
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{stdout}\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
