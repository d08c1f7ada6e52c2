//! The IAM and STS side of the rig: `aws-sdk-iam`, `aws-sdk-sts` and
//! `aws-sdk-kms` clients signing with any credentials (a user's access
//! key, or an STS session's key and token), and small helpers for policy
//! documents.
//!
//! Every client here has retries turned off: a test wants the server's
//! first answer, and a refused request (a 500 for a tampered record, say)
//! must not be sent three times.

use aws_credential_types::Credentials;
use aws_sdk_kms::config::{BehaviorVersion, Region};
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::http::Response;
use custos_server::Running;

use super::{ACCESS_KEY, ACCOUNT, REGION, SECRET_KEY, error_of};

/// Asserts that a call failed with `code` and HTTP `status`, and returns
/// the error's message. Works for any of the SDKs: they share their error
/// types.
#[track_caller]
pub(crate) fn expect_error<T, E>(
    result: Result<T, SdkError<E, Response>>,
    code: &str,
    status: u16,
) -> String
where
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(v) => panic!("expected {code} ({status}), the call succeeded: {v:?}"),
        Err(e) => {
            let (got_code, message, got_status) = error_of(&e);
            assert_eq!(
                (got_code.as_str(), got_status),
                (code, status),
                "error code and status (message: {message:?}; error: {e:?})"
            );
            message
        }
    }
}

/// Credentials a client signs with: an access key, and the session token
/// when the key is an STS session's.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) token: Option<String>,
}

impl Keys {
    /// The bootstrap administrator of account [`ACCOUNT`] (`custos-admin`).
    pub(crate) fn admin() -> Self {
        Self::long_term(ACCESS_KEY, SECRET_KEY)
    }

    pub(crate) fn long_term(id: &str, secret: &str) -> Self {
        Self {
            id: id.to_owned(),
            secret: secret.to_owned(),
            token: None,
        }
    }

    /// The key `CreateAccessKey` returned.
    pub(crate) fn of_access_key(k: &aws_sdk_iam::types::AccessKey) -> Self {
        Self::long_term(k.access_key_id(), k.secret_access_key())
    }

    /// The session credentials `AssumeRole` or `GetSessionToken` returned.
    pub(crate) fn of_session(c: &aws_sdk_sts::types::Credentials) -> Self {
        Self {
            id: c.access_key_id().to_owned(),
            secret: c.secret_access_key().to_owned(),
            token: Some(c.session_token().to_owned()),
        }
    }

    /// The administrator of an account made by `Running::create_account`
    /// (its `access_key_id` and exposed `secret`).
    pub(crate) fn of_account(access_key_id: &str, secret: &[u8]) -> Self {
        let secret = std::str::from_utf8(secret).expect("secret access keys are ASCII");
        Self::long_term(access_key_id, secret)
    }

    /// The same key and secret with a different session token.
    pub(crate) fn with_token(&self, token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.id,
            &self.secret,
            self.token.clone(),
            None,
            "custos-test",
        )
    }
}

/// An HTTPS client trusting only the server's generated CA.
pub(crate) fn http_client(running: &Running) -> SharedHttpClient {
    let ca = std::fs::read(running.ca_bundle.as_ref().expect("generated CA")).expect("read CA");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(ca))
                .build()
                .expect("TLS context"),
        )
        .build_https()
}

/// An IAM client signing as the bootstrap administrator.
pub(crate) fn iam(running: &Running) -> aws_sdk_iam::Client {
    iam_as(running, &Keys::admin())
}

/// An IAM client signing with `keys`.
pub(crate) fn iam_as(running: &Running, keys: &Keys) -> aws_sdk_iam::Client {
    let config = aws_sdk_iam::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(running.endpoint())
        .credentials_provider(keys.credentials())
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::disabled())
        .http_client(http_client(running))
        .build();
    aws_sdk_iam::Client::from_conf(config)
}

/// An STS client signing with `keys`.
pub(crate) fn sts_as(running: &Running, keys: &Keys) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(running.endpoint())
        .credentials_provider(keys.credentials())
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .http_client(http_client(running))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// A KMS client signing with `keys` (the rig's `client_with` has no
/// session token).
pub(crate) fn kms_as(running: &Running, keys: &Keys) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(running.endpoint())
        .credentials_provider(keys.credentials())
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .http_client(http_client(running))
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// The ARN of user `name` (path `/`) in the test account.
pub(crate) fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

/// The ARN of role `name` (path `/`) in the test account.
pub(crate) fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// The ARN of customer managed policy `name` (path `/`) in the test
/// account.
pub(crate) fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

/// An identity policy allowing `actions` on every resource.
pub(crate) fn allow(actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    })
    .to_string()
}

/// A trust policy letting the principal `arn` assume the role.
pub(crate) fn trust(arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": arn},
            "Action": "sts:AssumeRole",
        }],
    })
    .to_string()
}

/// Undoes the URL encoding IAM applies to policy documents in responses
/// (RFC 3986 percent-encoding, as botocore's `unquote` undoes it).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("a decoded policy document is UTF-8")
}

/// Asserts that the URL-encoded `document` of a response is the JSON
/// `expected` (compared as JSON values: whitespace and key order aside).
#[track_caller]
pub(crate) fn assert_document(encoded: &str, expected: &str) {
    let decoded = percent_decode(encoded);
    let got: serde_json::Value = serde_json::from_str(&decoded)
        .unwrap_or_else(|e| panic!("returned document is not JSON ({e}): {decoded}"));
    let want: serde_json::Value = serde_json::from_str(expected).expect("expected JSON");
    assert_eq!(got, want, "policy document as returned: {encoded}");
}

/// Creates IAM user `name` and an access key for it; the key.
pub(crate) async fn user_with_key(iam: &aws_sdk_iam::Client, name: &str) -> Keys {
    iam.create_user()
        .user_name(name)
        .send()
        .await
        .expect("CreateUser");
    let created = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .expect("CreateAccessKey");
    Keys::of_access_key(created.access_key().expect("AccessKey"))
}

/// Flips one character in the middle of `token` (to another character of
/// the base64 alphabet, so that only its meaning changes).
pub(crate) fn tamper(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}
