//! AES-GCM with 128-, 192- or 256-bit keys, a caller-chosen 96-bit nonce
//! and a 128-bit tag.
//!
//! [`crate::aead`] is the AES-256-only interface Custos uses for its own
//! formats; this module exists for formats defined by others (the AWS
//! Encryption SDK message format allows all three key sizes) and keeps the
//! key schedule in an [`AesGcmKey`] so that a key used for many messages or
//! frames is expanded once and can be shared between threads.
//!
//! Nonces are the caller's responsibility, as in [`crate::aead`].

use std::fmt;

use aws_lc_rs::aead::{AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::{Error, SecretBytes};

/// Length of an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of an AES-GCM tag.
pub const TAG_LEN: usize = 16;

/// An expanded AES-GCM key.
///
/// The raw key bytes are not kept: aws-lc holds only the expanded key
/// schedule, which it wipes when the key is dropped. There is no `Clone`
/// and the `Debug` output shows only the key size.
pub struct AesGcmKey {
    key: LessSafeKey,
    bits: usize,
}

impl AesGcmKey {
    /// A key from 16, 24 or 32 bytes (AES-128, AES-192 or AES-256).
    pub fn new(key: &[u8]) -> Result<Self, Error> {
        let alg = match key.len() {
            16 => &AES_128_GCM,
            24 => &AES_192_GCM,
            32 => &AES_256_GCM,
            _ => return Err(Error),
        };
        Ok(Self {
            key: LessSafeKey::new(UnboundKey::new(alg, key)?),
            bits: key.len() * 8,
        })
    }

    /// The key size in bits: 128, 192 or 256.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Encrypts `plaintext`, appending `ciphertext || tag` to `out`.
    pub fn seal_append(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let start = out.len();
        out.extend_from_slice(plaintext);
        match self.key.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut out[start..],
        ) {
            Ok(tag) => {
                out.extend_from_slice(tag.as_ref());
                Ok(())
            }
            Err(_) => {
                // Never leave plaintext behind in the caller's buffer.
                zeroize::Zeroize::zeroize(&mut out[start..]);
                out.truncate(start);
                Err(Error)
            }
        }
    }

    /// Computes the tag of an empty plaintext under `aad`: GCM used as a MAC.
    pub fn tag_only(&self, nonce: &[u8; NONCE_LEN], aad: &[u8]) -> Result<[u8; TAG_LEN], Error> {
        let tag = self.key.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            &mut [],
        )?;
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypts `ciphertext` with its separate `tag`, appending the plaintext
    /// to `out`. On failure nothing is appended, and the failure says nothing
    /// about which input was wrong.
    pub fn open_append(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if tag.len() != TAG_LEN {
            return Err(Error);
        }
        let start = out.len();
        reserve_wiping(out, ciphertext.len());
        out.resize(start + ciphertext.len(), 0);
        let result = self.key.open_separate_gather(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            ciphertext,
            tag,
            &mut out[start..],
        );
        if result.is_err() {
            // aws-lc may have written unauthenticated plaintext: wipe it.
            zeroize::Zeroize::zeroize(&mut out[start..]);
            out.truncate(start);
            return Err(Error);
        }
        Ok(())
    }

    /// Decrypts `ciphertext || tag` into a new secret.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext_and_tag: &[u8],
    ) -> Result<SecretBytes, Error> {
        let split = ciphertext_and_tag.len().checked_sub(TAG_LEN).ok_or(Error)?;
        let (ciphertext, tag) = ciphertext_and_tag.split_at(split);
        let mut out = SecretBytes::new(Vec::with_capacity(ciphertext.len()));
        self.open_append(nonce, aad, ciphertext, tag, out.expose_secret_mut())?;
        Ok(out)
    }

    /// Checks a tag computed by [`Self::tag_only`].
    pub fn verify_tag(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], tag: &[u8]) -> Result<(), Error> {
        self.open_append(nonce, aad, &[], tag, &mut Vec::new())
    }
}

/// Makes room for `additional` more bytes in `out` without leaving a copy
/// of its contents behind: when `Vec` grows it frees the old allocation
/// unwiped, and `out` may hold earlier plaintext. So grow by hand, wiping the
/// old allocation.
fn reserve_wiping(out: &mut Vec<u8>, additional: usize) {
    if out.capacity() - out.len() >= additional {
        return;
    }
    let wanted = (out.len() + additional).max(out.capacity().saturating_mul(2));
    let mut bigger = Vec::with_capacity(wanted);
    bigger.extend_from_slice(out);
    zeroize::Zeroize::zeroize(out);
    *out = bigger;
}

impl fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesGcmKey(AES-{}, [REDACTED])", self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    fn n(s: &str) -> [u8; NONCE_LEN] {
        h(s).try_into().expect("12 bytes")
    }

    // Known answers from the GCM specification's test cases (McGrew and
    // Viega, "The Galois/Counter Mode of Operation", appendix B: test cases
    // 4, 10 and 16, which share plaintext, AAD and IV and differ in key
    // size), cross-checked with OpenSSL 3.0 through Python `cryptography`.
    const PT: &str = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72\
                      1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
    const AAD: &str = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
    const IV: &str = "cafebabefacedbaddecaf888";

    #[test]
    fn known_answers_for_all_key_sizes() {
        let cases = [
            (
                "feffe9928665731c6d6a8f9467308308",
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e\
                 21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
                "5bc94fbc3221a5db94fae95ae7121a47",
            ),
            (
                "feffe9928665731c6d6a8f9467308308feffe9928665731c",
                "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c\
                 7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
                "2519498e80f1478f37ba55bd6d27618c",
            ),
            (
                "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa\
                 8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
                "76fc6ece0f4e1768cddf8853bb2d551b",
            ),
        ];
        for (key, ct, tag) in cases {
            let key = AesGcmKey::new(&h(key)).expect("key");
            let mut out = Vec::new();
            key.seal_append(&n(IV), &h(AAD), &h(PT), &mut out)
                .expect("seal");
            assert_eq!(
                hex::encode(&out),
                format!("{ct}{tag}"),
                "AES-{}",
                key.bits()
            );
            let back = key.open(&n(IV), &h(AAD), &out).expect("open");
            assert_eq!(back.expose_secret(), &h(PT)[..]);
        }
    }

    // GCM specification test case 13: AES-256, empty plaintext and AAD,
    // zero key and IV: the tag alone.
    #[test]
    fn tag_only_known_answer() {
        let key = AesGcmKey::new(&[0u8; 32]).expect("key");
        let tag = key.tag_only(&[0u8; 12], b"").expect("tag");
        assert_eq!(hex::encode(tag), "530f8afbc74536b9a963b4f1c4cb738b");
        key.verify_tag(&[0u8; 12], b"", &tag).expect("verify");
        let mut bad = tag;
        bad[0] ^= 1;
        assert!(key.verify_tag(&[0u8; 12], b"", &bad).is_err());
        assert!(key.verify_tag(&[0u8; 12], b"x", &tag).is_err());
    }

    #[test]
    fn rejects_bad_key_sizes() {
        for len in [0, 15, 17, 31, 33, 64] {
            assert!(AesGcmKey::new(&vec![0u8; len]).is_err(), "{len}");
        }
    }

    #[test]
    fn any_change_fails_and_leaves_nothing_behind() {
        let key = AesGcmKey::new(&[9u8; 24]).expect("key");
        let nonce = [3u8; 12];
        let mut ct = Vec::new();
        key.seal_append(&nonce, b"aad", b"secret", &mut ct)
            .expect("seal");
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x80;
            let mut out = b"kept".to_vec();
            let (c, t) = bad.split_at(bad.len() - TAG_LEN);
            assert!(key.open_append(&nonce, b"aad", c, t, &mut out).is_err());
            assert_eq!(out, b"kept", "byte {i}");
        }
        assert!(key.open(&nonce, b"aad", &ct[..TAG_LEN - 1]).is_err());
        assert!(key.open(&[4u8; 12], b"aad", &ct).is_err());
    }

    #[test]
    fn growing_the_output_keeps_earlier_plaintext() {
        let key = AesGcmKey::new(&[2u8; 32]).expect("key");
        let mut ct = Vec::new();
        key.seal_append(&[0; 12], b"", &[7u8; 1000], &mut ct)
            .expect("seal");
        let mut out = b"earlier".to_vec();
        out.shrink_to_fit();
        let (c, t) = ct.split_at(ct.len() - TAG_LEN);
        key.open_append(&[0; 12], b"", c, t, &mut out)
            .expect("open");
        assert_eq!(&out[..7], b"earlier");
        assert_eq!(&out[7..], &[7u8; 1000][..]);
    }

    #[test]
    fn debug_is_redacted() {
        let key = AesGcmKey::new(&[0x41; 16]).expect("key");
        assert_eq!(format!("{key:?}"), "AesGcmKey(AES-128, [REDACTED])");
    }
}
