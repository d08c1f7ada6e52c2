//! `RetireGrant`: a grant ends, by its token or by key and grant id.
//!
//! As AWS documents, a grant may be retired by its retiring principal, by
//! its grantee when the grant includes `RetireGrant`, or by a principal of
//! the account that created it whose IAM policies allow `kms:RetireGrant`
//! on the key; `kms:RetireGrant` in a key policy has no effect.

use custos_store::{Batch, Engine, Table};
use custos_wire::shapes::{Empty, RetireGrantRequest};
use custos_wire::validation::Violations;

use crate::authz::access::stop_dry_run;
use crate::authz::{Action, Conditions};
use crate::grants::grant_row;
use crate::names::KeyUuid;
use crate::ops::check_key_id;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn retire_grant(
        &self,
        caller: &Caller,
        req: RetireGrantRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        v.length("grantToken", req.grant_token.as_deref(), 1, 8192);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.length("grantId", req.grant_id.as_deref(), 1, 128);
        v.into_result()?;

        self.take_quota(caller, Action::RetireGrant, None, None)?;
        // The grant: named by its token, or by key and grant id.
        let (key, grant_id) = match (&req.grant_token, &req.key_id, &req.grant_id) {
            (Some(token), _, _) => {
                let (key_id, grant_id) = self.open_grant_token(token)?;
                // The token names the key by id; it may be another
                // account's (a cross-account grant).
                let id = KeyUuid::parse(&key_id)
                    .ok_or_else(|| KmsError::InvalidGrantToken("Invalid grant token.".into()))?;
                let key = self
                    .load_key(caller.region(), &id)
                    .await?
                    .ok_or_else(|| KmsError::NotFound(format!("Grant ID {grant_id} not found")))?;
                (key, grant_id)
            }
            (None, Some(raw), Some(grant_id)) => {
                (self.resolve(caller, raw).await?, grant_id.clone())
            }
            _ => {
                return Err(KmsError::ValidationMessage(
                    "Either GrantToken or both KeyId and GrantId must be specified.".into(),
                ));
            }
        };
        let found = self
            .grants_of(&key.key_id)
            .await?
            .into_iter()
            .find(|(g, _)| g.grant_id == grant_id);
        let Some((grant, bytes)) = found else {
            return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
        };
        let by_grant = grant.retirable_by(caller)
            || (grant.names(caller) && grant.operations.iter().any(|o| o == "RetireGrant"));
        if !by_grant {
            let issuer = format!("arn:aws:iam::{}:root", caller.account());
            if grant.issuing_account != issuer {
                return Err(KmsError::AccessDenied(format!(
                    "User: {} is not authorized to perform: kms:RetireGrant on resource: {} \
                     because no identity-based policy allows the kms:RetireGrant action",
                    caller.principal_arn(),
                    grant.key_arn
                )));
            }
            self.authorize_resource(
                caller,
                Action::RetireGrant,
                &grant.key_arn,
                &Conditions::default(),
            )?;
        }
        stop_dry_run(req.dry_run == Some(true))?;
        let row = grant_row(&grant.key_id, &grant.grant_id);
        let mut batch = Batch::new();
        batch
            .require_equals(Table::Grants, row.clone(), bytes)
            .delete(Table::Grants, row);
        self.engine().commit(batch).await?;
        Ok(Empty {})
    }
}
