//! The raw AES keyring (`framework/raw-aes-keyring.md`).
//!
//! The data key is encrypted with AES-GCM under the wrapping key, with a
//! random 12-byte IV and the serialized encryption context as AAD. The
//! encrypted data key is:
//!
//! - provider ID: the key namespace;
//! - provider info: key name ‖ tag length in *bits* (`u32`, 128) ‖ IV
//!   length (`u32`, 12) ‖ IV;
//! - ciphertext: encrypted data key ‖ tag.

use custos_crypto::SecretBytes;
use custos_crypto::aes_gcm::{AesGcmKey, NONCE_LEN, TAG_LEN};

use super::{Keyring, KeyringError};
use crate::header::EncryptedDataKey;
use crate::materials::{DecryptionMaterials, EncryptionMaterials, generate_data_key};

/// Wraps data keys under a local AES key of 128, 192 or 256 bits.
#[derive(Debug)]
pub struct RawAesKeyring {
    namespace: String,
    name: String,
    key: AesGcmKey,
}

impl RawAesKeyring {
    /// A keyring for the wrapping key `key` (16, 24 or 32 bytes), known to
    /// readers as `namespace` and `name`. The namespace `aws-kms` is
    /// reserved and refused.
    pub fn new(namespace: &str, name: &str, key: &SecretBytes) -> Result<Self, KeyringError> {
        if namespace == "aws-kms" {
            return Err(KeyringError::InvalidConfiguration(
                "the key namespace \"aws-kms\" is reserved",
            ));
        }
        let key = AesGcmKey::new(key.expose_secret()).map_err(|_| {
            KeyringError::InvalidConfiguration("AES wrapping keys are 128, 192 or 256 bits")
        })?;
        Ok(Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            key,
        })
    }

    fn provider_info(&self, iv: &[u8; NONCE_LEN]) -> Vec<u8> {
        let mut info = Vec::with_capacity(self.name.len() + 8 + NONCE_LEN);
        info.extend_from_slice(self.name.as_bytes());
        info.extend_from_slice(&((TAG_LEN * 8) as u32).to_be_bytes());
        info.extend_from_slice(&(NONCE_LEN as u32).to_be_bytes());
        info.extend_from_slice(iv);
        info
    }

    /// The IV from provider info written by this keyring, if it is that.
    fn iv_from_info(&self, info: &[u8]) -> Option<[u8; NONCE_LEN]> {
        let rest = info.strip_prefix(self.name.as_bytes())?;
        let (tag_bits, rest) = rest.split_at_checked(4)?;
        let (iv_len, iv) = rest.split_at_checked(4)?;
        let tag_ok = tag_bits == ((TAG_LEN * 8) as u32).to_be_bytes();
        let iv_len_ok = iv_len == (NONCE_LEN as u32).to_be_bytes();
        if !(tag_ok && iv_len_ok) {
            return None;
        }
        iv.try_into().ok()
    }
}

impl Keyring for RawAesKeyring {
    fn on_encrypt(&self, materials: &mut EncryptionMaterials) -> Result<(), KeyringError> {
        let aad = materials
            .encryption_context()
            .serialize()
            .map_err(|_| KeyringError::InvalidConfiguration("encryption context too large"))?;
        let generated = match materials.plaintext_data_key() {
            Some(_) => None,
            None => Some(generate_data_key(materials.suite())?),
        };
        let iv: [u8; NONCE_LEN] = custos_crypto::rand::array().map_err(KeyringError::Crypto)?;
        // `generated` is `Some` exactly when the materials had no key.
        let data_key = generated
            .as_ref()
            .or(materials.plaintext_data_key())
            .ok_or(KeyringError::DataKeyLength)?;
        let mut ciphertext = Vec::with_capacity(data_key.len() + TAG_LEN);
        self.key
            .seal_append(&iv, &aad, data_key.expose_secret(), &mut ciphertext)
            .map_err(KeyringError::Crypto)?;
        let edk = EncryptedDataKey {
            provider_id: self.namespace.clone(),
            provider_info: self.provider_info(&iv),
            ciphertext,
        };
        // Only now, with everything done, change the materials.
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
        if materials.plaintext_data_key().is_some() {
            return Err(KeyringError::DataKeyAlreadySet);
        }
        let aad = materials
            .encryption_context()
            .serialize()
            .map_err(|_| KeyringError::UnableToDecrypt)?;
        for edk in encrypted_data_keys {
            if edk.provider_id != self.namespace {
                continue;
            }
            let Some(iv) = self.iv_from_info(&edk.provider_info) else {
                continue;
            };
            if let Ok(key) = self.key.open(&iv, &aad, &edk.ciphertext)
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

    fn materials(ec: &EncryptionContext) -> EncryptionMaterials {
        EncryptionMaterials::new(
            AlgorithmSuite::Aes192GcmIv12Tag16HkdfSha256,
            ec.clone(),
            Default::default(),
            None,
        )
    }

    #[test]
    fn wraps_and_unwraps_with_the_spec_layout() {
        let ec: EncryptionContext = [("a", "b")].into_iter().collect();
        for len in [16, 24, 32] {
            let kr =
                RawAesKeyring::new("ns", "name", &SecretBytes::new(vec![7; len])).expect("keyring");
            let mut m = materials(&ec);
            kr.on_encrypt(&mut m).expect("encrypt");
            let key = m.plaintext_data_key().expect("generated").duplicate();
            assert_eq!(key.len(), 24);
            let edk = &m.encrypted_data_keys()[0];
            assert_eq!(edk.provider_id, "ns");
            assert_eq!(&edk.provider_info[..4], b"name");
            assert_eq!(&edk.provider_info[4..12], &[0, 0, 0, 128, 0, 0, 0, 12]);
            assert_eq!(edk.provider_info.len(), 4 + 8 + 12);
            assert_eq!(edk.ciphertext.len(), 24 + 16);

            let mut d = DecryptionMaterials::new(m.suite(), ec.clone(), Default::default(), None);
            kr.on_decrypt(&mut d, m.encrypted_data_keys())
                .expect("decrypt");
            assert_eq!(
                d.plaintext_data_key().expect("key").expose_secret(),
                key.expose_secret()
            );
            // Already set: refused.
            assert!(kr.on_decrypt(&mut d, m.encrypted_data_keys()).is_err());

            // Another context, name, namespace or key: not decryptable.
            let other_ec: EncryptionContext = [("a", "c")].into_iter().collect();
            let mut d = DecryptionMaterials::new(m.suite(), other_ec, Default::default(), None);
            assert!(matches!(
                kr.on_decrypt(&mut d, m.encrypted_data_keys()),
                Err(KeyringError::UnableToDecrypt)
            ));
            assert!(d.plaintext_data_key().is_none());
            for other in [
                RawAesKeyring::new("ns", "other", &SecretBytes::new(vec![7; len])),
                RawAesKeyring::new("ns2", "name", &SecretBytes::new(vec![7; len])),
                RawAesKeyring::new("ns", "name", &SecretBytes::new(vec![8; len])),
            ] {
                let mut d =
                    DecryptionMaterials::new(m.suite(), ec.clone(), Default::default(), None);
                assert!(
                    other
                        .expect("keyring")
                        .on_decrypt(&mut d, m.encrypted_data_keys())
                        .is_err()
                );
            }
        }
    }

    #[test]
    fn second_keyring_wraps_the_same_key() {
        let ec = EncryptionContext::new();
        let a = RawAesKeyring::new("ns", "a", &SecretBytes::new(vec![1; 32])).expect("keyring");
        let b = RawAesKeyring::new("ns", "b", &SecretBytes::new(vec![2; 32])).expect("keyring");
        let mut m = materials(&ec);
        a.on_encrypt(&mut m).expect("a");
        b.on_encrypt(&mut m).expect("b");
        assert_eq!(m.encrypted_data_keys().len(), 2);
        let mut d = DecryptionMaterials::new(m.suite(), ec, Default::default(), None);
        b.on_decrypt(&mut d, m.encrypted_data_keys())
            .expect("b decrypts");
        assert_eq!(
            d.plaintext_data_key().expect("key").expose_secret(),
            m.plaintext_data_key().expect("key").expose_secret()
        );
    }

    #[test]
    fn refuses_bad_configuration() {
        let key = SecretBytes::new(vec![0; 32]);
        assert!(RawAesKeyring::new("aws-kms", "x", &key).is_err());
        assert!(RawAesKeyring::new("ns", "x", &SecretBytes::new(vec![0; 20])).is_err());
    }
}
