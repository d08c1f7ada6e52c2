//! The one place in Custos that calls aws-lc-rs.
//!
//! Every other crate reaches cryptography through this one, so that the set of
//! primitives Custos depends on, and the way each is used, can be read in a
//! single place and reviewed once.
//!
//! # Layout
//!
//! - [`secret`]: [`SecretBytes`] and [`Key256`], zeroizing containers for key
//!   material, data keys, plaintexts and secret access keys. They have no
//!   `Debug`, `Clone`, `Serialize` or `PartialEq` that could leak them; their
//!   bytes are read through an explicit `expose_secret()`.
//! - [`aead`]: AES-256-GCM sealing and opening with a caller-chosen nonce and
//!   associated data.
//! - [`kdf`]: HKDF-SHA256 (key derivation for sealing and per-ciphertext keys).
//! - [`mac`]: HMAC-SHA256 and SHA-256 (SigV4 needs both).
//! - [`rand`]: the system CSPRNG.
//! - [`seal`]: [`seal::Sealer`], how Custos seals a record under its store
//!   key: AES-256-GCM with a random nonce and associated data naming what
//!   the record is and whose.
//! - [`ct`]: constant-time comparison.
//! - [`shamir`]: Shamir's secret sharing over GF(256) (`vsss-rs`).
//! - [`aes_gcm`]: AES-GCM with 128-, 192- or 256-bit keys, for formats
//!   defined by others.
//! - [`hkdf`]: HKDF with SHA-256, SHA-384 or SHA-512 and output of any
//!   length.
//! - [`ecdsa`]: ECDSA P-256/SHA-256 and P-384/SHA-384, DER signatures,
//!   compressed public keys, streaming sign and verify.
//! - [`rsa`]: RSA-OAEP and PKCS #1 v1.5 encryption with keys from DER or
//!   PEM.
//! - [`sign`]: the signing key pairs of KMS keys (RSA, ECDSA on four
//!   curves, Ed25519, ML-DSA) and every signature scheme of AWS KMS, on
//!   messages, digests and ML-DSA external μ.
//! - [`ecdh`]: ECDH on P-256, P-384, P-521 with the raw shared secret.
//! - [`kem`]: ML-KEM key pairs from seeds, encapsulation, decapsulation.
//! - `der` (private): the few DER structures Custos writes itself.
//! - `ffi` (private): **the only unsafe code in Custos**, the aws-lc C
//!   functions behind Ed25519ph, ML-DSA external μ and seeded ML-KEM key
//!   generation, which aws-lc-rs does not expose (see
//!   `docs/crypto-choices.md`).
//!
//! # What this crate deliberately does not do
//!
//! It chooses no formats and stores nothing: callers decide what is sealed,
//! with which associated data, and where it goes. Its errors are opaque on
//! purpose ([`Error`] says only *that* an operation failed): a failed
//! decryption must tell an attacker nothing about why.

pub mod aead;
pub mod aes_gcm;
pub mod ct;
mod der;
pub mod ecdh;
pub mod ecdsa;
mod ffi;
pub mod hkdf;
pub mod kdf;
pub mod kem;
pub mod mac;
pub mod rand;
pub mod rsa;
pub mod seal;
pub mod secret;
pub mod shamir;
pub mod sign;

pub use secret::{Key256, SecretBytes};

/// An opaque cryptographic failure.
///
/// It carries no detail on purpose: distinguishing "bad tag" from "bad
/// length" from "bad key" would hand an attacker an oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cryptographic operation failed")]
pub struct Error;

impl From<aws_lc_rs::error::Unspecified> for Error {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        Error
    }
}
