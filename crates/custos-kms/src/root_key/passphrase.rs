//! The passphrase root-key provider: the store key is wrapped under a key
//! derived from an operator's passphrase, which is never written down by
//! Custos. Nothing in the data directory opens the store without it.
//!
//! The derivation is Argon2id with RFC 9106's recommended parameters for
//! machines with little memory (64 MiB, 3 passes, 4 lanes), or, where only
//! FIPS-approved algorithms may be used, PBKDF2-HMAC-SHA256 with 600,000
//! iterations (OWASP's figure for 2023 onwards). The wrapped form records
//! the derivation, its parameters and a random salt, all bound into the
//! AES-256-GCM wrapping as associated data:
//!
//! ```text
//! 0x02 ‖ kdf (1 = Argon2id, 2 = PBKDF2) ‖ parameters ‖ salt (16) ‖ nonce (12) ‖ sealed store key (48)
//! Argon2id parameters: memory KiB ‖ passes ‖ lanes (u32 big-endian each)
//! PBKDF2 parameters:   iterations (u32 big-endian)
//! ```
//!
//! Parameters read back are bounded (1 GiB, 64 passes, 16 lanes, 10
//! million iterations), so an edited record cannot make start-up take
//! unbounded memory or time.

use std::num::NonZeroU32;

use custos_crypto::kdf::{Argon2Params, argon2id, pbkdf2_sha256};
use custos_crypto::{Key256, SecretBytes, aead};

use super::{RootKeyError, RootKeyProvider};

const WRAP_FORMAT: u8 = 2;
const KDF_ARGON2ID: u8 = 1;
const KDF_PBKDF2: u8 = 2;
const SALT_LEN: usize = 16;
/// The shortest passphrase accepted, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 12;
/// PBKDF2's iteration count (OWASP, 2023: 600,000 for HMAC-SHA256).
pub const PBKDF2_ITERATIONS: NonZeroU32 = match NonZeroU32::new(600_000) {
    Some(n) => n,
    None => unreachable!(),
};

/// How a passphrase becomes a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kdf {
    Argon2id(Argon2Params),
    Pbkdf2 { iterations: NonZeroU32 },
}

impl Kdf {
    /// Argon2id with RFC 9106's recommended parameters.
    pub const ARGON2ID: Kdf = Kdf::Argon2id(Argon2Params::RECOMMENDED);
    /// PBKDF2-HMAC-SHA256, for FIPS deployments.
    pub const PBKDF2: Kdf = Kdf::Pbkdf2 {
        iterations: PBKDF2_ITERATIONS,
    };

    fn header(&self, salt: &[u8; SALT_LEN]) -> Vec<u8> {
        let mut out = vec![WRAP_FORMAT];
        match self {
            Kdf::Argon2id(p) => {
                out.push(KDF_ARGON2ID);
                for n in [p.memory_kib, p.iterations, p.lanes] {
                    out.extend_from_slice(&n.to_be_bytes());
                }
            }
            Kdf::Pbkdf2 { iterations } => {
                out.push(KDF_PBKDF2);
                out.extend_from_slice(&iterations.get().to_be_bytes());
            }
        }
        out.extend_from_slice(salt);
        out
    }

    /// The derivation and salt a wrapped store key records, and where its
    /// header ends; `None` if it is not one or its costs are out of bounds.
    fn read(wrapped: &[u8]) -> Option<(Kdf, [u8; SALT_LEN], usize)> {
        let u32_at = |i: usize| -> Option<u32> {
            Some(u32::from_be_bytes(wrapped.get(i..i + 4)?.try_into().ok()?))
        };
        if *wrapped.first()? != WRAP_FORMAT {
            return None;
        }
        let (kdf, at) = match *wrapped.get(1)? {
            KDF_ARGON2ID => {
                let p = Argon2Params {
                    memory_kib: u32_at(2)?,
                    iterations: u32_at(6)?,
                    lanes: u32_at(10)?,
                };
                let bounded = p.memory_kib <= 1024 * 1024 && p.iterations <= 64 && p.lanes <= 16;
                (bounded.then_some(Kdf::Argon2id(p))?, 14)
            }
            KDF_PBKDF2 => {
                let n = NonZeroU32::new(u32_at(2)?).filter(|n| n.get() <= 10_000_000)?;
                (Kdf::Pbkdf2 { iterations: n }, 6)
            }
            _ => return None,
        };
        let salt = wrapped.get(at..at + SALT_LEN)?.try_into().ok()?;
        Some((kdf, salt, at + SALT_LEN))
    }

    fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Result<Key256, RootKeyError> {
        Ok(match self {
            Kdf::Argon2id(p) => argon2id(passphrase, salt, *p)?,
            Kdf::Pbkdf2 { iterations } => pbkdf2_sha256(passphrase, salt, *iterations)?,
        })
    }
}

/// A root key derived from a passphrase.
pub struct PassphraseProvider {
    passphrase: SecretBytes,
    kdf: Kdf,
}

impl std::fmt::Debug for PassphraseProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseProvider")
            .field("kdf", &self.kdf)
            .finish_non_exhaustive()
    }
}

impl PassphraseProvider {
    /// A provider for `passphrase` (UTF-8, at least
    /// [`MIN_PASSPHRASE_CHARS`] characters once a trailing newline is
    /// removed), wrapping new store keys with `kdf`. Unwrapping uses the
    /// derivation the wrapped key records.
    pub fn new(mut passphrase: SecretBytes, kdf: Kdf) -> Result<Self, RootKeyError> {
        // A passphrase read from a file or a pipe ends with a newline the
        // operator did not mean as part of it.
        let bytes = passphrase.expose_secret_mut();
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        let chars = std::str::from_utf8(passphrase.expose_secret())
            .map_err(|_| RootKeyError::WeakPassphrase)?
            .chars()
            .count();
        if chars < MIN_PASSPHRASE_CHARS {
            return Err(RootKeyError::WeakPassphrase);
        }
        Ok(Self { passphrase, kdf })
    }
}

impl RootKeyProvider for PassphraseProvider {
    fn kind(&self) -> &'static str {
        "passphrase"
    }

    fn is_development(&self) -> bool {
        false
    }

    fn wrap(&self, store_key: &Key256, aad: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let salt: [u8; SALT_LEN] = custos_crypto::rand::array()?;
        let nonce: [u8; aead::NONCE_LEN] = custos_crypto::rand::array()?;
        let mut out = self.kdf.header(&salt);
        let bound = [aad, &out].concat();
        let key = self.kdf.derive(self.passphrase.expose_secret(), &salt)?;
        out.extend_from_slice(&nonce);
        aead::seal_append(&key, &nonce, &bound, store_key.expose_secret(), &mut out)?;
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key256, RootKeyError> {
        let (kdf, salt, at) = Kdf::read(wrapped).ok_or(RootKeyError::WrongKey)?;
        let nonce: [u8; aead::NONCE_LEN] = wrapped
            .get(at..at + aead::NONCE_LEN)
            .and_then(|n| n.try_into().ok())
            .ok_or(RootKeyError::WrongKey)?;
        let bound = [aad, &wrapped[..at]].concat();
        let key = kdf.derive(self.passphrase.expose_secret(), &salt)?;
        let store_key = aead::open(&key, &nonce, &bound, &wrapped[at + aead::NONCE_LEN..])
            .map_err(|_| RootKeyError::WrongKey)?;
        Ok(Key256::from_slice(store_key.expose_secret())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(passphrase: &str, kdf: Kdf) -> PassphraseProvider {
        PassphraseProvider::new(SecretBytes::from_slice(passphrase.as_bytes()), kdf)
            .expect("provider")
    }

    // Cheap parameters: the derivation itself is tested in custos-crypto.
    const CHEAP: Kdf = Kdf::Argon2id(Argon2Params {
        memory_kib: 64,
        iterations: 1,
        lanes: 1,
    });

    #[test]
    fn wraps_and_unwraps_with_the_same_passphrase_only() {
        for kdf in [
            CHEAP,
            Kdf::Pbkdf2 {
                iterations: NonZeroU32::new(1000).expect("nonzero"),
            },
        ] {
            let store_key = Key256::generate().expect("rng");
            let p = provider("correct horse battery staple", kdf);
            let wrapped = p.wrap(&store_key, b"aad").expect("wrap");
            // A new provider of the same passphrase (a restart), with
            // another default derivation: the record says which was used.
            let again = provider("correct horse battery staple\n", Kdf::ARGON2ID);
            let back = again.unwrap(&wrapped, b"aad").expect("unwrap");
            assert_eq!(back.expose_secret(), store_key.expose_secret());
            assert!(matches!(
                provider("correct horse battery stable", kdf).unwrap(&wrapped, b"aad"),
                Err(RootKeyError::WrongKey)
            ));
            assert!(matches!(
                again.unwrap(&wrapped, b"other"),
                Err(RootKeyError::WrongKey)
            ));
        }
    }

    #[test]
    fn an_edited_header_or_unbounded_cost_is_refused() {
        let p = provider("correct horse battery staple", CHEAP);
        let wrapped = p
            .wrap(&Key256::generate().expect("rng"), b"")
            .expect("wrap");
        // Each byte of the header and salt is bound: a change fails.
        for i in 0..30 {
            let mut edited = wrapped.clone();
            edited[i] ^= 1;
            assert!(p.unwrap(&edited, b"").is_err(), "byte {i}");
        }
        // 4 GiB of memory asked for: refused before deriving anything.
        let mut greedy = wrapped.clone();
        greedy[2..6].copy_from_slice(&(4 * 1024 * 1024u32).to_be_bytes());
        assert!(matches!(
            p.unwrap(&greedy, b""),
            Err(RootKeyError::WrongKey)
        ));
    }

    #[test]
    fn short_or_non_utf8_passphrases_are_refused() {
        for bad in [&b"short"[..], b"eleven char", b"\xff\xfe not utf-8 at all"] {
            assert!(matches!(
                PassphraseProvider::new(SecretBytes::from_slice(bad), Kdf::ARGON2ID),
                Err(RootKeyError::WeakPassphrase)
            ));
        }
        let p = provider("twelve chars", Kdf::ARGON2ID);
        assert!(!format!("{p:?}").contains("twelve"));
    }
}
