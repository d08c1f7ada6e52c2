//! Algorithm suites and the commitment policy.
//!
//! The eleven ESDK suites, from `framework/algorithm-suites.md` of the
//! specification. Every suite is AES-GCM with a 12-byte IV and a 16-byte
//! tag; they differ in key size, key derivation, key commitment and
//! signature.

use std::fmt;

use custos_crypto::ecdsa::EcdsaAlgorithm;
use custos_crypto::hkdf::HkdfHash;

/// An AWS Encryption SDK algorithm suite, named after the specification's
/// `ALG_…` enumeration. The discriminant is the suite ID written in the
/// message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum AlgorithmSuite {
    /// `0x0014`: AES-128-GCM, data key used directly. Legacy.
    Aes128GcmIv12Tag16NoKdf = 0x0014,
    /// `0x0046`: AES-192-GCM, data key used directly. Legacy.
    Aes192GcmIv12Tag16NoKdf = 0x0046,
    /// `0x0078`: AES-256-GCM, data key used directly. Legacy.
    Aes256GcmIv12Tag16NoKdf = 0x0078,
    /// `0x0114`: AES-128-GCM, key from HKDF-SHA256.
    Aes128GcmIv12Tag16HkdfSha256 = 0x0114,
    /// `0x0146`: AES-192-GCM, key from HKDF-SHA256.
    Aes192GcmIv12Tag16HkdfSha256 = 0x0146,
    /// `0x0178`: AES-256-GCM, key from HKDF-SHA256.
    Aes256GcmIv12Tag16HkdfSha256 = 0x0178,
    /// `0x0214`: AES-128-GCM, HKDF-SHA256, ECDSA P-256 signature.
    Aes128GcmIv12Tag16HkdfSha256EcdsaP256 = 0x0214,
    /// `0x0346`: AES-192-GCM, HKDF-SHA384, ECDSA P-384 signature.
    Aes192GcmIv12Tag16HkdfSha384EcdsaP384 = 0x0346,
    /// `0x0378`: AES-256-GCM, HKDF-SHA384, ECDSA P-384 signature. The
    /// default when commitment is forbidden.
    Aes256GcmIv12Tag16HkdfSha384EcdsaP384 = 0x0378,
    /// `0x0478`: AES-256-GCM, HKDF-SHA512 with key commitment.
    Aes256GcmHkdfSha512CommitKey = 0x0478,
    /// `0x0578`: AES-256-GCM, HKDF-SHA512 with key commitment, ECDSA P-384
    /// signature. The default.
    Aes256GcmHkdfSha512CommitKeyEcdsaP384 = 0x0578,
}

/// How the AES-GCM key is derived from the data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDerivation {
    /// The data key is the encryption key.
    Identity,
    /// HKDF with this hash (inputs in the crate documentation).
    Hkdf(HkdfHash),
}

/// The message format version, which fixes the header layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageFormatVersion {
    /// 16-byte message ID, `Type` and `Reserved` fields, header IV.
    V1 = 1,
    /// 32-byte message ID, commitment key in the header, no header IV.
    V2 = 2,
}

impl MessageFormatVersion {
    /// Length of the message ID.
    pub fn message_id_len(self) -> usize {
        match self {
            Self::V1 => 16,
            Self::V2 => 32,
        }
    }
}

impl AlgorithmSuite {
    /// All eleven suites, in ID order.
    pub const ALL: [Self; 11] = [
        Self::Aes128GcmIv12Tag16NoKdf,
        Self::Aes192GcmIv12Tag16NoKdf,
        Self::Aes256GcmIv12Tag16NoKdf,
        Self::Aes128GcmIv12Tag16HkdfSha256,
        Self::Aes192GcmIv12Tag16HkdfSha256,
        Self::Aes256GcmIv12Tag16HkdfSha256,
        Self::Aes128GcmIv12Tag16HkdfSha256EcdsaP256,
        Self::Aes192GcmIv12Tag16HkdfSha384EcdsaP384,
        Self::Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
        Self::Aes256GcmHkdfSha512CommitKey,
        Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
    ];

    /// IV length of every suite.
    pub const IV_LEN: usize = 12;
    /// Tag length of every suite.
    pub const TAG_LEN: usize = 16;
    /// Length of the commitment key stored in v2 headers.
    pub const COMMITMENT_LEN: usize = 32;

    /// The two-byte suite ID.
    pub fn id(self) -> u16 {
        self as u16
    }

    /// The suite with this ID, if it is an ESDK suite.
    pub fn from_id(id: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The message format version messages under this suite use.
    pub fn message_format_version(self) -> MessageFormatVersion {
        if self.is_committing() {
            MessageFormatVersion::V2
        } else {
            MessageFormatVersion::V1
        }
    }

    /// Length of the data key, which is also the AES key length.
    pub fn data_key_len(self) -> usize {
        match self {
            Self::Aes128GcmIv12Tag16NoKdf
            | Self::Aes128GcmIv12Tag16HkdfSha256
            | Self::Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => 16,
            Self::Aes192GcmIv12Tag16NoKdf
            | Self::Aes192GcmIv12Tag16HkdfSha256
            | Self::Aes192GcmIv12Tag16HkdfSha384EcdsaP384 => 24,
            Self::Aes256GcmIv12Tag16NoKdf
            | Self::Aes256GcmIv12Tag16HkdfSha256
            | Self::Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            | Self::Aes256GcmHkdfSha512CommitKey
            | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => 32,
        }
    }

    /// How the encryption key is derived from the data key.
    pub fn key_derivation(self) -> KeyDerivation {
        match self {
            Self::Aes128GcmIv12Tag16NoKdf
            | Self::Aes192GcmIv12Tag16NoKdf
            | Self::Aes256GcmIv12Tag16NoKdf => KeyDerivation::Identity,
            Self::Aes128GcmIv12Tag16HkdfSha256
            | Self::Aes192GcmIv12Tag16HkdfSha256
            | Self::Aes256GcmIv12Tag16HkdfSha256
            | Self::Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => KeyDerivation::Hkdf(HkdfHash::Sha256),
            Self::Aes192GcmIv12Tag16HkdfSha384EcdsaP384
            | Self::Aes256GcmIv12Tag16HkdfSha384EcdsaP384 => KeyDerivation::Hkdf(HkdfHash::Sha384),
            Self::Aes256GcmHkdfSha512CommitKey | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => {
                KeyDerivation::Hkdf(HkdfHash::Sha512)
            }
        }
    }

    /// Whether the suite commits to its data key (v2 messages).
    pub fn is_committing(self) -> bool {
        matches!(
            self,
            Self::Aes256GcmHkdfSha512CommitKey | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384
        )
    }

    /// The signature algorithm, for signed suites.
    pub fn signature(self) -> Option<EcdsaAlgorithm> {
        match self {
            Self::Aes128GcmIv12Tag16HkdfSha256EcdsaP256 => Some(EcdsaAlgorithm::P256Sha256),
            Self::Aes192GcmIv12Tag16HkdfSha384EcdsaP384
            | Self::Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            | Self::Aes256GcmHkdfSha512CommitKeyEcdsaP384 => Some(EcdsaAlgorithm::P384Sha384),
            _ => None,
        }
    }

    /// Length of the algorithm suite data in a v2 header (the commitment
    /// key); 0 for v1 suites.
    pub fn suite_data_len(self) -> usize {
        if self.is_committing() {
            Self::COMMITMENT_LEN
        } else {
            0
        }
    }
}

impl fmt::Display for AlgorithmSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04X}", self.id())
    }
}

/// Which suites may be used for encryption and accepted on decryption,
/// as in `framework/commitment-policy.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CommitmentPolicy {
    /// Encrypt only with non-committing suites; decrypt anything. For
    /// talking to readers older than ESDK 1.7/2.0.
    ForbidEncryptAllowDecrypt,
    /// Encrypt only with committing suites; still decrypt old messages.
    RequireEncryptAllowDecrypt,
    /// Committing suites only, both ways.
    #[default]
    RequireEncryptRequireDecrypt,
}

impl CommitmentPolicy {
    /// Whether encryption under `suite` is allowed.
    pub fn allows_encrypt(self, suite: AlgorithmSuite) -> bool {
        match self {
            Self::ForbidEncryptAllowDecrypt => !suite.is_committing(),
            Self::RequireEncryptAllowDecrypt | Self::RequireEncryptRequireDecrypt => {
                suite.is_committing()
            }
        }
    }

    /// Whether decryption of a message under `suite` is allowed.
    pub fn allows_decrypt(self, suite: AlgorithmSuite) -> bool {
        match self {
            Self::ForbidEncryptAllowDecrypt | Self::RequireEncryptAllowDecrypt => true,
            Self::RequireEncryptRequireDecrypt => suite.is_committing(),
        }
    }

    /// The suite used for encryption when the caller names none: signed,
    /// and committing unless commitment is forbidden.
    pub fn default_suite(self) -> AlgorithmSuite {
        match self {
            Self::ForbidEncryptAllowDecrypt => {
                AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384
            }
            Self::RequireEncryptAllowDecrypt | Self::RequireEncryptRequireDecrypt => {
                AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The properties table of `framework/algorithm-suites.md`:
    // (id, key bytes, kdf hash bits or 0, committing, signature curve bits or 0).
    const TABLE: [(u16, usize, u16, bool, u16); 11] = [
        (0x0014, 16, 0, false, 0),
        (0x0046, 24, 0, false, 0),
        (0x0078, 32, 0, false, 0),
        (0x0114, 16, 256, false, 0),
        (0x0146, 24, 256, false, 0),
        (0x0178, 32, 256, false, 0),
        (0x0214, 16, 256, false, 256),
        (0x0346, 24, 384, false, 384),
        (0x0378, 32, 384, false, 384),
        (0x0478, 32, 512, true, 0),
        (0x0578, 32, 512, true, 384),
    ];

    #[test]
    fn matches_the_specification_table() {
        for (id, key, kdf, commit, sig) in TABLE {
            let s = AlgorithmSuite::from_id(id).expect("known id");
            assert_eq!(s.id(), id);
            assert_eq!(s.data_key_len(), key, "{s}");
            let kdf_bits = match s.key_derivation() {
                KeyDerivation::Identity => 0,
                KeyDerivation::Hkdf(h) => h.digest_len() as u16 * 8,
            };
            assert_eq!(kdf_bits, kdf, "{s}");
            assert_eq!(s.is_committing(), commit, "{s}");
            let sig_bits = match s.signature() {
                None => 0,
                Some(EcdsaAlgorithm::P256Sha256) => 256,
                Some(EcdsaAlgorithm::P384Sha384) => 384,
            };
            assert_eq!(sig_bits, sig, "{s}");
            let v = if commit {
                MessageFormatVersion::V2
            } else {
                MessageFormatVersion::V1
            };
            assert_eq!(s.message_format_version(), v);
            assert_eq!(s.suite_data_len(), if commit { 32 } else { 0 });
        }
        assert_eq!(AlgorithmSuite::from_id(0x0000), None);
        assert_eq!(AlgorithmSuite::from_id(0x0072), None); // an S3EC suite
        assert_eq!(AlgorithmSuite::from_id(0x6700), None); // a DBE suite
    }

    #[test]
    fn commitment_policy() {
        use CommitmentPolicy::*;
        let commit = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
        let legacy = AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256;
        assert!(ForbidEncryptAllowDecrypt.allows_encrypt(legacy));
        assert!(!ForbidEncryptAllowDecrypt.allows_encrypt(commit));
        assert!(ForbidEncryptAllowDecrypt.allows_decrypt(commit));
        assert!(RequireEncryptAllowDecrypt.allows_encrypt(commit));
        assert!(!RequireEncryptAllowDecrypt.allows_encrypt(legacy));
        assert!(RequireEncryptAllowDecrypt.allows_decrypt(legacy));
        assert!(!RequireEncryptRequireDecrypt.allows_decrypt(legacy));
        assert!(RequireEncryptRequireDecrypt.allows_decrypt(commit));
        assert_eq!(CommitmentPolicy::default(), RequireEncryptRequireDecrypt);
        for p in [
            ForbidEncryptAllowDecrypt,
            RequireEncryptAllowDecrypt,
            RequireEncryptRequireDecrypt,
        ] {
            assert!(p.allows_encrypt(p.default_suite()));
            assert!(p.default_suite().signature().is_some());
        }
    }
}
