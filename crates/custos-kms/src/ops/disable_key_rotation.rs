//! `DisableKeyRotation`.

use custos_store::Engine;
use custos_wire::shapes::{Empty, KeyIdRequest};

use crate::authz::Action;
use crate::ops::{require_rotatable, required_key_id};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn disable_key_rotation(
        &self,
        caller: &Caller,
        req: KeyIdRequest,
    ) -> Result<Empty, KmsError> {
        let raw = required_key_id(req.key_id)?;
        let key = self.resolve(caller, &raw).await?;
        self.authorize(caller, Action::DisableKeyRotation, Some(&key))
            .await?;
        self.require_enabled(&key)?;
        require_rotatable(&key)?;
        self.modify_key(&key, |k, _| {
            self.require_enabled(k)?;
            k.rotation = None;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
