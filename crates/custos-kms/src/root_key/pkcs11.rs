//! The PKCS#11 root-key provider: the root key is an AES key inside a
//! hardware security module (or SoftHSM2), created there by its operators
//! and never extractable; the store key is wrapped and unwrapped by the
//! token itself with AES-GCM (`CKM_AES_GCM`, 96-bit IV, 128-bit tag), so
//! the root key is never in Custos' memory at all. The server unseals
//! itself at start while the token is present and the PIN is right
//! (auto-unseal).
//!
//! The wrapped store key is `0x04 ‖ IV (12) ‖ AES-GCM(root key, IV, aad,
//! store key) ‖ tag (16)`, the IV drawn from aws-lc's generator.

use std::path::Path;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use custos_crypto::{Key256, SecretBytes};

use super::{RootKeyError, RootKeyProvider};

const WRAP_FORMAT: u8 = 4;
const IV_LEN: usize = 12;

/// A root key that is an AES key in a PKCS#11 token.
pub struct Pkcs11Provider {
    context: Pkcs11,
    slot: Slot,
    pin: SecretBytes,
    key_label: String,
}

impl std::fmt::Debug for Pkcs11Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Provider")
            .field("key_label", &self.key_label)
            .finish_non_exhaustive()
    }
}

fn unavailable(message: impl std::fmt::Display) -> RootKeyError {
    RootKeyError::Unavailable {
        provider: "pkcs11",
        message: message.to_string(),
    }
}

impl Pkcs11Provider {
    /// Loads `module`, finds the token labelled `token_label`, and will use
    /// its secret key labelled `key_label` with `pin` (the user PIN).
    pub fn new(
        module: &Path,
        token_label: &str,
        key_label: &str,
        pin: SecretBytes,
    ) -> Result<Self, RootKeyError> {
        let context = Pkcs11::new(module)
            .map_err(|e| unavailable(format!("cannot load {}: {e}", module.display())))?;
        context
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| unavailable(format!("cannot initialise {}: {e}", module.display())))?;
        let slot = context
            .get_slots_with_token()
            .map_err(unavailable)?
            .into_iter()
            .find(|slot| {
                context
                    .get_token_info(*slot)
                    .is_ok_and(|info| info.label().trim() == token_label)
            })
            .ok_or_else(|| unavailable(format!("no token labelled {token_label:?}")))?;
        Ok(Self {
            context,
            slot,
            pin,
            key_label: key_label.to_owned(),
        })
    }

    /// A logged-in session and the root key's handle.
    fn session(&self) -> Result<(Session, ObjectHandle), RootKeyError> {
        let session = self
            .context
            .open_ro_session(self.slot)
            .map_err(unavailable)?;
        let pin = std::str::from_utf8(self.pin.expose_secret())
            .map_err(|_| unavailable("the PIN is not UTF-8 text"))?;
        session
            .login(UserType::User, Some(&AuthPin::new(pin.into())))
            .map_err(|e| unavailable(format!("cannot log in to the token: {e}")))?;
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Label(self.key_label.as_bytes().to_vec()),
            ])
            .map_err(unavailable)?;
        match found.as_slice() {
            [key] => Ok((session, *key)),
            [] => Err(unavailable(format!(
                "the token has no secret key labelled {:?}",
                self.key_label
            ))),
            _ => Err(unavailable(format!(
                "the token has several secret keys labelled {:?}",
                self.key_label
            ))),
        }
    }
}

impl RootKeyProvider for Pkcs11Provider {
    fn kind(&self) -> &'static str {
        "pkcs11"
    }

    fn is_development(&self) -> bool {
        false
    }

    fn wrap(&self, store_key: &Key256, aad: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let (session, key) = self.session()?;
        let mut iv: [u8; IV_LEN] = custos_crypto::rand::array()?;
        let sealed = {
            let params = GcmParams::new(&mut iv, aad, 128.into()).map_err(unavailable)?;
            session
                .encrypt(&Mechanism::AesGcm(params), key, store_key.expose_secret())
                .map_err(unavailable)?
        };
        let mut out = vec![WRAP_FORMAT];
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key256, RootKeyError> {
        let Some((&WRAP_FORMAT, rest)) = wrapped.split_first() else {
            return Err(RootKeyError::WrongKey);
        };
        if rest.len() < IV_LEN {
            return Err(RootKeyError::WrongKey);
        }
        let (iv, sealed) = rest.split_at(IV_LEN);
        let mut iv: [u8; IV_LEN] = iv.try_into().map_err(|_| RootKeyError::WrongKey)?;
        let (session, key) = self.session()?;
        let params = GcmParams::new(&mut iv, aad, 128.into()).map_err(unavailable)?;
        // A tag that does not verify is the token saying "not this key".
        let plaintext = SecretBytes::new(
            session
                .decrypt(&Mechanism::AesGcm(params), key, sealed)
                .map_err(|_| RootKeyError::WrongKey)?,
        );
        Ok(Key256::from_slice(plaintext.expose_secret())?)
    }
}
