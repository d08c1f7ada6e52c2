//! `EnableKeyRotation`: the scheduler adds new material every
//! `RotationPeriodInDays` (90–2560, default 365).

use custos_store::Engine;
use custos_wire::shapes::{Empty, EnableKeyRotationRequest};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::model::AutoRotation;
use crate::ops::{DAY_MS, check_key_id, require_rotatable};
use crate::{Caller, Kms, KmsError};

const DEFAULT_PERIOD_DAYS: i64 = 365;

impl<E: Engine> Kms<E> {
    pub async fn enable_key_rotation(
        &self,
        caller: &Caller,
        req: EnableKeyRotationRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.range(
            "rotationPeriodInDays",
            req.rotation_period_in_days,
            90,
            2560,
        );
        v.into_result()?;
        let days = req.rotation_period_in_days.unwrap_or(DEFAULT_PERIOD_DAYS);

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::EnableKeyRotation, KeySource::Named(&raw))
            .conditions(crate::authz::Conditions {
                rotation_period_in_days: Some(days),
                ..crate::authz::Conditions::default()
            });
        let (key, ()) = self
            .access_checked(caller, request, async |a| require_rotatable(a.key()))
            .await?;
        let now = self.now_ms();
        self.modify(&key, |k, _| {
            // The next rotation is one period after the last automatic
            // rotation, or after creation; never in the past.
            let last = k
                .materials
                .iter()
                .rev()
                .find(|m| m.rotation_type == Some(crate::model::RotationType::Automatic))
                .map_or(k.created_ms, |m| m.created_ms);
            k.rotation = Some(AutoRotation {
                period_days: u32::try_from(days).unwrap_or(365),
                next_rotation_ms: (last + days * DAY_MS).max(now),
            });
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
