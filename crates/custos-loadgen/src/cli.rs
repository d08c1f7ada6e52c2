//! The command-line flags.
//!
//! The `run` flags follow the AWS CLI's environment variables, so that a shell
//! already set up for `aws kms` against Custos needs no flags but the load.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Largest `--size` accepted: far above the 4 KiB KMS allows for a plaintext,
/// so that a server's own limit can be tested, yet bounded.
const MAX_SIZE: u64 = 1 << 20;

#[derive(Parser)]
#[command(name = "custos-loadgen", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Drive an HTTPS endpoint with SigV4-signed KMS requests, then report
    /// throughput and latency.
    Run(RunArgs),
    /// Serve a no-op HTTPS endpoint on Custos' stack: the ceiling a KMS
    /// server on this machine could reach.
    CeilingServer(CeilingArgs),
    /// Measure the raw speed of the asymmetric primitives Custos wraps
    /// (aws-lc through custos-crypto), in-process, one thread: the limit of
    /// Sign, Verify and GenerateDataKeyPair on this machine.
    Primitives(PrimitivesArgs),
}

#[derive(Args, Debug)]
pub(crate) struct PrimitivesArgs {
    /// Seconds spent on each primitive.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) seconds: f64,

    /// Print one JSON line per primitive instead of the table.
    #[arg(long)]
    pub(crate) json: bool,
}

// No `Debug`: it would print the secret access key.
#[derive(Args)]
pub(crate) struct RunArgs {
    /// HTTPS endpoint, e.g. `https://127.0.0.1:8443`. Its host must be a
    /// loopback address or `localhost`.
    #[arg(long, env = "AWS_ENDPOINT_URL_KMS")]
    pub(crate) endpoint: String,

    /// PEM file of the CA certificates to trust, and the only ones trusted.
    #[arg(long, env = "AWS_CA_BUNDLE")]
    pub(crate) ca_bundle: PathBuf,

    /// Region the requests are signed for.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub(crate) region: String,

    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub(crate) access_key_id: String,

    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub(crate) secret_access_key: String,

    /// The operation to measure.
    #[arg(long, value_enum, default_value_t = Op::Encrypt)]
    pub(crate) op: Op,

    /// Plaintext size in bytes (encrypt, decrypt, noop). `generate-data-key`
    /// always asks for an AES_256 key (32 bytes).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=MAX_SIZE))]
    pub(crate) size: u64,

    /// Key id, key ARN, alias name or alias ARN to use; without it, a key is
    /// created with CreateKey first (for `sign` and `verify`, a `SIGN_VERIFY`
    /// key of `--key-spec`). Unused by `noop`.
    #[arg(long)]
    pub(crate) key_id: Option<String>,

    /// Key spec of the key `sign` and `verify` create (`RSA_2048`,
    /// `ECC_NIST_P256`, `ECC_NIST_EDWARDS25519`, `ML_DSA_65`…).
    #[arg(long, default_value = "ECC_NIST_P256")]
    pub(crate) key_spec: String,

    /// Signing algorithm of `sign` and `verify` (default: the usual one of
    /// the key spec, e.g. `ECDSA_SHA_256`, `RSASSA_PSS_SHA_256`).
    #[arg(long)]
    pub(crate) signing_algorithm: Option<String>,

    /// `KeyPairSpec` of `generate-data-key-pair`.
    #[arg(long, default_value = "ECC_NIST_P256")]
    pub(crate) key_pair_spec: String,

    /// Connections, each with one request in flight at a time.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) concurrency: u32,

    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) duration: u64,

    /// Seconds of load whose requests are not counted.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub(crate) warmup: u64,

    /// Seconds after which a request (or a connection attempt) counts as a
    /// transport error and its connection is dropped.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub(crate) timeout: u64,

    /// Tokio worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,

    /// Print one JSON line instead of the text report.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The operations `run` can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Op {
    /// `TrentService.Encrypt` of a `--size` plaintext.
    Encrypt,
    /// `TrentService.Decrypt` of one blob, encrypted during setup.
    Decrypt,
    /// `TrentService.GenerateDataKey` with `KeySpec` `AES_256`.
    GenerateDataKey,
    /// `TrentService.Sign` of a `--size` message (RAW) with `--key-spec`.
    Sign,
    /// `TrentService.Verify` of one signature, made during setup.
    Verify,
    /// `TrentService.GenerateDataKeyPair` of `--key-pair-spec`.
    GenerateDataKeyPair,
    /// An Encrypt-shaped request for a server that does no KMS work (the
    /// ceiling server); only the status of its answers is checked.
    Noop,
}

impl Op {
    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
            Op::GenerateDataKey => "generate-data-key",
            Op::Sign => "sign",
            Op::Verify => "verify",
            Op::GenerateDataKeyPair => "generate-data-key-pair",
            Op::Noop => "noop",
        }
    }
}

#[derive(Args, Debug)]
pub(crate) struct CeilingArgs {
    /// Loopback address and port to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub(crate) listen: SocketAddr,

    /// Directory where the generated CA certificate is written as `ca.pem`
    /// (created if missing).
    #[arg(long)]
    pub(crate) cert_dir: PathBuf,

    /// Stop after this many seconds (default: only on SIGINT or SIGTERM).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_seconds: Option<u64>,

    /// Tokio worker threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) threads: Option<u16>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn flags_are_consistent() {
        Cli::command().debug_assert();
    }
}
