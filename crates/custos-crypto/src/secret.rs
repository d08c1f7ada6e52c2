//! Containers for secrets.
//!
//! Key material, data keys, plaintexts and secret access keys live only in
//! these types. They zeroize on drop and deliberately implement neither
//! `Clone` (copies are explicit, through [`SecretBytes::duplicate`]), nor
//! `PartialEq` (comparison must be constant-time, see [`crate::ct`]), nor a
//! `Debug` that shows content.

use std::fmt;

use zeroize::{Zeroize, Zeroizing};

/// A variable-length secret byte string, zeroized on drop.
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; the vector is wiped when this value drops.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret. The caller stays responsible for
    /// wiping its own copy.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The secret bytes. Named so that every read of a secret stands out in
    /// review.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Mutable access, for decrypting in place.
    pub fn expose_secret_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }

    /// An explicit copy of the secret.
    pub fn duplicate(&self) -> Self {
        Self::from_slice(self.expose_secret())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.0.len())
    }
}

/// A 256-bit secret key, zeroized on drop.
pub struct Key256(Box<[u8; 32]>);

impl Key256 {
    pub const LEN: usize = 32;

    /// A fresh key from the system CSPRNG.
    pub fn generate() -> Result<Self, crate::Error> {
        let mut key = Box::new([0u8; 32]);
        crate::rand::fill(&mut key[..])?;
        Ok(Self(key))
    }

    /// Copies a key out of `bytes`, which must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::Error> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| crate::Error)?;
        Ok(Self(Box::new(array)))
    }

    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for Key256 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Key256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key256([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_content() {
        let secret = SecretBytes::new(b"hunter2-hunter2".to_vec());
        let shown = format!("{secret:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown, "SecretBytes([REDACTED; 15])");

        let key = Key256::from_slice(&[0x41; 32]).expect("32 bytes");
        let shown = format!("{key:?}");
        assert!(!shown.contains("41") && !shown.contains("AAAA"), "{shown}");
    }

    #[test]
    fn key256_requires_exactly_32_bytes() {
        assert!(Key256::from_slice(&[0; 31]).is_err());
        assert!(Key256::from_slice(&[0; 33]).is_err());
        assert!(Key256::from_slice(&[0; 32]).is_ok());
    }

    #[test]
    fn generated_keys_differ() {
        let a = Key256::generate().expect("rng");
        let b = Key256::generate().expect("rng");
        assert_ne!(a.expose_secret(), b.expose_secret());
    }
}
