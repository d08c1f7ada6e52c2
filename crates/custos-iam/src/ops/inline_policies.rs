//! Inline policies of users, groups and roles: `Put…Policy`,
//! `Get…Policy`, `List…Policies`, `Delete…Policy`, one generic
//! implementation for the three kinds of entity.
//!
//! Documents are checked with the grammar `custos-policy` evaluates, and
//! against IAM's quota on the total size of an entity's inline policies
//! (characters other than whitespace). They are returned as stored; the
//! wire layer URL-encodes them as IAM does.
//!
//! Revoking a role's older sessions needs nothing special: the policy AWS's
//! console writes for it (`Deny` of `*` when `aws:TokenIssueTime` is
//! earlier) is an inline policy like any other, evaluated on every IAM and
//! KMS request.

use custos_iam_wire::{
    DeleteGroupPolicyRequest, DeleteRolePolicyRequest, DeleteUserPolicyRequest,
    GetGroupPolicyRequest, GetGroupPolicyResponse, GetRolePolicyRequest, GetRolePolicyResponse,
    GetUserPolicyRequest, GetUserPolicyResponse, IamResponse, ListGroupPoliciesRequest,
    ListGroupPoliciesResponse, ListRolePoliciesRequest, ListRolePoliciesResponse,
    ListUserPoliciesRequest, ListUserPoliciesResponse, PutGroupPolicyRequest, PutRolePolicyRequest,
    PutUserPolicyRequest,
};
use custos_policy::PolicyKind;
use custos_store::Engine;

use super::entity::Entity;
use super::{page, validate_policy};
use crate::caller::Caller;
use crate::records::{GroupRecord, InlinePolicies, RoleRecord, UserRecord};
use crate::{Iam, IamError};

fn aggregate(policies: &InlinePolicies) -> usize {
    policies
        .values()
        .map(|d| d.chars().filter(|c| !c.is_whitespace()).count())
        .sum()
}

/// The stored name of inline policy `name` (names compare without regard
/// to case).
fn find(policies: &InlinePolicies, name: &str) -> Option<String> {
    policies
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
}

fn no_such_policy<T: Entity>(name: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "The {} policy with name {name} cannot be found.",
        T::NOUN
    ))
}

/// One inline policy as read: the owner's name, the policy's, the document.
struct Read {
    owner: String,
    name: String,
    document: String,
}

/// A page of inline policy names.
struct Names {
    names: Vec<String>,
    is_truncated: bool,
    marker: Option<String>,
}

impl<E: Engine> Iam<E> {
    async fn put_inline<T: Entity>(
        &self,
        caller: &Caller,
        action: &str,
        owner: &str,
        name: &str,
        document: &str,
    ) -> Result<(), IamError> {
        self.change::<T>(caller, action, owner, |record| {
            validate_policy(document, PolicyKind::Identity, T::INLINE_QUOTA)?;
            let policies = record.inline_policies_mut();
            if let Some(k) = find(policies, name) {
                policies.remove(&k);
            }
            policies.insert(name.to_owned(), document.to_owned());
            if aggregate(policies) > T::INLINE_QUOTA {
                return Err(IamError::LimitExceeded(format!(
                    "Maximum policy size of {} bytes exceeded for {} {}",
                    T::INLINE_QUOTA,
                    T::NOUN,
                    record.name()
                )));
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn get_inline<T: Entity>(
        &self,
        caller: &Caller,
        action: &str,
        owner: &str,
        name: &str,
    ) -> Result<Read, IamError> {
        let loaded = self.authorized::<T>(caller, action, owner).await?;
        let policies = loaded.record.inline_policies();
        let key = find(policies, name).ok_or_else(|| no_such_policy::<T>(name))?;
        Ok(Read {
            owner: loaded.record.name().to_owned(),
            document: policies.get(&key).cloned().unwrap_or_default(),
            name: key,
        })
    }

    async fn list_inline<T: Entity>(
        &self,
        caller: &Caller,
        action: &str,
        owner: &str,
        marker: Option<&str>,
        max_items: Option<u32>,
    ) -> Result<Names, IamError> {
        let loaded = self.authorized::<T>(caller, action, owner).await?;
        let (names, is_truncated, marker) = page(
            loaded.record.inline_policies().keys().cloned().collect(),
            |n: &String| n.clone(),
            marker,
            max_items,
        );
        Ok(Names {
            names,
            is_truncated,
            marker,
        })
    }

    async fn delete_inline<T: Entity>(
        &self,
        caller: &Caller,
        action: &str,
        owner: &str,
        name: &str,
    ) -> Result<(), IamError> {
        self.change::<T>(caller, action, owner, |record| {
            let policies = record.inline_policies_mut();
            let key = find(policies, name).ok_or_else(|| no_such_policy::<T>(name))?;
            policies.remove(&key);
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub(crate) async fn put_user_policy(
        &self,
        caller: &Caller,
        r: PutUserPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        self.put_inline::<UserRecord>(
            caller,
            "PutUserPolicy",
            &r.user_name,
            &r.policy_name,
            &r.policy_document,
        )
        .await?;
        Ok(IamResponse::PutUserPolicy)
    }

    pub(crate) async fn get_user_policy(
        &self,
        caller: &Caller,
        r: GetUserPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let read = self
            .get_inline::<UserRecord>(caller, "GetUserPolicy", &r.user_name, &r.policy_name)
            .await?;
        Ok(IamResponse::GetUserPolicy(GetUserPolicyResponse {
            user_name: read.owner,
            policy_name: read.name,
            policy_document: read.document,
        }))
    }

    pub(crate) async fn list_user_policies(
        &self,
        caller: &Caller,
        r: ListUserPoliciesRequest,
    ) -> Result<IamResponse, IamError> {
        let n = self
            .list_inline::<UserRecord>(
                caller,
                "ListUserPolicies",
                &r.user_name,
                r.marker.as_deref(),
                r.max_items,
            )
            .await?;
        Ok(IamResponse::ListUserPolicies(ListUserPoliciesResponse {
            policy_names: n.names,
            is_truncated: n.is_truncated,
            marker: n.marker,
        }))
    }

    pub(crate) async fn delete_user_policy(
        &self,
        caller: &Caller,
        r: DeleteUserPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        self.delete_inline::<UserRecord>(caller, "DeleteUserPolicy", &r.user_name, &r.policy_name)
            .await?;
        Ok(IamResponse::DeleteUserPolicy)
    }

    pub(crate) async fn put_group_policy(
        &self,
        caller: &Caller,
        r: PutGroupPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        self.put_inline::<GroupRecord>(
            caller,
            "PutGroupPolicy",
            &r.group_name,
            &r.policy_name,
            &r.policy_document,
        )
        .await?;
        Ok(IamResponse::PutGroupPolicy)
    }

    pub(crate) async fn get_group_policy(
        &self,
        caller: &Caller,
        r: GetGroupPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let read = self
            .get_inline::<GroupRecord>(caller, "GetGroupPolicy", &r.group_name, &r.policy_name)
            .await?;
        Ok(IamResponse::GetGroupPolicy(GetGroupPolicyResponse {
            group_name: read.owner,
            policy_name: read.name,
            policy_document: read.document,
        }))
    }

    pub(crate) async fn list_group_policies(
        &self,
        caller: &Caller,
        r: ListGroupPoliciesRequest,
    ) -> Result<IamResponse, IamError> {
        let n = self
            .list_inline::<GroupRecord>(
                caller,
                "ListGroupPolicies",
                &r.group_name,
                r.marker.as_deref(),
                r.max_items,
            )
            .await?;
        Ok(IamResponse::ListGroupPolicies(ListGroupPoliciesResponse {
            policy_names: n.names,
            is_truncated: n.is_truncated,
            marker: n.marker,
        }))
    }

    pub(crate) async fn delete_group_policy(
        &self,
        caller: &Caller,
        r: DeleteGroupPolicyRequest,
    ) -> Result<IamResponse, IamError> {
        self.delete_inline::<GroupRecord>(
            caller,
            "DeleteGroupPolicy",
            &r.group_name,
            &r.policy_name,
        )
        .await?;
        Ok(IamResponse::DeleteGroupPolicy)
    }

    pub(crate) async fn put_role_policy(
        &self,
        caller: &Caller,
        r: PutRolePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        self.put_inline::<RoleRecord>(
            caller,
            "PutRolePolicy",
            &r.role_name,
            &r.policy_name,
            &r.policy_document,
        )
        .await?;
        Ok(IamResponse::PutRolePolicy)
    }

    pub(crate) async fn get_role_policy(
        &self,
        caller: &Caller,
        r: GetRolePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        let read = self
            .get_inline::<RoleRecord>(caller, "GetRolePolicy", &r.role_name, &r.policy_name)
            .await?;
        Ok(IamResponse::GetRolePolicy(GetRolePolicyResponse {
            role_name: read.owner,
            policy_name: read.name,
            policy_document: read.document,
        }))
    }

    pub(crate) async fn list_role_policies(
        &self,
        caller: &Caller,
        r: ListRolePoliciesRequest,
    ) -> Result<IamResponse, IamError> {
        let n = self
            .list_inline::<RoleRecord>(
                caller,
                "ListRolePolicies",
                &r.role_name,
                r.marker.as_deref(),
                r.max_items,
            )
            .await?;
        Ok(IamResponse::ListRolePolicies(ListRolePoliciesResponse {
            policy_names: n.names,
            is_truncated: n.is_truncated,
            marker: n.marker,
        }))
    }

    pub(crate) async fn delete_role_policy(
        &self,
        caller: &Caller,
        r: DeleteRolePolicyRequest,
    ) -> Result<IamResponse, IamError> {
        self.delete_inline::<RoleRecord>(caller, "DeleteRolePolicy", &r.role_name, &r.policy_name)
            .await?;
        Ok(IamResponse::DeleteRolePolicy)
    }
}
