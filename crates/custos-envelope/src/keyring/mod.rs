//! Keyrings: what generates, wraps and unwraps data keys
//! (`framework/keyring-interface.md`).
//!
//! - [`RawAesKeyring`]: AES-GCM wrapping under a local key.
//! - [`RawRsaKeyring`]: RSA-OAEP (or PKCS #1 v1.5) wrapping under a local
//!   key pair.
//! - [`MultiKeyring`]: one generator and any number of other keyrings, so
//!   that a message can be opened with any of several keys.
//!
//! The trait is blocking. A keyring that talks to a service (AWS KMS,
//! Custos) can implement it by blocking on its client — from a thread where
//! that is allowed — or its caller can run it asynchronously and pass the
//! resulting materials to [`crate::Encryptor::with_materials`].

mod raw_aes;
mod raw_rsa;

use std::fmt;
use std::sync::Arc;

pub use raw_aes::RawAesKeyring;
pub use raw_rsa::RawRsaKeyring;

use crate::header::EncryptedDataKey;
use crate::materials::{DecryptionMaterials, EncryptionMaterials};

/// Generates, wraps and unwraps data keys.
///
/// On failure an implementation must leave the materials as they were.
pub trait Keyring: Send + Sync + fmt::Debug {
    /// Adds an encrypted data key to `materials`, first generating the
    /// plaintext data key if there is none yet.
    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<(), KeyringError>;

    /// Sets the plaintext data key of `materials` from the first of
    /// `encrypted_data_keys` this keyring can decrypt. Fails if the
    /// materials already have a data key.
    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<(), KeyringError>;
}

impl<K: Keyring + ?Sized> Keyring for Arc<K> {
    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<(), KeyringError> {
        (**self).on_encrypt(materials)
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<(), KeyringError> {
        (**self).on_decrypt(materials, encrypted_data_keys)
    }
}

/// Why a keyring failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// None of the encrypted data keys was for this keyring, or none of
    /// those that were would decrypt. Deliberately says no more.
    #[error("no encrypted data key could be decrypted with the keyring")]
    UnableToDecrypt,
    /// The keyring cannot encrypt (a raw RSA keyring without a public key).
    #[error("the keyring cannot encrypt: {0}")]
    CannotEncrypt(&'static str),
    /// The keyring cannot decrypt (a raw RSA keyring without a private key).
    #[error("the keyring cannot decrypt: {0}")]
    CannotDecrypt(&'static str),
    /// The keyring was configured wrongly.
    #[error("invalid keyring configuration: {0}")]
    InvalidConfiguration(&'static str),
    /// A data key was already present.
    #[error("the materials already hold a data key")]
    DataKeyAlreadySet,
    /// A data key of the wrong length for the suite.
    #[error("the data key length does not match the algorithm suite")]
    DataKeyLength,
    /// An encrypt-side cryptographic failure (randomness, encryption).
    #[error("cryptographic operation failed")]
    Crypto(#[source] custos_crypto::Error),
    /// A failure from outside this crate (a KMS call, say).
    #[error("keyring failure: {0}")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Several keyrings as one: on encryption the generator makes and wraps
/// the data key and every child wraps it too; on decryption the generator
/// and then each child is tried until one succeeds.
#[derive(Debug, Clone)]
pub struct MultiKeyring {
    generator: Option<Arc<dyn Keyring>>,
    children: Vec<Arc<dyn Keyring>>,
}

impl MultiKeyring {
    /// A multi-keyring; without a generator it can only add wrappings of a
    /// data key that already exists (and decrypt).
    pub fn new(generator: Option<Arc<dyn Keyring>>, children: Vec<Arc<dyn Keyring>>) -> Self {
        Self {
            generator,
            children,
        }
    }
}

impl Keyring for MultiKeyring {
    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<(), KeyringError> {
        match &self.generator {
            Some(g) => g.on_encrypt(materials)?,
            None if materials.plaintext_data_key().is_none() => {
                return Err(KeyringError::InvalidConfiguration(
                    "a multi-keyring without a generator cannot create data keys",
                ));
            }
            None => {}
        }
        for child in &self.children {
            child.on_encrypt(materials)?;
        }
        Ok(())
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<(), KeyringError> {
        if materials.plaintext_data_key().is_some() {
            return Err(KeyringError::DataKeyAlreadySet);
        }
        let mut last = None;
        for keyring in self.generator.iter().chain(&self.children) {
            match keyring.on_decrypt(materials, encrypted_data_keys) {
                Ok(()) => return Ok(()),
                // Keep a failure from outside (a service error, say) to
                // report if nothing succeeds; "not mine" and "cannot
                // decrypt at all" just mean: try the next keyring.
                Err(e @ KeyringError::Other(_)) => last = Some(e),
                Err(_) => {}
            }
        }
        Err(last.unwrap_or(KeyringError::UnableToDecrypt))
    }
}
