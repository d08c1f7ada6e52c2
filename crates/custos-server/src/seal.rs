//! Sealed and unsealed: the server's domain exists only while unsealed.
//!
//! A `Node` is the process: its audit log, and, while it is unsealed,
//! the `State` every request uses (the KMS and IAM domains, holding the
//! store key). Sealing takes the state away; once the requests using it
//! finish, the store key, the key caches and the audit signing key are
//! dropped and wiped. Unsealing opens the store again, with the root key
//! rebuilt from operators' shares (the shares provider) or asked of the
//! configured provider again (after an explicit seal).
//!
//! While sealed, the listener still answers: health checks say so, and
//! KMS, IAM and STS requests are refused with an AWS-shaped error.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use custos_crypto::SecretBytes;
use custos_iam::Iam;
use custos_kms::root_key::shares::{self, ShareError, SharesRoot, Unsealer};
use custos_kms::root_key::{RootKeyError, RootKeyProvider};
use custos_kms::{Clock, Kms, Settings};
use custos_store::redb::RedbEngine;

use crate::server::State;
use crate::{StartError, audit_signer};

/// How long a seal waits for the requests in flight before dropping its
/// reference to the state anyway (they keep theirs until they finish).
const SEAL_DRAIN: Duration = Duration::from_secs(10);

/// Where the root key comes from when the node (re)opens.
#[derive(Debug)]
pub(crate) enum RootSource {
    /// A provider that opens the store by itself (file, passphrase,
    /// PKCS#11, KMS): unsealing after an explicit seal asks it again.
    Auto(Arc<dyn RootKeyProvider>),
    /// Operators' shares, checked against this wrapped store key.
    Shares { wrapped: Vec<u8> },
}

/// What it takes to open the store, kept for every unseal.
#[derive(Debug)]
pub(crate) struct Opener {
    pub engine: RedbEngine,
    pub settings: Settings,
    pub quotas: custos_kms::quotas::Quotas,
    pub bootstrap: Option<(String, SecretBytes)>,
    pub data_dir: std::path::PathBuf,
    pub root: RootSource,
}

/// The bootstrap administrator, as the first open found or made it.
#[derive(Debug)]
pub(crate) struct Opened {
    pub state: Arc<State>,
    pub bootstrap: custos_iam::accounts::Admin,
}

impl Opener {
    /// Opens the store with `root`, and everything built on it.
    pub(crate) async fn open(
        &self,
        root: &dyn RootKeyProvider,
        audit: &custos_audit::AuditLog,
    ) -> Result<Opened, StartError> {
        let kms = Kms::open(self.engine.clone(), root, self.settings.clone())
            .await?
            .with_quotas(self.quotas.clone());
        // Key policies may name only principals that exist.
        let directory = Iam::new(self.engine.clone(), kms.store_sealer(), kms.shared_clock());
        let kms = kms.with_principals(Arc::new(directory));
        let iam = Iam::new(self.engine.clone(), kms.store_sealer(), kms.shared_clock());
        let bootstrap = iam
            .ensure_bootstrap(kms.account(), crate::given_bootstrap(&self.bootstrap))
            .await
            .map_err(StartError::Bootstrap)?;
        if !audit.is_disabled() {
            let failed = |source| StartError::Audit {
                dir: audit.dir().to_owned(),
                source,
            };
            let signer = audit_signer(&kms, &self.data_dir).map_err(failed)?;
            audit.set_signer(Some(signer)).map_err(failed)?;
        }
        Ok(Opened {
            state: Arc::new(State {
                kms,
                iam,
                audit: audit.clone(),
            }),
            bootstrap,
        })
    }

    fn clock(&self) -> &Arc<dyn Clock> {
        &self.settings.clock
    }
}

/// Where an unseal stands, as `custos operator status` shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealStatus {
    pub sealed: bool,
    /// The root-key provider's kind.
    pub provider: String,
    /// For the shares provider: shares entered so far, needed, existing.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub progress: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub threshold: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shares: Option<u8>,
}

/// Why an operator's seal or unseal did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error(transparent)]
    Share(#[from] ShareError),
    #[error("an unseal needs a share (the shares provider)")]
    ShareNeeded,
    #[error("the store does not open: {0}")]
    Open(String),
    #[error("the server is sealed: unseal it first")]
    Sealed,
    #[error("the backup failed: {0}")]
    Backup(String),
}

/// The files of a data directory that a backup carries besides the store:
/// the generated TLS certificate and key (so clients' CA bundle stays
/// valid) and the audit signing key (so digests go on being signed by the
/// key auditors know). Each is sealed under the store key, or public; the
/// development root key file is never among them.
pub const BACKUP_FILES: [&str; 5] = [
    "tls/ca.pem",
    "tls/server.pem",
    "tls/server-key.sealed",
    "tls/server-key.pem",
    "audit-signing-key.sealed",
];

/// The process: its audit log, and its domain while unsealed.
#[derive(Debug)]
pub(crate) struct Node {
    pub audit: custos_audit::AuditLog,
    pub metrics: crate::metrics::Metrics,
    pub gate: Arc<crate::limits::Gate>,
    open: RwLock<Option<Arc<State>>>,
    opener: Opener,
    /// Shares entered so far (shares provider, while sealed); also
    /// serialises unseals and seals.
    unsealing: tokio::sync::Mutex<Option<Unsealer>>,
}

impl Node {
    pub(crate) fn new(
        audit: custos_audit::AuditLog,
        opener: Opener,
        state: Option<Arc<State>>,
        limits: crate::limits::Limits,
    ) -> Result<Node, StartError> {
        let unsealing = match (&opener.root, &state) {
            (RootSource::Shares { wrapped }, None) => Some(Unsealer::new(wrapped)?),
            _ => None,
        };
        Ok(Node {
            audit,
            metrics: crate::metrics::Metrics::default(),
            gate: crate::limits::Gate::new(limits),
            open: RwLock::new(state),
            opener,
            unsealing: tokio::sync::Mutex::new(unsealing),
        })
    }

    /// The domain, `None` while sealed.
    pub(crate) fn state(&self) -> Option<Arc<State>> {
        self.open.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The store's commit latencies and failures.
    pub(crate) fn store_commits(&self) -> &custos_store::redb::CommitStats {
        self.opener.engine.commit_stats()
    }

    /// Whether the store serves (not recovering from an I/O error).
    pub(crate) fn store_healthy(&self) -> bool {
        self.opener.engine.is_healthy()
    }

    pub(crate) fn is_sealed(&self) -> bool {
        self.open
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.opener.clock().now_ms()
    }

    fn provider_kind(&self) -> String {
        match &self.opener.root {
            RootSource::Auto(p) => p.kind().to_owned(),
            RootSource::Shares { .. } => shares::KIND.to_owned(),
        }
    }

    pub(crate) async fn status(&self) -> SealStatus {
        let unsealing = self.unsealing.lock().await;
        self.status_with(unsealing.as_ref())
    }

    fn status_with(&self, unsealer: Option<&Unsealer>) -> SealStatus {
        let sealed = self.is_sealed();
        let progress = match (&self.opener.root, unsealer) {
            (RootSource::Shares { .. }, Some(u)) if sealed => Some(u.progress()),
            _ => None,
        };
        SealStatus {
            sealed,
            provider: self.provider_kind(),
            progress: progress.map(|p| p.entered),
            threshold: progress.map(|p| p.threshold),
            shares: progress.map(|p| p.count),
        }
    }

    /// Takes one share (the shares provider), or asks the configured
    /// provider again; opens the store when the root key is complete.
    pub(crate) async fn unseal(
        &self,
        share: Option<&[u8]>,
        operator: &str,
    ) -> Result<SealStatus, OperatorError> {
        let mut unsealing = self.unsealing.lock().await;
        if !self.is_sealed() {
            return Ok(self.status_with(None));
        }
        let opened = match &self.opener.root {
            RootSource::Auto(provider) => self.opener.open(provider.as_ref(), &self.audit).await,
            RootSource::Shares { wrapped } => {
                let share = share.ok_or(OperatorError::ShareNeeded)?;
                let unsealer = match unsealing.as_mut() {
                    Some(u) => u,
                    None => unsealing.insert(Unsealer::new(wrapped).map_err(open_error)?),
                };
                if let Err(e) = unsealer.add(share) {
                    tracing::warn!(error = %e, %operator, "unseal share refused");
                    return Err(e.into());
                }
                let root: Option<SharesRoot> = unsealer.root().map_err(open_error)?;
                let Some(root) = root else {
                    tracing::info!(progress = ?unsealer.progress(), %operator, "unseal share accepted");
                    return Ok(self.status_with(Some(unsealer)));
                };
                // Enough shares: whatever happens next, they are spent.
                *unsealing = None;
                self.opener.open(&root, &self.audit).await
            }
        };
        let opened = opened.map_err(|e| {
            tracing::error!(error = %e, "unseal failed");
            OperatorError::Open(e.to_string())
        })?;
        let event = crate::audit::operator_event("Unseal", &opened.state, operator, self.now_ms());
        if let Err(e) = opened.state.record(&event).await {
            // Unsealed, but unrecorded: the audit log's own state says why
            // (requests fail closed until it is writable again).
            tracing::error!(error = ?e, "the unseal could not be recorded");
        }
        *self.open.write().unwrap_or_else(|p| p.into_inner()) = Some(opened.state);
        tracing::info!(%operator, "unsealed");
        Ok(self.status_with(None))
    }

    /// A sealed backup of everything, taken online; recorded as a
    /// `Backup` event (no backup leaves unrecorded).
    pub(crate) async fn backup(&self, operator: &str) -> Result<Vec<u8>, OperatorError> {
        let state = self.state().ok_or(OperatorError::Sealed)?;
        let mut files = Vec::new();
        for name in BACKUP_FILES {
            match std::fs::read(self.opener.data_dir.join(name)) {
                Ok(bytes) => files.push(custos_kms::backup::BackupFile {
                    name: name.to_owned(),
                    bytes,
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(OperatorError::Backup(format!("{name}: {e}"))),
            }
        }
        let head = self
            .audit
            .head()
            .map(|(seq, hash)| custos_kms::backup::AuditHead {
                seq,
                hash: hex::encode(hash),
            });
        let bytes = state
            .kms
            .backup(files, head)
            .await
            .map_err(|e| OperatorError::Backup(e.to_string()))?;
        let event = crate::audit::operator_event("Backup", &state, operator, self.now_ms());
        state
            .record(&event)
            .await
            .map_err(|_| OperatorError::Backup("the audit log cannot record it".into()))?;
        tracing::info!(%operator, bytes = bytes.len(), "backup taken");
        Ok(bytes)
    }

    /// Seals: new requests are refused at once; the store key and every
    /// key cache are dropped once the requests in flight are done.
    pub(crate) async fn seal(&self, operator: &str) -> SealStatus {
        let mut unsealing = self.unsealing.lock().await;
        let taken = self.open.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(state) = taken {
            let event = crate::audit::operator_event("Seal", &state, operator, self.now_ms());
            if let Err(e) = state.record(&event).await {
                tracing::error!(error = ?e, "the seal could not be recorded");
            }
            let waited = std::time::Instant::now();
            while Arc::strong_count(&state) > 1 && waited.elapsed() < SEAL_DRAIN {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // A last digest covers everything so far; the signing key goes.
            if let Err(e) = self.audit.set_signer(None) {
                tracing::error!(error = %e, "cannot sign the audit log's digest at seal");
            }
            drop(state);
            tracing::warn!(%operator, "sealed: KMS requests are refused until an unseal");
        }
        *unsealing = match &self.opener.root {
            RootSource::Shares { wrapped } => Unsealer::new(wrapped).ok(),
            RootSource::Auto(_) => None,
        };
        self.status_with(unsealing.as_ref())
    }
}

fn open_error(e: RootKeyError) -> OperatorError {
    OperatorError::Open(e.to_string())
}
