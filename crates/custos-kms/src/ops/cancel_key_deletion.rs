//! `CancelKeyDeletion`: a key pending deletion comes back, disabled.

use custos_store::Engine;
use custos_wire::shapes::{KeyIdRequest, KeyIdResponse};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::model::KeyState;
use crate::ops::required_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn cancel_key_deletion(
        &self,
        caller: &Caller,
        req: KeyIdRequest,
    ) -> Result<KeyIdResponse, KmsError> {
        let raw = required_key_id(req.key_id)?;
        let not_pending = |k: &crate::model::KeyRecord| {
            KmsError::InvalidState(format!("{} is not pending deletion.", k.arn()))
        };
        let request =
            KeyRequest::new(Action::CancelKeyDeletion, KeySource::Named(&raw)).need(Need::AnyState);
        let (key, ()) = self
            .access_checked(caller, request, async |a| {
                if a.key().state == KeyState::PendingDeletion {
                    Ok(())
                } else {
                    Err(not_pending(a.key()))
                }
            })
            .await?;
        let key = self
            .modify(&key, |k, _| {
                if k.state != KeyState::PendingDeletion {
                    return Err(not_pending(k));
                }
                k.state = KeyState::Disabled;
                k.deletion_ms = None;
                k.pending_window_days = None;
                Ok(())
            })
            .await?;
        Ok(KeyIdResponse { key_id: key.arn() })
    }
}
