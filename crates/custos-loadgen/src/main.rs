//! `custos-loadgen`: a SigV4-signed HTTPS load generator for Custos, and the
//! no-op "ceiling" server it is compared against.
//!
//! The figures in `BENCHMARKS.md` answer one question: how many KMS requests
//! per second does Custos serve, at what latency, and how close is that to
//! what its HTTPS stack could do if the KMS work cost nothing? This binary
//! measures both sides of that comparison with the same client.
//!
//! # What `run` measures
//!
//! `run` opens `--concurrency` HTTP/1.1 keep-alive connections over TLS
//! (rustls on aws-lc-rs, trusting only `--ca-bundle`), one per worker task.
//! Each worker sends its requests one after another on its own connection,
//! so the offered load is a closed loop of N outstanding requests. Every
//! request is built and SigV4-signed afresh (service `kms`, the `aws-sigv4`
//! crate) exactly as an AWS SDK would, then timed from the moment it is
//! handed to the connection until its whole response body has been read.
//! Signing and connecting are outside the timed span; reconnections are
//! counted (`connections` in the report) so that a server closing its
//! keep-alive connections shows up.
//!
//! The run has two phases: `--warmup` seconds whose requests are discarded,
//! then `--duration` seconds whose requests are counted. A request counts only
//! if it both started and finished inside the measured window, which makes the
//! window exact: throughput is `ok / duration`. Requests still in flight when
//! the window closes are abandoned (their connections dropped), so the run
//! always ends on time, whatever the server does. Latency percentiles
//! (nearest rank) are computed over every successful request of the window:
//! all samples are kept, merged and sorted, no histogram approximation.
//! Non-2xx answers and transport failures (including `--timeout`) are counted
//! separately, and the first few are printed on stderr.
//!
//! Before the load starts, a setup phase on one connection makes sure the
//! operation works: it creates a key with `CreateKey` unless `--key-id` is
//! given, encrypts one plaintext for `decrypt` (which then decrypts that same
//! blob repeatedly, after checking that it round-trips), and sends one request
//! of the measured operation, checking its answer.
//!
//! # What `ceiling-server` is
//!
//! A minimal HTTPS server on the same stack as Custos (tokio, hyper 1 HTTP/1.1
//! with keep-alive, tokio-rustls/rustls on aws-lc-rs, TLS 1.3 with rustls'
//! default key-exchange groups, post-quantum hybrid first) that reads each
//! request body in full and answers a fixed KMS-shaped JSON body. It does no
//! signature check and no KMS work, so `run --op noop` against it gives the
//! throughput and latency ceiling that any server on this stack, on this
//! machine, with this client, can reach. It generates a throwaway CA and a
//! server certificate for `127.0.0.1`, `::1` and `localhost` at start-up.
//!
//! # Usage
//!
//! ```text
//! # The ceiling: prints `listening on https://127.0.0.1:PORT ca=DIR/ca.pem`.
//! custos-loadgen ceiling-server --listen 127.0.0.1:0 --cert-dir /tmp/ceiling --max-seconds 60 &
//! custos-loadgen run --endpoint https://127.0.0.1:PORT --ca-bundle /tmp/ceiling/ca.pem \
//!     --access-key-id AKIDEXAMPLE --secret-access-key any \
//!     --op noop --concurrency 64 --warmup 2 --duration 10
//!
//! # Custos itself (the AWS_* variables may replace the flags):
//! export AWS_ENDPOINT_URL_KMS=https://127.0.0.1:8443 AWS_CA_BUNDLE=ca.pem AWS_REGION=us-east-1
//! export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
//! custos-loadgen run --op encrypt --size 1024 --concurrency 16 --duration 10 --json
//! custos-loadgen run --op decrypt --key-id alias/bench --concurrency 1 --duration 10
//! ```
//!
//! # What `primitives` measures
//!
//! The asymmetric primitives themselves (sign, verify, key-pair generation
//! per key spec), in-process on one thread through `custos-crypto`: the
//! limit that `run --op sign|verify|generate-data-key-pair` is compared
//! with in `BENCHMARKS.md`.
//!
//! ```text
//! custos-loadgen primitives --seconds 2
//! custos-loadgen run --op sign --key-spec ECC_NIST_P256 --concurrency 8 --duration 10
//! custos-loadgen run --op verify --key-spec RSA_2048 --concurrency 8 --duration 10
//! custos-loadgen run --op generate-data-key-pair --key-pair-spec RSA_2048 --concurrency 8
//! ```
//!
//! `--json` prints one JSON object on one line instead of the text report.
//! `--threads` sets the tokio worker threads of either subcommand (default:
//! one per core); on a small machine shared with the server under test, the
//! client's and the server's threads compete for the same cores, which the
//! figures must say.
//!
//! # What it deliberately does not do
//!
//! - Talk to anything but this machine: the endpoint's host must be a
//!   loopback address (`127.0.0.0/8`, `::1`) or `localhost` (which is taken
//!   to mean `127.0.0.1`, without a DNS lookup), and the ceiling server only
//!   listens on loopback addresses.
//! - Open-loop (fixed-rate) load, HTTP/2, retries, or verification of every
//!   response body: the client parses responses only during setup, so that
//!   its own CPU cost per request stays small.
//! - Protect the test plaintexts: they are a fixed byte pattern, not secrets.
//!
//! # Layout
//!
//! - [`cli`]: the command-line flags.
//! - [`endpoint`]: parses `--endpoint` and enforces the loopback-only rule.
//! - [`tls`]: the client and server rustls configurations, and the ceiling
//!   server's throwaway certificates.
//! - [`kms`]: the few KMS JSON 1.1 requests and responses the tool needs.
//! - [`signer`]: SigV4 signing of one request.
//! - [`client`]: one keep-alive HTTPS connection.
//! - [`run`]: the setup, the workers and the measurement window.
//! - [`report`]: latency percentiles and the text and JSON reports.
//! - [`ceiling`]: the no-op server.

mod ceiling;
mod cli;
mod client;
mod endpoint;
mod kms;
mod primitives;
mod report;
mod run;
mod signer;
mod tls;

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped listening (`| head`) is not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("custos-loadgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run(args) => {
            let json = args.json;
            let runtime = runtime(args.threads)?;
            let report = runtime.block_on(run::run(args))?;
            // Abandoned requests hold nothing worth waiting for.
            runtime.shutdown_background();
            let mut stdout = io::stdout().lock();
            if json {
                writeln!(stdout, "{}", report.to_json())?;
            } else {
                report.write_text(&mut stdout)?;
            }
            stdout.flush()?;
            Ok(())
        }
        Command::CeilingServer(args) => {
            let runtime = runtime(args.threads)?;
            runtime.block_on(ceiling::serve(args))?;
            runtime.shutdown_background();
            Ok(())
        }
        Command::Primitives(args) => primitives::run(&args),
    }
}

/// A multi-threaded tokio runtime with `threads` workers, one per core by default.
fn runtime(threads: Option<u16>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(threads) = threads {
        builder.worker_threads(usize::from(threads));
    }
    builder.build().context("starting the tokio runtime")
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
