//! `GetKeyRotationStatus`.

use custos_store::Engine;
use custos_wire::Timestamp;
use custos_wire::shapes::{GetKeyRotationStatusResponse, KeyIdRequest};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::{require_rotatable, required_key_id};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn get_key_rotation_status(
        &self,
        caller: &Caller,
        req: KeyIdRequest,
    ) -> Result<GetKeyRotationStatusResponse, KmsError> {
        let raw = required_key_id(req.key_id)?;
        let request = KeyRequest::new(Action::GetKeyRotationStatus, KeySource::Named(&raw))
            .need(Need::AnyState);
        let (key, ()) = self
            .access_checked(caller, request, async |a| require_rotatable(a.key()))
            .await?;
        let key = key.key();
        Ok(GetKeyRotationStatusResponse {
            key_rotation_enabled: key.rotation.is_some(),
            key_id: key.arn(),
            rotation_period_in_days: key.rotation.as_ref().map(|r| i64::from(r.period_days)),
            next_rotation_date: key
                .rotation
                .as_ref()
                .map(|r| Timestamp::from_millis(r.next_rotation_ms)),
            on_demand_rotation_start_date: key.on_demand_rotation_ms.map(Timestamp::from_millis),
        })
    }
}
