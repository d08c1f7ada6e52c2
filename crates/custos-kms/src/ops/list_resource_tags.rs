//! `ListResourceTags`: a key's tags in tag-key order, paged.

use custos_store::Engine;
use custos_wire::shapes::{ListResourceTagsRequest, ListResourceTagsResponse, Tag};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::ops::{check_key_id, check_limit, check_marker};
use crate::{Caller, Kms, KmsError};

const DEFAULT_LIMIT: usize = 50;

impl<E: Engine> Kms<E> {
    pub async fn list_resource_tags(
        &self,
        caller: &Caller,
        req: ListResourceTagsRequest,
    ) -> Result<ListResourceTagsResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        check_limit(&mut v, req.limit);
        check_marker(&mut v, &req.marker);
        v.into_result()?;
        let limit = req
            .limit
            .and_then(|l| usize::try_from(l).ok())
            .unwrap_or(DEFAULT_LIMIT);

        let raw = req.key_id.unwrap_or_default();
        let request = KeyRequest::new(Action::ListResourceTags, KeySource::NamedNotAlias(&raw))
            .need(Need::AnyState);
        let key = self.access(caller, request).await?.into_key();

        let mut tags = key.tags;
        tags.sort();
        if let Some(m) = &req.marker
            && !tags.iter().any(|(k, _)| k == m)
        {
            return Err(KmsError::InvalidMarker(format!(
                "Marker {m} is not a marker ListResourceTags returned."
            )));
        }
        let mut rest = tags
            .into_iter()
            .filter(|(k, _)| req.marker.as_ref().is_none_or(|m| k > m));
        let page: Vec<_> = rest.by_ref().take(limit).collect();
        let truncated = rest.next().is_some();
        Ok(ListResourceTagsResponse {
            next_marker: truncated
                .then(|| page.last().map(|(k, _)| k.clone()))
                .flatten(),
            tags: page
                .into_iter()
                .map(|(k, v)| Tag {
                    tag_key: Some(k),
                    tag_value: Some(v),
                })
                .collect(),
            truncated,
        })
    }
}
