//! Hostile and malformed requests against the real server over HTTPS,
//! written byte by byte with the raw client of `common::raw`.
//!
//! Every answer the server gives itself must carry the exact status,
//! `__type` and (where AWS's text is known) message, an `x-amzn-RequestId`
//! and the JSON 1.1 content type. No answer may ever be a 5xx, no exchange
//! may hang (each is bounded by `raw::EXCHANGE_TIMEOUT`), and every test
//! ends by checking, with a valid signed `ListKeys`, that the server still
//! serves.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use common::raw::{Failure, Outcome, RawClient, RawRequest, RawResponse, Signer};
use custos_server::Running;
use custos_server::server::MAX_BODY_BYTES;

/// AWS's own messages.
const MISSING_TOKEN: &str = "Missing Authentication Token";
const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the \
     signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
     service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

const INVALID_SIGNATURE: &str = "InvalidSignatureException";
const INCOMPLETE_SIGNATURE: &str = "IncompleteSignatureException";
const PRESIGNED_REFUSED: &str = "Presigned requests (authentication in the query string) are \
     not accepted by kms; sign the Authorization header.";
const UNRECOGNIZED_CLIENT: &str = "UnrecognizedClientException";
const UNKNOWN_OPERATION: &str = "UnknownOperationException";
const SERIALIZATION: &str = "SerializationException";
const TOO_LARGE: &str = "RequestEntityTooLargeException";

/// The real server, a raw client for it, and its data directory.
struct Rig {
    server: Running,
    client: RawClient,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = common::start(dir.path()).await;
        let client = RawClient::new(&server);
        Self {
            server,
            client,
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        self.client.host()
    }

    /// An unsigned call of `operation`.
    fn unsigned(&self, operation: &str, body: &[u8]) -> RawRequest {
        RawRequest::kms(&self.host(), operation, body)
    }

    /// A correctly signed call of `operation`.
    fn signed(&self, operation: &str, body: &[u8]) -> RawRequest {
        Signer::default().sign(self.unsigned(operation, body))
    }

    /// Sends a request the server must answer itself (not close), and
    /// checks what every such answer carries.
    async fn send(&self, request: &RawRequest) -> RawResponse {
        let response = self.send_bytes(request.to_bytes()).await.response();
        assert_served(&response);
        response
    }

    /// Sends any bytes; the server may answer or close, but never with a
    /// 5xx.
    async fn send_bytes(&self, bytes: Vec<u8>) -> Outcome {
        let outcome = self.client.exchange(bytes).await;
        assert_not_5xx(&outcome);
        outcome
    }

    /// Checks the server still serves, then stops it.
    async fn finish(self) {
        let response = self.send(&self.signed("ListKeys", b"{}")).await;
        assert_eq!(response.status, 200, "still serving: {response:?}");
        self.server.shutdown().await;
    }
}

/// What the server puts on every answer it gives itself.
fn assert_served(response: &RawResponse) {
    assert!(
        response
            .header("x-amzn-requestid")
            .is_some_and(|id| id.len() == 36),
        "x-amzn-RequestId: {response:?}"
    );
    assert_eq!(
        response.header("content-type"),
        Some(custos_wire::CONTENT_TYPE),
        "{response:?}"
    );
}

fn assert_not_5xx(outcome: &Outcome) {
    if let Outcome::Answered(response) = outcome {
        assert!(response.status < 500, "a server error: {response:?}");
    }
}

/// What an error's message must be.
#[derive(Debug)]
enum Message {
    /// AWS's text, byte for byte.
    Exactly(String),
    /// AWS's text up to a part that depends on the clock.
    StartsWith(String),
    /// No `message` member, as AWS sends for this error.
    Absent,
    /// Some message; Custos's own text, not pinned here.
    Present,
}

fn exactly(message: &str) -> Message {
    Message::Exactly(message.to_owned())
}

fn assert_error(response: &RawResponse, status: u16, type_name: &str, message: &Message) {
    let (got_status, got_type, got_message) = response.error();
    assert_eq!(
        (got_status, got_type.as_str()),
        (status, type_name),
        "{response:?}"
    );
    let ok = match (message, &got_message) {
        (Message::Exactly(want), Some(got)) => got == want,
        (Message::StartsWith(want), Some(got)) => got.starts_with(want.as_str()),
        (Message::Absent, None) | (Message::Present, Some(_)) => true,
        _ => false,
    };
    assert!(ok, "message {got_message:?}, expected {message:?}");
}

/// What a request must get.
#[derive(Debug)]
enum Expected {
    /// A 200.
    Served,
    /// An error: status, `__type`, message.
    Refused(u16, &'static str, Message),
}

fn assert_expected(response: &RawResponse, expected: &Expected) {
    match expected {
        Expected::Served => assert_eq!(response.status, 200, "{response:?}"),
        Expected::Refused(status, type_name, message) => {
            assert_error(response, *status, type_name, message);
        }
    }
}

/// The value of a header of `request`, as text.
fn header_text(request: &RawRequest, name: &str) -> String {
    let value = request.header(name).unwrap_or_else(|| panic!("no {name}"));
    String::from_utf8(value.to_vec()).expect("UTF-8 header")
}

/// `authorization` (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
/// Signature=…`) without its `key=…` element.
fn without_auth_element(authorization: &str, key: &str) -> String {
    let (scheme, elements) = authorization.split_once(' ').expect("scheme and elements");
    let prefix = format!("{key}=");
    let kept: Vec<&str> = elements
        .split(", ")
        .filter(|element| !element.starts_with(&prefix))
        .collect();
    format!("{scheme} {}", kept.join(", "))
}

/// `data` in the chunked transfer coding, `chunk` bytes at a time.
fn chunked(data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / chunk * 8 + 8);
    for piece in data.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// `request` with its body sent in the chunked transfer coding (the
/// signature, if any, still covers the decoded body).
fn sent_chunked(request: RawRequest, chunk: usize) -> Vec<u8> {
    let body = chunked(&request.body, chunk);
    let mut bytes = request
        .with_header("transfer-encoding", "chunked")
        .head_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// A JSON object of exactly `len` bytes (at least 12): one unknown member
/// padded with `a`s.
fn padded_object(len: usize) -> Vec<u8> {
    let mut body = br#"{"Pad":""#.to_vec();
    body.resize(len - 2, b'a');
    body.extend_from_slice(br#""}"#);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_authorization_is_a_missing_token() {
    let rig = Rig::start().await;
    let response = rig.send(&rig.unsigned("ListKeys", b"{}")).await;
    assert_error(
        &response,
        400,
        "MissingAuthenticationTokenException",
        &exactly(MISSING_TOKEN),
    );
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_authorization_is_an_incomplete_signature() {
    let rig = Rig::start().await;
    let signed = rig.signed("ListKeys", b"{}");
    let authorization = header_text(&signed, "authorization");
    let no_signature = without_auth_element(&authorization, "Signature");
    let no_credential = without_auth_element(&authorization, "Credential");
    let scope_only = without_auth_element(&no_signature, "SignedHeaders");
    let cases = [
        // Not SigV4 at all, and no date: everything is missing.
        (
            rig.unsigned("ListKeys", b"{}")
                .with_header("authorization", "Bearer abc"),
            exactly(
                "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
                 parameter. Authorization header requires existence of either a 'X-Amz-Date' or \
                 a 'Date' header. Authorization=Bearer abc",
            ),
        ),
        (
            signed
                .clone()
                .with_header("authorization", no_signature.as_str()),
            Message::Exactly(format!(
                "Authorization header requires 'Signature' parameter. Authorization={no_signature}"
            )),
        ),
        (
            signed
                .clone()
                .with_header("authorization", no_credential.as_str()),
            Message::Exactly(format!(
                "Authorization header requires 'Credential' parameter. Authorization={no_credential}"
            )),
        ),
        (
            signed
                .clone()
                .with_header("authorization", scope_only.as_str()),
            Message::Exactly(format!(
                "Authorization header requires 'Signature' parameter. Authorization header \
                 requires 'SignedHeaders' parameter. Authorization={scope_only}"
            )),
        ),
        (
            signed
                .clone()
                .with_header("authorization", "AWS4-HMAC-SHA256"),
            exactly(
                "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
                 parameter. Authorization=AWS4-HMAC-SHA256",
            ),
        ),
        // A credential of two elements instead of five.
        (
            signed.clone().with_header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIA/20240101, SignedHeaders=host, Signature=00",
            ),
            Message::Present,
        ),
        // An element that is not key=value.
        (
            signed.clone().with_header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=00",
            ),
            Message::Present,
        ),
        // Two Authorization headers.
        (
            signed
                .clone()
                .with_extra_header("authorization", authorization.as_str()),
            Message::Present,
        ),
    ];
    for (request, message) in &cases {
        let response = rig.send(request).await;
        assert_error(&response, 400, INCOMPLETE_SIGNATURE, message);
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_that_do_not_check_out_are_refused() {
    let rig = Rig::start().await;
    let signer = Signer::default();
    let cases = [
        (
            "wrong secret",
            signer.clone().with_secret("not-the-secret-access-key"),
            INVALID_SIGNATURE,
            exactly(SIGNATURE_MISMATCH),
        ),
        (
            "unknown access key",
            signer.clone().with_access_key("AKIANOBODYKNOWSTHIS1"),
            UNRECOGNIZED_CLIENT,
            exactly(INVALID_TOKEN),
        ),
        (
            "session token",
            signer
                .clone()
                .with_session_token("FQoGZXIvYXdzEXAMPLETOKEN"),
            UNRECOGNIZED_CLIENT,
            exactly(INVALID_TOKEN),
        ),
        (
            "region not served",
            signer.clone().with_region("ap-south-1"),
            INVALID_SIGNATURE,
            exactly("Credential should be scoped to a valid region, not 'ap-south-1'. "),
        ),
        (
            "another service",
            signer.clone().with_service("s3"),
            INVALID_SIGNATURE,
            exactly("Credential should be scoped to correct service: 'kms'. "),
        ),
    ];
    for (what, signer, type_name, message) in &cases {
        eprintln!("case: {what}");
        let request = signer.sign(rig.unsigned("ListKeys", b"{}"));
        let response = rig.send(&request).await;
        assert_error(&response, 400, type_name, message);
    }
    // The second region is served: the same request scoped to it passes.
    let request = signer
        .with_region("eu-west-3")
        .sign(rig.unsigned("ListKeys", b"{}"));
    assert_eq!(rig.send(&request).await.status, 200);
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_outside_the_clock_window_are_refused() {
    let rig = Rig::start().await;
    let ten_minutes = Duration::from_secs(600);
    let now = SystemTime::now();
    let cases = [
        (
            now - ten_minutes,
            "Signature expired: {date} is now earlier than ",
        ),
        (
            now + ten_minutes,
            "Signature not yet current: {date} is still later than ",
        ),
    ];
    for (at, template) in cases {
        let request = Signer::default()
            .at(at)
            .sign(rig.unsigned("ListKeys", b"{}"));
        let date = header_text(&request, "x-amz-date");
        let response = rig.send(&request).await;
        assert_error(
            &response,
            400,
            INVALID_SIGNATURE,
            &Message::StartsWith(template.replace("{date}", &date)),
        );
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_altered_after_signing_are_refused() {
    let rig = Rig::start().await;
    let port = rig.server.local_addr.port();
    let signed = rig.signed("ListKeys", b"{}");
    let mismatch = || exactly(SIGNATURE_MISMATCH);
    let cases = [
        (
            "another Host",
            signed
                .clone()
                .with_header("host", format!("localhost:{port}")),
            mismatch(),
        ),
        (
            "a second Host",
            signed
                .clone()
                .with_extra_header("host", format!("localhost:{port}")),
            mismatch(),
        ),
        // An operation smuggled in after the signed one: the server acts on
        // the first value, but the signature covers them all.
        (
            "a second X-Amz-Target",
            signed
                .clone()
                .with_extra_header("x-amz-target", "TrentService.CreateKey"),
            mismatch(),
        ),
        (
            "another body",
            RawRequest {
                body: br#"{"Limit":1}"#.to_vec(),
                ..signed.clone()
            },
            mismatch(),
        ),
        (
            "another method",
            signed.clone().with_method("PUT"),
            mismatch(),
        ),
        // Signed, but not the hash of the body: KMS has no unsigned or
        // streaming payloads.
        (
            "x-amz-content-sha256 UNSIGNED-PAYLOAD",
            Signer::default().sign(
                rig.unsigned("ListKeys", b"{}")
                    .with_header("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ),
            Message::Present,
        ),
    ];
    for (what, request, message) in &cases {
        eprintln!("case: {what}");
        let response = rig.send(request).await;
        assert_error(&response, 400, INVALID_SIGNATURE, message);
    }
    rig.finish().await;
}

/// A signature that does not cover `X-Amz-Target` must not authorise
/// whatever operation is named beside it: otherwise a presigned URL (which
/// signs only `host` by default, and may live for a week) handed out for
/// `DescribeKey` on a key also disables it, schedules its deletion, …
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_must_cover_the_operation() {
    let rig = Rig::start().await;
    let key_id = create_key(&rig).await;
    let body = format!(r#"{{"KeyId": "{key_id}"}}"#);
    let host_only = RawRequest::post(&rig.host(), body.as_bytes()).without_header("content-type");
    let request = Signer::default()
        .sign(host_only.clone())
        .with_header("x-amz-target", "TrentService.DisableKey");
    let response = rig.send(&request).await;
    assert_error(
        &response,
        400,
        INVALID_SIGNATURE,
        &exactly("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."),
    );
    // Presigned, it is refused before that: KMS takes no presigned
    // request at all.
    let request = Signer::default()
        .presigned()
        .sign(host_only.clone())
        .with_header("x-amz-target", "TrentService.DisableKey");
    let response = rig.send(&request).await;
    assert_error(
        &response,
        400,
        INCOMPLETE_SIGNATURE,
        &exactly(PRESIGNED_REFUSED),
    );
    let described = rig.send(&rig.signed("DescribeKey", body.as_bytes())).await;
    assert_eq!(
        described.json()["KeyMetadata"]["KeyState"],
        "Enabled",
        "{described:?}"
    );
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_request_targets_are_canonicalised_or_refused() {
    let rig = Rig::start().await;
    let signed = rig.signed("ListKeys", b"{}");
    let absolute = format!("https://{}/", rig.host());
    let mismatch = || Expected::Refused(400, INVALID_SIGNATURE, exactly(SIGNATURE_MISMATCH));
    let cases = [
        ("/%ZZ", mismatch()),
        ("/%00", mismatch()),
        ("/..%2F..%2Fetc", mismatch()),
        // Empty and dot segments are normalised away, as AWS does for
        // every service but S3: these are the signed "/".
        ("//", Expected::Served),
        ("/a/..", Expected::Served),
        // The absolute form names the same resource.
        (absolute.as_str(), Expected::Served),
        ("*", mismatch()),
        ("/?%", mismatch()),
        ("/?a=1&a=2&=&&", mismatch()),
        // Header and query authentication together.
        (
            "/?X-Amz-Algorithm=AWS4-HMAC-SHA256",
            Expected::Refused(400, INCOMPLETE_SIGNATURE, Message::Present),
        ),
    ];
    for (target, expected) in &cases {
        let request = RawRequest {
            target: (*target).to_owned(),
            ..signed.clone()
        };
        let response = rig.send(&request).await;
        assert_expected(&response, expected);
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_requests_for_no_known_operation_are_unknown_operations() {
    let rig = Rig::start().await;
    let host = rig.host();
    let signer = Signer::default();
    let cases = [
        ("no X-Amz-Target", RawRequest::post(&host, b"{}")),
        (
            "unknown operation",
            RawRequest::post(&host, b"{}").with_header("x-amz-target", "TrentService.Nope"),
        ),
        (
            "no TrentService prefix",
            RawRequest::post(&host, b"{}").with_header("x-amz-target", "Encrypt"),
        ),
        ("GET", rig.unsigned("ListKeys", b"").with_method("GET")),
    ];
    for (what, request) in cases {
        eprintln!("case: {what}");
        let response = rig.send(&signer.sign(request)).await;
        assert_error(&response, 400, UNKNOWN_OPERATION, &Message::Absent);
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_serialization_errors_that_echo_nothing() {
    let rig = Rig::start().await;
    // (operation, body, what the message must not repeat)
    let cases: [(&str, &str, &str); 6] = [
        ("ListKeys", "{", "{"),
        ("ListKeys", "[]", "[]"),
        ("ListKeys", r#""x""#, "\"x\""),
        ("DescribeKey", r#"{"KeyId": 55555}"#, "55555"),
        (
            "Encrypt",
            r#"{"KeyId": "alias/any", "Plaintext": "!!!"}"#,
            "!!!",
        ),
        ("ListKeys", r#"{"Limit": "ten"}"#, "ten"),
    ];
    for (operation, body, value) in cases {
        let response = rig.send(&rig.signed(operation, body.as_bytes())).await;
        assert_error(&response, 400, SERIALIZATION, &Message::Present);
        let (_, _, message) = response.error();
        let message = message.unwrap_or_default();
        assert!(
            !message.contains(value),
            "{body}: the message {message:?} repeats {value:?}"
        );
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pathological_json_is_answered() {
    let rig = Rig::start().await;
    // As deep as fits in the body limit, inside a member nobody reads.
    let nested = |open: &str, innermost: &str, close: &str, depth: usize| {
        format!(
            r#"{{"Limit": 5, "Junk": {}{innermost}{}}}"#,
            open.repeat(depth),
            close.repeat(depth)
        )
    };
    let malformed = || Expected::Refused(400, SERIALIZATION, Message::Present);
    let cases = [
        (nested("[", "", "]", 200_000), Expected::Served),
        (nested(r#"{"a":"#, "1", "}", 80_000), Expected::Served),
        (format!(r#"{{"Junk": {}"#, "[".repeat(200_000)), malformed()),
        (
            format!(r#"{{"Limit": 1{}}}"#, "0".repeat(100_000)),
            malformed(),
        ),
        (r#"{"Limit": 1, "Limit": 2}"#.to_owned(), malformed()),
    ];
    for (body, expected) in &cases {
        let response = rig.send(&rig.signed("ListKeys", body.as_bytes())).await;
        assert_expected(&response, expected);
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_bodies_and_unknown_members_are_accepted() {
    let rig = Rig::start().await;
    for body in [
        &b""[..],
        br#"{"Limit": 5, "NoSuchMember": [1, {"x": null}], "Other": "y"}"#,
    ] {
        let response = rig.send(&rig.signed("ListKeys", body)).await;
        assert_eq!(response.status, 200, "{response:?}");
        assert!(response.json()["Keys"].is_array(), "{response:?}");
    }
    rig.finish().await;
}

/// No KMS client presigns, and a presigned URL is a bearer credential
/// that may live a week and leaks through logs and histories: KMS refuses
/// them, however well signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_requests_are_refused_by_kms() {
    let rig = Rig::start().await;
    for body in [&b""[..], b"{}"] {
        let request = Signer::default()
            .presigned()
            .sign(rig.unsigned("ListKeys", body));
        assert!(request.target.starts_with("/?X-Amz-"), "{}", request.target);
        assert!(request.header("authorization").is_none());
        let response = rig.send(&request).await;
        assert_error(
            &response,
            400,
            INCOMPLETE_SIGNATURE,
            &exactly(PRESIGNED_REFUSED),
        );
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announced_oversized_body_is_refused_without_waiting_for_it() {
    let rig = Rig::start().await;
    // Ten megabytes announced, a few bytes sent: the answer must come from
    // the announcement alone (and within the exchange timeout).
    let request = rig
        .signed("ListKeys", br#"{"Limit":"#)
        .with_header("content-length", "10000000");
    let response = rig.send(&request).await;
    assert_error(&response, 413, TOO_LARGE, &Message::Present);
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_limit_is_exact_whatever_the_framing() {
    let rig = Rig::start().await;
    let at_limit = rig.signed("ListKeys", &padded_object(MAX_BODY_BYTES));
    let over_limit = rig.signed("ListKeys", &padded_object(MAX_BODY_BYTES + 1));
    // Chunked, the signature still covers the decoded body.
    let too_large = || Expected::Refused(413, TOO_LARGE, Message::Present);
    let cases = [
        (
            "at the limit, with a length",
            at_limit.to_bytes(),
            Expected::Served,
        ),
        (
            "at the limit, chunked",
            sent_chunked(at_limit, 8192),
            Expected::Served,
        ),
        (
            "over the limit, with a length",
            over_limit.to_bytes(),
            too_large(),
        ),
        (
            "over the limit, chunked",
            sent_chunked(over_limit, 8192),
            too_large(),
        ),
    ];
    for (what, bytes, expected) in cases {
        eprintln!("case: {what}");
        let answer = rig.send_bytes(bytes).await.response();
        assert_served(&answer);
        assert_expected(&answer, &expected);
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_or_ambiguous_heads_get_a_4xx_or_a_close() {
    let rig = Rig::start().await;
    let base = || rig.unsigned("ListKeys", b"{}");
    let many_headers = (0..200).fold(base(), |request, i| {
        request.with_header(&format!("x-filler-{i}"), "v")
    });
    let body_framing = |request: RawRequest, headers: &[(&str, &str)]| {
        headers.iter().fold(request, |r, (name, value)| {
            r.with_extra_header(name, *value)
        })
    };
    let cases = [
        ("200 headers", many_headers),
        (
            "one 60 KiB header",
            base().with_header("x-filler", "v".repeat(60 * 1024)),
        ),
        (
            "one 1 MiB header",
            base().with_header("x-filler", "v".repeat(1024 * 1024)),
        ),
        (
            "Content-Length and Transfer-Encoding",
            body_framing(
                base(),
                &[("content-length", "2"), ("transfer-encoding", "chunked")],
            ),
        ),
        (
            "two different Content-Lengths",
            body_framing(base(), &[("content-length", "2"), ("content-length", "3")]),
        ),
        (
            "negative Content-Length",
            body_framing(base(), &[("content-length", "-2")]),
        ),
        (
            "Transfer-Encoding other than chunked",
            body_framing(base(), &[("transfer-encoding", "gzip")]),
        ),
    ];
    // hyper refuses some of these itself (431 or 400, without a request id
    // or a JSON body), before the server sees them: any 4xx, or a close.
    for (what, request) in cases {
        match rig.send_bytes(request.to_bytes()).await {
            Outcome::Answered(response) => {
                eprintln!(
                    "{what}: {} {:?}",
                    response.status,
                    response.header("x-amzn-requestid")
                );
                assert!(
                    (400..500).contains(&response.status),
                    "{what}: {response:?}"
                );
            }
            Outcome::Closed => eprintln!("{what}: closed"),
        }
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_utf8_header_values_are_handled() {
    let rig = Rig::start().await;
    let signed = rig.signed("ListKeys", b"{}");
    let authorization = header_text(&signed, "authorization");
    let (before, after) = authorization
        .split_once(common::ACCESS_KEY)
        .expect("the access key in the credential");
    let latin1_key = [before.as_bytes(), b"AKIA\xffCUSTOS", after.as_bytes()].concat();

    let cases = [
        // Not signed, so not read.
        (
            signed
                .clone()
                .with_header("x-custos-junk", &b"\xff\xfe\x80junk"[..]),
            Expected::Served,
        ),
        // Signed headers are compared as bytes.
        (
            signed
                .clone()
                .with_header("x-amz-target", &b"TrentService.List\xffKeys"[..]),
            Expected::Refused(400, INVALID_SIGNATURE, exactly(SIGNATURE_MISMATCH)),
        ),
        (
            signed.clone().with_header("authorization", latin1_key),
            Expected::Refused(400, UNRECOGNIZED_CLIENT, exactly(INVALID_TOKEN)),
        ),
        (
            signed
                .clone()
                .with_header("x-amz-date", &b"2024\xff0101T000000Z"[..]),
            Expected::Refused(400, INCOMPLETE_SIGNATURE, Message::Present),
        ),
    ];
    for (request, expected) in &cases {
        let response = rig.send(request).await;
        assert_expected(&response, expected);
    }
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_connections_are_all_served() {
    let rig = Rig::start().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let client = rig.client.clone();
        let bytes = rig.signed("ListKeys", b"{}").to_bytes();
        tasks.spawn(async move { client.exchange(bytes).await.response() });
    }
    let mut ids = std::collections::BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        let response = joined.expect("exchange task");
        assert_served(&response);
        assert_eq!(response.status, 200, "{response:?}");
        ids.insert(response.header("x-amzn-requestid").map(str::to_owned));
    }
    assert_eq!(ids.len(), 32, "request ids are distinct");
    rig.finish().await;
}

/// A tiny deterministic generator (Marsaglia's xorshift64), so the fuzz
/// cases are the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform enough in `0..n`, for `n > 0`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next().to_le_bytes()[0]
    }
}

/// `request` with one byte flipped, deleted or inserted, in the header
/// block (`..head_len`) or the body, chosen by `rng`.
fn mutate(request: &[u8], head_len: usize, rng: &mut XorShift) -> Vec<u8> {
    let mut bytes = request.to_vec();
    let (start, len) = if rng.below(2) == 0 {
        (0, head_len)
    } else {
        (head_len, request.len() - head_len)
    };
    let at = start + rng.below(len);
    match rng.below(3) {
        0 => bytes[at] ^= rng.byte().max(1),
        1 => {
            bytes.remove(at);
        }
        _ => bytes.insert(at, rng.byte()),
    }
    bytes
}

/// Creates a key with a raw signed `CreateKey` and returns its id.
async fn create_key(rig: &Rig) -> String {
    let response = rig.send(&rig.signed("CreateKey", b"{}")).await;
    assert_eq!(response.status, 200, "{response:?}");
    response.json()["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("a key id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_byte_mutations_never_break_the_server() {
    const VARIANTS: usize = 300;
    const IN_FLIGHT: usize = 8;
    // A variant may leave the server waiting for bytes that never come (a
    // larger Content-Length, a damaged end of head); after this long the
    // client ends its side, and the server must then answer or close.
    const PATIENCE: Duration = Duration::from_secs(1);

    let rig = Rig::start().await;
    let key_id = create_key(&rig).await;
    let body = format!(r#"{{"KeyId": "{key_id}", "Plaintext": "aGVsbG8gd29ybGQ="}}"#);
    let request = rig.signed("Encrypt", body.as_bytes());
    let original = request.to_bytes();
    let head_len = request.head_bytes().len();
    assert_eq!(
        rig.send(&request).await.status,
        200,
        "the unmutated request"
    );

    let mut rng = XorShift(0x00C0_FFEE_D15E_A5E5);
    let mut tasks = tokio::task::JoinSet::new();
    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..VARIANTS {
        if tasks.len() == IN_FLIGHT {
            record(&mut tally, tasks.join_next().await);
        }
        let variant = mutate(&original, head_len, &mut rng);
        let client = rig.client.clone();
        tasks.spawn(async move {
            let outcome = client.try_exchange(variant.clone(), Some(PATIENCE)).await;
            (i, variant, outcome)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        record(&mut tally, Some(joined));
    }
    eprintln!("outcomes of {VARIANTS} variants: {tally:?}");
    rig.finish().await;
}

/// What a fuzz task returns: the variant's index, its bytes, and how its
/// exchange ended.
type FuzzResult = Result<(usize, Vec<u8>, Result<Outcome, Failure>), tokio::task::JoinError>;

/// Checks one fuzz outcome and counts it.
fn record(tally: &mut BTreeMap<String, usize>, joined: Option<FuzzResult>) {
    let (i, variant, outcome) = joined
        .expect("a task was in flight")
        .expect("exchange task");
    let outcome = outcome.unwrap_or_else(|failure| {
        panic!(
            "variant {i}: {failure}; it was:\n{}",
            String::from_utf8_lossy(&variant)
        )
    });
    let key = match &outcome {
        Outcome::Answered(response) => {
            assert!(
                response.status < 500,
                "variant {i} got {response:?}; it was:\n{}",
                String::from_utf8_lossy(&variant)
            );
            let type_name = serde_json::from_slice::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|json| json.get("__type")?.as_str().map(str::to_owned));
            format!(
                "{} {}",
                response.status,
                type_name.as_deref().unwrap_or("-")
            )
        }
        Outcome::Closed => "closed".to_owned(),
    };
    *tally.entry(key).or_default() += 1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_is_read_only_after_the_headers_check_out() {
    let rig = Rig::start().await;
    // Ten megabytes announced, a few bytes sent, by a client with no
    // credentials, or with an access key that does not exist: answered at
    // once, from the headers alone.
    let unsigned = rig
        .unsigned("ListKeys", br#"{"Limit":"#)
        .with_header("content-length", "10000000");
    let response = rig.send(&unsigned).await;
    assert_error(
        &response,
        400,
        "MissingAuthenticationTokenException",
        &exactly(MISSING_TOKEN),
    );
    let unknown = Signer::default()
        .with_access_key("AKIANOSUCHKEY0000000")
        .sign(rig.unsigned("ListKeys", br#"{"Limit":"#))
        .with_header("content-length", "10000000");
    let response = rig.send(&unknown).await;
    assert_error(&response, 400, UNRECOGNIZED_CLIENT, &Message::Present);
    // A whole large body from an unknown key: the same answer (the body,
    // beyond the small unauthenticated allowance, is never read).
    let large = Signer::default()
        .with_access_key("AKIANOSUCHKEY0000000")
        .sign(rig.unsigned("ListKeys", &padded_object(200_000)));
    let response = rig.send(&large).await;
    assert_error(&response, 400, UNRECOGNIZED_CLIENT, &Message::Present);
    // A known key with a wrong secret passes the precheck (the secret is
    // checked against the body): its small body is read, and the signature
    // is found wrong.
    let wrong = Signer::default()
        .with_secret("not-the-secret-access-key-at-all")
        .sign(rig.unsigned("ListKeys", b"{}"));
    let response = rig.send(&wrong).await;
    assert_error(
        &response,
        400,
        INVALID_SIGNATURE,
        &exactly(SIGNATURE_MISMATCH),
    );
    rig.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_per_address_cap_are_closed_on_arrival() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = common::config(dir.path());
    config.limits.max_connections_per_address = 2;
    let server = custos_server::start(config).await.expect("server starts");
    // Two connections that say nothing hold this address's share.
    let first = tokio::net::TcpStream::connect(server.local_addr)
        .await
        .expect("connect");
    let _second = tokio::net::TcpStream::connect(server.local_addr)
        .await
        .expect("connect");
    let mut third = tokio::net::TcpStream::connect(server.local_addr)
        .await
        .expect("connect");
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(10), third.read(&mut buf))
        .await
        .expect("the third connection is closed, not left waiting");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the server closed it: {read:?}"
    );
    // One of the two goes away: a client is served again (once the server
    // has seen the close, which takes a moment).
    drop(first);
    let kms = common::without_retries(&common::client(&server));
    let mut served = None;
    for _ in 0..100 {
        match kms.list_keys().send().await {
            Ok(keys) => {
                served = Some(keys);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    served.expect("served once a slot is free");
    server.shutdown().await;
}
