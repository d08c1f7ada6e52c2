//! Smoke test as a user would do it: start `custos server`, paste the
//! environment it prints, and drive it with the official AWS CLI.
//!
//! Needs `aws` on the PATH (the test command installs `awscli` from PyPI);
//! it fails, rather than skips, without it.

mod common;

use std::process::Command;

use common::{Server, start_server};

/// Runs `aws kms <args>` with only the printed environment, and returns
/// its JSON output.
fn aws(server: &Server, args: &[&str]) -> serde_json::Value {
    let home = tempfile::tempdir().expect("home");
    let out = Command::new("aws")
        .arg("kms")
        .args(args)
        .args(["--output", "json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .envs(&server.env)
        .output()
        .expect("the AWS CLI (`aws`) is installed: run the test command from the README");
    assert!(
        out.status.success(),
        "aws kms {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }
}

/// As [`aws`], for a command that must fail; returns stderr.
fn aws_fails(server: &Server, args: &[&str]) -> String {
    let home = tempfile::tempdir().expect("home");
    let out = Command::new("aws")
        .arg("kms")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .envs(&server.env)
        .output()
        .expect("aws runs");
    assert!(!out.status.success(), "aws kms {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_aws_cli_works_with_only_the_printed_environment() {
    let server = start_server();
    for k in [
        "AWS_ENDPOINT_URL_KMS",
        "AWS_CA_BUNDLE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        assert!(server.env.contains_key(k), "{k} printed");
    }
    let dir = tempfile::tempdir().expect("tempdir");

    let created = aws(&server, &["create-key", "--description", "from the CLI"]);
    let id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("KeyId")
        .to_owned();
    let arn = created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("Arn")
        .to_owned();
    aws(
        &server,
        &[
            "create-alias",
            "--alias-name",
            "alias/cli",
            "--target-key-id",
            &id,
        ],
    );
    let alias_arn = arn.replace(&format!("key/{id}"), "alias/cli");

    let plain = dir.path().join("plain.txt");
    std::fs::write(&plain, b"hello from the aws cli").expect("write");
    let plain_arg = format!("fileb://{}", plain.display());
    for key in [&id, &arn, "alias/cli", &alias_arn] {
        let enc = aws(
            &server,
            &[
                "encrypt",
                "--key-id",
                key,
                "--plaintext",
                &plain_arg,
                "--encryption-context",
                "app=smoke",
            ],
        );
        assert_eq!(enc["KeyId"], arn.as_str());
        let blob = enc["CiphertextBlob"].as_str().expect("blob");
        let blob_file = dir.path().join("blob.bin");
        std::fs::write(&blob_file, base64_decode(blob)).expect("write blob");
        let blob_arg = format!("fileb://{}", blob_file.display());
        let dec = aws(
            &server,
            &[
                "decrypt",
                "--ciphertext-blob",
                &blob_arg,
                "--encryption-context",
                "app=smoke",
            ],
        );
        assert_eq!(
            base64_decode(dec["Plaintext"].as_str().expect("pt")),
            b"hello from the aws cli"
        );
        let err = aws_fails(&server, &["decrypt", "--ciphertext-blob", &blob_arg]);
        assert!(err.contains("InvalidCiphertextException"), "{err}");
    }

    let dk = aws(
        &server,
        &[
            "generate-data-key",
            "--key-id",
            "alias/cli",
            "--key-spec",
            "AES_256",
        ],
    );
    assert_eq!(
        base64_decode(dk["Plaintext"].as_str().expect("pt")).len(),
        32
    );
    let described = aws(&server, &["describe-key", "--key-id", "alias/cli"]);
    assert_eq!(described["KeyMetadata"]["Description"], "from the CLI");
    let listed = aws(&server, &["list-keys"]);
    assert_eq!(listed["Keys"].as_array().map(Vec::len), Some(1));
    let aliases = aws(&server, &["list-aliases", "--key-id", &id]);
    assert_eq!(aliases["Aliases"][0]["AliasName"], "alias/cli");
    let random = aws(&server, &["generate-random", "--number-of-bytes", "16"]);
    assert_eq!(
        base64_decode(random["Plaintext"].as_str().expect("pt")).len(),
        16
    );
    let err = aws_fails(&server, &["describe-key", "--key-id", "alias/missing"]);
    assert!(err.contains("NotFoundException"), "{err}");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}
