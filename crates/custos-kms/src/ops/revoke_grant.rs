//! `RevokeGrant`: the key's owner ends a grant, authorized by policy.

use custos_store::{Batch, Engine, Table};
use custos_wire::shapes::{Empty, RevokeGrantRequest};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::grants::grant_row;
use crate::ops::check_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn revoke_grant(
        &self,
        caller: &Caller,
        req: RevokeGrantRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("grantId", &req.grant_id);
        v.length("grantId", req.grant_id.as_deref(), 1, 128);
        v.into_result()?;
        let raw = req.key_id.unwrap_or_default();
        let grant_id = req.grant_id.unwrap_or_default();

        let request = KeyRequest::new(Action::RevokeGrant, KeySource::Named(&raw))
            .conditions(crate::authz::Conditions {
                grant_is_for_aws_resource: Some(false),
                ..crate::authz::Conditions::default()
            })
            .need(Need::AnyState)
            .dry_run(req.dry_run);
        // The grant is looked for only once the caller may revoke: an
        // unauthorized caller learns nothing of the key's grants and costs
        // no reading of them.
        let (_, (grant, bytes)) = self
            .access_checked(caller, request, async |a| {
                self.grants_of(&a.key().key_id)
                    .await?
                    .into_iter()
                    .find(|(g, _)| g.grant_id == grant_id)
                    .ok_or_else(|| KmsError::NotFound(format!("Grant ID {grant_id} not found")))
            })
            .await?;
        let row = grant_row(&grant.key_id, &grant.grant_id);
        let mut batch = Batch::new();
        batch
            .require_equals(Table::Grants, row.clone(), bytes)
            .delete(Table::Grants, row);
        self.engine().commit(batch).await?;
        Ok(Empty {})
    }
}
