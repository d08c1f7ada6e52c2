//! Cryptographic materials: what keyrings receive and fill in.
//!
//! Encryption: the encryptor prepares [`EncryptionMaterials`] (suite,
//! encryption context with the signature key's public half, signing key),
//! each keyring generates or wraps the data key, and the encryptor writes
//! the message. Decryption: the decryptor prepares [`DecryptionMaterials`]
//! from the header (suite, encryption context, verification key) and a
//! keyring fills in the data key from one of the encrypted data keys.
//!
//! These are the seam for keyrings that are not in this crate (AWS KMS,
//! Custos itself): a caller may also run a keyring itself — blocking or
//! async — and hand the finished materials to
//! [`crate::Encryptor::with_materials`].

use std::collections::BTreeSet;

use custos_crypto::SecretBytes;
use custos_crypto::ecdsa::{SigningKey, VerifyingKey};

use crate::context::EncryptionContext;
use crate::header::EncryptedDataKey;
use crate::keyring::KeyringError;
use crate::suite::AlgorithmSuite;

/// The materials of one encryption.
#[derive(Debug)]
pub struct EncryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    required_context_keys: BTreeSet<String>,
    plaintext_data_key: Option<SecretBytes>,
    encrypted_data_keys: Vec<EncryptedDataKey>,
    signing_key: Option<SigningKey>,
}

impl EncryptionMaterials {
    pub(crate) fn new(
        suite: AlgorithmSuite,
        encryption_context: EncryptionContext,
        required_context_keys: BTreeSet<String>,
        signing_key: Option<SigningKey>,
    ) -> Self {
        Self {
            suite,
            encryption_context,
            required_context_keys,
            plaintext_data_key: None,
            encrypted_data_keys: Vec::new(),
            signing_key,
        }
    }

    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The full encryption context, including entries that will be
    /// authenticated but not stored, and `aws-crypto-public-key` for signed
    /// suites. Keyrings that bind the context (raw AES) use this.
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// Keys of entries authenticated but not stored in the header.
    pub fn required_context_keys(&self) -> &BTreeSet<String> {
        &self.required_context_keys
    }

    pub fn plaintext_data_key(&self) -> Option<&SecretBytes> {
        self.plaintext_data_key.as_ref()
    }

    /// Sets the data key. Fails if one is already set or if its length is
    /// not the suite's.
    pub fn set_plaintext_data_key(&mut self, key: SecretBytes) -> Result<(), KeyringError> {
        if self.plaintext_data_key.is_some() {
            return Err(KeyringError::DataKeyAlreadySet);
        }
        if key.len() != self.suite.data_key_len() {
            return Err(KeyringError::DataKeyLength);
        }
        self.plaintext_data_key = Some(key);
        Ok(())
    }

    pub fn encrypted_data_keys(&self) -> &[EncryptedDataKey] {
        &self.encrypted_data_keys
    }

    pub fn add_encrypted_data_key(&mut self, edk: EncryptedDataKey) {
        self.encrypted_data_keys.push(edk);
    }

    pub(crate) fn into_parts(
        self,
    ) -> (
        AlgorithmSuite,
        EncryptionContext,
        BTreeSet<String>,
        Option<SecretBytes>,
        Vec<EncryptedDataKey>,
        Option<SigningKey>,
    ) {
        (
            self.suite,
            self.encryption_context,
            self.required_context_keys,
            self.plaintext_data_key,
            self.encrypted_data_keys,
            self.signing_key,
        )
    }
}

/// The materials of one decryption.
#[derive(Debug)]
pub struct DecryptionMaterials {
    suite: AlgorithmSuite,
    encryption_context: EncryptionContext,
    required_context_keys: BTreeSet<String>,
    plaintext_data_key: Option<SecretBytes>,
    verifying_key: Option<VerifyingKey>,
}

impl DecryptionMaterials {
    pub(crate) fn new(
        suite: AlgorithmSuite,
        encryption_context: EncryptionContext,
        required_context_keys: BTreeSet<String>,
        verifying_key: Option<VerifyingKey>,
    ) -> Self {
        Self {
            suite,
            encryption_context,
            required_context_keys,
            plaintext_data_key: None,
            verifying_key,
        }
    }

    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    /// The full encryption context: the header's, plus entries supplied by
    /// the caller that were authenticated but not stored.
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    pub fn required_context_keys(&self) -> &BTreeSet<String> {
        &self.required_context_keys
    }

    pub fn plaintext_data_key(&self) -> Option<&SecretBytes> {
        self.plaintext_data_key.as_ref()
    }

    /// Sets the data key. Fails if one is already set or if its length is
    /// not the suite's.
    pub fn set_plaintext_data_key(&mut self, key: SecretBytes) -> Result<(), KeyringError> {
        if self.plaintext_data_key.is_some() {
            return Err(KeyringError::DataKeyAlreadySet);
        }
        if key.len() != self.suite.data_key_len() {
            return Err(KeyringError::DataKeyLength);
        }
        self.plaintext_data_key = Some(key);
        Ok(())
    }

    pub(crate) fn into_parts(
        self,
    ) -> (
        EncryptionContext,
        BTreeSet<String>,
        Option<SecretBytes>,
        Option<VerifyingKey>,
    ) {
        (
            self.encryption_context,
            self.required_context_keys,
            self.plaintext_data_key,
            self.verifying_key,
        )
    }
}

/// A fresh random data key for `suite`, for keyrings that generate one.
pub fn generate_data_key(suite: AlgorithmSuite) -> Result<SecretBytes, KeyringError> {
    let mut key = SecretBytes::new(vec![0u8; suite.data_key_len()]);
    custos_crypto::rand::fill(key.expose_secret_mut()).map_err(KeyringError::Crypto)?;
    Ok(key)
}
