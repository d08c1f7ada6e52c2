//! The official AWS Encryption SDK decrypt test vectors (see
//! `tests/vectors/SOURCE.md`): one test per manifest, iterating every
//! vector and printing one line per vector (`cargo test -- --nocapture`).
//!
//! Every raw AES and raw RSA vector of `v4-Net-4.0.1` and `valid-Net-4.0.0`
//! must decrypt to its plaintext; every vector of `invalid-Net-4.0.0` must
//! fail authentication. AWS KMS vectors are skipped and counted.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use base64::Engine as _;
use custos_crypto::SecretBytes;
use custos_crypto::rsa::RsaPadding;
use custos_envelope::{
    CommitmentPolicy, DecryptOptions, DecryptingReader, Decryptor, EncryptionContext, Error,
    Keyring, MultiKeyring, RawAesKeyring, RawRsaKeyring, decrypt,
};
use serde_json::Value;

const V4: (&str, &str) = (
    "v4-Net-4.0.1.zip",
    "21305589d36d9ee87c86c4c333aa52bbd4edf7f1463b015555579c1c53416f54",
);
const VALID: (&str, &str) = (
    "valid-Net-4.0.0.zip",
    "9daf6663b36292c582d2b8b877557def5321fb1f33d195f320f57a1896e13bb3",
);
const INVALID: (&str, &str) = (
    "invalid-Net-4.0.0.zip",
    "699fe8c293b424b8b158ad5799409164b86055cadf1c0e8d3f862e55d21676f5",
);

/// An unpacked manifest.
struct Manifest {
    dir: tempfile::TempDir,
    manifest: Value,
    keys: Value,
}

/// Checks the zip's hash and unpacks it with Python's `zipfile` module or,
/// failing that, `unzip`. No Rust zip crate is a dependency of Custos.
fn unpack((name, sha256): (&str, &str)) -> Manifest {
    let zip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let bytes = std::fs::read(&zip).unwrap_or_else(|e| panic!("reading {}: {e}", zip.display()));
    assert_eq!(
        hex::encode(custos_crypto::mac::sha256(&bytes)),
        sha256,
        "{name} differs from the copy recorded in tests/vectors/SOURCE.md"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let python = Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(&zip)
        .arg(dir.path())
        .status();
    let ok = match python {
        Ok(s) if s.success() => true,
        _ => Command::new("unzip")
            .arg("-q")
            .arg(&zip)
            .arg("-d")
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false),
    };
    assert!(
        ok,
        "could not unpack {name}: the vector tests need `python3` (zipfile module) or `unzip`"
    );
    let read_json = |p: PathBuf| -> Value {
        serde_json::from_slice(
            &std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
        )
        .expect("json")
    };
    let manifest = read_json(dir.path().join("manifest.json"));
    assert_eq!(manifest["manifest"]["type"], "awses-decrypt");
    assert_eq!(manifest["manifest"]["version"], 4);
    let keys_uri = manifest["keys"].as_str().expect("keys uri");
    let keys = read_json(dir.path().join(keys_uri.trim_start_matches("file://")));
    Manifest {
        dir,
        manifest,
        keys,
    }
}

impl Manifest {
    fn file(&self, uri: &Value) -> Vec<u8> {
        let uri = uri.as_str().expect("uri");
        let path = self.dir.path().join(uri.trim_start_matches("file://"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The tests in ID order.
    fn tests(&self) -> Vec<(&String, &Value)> {
        let mut tests: Vec<_> = self.manifest["tests"]
            .as_object()
            .expect("tests")
            .iter()
            .collect();
        tests.sort_by(|a, b| a.0.cmp(b.0));
        tests
    }

    /// The keyring for a test's master keys, or `None` if one is AWS KMS.
    fn keyring(&self, test: &Value) -> Option<MultiKeyring> {
        let mut children: Vec<Arc<dyn Keyring>> = Vec::new();
        for mk in test["master-keys"].as_array().expect("master keys") {
            if mk["type"] == "aws-kms" {
                return None;
            }
            assert_eq!(mk["type"], "raw", "{mk}");
            let key = &self.keys["keys"][mk["key"].as_str().expect("key")];
            let name = key["key-id"].as_str().expect("key-id");
            let namespace = mk["provider-id"].as_str().expect("provider-id");
            let material = key["material"].as_str().expect("material");
            let keyring: Arc<dyn Keyring> = match mk["encryption-algorithm"].as_str() {
                Some("aes") => {
                    assert_eq!(key["encoding"], "base64");
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(material)
                        .expect("base64");
                    Arc::new(
                        RawAesKeyring::new(namespace, name, &SecretBytes::new(bytes))
                            .expect("aes keyring"),
                    )
                }
                Some("rsa") => {
                    let padding = match (
                        mk["padding-algorithm"].as_str(),
                        mk["padding-hash"].as_str(),
                    ) {
                        (Some("pkcs1"), _) => RsaPadding::Pkcs1v15,
                        (Some("oaep-mgf1"), Some("sha1")) => RsaPadding::OaepSha1,
                        (Some("oaep-mgf1"), Some("sha256")) => RsaPadding::OaepSha256,
                        (Some("oaep-mgf1"), Some("sha384")) => RsaPadding::OaepSha384,
                        (Some("oaep-mgf1"), Some("sha512")) => RsaPadding::OaepSha512,
                        other => panic!("unknown RSA padding {other:?}"),
                    };
                    let (public, private) = match key["type"].as_str() {
                        Some("public") => (Some(material), None),
                        Some("private") => (None, Some(material)),
                        other => panic!("unknown RSA key type {other:?}"),
                    };
                    Arc::new(
                        RawRsaKeyring::from_pem(namespace, name, padding, public, private)
                            .expect("rsa keyring"),
                    )
                }
                other => panic!("unknown raw algorithm {other:?}"),
            };
            children.push(keyring);
        }
        Some(MultiKeyring::new(None, children))
    }

    fn options(&self, test: &Value) -> DecryptOptions {
        let encryption_context = test["encryption-context"].as_object().map(|ec| {
            ec.iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
                .collect::<EncryptionContext>()
        });
        DecryptOptions {
            // The vectors span every suite, old and new.
            commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
            encryption_context,
            ..DecryptOptions::default()
        }
    }
}

/// Decrypts one message twice, in one call and through the streaming
/// reader in small reads, and checks the two agree.
fn decrypt_both_ways(
    keyring: &dyn Keyring,
    options: DecryptOptions,
    ciphertext: &[u8],
) -> Result<Vec<u8>, Error> {
    let whole = decrypt(keyring, options.clone(), ciphertext);
    let mut reader = DecryptingReader::new(SmallReads(ciphertext, 0), keyring, options);
    let mut streamed = Vec::new();
    let streamed = reader.read_to_end(&mut streamed).map(|_| streamed);
    match (whole, streamed) {
        (Ok(w), Ok(s)) => {
            assert_eq!(w.plaintext.expose_secret(), &s[..], "streaming disagrees");
            Ok(s)
        }
        (Err(e), Err(_)) => Err(e),
        (w, s) => panic!(
            "one-shot {:?} but streaming {:?}",
            w.map(|_| ()),
            s.map(|_| ())
        ),
    }
}

/// A reader that returns at most 997 bytes at a time.
struct SmallReads<'a>(&'a [u8], usize);

impl Read for SmallReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(997).min(self.0.len() - self.1);
        buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
}

/// Runs every vector of a manifest that must decrypt.
fn run_positive(zip: (&str, &str), expect_run: usize, expect_skipped: usize) {
    let m = unpack(zip);
    let (mut ran, mut skipped, mut failed) = (0, 0, Vec::new());
    for (id, test) in m.tests() {
        let Some(keyring) = m.keyring(test) else {
            println!("SKIP {id} (aws-kms)");
            skipped += 1;
            continue;
        };
        ran += 1;
        let expected = m.file(&test["result"]["output"]["plaintext"]);
        let ciphertext = m.file(&test["ciphertext"]);
        match decrypt_both_ways(&keyring, m.options(test), &ciphertext) {
            Ok(pt) if pt == expected => println!("PASS {id}"),
            Ok(_) => {
                println!("FAIL {id}: wrong plaintext");
                failed.push(id.clone());
            }
            Err(e) => {
                println!("FAIL {id}: {e}");
                failed.push(id.clone());
            }
        }
    }
    println!(
        "{}: {ran} ran, {} passed, {} failed, {skipped} skipped (aws-kms)",
        zip.0,
        ran - failed.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "failed: {failed:#?}");
    assert_eq!(
        (ran, skipped),
        (expect_run, expect_skipped),
        "vector counts"
    );
}

#[test]
fn v4_net_4_0_1() {
    run_positive(V4, 99, 33);
}

#[test]
fn valid_net_4_0_0() {
    run_positive(VALID, 5, 0);
}

#[test]
fn invalid_net_4_0_0() {
    let m = unpack(INVALID);
    let (mut ran, mut wrong) = (0, Vec::new());
    for (id, test) in m.tests() {
        let keyring = m.keyring(test).expect("raw keys only");
        ran += 1;
        let ciphertext = m.file(&test["ciphertext"]);
        // Where does it fail? Feed the whole message and see whether the
        // header was accepted.
        let mut d = Decryptor::new(&keyring, m.options(test));
        let early = d.update(&ciphertext, &mut Vec::new());
        let stage = if d.header().is_some() {
            "body"
        } else {
            "header"
        };
        match decrypt_both_ways(&keyring, m.options(test), &ciphertext) {
            Err(Error::AuthenticationFailed) if early.is_err() && stage == "header" => {
                println!("PASS {id}: rejected (header authentication failed)")
            }
            Err(e) => {
                println!("FAIL {id}: rejected for the wrong reason or at the {stage}: {e}");
                wrong.push(id.clone());
            }
            Ok(_) => {
                println!("FAIL {id}: decrypted");
                wrong.push(id.clone());
            }
        }
    }
    println!(
        "{}: {ran} ran, {} rejected as expected, {} not",
        INVALID.0,
        ran - wrong.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "not rejected as expected: {wrong:#?}");
    assert_eq!(ran, 28, "vector count");
}
