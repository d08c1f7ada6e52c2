//! `UpdateAlias`: points an existing alias at another key of the same type
//! and usage.

use custos_store::{Batch, Engine, StoreError, Table};
use custos_wire::shapes::{Empty, UpdateAliasRequest};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource, Need};
use crate::keys::alias_row;
use crate::names::{KeyUuid, alias_arn};
use crate::ops::parse_alias_target;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn update_alias(
        &self,
        caller: &Caller,
        req: UpdateAliasRequest,
    ) -> Result<Empty, KmsError> {
        let (alias, target) = parse_alias_target(req.alias_name, req.target_key_id)?;

        let not_found = || {
            KmsError::NotFound(format!(
                "Alias {} is not found.",
                alias_arn(caller.region(), caller.account(), &alias)
            ))
        };
        let row = alias_row(caller.region(), caller.account(), &alias);
        let current_bytes = self
            .engine()
            .get(Table::Aliases, &row)
            .await?
            .ok_or_else(not_found)?;
        let mut record = self.read_alias_record(&row, &current_bytes)?;
        let new_key = self.resolve(caller, &target).await?;
        let old_id = KeyUuid::parse(&record.key_id).ok_or_else(|| KmsError::Corrupt {
            what: "alias record".into(),
        })?;
        let old_key = self.load_key(caller.region(), &old_id).await?;
        // The alias itself is authorized by IAM policies alone; the key by
        // the full decision.
        self.authorize_resource(
            caller,
            Action::UpdateAlias,
            &alias_arn(caller.region(), caller.account(), &alias),
            &crate::authz::Conditions::default(),
        )?;
        // Both keys: the one the alias leaves and the one it moves to.
        let source = KeySource::Found {
            key: Box::new(new_key),
            named: Some(&target),
            from_ciphertext: false,
        };
        let request = KeyRequest::new(Action::UpdateAlias, source).need(Need::NotPendingDeletion);
        let new_key = self.access(caller, request).await?.into_key();
        let old_key = match old_key {
            Some(key) => {
                let source = KeySource::Found {
                    key: Box::new(key),
                    named: None,
                    from_ciphertext: false,
                };
                let request = KeyRequest::new(Action::UpdateAlias, source)
                    .need(Need::AnyState)
                    .uncounted();
                Some(self.access(caller, request).await?.into_key())
            }
            None => None,
        };
        if let Some(old_key) = &old_key
            && (old_key.key_spec != new_key.key_spec || old_key.key_usage != new_key.key_usage)
        {
            return Err(KmsError::ValidationMessage(format!(
                "Alias {} cannot be changed from a key of spec {} and usage {} to a key of \
                 spec {} and usage {}: the current and new key must be of the same type and usage.",
                alias,
                old_key.key_spec.as_str(),
                old_key.key_usage.as_str(),
                new_key.key_spec.as_str(),
                new_key.key_usage.as_str()
            )));
        }

        record.key_id = new_key.key_id.clone();
        record.updated_ms = self.now_ms();
        let stored = self.store_alias_record(&row, &record)?;
        let mut batch = Batch::new();
        batch
            .require_equals(Table::Aliases, row.clone(), current_bytes)
            .put(Table::Aliases, row, stored);
        match self.engine().commit(batch).await {
            Ok(()) => Ok(Empty {}),
            // Moved or deleted meanwhile: the caller may retry against the
            // new state, as after any concurrent change on AWS.
            Err(StoreError::Conflict) => Err(not_found()),
            Err(e) => Err(e.into()),
        }
    }
}
