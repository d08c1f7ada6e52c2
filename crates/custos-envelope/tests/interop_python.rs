//! Cross-check with another implementation: the AWS Encryption SDK for
//! Python decrypts messages written here, and messages it writes decrypt
//! here, for every suite, several frame lengths and the awkward plaintext
//! lengths, with raw AES and raw RSA keys.
//!
//! It needs the Python SDK, which the test command (`scripts/test`)
//! installs from PyPI and names in `CUSTOS_ESDK_PYTHON`; without it the
//! test fails rather than pass without checking anything.

use std::path::Path;
use std::process::Command;

use custos_crypto::SecretBytes;
use custos_crypto::rsa::{RsaPadding, RsaPrivateKey};
use custos_envelope::{
    AlgorithmSuite, CommitmentPolicy, DecryptOptions, EncryptOptions, EncryptionContext, Keyring,
    RawAesKeyring, RawRsaKeyring, decrypt, encrypt,
};

/// The wrapping key of `python_esdk.py`.
const AES_KEY: [u8; 32] = [0x11; 32];

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The cases: (file stem, suite, frame length, plaintext length, key).
/// The Python SDK only writes frame lengths that are multiples of 128.
fn cases(frames: [u32; 3]) -> Vec<(String, AlgorithmSuite, u32, usize, &'static str)> {
    let mut out = Vec::new();
    for suite in AlgorithmSuite::ALL {
        for frame in frames {
            let f = frame as usize;
            for len in [0, 1, f - 1, f, f + 1, 3 * f] {
                out.push((
                    format!("{:04x}-{frame}-{len}", suite.id()),
                    suite,
                    frame,
                    len,
                    "aes",
                ));
            }
        }
        out.push((
            format!("{:04x}-rsa", suite.id()),
            suite,
            frames[1],
            200,
            "rsa",
        ));
    }
    // Frame length 1 makes some lengths coincide.
    let mut seen = std::collections::HashSet::new();
    out.retain(|case| seen.insert(case.0.clone()));
    out
}

fn python(mode: &str, dir: &Path) {
    let Ok(python) = std::env::var("CUSTOS_ESDK_PYTHON") else {
        panic!("set CUSTOS_ESDK_PYTHON to a Python with aws-encryption-sdk installed");
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/python_esdk.py");
    let status = Command::new(python)
        .arg(script)
        .arg(mode)
        .arg(dir)
        .status()
        .expect("run python");
    assert!(status.success(), "python {mode} failed");
}

#[test]
fn python_esdk_reads_ours_and_we_read_theirs() {
    let rsa = RsaPrivateKey::generate(2048).expect("rsa");
    let rsa_pem = pem(
        "PRIVATE KEY",
        rsa.to_pkcs8_der().expect("der").expose_secret(),
    );
    let aes = RawAesKeyring::new("custos-test", "aes", &SecretBytes::from_slice(&AES_KEY))
        .expect("keyring");
    let rsa = RawRsaKeyring::new(
        "custos-test",
        "rsa",
        RsaPadding::OaepSha256,
        Some(rsa.public_key()),
        Some(rsa),
    )
    .expect("keyring");
    let keys = serde_json::json!({
        "aes": {"kind": "aes", "name": "aes"},
        "rsa": {"kind": "rsa", "name": "rsa", "pem": rsa_pem},
    });
    let context: EncryptionContext = [("purpose", "interop"), ("é", "ü")].into_iter().collect();

    let ours = tempfile::tempdir().expect("dir");
    let theirs = tempfile::tempdir().expect("dir");
    for dir in [ours.path(), theirs.path()] {
        std::fs::write(dir.join("keys.json"), keys.to_string()).expect("write");
    }
    let write_case = |dir: &Path, stem: &str, suite: AlgorithmSuite, frame, len, key| {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let meta = serde_json::json!({
            "suite": suite.id(), "frame_length": frame, "key": key,
            "context": {"purpose": "interop", "é": "ü"},
        });
        std::fs::write(dir.join(format!("{stem}.pt")), &pt).expect("write");
        std::fs::write(dir.join(format!("{stem}.json")), meta.to_string()).expect("write");
        pt
    };
    let their_cases = cases([128, 384, 4096]);
    for (stem, suite, frame, len, key) in &their_cases {
        write_case(theirs.path(), stem, *suite, *frame, *len, key);
    }
    let cases = cases([1, 7, 4096]);
    for (stem, suite, frame, len, key) in &cases {
        let pt = write_case(ours.path(), stem, *suite, *frame, *len, key);
        let keyring: &dyn Keyring = if *key == "aes" { &aes } else { &rsa };
        let options = EncryptOptions {
            suite: Some(*suite),
            frame_length: *frame,
            encryption_context: context.clone(),
            commitment_policy: if suite.is_committing() {
                CommitmentPolicy::RequireEncryptRequireDecrypt
            } else {
                CommitmentPolicy::ForbidEncryptAllowDecrypt
            },
            ..EncryptOptions::default()
        };
        let ct = encrypt(keyring, &options, &pt).expect("encrypt");
        std::fs::write(ours.path().join(format!("{stem}.ct")), ct).expect("write");
    }

    python("decrypt", ours.path());
    python("encrypt", theirs.path());

    let options = DecryptOptions {
        commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
        ..DecryptOptions::default()
    };
    for (stem, suite, _, _, key) in &their_cases {
        let keyring: &dyn Keyring = if *key == "aes" { &aes } else { &rsa };
        let ct = std::fs::read(theirs.path().join(format!("{stem}.ct"))).expect("read");
        let pt = std::fs::read(theirs.path().join(format!("{stem}.pt"))).expect("read");
        let got = decrypt(keyring, options.clone(), &ct)
            .unwrap_or_else(|e| panic!("{stem}: Python's message: {e}"));
        assert_eq!(got.plaintext.expose_secret(), &pt[..], "{stem}");
        assert_eq!(got.header.suite(), *suite);
        assert_eq!(got.encryption_context.get("é"), Some("ü"));
        println!("PASS {stem} (written by Python)");
    }
    println!(
        "{} messages read by Python, {} written by it",
        cases.len(),
        their_cases.len()
    );
}
