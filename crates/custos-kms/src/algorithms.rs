//! AWS's algorithm names, mapped to the crypto layer's schemes, with the
//! rules AWS applies to each: which key specs take which algorithm, which
//! `MessageType`s an algorithm accepts and how long a digest must be, how
//! much an RSA key can encrypt.
//!
//! Messages are AWS's where they have been observed (see
//! `docs/differences-from-aws.md` for the few that have not).

use custos_crypto::rsa::RsaPadding;
use custos_crypto::sign::{Sha2, SignInput, SignatureScheme};

use crate::KmsError;
use crate::model::{EncryptionAlgorithm, KeyRecord, KeySpec, MessageType, SigningAlgorithm};

/// `InvalidKeyUsageException` for an algorithm the key does not support.
pub(crate) fn incompatible(algorithm: &str, spec: KeySpec) -> KmsError {
    KmsError::InvalidKeyUsage(format!(
        "Algorithm {algorithm} is incompatible with key spec {}.",
        spec.as_str()
    ))
}

/// A signing request, checked against AWS's rules: the crypto-layer scheme
/// and how the message is to be read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SigningPlan {
    pub scheme: SignatureScheme,
    pub input: InputKind,
}

/// How the `Message` member is given to the crypto layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputKind {
    Message,
    Digest,
    ExternalMu,
}

impl SigningPlan {
    pub(crate) fn input<'a>(&self, message: &'a [u8]) -> SignInput<'a> {
        match self.input {
            InputKind::Message => SignInput::Message(message),
            InputKind::Digest => SignInput::Digest(message),
            InputKind::ExternalMu => SignInput::ExternalMu(message),
        }
    }
}

/// Checks `algorithm` and `message_type` for `key` and a message of
/// `message_len` bytes, as `Sign` and `Verify` do.
pub(crate) fn signing_plan(
    key: &KeyRecord,
    algorithm: SigningAlgorithm,
    message_type: MessageType,
    message_len: usize,
) -> Result<SigningPlan, KmsError> {
    use SigningAlgorithm as A;
    let spec = key.key_spec;
    let supported = spec.algorithms(key.key_usage).signing;
    if !supported.contains(&algorithm) {
        return Err(incompatible(algorithm.as_str(), spec));
    }
    let hash = match algorithm {
        A::RsassaPssSha256 | A::RsassaPkcs1V15Sha256 | A::EcdsaSha256 => Some(Sha2::Sha256),
        A::RsassaPssSha384 | A::RsassaPkcs1V15Sha384 | A::EcdsaSha384 => Some(Sha2::Sha384),
        A::RsassaPssSha512 | A::RsassaPkcs1V15Sha512 | A::EcdsaSha512 => Some(Sha2::Sha512),
        _ => None,
    };
    let invalid_digest = || {
        KmsError::ValidationMessage(format!(
            "Digest is invalid length for algorithm {}.",
            algorithm.as_str()
        ))
    };
    let type_for_spec = || {
        KmsError::ValidationMessage(format!(
            "Message type {} is incompatible with key spec {}.",
            message_type.as_str(),
            spec.as_str()
        ))
    };
    let type_for_algorithm = || {
        KmsError::ValidationMessage(format!(
            "Message type {} is incompatible with algorithm {}.",
            message_type.as_str(),
            algorithm.as_str()
        ))
    };
    let scheme = match algorithm {
        A::RsassaPssSha256 | A::RsassaPssSha384 | A::RsassaPssSha512 => {
            SignatureScheme::RsaPss(hash.ok_or_else(invalid_digest)?)
        }
        A::RsassaPkcs1V15Sha256 | A::RsassaPkcs1V15Sha384 | A::RsassaPkcs1V15Sha512 => {
            SignatureScheme::RsaPkcs1(hash.ok_or_else(invalid_digest)?)
        }
        A::EcdsaSha256 | A::EcdsaSha384 | A::EcdsaSha512 => {
            SignatureScheme::Ecdsa(hash.ok_or_else(invalid_digest)?)
        }
        A::Ed25519Sha512 => SignatureScheme::Ed25519,
        A::Ed25519PhSha512 => SignatureScheme::Ed25519ph,
        A::MlDsaShake256 => SignatureScheme::MlDsa,
        A::Sm2dsa => return Err(incompatible(algorithm.as_str(), spec)),
    };
    let input = match (scheme, message_type) {
        (
            SignatureScheme::RsaPss(_) | SignatureScheme::RsaPkcs1(_) | SignatureScheme::Ecdsa(_),
            MessageType::Raw,
        ) => InputKind::Message,
        (
            SignatureScheme::RsaPss(h) | SignatureScheme::RsaPkcs1(h) | SignatureScheme::Ecdsa(h),
            MessageType::Digest,
        ) => {
            if message_len != h.output_len() {
                return Err(invalid_digest());
            }
            InputKind::Digest
        }
        (_, MessageType::ExternalMu) if scheme != SignatureScheme::MlDsa => {
            return Err(type_for_spec());
        }
        // PureEdDSA signs the message itself.
        (SignatureScheme::Ed25519, MessageType::Raw) => InputKind::Message,
        (SignatureScheme::Ed25519, _) => return Err(type_for_algorithm()),
        // Ed25519ph takes a SHA-512 digest, which KMS hashes once more as
        // HashEdDSA's pre-hash: the 64 bytes are the HashEdDSA message.
        (SignatureScheme::Ed25519ph, MessageType::Digest) => {
            if message_len != Sha2::Sha512.output_len() {
                return Err(invalid_digest());
            }
            InputKind::Message
        }
        (SignatureScheme::Ed25519ph, _) => return Err(type_for_algorithm()),
        (SignatureScheme::MlDsa, MessageType::Raw) => InputKind::Message,
        (SignatureScheme::MlDsa, MessageType::ExternalMu) => {
            if message_len != 64 {
                return Err(invalid_digest());
            }
            InputKind::ExternalMu
        }
        (SignatureScheme::MlDsa, MessageType::Digest) => return Err(type_for_spec()),
        // Every other pair was answered above.
        _ => return Err(type_for_spec()),
    };
    Ok(SigningPlan { scheme, input })
}

/// The RSA-OAEP padding of an `EncryptionAlgorithmSpec`, checked against
/// `key` (an RSA `ENCRYPT_DECRYPT` key). The default, `SYMMETRIC_DEFAULT`,
/// is refused for RSA keys.
pub(crate) fn rsa_padding(
    key: &KeyRecord,
    algorithm: Option<&str>,
) -> Result<(EncryptionAlgorithm, RsaPadding), KmsError> {
    let name = algorithm.unwrap_or("SYMMETRIC_DEFAULT");
    match EncryptionAlgorithm::parse(name) {
        Some(EncryptionAlgorithm::RsaesOaepSha1) => {
            Ok((EncryptionAlgorithm::RsaesOaepSha1, RsaPadding::OaepSha1))
        }
        Some(EncryptionAlgorithm::RsaesOaepSha256) => {
            Ok((EncryptionAlgorithm::RsaesOaepSha256, RsaPadding::OaepSha256))
        }
        _ => Err(incompatible(name, key.key_spec)),
    }
}

/// The longest plaintext RSA-OAEP can encrypt under a key of `bits`:
/// `k - 2 hLen - 2` (RFC 8017 section 7.1.1).
pub(crate) fn rsa_oaep_limit(bits: usize, algorithm: EncryptionAlgorithm) -> usize {
    let hash_len = match algorithm {
        EncryptionAlgorithm::RsaesOaepSha1 => 20,
        _ => 32,
    };
    bits / 8 - 2 * hash_len - 2
}

/// The plaintext size check of RSA encryption, with AWS's message.
pub(crate) fn check_rsa_plaintext(
    key: &KeyRecord,
    algorithm: EncryptionAlgorithm,
    len: usize,
) -> Result<(), KmsError> {
    let bits = crate::material::rsa_bits(key.key_spec).unwrap_or(0);
    let limit = rsa_oaep_limit(bits, algorithm);
    if len > limit {
        return Err(KmsError::ValidationMessage(format!(
            "Algorithm {} and key spec {} cannot encrypt data larger than {limit} bytes.",
            algorithm.as_str(),
            key.key_spec.as_str()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's documented limits (KMS Developer Guide, "RSA key specs for
    // encryption and decryption").
    #[test]
    fn rsa_limits_are_awss() {
        let cases = [
            (2048, EncryptionAlgorithm::RsaesOaepSha1, 214),
            (2048, EncryptionAlgorithm::RsaesOaepSha256, 190),
            (3072, EncryptionAlgorithm::RsaesOaepSha1, 342),
            (3072, EncryptionAlgorithm::RsaesOaepSha256, 318),
            (4096, EncryptionAlgorithm::RsaesOaepSha1, 470),
            (4096, EncryptionAlgorithm::RsaesOaepSha256, 446),
        ];
        for (bits, alg, limit) in cases {
            assert_eq!(rsa_oaep_limit(bits, alg), limit, "{bits} {alg:?}");
        }
    }
}
