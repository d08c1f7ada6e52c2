//! `custos encrypt`, `custos decrypt` and `custos inspect`: envelope
//! encryption of files and streams in the AWS Encryption SDK message
//! format, with the flags of `aws-encryption-cli`.
//!
//! # Layout
//!
//! - [`encrypt`], [`decrypt`], [`inspect`]: the three subcommands.
//! - [`paths`]: which input goes to which output (files, directories,
//!   standard streams), named as `aws-encryption-cli` names them.
//! - [`wrapping_keys`]: `-w` attributes → keyrings (AWS KMS, raw AES,
//!   raw RSA).
//! - [`output`]: temporary files renamed into place on success; standard
//!   output; the `--buffer` memory sink.
//! - [`cleanup`]: removing temporary files on SIGINT/SIGTERM.
//! - [`report`]: turning failures into one line a user can act on.
//!
//! The format and the parallel pipeline are `custos-envelope`'s; the KMS
//! keyrings are [`crate::aws_kms`]'s. This module is I/O and user interface.

pub(crate) mod cleanup;
pub(crate) mod decrypt;
pub(crate) mod encrypt;
pub(crate) mod inspect;
pub(crate) mod output;
pub(crate) mod paths;
pub(crate) mod report;
pub(crate) mod wrapping_keys;

use std::io::{IsTerminal as _, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::{ArgAction, Args, ValueEnum};
use custos_envelope::parallel::{Observer, Parallelism};
use custos_envelope::{AlgorithmSuite, CommitmentPolicy, EncryptionContext, Error, Header};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use paths::{Sink, Source, Task};

/// The flags `custos encrypt` and `custos decrypt` share.
#[derive(Debug, Args)]
pub(crate) struct CommonArgs {
    /// Input files or directories, or `-` for standard input.
    #[arg(short = 'i', long = "input", required = true, num_args = 1.., value_name = "PATH")]
    pub(crate) input: Vec<PathBuf>,
    /// Output file or directory, or `-` for standard output.
    #[arg(short = 'o', long = "output", required = true, value_name = "PATH")]
    pub(crate) output: PathBuf,
    /// Wrapping keys, as name=value attributes; repeat -w for more
    /// providers. KMS: `key=<id|ARN|alias>` [region= profile=], or for
    /// decrypting `discovery=true` [discovery-partition= discovery-account=].
    /// Local keys: `provider=raw-aes key-file=<file> name=<name>`, or
    /// `provider=raw-rsa public-key=<pem>|private-key=<pem> name=<name>`.
    #[arg(
        short = 'w',
        long = "wrapping-keys",
        required = true,
        num_args = 1..,
        action = ArgAction::Append,
        value_name = "ATTR=VALUE"
    )]
    pub(crate) wrapping_keys: Vec<String>,
    /// `wrapping_keys` grouped by `-w` occurrence (see [`Self::group`]).
    #[arg(skip)]
    pub(crate) wrapping_key_groups: Vec<Vec<String>>,
    /// Encryption context entries. Decrypting, `key=value` must match the
    /// file's, and a bare `key` must be present in it.
    #[arg(short = 'c', long = "encryption-context", num_args = 1.., value_name = "KEY=VALUE")]
    pub(crate) encryption_context: Vec<String>,
    /// Which algorithm suites may be written and read.
    #[arg(long, value_enum, default_value_t = PolicyArg::RequireEncryptRequireDecrypt)]
    pub(crate) commitment_policy: PolicyArg,
    /// At most this many wrapped data keys: written when encrypting, read
    /// when decrypting.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=65535), value_name = "N")]
    pub(crate) max_encrypted_data_keys: Option<u64>,
    /// Process input directories recursively.
    #[arg(short = 'r', short_alias = 'R', long)]
    pub(crate) recursive: bool,
    /// Suffix for output files named after their input [default:
    /// .encrypted or .decrypted]; `--suffix` alone for none.
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "SUFFIX")]
    pub(crate) suffix: Option<String>,
    /// Leave existing output files alone (and skip those inputs).
    #[arg(long)]
    pub(crate) no_overwrite: bool,
    /// Threads sealing or opening frames [default: one per core].
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<NonZeroUsize>,
    /// No progress bar and no warnings.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Append one JSON line per file (input, output, header) to this file;
    /// `-` for standard output.
    #[arg(long, value_name = "PATH")]
    pub(crate) metadata_output: Option<PathBuf>,
    /// Truncate the --metadata-output file instead of appending to it.
    #[arg(long, requires = "metadata_output")]
    pub(crate) overwrite_metadata: bool,
    /// Accepted for compatibility with aws-encryption-cli: metadata is only
    /// ever written with --metadata-output.
    #[arg(short = 'S', long, hide = true)]
    pub(crate) suppress_metadata: bool,
}

impl CommonArgs {
    /// Groups the `-w` values by occurrence, which clap's derive cannot
    /// express: `-w key=a key=b -w key=c` is two providers.
    pub(crate) fn group(&mut self, matches: &clap::ArgMatches) {
        self.wrapping_key_groups = matches
            .get_occurrences::<String>("wrapping_keys")
            .map(|occurrences| occurrences.map(|o| o.cloned().collect()).collect())
            .unwrap_or_else(|| vec![self.wrapping_keys.clone()]);
    }

    fn parallelism(&self) -> Parallelism {
        match self.threads {
            Some(n) => Parallelism::with_threads(n.get()),
            None => Parallelism::default(),
        }
    }

    fn max_encrypted_data_keys(&self) -> Option<usize> {
        // At most 65535 (clap checks), so this fits.
        self.max_encrypted_data_keys.map(|n| n as usize)
    }
}

/// `--commitment-policy`, with `aws-encryption-cli`'s spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(
    clippy::enum_variant_names,
    reason = "the names are the policies' names in the specification"
)]
pub(crate) enum PolicyArg {
    /// Write only non-committing suites (v1 messages); read all.
    ForbidEncryptAllowDecrypt,
    /// Write committing suites only; still read older messages.
    RequireEncryptAllowDecrypt,
    /// Committing suites only, both ways.
    RequireEncryptRequireDecrypt,
}

impl PolicyArg {
    pub(crate) fn policy(self) -> CommitmentPolicy {
        match self {
            Self::ForbidEncryptAllowDecrypt => CommitmentPolicy::ForbidEncryptAllowDecrypt,
            Self::RequireEncryptAllowDecrypt => CommitmentPolicy::RequireEncryptAllowDecrypt,
            Self::RequireEncryptRequireDecrypt => CommitmentPolicy::RequireEncryptRequireDecrypt,
        }
    }
}

/// `-c` split into `key=value` pairs and bare keys.
pub(crate) fn parse_context(items: &[String]) -> anyhow::Result<(EncryptionContext, Vec<String>)> {
    let mut context = EncryptionContext::new();
    let mut keys = Vec::new();
    for item in items {
        match item.split_once('=') {
            Some((k, v)) => {
                if k.is_empty() {
                    bail!("-c {item:?}: the key is empty");
                }
                if let Some(old) = context.insert(k, v)
                    && old != v
                {
                    bail!("-c: {k} is given twice, as {old:?} and {v:?}");
                }
            }
            None => keys.push(item.clone()),
        }
    }
    Ok((context, keys))
}

/// The `aws-encryption-cli` (Python SDK) name of each suite.
pub(crate) fn suite_name(suite: AlgorithmSuite) -> &'static str {
    match suite {
        AlgorithmSuite::Aes128GcmIv12Tag16NoKdf => "AES_128_GCM_IV12_TAG16",
        AlgorithmSuite::Aes192GcmIv12Tag16NoKdf => "AES_192_GCM_IV12_TAG16",
        AlgorithmSuite::Aes256GcmIv12Tag16NoKdf => "AES_256_GCM_IV12_TAG16",
        AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256 => "AES_128_GCM_IV12_TAG16_HKDF_SHA256",
        AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha256 => "AES_192_GCM_IV12_TAG16_HKDF_SHA256",
        AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256 => "AES_256_GCM_IV12_TAG16_HKDF_SHA256",
        AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => {
            "AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256"
        }
        AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha384EcdsaP384 => {
            "AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384"
        }
        AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384 => {
            "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384"
        }
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey => "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => {
            "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"
        }
    }
}

/// `--algorithm`: a suite name (`aws-encryption-cli`'s, with or without the
/// specification's `ALG_` prefix, any case) or a suite ID (`0x0478`).
pub(crate) fn parse_suite(s: &str) -> Result<AlgorithmSuite, String> {
    let upper = s.trim().to_ascii_uppercase();
    let name = upper.strip_prefix("ALG_").unwrap_or(&upper);
    if let Some(suite) = AlgorithmSuite::ALL
        .into_iter()
        .find(|a| suite_name(*a) == name)
    {
        return Ok(suite);
    }
    let hex = name.strip_prefix("0X").unwrap_or(name);
    if let Ok(id) = u16::from_str_radix(hex, 16)
        && hex.len() == 4
        && let Some(suite) = AlgorithmSuite::from_id(id)
    {
        return Ok(suite);
    }
    Err(format!(
        "unknown algorithm suite {s:?}; one of: {}",
        AlgorithmSuite::ALL
            .iter()
            .map(|a| suite_name(*a))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The header as JSON, in the shape of `aws-encryption-cli`'s metadata
/// records (binary fields in base64, data keys sorted).
pub(crate) fn header_json(header: &Header) -> serde_json::Value {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let v1 = header.version() == custos_envelope::MessageFormatVersion::V1;
    let mut edks: Vec<_> = header.encrypted_data_keys().iter().collect();
    edks.sort_by(|a, b| {
        (a.provider_id.as_bytes(), &a.provider_info)
            .cmp(&(b.provider_id.as_bytes(), &b.provider_info))
    });
    let context: serde_json::Map<String, serde_json::Value> = header
        .stored_encryption_context()
        .iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
        .collect();
    serde_json::json!({
        "version": if v1 { "1.0" } else { "2.0" },
        "type": if v1 { Some(128) } else { None },
        "algorithm": suite_name(header.suite()),
        "message_id": b64(header.message_id().as_bytes()),
        "encryption_context": context,
        "encrypted_data_keys": edks.iter().map(|e| serde_json::json!({
            "key_provider": {
                "provider_id": b64(e.provider_id.as_bytes()),
                "key_info": b64(&e.provider_info),
            },
            "encrypted_data_key": b64(&e.ciphertext),
        })).collect::<Vec<_>>(),
        "content_type": header.content_type() as u8,
        "header_iv_length": if v1 { Some(12) } else { None },
        "frame_length": header.frame_length(),
        "commitment_key": header.commitment().map(|c| b64(c)),
    })
}

/// The progress bar: on standard error when it is a terminal, else nothing.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total` bytes (a spinner when unknown), shown only when
    /// standard error is a terminal and `quiet` is off.
    pub(crate) fn new(total: Option<u64>, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
        let template = if total.is_some() {
            "{msg:20!} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}"
        } else {
            "{spinner} {msg:20!} {binary_bytes} {binary_bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar: Some(bar) }
    }

    pub(crate) fn start(&self, task: &Task) {
        if let Some(bar) = &self.bar {
            bar.set_message(task.source.display());
        }
    }

    pub(crate) fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
    }

    /// Prints a line on standard error without garbling the bar.
    pub(crate) fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What the pipeline tells us about one task: progress, and (decrypting)
/// the header as parsed, for error messages and the `-c key` check.
pub(crate) struct Watch<'a> {
    pub(crate) progress: &'a Progress,
    pub(crate) header: Option<Header>,
    pub(crate) required_keys: &'a [String],
}

impl Observer for Watch<'_> {
    fn progress(&mut self, bytes: u64) {
        self.progress.advance(bytes);
    }

    fn header_parsed(&mut self, header: &Header) -> Result<(), Error> {
        self.header = Some(header.clone());
        let stored = header.stored_encryption_context();
        if self.required_keys.iter().any(|k| !stored.contains_key(k)) {
            return Err(Error::ContextMismatch);
        }
        Ok(())
    }
}

/// `--metadata-output`: one JSON line per file processed.
pub(crate) struct Metadata {
    out: Option<Box<dyn Write>>,
}

impl Metadata {
    pub(crate) fn open(args: &CommonArgs, tasks: &[Task]) -> anyhow::Result<Self> {
        let Some(path) = &args.metadata_output else {
            return Ok(Self { out: None });
        };
        if path.as_os_str() == "-" {
            if tasks.iter().any(|t| t.sink == Sink::Stdout) {
                bail!("--metadata-output - and -o - cannot both use standard output");
            }
            return Ok(Self {
                out: Some(Box::new(std::io::stdout())),
            });
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(!args.overwrite_metadata)
            .truncate(args.overwrite_metadata)
            .open(path)
            .with_context(|| format!("cannot open the metadata file {}", path.display()))?;
        Ok(Self {
            out: Some(Box::new(file)),
        })
    }

    pub(crate) fn record(
        &mut self,
        mode: &str,
        task: &Task,
        header: &Header,
    ) -> anyhow::Result<()> {
        let Some(out) = &mut self.out else {
            return Ok(());
        };
        let name = |s: String| serde_json::Value::from(s);
        let input = match &task.source {
            Source::Stdin => name("<stdin>".into()),
            Source::File(p) => name(p.display().to_string()),
        };
        let output = match &task.sink {
            Sink::Stdout => name("<stdout>".into()),
            Sink::File(p) | Sink::Stream(p) => name(p.display().to_string()),
        };
        let line = serde_json::json!({
            "mode": mode,
            "input": input,
            "output": output,
            "header": header_json(header),
        });
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .context("cannot write the metadata record")
    }
}

/// The outcome of one task that did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Standard output was closed by its reader (`| head`): not an error.
    BrokenPipe,
    /// One line for the user.
    Message(String),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        if e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        }) {
            return Self::BrokenPipe;
        }
        Self::Message(format!("{e:#}"))
    }
}

/// Runs `one` over every task, reporting each failure on one line, and
/// returns the exit status: 0 if all succeeded, 1 otherwise.
pub(crate) fn run_tasks(
    verb: &str,
    tasks: &[Task],
    quiet: bool,
    mut one: impl FnMut(&Task, &Progress) -> Result<(), Failure>,
) -> ExitCode {
    let total = tasks
        .iter()
        .map(|t| match &t.source {
            Source::File(p) => std::fs::metadata(p).map(|m| m.len()).ok(),
            Source::Stdin => None,
        })
        .sum::<Option<u64>>();
    let progress = Progress::new(total, quiet);
    let mut failed = 0;
    for task in tasks {
        progress.start(task);
        match one(task, &progress) {
            Ok(()) => {}
            Err(Failure::BrokenPipe) => {
                progress.finish();
                return ExitCode::SUCCESS;
            }
            Err(Failure::Message(m)) => {
                failed += 1;
                progress.say(&format!("custos: {verb} {}: {m}", task.source.display()));
            }
        }
    }
    progress.finish();
    if failed == 0 {
        return ExitCode::SUCCESS;
    }
    if tasks.len() > 1 {
        eprintln!("custos: {failed} of {} inputs failed", tasks.len());
    }
    ExitCode::FAILURE
}

/// Refuses to write a file over its own input.
pub(crate) fn check_distinct(task: &Task) -> anyhow::Result<()> {
    if let (Source::File(i), Sink::File(o)) = (&task.source, &task.sink)
        && let (Ok(a), Ok(b)) = (std::fs::canonicalize(i), std::fs::canonicalize(o))
        && a == b
    {
        bail!("the output {} is the input itself", o.display());
    }
    Ok(())
}

/// Opens the input of a task.
pub(crate) fn open_source(source: &Source) -> anyhow::Result<std::fs::File> {
    match source {
        Source::Stdin => output::stdin().context("cannot read standard input"),
        Source::File(p) => {
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_by_name_or_id() {
        for suite in AlgorithmSuite::ALL {
            assert_eq!(parse_suite(suite_name(suite)), Ok(suite));
            assert_eq!(parse_suite(&suite.to_string()), Ok(suite));
            assert_eq!(
                parse_suite(&format!("alg_{}", suite_name(suite).to_lowercase())),
                Ok(suite)
            );
        }
        assert_eq!(
            parse_suite("0478"),
            Ok(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey)
        );
        assert!(parse_suite("0x0072").is_err());
        assert!(parse_suite("AES").is_err());
    }

    #[test]
    fn context_pairs_and_bare_keys() {
        let items = ["a=1", "b=x=y", "c", "a=1"].map(String::from);
        let (ctx, keys) = parse_context(&items).expect("parse");
        assert_eq!(ctx.get("a"), Some("1"));
        assert_eq!(ctx.get("b"), Some("x=y"));
        assert_eq!(keys, ["c"]);
        assert!(parse_context(&["a=1", "a=2"].map(String::from)).is_err());
        assert!(parse_context(&["=1"].map(String::from)).is_err());
    }
}
