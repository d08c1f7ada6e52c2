//! IAM requests, one struct per action named `<Action>Request`, with the
//! members of the service model in snake case, and [`IamRequest`], which
//! parses any of them from [`Params`].
//!
//! Parsing checks every constraint of the model (presence, length,
//! pattern, range, enumeration, at most 50 tags) and nothing else: whether
//! a policy document is valid JSON and valid policy grammar, whether an ARN
//! names anything, is the domain's to decide.

use crate::error::{IamError, IamErrorCode};
use crate::form::Params;
use crate::shapes::{EntityType, PolicyScope, PolicyUsage, StatusType, Tag};
use crate::validate::{
    ACCESS_KEY_ID, ARN, EXISTING_USER_NAME, Fields, GROUP_NAME, PATH, PATH_PREFIX,
    POLICY_DESCRIPTION, POLICY_DOCUMENT, POLICY_NAME, POLICY_PATH, ROLE_DESCRIPTION, ROLE_NAME,
    TAG_KEY, USER_NAME, VERSION_ID, request,
};

/// Declares [`IamRequest`] with one variant per action.
macro_rules! iam_requests {
    ($($action:ident => $request:ident),* $(,)?) => {
        /// Any IAM request Custos understands.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum IamRequest {
            $($action($request),)*
        }

        impl IamRequest {
            /// Every action, as the `Action` parameter names it.
            pub const ACTIONS: &'static [&'static str] = &[$(stringify!($action)),*];

            /// The action's name (`CreateUser`); prefixed with `iam:` it is
            /// the action a policy names.
            pub fn action(&self) -> &'static str {
                match self { $(IamRequest::$action(_) => stringify!($action),)* }
            }

            fn read(action: &str, f: &mut Fields<'_>) -> Option<IamRequest> {
                match action {
                    $(stringify!($action) => Some(IamRequest::$action($request::read(f))),)*
                    _ => None,
                }
            }
        }
    };
}

impl IamRequest {
    /// Parses a request: `Action` present (`MissingAction`), `Version`
    /// `2010-05-08` and a known action (`InvalidAction` otherwise, as IAM
    /// words it), then every member (`ValidationError` listing every
    /// violation). Parameters the action does not have are ignored.
    pub fn parse(params: &Params) -> Result<IamRequest, IamError> {
        let Some(action) = params.action() else {
            return Err(IamError::new(
                IamErrorCode::MissingAction,
                "The request must contain the parameter Action.",
            ));
        };
        if params.version() != Some(crate::IAM_VERSION) {
            return Err(IamError::unknown_operation(action, params.version()));
        }
        let mut fields = Fields::new(params);
        let request = IamRequest::read(action, &mut fields)
            .ok_or_else(|| IamError::unknown_operation(action, params.version()))?;
        fields.finish()?;
        Ok(request)
    }
}

iam_requests! {
    CreateUser => CreateUserRequest,
    GetUser => GetUserRequest,
    ListUsers => ListUsersRequest,
    UpdateUser => UpdateUserRequest,
    DeleteUser => DeleteUserRequest,
    TagUser => TagUserRequest,
    UntagUser => UntagUserRequest,
    ListUserTags => ListUserTagsRequest,
    CreateGroup => CreateGroupRequest,
    GetGroup => GetGroupRequest,
    ListGroups => ListGroupsRequest,
    UpdateGroup => UpdateGroupRequest,
    DeleteGroup => DeleteGroupRequest,
    AddUserToGroup => AddUserToGroupRequest,
    RemoveUserFromGroup => RemoveUserFromGroupRequest,
    ListGroupsForUser => ListGroupsForUserRequest,
    CreateRole => CreateRoleRequest,
    GetRole => GetRoleRequest,
    ListRoles => ListRolesRequest,
    UpdateRole => UpdateRoleRequest,
    UpdateAssumeRolePolicy => UpdateAssumeRolePolicyRequest,
    DeleteRole => DeleteRoleRequest,
    TagRole => TagRoleRequest,
    UntagRole => UntagRoleRequest,
    ListRoleTags => ListRoleTagsRequest,
    PutUserPolicy => PutUserPolicyRequest,
    GetUserPolicy => GetUserPolicyRequest,
    ListUserPolicies => ListUserPoliciesRequest,
    DeleteUserPolicy => DeleteUserPolicyRequest,
    PutGroupPolicy => PutGroupPolicyRequest,
    GetGroupPolicy => GetGroupPolicyRequest,
    ListGroupPolicies => ListGroupPoliciesRequest,
    DeleteGroupPolicy => DeleteGroupPolicyRequest,
    PutRolePolicy => PutRolePolicyRequest,
    GetRolePolicy => GetRolePolicyRequest,
    ListRolePolicies => ListRolePoliciesRequest,
    DeleteRolePolicy => DeleteRolePolicyRequest,
    CreatePolicy => CreatePolicyRequest,
    GetPolicy => GetPolicyRequest,
    ListPolicies => ListPoliciesRequest,
    DeletePolicy => DeletePolicyRequest,
    CreatePolicyVersion => CreatePolicyVersionRequest,
    GetPolicyVersion => GetPolicyVersionRequest,
    ListPolicyVersions => ListPolicyVersionsRequest,
    DeletePolicyVersion => DeletePolicyVersionRequest,
    SetDefaultPolicyVersion => SetDefaultPolicyVersionRequest,
    AttachUserPolicy => AttachUserPolicyRequest,
    DetachUserPolicy => DetachUserPolicyRequest,
    ListAttachedUserPolicies => ListAttachedUserPoliciesRequest,
    AttachGroupPolicy => AttachGroupPolicyRequest,
    DetachGroupPolicy => DetachGroupPolicyRequest,
    ListAttachedGroupPolicies => ListAttachedGroupPoliciesRequest,
    AttachRolePolicy => AttachRolePolicyRequest,
    DetachRolePolicy => DetachRolePolicyRequest,
    ListAttachedRolePolicies => ListAttachedRolePoliciesRequest,
    ListEntitiesForPolicy => ListEntitiesForPolicyRequest,
    CreateAccessKey => CreateAccessKeyRequest,
    ListAccessKeys => ListAccessKeysRequest,
    UpdateAccessKey => UpdateAccessKeyRequest,
    DeleteAccessKey => DeleteAccessKeyRequest,
    GetAccessKeyLastUsed => GetAccessKeyLastUsedRequest,
}

// Users.

request! {
    CreateUserRequest {
        path: Option<String> = string("Path", PATH),
        user_name: String = required("UserName", USER_NAME),
        permissions_boundary: Option<String> = string("PermissionsBoundary", ARN),
        tags: Vec<Tag> = tags("Tags"),
    }
}

request! {
    /// Without `UserName`, the caller.
    GetUserRequest {
        user_name: Option<String> = string("UserName", EXISTING_USER_NAME),
    }
}

request! {
    ListUsersRequest {
        path_prefix: Option<String> = string("PathPrefix", PATH_PREFIX),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    UpdateUserRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        new_path: Option<String> = string("NewPath", PATH),
        new_user_name: Option<String> = string("NewUserName", USER_NAME),
    }
}

request! {
    DeleteUserRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
    }
}

request! {
    TagUserRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        tags: Vec<Tag> = required_tags("Tags"),
    }
}

request! {
    UntagUserRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        tag_keys: Vec<String> = required_strings("TagKeys", TAG_KEY, Some(50)),
    }
}

request! {
    ListUserTagsRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

// Groups.

request! {
    CreateGroupRequest {
        path: Option<String> = string("Path", PATH),
        group_name: String = required("GroupName", GROUP_NAME),
    }
}

request! {
    /// The group and, paginated, its users.
    GetGroupRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    ListGroupsRequest {
        path_prefix: Option<String> = string("PathPrefix", PATH_PREFIX),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    UpdateGroupRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        new_path: Option<String> = string("NewPath", PATH),
        new_group_name: Option<String> = string("NewGroupName", GROUP_NAME),
    }
}

request! {
    DeleteGroupRequest {
        group_name: String = required("GroupName", GROUP_NAME),
    }
}

request! {
    AddUserToGroupRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        user_name: String = required("UserName", EXISTING_USER_NAME),
    }
}

request! {
    RemoveUserFromGroupRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        user_name: String = required("UserName", EXISTING_USER_NAME),
    }
}

request! {
    ListGroupsForUserRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

// Roles.

request! {
    CreateRoleRequest {
        path: Option<String> = string("Path", PATH),
        role_name: String = required("RoleName", ROLE_NAME),
        assume_role_policy_document: String = required("AssumeRolePolicyDocument", POLICY_DOCUMENT),
        description: Option<String> = string("Description", ROLE_DESCRIPTION),
        max_session_duration: Option<u32> = integer("MaxSessionDuration", 3600, 43200),
        permissions_boundary: Option<String> = string("PermissionsBoundary", ARN),
        tags: Vec<Tag> = tags("Tags"),
    }
}

request! {
    GetRoleRequest {
        role_name: String = required("RoleName", ROLE_NAME),
    }
}

request! {
    ListRolesRequest {
        path_prefix: Option<String> = string("PathPrefix", PATH_PREFIX),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    UpdateRoleRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        description: Option<String> = string("Description", ROLE_DESCRIPTION),
        max_session_duration: Option<u32> = integer("MaxSessionDuration", 3600, 43200),
    }
}

request! {
    UpdateAssumeRolePolicyRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        policy_document: String = required("PolicyDocument", POLICY_DOCUMENT),
    }
}

request! {
    DeleteRoleRequest {
        role_name: String = required("RoleName", ROLE_NAME),
    }
}

request! {
    TagRoleRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        tags: Vec<Tag> = required_tags("Tags"),
    }
}

request! {
    UntagRoleRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        tag_keys: Vec<String> = required_strings("TagKeys", TAG_KEY, Some(50)),
    }
}

request! {
    ListRoleTagsRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

// Inline policies.

request! {
    PutUserPolicyRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
        policy_document: String = required("PolicyDocument", POLICY_DOCUMENT),
    }
}

request! {
    GetUserPolicyRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
    }
}

request! {
    ListUserPoliciesRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    DeleteUserPolicyRequest {
        user_name: String = required("UserName", EXISTING_USER_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
    }
}

request! {
    PutGroupPolicyRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
        policy_document: String = required("PolicyDocument", POLICY_DOCUMENT),
    }
}

request! {
    GetGroupPolicyRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
    }
}

request! {
    ListGroupPoliciesRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    DeleteGroupPolicyRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
    }
}

request! {
    PutRolePolicyRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
        policy_document: String = required("PolicyDocument", POLICY_DOCUMENT),
    }
}

request! {
    GetRolePolicyRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
    }
}

request! {
    ListRolePoliciesRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    DeleteRolePolicyRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        policy_name: String = required("PolicyName", POLICY_NAME),
    }
}

// Managed policies.

request! {
    CreatePolicyRequest {
        policy_name: String = required("PolicyName", POLICY_NAME),
        path: Option<String> = string("Path", POLICY_PATH),
        policy_document: String = required("PolicyDocument", POLICY_DOCUMENT),
        description: Option<String> = string("Description", POLICY_DESCRIPTION),
        tags: Vec<Tag> = tags("Tags"),
    }
}

request! {
    GetPolicyRequest {
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    /// `only_attached` is `false` when absent, as the model's default.
    ListPoliciesRequest {
        scope: Option<PolicyScope> = enumeration("Scope", PolicyScope::VALUES),
        only_attached: bool = flag("OnlyAttached"),
        path_prefix: Option<String> = string("PathPrefix", POLICY_PATH),
        policy_usage_filter: Option<PolicyUsage> = enumeration("PolicyUsageFilter", PolicyUsage::VALUES),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    DeletePolicyRequest {
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    /// `set_as_default` is `false` when absent.
    CreatePolicyVersionRequest {
        policy_arn: String = required("PolicyArn", ARN),
        policy_document: String = required("PolicyDocument", POLICY_DOCUMENT),
        set_as_default: bool = flag("SetAsDefault"),
    }
}

request! {
    GetPolicyVersionRequest {
        policy_arn: String = required("PolicyArn", ARN),
        version_id: String = required("VersionId", VERSION_ID),
    }
}

request! {
    ListPolicyVersionsRequest {
        policy_arn: String = required("PolicyArn", ARN),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    DeletePolicyVersionRequest {
        policy_arn: String = required("PolicyArn", ARN),
        version_id: String = required("VersionId", VERSION_ID),
    }
}

request! {
    SetDefaultPolicyVersionRequest {
        policy_arn: String = required("PolicyArn", ARN),
        version_id: String = required("VersionId", VERSION_ID),
    }
}

// Attachments. The model types these user names as `userNameType` (64),
// not `existingUserNameType` (128).

request! {
    AttachUserPolicyRequest {
        user_name: String = required("UserName", USER_NAME),
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    DetachUserPolicyRequest {
        user_name: String = required("UserName", USER_NAME),
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    ListAttachedUserPoliciesRequest {
        user_name: String = required("UserName", USER_NAME),
        path_prefix: Option<String> = string("PathPrefix", POLICY_PATH),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    AttachGroupPolicyRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    DetachGroupPolicyRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    ListAttachedGroupPoliciesRequest {
        group_name: String = required("GroupName", GROUP_NAME),
        path_prefix: Option<String> = string("PathPrefix", POLICY_PATH),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    AttachRolePolicyRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    DetachRolePolicyRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        policy_arn: String = required("PolicyArn", ARN),
    }
}

request! {
    ListAttachedRolePoliciesRequest {
        role_name: String = required("RoleName", ROLE_NAME),
        path_prefix: Option<String> = string("PathPrefix", POLICY_PATH),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    /// The model types this `PathPrefix` as an entity path (`pathType`).
    ListEntitiesForPolicyRequest {
        policy_arn: String = required("PolicyArn", ARN),
        entity_filter: Option<EntityType> = enumeration("EntityFilter", EntityType::VALUES),
        path_prefix: Option<String> = string("PathPrefix", PATH),
        policy_usage_filter: Option<PolicyUsage> = enumeration("PolicyUsageFilter", PolicyUsage::VALUES),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

// Access keys. Without `UserName`, the caller's.

request! {
    CreateAccessKeyRequest {
        user_name: Option<String> = string("UserName", EXISTING_USER_NAME),
    }
}

request! {
    ListAccessKeysRequest {
        user_name: Option<String> = string("UserName", EXISTING_USER_NAME),
        marker: Option<String> = marker(),
        max_items: Option<u32> = max_items(),
    }
}

request! {
    /// `status` may be `Expired` by the model; the domain refuses it.
    UpdateAccessKeyRequest {
        user_name: Option<String> = string("UserName", EXISTING_USER_NAME),
        access_key_id: String = required("AccessKeyId", ACCESS_KEY_ID),
        status: StatusType = status("Status"),
    }
}

request! {
    DeleteAccessKeyRequest {
        user_name: Option<String> = string("UserName", EXISTING_USER_NAME),
        access_key_id: String = required("AccessKeyId", ACCESS_KEY_ID),
    }
}

request! {
    GetAccessKeyLastUsedRequest {
        access_key_id: String = required("AccessKeyId", ACCESS_KEY_ID),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failure is a panic")]
mod tests {
    use super::*;
    use crate::form::parse_form;

    fn parse(body: &str) -> Result<IamRequest, IamError> {
        IamRequest::parse(&parse_form(body.as_bytes()).unwrap())
    }

    fn message(body: &str) -> String {
        let e = parse(body).unwrap_err();
        assert_eq!(e.code, IamErrorCode::ValidationError, "{e}");
        e.message
    }

    #[test]
    fn every_action_parses_with_its_required_members() {
        let all = "Version=2010-05-08&UserName=alice&GroupName=devs&RoleName=ops\
                   &PolicyName=p&PolicyDocument=%7B%7D&AssumeRolePolicyDocument=%7B%7D\
                   &PolicyArn=arn:aws:iam::123456789012:policy/p&VersionId=v1\
                   &AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=Active\
                   &Tags.member.1.Key=k&Tags.member.1.Value=v&TagKeys.member.1=k";
        assert_eq!(IamRequest::ACTIONS.len(), 61);
        for action in IamRequest::ACTIONS {
            let request = parse(&format!("Action={action}&{all}")).unwrap();
            assert_eq!(request.action(), *action);
        }
    }

    #[test]
    fn create_user_round_trip() {
        let r = parse(
            "Action=CreateUser&Version=2010-05-08&UserName=alice%40example.com&Path=%2Fteam%2F\
             &Tags.member.2.Key=b&Tags.member.2.Value=&Tags.member.1.Key=a&Tags.member.1.Value=1\
             &PermissionsBoundary=arn:aws:iam::123456789012:policy/boundary",
        )
        .unwrap();
        assert_eq!(
            r,
            IamRequest::CreateUser(CreateUserRequest {
                path: Some("/team/".into()),
                user_name: "alice@example.com".into(),
                permissions_boundary: Some("arn:aws:iam::123456789012:policy/boundary".into()),
                tags: vec![
                    Tag {
                        key: "a".into(),
                        value: "1".into()
                    },
                    Tag {
                        key: "b".into(),
                        value: String::new()
                    },
                ],
            })
        );
    }

    #[test]
    fn lists_and_pagination() {
        let r = parse(
            "Action=UntagRole&Version=2010-05-08&RoleName=r&TagKeys.member.1=x&TagKeys.member.2=y",
        )
        .unwrap();
        assert_eq!(
            r,
            IamRequest::UntagRole(UntagRoleRequest {
                role_name: "r".into(),
                tag_keys: vec!["x".into(), "y".into()],
            })
        );
        let r = parse("Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fa&MaxItems=10&Marker=abc")
            .unwrap();
        assert_eq!(
            r,
            IamRequest::ListUsers(ListUsersRequest {
                path_prefix: Some("/a".into()),
                marker: Some("abc".into()),
                max_items: Some(10),
            })
        );
        let r = parse(
            "Action=ListPolicies&Version=2010-05-08&Scope=Local&OnlyAttached=true&PolicyUsageFilter=PermissionsBoundary",
        )
        .unwrap();
        let IamRequest::ListPolicies(r) = r else {
            panic!()
        };
        assert_eq!(r.scope, Some(PolicyScope::Local));
        assert!(r.only_attached);
        assert_eq!(
            r.policy_usage_filter,
            Some(PolicyUsage::PermissionsBoundary)
        );
    }

    #[test]
    fn pattern_violation_is_worded_as_iam() {
        assert_eq!(
            message("Action=CreateUser&Version=2010-05-08&UserName=a+b"),
            "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        );
    }

    #[test]
    fn missing_member_is_null() {
        assert_eq!(
            message("Action=GetRole&Version=2010-05-08"),
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: \
             Member must not be null"
        );
        assert_eq!(
            message("Action=TagUser&Version=2010-05-08&UserName=u"),
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: \
             Member must not be null"
        );
        // botocore sends an empty list as a bare `Tags=`.
        assert!(parse("Action=TagUser&Version=2010-05-08&UserName=u&Tags=").is_ok());
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let long = "x".repeat(65);
        assert_eq!(
            message(&format!(
                "Action=CreateRole&Version=2010-05-08&RoleName={long}&MaxSessionDuration=60"
            )),
            format!(
                "3 validation errors detected: Value '{long}' at 'roleName' failed to satisfy constraint: \
                 Member must have length less than or equal to 64; \
                 Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null; \
                 Value '60' at 'maxSessionDuration' failed to satisfy constraint: \
                 Member must have value greater than or equal to 3600"
            )
        );
        // Pattern before length, as AWS reports an empty member.
        assert_eq!(
            message("Action=DeleteUser&Version=2010-05-08&UserName="),
            "2 validation errors detected: Value '' at 'userName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]+; \
             Value '' at 'userName' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
        );
    }

    #[test]
    fn paths_max_items_and_enums() {
        for bad in ["a", "/a", "//"] {
            let m = message(&format!(
                "Action=CreateGroup&Version=2010-05-08&GroupName=g&Path={bad}"
            ));
            assert!(
                m.contains("(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"),
                "{m}"
            );
        }
        for good in ["/", "/a/", "/a/b/"] {
            parse(&format!(
                "Action=CreateGroup&Version=2010-05-08&GroupName=g&Path={good}"
            ))
            .unwrap();
        }
        assert!(
            message(
                "Action=CreatePolicy&Version=2010-05-08&PolicyName=p&PolicyDocument=x&Path=/a//"
            )
            .contains("((/[A-Za-z0-9\\.,\\+@=_-]+)*)/")
        );
        assert!(
            message("Action=ListRoles&Version=2010-05-08&MaxItems=1001")
                .ends_with("Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000")
        );
        assert!(
            message("Action=ListRoles&Version=2010-05-08&MaxItems=0")
                .contains("Member must have value greater than or equal to 1")
        );
        assert_eq!(
            message(
                "Action=UpdateAccessKey&Version=2010-05-08&AccessKeyId=AKIAIOSFODNN7EXAMPLE&Status=On"
            ),
            "1 validation error detected: Value 'On' at 'status' failed to satisfy constraint: \
             Member must satisfy enum value set: [Active, Inactive, Expired]"
        );
        let e = parse("Action=ListRoles&Version=2010-05-08&MaxItems=ten").unwrap_err();
        assert_eq!(e.code, IamErrorCode::InvalidParameterValue);
        assert!(message("Action=GetPolicyVersion&Version=2010-05-08&PolicyArn=arn:aws:iam::123456789012:policy/p&VersionId=v0")
            .contains("v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"));
    }

    #[test]
    fn tags_are_checked_member_by_member_and_counted() {
        assert_eq!(
            message(
                "Action=TagRole&Version=2010-05-08&RoleName=r&Tags.member.1.Key=a%3Cb&Tags.member.1.Value=v"
            ),
            "1 validation error detected: Value 'a<b' at 'tags.1.member.key' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
        );
        assert!(
            message("Action=TagRole&Version=2010-05-08&RoleName=r&Tags.member.1.Key=a")
                .contains("Value null at 'tags.1.member.value'")
        );
        let mut body = String::from("Action=TagUser&Version=2010-05-08&UserName=u");
        for i in 1..=51 {
            body.push_str(&format!(
                "&Tags.member.{i}.Key=k{i}&Tags.member.{i}.Value=v"
            ));
        }
        assert_eq!(
            message(&body),
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: \
             Member must have length less than or equal to 50"
        );
        // Unicode letters and spaces are allowed in tags.
        parse("Action=TagUser&Version=2010-05-08&UserName=u&Tags.member.1.Key=%C3%A9t%C3%A9+x&Tags.member.1.Value=%E6%97%A5")
            .unwrap();
    }

    #[test]
    fn policy_documents_are_checked_for_length_and_charset_only() {
        let big = "a".repeat(131_073);
        let m = message(&format!(
            "Action=PutUserPolicy&Version=2010-05-08&UserName=u&PolicyName=p&PolicyDocument={big}"
        ));
        // The document itself is not echoed.
        assert_eq!(
            m,
            "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: \
             Member must have length less than or equal to 131072"
        );
        parse("Action=PutUserPolicy&Version=2010-05-08&UserName=u&PolicyName=p&PolicyDocument=not+json%0A")
            .unwrap();
        assert!(
            message("Action=PutUserPolicy&Version=2010-05-08&UserName=u&PolicyName=p&PolicyDocument=%E6%97%A5")
                .contains("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+")
        );
    }

    #[test]
    fn action_and_version_are_checked_first() {
        let e = parse("Version=2010-05-08&UserName=a").unwrap_err();
        assert_eq!(e.code, IamErrorCode::MissingAction);
        let e = parse("Action=CreateUser&UserName=a").unwrap_err();
        assert_eq!(e.code, IamErrorCode::InvalidAction);
        assert_eq!(
            e.message,
            "Could not find operation CreateUser for version NO_VERSION_SPECIFIED"
        );
        let e = parse("Action=CreateUser&Version=2011-06-15&UserName=a").unwrap_err();
        assert_eq!(
            e.message,
            "Could not find operation CreateUser for version 2011-06-15"
        );
        let e = parse("Action=CreateLoginProfile&Version=2010-05-08").unwrap_err();
        assert_eq!((e.code, e.status()), (IamErrorCode::InvalidAction, 400));
        assert_eq!(
            e.message,
            "Could not find operation CreateLoginProfile for version 2010-05-08"
        );
    }

    #[test]
    fn optional_user_name_means_the_caller() {
        assert_eq!(
            parse("Action=GetUser&Version=2010-05-08").unwrap(),
            IamRequest::GetUser(GetUserRequest { user_name: None })
        );
        assert_eq!(
            parse("Action=CreateAccessKey&Version=2010-05-08").unwrap(),
            IamRequest::CreateAccessKey(CreateAccessKeyRequest { user_name: None })
        );
    }
}
