//! `UntagResource`: removes tags by key; absent keys are ignored.

use custos_store::Engine;
use custos_wire::shapes::{Empty, UntagResourceRequest};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::ops::{check_key_id, resolve_not_alias};
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

        let key = resolve_not_alias(self, caller, &req.key_id.unwrap_or_default()).await?;
        self.authorize_with(
            caller,
            Action::UntagResource,
            Some(&key),
            &crate::authz::Conditions {
                tag_keys: &remove,
                ..crate::authz::Conditions::default()
            },
        )
        .await?;
        self.require_not_pending(&key)?;
        self.modify_key(&key, |k, _| {
            self.require_not_pending(k)?;
            k.tags.retain(|(tag_key, _)| !remove.contains(tag_key));
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
