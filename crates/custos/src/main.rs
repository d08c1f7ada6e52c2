//! `custos`: the command-line entry point.
//!
//! - `custos server` runs the KMS service (with IAM and STS on the same
//!   endpoint).
//! - `custos account create|list` manages the accounts of a stopped
//!   server's data directory.
//! - `custos audit verify` checks the audit log's hash chain.
//! - `custos operator init|status|unseal|seal` ([`operator`]) makes a
//!   store opened by Shamir shares, and seals and unseals a running
//!   server.
//! - `custos encrypt`, `custos decrypt` and `custos inspect` ([`files`])
//!   encrypt files and streams in the AWS Encryption SDK message format,
//!   under keys in Custos or any AWS KMS ([`aws_kms`]) or local raw keys.
//!
//! Exit status: 0 on success (a closed standard output, as in `| head`,
//! counts as success), 1 when an operation failed, 2 for unusable
//! arguments.

mod aws_kms;
mod backup;
mod files;
mod logging;
mod operator;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use custos_server::config::{Config, ConfigFile, Overrides};

/// mimalloc rather than glibc's malloc: after a flood of connections ends,
/// it gives more of the freed memory back to the system (with glibc, on an
/// earlier version of the request limits, nearly all of it stayed: 162 MiB
/// after a 163 MiB peak; docs/operations.md). Its effect on request speed
/// has not been compared with glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "custos",
    version,
    long_version = env!("CUSTOS_BUILD_INFO"),
    about = "A self-hosted key management service that speaks the AWS KMS API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the KMS server (HTTPS, AWS KMS JSON 1.1 API).
    Server(ServerArgs),
    /// Encrypt files, directories or standard input (AWS Encryption SDK
    /// format, as aws-encryption-cli writes it).
    Encrypt(files::encrypt::EncryptArgs),
    /// Decrypt what `custos encrypt` or any AWS Encryption SDK wrote.
    Decrypt(files::decrypt::DecryptArgs),
    /// Show the header of an encrypted file (suite, encryption context,
    /// wrapped keys, frame length) without decrypting it.
    Inspect(files::inspect::InspectArgs),
    /// Accounts of a data directory (run while no server uses it).
    Account(AccountArgs),
    /// The audit trail: verify its hash chain.
    Audit(AuditArgs),
    /// Seal and unseal a server; make a store opened by operators' shares.
    Operator(operator::OperatorArgs),
    /// Take a sealed backup of a running server (online, consistent).
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty data directory.
    Restore(backup::RestoreArgs),
}

#[derive(Debug, Args)]
struct AuditArgs {
    #[command(subcommand)]
    action: AuditAction,
    /// TOML configuration file.
    #[arg(long, env = "CUSTOS_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory [default: ./custos-data]; the log is in its `audit`
    /// directory unless the configuration says otherwise.
    #[arg(long, env = "CUSTOS_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// An audit log directory itself (a copy, say), instead.
    #[arg(long, global = true, conflicts_with = "data_dir")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum AuditAction {
    /// Check every record, link and signed digest of the log; exit 1 at
    /// the first break, saying where and what.
    Verify,
    /// Write the log (verified first) in CloudTrail's log-file layout:
    /// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz`.
    Export {
        /// The folder to write into.
        #[arg(long)]
        out: PathBuf,
        /// Only events at or after this time (RFC 3339, or epoch seconds).
        #[arg(long)]
        since: Option<String>,
    },
    /// List the public keys that sign the log's digests (keep their ids
    /// somewhere else: keys beside the log prove nothing to someone who
    /// can rewrite the whole directory).
    Keys,
}

#[derive(Debug, Args)]
struct AccountArgs {
    #[command(subcommand)]
    action: AccountAction,
    /// TOML configuration file.
    #[arg(long, env = "CUSTOS_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory [default: ./custos-data].
    #[arg(long, env = "CUSTOS_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum AccountAction {
    /// Create an account with its first administrator, `custos-admin`, and
    /// print the administrator's access key once.
    Create {
        /// The 12-digit account id [default: generated].
        #[arg(long)]
        account_id: Option<String>,
    },
    /// List the accounts.
    List,
}

/// Flags override `CUSTOS_*` environment variables, which override the
/// configuration file, which overrides the defaults.
#[derive(Debug, Args)]
struct ServerArgs {
    /// TOML configuration file.
    #[arg(long, env = "CUSTOS_CONFIG")]
    config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8443].
    #[arg(long, env = "CUSTOS_LISTEN")]
    listen: Option<String>,
    /// Data directory [default: ./custos-data].
    #[arg(long, env = "CUSTOS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The 12-digit account id [default: generated on first start].
    #[arg(long, env = "CUSTOS_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Regions served, comma-separated [default: us-east-1].
    #[arg(long, env = "CUSTOS_REGIONS", value_delimiter = ',')]
    regions: Option<Vec<String>>,
    /// PEM certificate chain [default: a generated CA and certificate].
    #[arg(long, env = "CUSTOS_TLS_CERT_FILE", requires = "tls_key_file")]
    tls_cert_file: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(long, env = "CUSTOS_TLS_KEY_FILE", requires = "tls_cert_file")]
    tls_key_file: Option<PathBuf>,
    /// Also accept TLS 1.2 (ECDHE with AEAD ciphers only).
    #[arg(long, env = "CUSTOS_ENABLE_TLS12")]
    enable_tls12: bool,
    /// Serve plain HTTP, without TLS. Refused unless listening on loopback.
    #[arg(long, env = "CUSTOS_INSECURE_PLAIN_HTTP")]
    insecure_plain_http: bool,
    /// Access key id of the bootstrap administrator (for test rigs).
    #[arg(long, env = "CUSTOS_BOOTSTRAP_ACCESS_KEY_ID")]
    bootstrap_access_key_id: Option<String>,
    /// File holding the bootstrap secret access key (mode 0600).
    #[arg(long, env = "CUSTOS_BOOTSTRAP_SECRET_ACCESS_KEY_FILE")]
    bootstrap_secret_access_key_file: Option<PathBuf>,
    /// Where the root key comes from: `file` (a development key file in the
    /// data directory), `passphrase` (CUSTOS_ROOT_PASSPHRASE or
    /// --root-passphrase-file), `pkcs11`, `kms`, or `shares` (start sealed;
    /// see `custos operator init`) [default: file].
    #[arg(long, env = "CUSTOS_ROOT_KEY")]
    root_key: Option<String>,
    /// File holding the root passphrase (mode 0600).
    #[arg(long, env = "CUSTOS_ROOT_PASSPHRASE_FILE")]
    root_passphrase_file: Option<PathBuf>,
    /// Serve off loopback with the development key file anyway.
    #[arg(long, env = "CUSTOS_ALLOW_DEVELOPMENT_ROOT_KEY")]
    allow_development_root_key: bool,
    /// For `--root-key kms`: the ARN of the KMS key (in AWS KMS or another
    /// Custos, reached with the usual AWS configuration) that wraps the
    /// store key.
    #[arg(long, env = "CUSTOS_ROOT_KEY_ID")]
    root_key_id: Option<String>,
    /// For `--root-key pkcs11`: the PKCS#11 module to load.
    #[arg(long, env = "CUSTOS_PKCS11_MODULE")]
    pkcs11_module: Option<PathBuf>,
    /// For `--root-key pkcs11`: the token's label.
    #[arg(long, env = "CUSTOS_PKCS11_TOKEN")]
    pkcs11_token: Option<String>,
    /// For `--root-key pkcs11`: the label of the AES key that wraps the
    /// store key.
    #[arg(long, env = "CUSTOS_PKCS11_KEY")]
    pkcs11_key: Option<String>,
    /// For `--root-key pkcs11`: a file holding the user PIN (mode 0600);
    /// else CUSTOS_PKCS11_PIN.
    #[arg(long, env = "CUSTOS_PKCS11_PIN_FILE")]
    pkcs11_pin_file: Option<PathBuf>,
    /// Lock all of the server's memory into RAM (`mlockall`), so that no
    /// key is ever written to swap. Needs `LimitMEMLOCK=infinity` (or
    /// `CAP_IPC_LOCK`); the server refuses to start if it cannot.
    #[arg(long, env = "CUSTOS_MLOCK")]
    mlock: bool,
}

/// The PKCS#11 user PIN, from the environment only (never a flag).
fn pkcs11_pin_from_env() -> Option<custos_crypto::SecretBytes> {
    std::env::var_os("CUSTOS_PKCS11_PIN")
        .map(|v| custos_crypto::SecretBytes::new(v.into_encoded_bytes()))
}

/// Makes the providers that live in this binary (`kms`, which needs the
/// AWS SDK) for `config`.
pub(crate) fn make_root_provider(config: &mut Config) {
    if let custos_server::config::RootKeySource::Kms { key_id } = &config.root_key {
        let provider = aws_kms::root_key::KmsRootKey::new(key_id.clone());
        config.root_key =
            custos_server::config::RootKeySource::Provided(std::sync::Arc::new(provider));
    }
}

/// The root passphrase, from the environment only (never a flag: flags
/// show in `ps`).
fn passphrase_from_env() -> Option<custos_crypto::SecretBytes> {
    std::env::var_os("CUSTOS_ROOT_PASSPHRASE")
        .map(|v| custos_crypto::SecretBytes::new(v.into_encoded_bytes()))
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match (&mut cli.command, matches.subcommand()) {
        (Command::Encrypt(args), Some((_, sub))) => args.common.group(sub),
        (Command::Decrypt(args), Some((_, sub))) => args.common.group(sub),
        _ => {}
    }
    let logs = logging::init();
    // The commands that unseal keys (the server; account and audit commands
    // open the store) keep them out of core dumps and other users' reach.
    if matches!(
        cli.command,
        Command::Server(_)
            | Command::Account(_)
            | Command::Audit(_)
            | Command::Operator(_)
            | Command::Backup(_)
            | Command::Restore(_)
    ) && let Err(e) = harden_process()
    {
        eprintln!("custos: {e:#}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Server(args) => run_server(args).map(|()| ExitCode::SUCCESS),
        Command::Encrypt(args) => files::encrypt::run(args),
        Command::Decrypt(args) => files::decrypt::run(args),
        Command::Inspect(args) => files::inspect::run(args),
        Command::Account(args) => run_account(args).map(|()| ExitCode::SUCCESS),
        Command::Audit(args) => run_audit(args),
        Command::Operator(args) => operator::run(args),
        Command::Backup(args) => backup::run_backup(args),
        Command::Restore(args) => backup::run_restore(args),
    };
    logs.wait();
    match result {
        Ok(code) => code,
        Err(e) => {
            // Output piped into `head` is not a failure.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("custos: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// No core dumps (a dump would hold unsealed keys), not attachable by
/// other processes of the same user (non-dumpable also forbids ptrace and
/// reading `/proc/<pid>/mem`), and files created private (umask 077).
fn harden_process() -> anyhow::Result<()> {
    use rustix::process::{DumpableBehavior, Resource, Rlimit};
    rustix::process::setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )
    .context("cannot turn core dumps off")?;
    rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .context("cannot mark the process non-dumpable")?;
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    Ok(())
}

/// Locks the process's memory, present and future, into RAM.
fn lock_memory() -> anyhow::Result<()> {
    use rustix::process::{Resource, Rlimit};
    let limit = rustix::process::getrlimit(Resource::Memlock);
    if limit.current.is_some() && limit.current != limit.maximum {
        // Raise the soft limit as far as the hard one allows.
        let _ = rustix::process::setrlimit(
            Resource::Memlock,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
    let limited = rustix::process::getrlimit(Resource::Memlock)
        .current
        .is_some();
    // A limited user without CAP_IPC_LOCK would lock what fits and then
    // fail allocations later, at an arbitrary point: refuse now instead.
    if limited && !rustix::process::geteuid().is_root() {
        anyhow::bail!(
            "--mlock needs an unlimited RLIMIT_MEMLOCK (systemd: LimitMEMLOCK=infinity; \
             shell: ulimit -l unlimited) or CAP_IPC_LOCK"
        );
    }
    rustix::mm::mlockall(rustix::mm::MlockAllFlags::CURRENT | rustix::mm::MlockAllFlags::FUTURE)
        .context("cannot lock the server's memory (mlockall)")?;
    Ok(())
}

/// Raises the soft limit on open files to the hard one: every connection
/// is a descriptor, and the soft limit a shell or service manager hands
/// down (often 1,024) would turn a burst of clients into refused
/// connections long before memory or CPU run short.
fn raise_open_files_limit() {
    use rustix::process::{Resource, Rlimit};
    let limit = rustix::process::getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = rustix::process::setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
        if let Err(e) = raised {
            tracing::warn!(error = %e, soft = ?limit.current, "cannot raise the open-files limit");
        }
    }
}

fn run_server(args: ServerArgs) -> anyhow::Result<()> {
    if args.mlock {
        lock_memory()?;
    }
    raise_open_files_limit();
    let file = match &args.config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    // The secret itself may come from the environment only, never a flag
    // (flags show in `ps`).
    let secret_from_env = std::env::var_os("CUSTOS_BOOTSTRAP_SECRET_ACCESS_KEY")
        .map(|v| custos_crypto::SecretBytes::new(v.into_encoded_bytes()));
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
        account_id: args.account_id,
        regions: args.regions,
        tls_cert_file: args.tls_cert_file,
        tls_key_file: args.tls_key_file,
        enable_tls12: args.enable_tls12.then_some(true),
        insecure_plain_http: args.insecure_plain_http.then_some(true),
        bootstrap_access_key_id: args.bootstrap_access_key_id,
        bootstrap_secret_access_key: secret_from_env,
        bootstrap_secret_access_key_file: args.bootstrap_secret_access_key_file,
        root_key: args.root_key,
        root_passphrase: passphrase_from_env(),
        root_passphrase_file: args.root_passphrase_file,
        allow_development_root_key: args.allow_development_root_key.then_some(true),
        root_key_id: args.root_key_id,
        pkcs11_module: args.pkcs11_module,
        pkcs11_token: args.pkcs11_token,
        pkcs11_key: args.pkcs11_key,
        pkcs11_pin: pkcs11_pin_from_env(),
        pkcs11_pin_file: args.pkcs11_pin_file,
    };
    let mut config = Config::resolve(file, overrides)?;
    make_root_provider(&mut config);
    let data_dir = std::fs::canonicalize(&config.data_dir).unwrap_or(config.data_dir.clone());
    // At least two runtime threads: the audit log's batch task holds one
    // while the disk makes a batch durable, and a disk that hangs must
    // not hang the server (requests then fail within the append timeout).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let running = custos_server::start(config).await?;
        print_banner(&running, &data_dir)?;
        wait_for_signal(&running).await;
        tracing::info!("shutting down");
        running.shutdown().await;
        Ok(())
    })
}

fn run_audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let dir = match args.dir {
        Some(dir) => dir,
        None => offline_config(args.config.as_deref(), args.data_dir, None)?
            .audit_dir
            .context("auditing is off in this configuration: there is no log to verify")?,
    };
    match args.action {
        AuditAction::Verify => match custos_audit::verify::verify(&dir) {
            Ok(report) => {
                println!(
                    "{}: {} records in {} segments, chain intact (head {}); {} signed digests \
                     cover records 1 to {} (keys {})",
                    dir.display(),
                    report.records,
                    report.segments,
                    hex::encode(report.head),
                    report.digests,
                    report.covered,
                    if report.key_ids.is_empty() {
                        "none".to_owned()
                    } else {
                        report.key_ids.join(", ")
                    }
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(broken) => {
                eprintln!("custos: the audit log is broken: {broken}");
                Ok(ExitCode::FAILURE)
            }
        },
        AuditAction::Export { out, since } => {
            let since_s = match since.as_deref() {
                None => None,
                Some(t) => Some(match t.parse::<i64>() {
                    Ok(s) => s,
                    Err(_) => time::OffsetDateTime::parse(
                        t,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .with_context(|| format!("--since {t}: not an RFC 3339 time"))?
                    .unix_timestamp(),
                }),
            };
            let done = custos_audit::export::export(&dir, &out, since_s)?;
            println!(
                "{} events in {} files under {}",
                done.records,
                done.files,
                out.join("AWSLogs").display()
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditAction::Keys => {
            for key in custos_audit::digest::public_keys(&dir)
                .with_context(|| format!("cannot read the keys of {}", dir.display()))?
            {
                println!(
                    "{}  from {}  {}",
                    key.key_id, key.valid_from, key.public_key
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The configuration of a command that works on a stopped server's data
/// directory: the file, if given, and the data directory over it.
pub(crate) fn offline_config(
    config: Option<&std::path::Path>,
    data_dir: Option<PathBuf>,
    root_key: Option<String>,
) -> anyhow::Result<Config> {
    let file = match config {
        Some(path) => ConfigFile::load(path)?,
        None => ConfigFile::default(),
    };
    let mut config = Config::resolve(
        file,
        Overrides {
            data_dir,
            // The root key as the server is given it.
            root_key: root_key.or_else(|| std::env::var("CUSTOS_ROOT_KEY").ok()),
            root_passphrase: passphrase_from_env(),
            root_passphrase_file: std::env::var_os("CUSTOS_ROOT_PASSPHRASE_FILE")
                .map(PathBuf::from),
            root_key_id: std::env::var("CUSTOS_ROOT_KEY_ID").ok(),
            pkcs11_module: std::env::var_os("CUSTOS_PKCS11_MODULE").map(PathBuf::from),
            pkcs11_token: std::env::var("CUSTOS_PKCS11_TOKEN").ok(),
            pkcs11_key: std::env::var("CUSTOS_PKCS11_KEY").ok(),
            pkcs11_pin: pkcs11_pin_from_env(),
            pkcs11_pin_file: std::env::var_os("CUSTOS_PKCS11_PIN_FILE").map(PathBuf::from),
            ..Overrides::default()
        },
    )?;
    make_root_provider(&mut config);
    Ok(config)
}

fn run_account(args: AccountArgs) -> anyhow::Result<()> {
    let config = offline_config(args.config.as_deref(), args.data_dir, None)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let mut out = std::io::stdout().lock();
        match args.action {
            AccountAction::Create { account_id } => {
                let new = custos_server::create_account(&config, account_id.as_deref())
                    .await
                    .context(
                        "cannot create the account (is a server using this data directory?)",
                    )?;
                writeln!(
                    out,
                    "Account {} created; its administrator is {}.",
                    new.account_id, new.user_arn
                )?;
                writeln!(out, "export AWS_ACCESS_KEY_ID={}", new.access_key_id)?;
                writeln!(
                    out,
                    "export AWS_SECRET_ACCESS_KEY={}",
                    String::from_utf8_lossy(new.secret.expose_secret())
                )?;
                writeln!(out, "# The secret access key is shown once; store it now.")?;
            }
            AccountAction::List => {
                let accounts = custos_server::list_accounts(&config)
                    .await
                    .context("cannot read the accounts (is a server using this data directory?)")?;
                for a in accounts {
                    let created = time::OffsetDateTime::from_unix_timestamp(a.created_ms / 1000)
                        .ok()
                        .and_then(|t| {
                            t.format(&time::format_description::well_known::Rfc3339)
                                .ok()
                        })
                        .unwrap_or_default();
                    writeln!(out, "{}  created {created}  {} users", a.account, a.users)?;
                }
            }
        }
        out.flush()?;
        Ok(())
    })
}

/// Tells the user what to paste so that the AWS CLI and SDKs reach Custos.
fn print_banner(r: &custos_server::Running, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Custos {} is listening on {}",
        env!("CARGO_PKG_VERSION"),
        r.endpoint()
    )?;
    writeln!(out, "  data directory: {}", data_dir.display())?;
    writeln!(
        out,
        "  account: {}   regions: {}",
        r.account_id,
        r.regions.join(", ")
    )?;
    if r.development_root_key {
        writeln!(
            out,
            "  root key: UNSAFE development key file {} beside the data it protects \
             (not for production: use --root-key passphrase)",
            r.root_key_path.display()
        )?;
    } else {
        writeln!(out, "  root key: {}", r.root_key_kind)?;
    }
    writeln!(out)?;
    writeln!(out, "To use it with the AWS CLI and SDKs:")?;
    writeln!(out, "export AWS_ENDPOINT_URL_KMS={}", r.endpoint())?;
    writeln!(out, "export AWS_ENDPOINT_URL_IAM={}", r.endpoint())?;
    writeln!(out, "export AWS_ENDPOINT_URL_STS={}", r.endpoint())?;
    writeln!(out, "export AWS_ENDPOINT_URL_CLOUDTRAIL={}", r.endpoint())?;
    if let Some(ca) = &r.ca_bundle {
        writeln!(out, "export AWS_CA_BUNDLE={}", ca.display())?;
    }
    let region = r.regions.first().map_or("us-east-1", String::as_str);
    // The AWS CLI v1 reads AWS_DEFAULT_REGION; the SDKs read AWS_REGION.
    writeln!(out, "export AWS_REGION={region}")?;
    writeln!(out, "export AWS_DEFAULT_REGION={region}")?;
    let Some(access_key_id) = &r.bootstrap_access_key_id else {
        writeln!(
            out,
            "# SEALED: enter the shares with `custos operator unseal` (socket {}); the \
             credentials are those `custos operator init` printed.",
            r.operator_socket.display()
        )?;
        out.flush()?;
        return Ok(());
    };
    writeln!(out, "export AWS_ACCESS_KEY_ID={access_key_id}")?;
    match &r.bootstrap_secret {
        Some(secret) => {
            let shown = String::from_utf8_lossy(secret.expose_secret());
            writeln!(out, "export AWS_SECRET_ACCESS_KEY={shown}")?;
            writeln!(out, "# The secret access key is shown once; store it now.")?;
        }
        None => writeln!(
            out,
            "# AWS_SECRET_ACCESS_KEY: the one printed at this data directory's first start."
        )?,
    }
    out.flush()?;
    Ok(())
}

/// Waits for SIGINT or SIGTERM (to stop); on SIGHUP, reloads the TLS
/// certificate and goes on waiting.
async fn wait_for_signal(running: &custos_server::Running) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = term.recv() => return,
            _ = hup.recv() => match running.reload_tls() {
                Ok(()) => tracing::info!("TLS certificate reloaded"),
                Err(e) => tracing::error!(error = %e, "TLS certificate not reloaded; still serving the old one"),
            },
        }
    }
}
