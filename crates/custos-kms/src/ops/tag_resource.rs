//! `TagResource`: adds or replaces tags of a key.

use custos_store::Engine;
use custos_wire::shapes::{Empty, TagResourceRequest};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::check_key_id;
use crate::ops::create_key::{check_tag_rules, check_tags};
use crate::{Caller, Kms, KmsError};

/// AWS's quota of tags per key.
pub(crate) const MAX_TAGS: usize = 50;

impl<E: Engine> Kms<E> {
    pub async fn tag_resource(
        &self,
        caller: &Caller,
        req: TagResourceRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("tags", &req.tags);
        if let Some(tags) = &req.tags {
            check_tags(&mut v, tags);
        }
        v.into_result()?;
        let tags: Vec<(String, String)> = req
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                (
                    t.tag_key.unwrap_or_default(),
                    t.tag_value.unwrap_or_default(),
                )
            })
            .collect();
        check_tag_rules(&tags)?;

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::TagResource, KeySource::NamedNotAlias(&raw))
            .need(Need::NotPendingDeletion)
            .conditions(crate::authz::Conditions {
                request_tags: &tags,
                ..crate::authz::Conditions::default()
            });
        let key = self.access(caller, request).await?;
        self.modify(&key, |k, _| {
            for (tag_key, value) in &tags {
                match k.tags.iter_mut().find(|(existing, _)| existing == tag_key) {
                    Some(slot) => slot.1 = value.clone(),
                    None => k.tags.push((tag_key.clone(), value.clone())),
                }
            }
            if k.tags.len() > MAX_TAGS {
                return Err(KmsError::LimitExceeded(format!(
                    "The request would leave {} tags on {}; the limit is {MAX_TAGS}.",
                    k.tags.len(),
                    k.arn()
                )));
            }
            Ok(())
        })
        .await?;
        Ok(Empty {})
    }
}
