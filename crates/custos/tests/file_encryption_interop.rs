//! `custos encrypt|decrypt` against the official `aws-encryption-cli`, both
//! using keys in a real `custos server`, as a user would: the server's
//! printed environment is the only configuration either tool gets.
//!
//! For every algorithm suite the official CLI offers: Custos encrypts a
//! directory (empty file, exactly one frame, three frames, one frame and a
//! bit, a few MiB) and `aws-encryption-cli` decrypts it; then the other way
//! round. Then the KMS keyring's behaviour: several keys, strict and
//! discovery mode, and the one-line errors for a wrong key, a wrong
//! encryption context, a disabled key, a tampered and a truncated file —
//! none of which may leave an output file behind.
//!
//! Needs `aws` and `aws-encryption-cli` on the PATH (`scripts/test`
//! installs both into its virtualenv); fails, rather than skips, without.

mod common;

use std::path::Path;

use common::{
    Server, aws_kms, create_key, custos, data, encryption_cli, fails, ok, start_server, tree,
    with_env,
};

/// The suites, by the official CLI's names, and whether they commit.
const SUITES: [(&str, bool); 11] = [
    ("AES_128_GCM_IV12_TAG16", false),
    ("AES_192_GCM_IV12_TAG16", false),
    ("AES_256_GCM_IV12_TAG16", false),
    ("AES_128_GCM_IV12_TAG16_HKDF_SHA256", false),
    ("AES_192_GCM_IV12_TAG16_HKDF_SHA256", false),
    ("AES_256_GCM_IV12_TAG16_HKDF_SHA256", false),
    ("AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256", false),
    ("AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384", false),
    ("AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384", false),
    ("AES_256_GCM_HKDF_SHA512_COMMIT_KEY", true),
    ("AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", true),
];

const FRAME: usize = 4096;

/// The plaintexts every suite is tried on.
fn corpus(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for (name, len) in [
        ("empty", 0),
        ("one-frame", FRAME),
        ("three-frames", 3 * FRAME),
        ("frame-and-a-bit", FRAME + 1),
        ("large", (3 << 20) + 123),
    ] {
        std::fs::write(dir.join(name), data(len, len as u8)).expect("write");
    }
}

/// Checks that every file of `plain` came back in `out` under `name` +
/// `suffix`.
fn same_files(plain: &Path, out: &Path, suffix: &str, what: &str) {
    let names = tree(plain);
    let expected: Vec<String> = names.iter().map(|n| format!("{n}{suffix}")).collect();
    assert_eq!(tree(out), expected, "{what}: output files");
    for n in names {
        let a = std::fs::read(plain.join(&n)).expect("read");
        let b = std::fs::read(out.join(format!("{n}{suffix}"))).expect("read");
        assert!(a == b, "{what}: {n} differs after the round trip");
    }
}

fn python_cli(server: &Server, home: &Path, args: &[&str]) -> std::process::Output {
    with_env(encryption_cli(), Some(server), home)
        .args(args)
        .output()
        .expect("run aws-encryption-cli")
}

#[test]
fn custos_and_the_official_cli_read_each_other_in_every_suite() {
    let server = start_server();
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let key = create_key(&server, home);
    let work = tempfile::tempdir().expect("work");
    let work = work.path();
    let plain = work.join("plain");
    corpus(&plain);

    // Two suites at a time: the machine's cores are few, and each official
    // CLI run spends most of its time starting Python.
    std::thread::scope(|s| {
        for pair in SUITES.chunks(SUITES.len().div_ceil(2)) {
            let (server, key, plain) = (&server, &key, &plain);
            s.spawn(move || {
                for &(suite, committing) in pair {
                    round_trips(server, home, work, plain, key, suite, committing);
                }
            });
        }
    });
}

fn round_trips(
    server: &Server,
    home: &Path,
    work: &Path,
    plain: &Path,
    key: &str,
    suite: &str,
    committing: bool,
) {
    let encrypt_policy = if committing {
        "require-encrypt-require-decrypt"
    } else {
        "forbid-encrypt-allow-decrypt"
    };
    let dir = work.join(suite);
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let plain_s = plain.to_string_lossy().into_owned();
    let w = format!("key={key}");
    // The official CLI wants existing output directories.
    for d in ["python-dec", "python-enc"] {
        std::fs::create_dir_all(dir.join(d)).expect("mkdir");
    }

    // Custos encrypts, the official CLI decrypts.
    let out = custos(
        Some(server),
        home,
        work,
        &[
            "encrypt",
            "-i",
            &plain_s,
            "-r",
            "-o",
            &(p("custos-enc") + "/"),
            "-w",
            &w,
            "--algorithm",
            suite,
            "--commitment-policy",
            encrypt_policy,
            "-c",
            "purpose=interop",
            "suite=test",
        ],
    );
    ok(&out, &format!("custos encrypt {suite}"));
    let out = python_cli(
        server,
        home,
        &[
            "-d",
            "-i",
            &p("custos-enc"),
            "-r",
            "-o",
            &(p("python-dec") + "/"),
            "-w",
            &w,
            "--commitment-policy",
            "require-encrypt-allow-decrypt",
            "-S",
            "-c",
            "purpose=interop",
        ],
    );
    ok(&out, &format!("aws-encryption-cli decrypt {suite}"));
    same_files(
        plain,
        &dir.join("python-dec"),
        ".encrypted.decrypted",
        suite,
    );

    // The official CLI encrypts, Custos decrypts.
    let out = python_cli(
        server,
        home,
        &[
            "-e",
            "-i",
            &plain_s,
            "-r",
            "-o",
            &(p("python-enc") + "/"),
            "-w",
            &w,
            "--algorithm",
            suite,
            "--commitment-policy",
            encrypt_policy,
            "--frame-length",
            &FRAME.to_string(),
            "-S",
            "-c",
            "purpose=interop",
        ],
    );
    ok(&out, &format!("aws-encryption-cli encrypt {suite}"));
    let out = custos(
        Some(server),
        home,
        work,
        &[
            "decrypt",
            "-i",
            &p("python-enc"),
            "-r",
            "-o",
            &(p("custos-dec") + "/"),
            "-w",
            &w,
            "--commitment-policy",
            "require-encrypt-allow-decrypt",
            "-c",
            "purpose=interop",
        ],
    );
    ok(&out, &format!("custos decrypt {suite}"));
    same_files(
        plain,
        &dir.join("custos-dec"),
        ".encrypted.decrypted",
        suite,
    );
}

#[test]
fn kms_keys_strict_and_discovery_and_errors_users_can_act_on() {
    let server = start_server();
    let home = tempfile::tempdir().expect("home");
    let home = home.path();
    let key_a = create_key(&server, home);
    let key_b = create_key(&server, home);
    let account = server.account();
    let work = tempfile::tempdir().expect("work");
    let work = work.path();
    std::fs::write(work.join("secret"), data(200_000, 7)).expect("write");
    let run = |args: &[&str]| custos(Some(&server), home, work, args);
    let wa = format!("key={key_a}");
    let wb = format!("key={key_b}");

    // Two keys: either opens the file, for Custos and the official CLI.
    ok(
        &run(&[
            "encrypt", "-i", "secret", "-o", "both", "-w", &wa, &wb, "-c", "app=x",
        ]),
        "encrypt under two keys",
    );
    for w in [&wa, &wb] {
        ok(
            &run(&["decrypt", "-i", "both", "-o", "back", "-w", w]),
            "decrypt with one key",
        );
        assert_eq!(
            std::fs::read(work.join("back")).expect("read"),
            data(200_000, 7)
        );
        let out = python_cli(
            &server,
            home,
            &[
                "-d",
                "-i",
                &work.join("both").to_string_lossy(),
                "-o",
                &work.join("py-back").to_string_lossy(),
                "-w",
                w,
                "-S",
            ],
        );
        ok(&out, "aws-encryption-cli decrypt with one key");
        assert_eq!(
            std::fs::read(work.join("py-back")).expect("read"),
            data(200_000, 7)
        );
    }
    let inspected = run(&["inspect", "both"]);
    ok(&inspected, "inspect");
    let text = String::from_utf8_lossy(&inspected.stdout);
    assert!(text.contains(&format!("KMS key {key_a}")), "{text}");
    assert!(text.contains(&format!("KMS key {key_b}")), "{text}");
    assert!(text.contains("  app = x"), "{text}");

    // An alias for encrypting; discovery, with and without a filter.
    aws_kms(
        &server,
        home,
        &[
            "create-alias",
            "--alias-name",
            "alias/files",
            "--target-key-id",
            &key_a,
        ],
    );
    ok(
        &run(&[
            "encrypt",
            "-i",
            "secret",
            "-o",
            "by-alias",
            "-w",
            "key=alias/files",
        ]),
        "alias",
    );
    ok(
        &run(&[
            "decrypt",
            "-i",
            "by-alias",
            "-o",
            "disc",
            "-w",
            "discovery=true",
        ]),
        "discovery",
    );
    let filter = format!("discovery-account={account}");
    ok(
        &run(&[
            "decrypt",
            "-i",
            "by-alias",
            "-o",
            "disc",
            "-w",
            "discovery=true",
            "discovery-partition=aws",
            &filter,
        ]),
        "discovery with the account",
    );
    let err = fails(
        &run(&[
            "decrypt",
            "-i",
            "by-alias",
            "-o",
            "nope",
            "-w",
            "discovery=true",
            "discovery-partition=aws",
            "discovery-account=000000000000",
        ]),
        "discovery in another account",
    );
    assert!(
        err.contains("none of the wrapping keys given with -w can decrypt this file"),
        "{err}"
    );

    // The wrong key: named in the message, with the key the file wants.
    let only_a = "only-a";
    ok(
        &run(&["encrypt", "-i", "secret", "-o", only_a, "-w", &wa]),
        "encrypt under A",
    );
    let err = fails(
        &run(&["decrypt", "-i", only_a, "-o", "nope", "-w", &wb]),
        "wrong key",
    );
    assert_eq!(
        err.trim_end(),
        format!(
            "custos: decrypt {only_a}: none of the wrapping keys given with -w can decrypt this \
             file; it was encrypted for KMS key {key_a}"
        )
    );
    // A decrypt key must be an ARN: an alias could never match the file.
    let err = fails(
        &run(&[
            "decrypt",
            "-i",
            only_a,
            "-o",
            "nope",
            "-w",
            "key=alias/files",
        ]),
        "alias",
    );
    assert!(err.contains("decrypting needs the key ARN"), "{err}");

    // A wrong encryption context: KMS refuses the data key.
    let err = fails(
        &run(&[
            "decrypt", "-i", "both", "-o", "nope", "-w", &wa, "-c", "app=x", "extra=1",
        ]),
        "extra context",
    );
    assert!(err.contains("InvalidCiphertextException"), "{err}");
    assert!(err.contains("the encryption context is wrong"), "{err}");
    let err = fails(
        &run(&[
            "decrypt", "-i", "both", "-o", "nope", "-w", &wa, "-c", "app=y",
        ]),
        "ctx",
    );
    assert!(err.contains("-c app=y but the file has app=x"), "{err}");

    // Tampering and truncation, after the data key unwrapped.
    let ct = std::fs::read(work.join("both")).expect("read");
    let mut flipped = ct.clone();
    let i = ct.len() - 5000;
    flipped[i] ^= 0x01;
    std::fs::write(work.join("flipped"), &flipped).expect("write");
    std::fs::write(work.join("cut"), &ct[..ct.len() - 1000]).expect("write");
    let err = fails(
        &run(&["decrypt", "-i", "flipped", "-o", "nope", "-w", &wa]),
        "flipped",
    );
    assert!(err.contains("failed authentication"), "{err}");
    let err = fails(
        &run(&["decrypt", "-i", "cut", "-o", "nope", "-w", &wa]),
        "cut",
    );
    assert!(err.contains("truncated"), "{err}");

    // A disabled key.
    aws_kms(&server, home, &["disable-key", "--key-id", &key_b]);
    let err = fails(
        &run(&["encrypt", "-i", "secret", "-o", "nope", "-w", &wb]),
        "disabled",
    );
    assert!(err.contains("the KMS key is disabled"), "{err}");
    assert!(err.contains("DisabledException"), "{err}");

    // No failure left anything under the output name, nor a temporary file.
    for name in tree(work) {
        assert!(!name.starts_with("nope"), "{name} left behind");
        assert!(!name.starts_with(".custos-"), "{name} left behind");
    }
}

/// A KMS that denies everything, to see the message for a missing
/// permission (the server grants every identity of its account).
#[test]
fn a_missing_permission_is_reported_as_such() {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            // Read the request head and body, then deny.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let len = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .and_then(|v| v.trim().parse::<usize>().ok())
                        })
                        .unwrap_or(0);
                    if buf.len() >= head_end + 4 + len {
                        break;
                    }
                }
            }
            let body = r#"{"__type":"AccessDeniedException","message":"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: kms:GenerateDataKey"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");
    std::fs::write(work.path().join("f"), b"x").expect("write");
    let out = common::with_env(env!("CARGO_BIN_EXE_custos"), None, home.path())
        .current_dir(work.path())
        .env("AWS_ENDPOINT_URL_KMS", &endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args([
            "encrypt",
            "-i",
            "f",
            "-o",
            "f.enc",
            "-w",
            "key=arn:aws:kms:us-east-1:111122223333:key/k",
        ])
        .output()
        .expect("run");
    let err = fails(&out, "encrypt without permission");
    assert!(
        err.starts_with(
            "custos: encrypt f: permission denied: this identity may not use the key: \
                         kms:GenerateDataKey with arn:aws:kms:us-east-1:111122223333:key/k: \
                         AccessDeniedException: User: "
        ),
        "{err}"
    );
    assert!(!work.path().join("f.enc").exists());
}
