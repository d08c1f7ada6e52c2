//! The AWS KMS keyring and the AWS KMS discovery keyring
//! (`framework/aws-kms/aws-kms-keyring.md`,
//! `framework/aws-kms/aws-kms-discovery-keyring.md`).
//!
//! - Encrypting, the first key makes the data key (`GenerateDataKey`) and
//!   every further key wraps it again (`Encrypt`). The encrypted data key
//!   records provider `aws-kms` and, as provider info, the key ARN KMS
//!   returned.
//! - Decrypting in strict mode, only encrypted data keys whose provider
//!   info is exactly one of the configured key ARNs are tried, with
//!   `Decrypt` naming that key. In discovery mode every `aws-kms` data key
//!   is tried, with the key its ARN names, unless a discovery filter
//!   (partition and accounts) rules the ARN out.
//! - The full encryption context of the materials (including
//!   `aws-crypto-public-key` for signed suites) is the KMS encryption
//!   context of every call, so KMS binds the data key to it.
//!
//! No grant tokens, no multi-Region key awareness: an `mrk-` key is used as
//! the single-Region key its ARN names.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata};
use custos_crypto::SecretBytes;
use custos_envelope::{
    DecryptionMaterials, EncryptedDataKey, EncryptionContext, EncryptionMaterials, Keyring,
    KeyringError,
};

use super::arn::{KmsArn, ResourceType, region_of};
use super::{Kms, SetupError};

/// The provider ID of data keys wrapped by AWS KMS.
pub(crate) const PROVIDER_ID: &str = "aws-kms";

/// One failed KMS attempt, in terms a user can act on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KmsError {
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// KMS answered with an error: `code` is its `__type`
    /// (`AccessDeniedException`, `InvalidCiphertextException`…).
    #[error("kms:{operation} with {key_id}: {code}: {message}")]
    Refused {
        operation: &'static str,
        key_id: String,
        code: String,
        message: String,
    },
    /// KMS could not be reached, or answered something that is not KMS.
    #[error("kms:{operation} with {key_id} failed: {detail}")]
    Unreachable {
        operation: &'static str,
        key_id: String,
        detail: String,
    },
    /// KMS answered, but not what the specification requires.
    #[error("kms:{operation} with {key_id} returned an unusable response: {problem}")]
    BadResponse {
        operation: &'static str,
        key_id: String,
        problem: &'static str,
    },
    /// An `aws-kms` data key whose provider info is not a key ARN.
    #[error("the message has an aws-kms data key for {0:?}, which is not a key ARN")]
    InvalidProviderInfo(String),
}

impl KmsError {
    fn from_sdk<E, R>(
        operation: &'static str,
        key_id: &str,
        e: aws_sdk_kms::error::SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        match e.code() {
            Some(code) => Self::Refused {
                operation,
                key_id: key_id.to_owned(),
                code: code.to_owned(),
                message: e.message().unwrap_or_default().to_owned(),
            },
            None => Self::Unreachable {
                operation,
                key_id: key_id.to_owned(),
                detail: DisplayErrorContext(&e).to_string(),
            },
        }
    }

    /// The KMS error code, when KMS answered with one.
    pub(crate) fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Every KMS attempt of one decryption failed (or none was possible).
#[derive(Debug)]
pub(crate) struct DecryptFailures(pub(crate) Vec<KmsError>);

impl fmt::Display for DecryptFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => write!(f, "no AWS KMS data key matched"),
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} AWS KMS attempts failed: ", many.len())?;
                for (i, e) in many.iter().enumerate() {
                    if i > 0 {
                        write!(f, "; ")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for DecryptFailures {}

/// Where a keyring's KMS calls go: the profile and, if fixed, the region.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub(crate) profile: Option<String>,
    pub(crate) region: Option<String>,
}

/// The AWS KMS keyring: one KMS key, by any identifier when encrypting,
/// by key ARN when decrypting.
#[derive(Debug)]
pub(crate) struct AwsKmsKeyring {
    kms: Arc<Kms>,
    key_id: String,
    target: Target,
}

impl AwsKmsKeyring {
    pub(crate) fn new(kms: Arc<Kms>, key_id: String, target: Target) -> Self {
        Self {
            kms,
            key_id,
            target,
        }
    }

    fn client(&self) -> Result<aws_sdk_kms::Client, KmsError> {
        let region = self
            .target
            .region
            .clone()
            .or_else(|| region_of(&self.key_id));
        Ok(self.kms.client(
            self.target.profile.as_deref(),
            region.as_deref(),
            &self.key_id,
        )?)
    }

    fn generate(&self, materials: &mut EncryptionMaterials) -> Result<(), KmsError> {
        const OP: &str = "GenerateDataKey";
        let client = self.client()?;
        let length = materials.suite().data_key_len();
        let request = client
            .generate_data_key()
            .key_id(&self.key_id)
            .number_of_bytes(length as i32)
            .set_encryption_context(kms_context(materials.encryption_context()));
        let mut out = self
            .kms
            .block_on(request.send())
            .map_err(|e| KmsError::from_sdk(OP, &self.key_id, e))?;
        let bad = |problem| KmsError::BadResponse {
            operation: OP,
            key_id: self.key_id.clone(),
            problem,
        };
        let plaintext = SecretBytes::new(
            out.plaintext
                .take()
                .ok_or_else(|| bad("no plaintext"))?
                .into_inner(),
        );
        if plaintext.len() != length {
            return Err(bad("a data key of the wrong length"));
        }
        let arn = out
            .key_id
            .take()
            .filter(|k| KmsArn::parse(k).is_some())
            .ok_or_else(|| bad("no key ARN"))?;
        let ciphertext = out
            .ciphertext_blob
            .take()
            .ok_or_else(|| bad("no ciphertext"))?
            .into_inner();
        materials
            .set_plaintext_data_key(plaintext)
            .map_err(|_| bad("a data key of the wrong length"))?;
        materials.add_encrypted_data_key(EncryptedDataKey {
            provider_id: PROVIDER_ID.to_owned(),
            provider_info: arn.into_bytes(),
            ciphertext,
        });
        Ok(())
    }

    fn wrap(&self, materials: &mut EncryptionMaterials) -> Result<(), KmsError> {
        const OP: &str = "Encrypt";
        let client = self.client()?;
        let bad = |problem| KmsError::BadResponse {
            operation: OP,
            key_id: self.key_id.clone(),
            problem,
        };
        let data_key = materials
            .plaintext_data_key()
            .ok_or_else(|| bad("no data key to wrap"))?;
        let request = client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(aws_sdk_kms::primitives::Blob::new(
                data_key.expose_secret().to_vec(),
            ))
            .set_encryption_context(kms_context(materials.encryption_context()));
        let mut out = self
            .kms
            .block_on(request.send())
            .map_err(|e| KmsError::from_sdk(OP, &self.key_id, e))?;
        let arn = out
            .key_id
            .take()
            .filter(|k| KmsArn::parse(k).is_some())
            .ok_or_else(|| bad("no key ARN"))?;
        let ciphertext = out
            .ciphertext_blob
            .take()
            .ok_or_else(|| bad("no ciphertext"))?
            .into_inner();
        materials.add_encrypted_data_key(EncryptedDataKey {
            provider_id: PROVIDER_ID.to_owned(),
            provider_info: arn.into_bytes(),
            ciphertext,
        });
        Ok(())
    }
}

impl Keyring for AwsKmsKeyring {
    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<(), KeyringError> {
        let result = if materials.plaintext_data_key().is_none() {
            self.generate(materials)
        } else {
            self.wrap(materials)
        };
        result.map_err(|e| KeyringError::Other(Box::new(e)))
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<(), KeyringError> {
        if materials.plaintext_data_key().is_some() {
            return Err(KeyringError::DataKeyAlreadySet);
        }
        let mut errors = Vec::new();
        for edk in encrypted_data_keys {
            let arn = match key_arn(edk) {
                Ok(Some(arn)) => arn,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            if arn != self.key_id {
                continue;
            }
            let client = match self.client() {
                Ok(c) => c,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            match decrypt_one(&self.kms, &client, &self.key_id, edk, materials) {
                Ok(key) => {
                    return materials.set_plaintext_data_key(key);
                }
                Err(e) => errors.push(e),
            }
        }
        Err(failure(errors))
    }
}

/// Which keys a discovery keyring may use: those of `accounts` in
/// `partition`.
#[derive(Debug, Clone)]
pub(crate) struct DiscoveryFilter {
    pub(crate) partition: String,
    pub(crate) accounts: Vec<String>,
}

/// The AWS KMS discovery keyring: decrypts with whichever KMS key a data
/// key names, within the filter. It cannot encrypt.
#[derive(Debug)]
pub(crate) struct AwsKmsDiscoveryKeyring {
    kms: Arc<Kms>,
    filter: Option<DiscoveryFilter>,
    profile: Option<String>,
}

impl AwsKmsDiscoveryKeyring {
    pub(crate) fn new(
        kms: Arc<Kms>,
        filter: Option<DiscoveryFilter>,
        profile: Option<String>,
    ) -> Self {
        Self {
            kms,
            filter,
            profile,
        }
    }

    fn admits(&self, arn: &KmsArn) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| f.partition == arn.partition && f.accounts.contains(&arn.account))
    }
}

impl Keyring for AwsKmsDiscoveryKeyring {
    fn on_encrypt(&self, _: &mut EncryptionMaterials) -> Result<(), KeyringError> {
        Err(KeyringError::CannotEncrypt(
            "an AWS KMS discovery keyring cannot encrypt",
        ))
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<(), KeyringError> {
        if materials.plaintext_data_key().is_some() {
            return Err(KeyringError::DataKeyAlreadySet);
        }
        let mut errors = Vec::new();
        for edk in encrypted_data_keys {
            let arn = match key_arn(edk) {
                Ok(Some(arn)) => arn,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let Some(parsed) = KmsArn::parse(&arn) else {
                continue;
            };
            if !self.admits(&parsed) {
                continue;
            }
            // The key's own region: a file may name keys of several.
            let client = match self
                .kms
                .client(self.profile.as_deref(), Some(&parsed.region), &arn)
            {
                Ok(c) => c,
                Err(e) => {
                    errors.push(e.into());
                    continue;
                }
            };
            match decrypt_one(&self.kms, &client, &arn, edk, materials) {
                Ok(key) => return materials.set_plaintext_data_key(key),
                Err(e) => errors.push(e),
            }
        }
        Err(failure(errors))
    }
}

/// The key ARN of an `aws-kms` data key; `None` for other providers; an
/// error if the provider info is not a key ARN (which the specification
/// says must fail the keyring).
fn key_arn(edk: &EncryptedDataKey) -> Result<Option<String>, KmsError> {
    if edk.provider_id != PROVIDER_ID {
        return Ok(None);
    }
    let info = String::from_utf8_lossy(&edk.provider_info).into_owned();
    match KmsArn::parse(&info) {
        Some(arn) if arn.resource_type == ResourceType::Key => Ok(Some(info)),
        _ => Err(KmsError::InvalidProviderInfo(info)),
    }
}

/// One `Decrypt` call, checked as the specification says: the response
/// names the key asked for, and the data key has the suite's length.
fn decrypt_one(
    kms: &Kms,
    client: &aws_sdk_kms::Client,
    key_id: &str,
    edk: &EncryptedDataKey,
    materials: &DecryptionMaterials,
) -> Result<SecretBytes, KmsError> {
    const OP: &str = "Decrypt";
    let request = client
        .decrypt()
        .key_id(key_id)
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(edk.ciphertext.clone()))
        .set_encryption_context(kms_context(materials.encryption_context()));
    let mut out = kms
        .block_on(request.send())
        .map_err(|e| KmsError::from_sdk(OP, key_id, e))?;
    let bad = |problem| KmsError::BadResponse {
        operation: OP,
        key_id: key_id.to_owned(),
        problem,
    };
    if out.key_id.as_deref() != Some(key_id) {
        return Err(bad("another key than the one asked for"));
    }
    let plaintext = SecretBytes::new(
        out.plaintext
            .take()
            .ok_or_else(|| bad("no plaintext"))?
            .into_inner(),
    );
    if plaintext.len() != materials.suite().data_key_len() {
        return Err(bad("a data key of the wrong length"));
    }
    Ok(plaintext)
}

/// The encryption context as KMS takes it; none at all when empty.
fn kms_context(context: &EncryptionContext) -> Option<HashMap<String, String>> {
    (!context.is_empty()).then(|| {
        context
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
}

fn failure(errors: Vec<KmsError>) -> KeyringError {
    if errors.is_empty() {
        KeyringError::UnableToDecrypt
    } else {
        KeyringError::Other(Box::new(DecryptFailures(errors)))
    }
}
