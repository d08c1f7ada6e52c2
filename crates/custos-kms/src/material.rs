//! Key material of every key spec: what a new key gets, the bytes that are
//! sealed, and the crypto-layer key those bytes load back into.
//!
//! # Sealed formats
//!
//! | format | key specs | sealed plaintext | associated data label |
//! |---|---|---|---|
//! | 1 | `SYMMETRIC_DEFAULT` | the 32-byte key | `custos.key-material.v1` |
//! | 2 | every other spec | `0x02` ‖ the private key bytes below | `custos.key-material.v2` |
//!
//! Format 1 is what Custos wrote before asymmetric keys existed and is
//! unchanged. Format 2 also binds the key spec and usage in the associated
//! data (see `keys::material_aad_v2`), so material can never be read as
//! another kind of key. The private key bytes of format 2:
//!
//! | spec | usage | bytes |
//! |---|---|---|
//! | `RSA_*` | any | PKCS #8 `PrivateKeyInfo` DER |
//! | `ECC_NIST_*`, `ECC_SECG_P256K1` | any | PKCS #8 `PrivateKeyInfo` DER |
//! | `ECC_NIST_EDWARDS25519` | `SIGN_VERIFY` | the 32-byte seed |
//! | `ML_DSA_*` | `SIGN_VERIFY` | the 32-byte seed ξ |
//! | `ML_KEM_*` | `ENCAPSULATE_DECAPSULATE` | the 64-byte seed `d ‖ z` |
//! | `HMAC_*` | `GENERATE_VERIFY_MAC` | the HMAC key (28, 32, 48 or 64 bytes) |

use custos_crypto::ecdh::{EcdhCurve, EcdhPrivateKey};
use custos_crypto::kem::{MlKem, MlKemPrivateKey};
use custos_crypto::mac::HmacAlgorithm;
use custos_crypto::rsa::RsaPrivateKey;
use custos_crypto::sign::{SigningKey, SigningKeyKind};
use custos_crypto::{Key256, SecretBytes};

use crate::KmsError;
use crate::model::{DataKeyPairSpec, KeySpec, KeyUsage};

/// The leading byte of format-2 material.
pub(crate) const FORMAT_V2: u8 = 2;

/// The unsealed material of one key version.
pub(crate) enum Material {
    Symmetric(Key256),
    Hmac(HmacAlgorithm, SecretBytes),
    Signing(SigningKey),
    RsaDecrypting(RsaPrivateKey),
    Ecdh(EcdhPrivateKey),
    MlKem(MlKemPrivateKey),
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Material([REDACTED])")
    }
}

/// The crypto-layer signing kind of a key spec.
pub(crate) fn signing_kind(spec: KeySpec) -> Option<SigningKeyKind> {
    Some(match spec {
        KeySpec::Rsa2048 => SigningKeyKind::Rsa2048,
        KeySpec::Rsa3072 => SigningKeyKind::Rsa3072,
        KeySpec::Rsa4096 => SigningKeyKind::Rsa4096,
        KeySpec::EccNistP256 => SigningKeyKind::EcdsaP256,
        KeySpec::EccNistP384 => SigningKeyKind::EcdsaP384,
        KeySpec::EccNistP521 => SigningKeyKind::EcdsaP521,
        KeySpec::EccSecgP256k1 => SigningKeyKind::EcdsaSecp256k1,
        KeySpec::EccNistEdwards25519 => SigningKeyKind::Ed25519,
        KeySpec::MlDsa44 => SigningKeyKind::MlDsa44,
        KeySpec::MlDsa65 => SigningKeyKind::MlDsa65,
        KeySpec::MlDsa87 => SigningKeyKind::MlDsa87,
        _ => return None,
    })
}

pub(crate) fn ecdh_curve(spec: KeySpec) -> Option<EcdhCurve> {
    match spec {
        KeySpec::EccNistP256 => Some(EcdhCurve::P256),
        KeySpec::EccNistP384 => Some(EcdhCurve::P384),
        KeySpec::EccNistP521 => Some(EcdhCurve::P521),
        _ => None,
    }
}

pub(crate) fn ml_kem(spec: KeySpec) -> Option<MlKem> {
    match spec {
        KeySpec::MlKem512 => Some(MlKem::MlKem512),
        KeySpec::MlKem768 => Some(MlKem::MlKem768),
        KeySpec::MlKem1024 => Some(MlKem::MlKem1024),
        _ => None,
    }
}

pub(crate) fn hmac_algorithm(spec: KeySpec) -> Option<HmacAlgorithm> {
    match spec {
        KeySpec::Hmac224 => Some(HmacAlgorithm::Sha224),
        KeySpec::Hmac256 => Some(HmacAlgorithm::Sha256),
        KeySpec::Hmac384 => Some(HmacAlgorithm::Sha384),
        KeySpec::Hmac512 => Some(HmacAlgorithm::Sha512),
        _ => None,
    }
}

pub(crate) fn rsa_bits(spec: KeySpec) -> Option<usize> {
    match spec {
        KeySpec::Rsa2048 => Some(2048),
        KeySpec::Rsa3072 => Some(3072),
        KeySpec::Rsa4096 => Some(4096),
        _ => None,
    }
}

fn unsupported(spec: KeySpec) -> KmsError {
    KmsError::Corrupt {
        what: format!("key spec {}", spec.as_str()),
    }
}

impl Material {
    /// Fresh material for a new key of `spec` and `usage` (a combination
    /// `CreateKey` accepted).
    pub(crate) fn generate(spec: KeySpec, usage: KeyUsage) -> Result<Self, KmsError> {
        if spec == KeySpec::SymmetricDefault {
            return Ok(Self::Symmetric(Key256::generate()?));
        }
        if let Some(alg) = hmac_algorithm(spec) {
            // As long as the hash's output: HMAC_224 keys are 224 bits.
            let mut key = SecretBytes::new(vec![0u8; alg.tag_len()]);
            custos_crypto::rand::fill(key.expose_secret_mut())?;
            return Ok(Self::Hmac(alg, key));
        }
        match (usage, rsa_bits(spec), ecdh_curve(spec), ml_kem(spec)) {
            (KeyUsage::EncryptDecrypt, Some(bits), _, _) => {
                Ok(Self::RsaDecrypting(RsaPrivateKey::generate(bits)?))
            }
            (KeyUsage::KeyAgreement, _, Some(curve), _) => {
                Ok(Self::Ecdh(EcdhPrivateKey::generate(curve)?))
            }
            (KeyUsage::EncapsulateDecapsulate, _, _, Some(level)) => {
                Ok(Self::MlKem(MlKemPrivateKey::generate(level)?))
            }
            (KeyUsage::SignVerify, ..) => Ok(Self::Signing(SigningKey::generate(
                signing_kind(spec).ok_or_else(|| unsupported(spec))?,
            )?)),
            _ => Err(unsupported(spec)),
        }
    }

    /// The sealed plaintext: format 1 for symmetric keys, format 2 for all
    /// others (see the module documentation).
    pub(crate) fn encode(&self) -> Result<SecretBytes, KmsError> {
        let private = match self {
            Self::Symmetric(key) => return Ok(SecretBytes::from_slice(key.expose_secret())),
            Self::Hmac(_, key) => key.duplicate(),
            Self::Signing(key) => key.private_bytes()?,
            Self::RsaDecrypting(key) => key.to_pkcs8_der()?,
            Self::Ecdh(key) => key.to_pkcs8()?,
            Self::MlKem(key) => key.seed(),
        };
        let mut out = SecretBytes::new(Vec::with_capacity(1 + private.len()));
        out.expose_secret_mut().push(FORMAT_V2);
        out.expose_secret_mut()
            .extend_from_slice(private.expose_secret());
        Ok(out)
    }

    /// Loads what [`Self::encode`] wrote for a key of `spec` and `usage`.
    pub(crate) fn decode(spec: KeySpec, usage: KeyUsage, bytes: &[u8]) -> Result<Self, KmsError> {
        let corrupt = || KmsError::Corrupt {
            what: "key material".into(),
        };
        if spec == KeySpec::SymmetricDefault {
            return Ok(Self::Symmetric(
                Key256::from_slice(bytes).map_err(|_| corrupt())?,
            ));
        }
        let private = match bytes.split_first() {
            Some((&FORMAT_V2, rest)) => rest,
            _ => return Err(corrupt()),
        };
        if let Some(alg) = hmac_algorithm(spec) {
            return Ok(Self::Hmac(alg, SecretBytes::from_slice(private)));
        }
        let loaded = match (usage, rsa_bits(spec), ecdh_curve(spec), ml_kem(spec)) {
            (KeyUsage::EncryptDecrypt, Some(_), _, _) => {
                RsaPrivateKey::from_pkcs8_der(private).map(Self::RsaDecrypting)
            }
            (KeyUsage::KeyAgreement, _, Some(curve), _) => {
                EcdhPrivateKey::from_pkcs8(curve, private).map(Self::Ecdh)
            }
            (KeyUsage::EncapsulateDecapsulate, _, _, Some(level)) => {
                MlKemPrivateKey::from_seed(level, private).map(Self::MlKem)
            }
            (KeyUsage::SignVerify, ..) => {
                let kind = signing_kind(spec).ok_or_else(corrupt)?;
                SigningKey::from_private_bytes(kind, private).map(Self::Signing)
            }
            _ => return Err(corrupt()),
        };
        loaded.map_err(|_| corrupt())
    }

    /// The public key, DER `SubjectPublicKeyInfo`, of asymmetric material.
    pub(crate) fn public_key_der(&self) -> Result<Option<Vec<u8>>, KmsError> {
        Ok(match self {
            Self::Symmetric(_) | Self::Hmac(..) => None,
            Self::Signing(key) => Some(key.public_key_der()?),
            Self::RsaDecrypting(key) => Some(key.public_key().to_der()?),
            Self::Ecdh(key) => Some(key.public_key_der()?),
            Self::MlKem(key) => Some(key.public_key_der()),
        })
    }
}

/// A data key pair for `GenerateDataKeyPair`: the private key as PKCS #8
/// DER (secret) and the public key as `SubjectPublicKeyInfo` DER. SM2 has
/// been refused before this is called.
pub(crate) fn data_key_pair(spec: DataKeyPairSpec) -> Result<(SecretBytes, Vec<u8>), KmsError> {
    let kind = match spec {
        DataKeyPairSpec::Rsa2048 => SigningKeyKind::Rsa2048,
        DataKeyPairSpec::Rsa3072 => SigningKeyKind::Rsa3072,
        DataKeyPairSpec::Rsa4096 => SigningKeyKind::Rsa4096,
        DataKeyPairSpec::EccNistP256 => SigningKeyKind::EcdsaP256,
        DataKeyPairSpec::EccNistP384 => SigningKeyKind::EcdsaP384,
        DataKeyPairSpec::EccNistP521 => SigningKeyKind::EcdsaP521,
        DataKeyPairSpec::EccSecgP256k1 => SigningKeyKind::EcdsaSecp256k1,
        DataKeyPairSpec::EccNistEdwards25519 => SigningKeyKind::Ed25519,
        DataKeyPairSpec::MlKem512 | DataKeyPairSpec::MlKem768 | DataKeyPairSpec::MlKem1024 => {
            let level = match spec {
                DataKeyPairSpec::MlKem512 => MlKem::MlKem512,
                DataKeyPairSpec::MlKem768 => MlKem::MlKem768,
                _ => MlKem::MlKem1024,
            };
            let key = MlKemPrivateKey::generate(level)?;
            return Ok((key.to_pkcs8()?, key.public_key_der()));
        }
        DataKeyPairSpec::Sm2 => {
            return Err(KmsError::UnsupportedOperation(
                "KeyPairSpec SM2 is not supported in this Region".into(),
            ));
        }
    };
    let key = SigningKey::generate(kind)?;
    Ok((key.to_pkcs8()?, key.public_key_der()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(KeySpec, KeyUsage); 20] = [
        (KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt),
        (KeySpec::Rsa2048, KeyUsage::EncryptDecrypt),
        (KeySpec::Rsa2048, KeyUsage::SignVerify),
        (KeySpec::Rsa3072, KeyUsage::SignVerify),
        (KeySpec::EccNistP256, KeyUsage::SignVerify),
        (KeySpec::EccNistP256, KeyUsage::KeyAgreement),
        (KeySpec::EccNistP384, KeyUsage::SignVerify),
        (KeySpec::EccNistP384, KeyUsage::KeyAgreement),
        (KeySpec::EccNistP521, KeyUsage::SignVerify),
        (KeySpec::EccNistP521, KeyUsage::KeyAgreement),
        (KeySpec::EccSecgP256k1, KeyUsage::SignVerify),
        (KeySpec::EccNistEdwards25519, KeyUsage::SignVerify),
        (KeySpec::MlDsa44, KeyUsage::SignVerify),
        (KeySpec::MlDsa87, KeyUsage::SignVerify),
        (KeySpec::MlKem512, KeyUsage::EncapsulateDecapsulate),
        (KeySpec::MlKem1024, KeyUsage::EncapsulateDecapsulate),
        (KeySpec::Hmac224, KeyUsage::GenerateVerifyMac),
        (KeySpec::Hmac256, KeyUsage::GenerateVerifyMac),
        (KeySpec::Hmac384, KeyUsage::GenerateVerifyMac),
        (KeySpec::Hmac512, KeyUsage::GenerateVerifyMac),
    ];

    #[test]
    fn every_kind_round_trips_through_its_sealed_form() {
        for (spec, usage) in ALL {
            let material = Material::generate(spec, usage).expect("generate");
            let encoded = material.encode().expect("encode");
            if spec == KeySpec::SymmetricDefault {
                assert_eq!(encoded.len(), 32, "format 1 is the bare key");
            } else {
                assert_eq!(encoded.expose_secret()[0], FORMAT_V2);
            }
            let back = Material::decode(spec, usage, encoded.expose_secret()).expect("decode");
            assert_eq!(
                back.encode().expect("encode").expose_secret(),
                encoded.expose_secret(),
                "{spec:?} {usage:?}"
            );
            assert_eq!(
                back.public_key_der().expect("der"),
                material.public_key_der().expect("der")
            );
            assert_eq!(format!("{back:?}"), "Material([REDACTED])");
        }
    }

    // Material sealed before asymmetric keys existed (format 1: 32 bare
    // bytes) reads unchanged; format-2 bytes never read as another format.
    #[test]
    fn format_1_still_reads_and_formats_do_not_mix() {
        let old = [0x5a; 32];
        match Material::decode(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt, &old) {
            Ok(Material::Symmetric(key)) => assert_eq!(key.expose_secret(), &old),
            other => panic!("{other:?}"),
        }
        assert!(Material::decode(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac, &old).is_err());
        let hmac = Material::generate(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac).expect("hmac");
        let encoded = hmac.encode().expect("encode");
        assert!(
            Material::decode(
                KeySpec::SymmetricDefault,
                KeyUsage::EncryptDecrypt,
                encoded.expose_secret()
            )
            .is_err()
        );
        let ec = Material::generate(KeySpec::EccNistP256, KeyUsage::SignVerify).expect("ec");
        let encoded = ec.encode().expect("encode");
        assert!(
            Material::decode(
                KeySpec::EccNistP384,
                KeyUsage::SignVerify,
                encoded.expose_secret()
            )
            .is_err()
        );
    }
}
