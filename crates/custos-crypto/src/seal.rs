//! Sealing: how secrets are encrypted before they reach the store.
//!
//! A sealed record is
//!
//! ```text
//! 0x01 (format) || nonce (12) || AES-256-GCM(store key, nonce, aad, secret)
//! ```
//!
//! where the associated data name what the secret is and whose it is (a
//! label, the key id, the material version…), length-prefixed so that no
//! two different names share an encoding. A sealed record therefore opens
//! only in the place it was written for: material moved to another key's
//! slot, or an identity's secret copied onto another access key id, fails
//! to open.
//!
//! Nonces are random; the store key seals one record per key version and
//! identity, far below the 2^32 messages at which random 96-bit nonces
//! would need care.

use crate::{Key256, SecretBytes, aead};

pub const SEAL_FORMAT: u8 = 1;
/// The format byte of records sealed under a per-record derived key.
pub const DERIVED_FORMAT: u8 = 2;

/// Associated data: a label and length-prefixed fields.
pub fn aad(label: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for f in std::iter::once(label.as_bytes()).chain(fields.iter().copied()) {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// The store key, unwrapped at start-up by the root-key provider.
pub struct Sealer {
    store_key: Key256,
    /// HKDF-SHA256(store key, info `custos.record-mac.v1`): authenticates
    /// records that are stored in the clear (see [`Sealer::authenticate`]).
    record_mac_key: std::sync::OnceLock<Key256>,
}

/// The info of the record-authentication key's derivation.
const RECORD_MAC_INFO: &[u8] = b"custos.record-mac.v1";

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    pub fn new(store_key: Key256) -> Self {
        Self {
            store_key,
            record_mac_key: std::sync::OnceLock::new(),
        }
    }

    fn record_mac_key(&self) -> Result<&Key256, crate::Error> {
        if let Some(key) = self.record_mac_key.get() {
            return Ok(key);
        }
        let derived =
            crate::kdf::hkdf_sha256(self.store_key.expose_secret(), b"", &[RECORD_MAC_INFO])?;
        let _ = self.record_mac_key.set(derived);
        self.record_mac_key.get().ok_or(crate::Error)
    }

    /// An HMAC-SHA256 tag over `aad` (which names the record's place) and
    /// `record`, for records kept in the clear whose integrity matters.
    pub fn authenticate(&self, aad: &[u8], record: &[u8]) -> Result<[u8; 32], crate::Error> {
        let key = self.record_mac_key()?;
        let mut input = Vec::with_capacity(aad.len() + record.len());
        input.extend_from_slice(aad);
        input.extend_from_slice(record);
        Ok(crate::mac::hmac_sha256(key.expose_secret(), &input))
    }

    /// Whether `tag` is [`Sealer::authenticate`]'s for `aad` and `record`
    /// (compared in constant time).
    pub fn is_authentic(&self, aad: &[u8], record: &[u8], tag: &[u8]) -> bool {
        self.authenticate(aad, record)
            .is_ok_and(|expected| crate::ct::eq(&expected, tag))
    }

    /// The store key, for tests that prove it never reaches the disk.
    #[cfg(any(test, feature = "test-util"))]
    #[doc(hidden)]
    pub fn store_key_for_tests(&self) -> &[u8] {
        self.store_key.expose_secret()
    }

    pub fn seal(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, crate::Error> {
        let nonce: [u8; aead::NONCE_LEN] = crate::rand::array()?;
        let mut out = Vec::with_capacity(1 + aead::NONCE_LEN + secret.len() + aead::TAG_LEN);
        out.push(SEAL_FORMAT);
        out.extend_from_slice(&nonce);
        aead::seal_append(&self.store_key, &nonce, aad, secret, &mut out)?;
        Ok(out)
    }

    /// Seals under a key derived for this record alone,
    /// `HKDF-SHA256(store key, salt, label)` with a random 256-bit salt:
    ///
    /// ```text
    /// 0x02 (format) || salt (32) || nonce (12) || AES-256-GCM(derived key, nonce, aad, secret)
    /// ```
    ///
    /// For records made at a rate (STS session tokens) where random nonces
    /// under the one store key could approach the 2^32 messages after which
    /// a nonce collision stops being negligible.
    pub fn seal_derived(
        &self,
        label: &str,
        aad: &[u8],
        secret: &[u8],
    ) -> Result<Vec<u8>, crate::Error> {
        let salt: [u8; 32] = crate::rand::array()?;
        let key =
            crate::kdf::hkdf_sha256(self.store_key.expose_secret(), &salt, &[label.as_bytes()])?;
        let nonce: [u8; aead::NONCE_LEN] = crate::rand::array()?;
        let mut out = Vec::with_capacity(1 + 32 + aead::NONCE_LEN + secret.len() + aead::TAG_LEN);
        out.push(DERIVED_FORMAT);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        aead::seal_append(&key, &nonce, aad, secret, &mut out)?;
        Ok(out)
    }

    /// Opens what [`Sealer::seal_derived`] sealed with the same label and
    /// associated data.
    pub fn open_derived(
        &self,
        label: &str,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, crate::Error> {
        if sealed.len() < 1 + 32 + aead::NONCE_LEN || sealed[0] != DERIVED_FORMAT {
            return Err(crate::Error);
        }
        let salt = &sealed[1..33];
        let key =
            crate::kdf::hkdf_sha256(self.store_key.expose_secret(), salt, &[label.as_bytes()])?;
        let mut nonce = [0u8; aead::NONCE_LEN];
        nonce.copy_from_slice(&sealed[33..33 + aead::NONCE_LEN]);
        aead::open(&key, &nonce, aad, &sealed[33 + aead::NONCE_LEN..])
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<SecretBytes, crate::Error> {
        if sealed.len() < 1 + aead::NONCE_LEN || sealed[0] != SEAL_FORMAT {
            return Err(crate::Error);
        }
        let mut nonce = [0u8; aead::NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + aead::NONCE_LEN]);
        aead::open(&self.store_key, &nonce, aad, &sealed[1 + aead::NONCE_LEN..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_the_same_aad() {
        let s = Sealer::new(Key256::generate().expect("rng"));
        let a = aad("custos.test", &[b"key-1", &1u32.to_be_bytes()]);
        let b = aad("custos.test", &[b"key-1", &2u32.to_be_bytes()]);
        let sealed = s.seal(&a, b"material").expect("seal");
        assert_eq!(
            s.open(&a, &sealed).expect("open").expose_secret(),
            b"material"
        );
        assert!(s.open(&b, &sealed).is_err());
        assert_ne!(aad("x", &[b"ab", b"c"]), aad("x", &[b"a", b"bc"]));
    }

    #[test]
    fn derived_seals_open_only_with_their_label_and_aad() {
        let s = Sealer::new(Key256::generate().expect("rng"));
        let sealed = s.seal_derived("label", b"aad", b"claims").expect("seal");
        assert_eq!(
            s.open_derived("label", b"aad", &sealed)
                .expect("open")
                .expose_secret(),
            b"claims"
        );
        assert!(s.open_derived("other", b"aad", &sealed).is_err());
        assert!(s.open_derived("label", b"other", &sealed).is_err());
        assert!(s.open(b"aad", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[5] ^= 1;
        assert!(s.open_derived("label", b"aad", &flipped).is_err());
        // Two seals of the same claims share neither salt nor bytes.
        assert_ne!(
            sealed,
            s.seal_derived("label", b"aad", b"claims").expect("seal")
        );
    }
}
