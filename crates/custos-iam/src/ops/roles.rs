//! Roles: `CreateRole`, `GetRole`, `ListRoles`, `UpdateRole`,
//! `UpdateAssumeRolePolicy`, `DeleteRole`, `TagRole`, `UntagRole`,
//! `ListRoleTags`.
//!
//! A role's trust policy says who may assume it (see [`super::sts`]);
//! its permissions are its inline and attached policies.

use custos_iam_wire::shapes::{AttachedPermissionsBoundary, Role, RoleLastUsed};
use custos_iam_wire::{
    CreateRoleRequest, CreateRoleResponse, DeleteRoleRequest, GetRoleRequest, GetRoleResponse,
    IamResponse, ListRoleTagsRequest, ListRoleTagsResponse, ListRolesRequest, ListRolesResponse,
    TagRoleRequest, UntagRoleRequest, UpdateAssumeRolePolicyRequest, UpdateRoleRequest,
};
use custos_policy::PolicyKind;
use custos_store::{Batch, Engine};

use super::{date, merge_tags, page, path_or_root, remove_tags, to_tags, validate_policy};
use crate::caller::Caller;
use crate::ids::{self, IdKind};
use crate::records::{Kind, RECORD_FORMAT, RoleRecord};
use crate::{AccountId, Iam, IamError, arn};

const MAX_ROLES: usize = 1000;
/// IAM's quota on a trust policy's length.
const MAX_TRUST_POLICY: usize = 2048;
/// A role's default maximum session, in seconds.
const DEFAULT_MAX_SESSION: u32 = 3600;

fn role_shape(account: &AccountId, r: &RoleRecord, full: bool) -> Role {
    Role {
        path: r.path.clone(),
        role_name: r.name.clone(),
        role_id: r.role_id.clone(),
        arn: arn::role(account, &r.path, &r.name),
        create_date: date(r.created_ms),
        assume_role_policy_document: r.trust_policy.clone(),
        description: r.description.clone(),
        max_session_duration: r.max_session_duration,
        permissions_boundary: r.permissions_boundary.as_ref().map(|a| {
            AttachedPermissionsBoundary {
                permissions_boundary_arn: a.clone(),
            }
        }),
        tags: if full { to_tags(&r.tags) } else { Vec::new() },
        role_last_used: full.then(|| RoleLastUsed {
            last_used_date: r.last_used_ms.map(date),
            region: None,
        }),
    }
}

impl<E: Engine> Iam<E> {
    /// Validates a trust policy: IAM's grammar for trust policies, its
    /// size, and principals that exist.
    async fn validate_trust_policy(&self, text: &str) -> Result<(), IamError> {
        let policy = validate_policy(text, PolicyKind::Trust, MAX_TRUST_POLICY)?;
        self.check_principals(&policy).await
    }

    pub(crate) async fn create_role(
        &self,
        caller: &Caller,
        r: CreateRoleRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let path = path_or_root(r.path);
        self.authorize_iam(
            caller,
            "CreateRole",
            &arn::role(account, &path, &r.role_name),
        )?;
        if self.role_record(account, &r.role_name).await?.is_some() {
            return Err(IamError::EntityAlreadyExists(format!(
                "Role with name {} already exists.",
                r.role_name
            )));
        }
        self.validate_trust_policy(&r.assume_role_policy_document)
            .await?;
        if self.all::<RoleRecord>(Kind::Role, account).await?.len() >= MAX_ROLES {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for RolesPerAccount: {MAX_ROLES}"
            )));
        }
        if let Some(b) = &r.permissions_boundary {
            self.require_policy(account, b).await?;
        }
        let mut tags = Vec::new();
        merge_tags(&mut tags, &r.tags)?;
        let role = RoleRecord {
            format: RECORD_FORMAT,
            account_id: account.to_string(),
            name: r.role_name,
            path,
            role_id: ids::generate(IdKind::Role)?,
            created_ms: self.now_ms(),
            trust_policy: r.assume_role_policy_document,
            description: r.description,
            max_session_duration: r.max_session_duration.unwrap_or(DEFAULT_MAX_SESSION),
            tags,
            inline_policies: Default::default(),
            attached: Vec::new(),
            permissions_boundary: r.permissions_boundary,
            last_used_ms: None,
        };
        let mut batch = Batch::new();
        self.stage(&mut batch, Kind::Role, account, &role.name, None, &role)?;
        self.commit(batch).await?;
        Ok(IamResponse::CreateRole(CreateRoleResponse {
            role: role_shape(account, &role, false),
        }))
    }

    pub(crate) async fn get_role(
        &self,
        caller: &Caller,
        r: GetRoleRequest,
    ) -> Result<IamResponse, IamError> {
        let role = self
            .authorized::<RoleRecord>(caller, "GetRole", &r.role_name)
            .await?;
        Ok(IamResponse::GetRole(GetRoleResponse {
            role: role_shape(caller.account(), &role.record, true),
        }))
    }

    pub(crate) async fn list_roles(
        &self,
        caller: &Caller,
        r: ListRolesRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        self.authorize_iam(caller, "ListRoles", &arn::role(account, "/", "*"))?;
        let prefix = r.path_prefix.unwrap_or_else(|| "/".into());
        let roles: Vec<RoleRecord> = self
            .all::<RoleRecord>(Kind::Role, account)
            .await?
            .into_iter()
            .filter(|r| r.path.starts_with(&prefix))
            .collect();
        let (roles, is_truncated, marker) = page(
            roles,
            |r| r.name.to_lowercase(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListRoles(ListRolesResponse {
            roles: roles
                .iter()
                .map(|r| role_shape(account, r, false))
                .collect(),
            is_truncated,
            marker,
        }))
    }

    pub(crate) async fn update_role(
        &self,
        caller: &Caller,
        r: UpdateRoleRequest,
    ) -> Result<IamResponse, IamError> {
        self.change::<RoleRecord>(caller, "UpdateRole", &r.role_name, |role| {
            if let Some(d) = r.description {
                role.description = Some(d);
            }
            if let Some(m) = r.max_session_duration {
                role.max_session_duration = m;
            }
            Ok(())
        })
        .await?;
        Ok(IamResponse::UpdateRole)
    }

    pub(crate) async fn update_assume_role_policy(
        &self,
        caller: &Caller,
        r: UpdateAssumeRolePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        // Authorize before looking at the document, as IAM does.
        self.authorized::<RoleRecord>(caller, "UpdateAssumeRolePolicy", &r.role_name)
            .await?;
        self.validate_trust_policy(&r.policy_document).await?;
        self.change::<RoleRecord>(caller, "UpdateAssumeRolePolicy", &r.role_name, |role| {
            role.trust_policy = r.policy_document;
            Ok(())
        })
        .await?;
        Ok(IamResponse::UpdateAssumeRolePolicy)
    }

    pub(crate) async fn delete_role(
        &self,
        caller: &Caller,
        r: DeleteRoleRequest,
    ) -> Result<IamResponse, IamError> {
        let role = self
            .authorized::<RoleRecord>(caller, "DeleteRole", &r.role_name)
            .await?;
        if !role.record.inline_policies.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        if !role.record.attached.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must detach all policies first.".into(),
            ));
        }
        let mut batch = Batch::new();
        let name = role.record.name.clone();
        self.stage_delete(&mut batch, Kind::Role, caller.account(), &name, role.raw);
        self.commit(batch).await?;
        Ok(IamResponse::DeleteRole)
    }

    pub(crate) async fn tag_role(
        &self,
        caller: &Caller,
        r: TagRoleRequest,
    ) -> Result<IamResponse, IamError> {
        self.change::<RoleRecord>(caller, "TagRole", &r.role_name, |role| {
            merge_tags(&mut role.tags, &r.tags)
        })
        .await?;
        Ok(IamResponse::TagRole)
    }

    pub(crate) async fn untag_role(
        &self,
        caller: &Caller,
        r: UntagRoleRequest,
    ) -> Result<IamResponse, IamError> {
        self.change::<RoleRecord>(caller, "UntagRole", &r.role_name, |role| {
            remove_tags(&mut role.tags, &r.tag_keys);
            Ok(())
        })
        .await?;
        Ok(IamResponse::UntagRole)
    }

    pub(crate) async fn list_role_tags(
        &self,
        caller: &Caller,
        r: ListRoleTagsRequest,
    ) -> Result<IamResponse, IamError> {
        let role = self
            .authorized::<RoleRecord>(caller, "ListRoleTags", &r.role_name)
            .await?;
        let (tags, is_truncated, marker) = page(
            to_tags(&role.record.tags),
            |t| t.key.clone(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListRoleTags(ListRoleTagsResponse {
            tags,
            is_truncated,
            marker,
        }))
    }
}
