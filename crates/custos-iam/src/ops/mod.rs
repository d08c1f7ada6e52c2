//! The IAM and STS operations.
//!
//! Every IAM operation has the same shape: find the entity the request
//! names (it may not exist), authorize `iam:<Action>` on its ARN with the
//! caller's policies, check, then write one conditional batch (so that a
//! concurrent change makes one writer retry rather than lose an update),
//! and empty the credential cache. IAM has some sixty actions on six
//! kinds of entity; they are grouped one module per kind of entity rather
//! than one file per action, each module in the order of IAM's reference.
//!
//! - `entity`: what users, groups and roles share, and the one way an
//!   operation finds, authorizes and changes one.
//! - [`users`], [`groups`], [`roles`]: the entities and their tags.
//! - [`inline_policies`]: `Put…Policy`, `Get…Policy`, `List…Policies` and
//!   `Delete…Policy` of users, groups and roles.
//! - [`managed_policies`]: customer managed policies, their versions, and
//!   attachments.
//! - [`access_keys`]: access keys and their last use.
//! - [`sts`]: `AssumeRole`, `GetSessionToken`, `GetCallerIdentity`.

pub mod access_keys;
pub(crate) mod entity;
pub mod groups;
pub mod inline_policies;
pub mod managed_policies;
pub mod roles;
pub mod sts;
pub mod users;

use custos_iam_wire::shapes::Tag;
use custos_iam_wire::{IamRequest, IamResponse};
use custos_policy::{Policy, PolicyKind};
use custos_store::{Batch, Engine, StoreError, Table};
use serde::Serialize;

use crate::caller::Caller;
use crate::records::{self, Kind};
use crate::{AccountId, Iam, IamError};

/// `MaxItems` when a list request gives none, as IAM.
pub(crate) const DEFAULT_MAX_ITEMS: usize = 100;

impl<E: Engine> Iam<E> {
    /// Runs one IAM request for `caller`.
    pub async fn iam_request(
        &self,
        caller: &Caller,
        request: IamRequest,
    ) -> Result<IamResponse, IamError> {
        use IamRequest as R;
        let response = match request {
            R::CreateUser(r) => self.create_user(caller, r).await?,
            R::GetUser(r) => self.get_user(caller, r).await?,
            R::ListUsers(r) => self.list_users(caller, r).await?,
            R::UpdateUser(r) => self.update_user(caller, r).await?,
            R::DeleteUser(r) => self.delete_user(caller, r).await?,
            R::TagUser(r) => self.tag_user(caller, r).await?,
            R::UntagUser(r) => self.untag_user(caller, r).await?,
            R::ListUserTags(r) => self.list_user_tags(caller, r).await?,
            R::CreateGroup(r) => self.create_group(caller, r).await?,
            R::GetGroup(r) => self.get_group(caller, r).await?,
            R::ListGroups(r) => self.list_groups(caller, r).await?,
            R::UpdateGroup(r) => self.update_group(caller, r).await?,
            R::DeleteGroup(r) => self.delete_group(caller, r).await?,
            R::AddUserToGroup(r) => self.add_user_to_group(caller, r).await?,
            R::RemoveUserFromGroup(r) => self.remove_user_from_group(caller, r).await?,
            R::ListGroupsForUser(r) => self.list_groups_for_user(caller, r).await?,
            R::CreateRole(r) => self.create_role(caller, r).await?,
            R::GetRole(r) => self.get_role(caller, r).await?,
            R::ListRoles(r) => self.list_roles(caller, r).await?,
            R::UpdateRole(r) => self.update_role(caller, r).await?,
            R::UpdateAssumeRolePolicy(r) => self.update_assume_role_policy(caller, r).await?,
            R::DeleteRole(r) => self.delete_role(caller, r).await?,
            R::TagRole(r) => self.tag_role(caller, r).await?,
            R::UntagRole(r) => self.untag_role(caller, r).await?,
            R::ListRoleTags(r) => self.list_role_tags(caller, r).await?,
            R::PutUserPolicy(r) => self.put_user_policy(caller, r).await?,
            R::GetUserPolicy(r) => self.get_user_policy(caller, r).await?,
            R::ListUserPolicies(r) => self.list_user_policies(caller, r).await?,
            R::DeleteUserPolicy(r) => self.delete_user_policy(caller, r).await?,
            R::PutGroupPolicy(r) => self.put_group_policy(caller, r).await?,
            R::GetGroupPolicy(r) => self.get_group_policy(caller, r).await?,
            R::ListGroupPolicies(r) => self.list_group_policies(caller, r).await?,
            R::DeleteGroupPolicy(r) => self.delete_group_policy(caller, r).await?,
            R::PutRolePolicy(r) => self.put_role_policy(caller, r).await?,
            R::GetRolePolicy(r) => self.get_role_policy(caller, r).await?,
            R::ListRolePolicies(r) => self.list_role_policies(caller, r).await?,
            R::DeleteRolePolicy(r) => self.delete_role_policy(caller, r).await?,
            R::CreatePolicy(r) => self.create_policy(caller, r).await?,
            R::GetPolicy(r) => self.get_policy(caller, r).await?,
            R::ListPolicies(r) => self.list_policies(caller, r).await?,
            R::DeletePolicy(r) => self.delete_policy(caller, r).await?,
            R::CreatePolicyVersion(r) => self.create_policy_version(caller, r).await?,
            R::GetPolicyVersion(r) => self.get_policy_version(caller, r).await?,
            R::ListPolicyVersions(r) => self.list_policy_versions(caller, r).await?,
            R::DeletePolicyVersion(r) => self.delete_policy_version(caller, r).await?,
            R::SetDefaultPolicyVersion(r) => self.set_default_policy_version(caller, r).await?,
            R::AttachUserPolicy(r) => self.attach_user_policy(caller, r).await?,
            R::DetachUserPolicy(r) => self.detach_user_policy(caller, r).await?,
            R::ListAttachedUserPolicies(r) => self.list_attached_user_policies(caller, r).await?,
            R::AttachGroupPolicy(r) => self.attach_group_policy(caller, r).await?,
            R::DetachGroupPolicy(r) => self.detach_group_policy(caller, r).await?,
            R::ListAttachedGroupPolicies(r) => self.list_attached_group_policies(caller, r).await?,
            R::AttachRolePolicy(r) => self.attach_role_policy(caller, r).await?,
            R::DetachRolePolicy(r) => self.detach_role_policy(caller, r).await?,
            R::ListAttachedRolePolicies(r) => self.list_attached_role_policies(caller, r).await?,
            R::ListEntitiesForPolicy(r) => self.list_entities_for_policy(caller, r).await?,
            R::CreateAccessKey(r) => self.create_access_key(caller, r).await?,
            R::ListAccessKeys(r) => self.list_access_keys(caller, r).await?,
            R::UpdateAccessKey(r) => self.update_access_key(caller, r).await?,
            R::DeleteAccessKey(r) => self.delete_access_key(caller, r).await?,
            R::GetAccessKeyLastUsed(r) => self.get_access_key_last_used(caller, r).await?,
        };
        Ok(response)
    }

    /// Authorizes `iam:<action>` on `resource` for `caller`, refusing
    /// sessions from `GetSessionToken`, which AWS does not let call IAM
    /// without MFA (Custos has no MFA).
    pub(crate) fn authorize_iam(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
    ) -> Result<(), IamError> {
        let action = format!("iam:{action}");
        if matches!(caller.principal(), crate::Principal::UserSession { .. }) {
            return Err(IamError::AccessDenied(format!(
                "User: {} is not authorized to perform: {action} on resource: {resource} \
                 with an explicit deny: credentials from GetSessionToken cannot call IAM \
                 without MFA",
                caller.principal_arn()
            )));
        }
        crate::authorize::authorize(caller, &action, resource, self.now_ms())
    }

    /// Seals `record` into `batch` at its row, replacing `previous` (the
    /// sealed bytes it was read from) or requiring the row to be absent.
    pub(crate) fn stage<T: Serialize>(
        &self,
        batch: &mut Batch,
        kind: Kind,
        account: &AccountId,
        name: &str,
        previous: Option<Vec<u8>>,
        record: &T,
    ) -> Result<(), IamError> {
        let row = records::row(kind, account.as_str(), name);
        match previous {
            Some(raw) => batch.require_equals(Table::Iam, row.clone(), raw),
            None => batch.require_absent(Table::Iam, row.clone()),
        };
        let sealed = records::seal_record(&self.sealer, Table::Iam, &row, record)?;
        batch.put(Table::Iam, row, sealed);
        Ok(())
    }

    /// Deletes the row of `kind` `name`, which must still hold `previous`.
    pub(crate) fn stage_delete(
        &self,
        batch: &mut Batch,
        kind: Kind,
        account: &AccountId,
        name: &str,
        previous: Vec<u8>,
    ) {
        let row = records::row(kind, account.as_str(), name);
        batch
            .require_equals(Table::Iam, row.clone(), previous)
            .delete(Table::Iam, row);
    }

    /// Commits `batch`, then forgets cached credentials. A conflict means
    /// another request changed one of the records in between: AWS would
    /// answer `ConcurrentModification`; Custos asks the client to retry
    /// the same way.
    pub(crate) async fn commit(&self, batch: Batch) -> Result<(), IamError> {
        match self.engine.commit(batch).await {
            Ok(()) => {
                self.invalidate();
                Ok(())
            }
            Err(StoreError::Conflict) => Err(IamError::ConcurrentModification(
                "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks that every principal a policy names exists on this Custos,
    /// as IAM refuses policies naming principals it does not know.
    pub(crate) async fn check_principals(&self, policy: &Policy) -> Result<(), IamError> {
        for principal in policy.principal_arns() {
            if principal == "*" {
                continue;
            }
            if !self.principal_exists(principal).await? {
                return Err(IamError::MalformedPolicyDocument(format!(
                    "Invalid principal in policy: \"AWS\":\"{principal}\""
                )));
            }
        }
        Ok(())
    }

    /// Whether `principal` (an account id, or an account root, user, role
    /// or role session ARN) names a principal of this Custos.
    pub async fn principal_exists(&self, principal: &str) -> Result<bool, IamError> {
        // A bare account id or an account's root.
        let account_only = |s: &str| AccountId::parse(s);
        if let Some(a) = account_only(principal) {
            return self.account_exists(&a).await;
        }
        let Some(rest) = principal
            .strip_prefix("arn:aws:iam::")
            .or_else(|| principal.strip_prefix("arn:aws:sts::"))
        else {
            return Ok(false);
        };
        let Some((account, resource)) = rest.split_once(':') else {
            return Ok(false);
        };
        let Some(account) = AccountId::parse(account) else {
            return Ok(false);
        };
        if !self.account_exists(&account).await? {
            return Ok(false);
        }
        if resource == "root" {
            return Ok(true);
        }
        // `user/<path><name>`: the name and the whole path must match.
        let named = |kind: &str| {
            let rest = resource.strip_prefix(kind)?;
            rest.starts_with('/').then(|| {
                let name = rest.rsplit('/').next().unwrap_or(rest).to_owned();
                (name, rest.to_owned())
            })
        };
        if let Some((name, path_and_name)) = named("user") {
            return Ok(self
                .user_record(&account, &name)
                .await?
                .is_some_and(|u| format!("{}{name}", u.record.path) == path_and_name));
        }
        if let Some((name, path_and_name)) = named("role") {
            return Ok(self
                .role_record(&account, &name)
                .await?
                .is_some_and(|r| format!("{}{name}", r.record.path) == path_and_name));
        }
        if let Some(session) = resource.strip_prefix("assumed-role/") {
            let role = session.split('/').next().unwrap_or_default();
            return Ok(self.role_record(&account, role).await?.is_some());
        }
        Ok(false)
    }
}

/// Parses and validates a policy document for storage: IAM's grammar, and
/// the size limit of its kind.
pub(crate) fn validate_policy(
    text: &str,
    kind: PolicyKind,
    max_chars: usize,
) -> Result<Policy, IamError> {
    // IAM counts characters without whitespace against its quotas.
    let counted = text.chars().filter(|c| !c.is_whitespace()).count();
    if counted > max_chars {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {max_chars}"
        )));
    }
    Policy::parse(text, kind).map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
}

/// One page of `items` (sorted by `key`), after `marker`, at most
/// `max_items` long: the page, whether more follow, and the marker of the
/// next page.
pub(crate) fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    marker: Option<&str>,
    max_items: Option<u32>,
) -> (Vec<T>, bool, Option<String>) {
    let max = max_items.map_or(DEFAULT_MAX_ITEMS, |m| m as usize);
    let mut rest: Vec<T> = match marker {
        Some(m) => items.into_iter().filter(|i| key(i).as_str() > m).collect(),
        None => items,
    };
    let truncated = rest.len() > max;
    rest.truncate(max);
    let next = truncated.then(|| rest.last().map(&key)).flatten();
    (rest, truncated, next)
}

pub(crate) fn to_tags(tags: &[(String, String)]) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: v.clone(),
        })
        .collect()
}

/// Applies `new` tags over `existing` (a key's value is replaced; keys
/// compare without regard to case, as IAM's do), within IAM's 50.
pub(crate) fn merge_tags(
    existing: &mut Vec<(String, String)>,
    new: &[Tag],
) -> Result<(), IamError> {
    for t in new {
        match existing
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(&t.key))
        {
            Some(e) => *e = (t.key.clone(), t.value.clone()),
            None => existing.push((t.key.clone(), t.value.clone())),
        }
    }
    if existing.len() > 50 {
        return Err(IamError::LimitExceeded(
            "Cannot exceed quota for TagsPerEntity: 50".into(),
        ));
    }
    Ok(())
}

pub(crate) fn remove_tags(existing: &mut Vec<(String, String)>, keys: &[String]) {
    existing.retain(|(k, _)| !keys.iter().any(|r| r.eq_ignore_ascii_case(k)));
}

/// A stored time (ms since the epoch) as a date for the wire.
pub(crate) fn date(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A path: the one given, or `/`.
pub(crate) fn path_or_root(path: Option<String>) -> String {
    path.unwrap_or_else(|| "/".to_owned())
}
