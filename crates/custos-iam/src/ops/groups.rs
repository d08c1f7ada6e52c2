//! Groups: `CreateGroup`, `GetGroup`, `ListGroups`, `UpdateGroup`,
//! `DeleteGroup`, `AddUserToGroup`, `RemoveUserFromGroup`,
//! `ListGroupsForUser`.
//!
//! Membership is kept on the user (its `groups`), which is what
//! authentication reads; a group's members are found by a scan of the
//! account's users (at most 5,000).

use custos_iam_wire::shapes::Group;
use custos_iam_wire::{
    AddUserToGroupRequest, CreateGroupRequest, CreateGroupResponse, DeleteGroupRequest,
    GetGroupRequest, GetGroupResponse, IamResponse, ListGroupsForUserRequest,
    ListGroupsForUserResponse, ListGroupsRequest, ListGroupsResponse, RemoveUserFromGroupRequest,
    UpdateGroupRequest,
};
use custos_store::{Batch, Engine};

use super::users::user_shape;
use super::{date, page, path_or_root};
use crate::caller::Caller;
use crate::ids::{self, IdKind};
use crate::records::{GroupRecord, Kind, Loaded, RECORD_FORMAT, UserRecord};
use crate::{AccountId, Iam, IamError, arn};

const MAX_GROUPS: usize = 300;
const MAX_GROUPS_PER_USER: usize = 10;

pub(crate) fn group_shape(account: &AccountId, g: &GroupRecord) -> Group {
    Group {
        path: g.path.clone(),
        group_name: g.name.clone(),
        group_id: g.group_id.clone(),
        arn: arn::group(account, &g.path, &g.name),
        create_date: date(g.created_ms),
    }
}

impl<E: Engine> Iam<E> {
    /// The users of `account` in group `name`.
    async fn members(
        &self,
        account: &AccountId,
        name: &str,
    ) -> Result<Vec<Loaded<UserRecord>>, IamError> {
        Ok(crate::records::scan_all::<_, UserRecord>(
            &self.engine,
            &self.sealer,
            Kind::User,
            account.as_str(),
        )
        .await?
        .into_iter()
        .filter(|u| u.record.groups.iter().any(|g| g.eq_ignore_ascii_case(name)))
        .collect())
    }

    pub(crate) async fn create_group(
        &self,
        caller: &Caller,
        r: CreateGroupRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let path = path_or_root(r.path);
        self.authorize_iam(
            caller,
            "CreateGroup",
            &arn::group(account, &path, &r.group_name),
        )?;
        if self.group_record(account, &r.group_name).await?.is_some() {
            return Err(IamError::EntityAlreadyExists(format!(
                "Group with name {} already exists.",
                r.group_name
            )));
        }
        if self.all::<GroupRecord>(Kind::Group, account).await?.len() >= MAX_GROUPS {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for GroupsPerAccount: {MAX_GROUPS}"
            )));
        }
        let group = GroupRecord {
            format: RECORD_FORMAT,
            account_id: account.to_string(),
            name: r.group_name,
            path,
            group_id: ids::generate(IdKind::Group)?,
            created_ms: self.now_ms(),
            inline_policies: Default::default(),
            attached: Vec::new(),
        };
        let mut batch = Batch::new();
        self.stage(&mut batch, Kind::Group, account, &group.name, None, &group)?;
        self.commit(batch).await?;
        Ok(IamResponse::CreateGroup(CreateGroupResponse {
            group: group_shape(account, &group),
        }))
    }

    pub(crate) async fn get_group(
        &self,
        caller: &Caller,
        r: GetGroupRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let group = self
            .authorized::<GroupRecord>(caller, "GetGroup", &r.group_name)
            .await?;
        let members: Vec<UserRecord> = self
            .members(account, &group.record.name)
            .await?
            .into_iter()
            .map(|l| l.record)
            .collect();
        let (users, is_truncated, marker) = page(
            members,
            |u| u.name.to_lowercase(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::GetGroup(GetGroupResponse {
            group: group_shape(account, &group.record),
            users: users
                .iter()
                .map(|u| user_shape(account, u, false))
                .collect(),
            is_truncated,
            marker,
        }))
    }

    pub(crate) async fn list_groups(
        &self,
        caller: &Caller,
        r: ListGroupsRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        self.authorize_iam(caller, "ListGroups", &arn::group(account, "/", "*"))?;
        let prefix = r.path_prefix.unwrap_or_else(|| "/".into());
        let groups: Vec<GroupRecord> = self
            .all::<GroupRecord>(Kind::Group, account)
            .await?
            .into_iter()
            .filter(|g| g.path.starts_with(&prefix))
            .collect();
        let (groups, is_truncated, marker) = page(
            groups,
            |g| g.name.to_lowercase(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListGroups(ListGroupsResponse {
            groups: groups.iter().map(|g| group_shape(account, g)).collect(),
            is_truncated,
            marker,
        }))
    }

    pub(crate) async fn update_group(
        &self,
        caller: &Caller,
        r: UpdateGroupRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let group = self
            .authorized::<GroupRecord>(caller, "UpdateGroup", &r.group_name)
            .await?;
        let mut record = group.record.clone();
        if let Some(p) = r.new_path {
            record.path = p;
        }
        let mut batch = Batch::new();
        match r.new_group_name {
            Some(new) if !new.eq_ignore_ascii_case(&record.name) => {
                if self.group_record(account, &new).await?.is_some() {
                    return Err(IamError::EntityAlreadyExists(format!(
                        "Group with name {new} already exists."
                    )));
                }
                let old = record.name.clone();
                for member in self.members(account, &old).await? {
                    let mut u = member.record.clone();
                    for g in &mut u.groups {
                        if g.eq_ignore_ascii_case(&old) {
                            g.clone_from(&new);
                        }
                    }
                    let name = u.name.clone();
                    self.stage(&mut batch, Kind::User, account, &name, Some(member.raw), &u)?;
                }
                self.stage_delete(&mut batch, Kind::Group, account, &old, group.raw);
                record.name = new;
                self.stage(
                    &mut batch,
                    Kind::Group,
                    account,
                    &record.name,
                    None,
                    &record,
                )?;
            }
            other => {
                if let Some(new) = other {
                    record.name = new;
                }
                let name = record.name.clone();
                self.stage(
                    &mut batch,
                    Kind::Group,
                    account,
                    &name,
                    Some(group.raw),
                    &record,
                )?;
            }
        }
        self.commit(batch).await?;
        Ok(IamResponse::UpdateGroup)
    }

    pub(crate) async fn delete_group(
        &self,
        caller: &Caller,
        r: DeleteGroupRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let group = self
            .authorized::<GroupRecord>(caller, "DeleteGroup", &r.group_name)
            .await?;
        if !self.members(account, &group.record.name).await?.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must remove users from group first.".into(),
            ));
        }
        if !group.record.inline_policies.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        if !group.record.attached.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".into(),
            ));
        }
        let mut batch = Batch::new();
        let name = group.record.name.clone();
        self.stage_delete(&mut batch, Kind::Group, account, &name, group.raw);
        self.commit(batch).await?;
        Ok(IamResponse::DeleteGroup)
    }

    pub(crate) async fn add_user_to_group(
        &self,
        caller: &Caller,
        r: AddUserToGroupRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let group = self
            .authorized::<GroupRecord>(caller, "AddUserToGroup", &r.group_name)
            .await?;
        let user = self
            .user_record(account, &r.user_name)
            .await?
            .ok_or_else(|| super::users::no_such_user(&r.user_name))?;
        let mut record = user.record.clone();
        if record
            .groups
            .iter()
            .any(|g| g.eq_ignore_ascii_case(&group.record.name))
        {
            // Adding a member twice succeeds and changes nothing, as IAM.
            return Ok(IamResponse::AddUserToGroup);
        }
        if record.groups.len() >= MAX_GROUPS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
            )));
        }
        record.groups.push(group.record.name.clone());
        let mut batch = Batch::new();
        // The group must still exist when the membership lands.
        batch.require_equals(
            custos_store::Table::Iam,
            crate::records::row(Kind::Group, account.as_str(), &group.record.name),
            group.raw,
        );
        let name = record.name.clone();
        self.stage(
            &mut batch,
            Kind::User,
            account,
            &name,
            Some(user.raw),
            &record,
        )?;
        self.commit(batch).await?;
        Ok(IamResponse::AddUserToGroup)
    }

    pub(crate) async fn remove_user_from_group(
        &self,
        caller: &Caller,
        r: RemoveUserFromGroupRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let group = self
            .authorized::<GroupRecord>(caller, "RemoveUserFromGroup", &r.group_name)
            .await?;
        let user = self
            .user_record(account, &r.user_name)
            .await?
            .ok_or_else(|| super::users::no_such_user(&r.user_name))?;
        let mut record = user.record.clone();
        let before = record.groups.len();
        record
            .groups
            .retain(|g| !g.eq_ignore_ascii_case(&group.record.name));
        if record.groups.len() == before {
            return Err(IamError::NoSuchEntity(format!(
                "The user with name {} cannot be found.",
                r.user_name
            )));
        }
        let mut batch = Batch::new();
        let name = record.name.clone();
        self.stage(
            &mut batch,
            Kind::User,
            account,
            &name,
            Some(user.raw),
            &record,
        )?;
        self.commit(batch).await?;
        Ok(IamResponse::RemoveUserFromGroup)
    }

    pub(crate) async fn list_groups_for_user(
        &self,
        caller: &Caller,
        r: ListGroupsForUserRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let user = self
            .authorized::<UserRecord>(caller, "ListGroupsForUser", &r.user_name)
            .await?;
        let mut groups = Vec::new();
        for name in &user.record.groups {
            if let Some(g) = self.group_record(account, name).await? {
                groups.push(g.record);
            }
        }
        groups.sort_by_key(|g| g.name.to_lowercase());
        let (groups, is_truncated, marker) = page(
            groups,
            |g| g.name.to_lowercase(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListGroupsForUser(ListGroupsForUserResponse {
            groups: groups.iter().map(|g| group_shape(account, g)).collect(),
            is_truncated,
            marker,
        }))
    }
}
