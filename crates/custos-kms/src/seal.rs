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

use custos_crypto::{Key256, SecretBytes, aead};

pub(crate) const SEAL_FORMAT: u8 = 1;

/// Associated data: a label and length-prefixed fields.
pub(crate) fn aad(label: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for f in std::iter::once(label.as_bytes()).chain(fields.iter().copied()) {
        out.extend_from_slice(&(f.len() as u32).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// The store key, unwrapped at start-up by the root-key provider.
pub(crate) struct Sealer {
    store_key: Key256,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([REDACTED])")
    }
}

impl Sealer {
    pub(crate) fn new(store_key: Key256) -> Self {
        Self { store_key }
    }

    /// The store key, for tests that prove it never reaches the disk.
    #[cfg(test)]
    pub(crate) fn store_key_for_tests(&self) -> &[u8] {
        self.store_key.expose_secret()
    }

    pub(crate) fn seal(&self, aad: &[u8], secret: &[u8]) -> Result<Vec<u8>, custos_crypto::Error> {
        let nonce: [u8; aead::NONCE_LEN] = custos_crypto::rand::array()?;
        let mut out = Vec::with_capacity(1 + aead::NONCE_LEN + secret.len() + aead::TAG_LEN);
        out.push(SEAL_FORMAT);
        out.extend_from_slice(&nonce);
        aead::seal_append(&self.store_key, &nonce, aad, secret, &mut out)?;
        Ok(out)
    }

    pub(crate) fn open(
        &self,
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<SecretBytes, custos_crypto::Error> {
        if sealed.len() < 1 + aead::NONCE_LEN || sealed[0] != SEAL_FORMAT {
            return Err(custos_crypto::Error);
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
}
