//! From the data key to the AES-GCM key and the commitment key
//! (`framework/transitive-requirements.md`).
//!
//! - Identity suites (`0x00xx`): the data key is the AES key.
//! - HKDF suites without commitment (`0x01xx`–`0x03xx`): HKDF with the
//!   suite's hash, no salt, info = suite ID (2 bytes) ‖ message ID
//!   (16 bytes), output = AES key length.
//! - Committing suites (`0x0478`, `0x0578`): one HKDF-SHA512 extract with
//!   salt = the 32-byte message ID, then two expands: the AES key with info
//!   = suite ID ‖ `"DERIVEKEY"`, and the 32-byte commitment key with info =
//!   `"COMMITKEY"`. The commitment key is stored in the header, and checked
//!   in constant time on decryption.

use custos_crypto::SecretBytes;
use custos_crypto::aes_gcm::AesGcmKey;
use custos_crypto::hkdf;

use crate::error::Error;
use crate::header::MessageId;
use crate::suite::{AlgorithmSuite, KeyDerivation};

/// What a data key yields for one message.
#[derive(Debug)]
pub(crate) struct MessageKeys {
    pub(crate) content_key: AesGcmKey,
    pub(crate) commitment: Option<[u8; AlgorithmSuite::COMMITMENT_LEN]>,
}

/// Derives the content key (and commitment key) of a message.
pub(crate) fn derive(
    suite: AlgorithmSuite,
    data_key: &SecretBytes,
    message_id: &MessageId,
) -> Result<MessageKeys, Error> {
    if data_key.len() != suite.data_key_len() {
        return Err(Error::InvalidMaterials(
            "data key length does not match the suite",
        ));
    }
    let suite_id = suite.id().to_be_bytes();
    match suite.key_derivation() {
        KeyDerivation::Identity => Ok(MessageKeys {
            content_key: AesGcmKey::new(data_key.expose_secret()).map_err(Error::Crypto)?,
            commitment: None,
        }),
        KeyDerivation::Hkdf(hash) if suite.is_committing() => {
            let prk = hkdf::extract(hash, message_id.as_bytes(), data_key.expose_secret());
            let key = prk
                .expand(&[&suite_id, b"DERIVEKEY"], suite.data_key_len())
                .map_err(Error::Crypto)?;
            let commit = prk
                .expand(&[b"COMMITKEY"], AlgorithmSuite::COMMITMENT_LEN)
                .map_err(Error::Crypto)?;
            let mut commitment = [0u8; AlgorithmSuite::COMMITMENT_LEN];
            commitment.copy_from_slice(commit.expose_secret());
            Ok(MessageKeys {
                content_key: AesGcmKey::new(key.expose_secret()).map_err(Error::Crypto)?,
                commitment: Some(commitment),
            })
        }
        KeyDerivation::Hkdf(hash) => {
            let key = hkdf::hkdf(
                hash,
                data_key.expose_secret(),
                &[],
                &[&suite_id, message_id.as_bytes()],
                suite.data_key_len(),
            )
            .map_err(Error::Crypto)?;
            Ok(MessageKeys {
                content_key: AesGcmKey::new(key.expose_secret()).map_err(Error::Crypto)?,
                commitment: None,
            })
        }
    }
}
