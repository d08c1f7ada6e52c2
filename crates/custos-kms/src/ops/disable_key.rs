//! `DisableKey`: the key refuses cryptographic operations until enabled.

use custos_store::Engine;
use custos_wire::shapes::{Empty, KeyIdRequest};

use crate::authz::Action;
use crate::model::KeyState;
use crate::ops::required_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn disable_key(&self, caller: &Caller, req: KeyIdRequest) -> Result<Empty, KmsError> {
        let raw = required_key_id(req.key_id)?;
        let key = self.resolve(caller, &raw).await?;
        self.authorize(caller, Action::DisableKey, Some(&key))
            .await?;
        self.require_not_pending(&key)?;
        self.modify_key(&key, |k, _| {
            self.require_not_pending(k)?;
            k.state = KeyState::Disabled;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
