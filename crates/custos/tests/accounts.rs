//! `custos account create` and `custos account list`, as an operator runs
//! them on a stopped server's data directory, and what the new account's
//! administrator can then do with the AWS CLI: only its own account.

mod common;

use std::process::Command;

use common::{Server, start_server, start_server_in, with_env};

/// `aws <args>` with the server's environment and, when given, other
/// credentials; its JSON output.
fn aws(server: &Server, credentials: Option<(&str, &str)>, args: &[&str]) -> serde_json::Value {
    let home = tempfile::tempdir().expect("home");
    let mut command = with_env("aws", Some(server), home.path());
    if let Some((id, secret)) = credentials {
        command
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret);
    }
    let out = command
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("the AWS CLI (`aws`) is installed: run the test command from the README");
    assert!(
        out.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn custos_account(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .arg("account")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("CUSTOS_LOG", "warn")
        .output()
        .expect("custos runs")
}

#[test]
fn an_operator_creates_an_account_whose_admin_sees_only_it() {
    let server = start_server();
    let first = server.account();
    let first_admin = (
        server.env["AWS_ACCESS_KEY_ID"].clone(),
        server.env["AWS_SECRET_ACCESS_KEY"].clone(),
    );
    let key = aws(&server, None, &["kms", "create-key"])["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("key id")
        .to_owned();
    let dir = server.stop();

    let out = custos_account(dir.path(), &["create", "--account-id", "222233334444"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        printed.contains("Account 222233334444 created"),
        "{printed}"
    );
    let value = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("{name} printed"))
            .to_owned()
    };
    let (id, secret) = (value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY"));

    // The same id again is refused; a malformed one too.
    let again = custos_account(dir.path(), &["create", "--account-id", "222233334444"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = custos_account(dir.path(), &["create", "--account-id", "12"]);
    assert!(!bad.status.success());

    let list = custos_account(dir.path(), &["list"]);
    assert!(list.status.success());
    let listed = String::from_utf8(list.stdout).expect("utf-8");
    assert!(
        listed.contains(&first) && listed.contains("222233334444"),
        "{listed}"
    );

    let server = start_server_in(dir);
    let me = aws(
        &server,
        Some((&id, &secret)),
        &["sts", "get-caller-identity"],
    );
    assert_eq!(me["Account"], "222233334444");
    assert_eq!(me["Arn"], "arn:aws:iam::222233334444:user/custos-admin");
    // The new account has no keys, and the first account's key policy
    // does not let it use theirs.
    let keys = aws(&server, Some((&id, &secret)), &["kms", "list-keys"]);
    assert_eq!(keys["Keys"].as_array().map(Vec::len), Some(0));
    let home = tempfile::tempdir().expect("home");
    let out = with_env("aws", Some(&server), home.path())
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .args(["kms", "describe-key", "--key-id"])
        .arg(format!("arn:aws:kms:us-east-1:{first}:key/{key}"))
        .output()
        .expect("aws runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("AccessDeniedException"));
    // Nor its users.
    let users = aws(&server, Some((&id, &secret)), &["iam", "list-users"]);
    let names: Vec<&str> = users["Users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["UserName"].as_str())
        .collect();
    assert_eq!(names, ["custos-admin"]);
    // The bootstrap secret is not printed again, and the first account's
    // administrator still works after the restart.
    assert!(!server.env.contains_key("AWS_SECRET_ACCESS_KEY"));
    let me = aws(
        &server,
        Some((&first_admin.0, &first_admin.1)),
        &["sts", "get-caller-identity"],
    );
    assert_eq!(me["Account"], first.as_str());
}
