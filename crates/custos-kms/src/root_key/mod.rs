//! Root-key providers: where the key at the top of the hierarchy lives.
//!
//! The root key never seals key material directly. It wraps one random
//! *store key*, generated when the data directory is initialised; the
//! store key seals everything else (see `docs/key-hierarchy.md`). A
//! provider therefore only has to wrap and unwrap 32 bytes, once at
//! start-up, which is what an HSM (PKCS#11), a passphrase KDF or a Shamir
//! quorum can each do without the root key ever being in Custos' memory
//! for longer than that, or at all.
//!
//! Providers in this crate:
//! - [`file::FileProvider`]: a key file in the data directory. For
//!   development only: the root key sits on the same disk as the data.
//! - [`passphrase::PassphraseProvider`]: a key derived from an operator's
//!   passphrase (Argon2id, or PBKDF2 for FIPS); nothing on disk opens the
//!   store without it.
//! - [`pkcs11::Pkcs11Provider`]: an AES key inside an HSM (PKCS#11), which
//!   wraps the store key itself; the root key never leaves the token.
//! - [`shares::SharesRoot`]: a random root key split into Shamir shares
//!   held by operators; rebuilt in memory by [`shares::Unsealer`] when
//!   enough of them are entered into a sealed server.

pub mod file;
pub mod passphrase;
pub mod pkcs11;
pub mod shares;

use std::fmt;

use custos_crypto::Key256;

/// Why a provider failed.
#[derive(Debug, thiserror::Error)]
pub enum RootKeyError {
    #[error("root key file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "root key file {path} is readable or writable by other users (mode {mode:o}); \
         run `chmod 600 {path}`"
    )]
    Permissions { path: String, mode: u32 },
    #[error("root key file {path} is not a Custos root key file")]
    Malformed { path: String },
    /// The wrapped store key does not open with this root key: the data
    /// directory was sealed under a different root key, or was tampered
    /// with.
    #[error("the store key does not unwrap with this root key")]
    WrongKey,
    #[error(
        "the passphrase must be UTF-8 text of at least {} characters",
        passphrase::MIN_PASSPHRASE_CHARS
    )]
    WeakPassphrase,
    /// The provider's service (an HSM, another KMS) did not answer as
    /// needed: the server stays shut rather than guess.
    #[error("the {provider} root-key provider cannot unwrap or wrap the store key: {message}")]
    Unavailable {
        provider: &'static str,
        message: String,
    },
    #[error("cryptographic failure in the root-key provider")]
    Crypto(#[from] custos_crypto::Error),
}

/// A source of the root key.
pub trait RootKeyProvider: Send + Sync + fmt::Debug {
    /// A short name recorded beside the wrapped store key, so that opening a
    /// data directory with another kind of provider fails with a clear error.
    fn kind(&self) -> &'static str;

    /// Whether this provider is fit only for development; the server warns.
    fn is_development(&self) -> bool;

    /// Wraps the store key, binding `aad`.
    fn wrap(&self, store_key: &Key256, aad: &[u8]) -> Result<Vec<u8>, RootKeyError>;

    /// Unwraps what [`RootKeyProvider::wrap`] returned.
    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key256, RootKeyError>;
}
