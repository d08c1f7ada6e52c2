//! `custos operator`: make a store opened by Shamir shares, and seal,
//! unseal and inspect a running server through its operator socket.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use custos_crypto::SecretBytes;
use custos_server::seal::SealStatus;

#[derive(Debug, Args)]
pub(crate) struct OperatorArgs {
    #[command(subcommand)]
    action: OperatorAction,
    /// TOML configuration file.
    #[arg(long, env = "CUSTOS_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data directory [default: ./custos-data].
    #[arg(long, env = "CUSTOS_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// The server's operator socket [default: operator.sock in the data directory].
    #[arg(long, env = "CUSTOS_OPERATOR_SOCKET", global = true)]
    socket: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum OperatorAction {
    /// Make a new store in an empty data directory, its root key split
    /// into shares, and print the shares once; start the server with
    /// `--root-key shares` and unseal it with `custos operator unseal`.
    Init {
        /// How many shares to make (at most 255).
        #[arg(long)]
        shares: u8,
        /// How many of them unseal the server (at least 2).
        #[arg(long)]
        threshold: u8,
        /// The 12-digit account id [default: generated].
        #[arg(long)]
        account_id: Option<String>,
    },
    /// Say whether the server is sealed, and how far an unseal has come.
    Status,
    /// Enter one share, read from standard input (not echoed on a
    /// terminal); the server opens when enough are in. With a provider
    /// that needs no shares, opens a server sealed by `custos operator
    /// seal` again.
    Unseal,
    /// Seal the server: every request is refused and the keys are wiped
    /// from its memory until it is unsealed.
    Seal,
    /// Move a stopped server's store to another root key (another
    /// provider, or new shares and threshold) without touching a record.
    /// The current root key is given as to `custos server` (the
    /// `CUSTOS_ROOT_KEY` variables), or, for shares, on standard input,
    /// one per line.
    Rekey(RekeyArgs),
}

#[derive(Debug, Args)]
struct RekeyArgs {
    /// The new root key: `shares`, `passphrase`, `pkcs11` or `kms`.
    #[arg(long)]
    to: String,
    /// For `--to shares`: how many shares to make.
    #[arg(long)]
    shares: Option<u8>,
    /// For `--to shares`: how many of them unseal.
    #[arg(long)]
    threshold: Option<u8>,
    /// For `--to passphrase`: a file with the new passphrase (mode 0600);
    /// else CUSTOS_NEW_ROOT_PASSPHRASE.
    #[arg(long)]
    new_root_passphrase_file: Option<PathBuf>,
    /// For `--to kms`: the ARN of the key that will wrap the store key.
    #[arg(long)]
    new_root_key_id: Option<String>,
    /// For `--to pkcs11`: the module, token and key label; the PIN in
    /// CUSTOS_NEW_PKCS11_PIN or --new-pkcs11-pin-file.
    #[arg(long)]
    new_pkcs11_module: Option<PathBuf>,
    #[arg(long)]
    new_pkcs11_token: Option<String>,
    #[arg(long)]
    new_pkcs11_key: Option<String>,
    #[arg(long)]
    new_pkcs11_pin_file: Option<PathBuf>,
}

/// A current-thread runtime for one command.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Sends `command` to a running server's operator socket: `socket`, or
/// the one in the configured data directory.
pub(crate) fn ask_server(
    config: &custos_server::Config,
    socket: Option<PathBuf>,
    command: &[u8],
) -> anyhow::Result<custos_server::operator::Reply> {
    let socket =
        socket.unwrap_or_else(|| config.data_dir.join(custos_server::operator::SOCKET_NAME));
    runtime()?
        .block_on(custos_server::operator::request(&socket, command))
        .with_context(|| {
            format!(
                "cannot reach the server's operator socket {} (is the server running, \
                 and are you its user?)",
                socket.display()
            )
        })
}

pub(crate) fn run(args: OperatorArgs) -> anyhow::Result<ExitCode> {
    let config = crate::offline_config(args.config.as_deref(), args.data_dir, None)?;
    let command: SecretBytes = match args.action {
        OperatorAction::Init {
            shares,
            threshold,
            account_id,
        } => {
            let mut config = config;
            if let Some(a) = account_id {
                config.account_id = Some(
                    custos_kms::AccountId::parse(&a)
                        .with_context(|| format!("{a} is not a 12-digit account id"))?,
                );
            }
            let done = runtime()?
                .block_on(custos_server::init_shares(&config, threshold, shares))
                .context("cannot initialise the store")?;
            print_init(&done, &config.data_dir)?;
            return Ok(ExitCode::SUCCESS);
        }
        OperatorAction::Rekey(rekey) => return run_rekey(&config, rekey),
        OperatorAction::Status => SecretBytes::from_slice(b"status"),
        OperatorAction::Seal => SecretBytes::from_slice(b"seal"),
        OperatorAction::Unseal => {
            let share = read_share()?;
            let mut line = b"unseal ".to_vec();
            line.extend_from_slice(share.expose_secret());
            SecretBytes::new(line)
        }
    };
    let reply = ask_server(&config, args.socket, command.expose_secret())?;
    println!("{}", describe(&reply.status));
    match reply.error {
        Some(e) => {
            eprintln!("custos: {e}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn run_rekey(config: &custos_server::Config, args: RekeyArgs) -> anyhow::Result<ExitCode> {
    let secret_env =
        |name: &str| std::env::var_os(name).map(|v| SecretBytes::new(v.into_encoded_bytes()));
    let mut new_config = custos_server::Config::resolve(
        custos_server::config::ConfigFile::default(),
        custos_server::config::Overrides {
            data_dir: Some(config.data_dir.clone()),
            root_key: Some(args.to.clone()),
            root_passphrase: secret_env("CUSTOS_NEW_ROOT_PASSPHRASE"),
            root_passphrase_file: args.new_root_passphrase_file,
            root_key_id: args.new_root_key_id,
            pkcs11_module: args.new_pkcs11_module,
            pkcs11_token: args.new_pkcs11_token,
            pkcs11_key: args.new_pkcs11_key,
            pkcs11_pin: secret_env("CUSTOS_NEW_PKCS11_PIN"),
            pkcs11_pin_file: args.new_pkcs11_pin_file,
            ..custos_server::config::Overrides::default()
        },
    )
    .context("the new root key")?;
    crate::make_root_provider(&mut new_config);
    let to = match (args.to.as_str(), args.shares, args.threshold) {
        ("shares", Some(count), Some(threshold)) => {
            custos_server::NewRoot::Shares { threshold, count }
        }
        ("shares", _, _) => anyhow::bail!("--to shares needs --shares and --threshold"),
        _ => custos_server::NewRoot::Configured(&new_config),
    };
    let rt = runtime()?;
    let current = rt
        .block_on(custos_server::recorded_root_key_kind(config))
        .context("cannot open the store (is a server using this data directory?)")?
        .context("this data directory has no store")?;
    let given = if current == custos_kms::root_key::shares::KIND {
        crate::backup::read_shares()?
    } else {
        Vec::new()
    };
    let done = rt
        .block_on(custos_server::rekey(config, &given, to))
        .context("cannot rekey")?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Rekeyed {}: the store key is now wrapped by a root key of kind `{}` (was `{}`); \
         start the server with --root-key {}.",
        config.data_dir.display(),
        done.to,
        done.from,
        done.to
    )?;
    if let Some(threshold) = done.threshold {
        writeln!(
            out,
            "The new root key is split into {} shares; any {threshold} of them unseal. \
             The old shares open nothing any more. Each new share is shown once:",
            done.shares.len()
        )?;
        print_shares(&mut out, &done.shares)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `Share i of n: custos-share-1-…`, one line each (shown once).
fn print_shares(out: &mut impl std::io::Write, shares: &[SecretBytes]) -> std::io::Result<()> {
    for (i, share) in shares.iter().enumerate() {
        writeln!(
            out,
            "Share {} of {}: {}",
            i + 1,
            shares.len(),
            String::from_utf8_lossy(share.expose_secret())
        )?;
    }
    Ok(())
}

fn describe(s: &SealStatus) -> String {
    let state = if s.sealed { "sealed" } else { "unsealed" };
    match (s.progress, s.threshold, s.shares) {
        (Some(p), Some(t), Some(n)) => format!(
            "{state} (root key: {}); unseal progress {p}/{t} ({n} shares exist)",
            s.provider
        ),
        _ => format!("{state} (root key: {})", s.provider),
    }
}

/// One share from standard input; on a terminal, asked for without echo.
fn read_share() -> anyhow::Result<SecretBytes> {
    let stdin = std::io::stdin();
    let terminal = rustix::termios::isatty(&stdin);
    let saved = if terminal {
        eprint!("Share (not shown): ");
        let _ = std::io::stderr().flush();
        let saved = rustix::termios::tcgetattr(&stdin).context("cannot read the terminal")?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet)
            .context("cannot turn the terminal's echo off")?;
        Some(saved)
    } else {
        None
    };
    let mut line = SecretBytes::new(Vec::new());
    let read = stdin.lock().read_until(b'\n', line.expose_secret_mut());
    if let Some(saved) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &saved);
        eprintln!();
    }
    read.context("cannot read the share")?;
    let trimmed = SecretBytes::from_slice(line.expose_secret().trim_ascii());
    anyhow::ensure!(!trimmed.is_empty(), "no share given on standard input");
    Ok(trimmed)
}

fn print_init(done: &custos_server::Initialised, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Custos store made in {} (account {}).",
        data_dir.display(),
        done.account_id
    )?;
    writeln!(
        out,
        "Its root key is split into {} shares; any {} of them unseal the server. Each is \
         shown once, now: give each to a different operator, and keep none beside the data.",
        done.shares.len(),
        done.threshold
    )?;
    writeln!(out)?;
    print_shares(&mut out, &done.shares)?;
    writeln!(out)?;
    writeln!(out, "The bootstrap administrator:")?;
    writeln!(
        out,
        "export AWS_ACCESS_KEY_ID={}",
        done.bootstrap_access_key_id
    )?;
    if let Some(secret) = &done.bootstrap_secret {
        writeln!(
            out,
            "export AWS_SECRET_ACCESS_KEY={}",
            String::from_utf8_lossy(secret.expose_secret())
        )?;
        writeln!(out, "# The secret access key is shown once; store it now.")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Next: custos server --root-key shares …, then `custos operator unseal` {} times.",
        done.threshold
    )?;
    out.flush()?;
    Ok(())
}
