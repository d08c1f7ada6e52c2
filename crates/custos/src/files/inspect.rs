//! `custos inspect`: what a message's header says, without decrypting.
//!
//! Only the header is read, and nothing is verified: the header tag needs
//! the data key. What is shown is what the file *claims*.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use custos_crypto::ecdsa::EcdsaAlgorithm;
use custos_envelope::{ContentType, Header, HeaderParser, MessageFormatVersion, Parse};

use super::report::{self, Situation};
use super::{header_json, suite_name};

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The encrypted file, or `-` for standard input.
    #[arg(default_value = "-", value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// Print JSON (the header as aws-encryption-cli's metadata records show
    /// it) instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Refuse headers with more encrypted data keys than this.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=65535), value_name = "N")]
    pub(crate) max_encrypted_data_keys: Option<u64>,
}

pub(crate) fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let shown = if args.input.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        args.input.display().to_string()
    };
    let mut input: Box<dyn std::io::Read> = if args.input.as_os_str() == "-" {
        Box::new(super::output::stdin().context("cannot read standard input")?)
    } else {
        Box::new(std::fs::File::open(&args.input).with_context(|| format!("cannot open {shown}"))?)
    };
    // At most 65535 (clap checks), so this fits.
    let mut parser = HeaderParser::new(args.max_encrypted_data_keys.map(|n| n as usize));
    let mut buf = Vec::new();
    let header = loop {
        let step = parser.advance(&buf).map_err(|e| {
            anyhow::anyhow!("{shown}: {}", report::explain(&e, &Situation::default()))
        })?;
        match step {
            Parse::Done(header, _) => break header,
            Parse::Need(n) => {
                let start = buf.len();
                buf.resize(n, 0);
                let mut filled = start;
                while filled < n {
                    match input.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(k) => filled += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e).with_context(|| format!("cannot read {shown}")),
                    }
                }
                if filled < n {
                    anyhow::bail!(
                        "{shown}: {}",
                        report::explain(&custos_envelope::Error::Truncated, &Situation::default())
                    );
                }
            }
        }
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", header_json(&header))?;
    } else {
        write!(out, "{}", describe(&header))?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The header as text, one field per line.
fn describe(h: &Header) -> String {
    let suite = h.suite();
    let mut traits = Vec::new();
    if suite.is_committing() {
        traits.push("key commitment".to_owned());
    }
    match suite.signature() {
        Some(EcdsaAlgorithm::P256Sha256) => traits.push("ECDSA P-256 signature".to_owned()),
        Some(EcdsaAlgorithm::P384Sha384) => traits.push("ECDSA P-384 signature".to_owned()),
        None => {}
    }
    let traits = if traits.is_empty() {
        String::new()
    } else {
        format!(" ({})", traits.join(", "))
    };
    let version = match h.version() {
        MessageFormatVersion::V1 => 1,
        MessageFormatVersion::V2 => 2,
    };
    let body = match h.content_type() {
        ContentType::Framed => format!("framed, {} bytes per frame", h.frame_length()),
        ContentType::NonFramed => "non-framed (legacy)".to_owned(),
    };
    let mut s = String::new();
    s.push_str(&format!("format version:      {version}\n"));
    s.push_str(&format!(
        "algorithm suite:     {} {}{traits}\n",
        suite,
        suite_name(suite)
    ));
    s.push_str(&format!(
        "message id:          {}\n",
        hex::encode(h.message_id().as_bytes())
    ));
    s.push_str(&format!("body:                {body}\n"));
    let context = h.stored_encryption_context();
    let entries = match context.len() {
        1 => "1 entry".to_owned(),
        n => format!("{n} entries"),
    };
    s.push_str(&format!("encryption context:  {entries}\n"));
    for (k, v) in context.iter() {
        // Escaped: a file must not be able to drive the terminal.
        s.push_str(&format!("  {} = {}\n", k.escape_debug(), v.escape_debug()));
    }
    let edks = h.encrypted_data_keys();
    s.push_str(&format!("encrypted data keys: {}\n", edks.len()));
    for edk in edks {
        s.push_str(&format!("  {}\n", report::describe_key(edk)));
    }
    s
}
