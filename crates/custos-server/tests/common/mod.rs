//! Shared test rig: the real server on 127.0.0.1:0 over HTTPS, driven by
//! the official `aws-sdk-kms` client.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the rig"
)]

pub(crate) mod iam;
pub(crate) mod raw;
use std::path::Path;

use aws_credential_types::Credentials;
use aws_sdk_kms::config::{BehaviorVersion, Region};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use custos_crypto::SecretBytes;
use custos_server::Running;
use custos_server::config::{Config, ConfigFile, Overrides};

pub(crate) const ACCESS_KEY: &str = "AKIACUSTOSTEST000001";
pub(crate) const SECRET_KEY: &str = "test-secret-access-key-0123456789abcdef";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const ACCOUNT: &str = "111122223333";

/// The configuration tests use: a fresh or given data dir, port 0, TLS
/// with a generated CA, fixed bootstrap credentials.
pub(crate) fn config(dir: &Path) -> Config {
    Config::resolve(
        ConfigFile::default(),
        Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(dir.to_owned()),
            account_id: Some(ACCOUNT.into()),
            regions: Some(vec![REGION.into(), "eu-west-3".into()]),
            bootstrap_access_key_id: Some(ACCESS_KEY.into()),
            bootstrap_secret_access_key: Some(SecretBytes::from_slice(SECRET_KEY.as_bytes())),
            ..Overrides::default()
        },
    )
    .expect("test configuration is valid")
}

pub(crate) async fn start(dir: &Path) -> Running {
    custos_server::start(config(dir))
        .await
        .expect("server starts")
}

/// An SDK client for `running`, trusting only its generated CA.
pub(crate) fn client(running: &Running) -> aws_sdk_kms::Client {
    client_with(running, REGION, ACCESS_KEY, SECRET_KEY)
}

pub(crate) fn client_with(
    running: &Running,
    region: &str,
    access_key: &str,
    secret_key: &str,
) -> aws_sdk_kms::Client {
    let ca = std::fs::read(running.ca_bundle.as_ref().expect("generated CA")).expect("read CA");
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(ca))
                .build()
                .expect("TLS context"),
        )
        .build_https();
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(running.endpoint())
        .credentials_provider(Credentials::new(
            access_key,
            secret_key,
            None,
            None,
            "custos-test",
        ))
        .http_client(http)
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

/// The `__type` (code), message and HTTP status of an SDK error.
pub(crate) fn error_of<E>(
    e: &aws_sdk_kms::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> (String, String, u16)
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_kms::error::ProvideErrorMetadata as _;
    let status = e.raw_response().map_or(0, |r| r.status().as_u16());
    (
        e.code().unwrap_or("<none>").to_owned(),
        e.message().unwrap_or("").to_owned(),
        status,
    )
}

/// The ARN of key `id` in the test region and account.
pub(crate) fn arn(id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
}

/// `kms` with the SDK's retries off: one attempt per call, so that a
/// refusal is one request (and one audit event) and a throttle is seen.
pub(crate) fn without_retries(kms: &aws_sdk_kms::Client) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::from_conf(
        kms.config()
            .to_builder()
            .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
            .build(),
    )
}

/// A new key of `spec` and `usage`; its id.
pub(crate) async fn new_key_of(
    kms: &aws_sdk_kms::Client,
    spec: aws_sdk_kms::types::KeySpec,
    usage: aws_sdk_kms::types::KeyUsageType,
) -> String {
    kms.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_owned()
}

/// A new symmetric key; its id.
pub(crate) async fn new_key(kms: &aws_sdk_kms::Client) -> String {
    kms.create_key()
        .send()
        .await
        .expect("CreateKey")
        .key_metadata()
        .expect("meta")
        .key_id()
        .to_owned()
}

/// `Encrypt` of `text` under `key`, no context; the ciphertext blob.
pub(crate) async fn encrypt(
    kms: &aws_sdk_kms::Client,
    key: &str,
    text: &[u8],
) -> aws_sdk_kms::primitives::Blob {
    kms.encrypt()
        .key_id(key)
        .plaintext(aws_sdk_kms::primitives::Blob::new(text.to_vec()))
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("blob")
        .clone()
}
