//! Key derivation: HKDF-SHA256 (RFC 5869) from keys, and from
//! passphrases Argon2id (RFC 9106) or, where only FIPS-approved algorithms
//! may be used, PBKDF2-HMAC-SHA256 (aws-lc-rs has no Argon2).

use std::num::NonZeroU32;

use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};

use crate::{Error, Key256};

/// Derives a 256-bit key from `ikm`, `salt` and the concatenation of `info`.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[&[u8]]) -> Result<Key256, Error> {
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let okm = prk.expand(info, HKDF_SHA256)?;
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    okm.fill(&mut out[..])?;
    Key256::from_slice(&out[..])
}

/// Argon2id's cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Degree of parallelism (computed one lane after another here).
    pub lanes: u32,
}

impl Argon2Params {
    /// RFC 9106's second recommended option, for memory-constrained
    /// machines: 64 MiB, 3 passes, 4 lanes (about 0.2 s here).
    pub const RECOMMENDED: Self = Self {
        memory_kib: 64 * 1024,
        iterations: 3,
        lanes: 4,
    };
}

/// Argon2id (version 0x13) of `passphrase` and `salt`: a 256-bit key.
pub fn argon2id(passphrase: &[u8], salt: &[u8], params: Argon2Params) -> Result<Key256, Error> {
    let params = argon2::Params::new(params.memory_kib, params.iterations, params.lanes, Some(32))
        .map_err(|_| Error)?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, &mut out[..])
        .map_err(|_| Error)?;
    Key256::from_slice(&out[..])
}

/// PBKDF2-HMAC-SHA256 of `passphrase` and `salt`: a 256-bit key.
pub fn pbkdf2_sha256(
    passphrase: &[u8],
    salt: &[u8],
    iterations: NonZeroU32,
) -> Result<Key256, Error> {
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        passphrase,
        &mut out[..],
    );
    Key256::from_slice(&out[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7914, section 11: PBKDF2-HMAC-SHA256, P = "passwd", S = "salt",
    // c = 1 (first 32 bytes of the 64 given).
    #[test]
    fn pbkdf2_rfc7914_vector() {
        let key = pbkdf2_sha256(b"passwd", b"salt", NonZeroU32::MIN).expect("pbkdf2");
        assert_eq!(
            hex::encode(key.expose_secret()),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    // The reference implementation's outputs (argon2-cffi 25.1.0, which
    // wraps the RFC 9106 authors' C code), computed with
    // `argon2.low_level.hash_secret_raw(b"password", b"somesalt", …,
    // hash_len=32, type=Type.ID, version=19)`: a small cost, and the
    // recommended one Custos uses.
    #[test]
    fn argon2id_matches_the_reference_implementation() {
        let small = Argon2Params {
            memory_kib: 64,
            iterations: 2,
            lanes: 1,
        };
        for (params, expected) in [
            (
                small,
                "16a1a498734609dd01456da406de9f3d9da93e6c86c300a12fc1465214ce4922",
            ),
            (
                Argon2Params::RECOMMENDED,
                "661fefbd6f29bcbc8f4646abc32a9d7a4645bb5c059537f8a5587f31adbecccd",
            ),
        ] {
            let key = argon2id(b"password", b"somesalt", params).expect("argon2id");
            assert_eq!(hex::encode(key.expose_secret()), expected, "{params:?}");
        }
    }

    // RFC 5869, test case 1 (first 32 bytes of OKM).
    #[test]
    fn rfc5869_case_1() {
        let ikm = [0x0b; 22];
        let salt = hex::decode("000102030405060708090a0b0c").expect("hex");
        let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").expect("hex");
        let key = hkdf_sha256(&ikm, &salt, &[&info[..5], &info[5..]]).expect("hkdf");
        assert_eq!(
            hex::encode(key.expose_secret()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }
}
