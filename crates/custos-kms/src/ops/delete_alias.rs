//! `DeleteAlias`: removes an alias; the key is untouched.

use custos_store::{Batch, Engine, Table};
use custos_wire::shapes::{DeleteAliasRequest, Empty};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::keys::alias_row;
use crate::names::{KeyUuid, alias_arn};
use crate::ops::{check_alias_name, customer_alias};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn delete_alias(
        &self,
        caller: &Caller,
        req: DeleteAliasRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        check_alias_name(&mut v, &req.alias_name);
        v.into_result()?;
        let alias = customer_alias(&req.alias_name.unwrap_or_default())?;

        let row = alias_row(caller.region(), caller.account(), &alias);
        let not_found = || {
            KmsError::NotFound(format!(
                "Alias {} is not found.",
                alias_arn(caller.region(), caller.account(), &alias)
            ))
        };
        let bytes = self
            .engine()
            .get(Table::Aliases, &row)
            .await?
            .ok_or_else(not_found)?;
        let record = self.read_alias_record(&row, &bytes)?;
        let key_id = KeyUuid::parse(&record.key_id).ok_or_else(|| KmsError::Corrupt {
            what: "alias record".into(),
        })?;
        let key = self.load_key(caller.region(), &key_id).await?;
        // The alias itself is authorized by IAM policies alone; the key by
        // the full decision.
        self.authorize_resource(
            caller,
            Action::DeleteAlias,
            &alias_arn(caller.region(), caller.account(), &alias),
            &crate::authz::Conditions::default(),
        )?;
        if let Some(key) = key {
            let source = KeySource::Found {
                key: Box::new(key),
                named: None,
                from_ciphertext: false,
            };
            let request = KeyRequest::new(Action::DeleteAlias, source).need(Need::AnyState);
            self.access(caller, request).await?;
        }

        let mut batch = Batch::new();
        batch
            .require_equals(Table::Aliases, row.clone(), bytes)
            .delete(Table::Aliases, row);
        match self.engine().commit(batch).await {
            Ok(()) => Ok(Empty {}),
            Err(custos_store::StoreError::Conflict) => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }
}
