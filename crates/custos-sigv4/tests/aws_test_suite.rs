//! The official AWS SigV4 test suite, run against the verifier.
//!
//! The suite ships inside the `aws-sigv4` crate package (it is the CRT suite
//! of `awslabs/aws-c-auth`, plus two older cases); we find that package with
//! `cargo metadata` rather than copying the files, so that the vectors are
//! exactly the ones the official signer is tested with. The test fails if
//! the suite cannot be found or if too few cases ran: it never passes
//! vacuously.
//!
//! For every `v4` case and for each form the case has (header-signed and
//! presigned), the signed request is parsed, our canonical request and
//! string to sign must equal the suite's byte for byte, and verification
//! must succeed with the suite's credentials at the suite's timestamp. The
//! `context.json` flags are honoured (`normalize`, `omit_session_token`,
//! `sign_body`); an unknown flag fails the test, so that a newer suite is
//! looked at rather than half-run. The few forms no SigV4 verifier for a
//! non-S3 service can accept are listed in [`DEVIATIONS`] with the reason,
//! printed, counted, and checked to be *rejected*.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use custos_crypto::SecretBytes;
use custos_sigv4::{AuthError, ParseOptions, parse_with};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use common::parse_http;

/// Forms of suite cases that cannot verify on a non-S3 AWS service, and why.
const DEVIATIONS: &[(&str, Form, &str)] = &[(
    "post-sts-header-after",
    Form::Query,
    "omit_session_token: the signer appended X-Amz-Security-Token to the query after signing; a \
     verifier must canonicalise every query parameter but X-Amz-Signature, so no server can \
     accept this form (the header form of the case does run)",
)];

/// The two older cases have no `context.json`; what they were signed with.
struct Legacy {
    name: &'static str,
    access_key_id: &'static str,
    secret: &'static str,
    /// The suite's canonical request was written at another time than its
    /// signed request; `(written, signed)` x-amz-date values.
    canonical_date_fix: Option<(&'static str, &'static str)>,
}

const LEGACY: &[Legacy] = &[
    Legacy {
        name: "double-url-encode",
        access_key_id: "AKIDEXAMPLE",
        secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        canonical_date_fix: None,
    },
    Legacy {
        // Signed by aws-sigv4's own test with `Credentials::for_tests()`
        // (aws-credential-types), at 20150830T123600Z; its canonical request
        // file was produced with the signing time 20210511T154045Z.
        name: "double-encode-path",
        access_key_id: "ANOTREAL",
        secret: "notrealrnrELgWzOk3IfjzDKtFBhDby",
        canonical_date_fix: Some(("20210511T154045Z", "20150830T123600Z")),
    },
];

const KNOWN_CONTEXT_KEYS: &[&str] = &[
    "credentials",
    "expiration_in_seconds",
    "normalize",
    "region",
    "service",
    "sign_body",
    "timestamp",
    "omit_session_token",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Header,
    Query,
}

impl Form {
    fn prefix(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Query => "query",
        }
    }
}

/// What a case was signed with.
struct Context {
    access_key_id: String,
    secret: String,
    token: Option<String>,
    region: Option<String>,
    service: Option<String>,
    timestamp: Option<OffsetDateTime>,
    normalize: bool,
    canonical_date_fix: Option<(&'static str, &'static str)>,
}

#[test]
fn official_v4_suite() {
    let suite = suite_dir();
    eprintln!("AWS SigV4 test suite: {}", suite.display());

    let mut cases: Vec<PathBuf> = fs::read_dir(suite.join("v4"))
        .expect("v4 directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();

    let mut ran = 0;
    let mut cases_ran = 0;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 name");
        let context = context(case, name);
        let mut case_ran = false;
        let mut forms_found = 0;
        for form in [Form::Header, Form::Query] {
            let signed = case.join(format!("{}-signed-request.txt", form.prefix()));
            if !signed.exists() {
                continue;
            }
            forms_found += 1;
            if let Some((_, _, reason)) = DEVIATIONS
                .iter()
                .find(|(case, deviant, _)| *case == name && *deviant == form)
            {
                assert_rejected(case, form, &context);
                skipped.push(format!("{name} ({}): {reason}", form.prefix()));
                continue;
            }
            match run_case(case, form, &context) {
                Ok(()) => {
                    ran += 1;
                    case_ran = true;
                }
                Err(why) => failures.push(format!("{name} ({}): {why}", form.prefix())),
            }
        }
        assert!(
            forms_found > 0,
            "{name}: no signed request in a layout we know"
        );
        cases_ran += usize::from(case_ran);
    }

    let v4a = suite.join("v4a");
    let v4a_cases = fs::read_dir(&v4a).map_or(0, |entries| entries.count());

    eprintln!(
        "v4: {cases_ran} of {} cases ran, {ran} forms verified, {} forms skipped:",
        cases.len(),
        skipped.len()
    );
    for skip in &skipped {
        eprintln!("  skipped {skip}");
    }
    eprintln!(
        "v4a: {v4a_cases} cases skipped: SigV4a (ECDSA, multi-region) is deliberately \
         not supported"
    );
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert!(
        cases_ran >= 35 && ran >= 70,
        "only {cases_ran} cases ({ran} forms) ran: the suite is not what we expect"
    );
    assert_eq!(
        skipped.len(),
        DEVIATIONS.len(),
        "a listed deviation no longer exists"
    );
}

/// Parses, compares and verifies one form of one case.
fn run_case(case: &Path, form: Form, context: &Context) -> Result<(), String> {
    let prefix = form.prefix();
    let request = parse_http(&read(case, &format!("{prefix}-signed-request.txt")));
    let mut options = ParseOptions::default();
    options.normalize_uri_path = context.normalize;
    let signed = parse_with(&request.parts(), options).map_err(|e| format!("parse: {e}"))?;
    if signed.is_presigned() != (form == Form::Query) {
        return Err("parsed as the wrong form".to_owned());
    }

    let mut expected_canonical = read_text(case, &format!("{prefix}-canonical-request.txt"));
    if let Some((written, signed_at)) = context.canonical_date_fix {
        expected_canonical = expected_canonical.replace(written, signed_at);
    }
    let canonical = String::from_utf8(signed.canonical_request()).map_err(|e| e.to_string())?;
    if canonical != expected_canonical {
        return Err(format!(
            "canonical request differs:\n--- ours\n{canonical}\n--- suite\n{expected_canonical}"
        ));
    }
    let string_to_sign = signed.string_to_sign();
    let sts_file = case.join(format!("{prefix}-string-to-sign.txt"));
    if sts_file.exists() {
        let expected = read_text(case, &format!("{prefix}-string-to-sign.txt"));
        if string_to_sign != expected {
            return Err(format!(
                "string to sign differs:\n--- ours\n{string_to_sign}\n--- suite\n{expected}"
            ));
        }
    }

    if signed.access_key_id() != context.access_key_id {
        return Err(format!("access key id {}", signed.access_key_id()));
    }
    if let (Some(region), Some(service)) = (&context.region, &context.service) {
        signed
            .check_scope(region, service)
            .map_err(|e| format!("scope: {e}"))?;
    }
    if signed.security_token() != context.token.as_deref() {
        return Err(format!("security token {:?}", signed.security_token()));
    }
    let now = context.timestamp.unwrap_or(signed.signed_at());
    let secret = SecretBytes::from_slice(context.secret.as_bytes());
    let verified = signed
        .verify(&secret, now)
        .map_err(|e| format!("verify: {e}"))?;
    if verified.signed_at() != now {
        return Err("signed_at differs from the suite's timestamp".to_owned());
    }

    // And the same request under any other secret fails.
    let wrong = SecretBytes::from_slice(format!("{}x", context.secret).as_bytes());
    if signed.verify(&wrong, now) != Err(AuthError::InvalidSignature) {
        return Err("verified under a wrong secret".to_owned());
    }

    // The suite's own signature file agrees with the signed request.
    let signature_file = case.join(format!("{prefix}-signature.txt"));
    if signature_file.exists() {
        let signature = read_text(case, &format!("{prefix}-signature.txt"));
        let raw = String::from_utf8_lossy(&read(case, &format!("{prefix}-signed-request.txt")))
            .into_owned();
        if !raw.contains(&signature) {
            return Err("signature file and signed request disagree".to_owned());
        }
    }
    Ok(())
}

/// A deviant form must not verify in the default (non-S3) mode.
fn assert_rejected(case: &Path, form: Form, context: &Context) {
    let request = parse_http(&read(
        case,
        &format!("{}-signed-request.txt", form.prefix()),
    ));
    let secret = SecretBytes::from_slice(context.secret.as_bytes());
    let now = context.timestamp.expect("deviant cases have a context");
    let mut options = ParseOptions::default();
    options.normalize_uri_path = context.normalize;
    let result =
        parse_with(&request.parts(), options).and_then(|signed| signed.verify(&secret, now));
    assert_eq!(
        result.map(|_| ()),
        Err(AuthError::InvalidSignature),
        "{} ({}) is listed as a deviation but verifies",
        case.display(),
        form.prefix()
    );
}

fn context(case: &Path, name: &str) -> Context {
    let file = case.join("context.json");
    if !file.exists() {
        let legacy = LEGACY
            .iter()
            .find(|legacy| legacy.name == name)
            .unwrap_or_else(|| panic!("{name}: no context.json and not a known legacy case"));
        return Context {
            access_key_id: legacy.access_key_id.to_owned(),
            secret: legacy.secret.to_owned(),
            token: None,
            region: None,
            service: None,
            timestamp: None,
            normalize: true,
            canonical_date_fix: legacy.canonical_date_fix,
        };
    }
    let json: BTreeMap<String, Value> =
        serde_json::from_slice(&fs::read(&file).expect("context.json")).expect("JSON object");
    for key in json.keys() {
        assert!(
            KNOWN_CONTEXT_KEYS.contains(&key.as_str()),
            "{name}: unknown context.json flag {key:?}: decide how the verifier must handle it"
        );
    }
    let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
    let credentials = &json["credentials"];
    let credential = |key: &str| {
        credentials
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Context {
        access_key_id: credential("access_key_id").expect("access_key_id"),
        secret: credential("secret_access_key").expect("secret_access_key"),
        // With `omit_session_token` the token is still sent, only not
        // signed: the header form then verifies with the unsigned header
        // ignored, and `security_token()` still reports it.
        token: credential("token"),
        region: text("region"),
        service: text("service"),
        timestamp: Some(
            OffsetDateTime::parse(&text("timestamp").expect("timestamp"), &Rfc3339)
                .expect("RFC 3339 timestamp"),
        ),
        normalize: json
            .get("normalize")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        canonical_date_fix: None,
    }
}

fn read(case: &Path, file: &str) -> Vec<u8> {
    fs::read(case.join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", case.display()))
}

/// A text file without the trailing newline some of the files have.
fn read_text(case: &Path, file: &str) -> String {
    let text = String::from_utf8(read(case, file)).expect("UTF-8");
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

/// The test-suite directory inside the `aws-sigv4` package this crate's
/// tests depend on, found through `cargo metadata`.
fn suite_dir() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let manifest_of = |id: &str| {
        packages
            .iter()
            .find(|package| package["id"] == id)
            .and_then(|package| package["manifest_path"].as_str())
            .map(PathBuf::from)
    };

    // The aws-sigv4 that custos-sigv4 itself resolves to (there may be
    // several versions in the workspace).
    let ours = packages
        .iter()
        .find(|package| package["name"] == "custos-sigv4")
        .and_then(|package| package["id"].as_str())
        .expect("custos-sigv4 in cargo metadata");
    let nodes = metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve graph");
    let aws_sigv4 = nodes
        .iter()
        .find(|node| node["id"] == ours)
        .and_then(|node| node["deps"].as_array())
        .and_then(|deps| deps.iter().find(|dep| dep["name"] == "aws_sigv4"))
        .and_then(|dep| dep["pkg"].as_str())
        .expect("custos-sigv4 depends on aws-sigv4");
    let manifest = manifest_of(aws_sigv4).expect("aws-sigv4 manifest path");
    let package_dir = manifest.parent().expect("manifest has a directory");

    for candidate in ["aws-signing-test-suite", "aws-sig-v4-test-suite"] {
        let dir = package_dir.join(candidate);
        if dir.join("v4").is_dir() {
            return dir;
        }
    }
    panic!(
        "no SigV4 test suite (aws-signing-test-suite/v4 or aws-sig-v4-test-suite/v4) in {}",
        package_dir.display()
    );
}
