//! `DisableKeyRotation`.

use custos_store::Engine;
use custos_wire::shapes::{Empty, KeyIdRequest};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::ops::{require_rotatable, required_key_id};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn disable_key_rotation(
        &self,
        caller: &Caller,
        req: KeyIdRequest,
    ) -> Result<Empty, KmsError> {
        let raw = required_key_id(req.key_id)?;
        let request = KeyRequest::new(Action::DisableKeyRotation, KeySource::Named(&raw));
        let (key, ()) = self
            .access_checked(caller, request, async |a| require_rotatable(a.key()))
            .await?;
        self.modify(&key, |k, _| {
            k.rotation = None;
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
