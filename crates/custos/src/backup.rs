//! `custos backup` (an online, sealed snapshot of a running server, through
//! its operator socket) and `custos restore` (into an empty data
//! directory, opened with the same root key).

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use custos_crypto::SecretBytes;

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// The file to write (mode 0600; replaced atomically).
    #[arg(long)]
    out: PathBuf,
    /// TOML configuration file.
    #[arg(long, env = "CUSTOS_CONFIG")]
    config: Option<PathBuf>,
    /// The running server's data directory [default: ./custos-data].
    #[arg(long, env = "CUSTOS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The server's operator socket [default: operator.sock in the data directory].
    #[arg(long, env = "CUSTOS_OPERATOR_SOCKET")]
    socket: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The backup to restore.
    #[arg(long)]
    from: PathBuf,
    /// TOML configuration file.
    #[arg(long, env = "CUSTOS_CONFIG")]
    config: Option<PathBuf>,
    /// The data directory to restore into; it must hold no store.
    #[arg(long, env = "CUSTOS_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The root key, as for `custos server` (`CUSTOS_ROOT_KEY`, with the
    /// same variables for its secrets). A backup taken under the shares
    /// provider reads its shares from standard input, one per line.
    #[arg(long)]
    root_key: Option<String>,
}

pub(crate) fn run_backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let config = crate::offline_config(args.config.as_deref(), args.data_dir, None)?;
    let reply = crate::operator::ask_server(&config, args.socket, b"backup")?;
    if let Some(e) = reply.error {
        anyhow::bail!("{e}");
    }
    write_private(&args.out, &reply.data)?;
    let (header, _) = custos_kms::backup::read_header(&reply.data)?;
    println!(
        "{}: {} bytes, {} rows of account {}'s store (root key: {}), sealed under its store key",
        args.out.display(),
        reply.data.len(),
        header.rows,
        header.account_id()?,
        header.root_key_kind()?
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run_restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let config = crate::offline_config(args.config.as_deref(), args.data_dir, args.root_key)?;
    let backup = std::fs::read(&args.from)
        .with_context(|| format!("cannot read {}", args.from.display()))?;
    let (header, _) = custos_kms::backup::read_header(&backup)?;
    let shares = if header.root_key_kind()? == custos_kms::root_key::shares::KIND {
        read_shares()?
    } else {
        Vec::new()
    };
    let restored = crate::operator::runtime()?
        .block_on(custos_server::restore(&config, &backup, &shares))
        .context("cannot restore")?;
    println!(
        "{} restored into {}: {} rows, {} files; the audit chain stood at record {} when it \
         was taken",
        args.from.display(),
        config.data_dir.display(),
        restored.header.rows,
        restored.files.len(),
        restored
            .header
            .audit_head
            .as_ref()
            .map_or_else(|| "(auditing off)".to_owned(), |h| h.seq.to_string())
    );
    Ok(ExitCode::SUCCESS)
}

/// Shares from standard input, one per line, until its end.
pub(crate) fn read_shares() -> anyhow::Result<Vec<SecretBytes>> {
    let mut out = Vec::new();
    for line in std::io::stdin().lock().split(b'\n') {
        let line = SecretBytes::new(line.context("cannot read the shares")?);
        let share = SecretBytes::from_slice(line.expose_secret().trim_ascii());
        if !share.is_empty() {
            out.push(share);
        }
    }
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file, mode 0600, synced.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("partial");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
