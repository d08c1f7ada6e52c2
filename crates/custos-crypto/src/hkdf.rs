//! HKDF (RFC 5869) with SHA-256, SHA-384 or SHA-512 and output of any
//! length the RFC allows.
//!
//! [`crate::kdf`] is the fixed-shape HKDF-SHA256 → 256-bit key that Custos
//! uses for its own formats. This module is the general form, for formats
//! defined by others: the hash is a parameter, the extract step can be done
//! once and expanded several times ([`Prk`]), and the output is a
//! [`SecretBytes`] of the requested length.

use std::fmt;

use aws_lc_rs::hkdf::{self, HKDF_SHA256, HKDF_SHA384, HKDF_SHA512, KeyType, Salt};

use crate::{Error, SecretBytes};

/// The hash function under HKDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HkdfHash {
    Sha256,
    Sha384,
    Sha512,
}

impl HkdfHash {
    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The largest output HKDF-Expand can produce: 255 digests.
    pub fn max_output_len(self) -> usize {
        255 * self.digest_len()
    }

    fn algorithm(self) -> hkdf::Algorithm {
        match self {
            Self::Sha256 => HKDF_SHA256,
            Self::Sha384 => HKDF_SHA384,
            Self::Sha512 => HKDF_SHA512,
        }
    }
}

/// The pseudorandom key produced by HKDF-Extract, ready to be expanded.
///
/// aws-lc-rs holds the key bytes; it has no `Clone` here and its `Debug`
/// shows only the hash.
pub struct Prk {
    prk: hkdf::Prk,
    hash: HkdfHash,
}

/// HKDF-Extract. An empty `salt` means "no salt", which RFC 5869 defines
/// as a string of zeros as long as the digest (the two are equivalent in
/// HMAC).
pub fn extract(hash: HkdfHash, salt: &[u8], ikm: &[u8]) -> Prk {
    Prk {
        prk: Salt::new(hash.algorithm(), salt).extract(ikm),
        hash,
    }
}

impl Prk {
    /// HKDF-Expand: `len` bytes of output keying material for the
    /// concatenation of the `info` pieces. Fails if `len` exceeds
    /// [`HkdfHash::max_output_len`].
    pub fn expand(&self, info: &[&[u8]], len: usize) -> Result<SecretBytes, Error> {
        if len > self.hash.max_output_len() {
            return Err(Error);
        }
        let okm = self.prk.expand(info, OutputLen(len))?;
        let mut out = SecretBytes::new(vec![0u8; len]);
        okm.fill(out.expose_secret_mut())?;
        Ok(out)
    }
}

impl fmt::Debug for Prk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prk({:?}, [REDACTED])", self.hash)
    }
}

/// HKDF in one call: extract, then expand to `len` bytes.
pub fn hkdf(
    hash: HkdfHash,
    ikm: &[u8],
    salt: &[u8],
    info: &[&[u8]],
    len: usize,
) -> Result<SecretBytes, Error> {
    extract(hash, salt, ikm).expand(info, len)
}

struct OutputLen(usize);

impl KeyType for OutputLen {
    fn len(&self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    // RFC 5869 test case 1 inputs. The SHA-256 output is the RFC's; the
    // SHA-384 and SHA-512 outputs (the RFC has none) were computed with
    // Python `cryptography` 48 (OpenSSL 3.0) and cross-checked with a
    // from-scratch HKDF over Python's `hmac`/`hashlib`.
    #[test]
    fn known_answers() {
        let ikm = [0x0b; 22];
        let salt = h("000102030405060708090a0b0c");
        let info = h("f0f1f2f3f4f5f6f7f8f9");
        let cases = [
            (
                HkdfHash::Sha256,
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf\
                 34007208d5b887185865",
            ),
            (
                HkdfHash::Sha384,
                "9b5097a86038b805309076a44b3a9f38063e25b516dcbf369f394cfab43685f7\
                 48b6457763e4f0204fc5d95d1da3e625",
            ),
            (
                HkdfHash::Sha512,
                "832390086cda71fb47625bb5ceb168e4c8e26a1a16ed34d9fc7fe92c14815793\
                 38da362cb8d9f925d7cbcce0dff7098769cf15959867d571c1715450cb530137",
            ),
        ];
        for (hash, okm) in cases {
            let out =
                hkdf(hash, &ikm, &salt, &[&info[..3], &info[3..]], okm.len() / 2).expect("hkdf");
            assert_eq!(hex::encode(out.expose_secret()), okm, "{hash:?}");
        }
    }

    // No salt and no info; and an output longer than one digest.
    #[test]
    fn empty_salt_and_long_output() {
        let ikm = [0x0b; 22];
        let out = hkdf(HkdfHash::Sha384, &ikm, &[], &[], 24).expect("hkdf");
        assert_eq!(
            hex::encode(out.expose_secret()),
            "c8c96e710f89b0d7990bca68bcdec8cf854062e54c73a7ab"
        );
        // Extract once, expand twice: both uses of one PRK.
        let prk = extract(HkdfHash::Sha512, &[], &ikm);
        let long = prk
            .expand(&[&h("f0f1f2f3f4f5f6f7f8f9")], 100)
            .expect("expand");
        assert_eq!(
            hex::encode(long.expose_secret()),
            "5381877f912df8257626c548528eff28829b76d7d528e9590d68c8b17a0086d7\
             0a5e1328d508c25479d8d5e0503c12f3939510b85b358339678c3541f06da33a\
             250d74557a0f89a33b92e097d62ffc2d2e54c0139ee1dd29a7f024d6587e811a\
             e4de7e1e"
        );
        let short = prk
            .expand(&[&h("f0f1f2f3f4f5f6f7f8f9")], 10)
            .expect("expand");
        assert_eq!(short.expose_secret(), &long.expose_secret()[..10]);
    }

    #[test]
    fn output_length_limit() {
        let prk = extract(HkdfHash::Sha256, b"salt", b"ikm");
        assert!(prk.expand(&[], 255 * 32).is_ok());
        assert!(prk.expand(&[], 255 * 32 + 1).is_err());
        assert!(format!("{prk:?}").contains("REDACTED"));
    }
}
