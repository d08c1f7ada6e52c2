//! IAM responses, one struct per action that returns something, named
//! `<Action>Response`, and [`IamResponse`], which encodes any of them as
//! the XML document IAM sends:
//!
//! ```text
//! <CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//!   <CreateUserResult><User>…</User></CreateUserResult>
//!   <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata>
//! </CreateUserResponse>
//! ```
//!
//! Actions without output (`DeleteUser`…) send only `ResponseMetadata`;
//! `UpdateRole`, whose model output is an empty structure, sends an empty
//! `UpdateRoleResult` as IAM does. Lists are `<member>` items followed by
//! `IsTruncated` and, when truncated, `Marker`.

use zeroize::Zeroizing;

use crate::shapes::{
    AccessKey, AccessKeyLastUsed, AccessKeyMetadata, AttachedPolicy, Group, Policy, PolicyGroup,
    PolicyRole, PolicyUser, PolicyVersion, Role, Tag, User, write_access_key,
    write_access_key_metadata, write_attached_policy, write_group, write_list, write_policy,
    write_policy_version, write_role, write_string_list, write_tags, write_user,
};
use crate::xml::XmlWriter;

/// Declares [`IamResponse`]: variants with a result carry its struct,
/// the others carry nothing.
macro_rules! iam_responses {
    (
        with_result { $($action:ident($response:ident)),* $(,)? }
        without_result { $($empty:ident),* $(,)? }
        empty_result { $($blank:ident),* $(,)? }
    ) => {
        /// The response to any IAM action.
        #[derive(Debug)]
        pub enum IamResponse {
            $($action($response),)*
            $($empty,)*
            $($blank,)*
        }

        impl IamResponse {
            /// The action this responds to.
            pub fn action(&self) -> &'static str {
                match self {
                    $(IamResponse::$action(_) => stringify!($action),)*
                    $(IamResponse::$empty => stringify!($empty),)*
                    $(IamResponse::$blank => stringify!($blank),)*
                }
            }

            /// Writes the content of `<ActionResult>`; `false` when the
            /// action has no result element.
            fn write_result(&self, w: &mut XmlWriter) -> bool {
                match self {
                    $(IamResponse::$action(r) => { r.write(w); true })*
                    $(IamResponse::$blank => true,)*
                    $(IamResponse::$empty => false,)*
                }
            }
        }
    };
}

iam_responses! {
    with_result {
        CreateUser(CreateUserResponse),
        GetUser(GetUserResponse),
        ListUsers(ListUsersResponse),
        ListUserTags(ListUserTagsResponse),
        CreateGroup(CreateGroupResponse),
        GetGroup(GetGroupResponse),
        ListGroups(ListGroupsResponse),
        ListGroupsForUser(ListGroupsForUserResponse),
        CreateRole(CreateRoleResponse),
        GetRole(GetRoleResponse),
        ListRoles(ListRolesResponse),
        ListRoleTags(ListRoleTagsResponse),
        GetUserPolicy(GetUserPolicyResponse),
        ListUserPolicies(ListUserPoliciesResponse),
        GetGroupPolicy(GetGroupPolicyResponse),
        ListGroupPolicies(ListGroupPoliciesResponse),
        GetRolePolicy(GetRolePolicyResponse),
        ListRolePolicies(ListRolePoliciesResponse),
        CreatePolicy(CreatePolicyResponse),
        GetPolicy(GetPolicyResponse),
        ListPolicies(ListPoliciesResponse),
        CreatePolicyVersion(CreatePolicyVersionResponse),
        GetPolicyVersion(GetPolicyVersionResponse),
        ListPolicyVersions(ListPolicyVersionsResponse),
        ListAttachedUserPolicies(ListAttachedUserPoliciesResponse),
        ListAttachedGroupPolicies(ListAttachedGroupPoliciesResponse),
        ListAttachedRolePolicies(ListAttachedRolePoliciesResponse),
        ListEntitiesForPolicy(ListEntitiesForPolicyResponse),
        CreateAccessKey(CreateAccessKeyResponse),
        ListAccessKeys(ListAccessKeysResponse),
        GetAccessKeyLastUsed(GetAccessKeyLastUsedResponse),
    }
    without_result {
        UpdateUser, DeleteUser, TagUser, UntagUser,
        UpdateGroup, DeleteGroup, AddUserToGroup, RemoveUserFromGroup,
        UpdateAssumeRolePolicy, DeleteRole, TagRole, UntagRole,
        PutUserPolicy, DeleteUserPolicy, PutGroupPolicy, DeleteGroupPolicy,
        PutRolePolicy, DeleteRolePolicy,
        DeletePolicy, DeletePolicyVersion, SetDefaultPolicyVersion,
        AttachUserPolicy, DetachUserPolicy, AttachGroupPolicy, DetachGroupPolicy,
        AttachRolePolicy, DetachRolePolicy,
        UpdateAccessKey, DeleteAccessKey,
    }
    empty_result { UpdateRole }
}

impl IamResponse {
    /// The whole response document. It is built in a buffer wiped on drop
    /// (and on every growth), because `CreateAccessKey`'s carries a secret.
    pub fn to_xml(&self, request_id: &str) -> Zeroizing<String> {
        let action = self.action();
        let root = format!("{action}Response");
        let mut w = XmlWriter::new();
        w.open_root(&root, crate::IAM_XMLNS);
        let result = format!("{action}Result");
        let mut inner = XmlWriter::new();
        if self.write_result(&mut inner) {
            w.open(&result);
            w.raw(&inner.finish());
            w.close(&result);
        }
        w.metadata(request_id);
        w.close(&root);
        w.finish()
    }
}

/// Declares a response whose result is one entity.
macro_rules! single {
    ($(#[$doc:meta])* $name:ident { $field:ident : $ty:ty } => $element:literal, $write:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub $field: $ty,
        }

        impl $name {
            fn write(&self, w: &mut XmlWriter) {
                $write(w, $element, &self.$field);
            }
        }
    };
}

/// Declares a paginated response whose result is one list.
macro_rules! page {
    ($(#[$doc:meta])* $name:ident { $field:ident : $item:ty } => $element:literal, $write:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub $field: Vec<$item>,
            pub is_truncated: bool,
            /// Where the next page starts; set only when truncated.
            pub marker: Option<String>,
        }

        impl $name {
            fn write(&self, w: &mut XmlWriter) {
                write_list(w, $element, &self.$field, $write);
                w.page(self.is_truncated, self.marker.as_deref());
            }
        }
    };
}

/// Declares a paginated list of inline policy names.
macro_rules! policy_names {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub policy_names: Vec<String>,
            pub is_truncated: bool,
            pub marker: Option<String>,
        }

        impl $name {
            fn write(&self, w: &mut XmlWriter) {
                write_string_list(w, "PolicyNames", &self.policy_names);
                w.page(self.is_truncated, self.marker.as_deref());
            }
        }
    };
}

/// Declares a paginated list of tags.
macro_rules! tag_page {
    ($name:ident) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub tags: Vec<Tag>,
            pub is_truncated: bool,
            pub marker: Option<String>,
        }

        impl $name {
            fn write(&self, w: &mut XmlWriter) {
                write_tags(w, "Tags", &self.tags);
                w.page(self.is_truncated, self.marker.as_deref());
            }
        }
    };
}

/// Declares the response to `Get{User,Group,Role}Policy`.
macro_rules! inline_policy {
    ($name:ident { $owner:ident } => $element:literal) => {
        /// The document is raw JSON, URL-encoded on output as IAM does.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            pub $owner: String,
            pub policy_name: String,
            pub policy_document: String,
        }

        impl $name {
            fn write(&self, w: &mut XmlWriter) {
                w.element($element, &self.$owner);
                w.element("PolicyName", &self.policy_name);
                w.policy_document("PolicyDocument", &self.policy_document);
            }
        }
    };
}

single!(CreateUserResponse { user: User } => "User", write_user);
single!(GetUserResponse { user: User } => "User", write_user);
page!(ListUsersResponse { users: User } => "Users", write_user);
tag_page!(ListUserTagsResponse);

single!(CreateGroupResponse { group: Group } => "Group", write_group);
page!(ListGroupsResponse { groups: Group } => "Groups", write_group);
page!(ListGroupsForUserResponse { groups: Group } => "Groups", write_group);

/// The group and one page of its users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetGroupResponse {
    pub group: Group,
    pub users: Vec<User>,
    pub is_truncated: bool,
    pub marker: Option<String>,
}

impl GetGroupResponse {
    fn write(&self, w: &mut XmlWriter) {
        write_group(w, "Group", &self.group);
        write_list(w, "Users", &self.users, write_user);
        w.page(self.is_truncated, self.marker.as_deref());
    }
}

single!(CreateRoleResponse { role: Role } => "Role", write_role);
single!(GetRoleResponse { role: Role } => "Role", write_role);
page!(ListRolesResponse { roles: Role } => "Roles", write_role);
tag_page!(ListRoleTagsResponse);

inline_policy!(GetUserPolicyResponse { user_name } => "UserName");
inline_policy!(GetGroupPolicyResponse { group_name } => "GroupName");
inline_policy!(GetRolePolicyResponse { role_name } => "RoleName");
policy_names!(ListUserPoliciesResponse);
policy_names!(ListGroupPoliciesResponse);
policy_names!(ListRolePoliciesResponse);

single!(CreatePolicyResponse { policy: Policy } => "Policy", write_policy);
single!(GetPolicyResponse { policy: Policy } => "Policy", write_policy);
page!(ListPoliciesResponse { policies: Policy } => "Policies", write_policy);
single!(CreatePolicyVersionResponse { policy_version: PolicyVersion } => "PolicyVersion", write_policy_version);
single!(GetPolicyVersionResponse { policy_version: PolicyVersion } => "PolicyVersion", write_policy_version);
page!(
    /// IAM leaves each version's document out of this list.
    ListPolicyVersionsResponse { versions: PolicyVersion } => "Versions", write_policy_version
);
page!(ListAttachedUserPoliciesResponse { attached_policies: AttachedPolicy } => "AttachedPolicies", write_attached_policy);
page!(ListAttachedGroupPoliciesResponse { attached_policies: AttachedPolicy } => "AttachedPolicies", write_attached_policy);
page!(ListAttachedRolePoliciesResponse { attached_policies: AttachedPolicy } => "AttachedPolicies", write_attached_policy);

/// The users, groups and roles a managed policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntitiesForPolicyResponse {
    pub policy_groups: Vec<PolicyGroup>,
    pub policy_users: Vec<PolicyUser>,
    pub policy_roles: Vec<PolicyRole>,
    pub is_truncated: bool,
    pub marker: Option<String>,
}

impl ListEntitiesForPolicyResponse {
    fn write(&self, w: &mut XmlWriter) {
        write_list(w, "PolicyGroups", &self.policy_groups, |w, name, g| {
            w.open(name);
            w.element("GroupName", &g.group_name);
            w.element("GroupId", &g.group_id);
            w.close(name);
        });
        write_list(w, "PolicyUsers", &self.policy_users, |w, name, u| {
            w.open(name);
            w.element("UserName", &u.user_name);
            w.element("UserId", &u.user_id);
            w.close(name);
        });
        write_list(w, "PolicyRoles", &self.policy_roles, |w, name, r| {
            w.open(name);
            w.element("RoleName", &r.role_name);
            w.element("RoleId", &r.role_id);
            w.close(name);
        });
        w.page(self.is_truncated, self.marker.as_deref());
    }
}

/// The new key with its secret. No `Clone`: the secret is copied only
/// explicitly, and `Debug` never shows it.
#[derive(Debug)]
pub struct CreateAccessKeyResponse {
    pub access_key: AccessKey,
}

impl CreateAccessKeyResponse {
    fn write(&self, w: &mut XmlWriter) {
        write_access_key(w, "AccessKey", &self.access_key);
    }
}

page!(ListAccessKeysResponse { access_key_metadata: AccessKeyMetadata } => "AccessKeyMetadata", write_access_key_metadata);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetAccessKeyLastUsedResponse {
    pub user_name: Option<String>,
    pub access_key_last_used: AccessKeyLastUsed,
}

impl GetAccessKeyLastUsedResponse {
    fn write(&self, w: &mut XmlWriter) {
        w.optional("UserName", self.user_name.as_deref());
        let last = &self.access_key_last_used;
        w.open("AccessKeyLastUsed");
        if let Some(d) = last.last_used_date {
            w.date("LastUsedDate", d);
        }
        w.element("ServiceName", &last.service_name);
        w.element("Region", &last.region);
        w.close("AccessKeyLastUsed");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failure is a panic")]
mod tests {
    use custos_crypto::SecretBytes;
    use time::macros::datetime;

    use super::*;
    use crate::shapes::{AttachedPermissionsBoundary, RoleLastUsed, StatusType};
    use crate::xml::leaves;

    fn user(name: &str) -> User {
        User {
            path: "/".into(),
            user_name: name.into(),
            user_id: "AIDAEXAMPLEEXAMPLE01".into(),
            arn: format!("arn:aws:iam::123456789012:user/{name}"),
            create_date: datetime!(2026-12-04 16:08:35 UTC),
            password_last_used: None,
            permissions_boundary: None,
            tags: Vec::new(),
        }
    }

    fn leaf<'a>(leaves: &'a [(String, String)], path: &str) -> &'a str {
        leaves
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no {path} in {leaves:?}"))
    }

    #[test]
    fn create_user_is_iams_document() {
        let xml = IamResponse::CreateUser(CreateUserResponse {
            user: user("alice"),
        })
        .to_xml("rid");
        assert_eq!(
            xml.as_str(),
            "<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
             <CreateUserResult><User><Path>/</Path><UserName>alice</UserName>\
             <UserId>AIDAEXAMPLEEXAMPLE01</UserId><Arn>arn:aws:iam::123456789012:user/alice</Arn>\
             <CreateDate>2026-12-04T16:08:35Z</CreateDate></User></CreateUserResult>\
             <ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></CreateUserResponse>"
        );
    }

    #[test]
    fn actions_without_output_send_only_metadata() {
        assert_eq!(
            IamResponse::DeleteUser.to_xml("r").as_str(),
            "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
             <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
        );
        assert!(
            IamResponse::UpdateRole
                .to_xml("r")
                .contains("<UpdateRoleResult></UpdateRoleResult><ResponseMetadata>")
        );
    }

    #[test]
    fn lists_have_members_and_pagination() {
        let mut tagged = user("b<&>");
        tagged.tags = vec![Tag {
            key: "team".into(),
            value: "a&b".into(),
        }];
        tagged.permissions_boundary = Some(AttachedPermissionsBoundary {
            permissions_boundary_arn: "arn:aws:iam::123456789012:policy/b".into(),
        });
        let xml = IamResponse::ListUsers(ListUsersResponse {
            users: vec![user("a"), tagged],
            is_truncated: true,
            marker: Some("next".into()),
        })
        .to_xml("r");
        let l = leaves(&xml);
        let names: Vec<_> = l
            .iter()
            .filter(|(p, _)| p == "ListUsersResponse/ListUsersResult/Users/member/UserName")
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(names, ["a", "b<&>"]);
        assert_eq!(
            leaf(&l, "ListUsersResponse/ListUsersResult/IsTruncated"),
            "true"
        );
        assert_eq!(leaf(&l, "ListUsersResponse/ListUsersResult/Marker"), "next");
        assert_eq!(
            leaf(
                &l,
                "ListUsersResponse/ListUsersResult/Users/member/Tags/member/Value"
            ),
            "a&b"
        );
        assert_eq!(
            leaf(
                &l,
                "ListUsersResponse/ListUsersResult/Users/member/PermissionsBoundary/PermissionsBoundaryType"
            ),
            "PermissionsBoundaryPolicy"
        );
        assert_eq!(
            leaf(&l, "ListUsersResponse/ResponseMetadata/RequestId"),
            "r"
        );

        let empty = IamResponse::ListGroups(ListGroupsResponse {
            groups: Vec::new(),
            is_truncated: false,
            marker: None,
        })
        .to_xml("r");
        assert!(empty.contains(
            "<ListGroupsResult><Groups></Groups><IsTruncated>false</IsTruncated></ListGroupsResult>"
        ));
    }

    #[test]
    fn policy_documents_are_url_encoded() {
        let doc = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let xml = IamResponse::GetRolePolicy(GetRolePolicyResponse {
            role_name: "r".into(),
            policy_name: "p".into(),
            policy_document: doc.into(),
        })
        .to_xml("x");
        assert!(xml.contains(
            "<RoleName>r</RoleName><PolicyName>p</PolicyName><PolicyDocument>\
             %7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D</PolicyDocument>"
        ));
        let role = Role {
            path: "/".into(),
            role_name: "r".into(),
            role_id: "AROAEXAMPLEEXAMPLE01".into(),
            arn: "arn:aws:iam::123456789012:role/r".into(),
            create_date: datetime!(2026-01-01 0:00 UTC),
            assume_role_policy_document: doc.into(),
            description: Some("d".into()),
            max_session_duration: 3600,
            permissions_boundary: None,
            tags: Vec::new(),
            role_last_used: Some(RoleLastUsed {
                last_used_date: None,
                region: None,
            }),
        };
        let l = leaves(&IamResponse::GetRole(GetRoleResponse { role }).to_xml("x"));
        assert_eq!(
            leaf(
                &l,
                "GetRoleResponse/GetRoleResult/Role/AssumeRolePolicyDocument"
            ),
            crate::url_encode_policy(doc)
        );
        assert_eq!(
            leaf(&l, "GetRoleResponse/GetRoleResult/Role/MaxSessionDuration"),
            "3600"
        );
        let version = IamResponse::GetPolicyVersion(GetPolicyVersionResponse {
            policy_version: PolicyVersion {
                document: Some("{ }".into()),
                version_id: "v2".into(),
                is_default_version: true,
                create_date: datetime!(2026-01-01 0:00 UTC),
            },
        })
        .to_xml("x");
        assert!(version.contains("<Document>%7B%20%7D</Document><VersionId>v2</VersionId><IsDefaultVersion>true</IsDefaultVersion>"));
    }

    #[test]
    fn access_key_secret_is_in_the_document_but_never_in_debug() {
        let response = CreateAccessKeyResponse {
            access_key: AccessKey {
                user_name: "alice".into(),
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                status: StatusType::Active,
                secret_access_key: SecretBytes::new(
                    b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_vec(),
                ),
                create_date: datetime!(2026-12-04 16:08:35 UTC),
            },
        };
        assert!(!format!("{response:?}").contains("wJalrXUtnFEMI"));
        let response = IamResponse::CreateAccessKey(response);
        assert!(!format!("{response:?}").contains("wJalrXUtnFEMI"));
        let l = leaves(&response.to_xml("r"));
        let at = "CreateAccessKeyResponse/CreateAccessKeyResult/AccessKey/";
        assert_eq!(
            leaf(&l, &format!("{at}SecretAccessKey")),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert_eq!(leaf(&l, &format!("{at}Status")), "Active");
        assert_eq!(leaf(&l, &format!("{at}CreateDate")), "2026-12-04T16:08:35Z");
    }

    #[test]
    fn entities_for_policy_and_last_used() {
        let xml = IamResponse::ListEntitiesForPolicy(ListEntitiesForPolicyResponse {
            policy_groups: vec![PolicyGroup {
                group_name: "g".into(),
                group_id: "AGPA1".into(),
            }],
            policy_users: Vec::new(),
            policy_roles: vec![PolicyRole {
                role_name: "r".into(),
                role_id: "AROA1".into(),
            }],
            is_truncated: false,
            marker: None,
        })
        .to_xml("x");
        let l = leaves(&xml);
        let at = "ListEntitiesForPolicyResponse/ListEntitiesForPolicyResult/";
        assert_eq!(
            leaf(&l, &format!("{at}PolicyGroups/member/GroupId")),
            "AGPA1"
        );
        assert_eq!(leaf(&l, &format!("{at}PolicyRoles/member/RoleName")), "r");
        assert!(xml.contains("<PolicyUsers></PolicyUsers>"));

        let xml = IamResponse::GetAccessKeyLastUsed(GetAccessKeyLastUsedResponse {
            user_name: Some("u".into()),
            access_key_last_used: AccessKeyLastUsed {
                last_used_date: None,
                service_name: "N/A".into(),
                region: "N/A".into(),
            },
        })
        .to_xml("x");
        assert!(xml.contains("<UserName>u</UserName><AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region></AccessKeyLastUsed>"));
        let policies = IamResponse::ListUserPolicies(ListUserPoliciesResponse {
            policy_names: vec!["a".into(), "b".into()],
            is_truncated: false,
            marker: None,
        })
        .to_xml("x");
        assert!(
            policies.contains("<PolicyNames><member>a</member><member>b</member></PolicyNames>")
        );
    }
}
