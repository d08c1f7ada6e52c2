//! HKDF-SHA256 (RFC 5869).

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

#[cfg(test)]
mod tests {
    use super::*;

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
