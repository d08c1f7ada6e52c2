//! The AWS KMS keyrings of `custos encrypt|decrypt`: talking to Custos, or
//! to any AWS KMS endpoint, through the usual AWS configuration.
//!
//! - [`Kms`]: clients, one per profile and region, configured the way the
//!   AWS CLI and SDKs are (environment, `~/.aws/config` and
//!   `~/.aws/credentials`, `AWS_ENDPOINT_URL_KMS`, `AWS_CA_BUNDLE`), and the
//!   small async runtime they run on. Nothing is loaded until a KMS key is
//!   actually used, so raw-key work needs no AWS configuration at all.
//! - [`keyring`]: the AWS KMS keyring (strict: named keys) and the AWS KMS
//!   discovery keyring (any key the file names, optionally only in some
//!   accounts of one partition), as `framework/aws-kms/` of the Encryption
//!   SDK specification defines them.
//! - [`arn`]: key ARNs.
//! - [`root_key`]: the `kms` root-key provider of `custos server`.
//!
//! The envelope crate's [`custos_envelope::Keyring`] is blocking, and the
//! CLI calls it from plain threads: each KMS call is run to completion with
//! [`Kms::block_on`].

pub(crate) mod arn;
pub(crate) mod keyring;
pub(crate) mod root_key;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use aws_config::BehaviorVersion;
use aws_sdk_kms::config::Region;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

/// Why a KMS client could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SetupError {
    #[error("cannot start the async runtime for AWS KMS calls")]
    Runtime(#[source] std::io::Error),
    #[error("cannot read the CA bundle {path} (AWS_CA_BUNDLE)")]
    CaBundle {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the CA bundle {path} (AWS_CA_BUNDLE) holds no usable PEM certificate")]
    CaBundleInvalid { path: String },
    #[error(
        "no AWS region for KMS key {key_id:?}: set AWS_REGION (or a region in the AWS profile), \
         give a key ARN, or add region=<region> to -w"
    )]
    NoRegion { key_id: String },
}

/// Which client: a profile (`None`: the default chain) and a region
/// (`None`: the profile's or the environment's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    profile: Option<String>,
    region: Option<String>,
}

type Clients = HashMap<ClientKey, aws_sdk_kms::Client>;

/// AWS KMS clients, created on first use and shared by every keyring.
pub(crate) struct Kms {
    runtime: tokio::runtime::Runtime,
    http: aws_sdk_kms::config::SharedHttpClient,
    clients: Mutex<Clients>,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms").finish_non_exhaustive()
    }
}

impl Kms {
    /// Prepares the runtime and the HTTPS client. The HTTPS client is rustls
    /// on aws-lc (the TLS stack of the rest of Custos) and trusts the
    /// platform's roots or, when `AWS_CA_BUNDLE` names a PEM file, exactly
    /// the certificates in it, as the AWS CLI does.
    pub(crate) fn new() -> Result<Self, SetupError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SetupError::Runtime)?;
        let trust = match std::env::var_os("AWS_CA_BUNDLE").filter(|v| !v.is_empty()) {
            None => TrustStore::default(),
            Some(path) => {
                let shown = path.to_string_lossy().into_owned();
                let pem = std::fs::read(&path).map_err(|source| SetupError::CaBundle {
                    path: shown.clone(),
                    source,
                })?;
                if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                    return Err(SetupError::CaBundleInvalid { path: shown });
                }
                TrustStore::empty().with_pem_certificate(pem)
            }
        };
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|_| SetupError::CaBundleInvalid {
                path: std::env::var("AWS_CA_BUNDLE").unwrap_or_default(),
            })?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(context)
            .build_https();
        Ok(Self {
            runtime,
            http,
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// Runs `future` to completion on the KMS runtime. Never call from
    /// inside that runtime.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The client for `profile` (the default chain when `None`) in
    /// `region` (the profile's or the environment's when `None`).
    /// `key_id` only names the key in error messages.
    pub(crate) fn client(
        &self,
        profile: Option<&str>,
        region: Option<&str>,
        key_id: &str,
    ) -> Result<aws_sdk_kms::Client, SetupError> {
        let cache_key = ClientKey {
            profile: profile.map(str::to_owned),
            region: region.map(str::to_owned),
        };
        if let Some(client) = self.lock_clients().get(&cache_key) {
            return Ok(client.clone());
        }
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).http_client(self.http.clone());
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = region {
            loader = loader.region(Region::new(r.to_owned()));
        }
        let config = self.block_on(loader.load());
        if config.region().is_none() {
            return Err(SetupError::NoRegion {
                key_id: key_id.to_owned(),
            });
        }
        let client = aws_sdk_kms::Client::new(&config);
        self.lock_clients().insert(cache_key, client.clone());
        Ok(client)
    }

    fn lock_clients(&self) -> std::sync::MutexGuard<'_, Clients> {
        // A panic while holding the lock leaves a usable map.
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
