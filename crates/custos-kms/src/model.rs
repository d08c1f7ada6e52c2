//! The KMS key as the domain sees it, and the enumerations of its
//! attributes with their AWS spellings.

use serde::{Deserialize, Serialize};

macro_rules! aws_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// Every value, in the order of the service model.
            pub const NAMES: &'static [&'static str] = &[$($text),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)* _ => None }
            }
        }
    };
}

aws_enum!(
    /// `KeySpec` (and the deprecated `CustomerMasterKeySpec`).
    KeySpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        Hmac224 = "HMAC_224",
        Hmac256 = "HMAC_256",
        Hmac384 = "HMAC_384",
        Hmac512 = "HMAC_512",
        Sm2 = "SM2",
        MlDsa44 = "ML_DSA_44",
        MlDsa65 = "ML_DSA_65",
        MlDsa87 = "ML_DSA_87",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        MlKem512 = "ML_KEM_512",
        MlKem768 = "ML_KEM_768",
        MlKem1024 = "ML_KEM_1024",
    }
);

aws_enum!(
    /// `KeyUsage`.
    KeyUsage {
        SignVerify = "SIGN_VERIFY",
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        KeyAgreement = "KEY_AGREEMENT",
        EncapsulateDecapsulate = "ENCAPSULATE_DECAPSULATE",
    }
);

aws_enum!(
    /// `KeyState`.
    KeyState {
        Creating = "Creating",
        Enabled = "Enabled",
        Disabled = "Disabled",
        PendingDeletion = "PendingDeletion",
        PendingImport = "PendingImport",
        PendingReplicaDeletion = "PendingReplicaDeletion",
        Unavailable = "Unavailable",
        Updating = "Updating",
    }
);

aws_enum!(
    /// `Origin`.
    Origin {
        AwsKms = "AWS_KMS",
        External = "EXTERNAL",
        AwsCloudhsm = "AWS_CLOUDHSM",
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
);

aws_enum!(
    /// `DataKeySpec`.
    DataKeySpec {
        Aes256 = "AES_256",
        Aes128 = "AES_128",
    }
);

aws_enum!(
    /// `EncryptionAlgorithmSpec`.
    EncryptionAlgorithm {
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        Sm2pke = "SM2PKE",
    }
);

aws_enum!(
    /// `SigningAlgorithmSpec`.
    SigningAlgorithm {
        RsassaPssSha256 = "RSASSA_PSS_SHA_256",
        RsassaPssSha384 = "RSASSA_PSS_SHA_384",
        RsassaPssSha512 = "RSASSA_PSS_SHA_512",
        RsassaPkcs1V15Sha256 = "RSASSA_PKCS1_V1_5_SHA_256",
        RsassaPkcs1V15Sha384 = "RSASSA_PKCS1_V1_5_SHA_384",
        RsassaPkcs1V15Sha512 = "RSASSA_PKCS1_V1_5_SHA_512",
        EcdsaSha256 = "ECDSA_SHA_256",
        EcdsaSha384 = "ECDSA_SHA_384",
        EcdsaSha512 = "ECDSA_SHA_512",
        Sm2dsa = "SM2DSA",
        MlDsaShake256 = "ML_DSA_SHAKE_256",
        Ed25519Sha512 = "ED25519_SHA_512",
        Ed25519PhSha512 = "ED25519_PH_SHA_512",
    }
);

aws_enum!(
    /// `MessageType` of `Sign` and `Verify`.
    MessageType {
        Raw = "RAW",
        Digest = "DIGEST",
        ExternalMu = "EXTERNAL_MU",
    }
);

aws_enum!(
    /// `MacAlgorithmSpec`.
    MacAlgorithm {
        HmacSha224 = "HMAC_SHA_224",
        HmacSha256 = "HMAC_SHA_256",
        HmacSha384 = "HMAC_SHA_384",
        HmacSha512 = "HMAC_SHA_512",
    }
);

aws_enum!(
    /// `KeyAgreementAlgorithmSpec`.
    KeyAgreementAlgorithm {
        Ecdh = "ECDH",
    }
);

aws_enum!(
    /// `EncapsulationAlgorithmSpec`.
    EncapsulationAlgorithm {
        MlKem = "ML_KEM",
    }
);

aws_enum!(
    /// `DataKeyPairSpec`.
    DataKeyPairSpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        Sm2 = "SM2",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
        MlKem512 = "ML_KEM_512",
        MlKem768 = "ML_KEM_768",
        MlKem1024 = "ML_KEM_1024",
    }
);

aws_enum!(
    /// `RotationType`: how a material version came to be.
    RotationType {
        Automatic = "AUTOMATIC",
        OnDemand = "ON_DEMAND",
    }
);

/// One version of a key's material, as listed in the key record. The
/// material itself is in the `Material` table, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialVersion {
    pub version: u32,
    /// `KeyMaterialId`: 64 hex digits, random, not derived from the material.
    pub material_id: String,
    pub created_ms: i64,
    /// How this version was made; `None` for the key's first material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_type: Option<RotationType>,
}

/// Automatic rotation settings of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRotation {
    pub period_days: u32,
    /// When the scheduler next rotates the key.
    pub next_rotation_ms: i64,
}

/// A KMS key's metadata: everything but the material.
///
/// Persisted as JSON in the `Keys` table, with a `format` version (see
/// `docs/storage-format.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub format: u32,
    pub key_id: String,
    pub region: String,
    pub account_id: String,
    pub created_ms: i64,
    pub description: String,
    pub key_spec: KeySpec,
    pub key_usage: KeyUsage,
    pub origin: Origin,
    pub state: KeyState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_window_days: Option<u32>,
    pub policy: String,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Every material version the key has had, oldest first. Never empty.
    pub materials: Vec<MaterialVersion>,
    /// Automatic rotation, when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<AutoRotation>,
    /// When the last on-demand rotation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_ms: Option<i64>,
    /// The public key of an asymmetric key: DER `SubjectPublicKeyInfo`,
    /// base64. Absent for symmetric and HMAC keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// The format version of [`KeyRecord`] this build writes.
pub const KEY_RECORD_FORMAT: u32 = 1;

impl KeySpec {
    /// The algorithms a key of this spec and usage supports, as
    /// `DescribeKey` and `GetPublicKey` list them.
    pub fn algorithms(self, usage: KeyUsage) -> Algorithms {
        use KeySpec::*;
        let mut out = Algorithms::default();
        match (self, usage) {
            (SymmetricDefault, _) => out.encryption = vec![EncryptionAlgorithm::SymmetricDefault],
            (Rsa2048 | Rsa3072 | Rsa4096, KeyUsage::EncryptDecrypt) => {
                out.encryption = vec![
                    EncryptionAlgorithm::RsaesOaepSha1,
                    EncryptionAlgorithm::RsaesOaepSha256,
                ]
            }
            (Rsa2048 | Rsa3072 | Rsa4096, _) => {
                use SigningAlgorithm::*;
                out.signing = vec![
                    RsassaPkcs1V15Sha256,
                    RsassaPkcs1V15Sha384,
                    RsassaPkcs1V15Sha512,
                    RsassaPssSha256,
                    RsassaPssSha384,
                    RsassaPssSha512,
                ]
            }
            (EccNistP256 | EccNistP384 | EccNistP521, KeyUsage::KeyAgreement) => {
                out.key_agreement = vec![KeyAgreementAlgorithm::Ecdh]
            }
            (EccNistP256 | EccSecgP256k1, _) => out.signing = vec![SigningAlgorithm::EcdsaSha256],
            (EccNistP384, _) => out.signing = vec![SigningAlgorithm::EcdsaSha384],
            (EccNistP521, _) => out.signing = vec![SigningAlgorithm::EcdsaSha512],
            (EccNistEdwards25519, _) => {
                out.signing = vec![
                    SigningAlgorithm::Ed25519Sha512,
                    SigningAlgorithm::Ed25519PhSha512,
                ]
            }
            (MlDsa44 | MlDsa65 | MlDsa87, _) => out.signing = vec![SigningAlgorithm::MlDsaShake256],
            (Hmac224, _) => out.mac = vec![MacAlgorithm::HmacSha224],
            (Hmac256, _) => out.mac = vec![MacAlgorithm::HmacSha256],
            (Hmac384, _) => out.mac = vec![MacAlgorithm::HmacSha384],
            (Hmac512, _) => out.mac = vec![MacAlgorithm::HmacSha512],
            (MlKem512 | MlKem768 | MlKem1024, _) => {
                out.encapsulation = vec![EncapsulationAlgorithm::MlKem]
            }
            (Sm2, _) => {}
        }
        out
    }

    /// Whether keys of this spec hold a private key and a public key.
    pub fn is_asymmetric(self) -> bool {
        !matches!(
            self,
            KeySpec::SymmetricDefault
                | KeySpec::Hmac224
                | KeySpec::Hmac256
                | KeySpec::Hmac384
                | KeySpec::Hmac512
        )
    }
}

/// The algorithm lists of a key, each empty when it does not apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Algorithms {
    pub encryption: Vec<EncryptionAlgorithm>,
    pub signing: Vec<SigningAlgorithm>,
    pub key_agreement: Vec<KeyAgreementAlgorithm>,
    pub mac: Vec<MacAlgorithm>,
    pub encapsulation: Vec<EncapsulationAlgorithm>,
}

impl KeyRecord {
    /// The key's ARN.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{}",
            self.region, self.account_id, self.key_id
        )
    }

    /// The material version new ciphertexts use.
    pub fn current_material(&self) -> Option<&MaterialVersion> {
        self.materials.last()
    }

    pub fn material(&self, version: u32) -> Option<&MaterialVersion> {
        self.materials.iter().find(|m| m.version == version)
    }
}
