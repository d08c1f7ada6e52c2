//! `custos encrypt`: files, directories or standard input to AWS
//! Encryption SDK messages.
//!
//! Per input: one new data key from the first wrapping key (KMS
//! `GenerateDataKey`, or generated locally for raw keys), wrapped again by
//! every other key; then the frames, sealed on every core
//! ([`custos_envelope::encrypt_stream`]), into a temporary file renamed
//! into place when complete.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use custos_envelope::encrypt::DEFAULT_FRAME_LENGTH;
use custos_envelope::{AlgorithmSuite, EncryptOptions, Encryptor, encrypt_stream};

use super::output::{self, PendingFile};
use super::paths::{self, Sink, Task};
use super::report::{self, Situation};
use super::wrapping_keys::{self, Mode};
use super::{CommonArgs, Failure, Metadata, Progress, Watch, parse_context, parse_suite};

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Algorithm suite, by name (AES_256_GCM_HKDF_SHA512_COMMIT_KEY…) or ID
    /// (0x0478) [default: AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, or
    /// AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384 when commitment is
    /// forbidden].
    #[arg(long, value_parser = parse_suite, value_name = "SUITE")]
    pub(crate) algorithm: Option<AlgorithmSuite>,
    /// Plaintext bytes per frame.
    #[arg(
        long,
        default_value_t = DEFAULT_FRAME_LENGTH,
        value_parser = clap::value_parser!(u32).range(1..),
        value_name = "BYTES"
    )]
    pub(crate) frame_length: u32,
}

pub(crate) fn run(args: EncryptArgs) -> anyhow::Result<ExitCode> {
    let common = &args.common;
    let (context, bare) = parse_context(&common.encryption_context)?;
    if let Some(k) = bare.first() {
        anyhow::bail!("-c {k}: encrypting needs key=value pairs");
    }
    let options = EncryptOptions {
        suite: args.algorithm,
        frame_length: args.frame_length,
        encryption_context: context,
        commitment_policy: common.commitment_policy.policy(),
        max_encrypted_data_keys: common.max_encrypted_data_keys(),
        ..EncryptOptions::default()
    };
    // Catch a suite the policy forbids, a reserved context key… before
    // touching any file or key.
    if let Err(e) = Encryptor::prepare_materials(&options) {
        anyhow::bail!("{}", report::explain(&e, &Situation::default()));
    }
    let suffix = common.suffix.as_deref().unwrap_or(".encrypted");
    let tasks = paths::plan(&common.input, &common.output, common.recursive, suffix)?;
    let keyring = wrapping_keys::keyring(&common.wrapping_key_groups, Mode::Encrypt)?;
    let mut metadata = Metadata::open(common, &tasks)?;
    super::cleanup::install().context("cannot watch for interruptions")?;
    let parallelism = common.parallelism();
    Ok(super::run_tasks(
        "encrypt",
        &tasks,
        common.quiet,
        |task, progress| {
            encrypt_one(
                task,
                progress,
                &options,
                &*keyring,
                &parallelism,
                common,
                &mut metadata,
            )
        },
    ))
}

fn encrypt_one(
    task: &Task,
    progress: &Progress,
    options: &EncryptOptions,
    keyring: &dyn custos_envelope::Keyring,
    parallelism: &custos_envelope::Parallelism,
    common: &CommonArgs,
    metadata: &mut Metadata,
) -> Result<(), Failure> {
    if let Sink::File(dest) = &task.sink
        && common.no_overwrite
        && dest.exists()
    {
        if !common.quiet {
            progress.say(&format!(
                "custos: skipping {}: {} exists (--no-overwrite)",
                task.source.display(),
                dest.display()
            ));
        }
        return Ok(());
    }
    super::check_distinct(task)?;
    let input = super::open_source(&task.source)?;
    let explain =
        |e: &custos_envelope::Error| Failure::Message(report::explain(e, &Situation::default()));
    let encryptor = Encryptor::new(keyring, options).map_err(|e| explain(&e))?;
    let header = encryptor.header().clone();
    let mut watch = Watch {
        progress,
        header: None,
        required_keys: &[],
    };
    match &task.sink {
        Sink::Stdout | Sink::Stream(_) => {
            let mut out = output::open_stream(&task.sink)?;
            encrypt_stream(encryptor, input, &mut out, parallelism, &mut watch)
                .map_err(|e| stream_failure(e, &explain))?;
        }
        Sink::File(dest) => {
            let mut pending = PendingFile::create(dest)?;
            encrypt_stream(encryptor, input, pending.file(), parallelism, &mut watch)
                .map_err(|e| explain(&e))?;
            pending.commit(common.no_overwrite)?;
        }
    }
    metadata.record("encrypt", task, &header)?;
    Ok(())
}

/// A broken pipe on standard output is the reader's choice, not a failure.
pub(crate) fn stream_failure(
    e: custos_envelope::Error,
    explain: &dyn Fn(&custos_envelope::Error) -> Failure,
) -> Failure {
    match &e {
        custos_envelope::Error::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => {
            Failure::BrokenPipe
        }
        _ => explain(&e),
    }
}
