//! Users: `CreateUser`, `GetUser`, `ListUsers`, `UpdateUser`,
//! `DeleteUser`, `TagUser`, `UntagUser`, `ListUserTags`.

use custos_iam_wire::shapes::{AttachedPermissionsBoundary, User};
use custos_iam_wire::{
    CreateUserRequest, CreateUserResponse, DeleteUserRequest, GetUserRequest, GetUserResponse,
    IamResponse, ListUserTagsRequest, ListUserTagsResponse, ListUsersRequest, ListUsersResponse,
    TagUserRequest, UntagUserRequest, UpdateUserRequest,
};
use custos_store::{Batch, Engine};

use super::{date, merge_tags, page, path_or_root, remove_tags, to_tags};
use crate::caller::{Caller, Principal};
use crate::ids::{self, IdKind};
use crate::records::{self, Kind, RECORD_FORMAT, UserRecord};
use crate::{AccountId, Iam, IamError, arn};

/// IAM's quota of users per account.
const MAX_USERS: usize = 5000;

pub(crate) fn no_such_user(name: &str) -> IamError {
    super::entity::no_such::<UserRecord>(name)
}

pub(crate) fn user_shape(account: &AccountId, u: &UserRecord, with_tags: bool) -> User {
    User {
        path: u.path.clone(),
        user_name: u.name.clone(),
        user_id: u.user_id.clone(),
        arn: arn::user(account, &u.path, &u.name),
        create_date: date(u.created_ms),
        password_last_used: None,
        permissions_boundary: u.permissions_boundary.as_ref().map(|a| {
            AttachedPermissionsBoundary {
                permissions_boundary_arn: a.clone(),
            }
        }),
        tags: if with_tags {
            to_tags(&u.tags)
        } else {
            Vec::new()
        },
    }
}

impl<E: Engine> Iam<E> {
    pub(crate) async fn create_user(
        &self,
        caller: &Caller,
        r: CreateUserRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let path = path_or_root(r.path);
        self.authorize_iam(
            caller,
            "CreateUser",
            &arn::user(account, &path, &r.user_name),
        )?;
        if self.user_record(account, &r.user_name).await?.is_some() {
            return Err(IamError::EntityAlreadyExists(format!(
                "User with name {} already exists.",
                r.user_name
            )));
        }
        let existing = records::scan_all::<_, UserRecord>(
            &self.engine,
            &self.sealer,
            Kind::User,
            account.as_str(),
        )
        .await?;
        if existing.len() >= MAX_USERS {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for UsersPerAccount: {MAX_USERS}"
            )));
        }
        if let Some(b) = &r.permissions_boundary {
            self.require_policy(account, b).await?;
        }
        let mut tags = Vec::new();
        merge_tags(&mut tags, &r.tags)?;
        let user = UserRecord {
            format: RECORD_FORMAT,
            account_id: account.to_string(),
            name: r.user_name.clone(),
            path,
            user_id: ids::generate(IdKind::User)?,
            created_ms: self.now_ms(),
            tags,
            inline_policies: Default::default(),
            attached: Vec::new(),
            groups: Vec::new(),
            access_keys: Vec::new(),
            permissions_boundary: r.permissions_boundary,
        };
        let mut batch = Batch::new();
        self.stage(&mut batch, Kind::User, account, &user.name, None, &user)?;
        self.commit(batch).await?;
        Ok(IamResponse::CreateUser(CreateUserResponse {
            user: user_shape(account, &user, true),
        }))
    }

    pub(crate) async fn get_user(
        &self,
        caller: &Caller,
        r: GetUserRequest,
    ) -> Result<IamResponse, IamError> {
        let name = match (r.user_name, caller.principal()) {
            (Some(n), _) => n,
            (None, Principal::User { name, .. } | Principal::UserSession { name, .. }) => {
                name.clone()
            }
            (None, Principal::AssumedRole { .. }) => {
                return Err(IamError::Validation(
                    "Must specify userName when calling with non-User credentials".into(),
                ));
            }
        };
        let user = self
            .authorized::<UserRecord>(caller, "GetUser", &name)
            .await?;
        Ok(IamResponse::GetUser(GetUserResponse {
            user: user_shape(caller.account(), &user.record, true),
        }))
    }

    pub(crate) async fn list_users(
        &self,
        caller: &Caller,
        r: ListUsersRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        self.authorize_iam(caller, "ListUsers", &arn::user(account, "/", "*"))?;
        let prefix = r.path_prefix.unwrap_or_else(|| "/".into());
        let users: Vec<UserRecord> = self
            .all::<UserRecord>(Kind::User, account)
            .await?
            .into_iter()
            .filter(|u| u.path.starts_with(&prefix))
            .collect();
        let (users, is_truncated, marker) = page(
            users,
            |u| u.name.to_lowercase(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListUsers(ListUsersResponse {
            // IAM's ListUsers leaves tags out.
            users: users
                .iter()
                .map(|u| user_shape(account, u, false))
                .collect(),
            is_truncated,
            marker,
        }))
    }

    pub(crate) async fn update_user(
        &self,
        caller: &Caller,
        r: UpdateUserRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let user = self
            .authorized::<UserRecord>(caller, "UpdateUser", &r.user_name)
            .await?;
        let mut record = user.record.clone();
        if let Some(p) = r.new_path {
            record.path = p;
        }
        let mut batch = Batch::new();
        match r.new_user_name {
            Some(new) if !new.eq_ignore_ascii_case(&record.name) => {
                if self.user_record(account, &new).await?.is_some() {
                    return Err(IamError::EntityAlreadyExists(format!(
                        "User with name {new} already exists."
                    )));
                }
                // Renaming moves the record to its new row, and its access
                // keys and groups follow the new name.
                self.stage_delete(&mut batch, Kind::User, account, &record.name, user.raw);
                record.name = new;
                for id in &record.access_keys {
                    if let Some(mut key) = self.access_key(id).await? {
                        key.user_name = record.name.clone();
                        self.put_access_key(&key, &mut batch)?;
                    }
                }
                self.stage(&mut batch, Kind::User, account, &record.name, None, &record)?;
            }
            Some(new) => {
                // The same name in another case.
                record.name = new;
                self.stage(
                    &mut batch,
                    Kind::User,
                    account,
                    &record.name,
                    Some(user.raw),
                    &record,
                )?;
            }
            None => self.stage(
                &mut batch,
                Kind::User,
                account,
                &record.name,
                Some(user.raw),
                &record,
            )?,
        }
        self.commit(batch).await?;
        Ok(IamResponse::UpdateUser)
    }

    pub(crate) async fn delete_user(
        &self,
        caller: &Caller,
        r: DeleteUserRequest,
    ) -> Result<IamResponse, IamError> {
        let user = self
            .authorized::<UserRecord>(caller, "DeleteUser", &r.user_name)
            .await?;
        let u = &user.record;
        // IAM's order of checks, and its messages.
        if !u.access_keys.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete access keys first.".into(),
            ));
        }
        if !u.inline_policies.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        if !u.attached.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".into(),
            ));
        }
        if !u.groups.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must remove users from group first.".into(),
            ));
        }
        let mut batch = Batch::new();
        let name = u.name.clone();
        self.stage_delete(&mut batch, Kind::User, caller.account(), &name, user.raw);
        self.commit(batch).await?;
        Ok(IamResponse::DeleteUser)
    }

    pub(crate) async fn tag_user(
        &self,
        caller: &Caller,
        r: TagUserRequest,
    ) -> Result<IamResponse, IamError> {
        self.change::<UserRecord>(caller, "TagUser", &r.user_name, |u| {
            merge_tags(&mut u.tags, &r.tags)
        })
        .await?;
        Ok(IamResponse::TagUser)
    }

    pub(crate) async fn untag_user(
        &self,
        caller: &Caller,
        r: UntagUserRequest,
    ) -> Result<IamResponse, IamError> {
        self.change::<UserRecord>(caller, "UntagUser", &r.user_name, |u| {
            remove_tags(&mut u.tags, &r.tag_keys);
            Ok(())
        })
        .await?;
        Ok(IamResponse::UntagUser)
    }

    pub(crate) async fn list_user_tags(
        &self,
        caller: &Caller,
        r: ListUserTagsRequest,
    ) -> Result<IamResponse, IamError> {
        let user = self
            .authorized::<UserRecord>(caller, "ListUserTags", &r.user_name)
            .await?;
        let (tags, is_truncated, marker) = page(
            to_tags(&user.record.tags),
            |t| t.key.clone(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListUserTags(ListUserTagsResponse {
            tags,
            is_truncated,
            marker,
        }))
    }

    /// Every record of `kind` in `account`, in name order.
    pub(crate) async fn all<T: serde::de::DeserializeOwned>(
        &self,
        kind: Kind,
        account: &AccountId,
    ) -> Result<Vec<T>, IamError> {
        Ok(
            records::scan_all::<_, T>(&self.engine, &self.sealer, kind, account.as_str())
                .await?
                .into_iter()
                .map(|l| l.record)
                .collect(),
        )
    }
}
