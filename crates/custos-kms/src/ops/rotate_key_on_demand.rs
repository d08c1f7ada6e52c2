//! `RotateKeyOnDemand`: new material now, at most 10 times per key, as on
//! AWS. Custos rotates within the request, so the rotation is complete (and
//! listed by `ListKeyRotations`) when the response arrives.

use custos_store::Engine;
use custos_wire::shapes::{KeyIdRequest, KeyIdResponse};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::model::RotationType;
use crate::ops::{require_rotatable, required_key_id};
use crate::{Caller, Kms, KmsError};

/// AWS's quota of on-demand rotations per key.
const MAX_ON_DEMAND_ROTATIONS: usize = 10;

impl<E: Engine> Kms<E> {
    pub async fn rotate_key_on_demand(
        &self,
        caller: &Caller,
        req: KeyIdRequest,
    ) -> Result<KeyIdResponse, KmsError> {
        let raw = required_key_id(req.key_id)?;
        let request = KeyRequest::new(Action::RotateKeyOnDemand, KeySource::Named(&raw));
        let (key, ()) = self
            .access_checked(caller, request, async |a| require_rotatable(a.key()))
            .await?;
        let now = self.now_ms();
        let key = self
            .modify(&key, |k, batch| {
                let done = k
                    .materials
                    .iter()
                    .filter(|m| m.rotation_type == Some(RotationType::OnDemand))
                    .count();
                if done >= MAX_ON_DEMAND_ROTATIONS {
                    return Err(KmsError::LimitExceeded(format!(
                        "{} has reached the maximum of {MAX_ON_DEMAND_ROTATIONS} on-demand \
                         rotations.",
                        k.arn()
                    )));
                }
                self.add_material_version(k, RotationType::OnDemand, now, batch)?;
                k.on_demand_rotation_ms = Some(now);
                Ok(())
            })
            .await?;
        Ok(KeyIdResponse { key_id: key.arn() })
    }
}
