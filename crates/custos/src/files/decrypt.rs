//! `custos decrypt`: AWS Encryption SDK messages back to plaintext.
//!
//! No plaintext reaches its destination unverified:
//!
//! - to a file: everything is written to a temporary file beside it, which
//!   is renamed into place only once every frame, the header and (for
//!   signed suites) the signature at the end have verified; on any failure
//!   it is deleted;
//! - to standard output: unsigned messages stream, each frame released
//!   once its tag verified and the final frame only at the verified end
//!   (a failure can still leave earlier frames written, and exits
//!   non-zero); signed messages are refused before any plaintext is made,
//!   unless `--buffer` holds the whole plaintext in memory until the
//!   signature verified.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use custos_envelope::decrypt::DEFAULT_MAX_FRAME_LENGTH;
use custos_envelope::{DecryptOptions, Keyring, Parallelism, SignaturePolicy, decrypt_stream};

use super::encrypt::stream_failure;
use super::output::{self, PendingFile, SecretBuffer};
use super::paths::{self, Sink, Task};
use super::report::{self, Situation};
use super::wrapping_keys::{self, Mode};
use super::{CommonArgs, Failure, Metadata, Progress, Watch, parse_context};

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    #[command(flatten)]
    pub(crate) common: CommonArgs,
    /// Refuse frames (and non-framed bodies) longer than this.
    #[arg(
        long,
        default_value_t = DEFAULT_MAX_FRAME_LENGTH,
        value_parser = clap::value_parser!(u32).range(1..),
        value_name = "BYTES"
    )]
    pub(crate) max_length: u32,
    /// With `-o -`: hold the whole plaintext in memory and write it only
    /// once the message has verified (needed for signed messages).
    #[arg(short = 'b', long)]
    pub(crate) buffer: bool,
    /// Refuse signed messages.
    #[arg(long)]
    pub(crate) decrypt_unsigned: bool,
}

pub(crate) fn run(args: DecryptArgs) -> anyhow::Result<ExitCode> {
    let common = &args.common;
    let (expected, required_keys) = parse_context(&common.encryption_context)?;
    let suffix = common.suffix.as_deref().unwrap_or(".decrypted");
    let tasks = paths::plan(&common.input, &common.output, common.recursive, suffix)?;
    let keyring = wrapping_keys::keyring(&common.wrapping_key_groups, Mode::Decrypt)?;
    let mut metadata = Metadata::open(common, &tasks)?;
    super::cleanup::install().context("cannot watch for interruptions")?;
    let parallelism = common.parallelism();
    let base = DecryptOptions {
        commitment_policy: common.commitment_policy.policy(),
        max_encrypted_data_keys: common.max_encrypted_data_keys(),
        max_frame_length: args.max_length,
        signature_policy: SignaturePolicy::AllowSigned,
        encryption_context: (!expected.is_empty()).then_some(expected),
    };
    let ctx = Context {
        args: &args,
        keyring: &*keyring,
        parallelism,
        base,
        required_keys: &required_keys,
    };
    Ok(super::run_tasks(
        "decrypt",
        &tasks,
        common.quiet,
        |task, progress| ctx.decrypt_one(task, progress, &mut metadata),
    ))
}

struct Context<'a> {
    args: &'a DecryptArgs,
    keyring: &'a dyn Keyring,
    parallelism: Parallelism,
    base: DecryptOptions,
    required_keys: &'a [String],
}

impl Context<'_> {
    fn decrypt_one(
        &self,
        task: &Task,
        progress: &Progress,
        metadata: &mut Metadata,
    ) -> Result<(), Failure> {
        let common = &self.args.common;
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
        let to_stdout = task.sink.is_stream();
        let stream_name = match &task.sink {
            Sink::Stream(p) => Some(p.display().to_string()),
            _ => None,
        };
        let mut options = self.base.clone();
        // Plaintext streamed to standard output cannot be taken back, so a
        // signed message (verified only at its very end) is refused there
        // unless it is buffered.
        if self.args.decrypt_unsigned || (to_stdout && !self.args.buffer) {
            options.signature_policy = SignaturePolicy::RequireUnsigned;
        }
        let mut watch = Watch {
            progress,
            header: None,
            required_keys: self.required_keys,
        };
        let result = match &task.sink {
            Sink::Stdout | Sink::Stream(_) if self.args.buffer => {
                let mut held = SecretBuffer::default();
                let r = self.decrypt(&options, input, &mut held, &mut watch);
                if r.is_ok() {
                    let mut out = output::open_stream(&task.sink)?;
                    if let Err(e) = out
                        .write_all(held.expose_secret())
                        .and_then(|()| out.flush())
                    {
                        return Err(stream_failure(e.into(), &|e| {
                            Failure::Message(e.to_string())
                        }));
                    }
                }
                r
            }
            Sink::Stdout | Sink::Stream(_) => {
                let mut out = output::open_stream(&task.sink)?;
                self.decrypt(&options, input, &mut out, &mut watch)
            }
            Sink::File(dest) => {
                let mut pending = PendingFile::create(dest)?;
                let r = self.decrypt(&options, input, pending.file(), &mut watch);
                if r.is_ok() {
                    pending.commit(common.no_overwrite)?;
                }
                // Otherwise `pending` drops here, and the file with it.
                r
            }
        };
        let header = match result {
            Ok(header) => header,
            Err(e) => {
                let situation = Situation {
                    decrypting: true,
                    header: watch.header.as_ref(),
                    expected: options.encryption_context.as_ref(),
                    required_keys: self.required_keys,
                    decrypt_unsigned: self.args.decrypt_unsigned,
                    stream: stream_name.as_deref(),
                };
                return Err(stream_failure(e, &|e| {
                    Failure::Message(report::explain(e, &situation))
                }));
            }
        };
        metadata.record("decrypt", task, &header)?;
        Ok(())
    }

    fn decrypt<W: std::io::Write + Send>(
        &self,
        options: &DecryptOptions,
        input: std::fs::File,
        output: &mut W,
        watch: &mut Watch<'_>,
    ) -> Result<custos_envelope::Header, custos_envelope::Error> {
        decrypt_stream(
            self.keyring,
            options,
            input,
            output,
            &self.parallelism,
            watch,
        )
        .map(|summary| summary.header)
    }
}
