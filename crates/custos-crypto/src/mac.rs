//! HMAC-SHA256 and SHA-256 (for SigV4), and HMAC with every SHA-2 hash
//! KMS HMAC keys use, with constant-time verification.

use aws_lc_rs::{digest, hmac};

use crate::SecretBytes;

/// Length of a SHA-256 digest and of an HMAC-SHA256 tag.
pub const SHA256_LEN: usize = 32;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; SHA256_LEN] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&key, data);
    let mut out = [0u8; SHA256_LEN];
    out.copy_from_slice(tag.as_ref());
    out
}

/// The hash of an HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HmacAlgorithm {
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HmacAlgorithm {
    fn algorithm(self) -> hmac::Algorithm {
        match self {
            Self::Sha224 => hmac::HMAC_SHA224,
            Self::Sha256 => hmac::HMAC_SHA256,
            Self::Sha384 => hmac::HMAC_SHA384,
            Self::Sha512 => hmac::HMAC_SHA512,
        }
    }

    /// Length of a tag in bytes.
    pub fn tag_len(self) -> usize {
        match self {
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// The HMAC of `data` under `key`.
pub fn hmac(alg: HmacAlgorithm, key: &SecretBytes, data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(alg.algorithm(), key.expose_secret());
    hmac::sign(&key, data).as_ref().to_vec()
}

/// Whether `tag` is the HMAC of `data` under `key`, compared in constant
/// time (aws-lc-rs `hmac::verify`). A tag of another length never matches.
pub fn hmac_verify(alg: HmacAlgorithm, key: &SecretBytes, data: &[u8], tag: &[u8]) -> bool {
    let key = hmac::Key::new(alg.algorithm(), key.expose_secret());
    hmac::verify(&key, data, tag).is_ok()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; SHA256_LEN] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; SHA256_LEN];
    out.copy_from_slice(d.as_ref());
    out
}

/// Incremental SHA-256, for hashing data that arrives in pieces.
pub struct Sha256(digest::Context);

impl Sha256 {
    pub fn new() -> Self {
        Self(digest::Context::new(&digest::SHA256))
    }

    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub fn finish(self) -> [u8; SHA256_LEN] {
        let mut out = [0u8; SHA256_LEN];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

impl Default for Sha256 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha256")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231, test case 2.
    #[test]
    fn hmac_rfc4231_case_2() {
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    // RFC 4231 test case 2 ("Jefe") for every hash, and test case 6 (a key
    // longer than the block of SHA-224/256).
    #[test]
    fn hmac_rfc4231() {
        let jefe = SecretBytes::from_slice(b"Jefe");
        let data = b"what do ya want for nothing?";
        let cases = [
            (
                HmacAlgorithm::Sha224,
                "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
            ),
            (
                HmacAlgorithm::Sha256,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                HmacAlgorithm::Sha384,
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                 8e2240ca5e69e2c78b3239ecfab21649",
            ),
            (
                HmacAlgorithm::Sha512,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
        ];
        for (alg, expected) in cases {
            let tag = hmac(alg, &jefe, data);
            assert_eq!(hex::encode(&tag), expected, "{alg:?}");
            assert_eq!(tag.len(), alg.tag_len());
            assert!(hmac_verify(alg, &jefe, data, &tag));
            assert!(!hmac_verify(alg, &jefe, data, &tag[..tag.len() - 1]));
            let mut bad = tag.clone();
            bad[0] ^= 1;
            assert!(!hmac_verify(alg, &jefe, data, &bad));
        }
        let long_key = SecretBytes::new(vec![0xaa; 131]);
        let tag = hmac(
            HmacAlgorithm::Sha256,
            &long_key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(tag),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    // FIPS 180-2, "abc".
    #[test]
    fn sha256_abc() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut h = Sha256::new();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finish(), sha256(b"abc"));
    }
}
