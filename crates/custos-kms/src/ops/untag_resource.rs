//! `UntagResource`: removes tags by key; absent keys are ignored.

use custos_store::Engine;
use custos_wire::shapes::{Empty, UntagResourceRequest};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::check_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn untag_resource(
        &self,
        caller: &Caller,
        req: UntagResourceRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("tagKeys", &req.tag_keys);
        for k in req.tag_keys.iter().flatten() {
            v.length("tagKeys.member", Some(k), 1, 128);
        }
        v.into_result()?;
        let remove = req.tag_keys.unwrap_or_default();

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::UntagResource, KeySource::NamedNotAlias(&raw))
            .need(Need::NotPendingDeletion)
            .conditions(crate::authz::Conditions {
                tag_keys: &remove,
                ..crate::authz::Conditions::default()
            });
        let key = self.access(caller, request).await?;
        self.modify(&key, |k, _| {
            k.tags.retain(|(tag_key, _)| !remove.contains(tag_key));
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
