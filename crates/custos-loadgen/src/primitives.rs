//! `primitives`: the raw speed of the asymmetric primitives Custos wraps,
//! in-process and on one thread, through `custos-crypto` (so through
//! aws-lc, exactly as the server calls them). These are the limits that
//! `Sign`, `Verify` and `GenerateDataKeyPair` through the server are to be
//! compared with: a request can never be faster than its primitive, and the
//! gap is the cost of HTTPS, SigV4, JSON, the store and unsealing the key.
//!
//! Measured per kind of key: `sign` (RAW message of 32 bytes, the scheme
//! the loadgen's `sign` uses by default), `verify` (parsing the public key
//! from its DER, as the server does for every `Verify`), and `keygen`
//! (generation plus PKCS #8 and public-key encoding, the work of one
//! `GenerateDataKeyPair`).

use std::io::Write;
use std::time::{Duration, Instant};

use custos_crypto::kem::{MlKem, MlKemPrivateKey};
use custos_crypto::sign::{
    Sha2, SignInput, SignatureScheme, SigningKey, SigningKeyKind, VerifyingKey,
};

use crate::cli::PrimitivesArgs;

/// One measured primitive.
struct Row {
    kind: &'static str,
    op: &'static str,
    per_second: f64,
}

fn rate<F: FnMut() -> anyhow::Result<()>>(seconds: f64, mut f: F) -> anyhow::Result<f64> {
    // One call outside the clock: first-use costs are not the rate.
    f()?;
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f()?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

const KINDS: [(&str, SigningKeyKind, SignatureScheme); 11] = [
    (
        "RSA_2048",
        SigningKeyKind::Rsa2048,
        SignatureScheme::RsaPss(Sha2::Sha256),
    ),
    (
        "RSA_3072",
        SigningKeyKind::Rsa3072,
        SignatureScheme::RsaPss(Sha2::Sha256),
    ),
    (
        "RSA_4096",
        SigningKeyKind::Rsa4096,
        SignatureScheme::RsaPss(Sha2::Sha256),
    ),
    (
        "ECC_NIST_P256",
        SigningKeyKind::EcdsaP256,
        SignatureScheme::Ecdsa(Sha2::Sha256),
    ),
    (
        "ECC_NIST_P384",
        SigningKeyKind::EcdsaP384,
        SignatureScheme::Ecdsa(Sha2::Sha384),
    ),
    (
        "ECC_NIST_P521",
        SigningKeyKind::EcdsaP521,
        SignatureScheme::Ecdsa(Sha2::Sha512),
    ),
    (
        "ECC_SECG_P256K1",
        SigningKeyKind::EcdsaSecp256k1,
        SignatureScheme::Ecdsa(Sha2::Sha256),
    ),
    (
        "ECC_NIST_EDWARDS25519",
        SigningKeyKind::Ed25519,
        SignatureScheme::Ed25519,
    ),
    ("ML_DSA_44", SigningKeyKind::MlDsa44, SignatureScheme::MlDsa),
    ("ML_DSA_65", SigningKeyKind::MlDsa65, SignatureScheme::MlDsa),
    ("ML_DSA_87", SigningKeyKind::MlDsa87, SignatureScheme::MlDsa),
];

pub(crate) fn run(args: &PrimitivesArgs) -> anyhow::Result<()> {
    let seconds = args.seconds.clamp(0.05, 600.0);
    let message = [0x42u8; 32];
    let mut rows = Vec::new();
    for (name, kind, scheme) in KINDS {
        let key = SigningKey::generate(kind)?;
        let der = key.public_key_der()?;
        let signature = key.sign(scheme, SignInput::Message(&message))?;
        rows.push(Row {
            kind: name,
            op: "sign",
            per_second: rate(seconds, || {
                key.sign(scheme, SignInput::Message(&message))?;
                Ok(())
            })?,
        });
        rows.push(Row {
            kind: name,
            op: "verify",
            per_second: rate(seconds, || {
                VerifyingKey::from_der(kind, &der)?.verify(
                    scheme,
                    SignInput::Message(&message),
                    &signature,
                )?;
                Ok(())
            })?,
        });
        // Data key pairs exist for RSA, the ECC curves and Ed25519.
        if !name.starts_with("ML_DSA") {
            // RSA key generation is slow and variable: give it more time.
            let budget = if name.starts_with("RSA") {
                seconds * 3.0
            } else {
                seconds
            };
            rows.push(Row {
                kind: name,
                op: "keygen",
                per_second: rate(budget, || {
                    let pair = SigningKey::generate(kind)?;
                    pair.to_pkcs8()?;
                    pair.public_key_der()?;
                    Ok(())
                })?,
            });
        }
    }
    for (name, level) in [
        ("ML_KEM_512", MlKem::MlKem512),
        ("ML_KEM_768", MlKem::MlKem768),
        ("ML_KEM_1024", MlKem::MlKem1024),
    ] {
        rows.push(Row {
            kind: name,
            op: "keygen",
            per_second: rate(seconds, || {
                let key = MlKemPrivateKey::generate(level)?;
                key.to_pkcs8()?;
                key.public_key_der();
                Ok(())
            })?,
        });
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        for row in &rows {
            writeln!(
                out,
                "{}",
                serde_json::json!({"kind": row.kind, "op": row.op, "per_second": row.per_second.round()})
            )?;
        }
    } else {
        writeln!(out, "{:<24} {:<8} {:>12}", "kind", "op", "ops/s (1 thread)")?;
        for row in &rows {
            writeln!(
                out,
                "{:<24} {:<8} {:>12.0}",
                row.kind, row.op, row.per_second
            )?;
        }
    }
    out.flush()?;
    Ok(())
}
