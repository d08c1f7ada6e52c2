//! Every one-byte alteration of a signed request must be rejected.
//!
//! Requests are signed by the real `aws-sigv4` signer, then each byte of each
//! part an attacker could change is altered in turn (three different ways)
//! and the server's whole path (parse, key lookup, scope check, verify) must
//! refuse the result. The parts: the method, the path, the query, the body,
//! every signed header's value, and in the `Authorization` header the
//! signature, the access key id, every element of the credential scope and
//! the signed-header list. For presigned requests, every byte of the query,
//! which holds all of these.
//!
//! Only alterations that do not change the request are not tried: turning
//! the hex digit of a `%XX` escape in the query to the other case (`%2F` and
//! `%2f` are the same byte, RFC 3986 section 6.2.2.1).

mod common;

use std::ops::Range;

use custos_crypto::SecretBytes;
use custos_sigv4::{AuthError, Verified, parse};
use http::HeaderValue;
use http::header::AUTHORIZATION;
use time::OffsetDateTime;
use time::macros::datetime;

use common::{
    ACCESS_KEY_ID, ENCRYPT_BODY, Form, REGION, SECRET, SERVICE, TestRequest, signed_kms_request,
};

const SIGNED_AT: OffsetDateTime = datetime!(2024-01-01 00:00:00 UTC);

/// The server's path, with a one-key credential store.
fn authenticate(request: &TestRequest) -> Result<Verified, AuthError> {
    let signed = parse(&request.parts())?;
    if signed.access_key_id() != ACCESS_KEY_ID {
        return Err(AuthError::UnrecognizedClient);
    }
    signed.check_scope(REGION, SERVICE)?;
    signed.verify(&SecretBytes::from_slice(SECRET.as_bytes()), SIGNED_AT)
}

/// A part of the request, to alter byte by byte.
#[derive(Debug, Clone)]
enum Part {
    Method,
    Path,
    Query,
    Body,
    /// `range` of the value of header `name` (the whole value if `None`).
    Header(String, Option<Range<usize>>),
}

/// Counts of what was tried.
#[derive(Debug, Default)]
struct Tally {
    rejected: usize,
    /// Alterations that make an invalid header value (no server sees them).
    unrepresentable: usize,
    /// `%2F` to `%2f`: the same request.
    equivalent: usize,
}

/// Alters each byte of `part` in `template` three ways; every altered
/// request that an HTTP server could receive must be rejected.
fn mutate_everywhere(template: &TestRequest, part: &Part, label: &str, tally: &mut Tally) {
    let original = bytes_of(template, part);
    let range = match part {
        Part::Header(_, Some(range)) => range.clone(),
        _ => 0..original.len(),
    };
    assert!(!range.is_empty(), "{label}: nothing to mutate");
    for at in range {
        let byte = original[at];
        let mut replacements = vec![byte ^ 0x01, byte ^ 0x20, b'Z'];
        replacements.dedup();
        for replacement in replacements.into_iter().filter(|&r| r != byte) {
            if matches!(part, Part::Query) && is_hex_case_flip(&original, at, replacement) {
                tally.equivalent += 1;
                continue;
            }
            let mut altered = original.clone();
            altered[at] = replacement;
            let Some(request) = with_part(template, part, altered) else {
                tally.unrepresentable += 1;
                continue;
            };
            match authenticate(&request) {
                Err(_) => tally.rejected += 1,
                Ok(_) => panic!(
                    "{label}: byte {at} changed from {:?} to {:?} and the request still verifies",
                    char::from(byte),
                    char::from(replacement)
                ),
            }
        }
    }
}

fn bytes_of(request: &TestRequest, part: &Part) -> Vec<u8> {
    match part {
        Part::Method => request.method.as_bytes().to_vec(),
        Part::Path => request.path.as_bytes().to_vec(),
        Part::Query => request.query.as_bytes().to_vec(),
        Part::Body => request.body.clone(),
        Part::Header(name, _) => request
            .headers
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is sent"))
            .as_bytes()
            .to_vec(),
    }
}

/// `template` with `part` replaced by `bytes`; `None` if no HTTP request
/// could carry them.
fn with_part(template: &TestRequest, part: &Part, bytes: Vec<u8>) -> Option<TestRequest> {
    let mut request = template.clone();
    match part {
        Part::Method => request.method = String::from_utf8(bytes).ok()?,
        Part::Path => request.path = String::from_utf8(bytes).ok()?,
        Part::Query => request.query = String::from_utf8(bytes).ok()?,
        Part::Body => request.body = bytes,
        Part::Header(name, _) => {
            let value = HeaderValue::from_bytes(&bytes).ok()?;
            request.headers.insert(
                http::HeaderName::from_bytes(name.as_bytes()).expect("valid name"),
                value,
            );
        }
    }
    Some(request)
}

/// Whether changing `query[at]` to `replacement` only changes the case of a
/// hex digit of a `%XX` escape.
fn is_hex_case_flip(query: &[u8], at: usize, replacement: u8) -> bool {
    let in_escape = (at >= 1 && query[at - 1] == b'%' && at + 1 < query.len())
        || (at >= 2 && query[at - 2] == b'%');
    in_escape
        && query[at].is_ascii_hexdigit()
        && query[at].is_ascii_alphabetic()
        && replacement.eq_ignore_ascii_case(&query[at])
}

/// The byte range of `key=`'s value in the `Authorization` header.
fn auth_value(authorization: &str, key: &str) -> Range<usize> {
    let start = authorization
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("{key} in {authorization}"))
        + key.len()
        + 1;
    let end = authorization[start..]
        .find(',')
        .map_or(authorization.len(), |at| start + at);
    start..end
}

/// The signed-header names of a request.
fn signed_header_names(request: &TestRequest) -> Vec<String> {
    let signed = parse(&request.parts()).expect("template parses");
    let canonical = String::from_utf8(signed.canonical_request()).expect("UTF-8");
    let lines: Vec<&str> = canonical.lines().collect();
    lines[lines.len() - 2]
        .split(';')
        .map(str::to_owned)
        .collect()
}

#[test]
fn header_form_rejects_every_one_byte_change() {
    let mut tally = Tally::default();
    for form in [Form::Header, Form::HeaderWithContentSha256] {
        for path_and_query in ["/", "/some/path?Action=Encrypt&Version=2014-11-01"] {
            let template = signed_kms_request(form, SIGNED_AT, path_and_query, ENCRYPT_BODY);
            assert!(authenticate(&template).is_ok(), "the template verifies");
            let label = |what: &str| format!("{form:?} {path_and_query}: {what}");

            let authorization = template.headers[AUTHORIZATION]
                .to_str()
                .expect("ASCII")
                .to_owned();
            let credential = auth_value(&authorization, "Credential");
            let elements: Vec<Range<usize>> = {
                let mut ranges = Vec::new();
                let mut start = credential.start;
                for (i, b) in authorization[credential.clone()].bytes().enumerate() {
                    if b == b'/' {
                        ranges.push(start..credential.start + i);
                        start = credential.start + i + 1;
                    }
                }
                ranges.push(start..credential.end);
                ranges
            };
            assert_eq!(elements.len(), 5, "key/date/region/service/terminator");
            let names = [
                "access key id",
                "scope date",
                "region",
                "service",
                "terminator",
            ];
            for (name, range) in names.iter().zip(&elements) {
                let part = Part::Header("authorization".to_owned(), Some(range.clone()));
                mutate_everywhere(&template, &part, &label(name), &mut tally);
            }
            for key in ["SignedHeaders", "Signature"] {
                let part = Part::Header(
                    "authorization".to_owned(),
                    Some(auth_value(&authorization, key)),
                );
                mutate_everywhere(&template, &part, &label(key), &mut tally);
            }

            for name in signed_header_names(&template) {
                let part = Part::Header(name.clone(), None);
                mutate_everywhere(&template, &part, &label(&name), &mut tally);
            }
            mutate_everywhere(&template, &Part::Method, &label("method"), &mut tally);
            mutate_everywhere(&template, &Part::Path, &label("path"), &mut tally);
            if !template.query.is_empty() {
                mutate_everywhere(&template, &Part::Query, &label("query"), &mut tally);
            }
            mutate_everywhere(&template, &Part::Body, &label("body"), &mut tally);
        }
    }
    eprintln!("header form: {tally:?}");
    assert!(tally.rejected > 2_000, "{tally:?}");
}

#[test]
fn presigned_form_rejects_every_one_byte_change() {
    let mut tally = Tally::default();
    for path_and_query in ["/", "/some/path?Action=Encrypt&Version=2014-11-01"] {
        let template = signed_kms_request(
            Form::Presigned(300),
            SIGNED_AT,
            path_and_query,
            ENCRYPT_BODY,
        );
        assert!(authenticate(&template).is_ok(), "the template verifies");
        let label = |what: &str| format!("presigned {path_and_query}: {what}");
        // The query holds the algorithm, credential, date, expiry, signed
        // headers and signature: every byte of it.
        mutate_everywhere(&template, &Part::Query, &label("query"), &mut tally);
        for name in signed_header_names(&template) {
            let part = Part::Header(name.clone(), None);
            mutate_everywhere(&template, &part, &label(&name), &mut tally);
        }
        mutate_everywhere(&template, &Part::Method, &label("method"), &mut tally);
        mutate_everywhere(&template, &Part::Path, &label("path"), &mut tally);
        mutate_everywhere(&template, &Part::Body, &label("body"), &mut tally);
    }
    eprintln!("presigned form: {tally:?}");
    assert!(tally.rejected > 2_000, "{tally:?}");
    assert!(
        tally.equivalent > 0,
        "the credential's %2F escapes were reached"
    );
}
