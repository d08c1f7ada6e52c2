//! The raw RSA keyring (`framework/raw-rsa-keyring.md`).
//!
//! The data key is RSA-encrypted under the public key. The encrypted data
//! key is: provider ID = key namespace, provider info = key name,
//! ciphertext = the RSA ciphertext. The encryption context is not bound by
//! the wrapping (it is still bound by the header tag).

use custos_crypto::rsa::{RsaPadding, RsaPrivateKey, RsaPublicKey};

use super::{Keyring, KeyringError};
use crate::header::EncryptedDataKey;
use crate::materials::{DecryptionMaterials, EncryptionMaterials, generate_data_key};

/// Wraps data keys under a local RSA key pair. With only a public key it
/// can encrypt; with only a private key it can decrypt.
#[derive(Debug)]
pub struct RawRsaKeyring {
    namespace: String,
    name: String,
    padding: RsaPadding,
    public_key: Option<RsaPublicKey>,
    private_key: Option<RsaPrivateKey>,
}

impl RawRsaKeyring {
    /// A keyring known to readers as `namespace` and `name`. At least one
    /// key is needed. The public key is never derived from the private one:
    /// a keyring given only a private key cannot encrypt, as the
    /// specification requires.
    pub fn new(
        namespace: &str,
        name: &str,
        padding: RsaPadding,
        public_key: Option<RsaPublicKey>,
        private_key: Option<RsaPrivateKey>,
    ) -> Result<Self, KeyringError> {
        if namespace == "aws-kms" {
            return Err(KeyringError::InvalidConfiguration(
                "the key namespace \"aws-kms\" is reserved",
            ));
        }
        if public_key.is_none() && private_key.is_none() {
            return Err(KeyringError::InvalidConfiguration(
                "a raw RSA keyring needs a public key, a private key or both",
            ));
        }
        Ok(Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            padding,
            public_key,
            private_key,
        })
    }

    /// A keyring from PEM keys: a `PUBLIC KEY` (X.509
    /// SubjectPublicKeyInfo) and/or a `PRIVATE KEY` (PKCS #8).
    pub fn from_pem(
        namespace: &str,
        name: &str,
        padding: RsaPadding,
        public_pem: Option<&str>,
        private_pem: Option<&str>,
    ) -> Result<Self, KeyringError> {
        let public_key = public_pem
            .map(RsaPublicKey::from_pem)
            .transpose()
            .map_err(|_| KeyringError::InvalidConfiguration("unreadable RSA public key"))?;
        let private_key = private_pem
            .map(RsaPrivateKey::from_pem)
            .transpose()
            .map_err(|_| KeyringError::InvalidConfiguration("unreadable RSA private key"))?;
        Self::new(namespace, name, padding, public_key, private_key)
    }
}

impl Keyring for RawRsaKeyring {
    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<(), KeyringError> {
        let public = self.public_key.as_ref().ok_or(KeyringError::CannotEncrypt(
            "the raw RSA keyring has no public key",
        ))?;
        let generated = match materials.plaintext_data_key() {
            Some(_) => None,
            None => Some(generate_data_key(materials.suite())?),
        };
        // `generated` is `Some` exactly when the materials had no key.
        let data_key = generated
            .as_ref()
            .or(materials.plaintext_data_key())
            .ok_or(KeyringError::DataKeyLength)?;
        let ciphertext = public
            .encrypt(self.padding, data_key.expose_secret())
            .map_err(KeyringError::Crypto)?;
        let edk = EncryptedDataKey {
            provider_id: self.namespace.clone(),
            provider_info: self.name.as_bytes().to_vec(),
            ciphertext,
        };
        if let Some(k) = generated {
            materials.set_plaintext_data_key(k)?;
        }
        materials.add_encrypted_data_key(edk);
        Ok(())
    }

    fn on_decrypt(
        &self,
        materials: &mut DecryptionMaterials,
        encrypted_data_keys: &[EncryptedDataKey],
    ) -> Result<(), KeyringError> {
        let private = self
            .private_key
            .as_ref()
            .ok_or(KeyringError::CannotDecrypt(
                "the raw RSA keyring has no private key",
            ))?;
        if materials.plaintext_data_key().is_some() {
            return Err(KeyringError::DataKeyAlreadySet);
        }
        for edk in encrypted_data_keys {
            if edk.provider_id != self.namespace || edk.provider_info != self.name.as_bytes() {
                continue;
            }
            if let Ok(key) = private.decrypt(self.padding, &edk.ciphertext)
                && key.len() == materials.suite().data_key_len()
            {
                return materials.set_plaintext_data_key(key);
            }
        }
        Err(KeyringError::UnableToDecrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::EncryptionContext;
    use crate::suite::AlgorithmSuite;

    #[test]
    fn wraps_and_unwraps_and_respects_key_roles() {
        let private = RsaPrivateKey::generate(2048).expect("rsa");
        let public = private.public_key();
        let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
        let encrypt_only =
            RawRsaKeyring::new("ns", "k", RsaPadding::OaepSha256, Some(public), None)
                .expect("keyring");
        let decrypt_only =
            RawRsaKeyring::new("ns", "k", RsaPadding::OaepSha256, None, Some(private))
                .expect("keyring");
        let mut m =
            EncryptionMaterials::new(suite, EncryptionContext::new(), Default::default(), None);
        assert!(matches!(
            decrypt_only.on_encrypt(&mut m),
            Err(KeyringError::CannotEncrypt(_))
        ));
        assert!(m.plaintext_data_key().is_none());
        encrypt_only.on_encrypt(&mut m).expect("encrypt");
        let edk = &m.encrypted_data_keys()[0];
        assert_eq!(
            (edk.provider_id.as_str(), &edk.provider_info[..]),
            ("ns", &b"k"[..])
        );
        assert_eq!(edk.ciphertext.len(), 256);

        let mut d =
            DecryptionMaterials::new(suite, EncryptionContext::new(), Default::default(), None);
        assert!(matches!(
            encrypt_only.on_decrypt(&mut d, m.encrypted_data_keys()),
            Err(KeyringError::CannotDecrypt(_))
        ));
        decrypt_only
            .on_decrypt(&mut d, m.encrypted_data_keys())
            .expect("decrypt");
        assert_eq!(
            d.plaintext_data_key().expect("key").expose_secret(),
            m.plaintext_data_key().expect("key").expose_secret()
        );
        assert!(RawRsaKeyring::new("ns", "k", RsaPadding::OaepSha1, None, None).is_err());
    }
}
