//! `RevokeGrant`: the key's owner ends a grant, authorized by policy.

use custos_store::{Batch, Engine, Table};
use custos_wire::shapes::{Empty, RevokeGrantRequest};
use custos_wire::validation::Violations;

use crate::authz::{Action, Conditions};
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

        let key = self.resolve(caller, &raw).await?;
        self.authorize_with(
            caller,
            Action::RevokeGrant,
            Some(&key),
            &Conditions::for_key_id(&raw),
        )
        .await?;
        let found = self
            .grants_of(&key.key_id)
            .await?
            .into_iter()
            .find(|(g, _)| g.grant_id == grant_id);
        let Some((grant, bytes)) = found else {
            return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
        };
        if req.dry_run == Some(true) {
            return Err(KmsError::DryRun);
        }
        let row = grant_row(&grant.key_id, &grant.grant_id);
        let mut batch = Batch::new();
        batch
            .require_equals(Table::Grants, row.clone(), bytes)
            .delete(Table::Grants, row);
        self.engine().commit(batch).await?;
        Ok(Empty {})
    }
}
