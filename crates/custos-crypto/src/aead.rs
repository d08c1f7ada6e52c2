//! AES-256-GCM.
//!
//! Nonces are the caller's responsibility: every caller in Custos either
//! draws a random 96-bit nonce under a key that protects few messages (the
//! sealing key) or derives a fresh key per message (ciphertext blobs), so a
//! nonce is never reused under one key.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::{Error, Key256, SecretBytes};

/// Length of an AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of an AES-GCM tag.
pub const TAG_LEN: usize = 16;

fn aes_key(key: &Key256) -> Result<LessSafeKey, Error> {
    Ok(LessSafeKey::new(UnboundKey::new(
        &AES_256_GCM,
        key.expose_secret(),
    )?))
}

/// Encrypts `plaintext`, appending `ciphertext || tag` to `out`.
pub fn seal_append(
    key: &Key256,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let key = aes_key(key)?;
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = key.seal_in_place_separate_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut out[start..],
    );
    match tag {
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

/// Encrypts `plaintext` and returns `ciphertext || tag`.
pub fn seal(
    key: &Key256,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(plaintext.len() + TAG_LEN);
    seal_append(key, nonce, aad, plaintext, &mut out)?;
    Ok(out)
}

/// Decrypts `ciphertext || tag`. Fails, without saying why, if anything —
/// key, nonce, associated data, ciphertext or tag — differs from sealing.
pub fn open(
    key: &Key256,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<SecretBytes, Error> {
    if ciphertext_and_tag.len() < TAG_LEN {
        return Err(Error);
    }
    let key = aes_key(key)?;
    let mut buf = SecretBytes::from_slice(ciphertext_and_tag);
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            buf.expose_secret_mut(),
        )?
        .len();
    buf.expose_secret_mut().truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    // NIST GCM test vector (gcmEncryptExtIV256.rsp, Count = 0 with a 128-bit
    // plaintext and 128-bit AAD), cross-checked with OpenSSL.
    #[test]
    fn known_answer() {
        let key = Key256::from_slice(
            &hex::decode("92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b")
                .expect("hex"),
        )
        .expect("32 bytes");
        let nonce: [u8; 12] = hex::decode("ac93a1a6145299bde902f21a")
            .expect("hex")
            .try_into()
            .expect("12 bytes");
        let aad = hex::decode("1e0889016f67601c8ebea4943bc23ad6").expect("hex");
        let pt = hex::decode("2d71bcfa914e4ac045b2aa60955fad24").expect("hex");
        let ct = seal(&key, &nonce, &aad, &pt).expect("seal");
        assert_eq!(
            hex::encode(&ct),
            "8995ae2e6df3dbf96fac7b7137bae67feca5aa77d51d4a0a14d9c51e1da474ab"
        );
        let back = open(&key, &nonce, &aad, &ct).expect("open");
        assert_eq!(back.expose_secret(), &pt[..]);
    }

    #[test]
    fn any_change_fails() {
        let key = Key256::generate().expect("rng");
        let nonce = [7u8; 12];
        let ct = seal(&key, &nonce, b"aad", b"secret").expect("seal");
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            assert!(open(&key, &nonce, b"aad", &bad).is_err(), "byte {i}");
        }
        assert!(open(&key, &nonce, b"aae", &ct).is_err());
        assert!(open(&key, &[8u8; 12], b"aad", &ct).is_err());
        assert!(open(&key, &nonce, b"aad", &ct[..ct.len() - 1]).is_err());
        assert!(open(&key, &nonce, b"aad", &ct[..3]).is_err());
        let other = Key256::generate().expect("rng");
        assert!(open(&other, &nonce, b"aad", &ct).is_err());
    }
}
