//! Requests signed by the real `aws-sigv4` signer, as the AWS SDK for Rust
//! signs KMS calls, must verify; and must stop verifying when the secret, the
//! clock or the authentication is wrong.

mod common;

use custos_crypto::SecretBytes;
use custos_sigv4::{AuthError, ExpiryRule, Verified, parse};
use http::header::AUTHORIZATION;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use common::{
    ACCESS_KEY_ID, ENCRYPT_BODY, Form, REGION, SECRET, SERVICE, TestRequest, signed_kms_request,
};

const SIGNED_AT: OffsetDateTime = datetime!(2024-01-01 00:00:00 UTC);

const ALL_FORMS: [Form; 3] = [
    Form::Header,
    Form::HeaderWithContentSha256,
    Form::Presigned(300),
];

fn secret() -> SecretBytes {
    SecretBytes::from_slice(SECRET.as_bytes())
}

/// What the server does: parse, look the key up, check the scope, verify.
fn authenticate(
    request: &TestRequest,
    secret: &SecretBytes,
    now: OffsetDateTime,
) -> Result<Verified, AuthError> {
    let signed = parse(&request.parts())?;
    if signed.access_key_id() != ACCESS_KEY_ID {
        return Err(AuthError::UnrecognizedClient);
    }
    signed.check_scope(REGION, SERVICE)?;
    signed.verify(secret, now)
}

#[test]
fn signed_requests_verify() {
    for form in ALL_FORMS {
        let request = signed_kms_request(form, SIGNED_AT, "/", ENCRYPT_BODY);
        let verified = authenticate(&request, &secret(), SIGNED_AT)
            .unwrap_or_else(|e| panic!("{form:?}: {e}"));
        assert_eq!(verified.access_key_id(), ACCESS_KEY_ID);
        assert_eq!(verified.region(), REGION);
        assert_eq!(verified.service(), SERVICE);
        assert_eq!(verified.signed_at(), SIGNED_AT);
    }
}

#[test]
fn paths_and_queries_verify() {
    for path_and_query in [
        "/",
        "/a/b",
        "/a/b/",
        "/a%3Ab/c%20d",
        "/?Action=Encrypt&Version=2014-11-01",
        "/x?b=2&a=1&a=0&empty=&flag",
        "/x?key=%2F%2B%3D%20~",
        "/x?%E1%88%B4=%E1%88%B4",
    ] {
        for form in ALL_FORMS {
            let request = signed_kms_request(form, SIGNED_AT, path_and_query, ENCRYPT_BODY);
            authenticate(&request, &secret(), SIGNED_AT)
                .unwrap_or_else(|e| panic!("{path_and_query} {form:?}: {e}"));
        }
    }
}

#[test]
fn empty_and_binary_bodies_verify() {
    for body in [
        &b""[..],
        &[0u8, 0xff, 0x80, b'\n'][..],
        &[b'x'; 100_000][..],
    ] {
        for form in ALL_FORMS {
            let request = signed_kms_request(form, SIGNED_AT, "/", body);
            authenticate(&request, &secret(), SIGNED_AT)
                .unwrap_or_else(|e| panic!("{} bytes, {form:?}: {e}", body.len()));
        }
    }
}

#[test]
fn wrong_secret_is_an_invalid_signature() {
    let wrong = SecretBytes::from_slice(b"custos/K7MDENG+bPxRfiCYEXAMPLEKEZ");
    for form in ALL_FORMS {
        let request = signed_kms_request(form, SIGNED_AT, "/", ENCRYPT_BODY);
        let error = authenticate(&request, &wrong, SIGNED_AT).expect_err("wrong secret");
        assert_eq!(error, AuthError::InvalidSignature, "{form:?}");
        assert_eq!(error.aws_type(), "InvalidSignatureException");
        assert_eq!(
            error.message(),
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
        );
    }
}

#[test]
fn clock_six_minutes_off() {
    let six = Duration::minutes(6);
    for form in [Form::Header, Form::HeaderWithContentSha256] {
        let request = signed_kms_request(form, SIGNED_AT, "/", ENCRYPT_BODY);
        let late = authenticate(&request, &secret(), SIGNED_AT + six).expect_err("expired");
        assert_eq!(
            late,
            AuthError::SignatureExpired {
                signed_at: SIGNED_AT,
                now: SIGNED_AT + six,
                rule: ExpiryRule::ClockSkew,
            }
        );
        assert_eq!(late.aws_type(), "InvalidSignatureException");
        assert_eq!(
            late.message(),
            "Signature expired: 20240101T000000Z is now earlier than 20240101T000100Z \
             (20240101T000600Z - 5 min.)"
        );
        let early = authenticate(&request, &secret(), SIGNED_AT - six).expect_err("future");
        assert_eq!(
            early,
            AuthError::SignatureNotYetCurrent {
                signed_at: SIGNED_AT,
                now: SIGNED_AT - six,
            }
        );
        assert_eq!(
            early.message(),
            "Signature not yet current: 20240101T000000Z is still later than 20231231T235900Z \
             (20231231T235400Z + 5 min.)"
        );
    }
}

#[test]
fn presigned_lifetime() {
    let request = signed_kms_request(Form::Presigned(300), SIGNED_AT, "/", ENCRYPT_BODY);
    let at = |offset: Duration| authenticate(&request, &secret(), SIGNED_AT + offset);
    // Valid from five minutes before its date (clock skew) to its expiry.
    assert!(at(Duration::minutes(-5)).is_ok());
    assert!(at(Duration::seconds(300)).is_ok());
    assert_eq!(
        at(Duration::seconds(301)).expect_err("expired").message(),
        "Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z \
         (20240101T000501Z - 300 sec.)"
    );
    assert!(matches!(
        at(Duration::minutes(-6)),
        Err(AuthError::SignatureNotYetCurrent { .. })
    ));

    // A week-long URL outlives the five-minute window.
    let week = signed_kms_request(Form::Presigned(604_800), SIGNED_AT, "/", ENCRYPT_BODY);
    assert!(authenticate(&week, &secret(), SIGNED_AT + Duration::days(6)).is_ok());
    assert!(authenticate(&week, &secret(), SIGNED_AT + Duration::days(8)).is_err());
}

#[test]
fn no_authorization_is_a_missing_token() {
    let mut request = signed_kms_request(Form::Header, SIGNED_AT, "/", ENCRYPT_BODY);
    request.headers.remove(AUTHORIZATION);
    let error = authenticate(&request, &secret(), SIGNED_AT).expect_err("no authentication");
    assert_eq!(error, AuthError::MissingAuthenticationToken);
    assert_eq!(error.aws_type(), "MissingAuthenticationTokenException");
    assert_eq!(error.message(), "Missing Authentication Token");

    // A presigned request stripped of its parameters has nothing left either.
    let mut request = signed_kms_request(Form::Presigned(300), SIGNED_AT, "/", ENCRYPT_BODY);
    request.query.clear();
    assert_eq!(
        authenticate(&request, &secret(), SIGNED_AT).expect_err("no authentication"),
        AuthError::MissingAuthenticationToken
    );
}

#[test]
fn dropping_a_signed_header_breaks_the_signature() {
    for form in ALL_FORMS {
        let template = signed_kms_request(form, SIGNED_AT, "/", ENCRYPT_BODY);
        for name in ["content-type", "x-amz-target"] {
            let mut request = template.clone();
            assert!(request.headers.remove(name).is_some(), "{name} was sent");
            assert_eq!(
                authenticate(&request, &secret(), SIGNED_AT),
                Err(AuthError::InvalidSignature),
                "{form:?} without {name}"
            );
        }
    }
}

#[test]
fn unsigned_extra_headers_do_not_matter() {
    for form in ALL_FORMS {
        let mut request = signed_kms_request(form, SIGNED_AT, "/", ENCRYPT_BODY);
        request.headers.insert(
            "user-agent",
            http::HeaderValue::from_static("added-by-a-proxy"),
        );
        request.headers.insert(
            "x-forwarded-for",
            http::HeaderValue::from_static("192.0.2.1"),
        );
        assert!(
            authenticate(&request, &secret(), SIGNED_AT).is_ok(),
            "{form:?}"
        );
    }
}

#[test]
fn wrong_region_or_service_is_reported_as_aws_does() {
    let request = signed_kms_request(Form::Header, SIGNED_AT, "/", ENCRYPT_BODY);
    let signed = parse(&request.parts()).expect("parses");
    let error = signed
        .check_scope("eu-west-1", "kms")
        .expect_err("wrong region");
    assert_eq!(error.aws_type(), "InvalidSignatureException");
    assert_eq!(
        error.message(),
        "Credential should be scoped to a valid region, not 'us-east-1'. "
    );
    let error = signed
        .check_scope(REGION, "sts")
        .expect_err("wrong service");
    assert_eq!(
        error.message(),
        "Credential should be scoped to correct service: 'sts'. "
    );
}
