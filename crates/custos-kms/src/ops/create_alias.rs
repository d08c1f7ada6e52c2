//! `CreateAlias`: a new name for a key, unique in the region.

use custos_store::{Batch, Engine, StoreError, Table};
use custos_wire::shapes::{CreateAliasRequest, Empty};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::keys::{ALIAS_RECORD_FORMAT, AliasRecord, alias_row};
use crate::names::alias_arn;
use crate::ops::parse_alias_target;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn create_alias(
        &self,
        caller: &Caller,
        req: CreateAliasRequest,
    ) -> Result<Empty, KmsError> {
        let (alias, target) = parse_alias_target(req.alias_name, req.target_key_id)?;

        let key = self.resolve(caller, &target).await?;
        // The alias itself is authorized by IAM policies alone; the key by
        // the full decision.
        self.authorize_resource(
            caller,
            Action::CreateAlias,
            &alias_arn(caller.region(), caller.account(), &alias),
            &crate::authz::Conditions::default(),
        )?;
        let source = KeySource::Found {
            key: Box::new(key),
            named: Some(&target),
            from_ciphertext: false,
        };
        let request = KeyRequest::new(Action::CreateAlias, source).need(Need::NotPendingDeletion);
        let key = self.access(caller, request).await?.into_key();

        let now = self.now_ms();
        let record = AliasRecord {
            format: ALIAS_RECORD_FORMAT,
            alias_name: alias.as_str().to_owned(),
            key_id: key.key_id.clone(),
            created_ms: now,
            updated_ms: now,
        };
        let row = alias_row(caller.region(), caller.account(), &alias);
        let stored = self.store_alias_record(&row, &record)?;
        let mut batch = Batch::new();
        batch
            .require_absent(Table::Aliases, row.clone())
            .put(Table::Aliases, row, stored);
        match self.engine().commit(batch).await {
            Ok(()) => Ok(Empty {}),
            Err(StoreError::Conflict) => Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                alias_arn(caller.region(), caller.account(), &alias)
            ))),
            Err(e) => Err(e.into()),
        }
    }
}
