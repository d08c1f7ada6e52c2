//! Helpers shared by the integration tests: a minimal HTTP/1.1 request
//! reader for the AWS test-suite files, and a KMS-like request signed by the
//! real `aws-sigv4` signer.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use custos_sigv4::RequestParts;
use http::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;

/// An HTTP request held by value, to be mutated and handed over as
/// [`RequestParts`].
#[derive(Debug, Clone)]
pub(crate) struct TestRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl TestRequest {
    pub(crate) fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Reads a request in the test suite's format: an HTTP/1.1 request line
/// (whose `HTTP/1.1` some files omit, and whose target may hold raw spaces
/// and UTF-8), `Name:value` header lines, a blank line and the body.
///
/// Folded header lines (RFC 9110's obsolete line folding, which
/// `get-header-value-multiline` uses and which HTTP servers such as hyper
/// refuse) are unfolded into one value, each fold becoming one space: what
/// RFC 9112 section 5.2 tells a recipient to do.
pub(crate) fn parse_http(text: &[u8]) -> TestRequest {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut body = Vec::new();
    while start <= text.len() {
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |at| start + at);
        let line = &text[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        start = end + 1;
        if line.is_empty() && !lines.is_empty() {
            body = text.get(start..).unwrap_or_default().to_vec();
            break;
        }
        lines.push(line);
    }

    let request_line = std::str::from_utf8(lines[0]).expect("request line is UTF-8");
    let (method, rest) = request_line.split_once(' ').expect("method and target");
    let target = match rest.rsplit_once(' ') {
        Some((target, version)) if version.starts_with("HTTP/") => target,
        _ => rest,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));

    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    for line in &lines[1..] {
        if matches!(line.first(), Some(b' ' | b'\t')) {
            let (_, value) = fields.last_mut().expect("a folded line follows a header");
            value.push(b' ');
            value.extend_from_slice(line.trim_ascii());
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').expect("name:value");
        let name = std::str::from_utf8(&line[..colon]).expect("ASCII name");
        fields.push((name.to_owned(), line[colon + 1..].trim_ascii().to_vec()));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in fields {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
            HeaderValue::from_bytes(&value).expect("valid header value"),
        );
    }
    TestRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
    }
}

pub(crate) const REGION: &str = "us-east-1";
pub(crate) const SERVICE: &str = "kms";
pub(crate) const HOST: &str = "kms.us-east-1.amazonaws.com";
pub(crate) const ACCESS_KEY_ID: &str = "AKIDCUSTOSEXAMPLE";
pub(crate) const SECRET: &str = "custos/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(crate) const ENCRYPT_BODY: &[u8] =
    br#"{"KeyId":"alias/custos-test","Plaintext":"aGVsbG8gd29ybGQ="}"#;

/// How the real signer is asked to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `Authorization` header, no `x-amz-content-sha256`.
    Header,
    /// `Authorization` header, with `x-amz-content-sha256`.
    HeaderWithContentSha256,
    /// Presigned, `X-Amz-Expires` of the given seconds.
    Presigned(u64),
}

/// A KMS `Encrypt` call to `path?query`, signed at `at` by `aws-sigv4`.
pub(crate) fn signed_kms_request(
    form: Form,
    at: OffsetDateTime,
    path_and_query: &str,
    body: &[u8],
) -> TestRequest {
    let credentials = Credentials::new(ACCESS_KEY_ID, SECRET, None, None, "custos-sigv4-tests");
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    match form {
        Form::Header => {}
        Form::HeaderWithContentSha256 => {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        Form::Presigned(secs) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(secs));
        }
    }
    let unix = u64::try_from(at.unix_timestamp()).expect("after 1970");
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(SERVICE)
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(unix))
        .settings(settings)
        .build()
        .expect("signing parameters")
        .into();

    let mut request = http::Request::builder()
        .method("POST")
        .uri(path_and_query)
        .header("host", HOST)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "TrentService.Encrypt")
        .body(body.to_vec())
        .expect("request");
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.to_str().expect("ASCII")))
        .collect();
    let url = format!("https://{HOST}{path_and_query}");
    let signable =
        SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
            .expect("signable request");
    let (instructions, _signature) = sign(signable, &params).expect("signs").into_parts();
    instructions.apply_to_request_http1x(&mut request);

    let (head, body) = request.into_parts();
    TestRequest {
        method: head.method.as_str().to_owned(),
        path: head.uri.path().to_owned(),
        query: head.uri.query().unwrap_or("").to_owned(),
        headers: head.headers,
        body,
    }
}
