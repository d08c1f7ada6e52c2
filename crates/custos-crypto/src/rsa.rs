//! RSA encryption for key wrapping: OAEP with SHA-1, SHA-256, SHA-384 or
//! SHA-512 (MGF1 with the same hash, empty label) and PKCS #1 v1.5.
//!
//! Keys are read from DER or PEM: public keys as X.509
//! `SubjectPublicKeyInfo` (`-----BEGIN PUBLIC KEY-----`), private keys as
//! PKCS #8 `PrivateKeyInfo` (`-----BEGIN PRIVATE KEY-----`). aws-lc accepts
//! moduli from 2048 to 8192 bits.
//!
//! PKCS #1 v1.5 is here because formats defined by others allow it; its
//! decryption is the classic padding oracle (Bleichenbacher), so callers
//! must never reveal *why* an unwrap failed, and new keys should use OAEP.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
    OAEP_SHA512_MGF1SHA512, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    Pkcs1PrivateDecryptingKey, Pkcs1PublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::{Error, SecretBytes};

/// An RSA encryption padding scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    /// PKCS #1 v1.5 (RFC 8017 section 7.2). Legacy.
    Pkcs1v15,
    /// OAEP with SHA-1 and MGF1 with SHA-1.
    OaepSha1,
    /// OAEP with SHA-256 and MGF1 with SHA-256.
    OaepSha256,
    /// OAEP with SHA-384 and MGF1 with SHA-384.
    OaepSha384,
    /// OAEP with SHA-512 and MGF1 with SHA-512.
    OaepSha512,
}

impl RsaPadding {
    fn oaep(self) -> Option<&'static OaepAlgorithm> {
        match self {
            Self::Pkcs1v15 => None,
            Self::OaepSha1 => Some(&OAEP_SHA1_MGF1SHA1),
            Self::OaepSha256 => Some(&OAEP_SHA256_MGF1SHA256),
            Self::OaepSha384 => Some(&OAEP_SHA384_MGF1SHA384),
            Self::OaepSha512 => Some(&OAEP_SHA512_MGF1SHA512),
        }
    }
}

/// An RSA public key for encryption.
#[derive(Clone)]
pub struct RsaPublicKey(PublicEncryptingKey);

impl RsaPublicKey {
    /// From a DER X.509 `SubjectPublicKeyInfo`.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        Ok(Self(PublicEncryptingKey::from_der(der).map_err(|_| Error)?))
    }

    /// From a PEM `PUBLIC KEY` block.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        Self::from_der(&pem_decode(pem, "PUBLIC KEY")?)
    }

    /// The DER X.509 `SubjectPublicKeyInfo`.
    pub fn to_der(&self) -> Result<Vec<u8>, Error> {
        let der: PublicKeyX509Der<'static> = self.0.as_der()?;
        Ok(der.as_ref().to_vec())
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.key_size_bits()
    }

    /// Encrypts a short secret (a data key) under this key.
    pub fn encrypt(&self, padding: RsaPadding, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        match padding.oaep() {
            Some(alg) => {
                let key = OaepPublicEncryptingKey::new(self.0.clone())?;
                let mut out = vec![0u8; key.ciphertext_size()];
                let len = key.encrypt(alg, plaintext, &mut out, None)?.len();
                out.truncate(len);
                Ok(out)
            }
            None => {
                let key = Pkcs1PublicEncryptingKey::new(self.0.clone())?;
                let mut out = vec![0u8; key.ciphertext_size()];
                let len = key.encrypt(plaintext, &mut out)?.len();
                out.truncate(len);
                Ok(out)
            }
        }
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bits)", self.bits())
    }
}

/// An RSA private key for decryption. aws-lc holds the key and wipes it
/// when freed; there is no `Clone` and `Debug` shows only the size.
pub struct RsaPrivateKey(PrivateDecryptingKey);

impl RsaPrivateKey {
    /// A fresh key of 2048, 3072, 4096 or 8192 bits.
    pub fn generate(bits: usize) -> Result<Self, Error> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            8192 => KeySize::Rsa8192,
            _ => return Err(Error),
        };
        Ok(Self(PrivateDecryptingKey::generate(size)?))
    }

    /// From a DER PKCS #8 `PrivateKeyInfo`.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        Ok(Self(
            PrivateDecryptingKey::from_pkcs8(der).map_err(|_| Error)?,
        ))
    }

    /// From a PEM `PRIVATE KEY` (PKCS #8) block. The decoded DER is wiped
    /// once parsed.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        Self::from_pkcs8_der(&pem_decode(pem, "PRIVATE KEY")?)
    }

    /// The DER PKCS #8 `PrivateKeyInfo`.
    pub fn to_pkcs8_der(&self) -> Result<SecretBytes, Error> {
        let der: Pkcs8V1Der<'static> = self.0.as_der()?;
        Ok(SecretBytes::from_slice(der.as_ref()))
    }

    /// The matching public key.
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey(self.0.public_key())
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.key_size_bits()
    }

    /// Decrypts a wrapped secret. Fails without saying why.
    pub fn decrypt(&self, padding: RsaPadding, ciphertext: &[u8]) -> Result<SecretBytes, Error> {
        // Each operation takes its own handle on the key (a reference
        // count in aws-lc, not a copy of the key).
        let mut out = SecretBytes::new(Vec::new());
        let len = match padding.oaep() {
            Some(alg) => {
                let key = OaepPrivateDecryptingKey::new(self.0.clone())?;
                out.expose_secret_mut().resize(key.min_output_size(), 0);
                key.decrypt(alg, ciphertext, out.expose_secret_mut(), None)?
                    .len()
            }
            None => {
                let key = Pkcs1PrivateDecryptingKey::new(self.0.clone())?;
                out.expose_secret_mut().resize(key.min_output_size(), 0);
                key.decrypt(ciphertext, out.expose_secret_mut())?.len()
            }
        };
        out.expose_secret_mut().truncate(len);
        Ok(out)
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPrivateKey({} bits, [REDACTED])", self.bits())
    }
}

/// The DER inside the first `-----BEGIN {label}-----` block of `pem`.
/// Text around the block is ignored; a missing block, a different label or
/// bad base64 is an error. The result is wiped on drop, as private keys pass
/// through here.
fn pem_decode(pem: &str, label: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin).ok_or(Error)? + begin.len();
    let stop = start + pem[start..].find(&end).ok_or(Error)?;
    let body: Zeroizing<String> = Zeroizing::new(
        pem[start..stop]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect(),
    );
    let der = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|_| Error)?;
    Ok(Zeroizing::new(der))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [RsaPadding; 5] = [
        RsaPadding::Pkcs1v15,
        RsaPadding::OaepSha1,
        RsaPadding::OaepSha256,
        RsaPadding::OaepSha384,
        RsaPadding::OaepSha512,
    ];

    fn pem(label: &str, der: &[u8]) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let mut out = format!("-----BEGIN {label}-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).expect("ascii"));
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
        out
    }

    #[test]
    fn round_trip_every_padding_through_pem() {
        let private = RsaPrivateKey::generate(2048).expect("generate");
        let private_pem = pem(
            "PRIVATE KEY",
            private.to_pkcs8_der().expect("der").expose_secret(),
        );
        let public_pem = pem("PUBLIC KEY", &private.public_key().to_der().expect("der"));
        let private = RsaPrivateKey::from_pem(&format!("comment\n{private_pem}")).expect("pem");
        let public = RsaPublicKey::from_pem(&public_pem).expect("pem");
        assert_eq!(public.bits(), 2048);
        let secret = [0x5au8; 32];
        for padding in ALL {
            let wrapped = public.encrypt(padding, &secret).expect("encrypt");
            assert_eq!(wrapped.len(), 256);
            let back = private.decrypt(padding, &wrapped).expect("decrypt");
            assert_eq!(back.expose_secret(), &secret, "{padding:?}");
            // Randomised: two wrappings differ.
            assert_ne!(wrapped, public.encrypt(padding, &secret).expect("encrypt"));
            // Another padding, or a flipped bit, does not unwrap.
            for other in ALL.into_iter().filter(|p| *p != padding) {
                let wrong = private.decrypt(other, &wrapped);
                assert!(
                    wrong.is_err() || wrong.expect("checked").expose_secret() != secret,
                    "{padding:?} opened as {other:?}"
                );
            }
            let mut bad = wrapped.clone();
            bad[100] ^= 1;
            assert!(private.decrypt(padding, &bad).is_err(), "{padding:?}");
        }
    }

    // Known answers made by OpenSSL 3.0 under a throwaway key: see
    // tests/data/rsa/SOURCE.md.
    #[test]
    fn decrypts_openssl_ciphertexts() {
        let private = RsaPrivateKey::from_pem(include_str!("../tests/data/rsa/private.pem"))
            .expect("private key");
        let public = RsaPublicKey::from_pem(include_str!("../tests/data/rsa/public.pem"))
            .expect("public key");
        assert_eq!(
            public.to_der().expect("der"),
            private.public_key().to_der().expect("der")
        );
        let cases = [
            (
                RsaPadding::Pkcs1v15,
                include_str!("../tests/data/rsa/pkcs1.hex"),
            ),
            (
                RsaPadding::OaepSha1,
                include_str!("../tests/data/rsa/oaep-sha1.hex"),
            ),
            (
                RsaPadding::OaepSha256,
                include_str!("../tests/data/rsa/oaep-sha256.hex"),
            ),
            (
                RsaPadding::OaepSha384,
                include_str!("../tests/data/rsa/oaep-sha384.hex"),
            ),
            (
                RsaPadding::OaepSha512,
                include_str!("../tests/data/rsa/oaep-sha512.hex"),
            ),
        ];
        for (padding, ct) in cases {
            let ct = hex::decode(ct.trim()).expect("hex");
            let pt = private.decrypt(padding, &ct).expect("decrypt");
            assert_eq!(
                pt.expose_secret(),
                b"custos rsa known answer, 32 byte",
                "{padding:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_pem_and_keys() {
        assert!(RsaPublicKey::from_pem("").is_err());
        assert!(
            RsaPublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----")
                .is_err()
        );
        assert!(
            RsaPrivateKey::from_pem(
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"
            )
            .is_err()
        );
        assert!(RsaPublicKey::from_der(b"not der").is_err());
        assert!(RsaPrivateKey::from_pkcs8_der(b"not der").is_err());
        assert!(RsaPrivateKey::generate(1024).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let key = RsaPrivateKey::generate(2048).expect("generate");
        assert_eq!(format!("{key:?}"), "RsaPrivateKey(2048 bits, [REDACTED])");
        assert_eq!(format!("{:?}", key.public_key()), "RsaPublicKey(2048 bits)");
    }
}
