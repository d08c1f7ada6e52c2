//! What users, groups and roles share: a row, a path, inline policies
//! and attached managed policies; and the one way every operation on them
//! finds, authorizes and saves one.

use custos_store::{Batch, Engine};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::caller::Caller;
use crate::records::{GroupRecord, InlinePolicies, Kind, Loaded, RoleRecord, UserRecord};
use crate::{AccountId, Iam, IamError, arn};

/// A user, a group or a role.
pub(crate) trait Entity: Serialize + DeserializeOwned + Clone {
    const KIND: Kind;
    /// The word IAM uses for it in messages: `user`, `group`, `role`.
    const NOUN: &'static str;
    /// IAM's quota of attached managed policies, by its name.
    const ATTACHED_QUOTA_NAME: &'static str;
    /// IAM's quota on the total size of its inline policies.
    const INLINE_QUOTA: usize;

    fn name(&self) -> &str;
    fn path(&self) -> &str;
    fn inline_policies(&self) -> &InlinePolicies;
    fn inline_policies_mut(&mut self) -> &mut InlinePolicies;
    fn attached(&self) -> &[String];
    fn attached_mut(&mut self) -> &mut Vec<String>;
    fn arn(account: &AccountId, path: &str, name: &str) -> String;
}

macro_rules! entity {
    ($record:ty, $kind:expr, $noun:literal, $quota_name:literal, $inline:literal, $arn:path) => {
        impl Entity for $record {
            const KIND: Kind = $kind;
            const NOUN: &'static str = $noun;
            const ATTACHED_QUOTA_NAME: &'static str = $quota_name;
            const INLINE_QUOTA: usize = $inline;

            fn name(&self) -> &str {
                &self.name
            }
            fn path(&self) -> &str {
                &self.path
            }
            fn inline_policies(&self) -> &InlinePolicies {
                &self.inline_policies
            }
            fn inline_policies_mut(&mut self) -> &mut InlinePolicies {
                &mut self.inline_policies
            }
            fn attached(&self) -> &[String] {
                &self.attached
            }
            fn attached_mut(&mut self) -> &mut Vec<String> {
                &mut self.attached
            }
            fn arn(account: &AccountId, path: &str, name: &str) -> String {
                $arn(account, path, name)
            }
        }
    };
}

// IAM's quotas on the aggregate size of inline policies: 2,048, 5,120 and
// 10,240 characters (whitespace not counted).
entity!(
    UserRecord,
    Kind::User,
    "user",
    "PoliciesPerUser",
    2048,
    arn::user
);
entity!(
    GroupRecord,
    Kind::Group,
    "group",
    "PoliciesPerGroup",
    5120,
    arn::group
);
entity!(
    RoleRecord,
    Kind::Role,
    "role",
    "PoliciesPerRole",
    10240,
    arn::role
);

/// IAM's `NoSuchEntity` for an entity named `name`.
pub(crate) fn no_such<T: Entity>(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The {} with name {name} cannot be found.", T::NOUN))
}

impl<E: Engine> Iam<E> {
    /// The entity `name` of the caller's account, after authorizing
    /// `iam:<action>` on its ARN (with its path when it exists, as IAM
    /// does), or `NoSuchEntity`.
    pub(crate) async fn authorized<T: Entity>(
        &self,
        caller: &Caller,
        action: &str,
        name: &str,
    ) -> Result<Loaded<T>, IamError> {
        let account = caller.account();
        let loaded: Option<Loaded<T>> = self.load(T::KIND, account, name).await?;
        let path = loaded.as_ref().map_or("/", |l| l.record.path());
        self.authorize_iam(caller, action, &T::arn(account, path, name))?;
        loaded.ok_or_else(|| no_such::<T>(name))
    }

    /// Adds to `batch` the replacement of `loaded` by `record` (same row).
    pub(crate) fn stage_update<T: Entity>(
        &self,
        batch: &mut Batch,
        account: &AccountId,
        loaded: Loaded<T>,
        record: &T,
    ) -> Result<(), IamError> {
        self.stage(
            batch,
            T::KIND,
            account,
            record.name(),
            Some(loaded.raw),
            record,
        )
    }

    /// Finds and authorizes entity `name`, applies `change` to it and
    /// saves it, in one conditional write.
    pub(crate) async fn change<T: Entity>(
        &self,
        caller: &Caller,
        action: &str,
        name: &str,
        change: impl FnOnce(&mut T) -> Result<(), IamError>,
    ) -> Result<T, IamError> {
        let loaded: Loaded<T> = self.authorized(caller, action, name).await?;
        let mut record = loaded.record.clone();
        change(&mut record)?;
        let mut batch = Batch::new();
        self.stage_update(&mut batch, caller.account(), loaded, &record)?;
        self.commit(batch).await?;
        Ok(record)
    }
}
