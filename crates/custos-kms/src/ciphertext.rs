//! The ciphertext blob of symmetric keys (format version 1).
//!
//! ```text
//! offset  len  field
//!      0    1  format version, 0x01
//!      1   16  key id (UUID bytes)
//!     17    4  key-material version, big-endian
//!     21   16  salt, random
//!     37   12  nonce, random
//!     49    n  AES-256-GCM ciphertext
//!   49+n   16  AES-256-GCM tag
//! ```
//!
//! The data are encrypted under a key derived for this blob alone,
//! `HKDF-SHA256(ikm = key material, salt = salt, info = "custos.ciphertext.v1" || bytes 0..21)`,
//! so that a KMS key can protect any number of messages without
//! approaching the 2^32 random-nonce limit of AES-GCM. The associated data
//! are bytes 0..49 followed by the canonical encryption context: changing
//! any header byte, the context, the ciphertext or the tag makes decryption
//! fail. See `docs/ciphertext-format.md`.

use custos_crypto::{Key256, SecretBytes, aead, kdf};

use crate::context::EncryptionContext;
use crate::names::KeyUuid;

pub const FORMAT_V1: u8 = 0x01;
const SALT_LEN: usize = 16;
pub const HEADER_LEN: usize = 1 + 16 + 4 + SALT_LEN + aead::NONCE_LEN;
/// Bytes a blob adds to its plaintext.
pub const OVERHEAD: usize = HEADER_LEN + aead::TAG_LEN;
const KDF_LABEL: &[u8] = b"custos.ciphertext.v1";

/// What the header of a blob says, before anything is decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key_id: KeyUuid,
    pub material_version: u32,
}

/// Why a blob could not be decrypted. Deliberately without detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidCiphertext;

/// Reads the header of `blob`; says nothing about whether it decrypts.
pub fn parse_header(blob: &[u8]) -> Result<Header, InvalidCiphertext> {
    if blob.len() < OVERHEAD || blob[0] != FORMAT_V1 {
        return Err(InvalidCiphertext);
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&blob[1..17]);
    let mut version = [0u8; 4];
    version.copy_from_slice(&blob[17..21]);
    Ok(Header {
        key_id: KeyUuid::from_bytes(id),
        material_version: u32::from_be_bytes(version),
    })
}

fn derive(material: &Key256, header: &[u8]) -> Result<Key256, custos_crypto::Error> {
    kdf::hkdf_sha256(
        material.expose_secret(),
        &header[21..21 + SALT_LEN],
        &[KDF_LABEL, &header[..21]],
    )
}

/// Encrypts `plaintext` under version `material_version` of key `key_id`.
pub fn encrypt(
    material: &Key256,
    key_id: &KeyUuid,
    material_version: u32,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, custos_crypto::Error> {
    let mut blob = Vec::with_capacity(OVERHEAD + plaintext.len());
    blob.push(FORMAT_V1);
    blob.extend_from_slice(key_id.as_bytes());
    blob.extend_from_slice(&material_version.to_be_bytes());
    let random: [u8; SALT_LEN + aead::NONCE_LEN] = custos_crypto::rand::array()?;
    blob.extend_from_slice(&random);
    let key = derive(material, &blob)?;
    let mut nonce = [0u8; aead::NONCE_LEN];
    nonce.copy_from_slice(&random[SALT_LEN..]);
    let mut aad = Vec::with_capacity(HEADER_LEN + 64);
    aad.extend_from_slice(&blob);
    context.encode_into(&mut aad);
    aead::seal_append(&key, &nonce, &aad, plaintext, &mut blob)?;
    Ok(blob)
}

/// Decrypts a blob whose header was read with [`parse_header`], with the
/// material that header names.
pub fn decrypt(
    material: &Key256,
    context: &EncryptionContext,
    blob: &[u8],
) -> Result<SecretBytes, InvalidCiphertext> {
    parse_header(blob)?;
    let (header, body) = blob.split_at(HEADER_LEN);
    let key = derive(material, header).map_err(|_| InvalidCiphertext)?;
    let mut nonce = [0u8; aead::NONCE_LEN];
    nonce.copy_from_slice(&header[21 + SALT_LEN..]);
    let mut aad = Vec::with_capacity(HEADER_LEN + 64);
    aad.extend_from_slice(header);
    context.encode_into(&mut aad);
    aead::open(&key, &nonce, &aad, body).map_err(|_| InvalidCiphertext)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        EncryptionContext::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn round_trip_and_header() {
        let material = Key256::generate().expect("rng");
        let id = KeyUuid::generate().expect("rng");
        let c = ctx(&[("purpose", "test")]);
        let blob = encrypt(&material, &id, 7, &c, b"hello").expect("encrypt");
        assert_eq!(blob.len(), OVERHEAD + 5);
        assert_eq!(
            parse_header(&blob),
            Ok(Header {
                key_id: id,
                material_version: 7
            })
        );
        let pt = decrypt(&material, &c, &blob).expect("decrypt");
        assert_eq!(pt.expose_secret(), b"hello");
    }

    #[test]
    fn every_flipped_bit_and_any_other_context_fails() {
        let material = Key256::generate().expect("rng");
        let id = KeyUuid::generate().expect("rng");
        let c = ctx(&[("a", "1")]);
        let blob = encrypt(&material, &id, 1, &c, b"data").expect("encrypt");
        for i in 0..blob.len() {
            for bit in 0..8 {
                let mut bad = blob.clone();
                bad[i] ^= 1 << bit;
                assert!(decrypt(&material, &c, &bad).is_err(), "byte {i} bit {bit}");
            }
        }
        for other in [ctx(&[]), ctx(&[("a", "2")]), ctx(&[("a", "1"), ("b", "")])] {
            assert!(decrypt(&material, &other, &blob).is_err());
        }
        for len in 0..blob.len() {
            assert!(decrypt(&material, &c, &blob[..len]).is_err(), "len {len}");
        }
        let other = Key256::generate().expect("rng");
        assert!(decrypt(&other, &c, &blob).is_err());
    }

    #[test]
    fn same_plaintext_encrypts_differently() {
        let material = Key256::generate().expect("rng");
        let id = KeyUuid::generate().expect("rng");
        let a = encrypt(&material, &id, 1, &ctx(&[]), b"x").expect("encrypt");
        let b = encrypt(&material, &id, 1, &ctx(&[]), b"x").expect("encrypt");
        assert_ne!(a, b);
    }

    // A blob written by format version 1, kept so that any future change of
    // format or derivation that breaks old ciphertexts fails here.
    #[test]
    fn decrypts_a_v1_blob_from_disk() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/ciphertext-v1.json"))
                .expect("fixture");
        let hex = |k: &str| {
            let s = fixture[k].as_str().expect("string");
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
                .collect::<Vec<u8>>()
        };
        let material = Key256::from_slice(&hex("material")).expect("32 bytes");
        let blob = hex("blob");
        let pt = decrypt(&material, &ctx(&[("purpose", "fixture")]), &blob).expect("decrypt");
        assert_eq!(pt.expose_secret(), b"written by custos format v1");
    }
}
