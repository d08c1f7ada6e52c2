//! IAM and STS as a user would drive them: start `custos server`, paste
//! the environment it prints, and use the official AWS CLI (and boto3,
//! through `tests/interop/iam_boto3.py`).
//!
//! Needs `aws` on the PATH and a Python with boto3 in `CUSTOS_PYTHON`
//! (`scripts/test` installs both into its virtualenv); the tests fail,
//! rather than skip, without them.

mod common;

use std::path::Path;

use custos_test_support::python;

use common::{Server, start_server, with_env};

/// Runs `aws <args>` with the printed environment, the variables in
/// `creds` replacing its own (to act as another principal), and returns
/// its JSON output.
fn aws(server: &Server, home: &Path, creds: &[(&str, &str)], args: &[&str]) -> serde_json::Value {
    let out = with_env("aws", Some(server), home)
        .envs(creds.iter().copied())
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("the AWS CLI (`aws`) is installed: run scripts/test");
    assert!(
        out.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }
}

/// As [`aws`], for a command that must fail; its stderr.
fn aws_fails(server: &Server, home: &Path, creds: &[(&str, &str)], args: &[&str]) -> String {
    let out = with_env("aws", Some(server), home)
        .envs(creds.iter().copied())
        .args(args)
        .output()
        .expect("aws runs");
    assert!(!out.status.success(), "aws {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn str_of<'a>(v: &'a serde_json::Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {v}"))
}

#[test]
fn the_aws_cli_manages_users_and_roles_and_uses_a_role_session() {
    let server = start_server();
    for k in [
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_KMS",
        "AWS_CA_BUNDLE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        assert!(
            server.env.contains_key(k),
            "{k} printed: {:?}",
            server.env.keys()
        );
    }
    let account = server.account();
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work dir");
    let home = home.path();
    let admin: &[(&str, &str)] = &[];

    let me = aws(&server, home, admin, &["sts", "get-caller-identity"]);
    assert_eq!(me["Account"], account.as_str());
    assert_eq!(
        me["Arn"],
        format!("arn:aws:iam::{account}:user/custos-admin").as_str()
    );

    let created = aws(
        &server,
        home,
        admin,
        &["iam", "create-user", "--user-name", "billing-svc"],
    );
    let user_arn = format!("arn:aws:iam::{account}:user/billing-svc");
    assert_eq!(created["User"]["Arn"], user_arn.as_str());
    let key = aws(
        &server,
        home,
        admin,
        &["iam", "create-access-key", "--user-name", "billing-svc"],
    );
    let key_id = str_of(&key["AccessKey"]["AccessKeyId"], "AccessKeyId").to_owned();
    let secret = str_of(&key["AccessKey"]["SecretAccessKey"], "SecretAccessKey").to_owned();
    assert!(key_id.starts_with("AKIA"), "{key_id}");
    assert_eq!(key["AccessKey"]["Status"], "Active");

    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "UseAppKey",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
        }],
    });
    let policy_file = work.path().join("p.json");
    std::fs::write(&policy_file, policy.to_string()).expect("write p.json");
    aws(
        &server,
        home,
        admin,
        &[
            "iam",
            "put-user-policy",
            "--user-name",
            "billing-svc",
            "--policy-name",
            "use-app-key",
            "--policy-document",
            &format!("file://{}", policy_file.display()),
        ],
    );
    let got = aws(
        &server,
        home,
        admin,
        &[
            "iam",
            "get-user-policy",
            "--user-name",
            "billing-svc",
            "--policy-name",
            "use-app-key",
        ],
    );
    assert_eq!(got["UserName"], "billing-svc");
    assert_eq!(got["PolicyName"], "use-app-key");
    // The CLI decodes the URL-encoded document into JSON.
    assert_eq!(got["PolicyDocument"], policy);

    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": user_arn},
            "Action": "sts:AssumeRole",
        }],
    });
    let trust_file = work.path().join("trust.json");
    std::fs::write(&trust_file, trust.to_string()).expect("write trust.json");
    let role = aws(
        &server,
        home,
        admin,
        &[
            "iam",
            "create-role",
            "--role-name",
            "decryptor",
            "--assume-role-policy-document",
            &format!("file://{}", trust_file.display()),
        ],
    );
    let role_arn = format!("arn:aws:iam::{account}:role/decryptor");
    assert_eq!(role["Role"]["Arn"], role_arn.as_str());
    let got = aws(
        &server,
        home,
        admin,
        &["iam", "get-role", "--role-name", "decryptor"],
    );
    assert_eq!(got["Role"]["AssumeRolePolicyDocument"], trust);

    // As billing-svc, with its own key.
    let billing: &[(&str, &str)] = &[
        ("AWS_ACCESS_KEY_ID", &key_id),
        ("AWS_SECRET_ACCESS_KEY", &secret),
    ];
    let me = aws(&server, home, billing, &["sts", "get-caller-identity"]);
    assert_eq!(me["Arn"], user_arn.as_str());
    let err = aws_fails(&server, home, billing, &["iam", "list-users"]);
    assert!(err.contains("AccessDenied"), "{err}");
    assert!(
        err.contains(&format!(
            "User: {user_arn} is not authorized to perform: iam:ListUsers"
        )),
        "{err}"
    );
    let assumed = aws(
        &server,
        home,
        billing,
        &[
            "sts",
            "assume-role",
            "--role-arn",
            &role_arn,
            "--role-session-name",
            "job-42",
        ],
    );
    let session_arn = format!("arn:aws:sts::{account}:assumed-role/decryptor/job-42");
    assert_eq!(assumed["AssumedRoleUser"]["Arn"], session_arn.as_str());
    let creds = &assumed["Credentials"];
    let session_id = str_of(&creds["AccessKeyId"], "AccessKeyId");
    assert!(session_id.starts_with("ASIA"), "{session_id}");

    // As the role session.
    let session: &[(&str, &str)] = &[
        ("AWS_ACCESS_KEY_ID", session_id),
        (
            "AWS_SECRET_ACCESS_KEY",
            str_of(&creds["SecretAccessKey"], "SecretAccessKey"),
        ),
        (
            "AWS_SESSION_TOKEN",
            str_of(&creds["SessionToken"], "SessionToken"),
        ),
    ];
    let me = aws(&server, home, session, &["sts", "get-caller-identity"]);
    assert_eq!(me["Arn"], session_arn.as_str());
    assert_eq!(me["Account"], account.as_str());
    assert!(
        str_of(&me["UserId"], "UserId").ends_with(":job-42"),
        "{}",
        me["UserId"]
    );
    // The role has no policy yet: KMS refuses, in AWS's words.
    let err = aws_fails(&server, home, session, &["kms", "create-key"]);
    assert!(
        err.contains(&format!(
            "User: {session_arn} is not authorized to perform: kms:CreateKey on resource: * \
             because no identity-based policy allows the kms:CreateKey action"
        )),
        "{err}"
    );
    // The administrator lets the role create keys, encrypt, and decrypt
    // acme's data only.
    let role_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["kms:CreateKey", "kms:Encrypt"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "acme"}},
            },
        ],
    });
    let role_policy_file = work.path().join("role-policy.json");
    std::fs::write(&role_policy_file, role_policy.to_string()).expect("write");
    aws(
        &server,
        home,
        admin,
        &[
            "iam",
            "put-role-policy",
            "--role-name",
            "decryptor",
            "--policy-name",
            "acme-only",
            "--policy-document",
            &format!("file://{}", role_policy_file.display()),
        ],
    );
    let key = aws(&server, home, session, &["kms", "create-key"]);
    let kms_key = str_of(&key["KeyMetadata"]["KeyId"], "KeyId").to_owned();
    let key_arn = str_of(&key["KeyMetadata"]["Arn"], "Arn").to_owned();
    let plain = work.path().join("plain.txt");
    std::fs::write(&plain, b"decrypted by a role").expect("write");
    let encrypt_for = |tenant: &str| {
        let enc = aws(
            &server,
            home,
            session,
            &[
                "kms",
                "encrypt",
                "--key-id",
                &kms_key,
                "--plaintext",
                &format!("fileb://{}", plain.display()),
                "--encryption-context",
                &format!("tenant={tenant}"),
            ],
        );
        let blob = base64_decode(str_of(&enc["CiphertextBlob"], "CiphertextBlob"));
        let blob_file = work.path().join(format!("blob-{tenant}.bin"));
        std::fs::write(&blob_file, blob).expect("write blob");
        blob_file
    };
    let decrypt_args = |blob_file: &Path, tenant: &str| {
        vec![
            "kms".to_owned(),
            "decrypt".to_owned(),
            "--ciphertext-blob".to_owned(),
            format!("fileb://{}", blob_file.display()),
            "--encryption-context".to_owned(),
            format!("tenant={tenant}"),
        ]
    };
    let acme = encrypt_for("acme");
    let args = decrypt_args(&acme, "acme");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dec = aws(&server, home, session, &args);
    assert_eq!(
        base64_decode(str_of(&dec["Plaintext"], "Plaintext")),
        b"decrypted by a role"
    );
    // Another tenant's data: the condition does not hold. Without a
    // KeyId, AWS does not say which key it was.
    let other = encrypt_for("globex");
    let args = decrypt_args(&other, "globex");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = aws_fails(&server, home, session, &args);
    assert!(
        err.contains(&format!(
            "User: {session_arn} is not authorized to perform: kms:Decrypt on the resource \
             associated with this ciphertext because the resource does not exist in this \
             Region, no resource-based policies allow access, or a resource-based policy \
             explicitly denies access"
        )),
        "{err}"
    );
    // Naming the key, the refusal names it and the policy type.
    let mut args = decrypt_args(&other, "globex");
    args.extend(["--key-id".to_owned(), key_arn.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = aws_fails(&server, home, session, &args);
    assert!(
        err.contains(&format!(
            "User: {session_arn} is not authorized to perform: kms:Decrypt on resource: \
             {key_arn} because no identity-based policy allows the kms:Decrypt action"
        )),
        "{err}"
    );
}

#[test]
fn boto3_drives_the_iam_and_sts_apis() {
    let server = start_server();
    let home = tempfile::tempdir().expect("home");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/iam_boto3.py");
    let out = with_env(python(), Some(&server), home.path())
        .arg(&script)
        .env("CUSTOS_TEST_ACCOUNT", server.account())
        .output()
        .expect("run the boto3 script");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}
