//! The seed corpus of every target, written by
//! `cargo test -p custos --test fuzz_corpus -- --ignored write_seed_corpus`
//! (see `docs/fuzzing.md`). Compiled only by that test, next to
//! `targets.rs` (as `crate::targets`).
//!
//! Seeds are real inputs: requests signed as the SDKs sign them, the JSON
//! bodies of every KMS operation, ciphertext blobs and Encryption SDK
//! messages made by Custos itself, the official ESDK test vectors, the
//! policy documents of the documentation and the tests, and IAM and STS
//! Query requests of every action. Each is checked to reach past the
//! parser's first refusal where it is meant to (a signed request verifies,
//! a message decrypts), so that the fuzzer starts deep.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine as _;

use crate::targets;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Form-encodes `text` as the AWS SDKs do (RFC 3986 unreserved kept).
fn form(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A corpus directory being written.
struct Dir<'a> {
    dir: &'a Path,
    count: usize,
}

impl Dir<'_> {
    fn put(&mut self, label: &str, bytes: &[u8]) {
        let name: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        std::fs::write(self.dir.join(format!("seed-{name}")), bytes).expect("write a seed");
        self.count += 1;
    }
}

/// Writes the seeds of every target under `corpus` (`fuzz/corpus`), next
/// to whatever is there; `repo` is the repository root, `shared` the
/// folder holding `esdk-test-vectors/`. Returns the number of seeds per
/// target.
pub fn write_all(corpus: &Path, repo: &Path, shared: &Path) -> Vec<(&'static str, usize)> {
    let mut counts = Vec::new();
    for &target in targets::TARGETS {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).expect("create a corpus directory");
        let mut d = Dir {
            dir: &dir,
            count: 0,
        };
        match target {
            "sigv4" => sigv4(&mut d),
            "kms_json" => kms_json(&mut d),
            "ciphertext_blob" => ciphertext_blob(&mut d, repo),
            "esdk_message" => esdk_message(&mut d, shared),
            "policy" => policy(&mut d, repo),
            "iam_query" => iam_query(&mut d),
            other => panic!("no seeds for target {other}"),
        }
        counts.push((target, d.count));
    }
    counts
}

// ---------------------------------------------------------------------------

const PLACEHOLDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Signs a request written in the `sigv4` target's format whose signature
/// is [`PLACEHOLDER`], with [`targets::SIGV4_SECRET`], and checks that it
/// verifies.
fn sign(unsigned: &str) -> Vec<u8> {
    let raw = targets::RawRequest::parse(unsigned.as_bytes());
    let parts = raw.parts();
    let signed = custos_sigv4::parse(&parts).expect("a well-formed seed");
    let signature = targets::sigv4_signature(
        targets::SIGV4_SECRET,
        signed.scope_date(),
        signed.region(),
        signed.service(),
        &signed.string_to_sign(),
    );
    let out = unsigned.replacen(PLACEHOLDER, &signature, 1);
    let raw = targets::RawRequest::parse(out.as_bytes());
    let parts = raw.parts();
    let signed = custos_sigv4::parse(&parts).expect("a well-formed seed");
    signed
        .verify(
            &custos_crypto::SecretBytes::from_slice(targets::SIGV4_SECRET),
            signed.signed_at(),
        )
        .expect("the seed verifies");
    out.into_bytes()
}

fn sigv4(d: &mut Dir<'_>) {
    let key = "AKIAIOSFODNN7EXAMPLE";
    let body = r#"{"KeyId":"alias/app","Plaintext":"aGVsbG8="}"#;
    let header_form = |extra: &str, signed: &str, path: &str, body: &str| {
        format!(
            "POST {path}\nhost: kms.us-east-1.amazonaws.com\ncontent-type: application/x-amz-json-1.1\n\
             x-amz-target: TrentService.Encrypt\nx-amz-date: 20240115T103000Z\n{extra}\
             authorization: AWS4-HMAC-SHA256 Credential={key}/20240115/us-east-1/kms/aws4_request, \
             SignedHeaders={signed}, Signature={PLACEHOLDER}\n\n{body}"
        )
    };
    d.put(
        "kms-encrypt",
        &sign(&header_form(
            "",
            "content-type;host;x-amz-date;x-amz-target",
            "/",
            body,
        )),
    );
    let hash = hex::encode(custos_crypto::mac::sha256(body.as_bytes()));
    d.put(
        "kms-encrypt-content-sha256-token",
        &sign(&header_form(
            &format!("x-amz-content-sha256: {hash}\nx-amz-security-token: FQoGZXIvYXdzEXAMPLE\n"),
            "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target",
            "/",
            body,
        )),
    );
    d.put(
        "path-and-query-canonicalisation",
        &sign(&format!(
            "GET /a/./b/../c%3A//d?b=2&a=1&a=0&c=%20+x&empty=&flag\n\
             host: example.amazonaws.com\nx-amz-date: 20240115T103000Z\n\
             my-header:   spaced    value  \nmy-header: second\n\
             authorization: AWS4-HMAC-SHA256 Credential={key}/20240115/us-east-1/service/aws4_request, \
             SignedHeaders=host;my-header;x-amz-date, Signature={PLACEHOLDER}\n\n"
        )),
    );
    d.put(
        "date-header",
        &sign(&format!(
            "POST /\nhost: kms.eu-west-1.amazonaws.com\ndate: Mon, 15 Jan 2024 10:30:00 GMT\n\
             x-amz-target: TrentService.ListKeys\n\
             authorization: AWS4-HMAC-SHA256 Credential={key}/20240115/eu-west-1/kms/aws4_request,\
             SignedHeaders=date;host;x-amz-target,Signature={PLACEHOLDER}\n\n{{}}"
        )),
    );
    let presigned = |service: &str, query: &str| {
        // Parameters already in canonical (sorted) order, as a presigner
        // writes them; the signature goes last.
        format!(
            "GET /?{query}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={key}%2F20240115%2Fus-east-1%2F{service}%2Faws4_request\
             &X-Amz-Date=20240115T103000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host\
             &X-Amz-Signature={PLACEHOLDER}\nhost: {service}.amazonaws.com\n\n"
        )
    };
    d.put(
        "presigned-sts-get-caller-identity",
        &sign(&presigned(
            "sts",
            "Action=GetCallerIdentity&Version=2011-06-15&",
        )),
    );
    d.put(
        "presigned-with-token",
        &sign(&format!(
            "GET /?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential={key}%2F20240115%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20240115T103000Z\
             &X-Amz-Expires=900&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE%2B%2F%3D&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id\
             &X-Amz-Signature={PLACEHOLDER}\nhost: sts.amazonaws.com\nx-k8s-aws-id: my-cluster\n\n"
        )),
    );
    let iam_body = "Action=CreateUser&UserName=alice&Version=2010-05-08";
    d.put(
        "iam-form",
        &sign(&format!(
            "POST /\nhost: iam.amazonaws.com\ncontent-type: application/x-www-form-urlencoded; charset=utf-8\n\
             x-amz-date: 20240115T103000Z\n\
             authorization: AWS4-HMAC-SHA256 Credential={key}/20240115/us-east-1/iam/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, Signature={PLACEHOLDER}\n\n{iam_body}"
        )),
    );
    // Refusals: each reaches a different error.
    d.put(
        "unsigned",
        b"POST /\nhost: kms.us-east-1.amazonaws.com\nx-amz-target: TrentService.ListKeys\n\n{}",
    );
    d.put(
        "sigv4a",
        format!(
            "POST /\nhost: h\nx-amz-date: 20240115T103000Z\nauthorization: AWS4-ECDSA-P256-SHA256 \
             Credential={key}/20240115/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\n\n"
        )
        .as_bytes(),
    );
    d.put(
        "ambiguous",
        format!(
            "GET /?X-Amz-Algorithm=AWS4-HMAC-SHA256\nhost: h\nauthorization: AWS4-HMAC-SHA256 \
             Credential={key}/20240115/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00\n\n"
        )
        .as_bytes(),
    );
    d.put(
        "unsorted-signed-headers",
        format!(
            "POST /\nhost: h\nx-amz-date: 20240115T103000Z\nauthorization: AWS4-HMAC-SHA256 \
             Credential={key}/20240115/us-east-1/kms/aws4_request, SignedHeaders=x-amz-date;host, Signature=00\n\n"
        )
        .as_bytes(),
    );
}

// ---------------------------------------------------------------------------

const KEY_ID: &str = "1234abcd-12ab-44cd-96ef-1234567890ab";
const KEY_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-44cd-96ef-1234567890ab";
const KEY_POLICY: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyUsers"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"acme"},"Bool":{"aws:SecureTransport":"true"}}}]}"#;

fn kms_json(d: &mut Dir<'_>) {
    let material = custos_crypto::Key256::from_slice(&targets::CIPHERTEXT_MATERIAL).expect("key");
    let blob = custos_kms::ciphertext::encrypt(
        &material,
        &custos_kms::names::KeyUuid::from_bytes(targets::CIPHERTEXT_KEY_ID),
        1,
        &targets::ciphertext_contexts()[1],
        b"secret",
    )
    .expect("encrypt");
    let blob = b64(&blob);
    let policy = serde_json::to_string(KEY_POLICY).expect("a JSON string");
    let pt = b64(b"hello world");
    let bodies: Vec<(&str, String)> = vec![
        ("CancelKeyDeletion", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        (
            "CreateAlias",
            format!(r#"{{"AliasName":"alias/app","TargetKeyId":"{KEY_ID}"}}"#),
        ),
        (
            "CreateGrant",
            format!(
                r#"{{"KeyId":"{KEY_ARN}","GranteePrincipal":"arn:aws:iam::111122223333:role/app","RetiringPrincipal":"arn:aws:iam::111122223333:root","Operations":["Decrypt","Encrypt","GenerateDataKey"],"Constraints":{{"EncryptionContextSubset":{{"tenant":"acme"}}}},"Name":"g1","GrantTokens":["t1"]}}"#
            ),
        ),
        (
            "CreateKey",
            format!(
                r#"{{"Description":"app key","KeyUsage":"ENCRYPT_DECRYPT","KeySpec":"SYMMETRIC_DEFAULT","Origin":"AWS_KMS","Policy":{policy},"BypassPolicyLockoutSafetyCheck":false,"Tags":[{{"TagKey":"team","TagValue":"crypto"}}],"MultiRegion":false}}"#
            ),
        ),
        (
            "CreateKey",
            r#"{"KeyUsage":"SIGN_VERIFY","KeySpec":"ECC_NIST_P256"}"#.into(),
        ),
        (
            "Decapsulate",
            format!(
                r#"{{"KeyId":"{KEY_ID}","Ciphertext":"{}","KeyEncapsulationAlgorithm":"ML_KEM"}}"#,
                b64(&[7; 48])
            ),
        ),
        (
            "Decrypt",
            format!(
                r#"{{"CiphertextBlob":"{blob}","EncryptionContext":{{"purpose":"fuzz"}},"KeyId":"{KEY_ID}","EncryptionAlgorithm":"SYMMETRIC_DEFAULT","GrantTokens":[],"DryRun":false}}"#
            ),
        ),
        ("DeleteAlias", r#"{"AliasName":"alias/app"}"#.into()),
        (
            "DeriveSharedSecret",
            format!(
                r#"{{"KeyId":"{KEY_ID}","KeyAgreementAlgorithm":"ECDH","PublicKey":"{}"}}"#,
                b64(&[4; 65])
            ),
        ),
        (
            "DescribeKey",
            r#"{"KeyId":"alias/app","GrantTokens":["t"]}"#.into(),
        ),
        ("DisableKey", format!(r#"{{"KeyId":"{KEY_ARN}"}}"#)),
        ("DisableKeyRotation", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        ("EnableKey", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        (
            "EnableKeyRotation",
            format!(r#"{{"KeyId":"{KEY_ID}","RotationPeriodInDays":90}}"#),
        ),
        (
            "Encapsulate",
            format!(r#"{{"KeyId":"{KEY_ID}","KeyEncapsulationAlgorithm":"ML_KEM"}}"#),
        ),
        (
            "Encrypt",
            format!(
                r#"{{"KeyId":"alias/app","Plaintext":"{pt}","EncryptionContext":{{"tenant":"acme","purpose":"fuzz"}},"EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#
            ),
        ),
        (
            "GenerateDataKey",
            format!(
                r#"{{"KeyId":"{KEY_ID}","KeySpec":"AES_256","EncryptionContext":{{"a":"b"}},"NumberOfBytes":32}}"#
            ),
        ),
        (
            "GenerateDataKeyPair",
            format!(r#"{{"KeyId":"{KEY_ID}","KeyPairSpec":"ECC_NIST_P384"}}"#),
        ),
        (
            "GenerateDataKeyPairWithoutPlaintext",
            format!(r#"{{"KeyId":"{KEY_ID}","KeyPairSpec":"RSA_2048","EncryptionContext":{{}}}}"#),
        ),
        (
            "GenerateDataKeyWithoutPlaintext",
            format!(r#"{{"KeyId":"{KEY_ID}","NumberOfBytes":64}}"#),
        ),
        (
            "GenerateMac",
            format!(r#"{{"KeyId":"{KEY_ID}","Message":"{pt}","MacAlgorithm":"HMAC_SHA_256"}}"#),
        ),
        ("GenerateRandom", r#"{"NumberOfBytes":1024}"#.into()),
        ("GetKeyLastUsage", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        (
            "GetKeyPolicy",
            format!(r#"{{"KeyId":"{KEY_ID}","PolicyName":"default"}}"#),
        ),
        ("GetKeyRotationStatus", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        ("GetPublicKey", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        (
            "ListAliases",
            format!(r#"{{"KeyId":"{KEY_ID}","Limit":10,"Marker":"bWFya2Vy"}}"#),
        ),
        (
            "ListGrants",
            format!(r#"{{"KeyId":"{KEY_ID}","Limit":50,"GrantId":"g","GranteePrincipal":"p"}}"#),
        ),
        (
            "ListKeyPolicies",
            format!(r#"{{"KeyId":"{KEY_ID}","Limit":1}}"#),
        ),
        (
            "ListKeyRotations",
            format!(r#"{{"KeyId":"{KEY_ID}","Limit":1000}}"#),
        ),
        ("ListKeys", r#"{"Limit":100,"Marker":"x"}"#.into()),
        ("ListKeys", String::new()),
        ("ListResourceTags", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        (
            "ListRetirableGrants",
            r#"{"RetiringPrincipal":"arn:aws:iam::111122223333:root","Limit":5}"#.into(),
        ),
        (
            "PutKeyPolicy",
            format!(
                r#"{{"KeyId":"{KEY_ID}","PolicyName":"default","Policy":{policy},"BypassPolicyLockoutSafetyCheck":true}}"#
            ),
        ),
        (
            "ReEncrypt",
            format!(
                r#"{{"CiphertextBlob":"{blob}","SourceEncryptionContext":{{"purpose":"fuzz"}},"DestinationKeyId":"alias/other","DestinationEncryptionContext":{{"x":"y"}},"SourceEncryptionAlgorithm":"SYMMETRIC_DEFAULT","DestinationEncryptionAlgorithm":"SYMMETRIC_DEFAULT"}}"#
            ),
        ),
        (
            "RetireGrant",
            format!(r#"{{"GrantToken":"token","KeyId":"{KEY_ARN}","GrantId":"0123abcd"}}"#),
        ),
        (
            "RevokeGrant",
            format!(r#"{{"KeyId":"{KEY_ID}","GrantId":"0123abcd"}}"#),
        ),
        ("RotateKeyOnDemand", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
        (
            "ScheduleKeyDeletion",
            format!(r#"{{"KeyId":"{KEY_ID}","PendingWindowInDays":7}}"#),
        ),
        (
            "Sign",
            format!(
                r#"{{"KeyId":"{KEY_ID}","Message":"{pt}","MessageType":"RAW","SigningAlgorithm":"ECDSA_SHA_256"}}"#
            ),
        ),
        (
            "TagResource",
            format!(
                r#"{{"KeyId":"{KEY_ID}","Tags":[{{"TagKey":"a","TagValue":"1"}},{{"TagKey":"b","TagValue":""}}]}}"#
            ),
        ),
        (
            "UntagResource",
            format!(r#"{{"KeyId":"{KEY_ID}","TagKeys":["a","b"]}}"#),
        ),
        (
            "UpdateAlias",
            format!(r#"{{"AliasName":"alias/app","TargetKeyId":"{KEY_ARN}"}}"#),
        ),
        (
            "UpdateKeyDescription",
            format!(r#"{{"KeyId":"{KEY_ID}","Description":"new \u00e9 \"quoted\""}}"#),
        ),
        (
            "Verify",
            format!(
                r#"{{"KeyId":"{KEY_ID}","Message":"{pt}","Signature":"{}","SigningAlgorithm":"RSASSA_PSS_SHA_256"}}"#,
                b64(&[1; 256])
            ),
        ),
        (
            "VerifyMac",
            format!(
                r#"{{"KeyId":"{KEY_ID}","Message":"{pt}","Mac":"{}","MacAlgorithm":"HMAC_SHA_512"}}"#,
                b64(&[2; 64])
            ),
        ),
        // Refusals the server must answer with a SerializationException.
        ("Encrypt", r#"{"Plaintext":"not base64!"}"#.into()),
        ("ListKeys", "[]".into()),
        ("Unknown", format!(r#"{{"KeyId":"{KEY_ID}"}}"#)),
    ];
    let mut seen = std::collections::BTreeMap::new();
    for (op, body) in bodies {
        let n = seen.entry(op).or_insert(0usize);
        *n += 1;
        d.put(&format!("{op}-{n}"), format!("{op}\n{body}").as_bytes());
    }
}

// ---------------------------------------------------------------------------

fn ciphertext_blob(d: &mut Dir<'_>, repo: &Path) {
    let material = custos_crypto::Key256::from_slice(&targets::CIPHERTEXT_MATERIAL).expect("key");
    let id = custos_kms::names::KeyUuid::from_bytes(targets::CIPHERTEXT_KEY_ID);
    for (i, context) in targets::ciphertext_contexts().iter().enumerate() {
        for (len, version) in [(0usize, 1u32), (1, 2), (32, 7), (100, u32::MAX)] {
            let blob =
                custos_kms::ciphertext::encrypt(&material, &id, version, context, &vec![0x5a; len])
                    .expect("encrypt");
            d.put(&format!("context{i}-len{len}"), &blob);
        }
    }
    // The format-version-1 fixture of custos-kms's tests (another key).
    let fixture: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo.join("crates/custos-kms/tests/fixtures/ciphertext-v1.json"))
            .expect("the ciphertext fixture"),
    )
    .expect("JSON");
    let blob = hex::decode(fixture["blob"].as_str().expect("a hex blob")).expect("hex");
    d.put("fixture-v1", &blob);
    d.put("short", &[1; 20]);
}

// ---------------------------------------------------------------------------

fn esdk_message(d: &mut Dir<'_>, shared: &Path) {
    use custos_envelope::{AlgorithmSuite, CommitmentPolicy, EncryptOptions};
    let keyring = targets::esdk_keyring();
    for suite in AlgorithmSuite::ALL {
        for (frame, len, context) in [(64u32, 100usize, true), (16, 32, false)] {
            let options = EncryptOptions {
                suite: Some(suite),
                frame_length: frame,
                encryption_context: if context {
                    [("key1", "val1"), ("key2", "val2")].into_iter().collect()
                } else {
                    custos_envelope::EncryptionContext::new()
                },
                commitment_policy: if suite.is_committing() {
                    CommitmentPolicy::RequireEncryptAllowDecrypt
                } else {
                    CommitmentPolicy::ForbidEncryptAllowDecrypt
                },
                ..EncryptOptions::default()
            };
            let message =
                custos_envelope::encrypt(&keyring, &options, &vec![0x61; len]).expect("encrypt");
            custos_envelope::decrypt(
                &keyring,
                custos_envelope::DecryptOptions {
                    commitment_policy: CommitmentPolicy::ForbidEncryptAllowDecrypt,
                    ..custos_envelope::DecryptOptions::default()
                },
                &message,
            )
            .expect("a seed decrypts");
            d.put(
                &format!("custos-{:04x}-frame{frame}-len{len}", suite.id()),
                &message,
            );
        }
    }
    // A few of the official test vectors (raw AES, written by ESDK-NET):
    // one per suite that decrypts, and a few that must fail.
    let vectors = shared.join("esdk-test-vectors");
    for (zip, per_suite, limit) in [
        ("v4-Net-4.0.1.zip", true, 11),
        ("invalid-Net-4.0.0.zip", false, 4),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let ok = std::process::Command::new("python3")
            .args(["-m", "zipfile", "-e"])
            .arg(vectors.join(zip))
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "python3 unpacks {zip}");
        let manifest: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.path().join("manifest.json")).expect("manifest"),
        )
        .expect("JSON");
        let mut suites = BTreeSet::new();
        let mut taken = 0;
        let tests = manifest["tests"].as_object().expect("tests");
        for (name, test) in tests {
            let raw_aes = test["master-keys"][0]["encryption-algorithm"] == "aes";
            let suite = name.get(..4).unwrap_or_default().to_owned();
            if !raw_aes || taken == limit || (per_suite && !suites.insert(suite)) {
                continue;
            }
            let file = test["ciphertext"]
                .as_str()
                .and_then(|f| f.strip_prefix("file://"))
                .expect("a ciphertext file");
            let bytes = std::fs::read(dir.path().join(file)).expect("a ciphertext");
            d.put(&format!("vector-{name}"), &bytes);
            taken += 1;
        }
    }
}

// ---------------------------------------------------------------------------

/// Policy documents: the ```json blocks of `docs/` and the raw strings of
/// the policy, KMS and IAM sources and tests that look like policies.
fn policy(d: &mut Dir<'_>, repo: &Path) {
    let mut found = BTreeSet::new();
    let mut files = Vec::new();
    for dir in [
        "docs",
        "crates/custos-policy/src",
        "crates/custos-policy/tests",
        "crates/custos-kms/src",
        "crates/custos-kms/src/ops",
        "crates/custos-iam/src",
        "crates/custos-iam/src/ops",
    ] {
        let Ok(entries) = std::fs::read_dir(repo.join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            files.push(entry.path());
        }
    }
    files.sort();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let markdown = file.extension().is_some_and(|e| e == "md");
        let (open, close) = if markdown {
            ("```json\n", "```")
        } else {
            ("r#\"", "\"#")
        };
        let mut rest = text.as_str();
        while let Some(start) = rest.find(open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(close) else {
                break;
            };
            let candidate = after[..end].trim();
            if candidate.contains("\"Statement\"") && candidate.starts_with('{') {
                found.insert(candidate.to_owned());
            }
            rest = &after[end + close.len()..];
        }
    }
    found.insert(KEY_POLICY.to_owned());
    for (i, text) in found.iter().enumerate() {
        d.put(&format!("doc{i:03}"), text.as_bytes());
    }
}

// ---------------------------------------------------------------------------

fn iam_query(d: &mut Dir<'_>) {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#;
    let identity = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt"],"Resource":"arn:aws:kms:*:111122223333:key/*"},{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::111122223333:user/${aws:username}"}]}"#;
    // Every member any IAM action reads, with valid values: parameters an
    // action does not have are ignored, so each seed gets past validation.
    let common: Vec<(&str, String)> = vec![
        ("UserName", "alice".into()),
        ("NewUserName", "alice2".into()),
        ("GroupName", "devs".into()),
        ("NewGroupName", "devs2".into()),
        ("RoleName", "KeyUsers".into()),
        ("Path", "/division/".into()),
        ("NewPath", "/".into()),
        ("PathPrefix", "/division/".into()),
        ("PolicyName", "inline".into()),
        (
            "PolicyArn",
            "arn:aws:iam::111122223333:policy/managed".into(),
        ),
        ("PolicyDocument", identity.into()),
        ("AssumeRolePolicyDocument", trust.into()),
        ("Description", "a description".into()),
        ("MaxSessionDuration", "7200".into()),
        (
            "PermissionsBoundary",
            "arn:aws:iam::111122223333:policy/boundary".into(),
        ),
        ("AccessKeyId", "AKIAIOSFODNN7EXAMPLE".into()),
        ("Status", "Inactive".into()),
        ("VersionId", "v2".into()),
        ("SetAsDefault", "true".into()),
        ("Marker", "bWFya2Vy".into()),
        ("MaxItems", "10".into()),
        ("Scope", "Local".into()),
        ("OnlyAttached", "false".into()),
        ("EntityFilter", "User".into()),
        ("PolicyUsageFilter", "PermissionsPolicy".into()),
        ("Tags.member.1.Key", "team".into()),
        ("Tags.member.1.Value", "crypto".into()),
        ("Tags.member.2.Key", "env".into()),
        ("Tags.member.2.Value", "".into()),
        ("TagKeys.member.1", "team".into()),
        ("TagKeys.member.2", "env".into()),
    ];
    for &action in custos_iam_wire::IamRequest::ACTIONS {
        let mut pairs = vec![
            ("Action", action.to_owned()),
            ("Version", "2010-05-08".to_owned()),
        ];
        pairs.extend(common.iter().cloned());
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", form(k), form(v)))
            .collect();
        let body = body.join("&");
        let params = custos_iam_wire::parse_form(body.as_bytes()).expect("a valid form");
        custos_iam_wire::IamRequest::parse(&params)
            .unwrap_or_else(|e| panic!("the seed for {action} is valid: {e}"));
        d.put(&format!("iam-{action}"), body.as_bytes());
    }
    let sts = [
        (
            "AssumeRole",
            format!(
                "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=app-session\
                 &DurationSeconds=3600&ExternalId=ext-1234&Policy={}&PolicyArns.member.1.arn={}\
                 &Tags.member.1.Key=project&Tags.member.1.Value=custos&TransitiveTagKeys.member.1=project\
                 &SourceIdentity=alice&SerialNumber={}&TokenCode=123456",
                form("arn:aws:iam::111122223333:role/KeyUsers"),
                form(identity),
                form("arn:aws:iam::111122223333:policy/managed"),
                form("arn:aws:iam::111122223333:mfa/alice"),
            ),
        ),
        (
            "GetSessionToken",
            "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600".to_owned(),
        ),
        (
            "GetCallerIdentity",
            "Action=GetCallerIdentity&Version=2011-06-15".to_owned(),
        ),
    ];
    for (action, body) in sts {
        let params = custos_iam_wire::parse_form(body.as_bytes()).expect("a valid form");
        custos_iam_wire::StsRequest::parse(&params)
            .unwrap_or_else(|e| panic!("the seed for {action} is valid: {e}"));
        d.put(&format!("sts-{action}"), body.as_bytes());
    }
    // Refusals.
    d.put("missing-action", b"Version=2010-05-08&UserName=a");
    d.put("bad-percent", b"Action=GetUser&UserName=%G1");
    d.put("duplicate", b"Action=GetUser&Action=Get%55ser");
    d.put(
        "invalid-values",
        b"Action=CreateUser&Version=2010-05-08&UserName=a%20b&Path=nope&Tags.member.0.Key=x",
    );
    d.put("unknown-action", b"Action=DoThings&Version=2010-05-08");
}
