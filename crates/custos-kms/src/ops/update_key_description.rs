//! `UpdateKeyDescription`.

use custos_store::Engine;
use custos_wire::shapes::{Empty, UpdateKeyDescriptionRequest};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::check_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn update_key_description(
        &self,
        caller: &Caller,
        req: UpdateKeyDescriptionRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("description", &req.description);
        v.length("description", req.description.as_deref(), 0, 8192);
        v.into_result()?;
        let description = req.description.unwrap_or_default();

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::UpdateKeyDescription, KeySource::Named(&raw))
            .need(Need::NotPendingDeletion);
        let key = self.access(caller, request).await?;
        self.modify(&key, |k, _| {
            k.description = description.clone();
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
