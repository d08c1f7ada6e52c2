//! `CreateAlias`: a new name for a key, unique in the region.

use custos_store::{Batch, Engine, StoreError, Table};
use custos_wire::shapes::{CreateAliasRequest, Empty};
use custos_wire::validation::Violations;

use crate::keys::{ALIAS_RECORD_FORMAT, AliasRecord, alias_row, encode_alias};
use crate::model::KeyState;
use crate::names::{KeyRef, alias_arn};
use crate::ops::{check_alias_name, check_key_id, customer_alias, key_arn};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn create_alias(
        &self,
        caller: &Caller,
        req: CreateAliasRequest,
    ) -> Result<Empty, KmsError> {
        let mut v = Violations::new();
        check_alias_name(&mut v, &req.alias_name);
        v.required("targetKeyId", &req.target_key_id);
        check_key_id(&mut v, "targetKeyId", &req.target_key_id);
        v.into_result()?;
        let alias = customer_alias(&req.alias_name.unwrap_or_default())?;
        let target = req.target_key_id.unwrap_or_default();
        if KeyRef::parse(&target).is_ok_and(|r| r.is_alias()) {
            return Err(KmsError::ValidationMessage(
                "Aliases must refer to keys. Not aliases".into(),
            ));
        }

        let key = self.resolve(caller, &target).await?;
        self.authorize(caller, "kms:CreateAlias", Some(&key))?;
        if key.state == KeyState::PendingDeletion {
            return Err(KmsError::InvalidState(format!(
                "{} is pending deletion.",
                key_arn(&key)
            )));
        }

        let now = self.now_ms();
        let record = AliasRecord {
            format: ALIAS_RECORD_FORMAT,
            alias_name: alias.as_str().to_owned(),
            key_id: key.key_id.clone(),
            created_ms: now,
            updated_ms: now,
        };
        let row = alias_row(&caller.region, &alias);
        let mut batch = Batch::new();
        batch.require_absent(Table::Aliases, row.clone()).put(
            Table::Aliases,
            row,
            encode_alias(&record)?,
        );
        match self.engine().commit(batch).await {
            Ok(()) => Ok(Empty {}),
            Err(StoreError::Conflict) => Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                alias_arn(&caller.region, self.account(), &alias)
            ))),
            Err(e) => Err(e.into()),
        }
    }
}
