//! `DisableKey`: the key refuses cryptographic operations until enabled.

use custos_store::Engine;
use custos_wire::shapes::{Empty, KeyIdRequest};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::model::KeyState;
use crate::ops::required_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn disable_key(&self, caller: &Caller, req: KeyIdRequest) -> Result<Empty, KmsError> {
        let raw = required_key_id(req.key_id)?;
        let request =
            KeyRequest::new(Action::DisableKey, KeySource::Named(&raw)).need(Need::NotPending);
        let key = self.access(caller, request).await?;
        self.modify(&key, |k, _| {
            k.state = KeyState::Disabled;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
