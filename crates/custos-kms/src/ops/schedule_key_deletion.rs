//! `ScheduleKeyDeletion`: after a waiting period of 7 to 30 days, the
//! scheduler destroys the key and all its material (see
//! `crate::scheduler`). Until then the key can be recovered with
//! `CancelKeyDeletion`.

use custos_store::Engine;
use custos_wire::Timestamp;
use custos_wire::shapes::{ScheduleKeyDeletionRequest, ScheduleKeyDeletionResponse};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::model::KeyState;
use crate::ops::{DAY_MS, check_key_id};
use crate::{Caller, Kms, KmsError};

const DEFAULT_WINDOW_DAYS: i64 = 30;

impl<E: Engine> Kms<E> {
    pub async fn schedule_key_deletion(
        &self,
        caller: &Caller,
        req: ScheduleKeyDeletionRequest,
    ) -> Result<ScheduleKeyDeletionResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.range("pendingWindowInDays", req.pending_window_in_days, 1, 365);
        v.into_result()?;
        let days = req.pending_window_in_days.unwrap_or(DEFAULT_WINDOW_DAYS);
        // The model allows 1–365; KMS allows 7–30.
        let mut v = Violations::new();
        v.range("pendingWindowInDays", Some(days), 7, 30);
        v.into_result()?;

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::ScheduleKeyDeletion, KeySource::Named(&raw))
            .need(Need::NotPendingDeletion)
            .conditions(crate::authz::Conditions {
                pending_window_in_days: Some(days),
                ..crate::authz::Conditions::default()
            });
        let key = self.access(caller, request).await?;
        let deletion_ms = self.now_ms() + days * DAY_MS;
        let key = self
            .modify(&key, |k, _| {
                k.state = KeyState::PendingDeletion;
                k.deletion_ms = Some(deletion_ms);
                k.pending_window_days = u32::try_from(days).ok();
                Ok(())
            })
            .await?;
        Ok(ScheduleKeyDeletionResponse {
            key_id: key.arn(),
            deletion_date: Timestamp::from_millis(deletion_ms),
            key_state: KeyState::PendingDeletion.as_str().to_owned(),
            pending_window_in_days: days,
        })
    }
}
