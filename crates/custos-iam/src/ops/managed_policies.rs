//! Customer managed policies: `CreatePolicy`, `GetPolicy`,
//! `ListPolicies`, `DeletePolicy`, their versions
//! (`CreatePolicyVersion`, `GetPolicyVersion`, `ListPolicyVersions`,
//! `DeletePolicyVersion`, `SetDefaultPolicyVersion`), and their
//! attachment to users, groups and roles (`Attach…Policy`,
//! `Detach…Policy`, `ListAttached…Policies`, `ListEntitiesForPolicy`).
//!
//! A policy keeps its attachment count; attaching or detaching writes
//! the entity and the policy in one conditional batch, so the count and
//! the attachments never disagree. AWS managed policies
//! (`arn:aws:iam::aws:policy/…`) do not exist on Custos: naming one is
//! `NoSuchEntity`, as for any unknown policy.

use custos_iam_wire::shapes::{
    AttachedPolicy, Policy, PolicyGroup, PolicyRole, PolicyUser, PolicyVersion,
};
use custos_iam_wire::shapes::{EntityType, PolicyScope};
use custos_iam_wire::{
    AttachGroupPolicyRequest, AttachRolePolicyRequest, AttachUserPolicyRequest,
    CreatePolicyRequest, CreatePolicyResponse, CreatePolicyVersionRequest,
    CreatePolicyVersionResponse, DeletePolicyRequest, DeletePolicyVersionRequest,
    DetachGroupPolicyRequest, DetachRolePolicyRequest, DetachUserPolicyRequest, GetPolicyRequest,
    GetPolicyResponse, GetPolicyVersionRequest, GetPolicyVersionResponse, IamResponse,
    ListAttachedGroupPoliciesRequest, ListAttachedGroupPoliciesResponse,
    ListAttachedRolePoliciesRequest, ListAttachedRolePoliciesResponse,
    ListAttachedUserPoliciesRequest, ListAttachedUserPoliciesResponse,
    ListEntitiesForPolicyRequest, ListEntitiesForPolicyResponse, ListPoliciesRequest,
    ListPoliciesResponse, ListPolicyVersionsRequest, ListPolicyVersionsResponse,
    SetDefaultPolicyVersionRequest,
};
use custos_policy::PolicyKind;
use custos_store::{Batch, Engine};

use super::entity::Entity;
use super::{date, merge_tags, page, path_or_root, to_tags, validate_policy};
use crate::caller::Caller;
use crate::ids::{self, IdKind};
use crate::records::{
    GroupRecord, Kind, Loaded, PolicyRecord, PolicyVersionRecord, RECORD_FORMAT, RoleRecord,
    UserRecord,
};
use crate::{AccountId, Iam, IamError, arn};

const MAX_POLICIES: usize = 1500;
/// IAM's quota on a managed policy document.
const MAX_DOCUMENT: usize = 6144;
const MAX_VERSIONS: usize = 5;
/// Managed policies attached to one user, group or role.
const MAX_ATTACHED: usize = 10;

/// What IAM says when a policy to read or change does not exist.
fn policy_not_found(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} was not found."))
}

/// What IAM says when a policy to attach, detach or use does not exist.
fn no_such_policy(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

fn version_id(v: u32) -> String {
    format!("v{v}")
}

fn parse_version(id: &str) -> Option<u32> {
    id.strip_prefix('v')?.parse().ok()
}

fn policy_shape(account: &AccountId, p: &PolicyRecord) -> Policy {
    Policy {
        policy_name: p.name.clone(),
        policy_id: p.policy_id.clone(),
        arn: arn::policy(account, &p.path, &p.name),
        path: p.path.clone(),
        default_version_id: version_id(p.default_version),
        attachment_count: p.attachment_count,
        permissions_boundary_usage_count: 0,
        is_attachable: true,
        description: p.description.clone(),
        create_date: date(p.created_ms),
        update_date: date(p.updated_ms),
        tags: to_tags(&p.tags),
    }
}

fn version_shape(p: &PolicyRecord, v: &PolicyVersionRecord, with_document: bool) -> PolicyVersion {
    PolicyVersion {
        document: with_document.then(|| v.document.clone()),
        version_id: version_id(v.version),
        is_default_version: v.version == p.default_version,
        create_date: date(v.created_ms),
    }
}

impl<E: Engine> Iam<E> {
    /// The managed policy `policy_arn` of `account`, or `NoSuchEntity`.
    pub(crate) async fn require_policy(
        &self,
        account: &AccountId,
        policy_arn: &str,
    ) -> Result<Loaded<PolicyRecord>, IamError> {
        let Some((acct, path, name)) = arn::parse_policy(policy_arn) else {
            return Err(IamError::InvalidInput(format!(
                "ARN {policy_arn} is not valid."
            )));
        };
        if acct != account.as_str() {
            return Err(no_such_policy(policy_arn));
        }
        match self.policy_record(account, name).await? {
            Some(p) if p.record.path == path => Ok(p),
            _ => Err(no_such_policy(policy_arn)),
        }
    }

    /// Authorizes `action` on `policy_arn` and loads it.
    async fn authorized_policy(
        &self,
        caller: &Caller,
        action: &str,
        policy_arn: &str,
    ) -> Result<Loaded<PolicyRecord>, IamError> {
        self.authorize_iam(caller, action, policy_arn)?;
        self.require_policy(caller.account(), policy_arn)
            .await
            .map_err(|e| match e {
                IamError::NoSuchEntity(_) => policy_not_found(policy_arn),
                other => other,
            })
    }

    fn stage_policy(
        &self,
        batch: &mut Batch,
        account: &AccountId,
        previous: Option<Vec<u8>>,
        record: &PolicyRecord,
    ) -> Result<(), IamError> {
        self.stage(batch, Kind::Policy, account, &record.name, previous, record)
    }

    pub(crate) async fn create_policy(
        &self,
        caller: &Caller,
        r: CreatePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let path = path_or_root(r.path);
        let policy_arn = arn::policy(account, &path, &r.policy_name);
        self.authorize_iam(caller, "CreatePolicy", &policy_arn)?;
        let document = validate_policy(&r.policy_document, PolicyKind::Identity, MAX_DOCUMENT)?;
        if document.version() != Some(custos_policy::Version::V2012_10_17) {
            return Err(IamError::MalformedPolicyDocument(
                "Policy document must be version 2012-10-17 or greater.".into(),
            ));
        }
        if self.policy_record(account, &r.policy_name).await?.is_some() {
            return Err(IamError::EntityAlreadyExists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                r.policy_name
            )));
        }
        if self.all::<PolicyRecord>(Kind::Policy, account).await?.len() >= MAX_POLICIES {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for CustomerManagedPolicies: {MAX_POLICIES}"
            )));
        }
        let now = self.now_ms();
        let mut tags = Vec::new();
        merge_tags(&mut tags, &r.tags)?;
        let record = PolicyRecord {
            format: RECORD_FORMAT,
            account_id: account.to_string(),
            name: r.policy_name,
            path,
            policy_id: ids::generate(IdKind::Policy)?,
            created_ms: now,
            updated_ms: now,
            description: r.description,
            default_version: 1,
            next_version: 2,
            versions: vec![PolicyVersionRecord {
                version: 1,
                document: r.policy_document,
                created_ms: now,
            }],
            attachment_count: 0,
            tags,
        };
        let mut batch = Batch::new();
        self.stage_policy(&mut batch, account, None, &record)?;
        self.commit(batch).await?;
        Ok(IamResponse::CreatePolicy(CreatePolicyResponse {
            policy: policy_shape(account, &record),
        }))
    }

    pub(crate) async fn get_policy(
        &self,
        caller: &Caller,
        r: GetPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let p = self
            .authorized_policy(caller, "GetPolicy", &r.policy_arn)
            .await?;
        Ok(IamResponse::GetPolicy(GetPolicyResponse {
            policy: policy_shape(caller.account(), &p.record),
        }))
    }

    pub(crate) async fn list_policies(
        &self,
        caller: &Caller,
        r: ListPoliciesRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        self.authorize_iam(caller, "ListPolicies", &arn::policy(account, "/", "*"))?;
        let prefix = r.path_prefix.unwrap_or_else(|| "/".into());
        // Custos has no AWS managed policies: scope `AWS` lists nothing.
        let policies: Vec<PolicyRecord> = if r.scope == Some(PolicyScope::Aws) {
            Vec::new()
        } else {
            self.all::<PolicyRecord>(Kind::Policy, account)
                .await?
                .into_iter()
                .filter(|p| p.path.starts_with(&prefix))
                .filter(|p| !r.only_attached || p.attachment_count > 0)
                .collect()
        };
        let (policies, is_truncated, marker) = page(
            policies,
            |p| p.name.to_lowercase(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListPolicies(ListPoliciesResponse {
            policies: policies
                .iter()
                .map(|p| {
                    // ListPolicies leaves tags out, as IAM.
                    let mut shape = policy_shape(account, p);
                    shape.tags.clear();
                    shape
                })
                .collect(),
            is_truncated,
            marker,
        }))
    }

    pub(crate) async fn delete_policy(
        &self,
        caller: &Caller,
        r: DeletePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let p = self
            .authorized_policy(caller, "DeletePolicy", &r.policy_arn)
            .await?;
        if p.record.attachment_count > 0 {
            return Err(IamError::DeleteConflict(
                "Cannot delete a policy attached to entities.".into(),
            ));
        }
        if p.record.versions.len() > 1 {
            return Err(IamError::DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
            ));
        }
        let mut batch = Batch::new();
        let name = p.record.name.clone();
        self.stage_delete(&mut batch, Kind::Policy, caller.account(), &name, p.raw);
        self.commit(batch).await?;
        Ok(IamResponse::DeletePolicy)
    }

    pub(crate) async fn create_policy_version(
        &self,
        caller: &Caller,
        r: CreatePolicyVersionRequest,
    ) -> Result<IamResponse, IamError> {
        let p = self
            .authorized_policy(caller, "CreatePolicyVersion", &r.policy_arn)
            .await?;
        let document = validate_policy(&r.policy_document, PolicyKind::Identity, MAX_DOCUMENT)?;
        if document.version() != Some(custos_policy::Version::V2012_10_17) {
            return Err(IamError::MalformedPolicyDocument(
                "Policy document must be version 2012-10-17 or greater.".into(),
            ));
        }
        let mut record = p.record.clone();
        if record.versions.len() >= MAX_VERSIONS {
            return Err(IamError::LimitExceeded(
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.".into(),
            ));
        }
        let now = self.now_ms();
        let version = PolicyVersionRecord {
            version: record.next_version,
            document: r.policy_document,
            created_ms: now,
        };
        record.next_version += 1;
        if r.set_as_default {
            record.default_version = version.version;
        }
        record.updated_ms = now;
        record.versions.push(version.clone());
        let mut batch = Batch::new();
        self.stage_policy(&mut batch, caller.account(), Some(p.raw), &record)?;
        self.commit(batch).await?;
        Ok(IamResponse::CreatePolicyVersion(
            CreatePolicyVersionResponse {
                policy_version: version_shape(&record, &version, false),
            },
        ))
    }

    fn find_version<'a>(
        p: &'a PolicyRecord,
        policy_arn: &str,
        id: &str,
    ) -> Result<&'a PolicyVersionRecord, IamError> {
        parse_version(id)
            .and_then(|n| p.versions.iter().find(|v| v.version == n))
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!(
                    "Policy {policy_arn} version {id} does not exist or is not attachable."
                ))
            })
    }

    pub(crate) async fn get_policy_version(
        &self,
        caller: &Caller,
        r: GetPolicyVersionRequest,
    ) -> Result<IamResponse, IamError> {
        let p = self
            .authorized_policy(caller, "GetPolicyVersion", &r.policy_arn)
            .await?;
        let v = Self::find_version(&p.record, &r.policy_arn, &r.version_id)?;
        Ok(IamResponse::GetPolicyVersion(GetPolicyVersionResponse {
            policy_version: version_shape(&p.record, v, true),
        }))
    }

    pub(crate) async fn list_policy_versions(
        &self,
        caller: &Caller,
        r: ListPolicyVersionsRequest,
    ) -> Result<IamResponse, IamError> {
        let p = self
            .authorized_policy(caller, "ListPolicyVersions", &r.policy_arn)
            .await?;
        // Newest first, as IAM lists them; no documents in the list.
        let mut versions: Vec<&PolicyVersionRecord> = p.record.versions.iter().collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.version));
        let shapes: Vec<PolicyVersion> = versions
            .iter()
            .map(|v| version_shape(&p.record, v, false))
            .collect();
        let (versions, is_truncated, marker) = page(
            shapes,
            |v| {
                format!(
                    "{:010}",
                    u32::MAX - parse_version(&v.version_id).unwrap_or(0)
                )
            },
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListPolicyVersions(
            ListPolicyVersionsResponse {
                versions,
                is_truncated,
                marker,
            },
        ))
    }

    pub(crate) async fn delete_policy_version(
        &self,
        caller: &Caller,
        r: DeletePolicyVersionRequest,
    ) -> Result<IamResponse, IamError> {
        let p = self
            .authorized_policy(caller, "DeletePolicyVersion", &r.policy_arn)
            .await?;
        let v = Self::find_version(&p.record, &r.policy_arn, &r.version_id)?.version;
        if v == p.record.default_version {
            return Err(IamError::DeleteConflict(
                "Cannot delete the default version of a policy.".into(),
            ));
        }
        let mut record = p.record.clone();
        record.versions.retain(|x| x.version != v);
        let mut batch = Batch::new();
        self.stage_policy(&mut batch, caller.account(), Some(p.raw), &record)?;
        self.commit(batch).await?;
        Ok(IamResponse::DeletePolicyVersion)
    }

    pub(crate) async fn set_default_policy_version(
        &self,
        caller: &Caller,
        r: SetDefaultPolicyVersionRequest,
    ) -> Result<IamResponse, IamError> {
        let p = self
            .authorized_policy(caller, "SetDefaultPolicyVersion", &r.policy_arn)
            .await?;
        let v = Self::find_version(&p.record, &r.policy_arn, &r.version_id)?.version;
        let mut record = p.record.clone();
        record.default_version = v;
        record.updated_ms = self.now_ms();
        let mut batch = Batch::new();
        self.stage_policy(&mut batch, caller.account(), Some(p.raw), &record)?;
        self.commit(batch).await?;
        Ok(IamResponse::SetDefaultPolicyVersion)
    }

    /// Attaches (`attach`) or detaches `policy_arn` to `entity`, updating
    /// the policy's count in the same batch.
    async fn set_attachment<T: Entity>(
        &self,
        caller: &Caller,
        entity: Loaded<T>,
        policy_arn: &str,
        attach: bool,
    ) -> Result<(), IamError> {
        let account = caller.account();
        let p = self.require_policy(account, policy_arn).await?;
        let mut record = entity.record.clone();
        let present = record.attached().iter().any(|a| a == policy_arn);
        match (attach, present) {
            // Attaching twice changes nothing, as IAM.
            (true, true) => return Ok(()),
            (false, false) => return Err(no_such_policy(policy_arn)),
            (true, false) => {
                if record.attached().len() >= MAX_ATTACHED {
                    return Err(IamError::LimitExceeded(format!(
                        "Cannot exceed quota for {}: {MAX_ATTACHED}",
                        T::ATTACHED_QUOTA_NAME
                    )));
                }
                record.attached_mut().push(policy_arn.to_owned());
            }
            (false, true) => record.attached_mut().retain(|a| a != policy_arn),
        }
        let mut policy = p.record.clone();
        policy.attachment_count = if attach {
            policy.attachment_count.saturating_add(1)
        } else {
            policy.attachment_count.saturating_sub(1)
        };
        let mut batch = Batch::new();
        let name = record.name().to_owned();
        self.stage(
            &mut batch,
            T::KIND,
            account,
            &name,
            Some(entity.raw),
            &record,
        )?;
        self.stage_policy(&mut batch, account, Some(p.raw), &policy)?;
        self.commit(batch).await
    }

    pub(crate) async fn attach_user_policy(
        &self,
        caller: &Caller,
        r: AttachUserPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let user = self
            .authorized::<UserRecord>(caller, "AttachUserPolicy", &r.user_name)
            .await?;
        self.set_attachment(caller, user, &r.policy_arn, true)
            .await?;
        Ok(IamResponse::AttachUserPolicy)
    }

    pub(crate) async fn detach_user_policy(
        &self,
        caller: &Caller,
        r: DetachUserPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let user = self
            .authorized::<UserRecord>(caller, "DetachUserPolicy", &r.user_name)
            .await?;
        self.set_attachment(caller, user, &r.policy_arn, false)
            .await?;
        Ok(IamResponse::DetachUserPolicy)
    }

    pub(crate) async fn attach_group_policy(
        &self,
        caller: &Caller,
        r: AttachGroupPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let group = self
            .authorized::<GroupRecord>(caller, "AttachGroupPolicy", &r.group_name)
            .await?;
        self.set_attachment(caller, group, &r.policy_arn, true)
            .await?;
        Ok(IamResponse::AttachGroupPolicy)
    }

    pub(crate) async fn detach_group_policy(
        &self,
        caller: &Caller,
        r: DetachGroupPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let group = self
            .authorized::<GroupRecord>(caller, "DetachGroupPolicy", &r.group_name)
            .await?;
        self.set_attachment(caller, group, &r.policy_arn, false)
            .await?;
        Ok(IamResponse::DetachGroupPolicy)
    }

    pub(crate) async fn attach_role_policy(
        &self,
        caller: &Caller,
        r: AttachRolePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let role = self
            .authorized::<RoleRecord>(caller, "AttachRolePolicy", &r.role_name)
            .await?;
        self.set_attachment(caller, role, &r.policy_arn, true)
            .await?;
        Ok(IamResponse::AttachRolePolicy)
    }

    pub(crate) async fn detach_role_policy(
        &self,
        caller: &Caller,
        r: DetachRolePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let role = self
            .authorized::<RoleRecord>(caller, "DetachRolePolicy", &r.role_name)
            .await?;
        self.set_attachment(caller, role, &r.policy_arn, false)
            .await?;
        Ok(IamResponse::DetachRolePolicy)
    }

    /// The attached policies `arns`, filtered by path, as a page.
    async fn attached_page(
        &self,
        account: &AccountId,
        arns: &[String],
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: Option<u32>,
    ) -> Result<(Vec<AttachedPolicy>, bool, Option<String>), IamError> {
        let prefix = path_prefix.unwrap_or("/");
        let mut items: Vec<AttachedPolicy> = arns
            .iter()
            .filter_map(|a| {
                let (_, path, name) = arn::parse_policy(a)?;
                path.starts_with(prefix).then(|| AttachedPolicy {
                    policy_name: name.to_owned(),
                    policy_arn: a.clone(),
                })
            })
            .collect();
        let _ = account;
        items.sort_by_key(|p| p.policy_name.to_lowercase());
        Ok(page(
            items,
            |p| p.policy_name.to_lowercase(),
            marker,
            max_items,
        ))
    }

    pub(crate) async fn list_attached_user_policies(
        &self,
        caller: &Caller,
        r: ListAttachedUserPoliciesRequest,
    ) -> Result<IamResponse, IamError> {
        let user = self
            .authorized::<UserRecord>(caller, "ListAttachedUserPolicies", &r.user_name)
            .await?;
        let (attached_policies, is_truncated, marker) = self
            .attached_page(
                caller.account(),
                &user.record.attached,
                r.path_prefix.as_deref(),
                r.marker.as_deref(),
                r.max_items,
            )
            .await?;
        Ok(IamResponse::ListAttachedUserPolicies(
            ListAttachedUserPoliciesResponse {
                attached_policies,
                is_truncated,
                marker,
            },
        ))
    }

    pub(crate) async fn list_attached_group_policies(
        &self,
        caller: &Caller,
        r: ListAttachedGroupPoliciesRequest,
    ) -> Result<IamResponse, IamError> {
        let group = self
            .authorized::<GroupRecord>(caller, "ListAttachedGroupPolicies", &r.group_name)
            .await?;
        let (attached_policies, is_truncated, marker) = self
            .attached_page(
                caller.account(),
                &group.record.attached,
                r.path_prefix.as_deref(),
                r.marker.as_deref(),
                r.max_items,
            )
            .await?;
        Ok(IamResponse::ListAttachedGroupPolicies(
            ListAttachedGroupPoliciesResponse {
                attached_policies,
                is_truncated,
                marker,
            },
        ))
    }

    pub(crate) async fn list_attached_role_policies(
        &self,
        caller: &Caller,
        r: ListAttachedRolePoliciesRequest,
    ) -> Result<IamResponse, IamError> {
        let role = self
            .authorized::<RoleRecord>(caller, "ListAttachedRolePolicies", &r.role_name)
            .await?;
        let (attached_policies, is_truncated, marker) = self
            .attached_page(
                caller.account(),
                &role.record.attached,
                r.path_prefix.as_deref(),
                r.marker.as_deref(),
                r.max_items,
            )
            .await?;
        Ok(IamResponse::ListAttachedRolePolicies(
            ListAttachedRolePoliciesResponse {
                attached_policies,
                is_truncated,
                marker,
            },
        ))
    }

    pub(crate) async fn list_entities_for_policy(
        &self,
        caller: &Caller,
        r: ListEntitiesForPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        self.authorized_policy(caller, "ListEntitiesForPolicy", &r.policy_arn)
            .await?;
        let prefix = r.path_prefix.as_deref().unwrap_or("/");
        let wants = |t: EntityType| r.entity_filter.is_none_or(|f| f == t);
        let attached = |list: &[String]| list.iter().any(|a| a == &r.policy_arn);
        let mut policy_users = Vec::new();
        if wants(EntityType::User) {
            for u in self.all::<UserRecord>(Kind::User, account).await? {
                if attached(&u.attached) && u.path.starts_with(prefix) {
                    policy_users.push(PolicyUser {
                        user_name: u.name.clone(),
                        user_id: u.user_id.clone(),
                    });
                }
            }
        }
        let mut policy_groups = Vec::new();
        if wants(EntityType::Group) {
            for g in self.all::<GroupRecord>(Kind::Group, account).await? {
                if attached(&g.attached) && g.path.starts_with(prefix) {
                    policy_groups.push(PolicyGroup {
                        group_name: g.name.clone(),
                        group_id: g.group_id.clone(),
                    });
                }
            }
        }
        let mut policy_roles = Vec::new();
        if wants(EntityType::Role) {
            for ro in self.all::<RoleRecord>(Kind::Role, account).await? {
                if attached(&ro.attached) && ro.path.starts_with(prefix) {
                    policy_roles.push(PolicyRole {
                        role_name: ro.name.clone(),
                        role_id: ro.role_id.clone(),
                    });
                }
            }
        }
        // At most 5,000 users, 300 groups and 1,000 roles: one page.
        let _ = (&r.marker, r.max_items);
        Ok(IamResponse::ListEntitiesForPolicy(
            ListEntitiesForPolicyResponse {
                policy_groups,
                policy_users,
                policy_roles,
                is_truncated: false,
                marker: None,
            },
        ))
    }
}
