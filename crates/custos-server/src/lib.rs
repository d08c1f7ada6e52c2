//! The Custos HTTPS server: a thin adapter between the AWS KMS wire and
//! the KMS domain.
//!
//! # Layout
//!
//! - [`config`]: the TOML file, environment and flags, resolved.
//! - [`tls`]: rustls on aws-lc-rs, and the generated CA and certificate.
//! - [`server`]: the listener and the per-request pipeline
//!   (limits → SigV4 → dispatch → audit → response).
//! - `dispatch`: JSON bodies to domain calls and back.
//! - `query`: the AWS Query protocol of IAM and STS: form in, XML out.
//! - [`error`]: the single mapping of errors to `__type`, status, message.
//! - [`audit`]: the audit step every authenticated request passes through.
//! - `health`: `/healthz`, `/readyz` and `/metrics`, for operators.
//!
//! # What this crate deliberately does not do
//!
//! No key logic and no cryptography of its own: what a request means is
//! the domain's (`custos-kms`), signatures are `custos-sigv4`'s, and
//! primitives are `custos-crypto`'s.

pub mod audit;
mod cloudtrail;
pub mod config;
mod dispatch;
pub mod error;
mod health;
pub mod limits;
mod metrics;
pub mod operator;
mod query;
pub mod seal;
pub mod server;
pub mod tls;

use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use custos_crypto::SecretBytes;
use custos_iam::{Iam, IamError};
use custos_kms::root_key::RootKeyError;
use custos_kms::root_key::RootKeyProvider;
use custos_kms::root_key::file::FileProvider;
use custos_kms::root_key::passphrase::PassphraseProvider;
use custos_kms::root_key::shares;
use custos_kms::{Clock, Kms, OpenError, Settings, SystemClock};
use custos_store::StoreError;
use custos_store::redb::RedbEngine;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::Config;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    RootKey(#[from] RootKeyError),
    #[error(
        "this data directory has a store but no development key file (root.key): it is \
         sealed under another root-key provider; give it with --root-key"
    )]
    NoDevelopmentKey,
    #[error("the {0} root-key provider is made by the custos binary, not by this embedding")]
    ProviderNotMade(&'static str),
    #[error(
        "this data directory has no store to unseal: run `custos operator init --shares N \
         --threshold T` first"
    )]
    NotInitialised,
    #[error(
        "this data directory is sealed with a root key of kind `{recorded}`, but the \
         configured provider is `{configured}`"
    )]
    ProviderMismatch {
        recorded: String,
        configured: &'static str,
    },
    #[error(
        "this data directory is opened by operators' shares: start the server \
         (`--root-key shares`) and unseal it with `custos operator unseal`"
    )]
    SharesNeeded,
    #[error("this data directory already has a store")]
    AlreadyInitialised,
    #[error("the server is sealed: unseal it first (custos operator unseal)")]
    Sealed,
    #[error(transparent)]
    Backup(#[from] custos_kms::backup::BackupError),
    #[error("{0}")]
    Share(#[from] shares::ShareError),
    #[error(
        "the backup's root key is split into shares: {needed} of them are needed, {given} were given"
    )]
    TooFewShares { needed: u8, given: usize },
    #[error(
        "the development root key is never in a backup: copy root.key of the original data \
         directory into {0} first"
    )]
    NoRootKeyFile(String),
    #[error("a rekey moves to a root key kept away from the data, not to the development key file")]
    RekeyToFile,
    #[error("cannot open the operator socket {}: {source}", path.display())]
    OperatorSocket {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store (is another Custos using this data directory?)")]
    Store(#[source] StoreError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("cannot set up the bootstrap identity")]
    Bootstrap(#[source] IamError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the audit log in {}: {source}", dir.display())]
    Audit {
        dir: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    /// The address actually bound (useful with port 0).
    pub local_addr: SocketAddr,
    /// Whether the server speaks TLS.
    pub tls: bool,
    /// The CA bundle clients should trust, when Custos generated it.
    pub ca_bundle: Option<PathBuf>,
    pub account_id: String,
    pub regions: Vec<String>,
    /// The bootstrap administrator's access key id; `None` when the server
    /// started sealed (it was shown by `custos operator init`).
    pub bootstrap_access_key_id: Option<String>,
    /// The bootstrap secret when it was just generated (or given): shown once.
    pub bootstrap_secret: Option<SecretBytes>,
    /// Whether the root key comes from a development-only provider.
    pub development_root_key: bool,
    /// The provider's kind (`file`, `passphrase`, `shares`, …).
    pub root_key_kind: String,
    /// The development key file, when that is the provider.
    pub root_key_path: PathBuf,
    /// The operator socket (`custos operator status|unseal|seal`).
    pub operator_socket: PathBuf,
    node: Arc<seal::Node>,
    /// The certificate served, and where it was read from.
    certificate: Option<(Arc<tls::Certificate>, config::TlsSource)>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The endpoint URL clients use.
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Runs one pass of the scheduler now (it also runs every minute), as
    /// the server would: tests move their clock and call this rather than
    /// wait. Nothing happens while sealed.
    pub async fn run_scheduled_pass(&self) {
        if let Some(state) = self.node.state() {
            server::scheduled_pass(&state, &self.node.metrics).await;
        }
    }

    /// Reads the operator's TLS certificate and key files again (the
    /// binary does on SIGHUP): new connections get the new certificate,
    /// open ones are not dropped. On error nothing changes.
    pub fn reload_tls(&self) -> Result<(), tls::TlsError> {
        match &self.certificate {
            Some((certificate, source)) => certificate.reload(source),
            None => Err(tls::TlsError::NotReloadable),
        }
    }

    /// Whether the server is sealed now.
    pub fn is_sealed(&self) -> bool {
        self.node.is_sealed()
    }

    /// Stops accepting, lets requests in flight finish (bounded), and
    /// returns once the listener is closed.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        // Requests are drained; connection tasks that were cut off may
        // still hold the node (and so the log) a moment: close the log
        // now rather than when they let go.
        let node = Arc::clone(&self.node);
        let _ = tokio::task::spawn_blocking(move || node.audit.close()).await;
        let _ = std::fs::remove_file(&self.operator_socket);
    }

    /// Waits until the server stops by itself (it does not, unless it
    /// panics) — for the binary, which stops it on a signal instead.
    pub async fn wait(&mut self) {
        let _ = (&mut self.task).await;
    }
}

/// The configured root-key provider.
fn root_provider(config: &Config) -> Result<Arc<dyn RootKeyProvider>, StartError> {
    Ok(match &config.root_key {
        config::RootKeySource::DevelopmentFile => {
            let path = config.data_dir.join("root.key");
            // A key file made for a store sealed under another provider
            // would only mislead.
            if config.data_dir.join("custos.redb").exists() && !path.exists() {
                return Err(StartError::NoDevelopmentKey);
            }
            Arc::new(FileProvider::open_or_create(&path)?)
        }
        config::RootKeySource::Passphrase { passphrase, kdf } => {
            Arc::new(PassphraseProvider::new(passphrase.duplicate(), *kdf)?)
        }
        config::RootKeySource::Pkcs11 {
            module,
            token,
            key,
            pin,
        } => Arc::new(custos_kms::root_key::pkcs11::Pkcs11Provider::new(
            module,
            token,
            key,
            pin.duplicate(),
        )?),
        config::RootKeySource::Kms { .. } => return Err(StartError::ProviderNotMade("kms")),
        config::RootKeySource::Shares => return Err(StartError::SharesNeeded),
        config::RootKeySource::Provided(provider) => Arc::clone(provider),
    })
}

/// Opens (creating) the embedded store, readable by its owner only.
/// How many connections the kernel may hold for us before we accept them:
/// a flood of connections must not crowd out a real client's, waiting on
/// SYN retransmissions (Linux caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;

/// The listening socket, with [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

fn open_store(data_dir: &Path) -> Result<RedbEngine, StartError> {
    let path = data_dir.join("custos.redb");
    let err = |source| StartError::DataDir {
        path: path.display().to_string(),
        source,
    };
    // Created 0600 here rather than by redb, which would take the umask.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(err)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    RedbEngine::open(&path).map_err(StartError::Store)
}

fn create_private_dir(path: &Path) -> Result<(), StartError> {
    let err = |source| StartError::DataDir {
        path: path.display().to_string(),
        source,
    };
    if !path.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(err)?;
    }
    let mode = std::fs::metadata(path).map_err(err)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        // Nothing in it is readable without the root key, but its listing
        // and sizes are nobody else's business either.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
        tracing::info!(path = %path.display(), old_mode = format!("{mode:o}"), "data directory made private (0700)");
    }
    Ok(())
}

/// An account just made, with its administrator's credential (shown once).
#[derive(Debug)]
pub struct NewAccount {
    pub account_id: String,
    pub user_arn: String,
    pub access_key_id: String,
    pub secret: SecretBytes,
}

impl From<custos_iam::accounts::Admin> for NewAccount {
    fn from(a: custos_iam::accounts::Admin) -> Self {
        NewAccount {
            account_id: a.account.to_string(),
            user_arn: a.user_arn,
            access_key_id: a.access_key_id,
            // A new account's administrator always has a new secret.
            secret: a.new_secret.unwrap_or_else(|| SecretBytes::new(Vec::new())),
        }
    }
}

impl Running {
    /// Creates another account on this installation, with its first
    /// administrator (for tests and an operator's tooling; `custos account
    /// create` does the same on a stopped server's data directory).
    pub async fn create_account(&self, account: Option<&str>) -> Result<NewAccount, AccountError> {
        let state = self.node.state().ok_or(StartError::Sealed)?;
        create_account_in(&state.iam, account).await
    }
}

/// Why an account command failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0} is not a 12-digit account id")]
    InvalidAccountId(String),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(transparent)]
    Iam(#[from] IamError),
}

async fn create_account_in(
    iam: &Iam<RedbEngine>,
    account: Option<&str>,
) -> Result<NewAccount, AccountError> {
    let account = match account {
        Some(a) => Some(
            custos_iam::AccountId::parse(a)
                .ok_or_else(|| AccountError::InvalidAccountId(a.to_owned()))?,
        ),
        None => None,
    };
    Ok(iam.create_account(account).await?.into())
}

/// Opens a data directory that no server is using: its KMS and IAM
/// domains, for the operator's commands.
async fn open_offline(config: &Config) -> Result<(Kms<RedbEngine>, Iam<RedbEngine>), StartError> {
    if !config.data_dir.join("custos.redb").exists() {
        return Err(StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no Custos store here (start the server once first)",
            ),
        });
    }
    let root = root_provider(config)?;
    open_domain(open_store(&config.data_dir)?, root.as_ref(), config).await
}

/// The KMS and IAM domains of `engine`'s store, opened (or made) with
/// `root`, for the commands that run without a server.
async fn open_domain(
    engine: RedbEngine,
    root: &dyn RootKeyProvider,
    config: &Config,
) -> Result<(Kms<RedbEngine>, Iam<RedbEngine>), StartError> {
    let kms = Kms::open(
        engine.clone(),
        root,
        Settings {
            account_id: config.account_id.clone(),
            regions: config.regions.clone(),
            clock: Arc::new(SystemClock::new()),
        },
    )
    .await?;
    let iam = Iam::new(engine, kms.store_sealer(), kms.shared_clock());
    Ok((kms, iam))
}

/// The bootstrap credentials the configuration gives, copied.
pub(crate) fn given_bootstrap(
    given: &Option<(String, SecretBytes)>,
) -> Option<(String, SecretBytes)> {
    given
        .as_ref()
        .map(|(id, secret)| (id.clone(), secret.duplicate()))
}

/// `custos account create`: a new account in a stopped server's data
/// directory, with its administrator.
pub async fn create_account(
    config: &Config,
    account: Option<&str>,
) -> Result<NewAccount, AccountError> {
    let (kms, iam) = open_offline(config).await?;
    // The installation's first account must exist before any other.
    iam.ensure_bootstrap(kms.account(), None)
        .await
        .map_err(StartError::Bootstrap)?;
    create_account_in(&iam, account).await
}

/// `custos account list`: the accounts of a stopped server's data
/// directory.
pub async fn list_accounts(
    config: &Config,
) -> Result<Vec<custos_iam::accounts::AccountSummary>, AccountError> {
    let (_, iam) = open_offline(config).await?;
    Ok(iam.accounts().await?)
}

/// What the audit signing key is sealed for.
const AUDIT_KEY_PURPOSE: &str = "audit-signing-key";

/// The audit log's signing key: sealed under the store key in the data
/// directory, made on first start.
pub(crate) fn audit_signer(
    kms: &Kms<RedbEngine>,
    data_dir: &std::path::Path,
) -> std::io::Result<custos_audit::DigestSigner> {
    let path = data_dir.join("audit-signing-key.sealed");
    let failed = |what: &str| std::io::Error::other(format!("the audit signing key {what}"));
    if path.exists() {
        let sealed = std::fs::read(&path)?;
        let secret = kms
            .open_local(AUDIT_KEY_PURPOSE, &sealed)
            .map_err(|_| failed("cannot be unsealed"))?;
        return custos_audit::DigestSigner::from_private_bytes(secret.expose_secret())
            .map_err(|_| failed("is unreadable"));
    }
    let signer = custos_audit::DigestSigner::generate().map_err(|_| failed("cannot be made"))?;
    let secret = signer
        .private_bytes()
        .map_err(|_| failed("cannot be read"))?;
    let sealed = kms
        .seal_local(AUDIT_KEY_PURPOSE, secret.expose_secret())
        .map_err(|_| failed("cannot be sealed"))?;
    tls::write_atomically(&path, &sealed).map_err(std::io::Error::other)?;
    Ok(signer)
}

/// Opens the data directory and starts serving.
pub async fn start(config: Config) -> Result<Running, StartError> {
    start_with_clock(config, Arc::new(SystemClock::new())).await
}

/// [`start`] with a clock of the caller's: tests move time forward (to
/// expire a session, say) without waiting.
///
/// With the shares provider the server starts sealed: it listens, answers
/// health checks, refuses KMS requests, and opens when operators enter
/// enough shares through the operator socket.
pub async fn start_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
) -> Result<Running, StartError> {
    create_private_dir(&config.data_dir)?;
    let provider = match config.root_key {
        config::RootKeySource::Shares => None,
        _ => Some(root_provider(&config)?),
    };
    let engine = open_store(&config.data_dir)?;
    let (root, recorded_account) = match provider {
        Some(p) => (seal::RootSource::Auto(p), None),
        None => {
            let recorded = custos_kms::sealed_store_key(&engine)
                .await?
                .ok_or(StartError::NotInitialised)?;
            if recorded.root_key_kind != shares::KIND {
                return Err(StartError::ProviderMismatch {
                    recorded: recorded.root_key_kind,
                    configured: shares::KIND,
                });
            }
            (
                seal::RootSource::Shares {
                    wrapped: recorded.wrapped,
                },
                Some(recorded.account_id),
            )
        }
    };
    let audit = match &config.audit_dir {
        // Opened before the store: its signing key comes at unseal.
        Some(dir) => {
            custos_audit::AuditLog::open(dir, None).map_err(|source| StartError::Audit {
                dir: dir.clone(),
                source,
            })?
        }
        None => {
            tracing::warn!(
                "AUDITING IS OFF ([audit] enabled = false): requests are not recorded; \
                 use only for benchmarks"
            );
            custos_audit::AuditLog::disabled()
        }
    };
    let opener = seal::Opener {
        engine,
        settings: Settings {
            account_id: config.account_id.clone(),
            regions: config.regions.clone(),
            clock,
        },
        quotas: config.quotas.clone(),
        bootstrap: config.bootstrap,
        data_dir: config.data_dir.clone(),
        root,
    };
    let (root_key_kind, development_root_key) = match &opener.root {
        seal::RootSource::Auto(p) => (p.kind().to_owned(), p.is_development()),
        seal::RootSource::Shares { .. } => (shares::KIND.to_owned(), false),
    };
    let opened = match &opener.root {
        seal::RootSource::Auto(p) => Some(opener.open(p.as_ref(), &audit).await?),
        seal::RootSource::Shares { .. } => None,
    };
    let custody = match &opened {
        Some(o) => tls::KeyCustody::Sealed(&o.state.kms),
        None => tls::KeyCustody::OwnerOnlyFile,
    };
    let tls = tls::setup(
        &config.tls,
        &config.data_dir,
        config.listen.ip(),
        config.enable_tls12,
        custody,
    )?;
    let listener = listen(config.listen).map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let operator_socket = config.data_dir.join(operator::SOCKET_NAME);
    let socket_error = |source| StartError::OperatorSocket {
        path: operator_socket.clone(),
        source,
    };
    let operators = match operator::bind(&operator_socket)
        .and_then(|l| Ok((l, operator::owner_of(&config.data_dir)?)))
    {
        Ok(bound) => Some(bound),
        // A server that opens by itself runs without the socket (a data
        // directory path too long for a Unix socket, say); one that waits
        // for shares cannot.
        Err(e) if opened.is_some() => {
            tracing::warn!(
                path = %operator_socket.display(),
                error = %e,
                "no operator socket: `custos operator` cannot reach this server"
            );
            None
        }
        Err(e) => return Err(socket_error(e)),
    };
    let (ca_bundle, acceptor, certificate) = match tls {
        Some(t) => (
            t.ca_bundle.map(|p| std::fs::canonicalize(&p).unwrap_or(p)),
            Some(tokio_rustls::TlsAcceptor::from(t.config)),
            Some(t.certificate),
        ),
        None => (None, None, None),
    };
    let running_tls = acceptor.is_some();
    let (account_id, bootstrap_access_key_id, bootstrap_secret) = match &opened {
        Some(o) => (
            o.state.kms.account().to_string(),
            Some(o.bootstrap.access_key_id.clone()),
            o.bootstrap.new_secret.as_ref().map(SecretBytes::duplicate),
        ),
        None => (recorded_account.unwrap_or_default(), None, None),
    };
    let regions = config.regions.iter().map(|r| r.to_string()).collect();
    let node = Arc::new(seal::Node::new(
        audit,
        opener,
        opened.map(|o| o.state),
        config.limits,
    )?);
    if node.is_sealed() {
        tracing::warn!(
            socket = %operator_socket.display(),
            "SEALED: KMS requests are refused until operators enter enough shares \
             (custos operator unseal)"
        );
    }
    let (tx, rx) = watch::channel(false);
    let scheduler = tokio::spawn(server::schedule(Arc::clone(&node), rx.clone()));
    let operator_task = operators.map(|(listener, owner)| {
        tokio::spawn(operator::serve(
            listener,
            Arc::clone(&node),
            owner,
            rx.clone(),
        ))
    });
    let served = Arc::clone(&node);
    let task = tokio::spawn(async move {
        server::serve(listener, acceptor, served, rx).await;
        let _ = scheduler.await;
        if let Some(t) = operator_task {
            let _ = t.await;
        }
    });
    Ok(Running {
        local_addr,
        tls: running_tls,
        ca_bundle,
        account_id,
        regions,
        bootstrap_access_key_id,
        bootstrap_secret,
        development_root_key,
        root_key_kind,
        root_key_path: config.data_dir.join("root.key"),
        operator_socket,
        node,
        certificate: certificate.map(|c| (c, config.tls.clone())),
        shutdown: tx,
        task,
    })
}

/// A store just made under the shares provider.
#[derive(Debug)]
pub struct Initialised {
    /// The shares, in the text form operators keep: shown once.
    pub shares: Vec<SecretBytes>,
    pub threshold: u8,
    pub account_id: String,
    pub bootstrap_access_key_id: String,
    /// The bootstrap administrator's secret (new, or the one given).
    pub bootstrap_secret: Option<SecretBytes>,
}

/// `custos operator init`: makes a new store in an empty data directory
/// whose root key is split into `count` shares, `threshold` of which
/// unseal it, and its bootstrap administrator.
pub async fn init_shares(
    config: &Config,
    threshold: u8,
    count: u8,
) -> Result<Initialised, StartError> {
    create_private_dir(&config.data_dir)?;
    let engine = open_store(&config.data_dir)?;
    if custos_kms::sealed_store_key(&engine).await?.is_some() {
        return Err(StartError::AlreadyInitialised);
    }
    let (root, shares) = shares::SharesRoot::generate(threshold, count)?;
    let (kms, iam) = open_domain(engine, &root, config).await?;
    let admin = iam
        .ensure_bootstrap(kms.account(), given_bootstrap(&config.bootstrap))
        .await
        .map_err(StartError::Bootstrap)?;
    Ok(Initialised {
        shares,
        threshold,
        account_id: kms.account().to_string(),
        bootstrap_access_key_id: admin.access_key_id,
        bootstrap_secret: admin.new_secret,
    })
}

/// `custos restore`: writes `backup` into a data directory that holds no
/// store, after opening it with the configured root key, or, for a backup
/// taken under the shares provider, with `shares` (at least its threshold).
/// The store is written in one transaction; the files it carries (TLS,
/// audit signing key) are written after it.
pub async fn restore(
    config: &Config,
    backup: &[u8],
    given: &[SecretBytes],
) -> Result<custos_kms::backup::Restored, StartError> {
    let (header, _) = custos_kms::backup::read_header(backup)?;
    let kind = header.root_key_kind()?;
    create_private_dir(&config.data_dir)?;
    if kind != shares::KIND
        && matches!(config.root_key, config::RootKeySource::DevelopmentFile)
        && !config.data_dir.join("root.key").exists()
    {
        return Err(StartError::NoRootKeyFile(
            config.data_dir.display().to_string(),
        ));
    }
    let recorded = custos_kms::SealedStoreKey {
        root_key_kind: kind,
        wrapped: header.wrapped_store_key()?,
        account_id: header.account_id()?,
    };
    let root = current_root(config, &recorded, given)?;
    let engine = open_store(&config.data_dir)?;
    // Only the files a backup is made of, and only where they belong.
    let restored =
        custos_kms::backup::restore(&engine, root.as_ref(), backup, &seal::BACKUP_FILES).await?;
    for file in &restored.files {
        let path = config.data_dir.join(&file.name);
        if let Some(parent) = path.parent() {
            create_private_dir(parent)?;
        }
        tls::write_atomically(&path, &file.bytes)?;
    }
    Ok(restored)
}

/// The root key a rekey moves to.
#[derive(Debug)]
pub enum NewRoot<'a> {
    /// A new root key, split into `count` shares, `threshold` of which
    /// unseal.
    Shares { threshold: u8, count: u8 },
    /// The provider this configuration names (`passphrase`, `pkcs11`, a
    /// provider made by the embedding program).
    Configured(&'a Config),
}

/// What a rekey did.
#[derive(Debug)]
pub struct Rekeyed {
    pub from: String,
    pub to: String,
    /// The new shares (shares provider), shown once.
    pub shares: Vec<SecretBytes>,
    pub threshold: Option<u8>,
}

/// The root key that opens the store of a stopped server's data
/// directory: operators' `shares` when it was made by them, else the
/// configured provider.
fn current_root(
    config: &Config,
    recorded: &custos_kms::SealedStoreKey,
    given: &[SecretBytes],
) -> Result<Arc<dyn RootKeyProvider>, StartError> {
    if recorded.root_key_kind != shares::KIND {
        return root_provider(config);
    }
    let mut unsealer = shares::Unsealer::new(&recorded.wrapped)?;
    for share in given {
        unsealer.add(share.expose_secret())?;
    }
    let progress = unsealer.progress();
    match unsealer.root()? {
        Some(root) => Ok(Arc::new(root)),
        None => Err(StartError::TooFewShares {
            needed: progress.threshold,
            given: given.len(),
        }),
    }
}

/// `custos operator rekey`: moves a stopped server's store to another root
/// key (another provider, new shares or threshold) without touching any
/// record: only the wrapped store key changes, in one atomic write.
pub async fn rekey(
    config: &Config,
    given: &[SecretBytes],
    to: NewRoot<'_>,
) -> Result<Rekeyed, StartError> {
    let engine = open_store(&config.data_dir)?;
    let recorded = custos_kms::sealed_store_key(&engine)
        .await?
        .ok_or(StartError::NotInitialised)?;
    let old = current_root(config, &recorded, given)?;
    let (new, shares, threshold): (Arc<dyn RootKeyProvider>, _, _) = match to {
        NewRoot::Shares { threshold, count } => {
            let (root, shares) = shares::SharesRoot::generate(threshold, count)?;
            (Arc::new(root), shares, Some(threshold))
        }
        NewRoot::Configured(new_config) => match new_config.root_key {
            // A rekey is to a root key kept elsewhere, never back beside
            // the data.
            config::RootKeySource::DevelopmentFile => return Err(StartError::RekeyToFile),
            _ => (root_provider(new_config)?, Vec::new(), None),
        },
    };
    custos_kms::rewrap_store_key(&engine, old.as_ref(), new.as_ref()).await?;
    // The generated TLS key follows: an owner-only file under the shares
    // provider (TLS must work while sealed), sealed under the others. The
    // certificate and CA stay, and so do clients' bundles.
    let (kms, _) = open_domain(engine, new.as_ref(), config).await?;
    tls::move_key(&config.data_dir, &kms, new.kind() != shares::KIND)?;
    Ok(Rekeyed {
        from: recorded.root_key_kind,
        to: new.kind().to_owned(),
        shares,
        threshold,
    })
}

/// The kind of root key a stopped server's store was sealed with (`None`:
/// no store yet).
pub async fn recorded_root_key_kind(config: &Config) -> Result<Option<String>, StartError> {
    if !config.data_dir.join("custos.redb").exists() {
        return Ok(None);
    }
    let engine = open_store(&config.data_dir)?;
    Ok(custos_kms::sealed_store_key(&engine)
        .await?
        .map(|r| r.root_key_kind))
}
