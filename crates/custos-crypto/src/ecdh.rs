//! Elliptic-curve Diffie-Hellman over P-256, P-384 and P-521 (NIST SP
//! 800-56A rev. 3 section 5.7.1.2, the cofactor primitive; the cofactor of
//! these curves is 1): the raw shared secret is the x-coordinate of the
//! product, as long as the field, exactly what `openssl pkeyutl -derive`
//! prints. No key derivation is applied: that is the caller's business, as
//! it is with AWS KMS `DeriveSharedSecret`.
//!
//! The peer's public key must be a DER `SubjectPublicKeyInfo` naming the
//! same curve (explicit curve parameters are refused); aws-lc checks that
//! its point is on the curve and not the point at infinity.

use std::fmt;

use aws_lc_rs::agreement::{
    self, ECDH_P256, ECDH_P384, ECDH_P521, ParsedPublicKeyFormat, PrivateKey, UnparsedPublicKey,
};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};

use crate::{Error, SecretBytes};

/// A curve for key agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdhCurve {
    P256,
    P384,
    P521,
}

impl EcdhCurve {
    fn algorithm(self) -> &'static agreement::Algorithm {
        match self {
            Self::P256 => &ECDH_P256,
            Self::P384 => &ECDH_P384,
            Self::P521 => &ECDH_P521,
        }
    }

    /// The `AlgorithmIdentifier` contents of a public key on this curve:
    /// `id-ecPublicKey` with the curve named (RFC 5480). Explicit curve
    /// parameters are refused.
    fn algorithm_identifier(self) -> &'static [u8] {
        match self {
            Self::P256 => &[
                0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                0xce, 0x3d, 0x03, 0x01, 0x07,
            ],
            Self::P384 => &[
                0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
                0x00, 0x22,
            ],
            Self::P521 => &[
                0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04,
                0x00, 0x23,
            ],
        }
    }

    /// Length of the shared secret (the field size) in bytes.
    pub fn secret_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }
}

/// An ECDH private key. aws-lc holds the scalar and wipes it on drop; no
/// `Clone`, and `Debug` shows only the curve.
pub struct EcdhPrivateKey {
    key: PrivateKey,
    curve: EcdhCurve,
}

impl EcdhPrivateKey {
    /// A fresh key from the system CSPRNG.
    pub fn generate(curve: EcdhCurve) -> Result<Self, Error> {
        Ok(Self {
            key: PrivateKey::generate(curve.algorithm())?,
            curve,
        })
    }

    /// A key from its PKCS #8 `PrivateKeyInfo` DER (what
    /// [`Self::to_pkcs8`] returns).
    pub fn from_pkcs8(curve: EcdhCurve, der: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            key: PrivateKey::from_private_key_der(curve.algorithm(), der).map_err(|_| Error)?,
            curve,
        })
    }

    /// A key from its private scalar, big-endian, exactly as long as the
    /// field (as test vectors give it).
    pub fn from_scalar(curve: EcdhCurve, scalar: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            key: PrivateKey::from_private_key(curve.algorithm(), scalar).map_err(|_| Error)?,
            curve,
        })
    }

    pub fn curve(&self) -> EcdhCurve {
        self.curve
    }

    /// The private key as PKCS #8 v1 `PrivateKeyInfo` DER.
    pub fn to_pkcs8(&self) -> Result<SecretBytes, Error> {
        let der: Pkcs8V1Der<'static> = self.key.as_der()?;
        Ok(SecretBytes::from_slice(der.as_ref()))
    }

    /// The public key as DER `SubjectPublicKeyInfo` (uncompressed point).
    pub fn public_key_der(&self) -> Result<Vec<u8>, Error> {
        let der: PublicKeyX509Der<'static> = self.key.compute_public_key()?.as_der()?;
        Ok(der.as_ref().to_vec())
    }

    /// The raw shared secret with the holder of `peer_spki`, a DER
    /// `SubjectPublicKeyInfo` on this key's curve. Says nothing about why
    /// a peer key is refused.
    pub fn agree(&self, peer_spki: &[u8]) -> Result<SecretBytes, Error> {
        if crate::der::spki_algorithm(peer_spki)? != self.curve.algorithm_identifier() {
            return Err(Error);
        }
        let parsed: agreement::ParsedPublicKey =
            UnparsedPublicKey::new(self.curve.algorithm(), peer_spki)
                .try_into()
                .map_err(|_| Error)?;
        if parsed.format() != ParsedPublicKeyFormat::X509 {
            return Err(Error);
        }
        agreement::agree(&self.key, parsed, Error, |secret| {
            Ok(SecretBytes::from_slice(secret))
        })
    }
}

impl fmt::Debug for EcdhPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EcdhPrivateKey({:?}, [REDACTED])", self.curve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_and_other_curves_are_refused() {
        for curve in [EcdhCurve::P256, EcdhCurve::P384, EcdhCurve::P521] {
            let a = EcdhPrivateKey::generate(curve).expect("a");
            let b = EcdhPrivateKey::generate(curve).expect("b");
            let ab = a.agree(&b.public_key_der().expect("der")).expect("ab");
            let ba = b.agree(&a.public_key_der().expect("der")).expect("ba");
            assert_eq!(ab.expose_secret(), ba.expose_secret());
            assert_eq!(ab.len(), curve.secret_len());
            let stored = a.to_pkcs8().expect("pkcs8");
            let again = EcdhPrivateKey::from_pkcs8(curve, stored.expose_secret()).expect("load");
            assert_eq!(
                again.public_key_der().expect("der"),
                a.public_key_der().expect("der")
            );
        }
        let p256 = EcdhPrivateKey::generate(EcdhCurve::P256).expect("p256");
        let p384 = EcdhPrivateKey::generate(EcdhCurve::P384).expect("p384");
        assert!(p256.agree(&p384.public_key_der().expect("der")).is_err());
        assert!(p256.agree(b"not der").is_err());
        assert_eq!(
            format!("{p256:?}"),
            "EcdhPrivateKey(P256, [REDACTED])".to_string()
        );
    }
}
