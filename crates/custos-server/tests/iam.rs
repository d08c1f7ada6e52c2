//! The IAM API through the official `aws-sdk-iam` client against the real
//! server over HTTPS: every operation's success path and its main error
//! paths (code, HTTP status and AWS's message), pagination, paths in ARNs,
//! tags, accounts side by side, identity policies taking effect at once,
//! access keys being deactivated and deleted, and a tampered store being
//! refused.

mod common;

use std::collections::BTreeMap;

use aws_sdk_iam::types::{PolicyScopeType, StatusType, Tag};
use common::iam::{
    Keys, allow, assert_document, expect_error, iam, iam_as, kms_as, policy_arn, role_arn, sts_as,
    trust, user_arn, user_with_key,
};
use common::{ACCOUNT, start};
use custos_store::{Batch, Engine as _, Table};

const NOT_AUTHORIZED_LIST_USERS: &str = "is not authorized to perform: iam:ListUsers on resource: \
     arn:aws:iam::111122223333:user/* because no identity-based policy allows the iam:ListUsers \
     action";

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().expect("tag")
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

// ---------------------------------------------------------------- users

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_read_listed_renamed_and_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);

    let created = iam
        .create_user()
        .user_name("alice")
        .path("/ops/")
        .send()
        .await
        .expect("CreateUser");
    let user = created.user().expect("User");
    assert_eq!(user.user_name(), "alice");
    assert_eq!(user.path(), "/ops/");
    assert_eq!(user.arn(), format!("arn:aws:iam::{ACCOUNT}:user/ops/alice"));
    assert!(user.user_id().starts_with("AIDA"), "{}", user.user_id());
    let alice_id = user.user_id().to_owned();

    let got = iam
        .get_user()
        .user_name("alice")
        .send()
        .await
        .expect("GetUser");
    let got = got.user().expect("User");
    assert_eq!(got.user_id(), alice_id);
    assert_eq!(got.arn(), format!("arn:aws:iam::{ACCOUNT}:user/ops/alice"));
    assert_eq!(got.path(), "/ops/");

    // Without a name, GetUser describes the caller.
    let me = iam.get_user().send().await.expect("GetUser of the caller");
    let me = me.user().expect("User");
    assert_eq!(me.user_name(), "custos-admin");
    assert_eq!(me.arn(), user_arn("custos-admin"));
    assert!(me.user_id().starts_with("AIDA"), "{}", me.user_id());

    let message = expect_error(
        iam.create_user().user_name("alice").send().await,
        "EntityAlreadyExists",
        409,
    );
    assert_eq!(message, "User with name alice already exists.");
    // Names are unique regardless of case.
    expect_error(
        iam.create_user().user_name("ALICE").send().await,
        "EntityAlreadyExists",
        409,
    );
    let message = expect_error(
        iam.get_user().user_name("nobody").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");
    let message = expect_error(
        iam.create_user().user_name("bad name!").send().await,
        "ValidationError",
        400,
    );
    assert!(
        message.starts_with(
            "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern"
        ),
        "{message}"
    );

    let all = iam.list_users().send().await.expect("ListUsers");
    let names: Vec<&str> = all.users().iter().map(|u| u.user_name()).collect();
    assert!(names.contains(&"custos-admin"), "{names:?}");
    assert!(names.contains(&"alice"), "{names:?}");
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!all.is_truncated());
    let ops = iam
        .list_users()
        .path_prefix("/ops/")
        .send()
        .await
        .expect("ListUsers /ops/");
    let names: Vec<&str> = ops.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["alice"]);

    iam.update_user()
        .user_name("alice")
        .new_user_name("alice2")
        .new_path("/dev/")
        .send()
        .await
        .expect("UpdateUser");
    let renamed = iam
        .get_user()
        .user_name("alice2")
        .send()
        .await
        .expect("GetUser after rename");
    let renamed = renamed.user().expect("User");
    assert_eq!(
        renamed.arn(),
        format!("arn:aws:iam::{ACCOUNT}:user/dev/alice2")
    );
    assert_eq!(renamed.path(), "/dev/");
    assert_eq!(renamed.user_id(), alice_id, "a rename keeps the user id");
    let message = expect_error(
        iam.get_user().user_name("alice").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name alice cannot be found.");
    let message = expect_error(
        iam.update_user()
            .user_name("nobody")
            .new_user_name("somebody")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");
    iam.create_user()
        .user_name("bob")
        .send()
        .await
        .expect("CreateUser bob");
    let message = expect_error(
        iam.update_user()
            .user_name("alice2")
            .new_user_name("bob")
            .send()
            .await,
        "EntityAlreadyExists",
        409,
    );
    assert_eq!(message, "User with name bob already exists.");

    iam.delete_user()
        .user_name("alice2")
        .send()
        .await
        .expect("DeleteUser");
    let message = expect_error(
        iam.get_user().user_name("alice2").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name alice2 cannot be found.");
    let message = expect_error(
        iam.delete_user().user_name("alice2").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name alice2 cannot be found.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_pages_with_max_items_and_marker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    let mut want: Vec<String> = (1..=5).map(|i| format!("pager-{i}")).collect();
    for name in &want {
        iam.create_user()
            .user_name(name)
            .path("/paged/")
            .send()
            .await
            .expect("CreateUser");
    }

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .list_users()
            .path_prefix("/paged/")
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .expect("ListUsers page");
        pages.push((page.users().len(), page.is_truncated()));
        seen.extend(page.users().iter().map(|u| {
            assert_eq!(u.path(), "/paged/");
            assert_eq!(
                u.arn(),
                format!("arn:aws:iam::{ACCOUNT}:user/paged/{}", u.user_name())
            );
            u.user_name().to_owned()
        }));
        if page.is_truncated() {
            let next = page.marker().expect("a truncated page has a Marker");
            assert!(!next.is_empty());
            marker = Some(next.to_owned());
        } else {
            assert_eq!(page.marker(), None, "the last page has no Marker");
            break;
        }
        assert!(pages.len() < 10, "pagination does not end: {pages:?}");
    }
    assert_eq!(pages, [(2, true), (2, true), (1, false)]);
    seen.sort();
    want.sort();
    assert_eq!(seen, want, "every user once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_tags_are_added_replaced_listed_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);

    iam.create_user()
        .user_name("tagged")
        .tags(tag("team", "core"))
        .send()
        .await
        .expect("CreateUser with tags");
    let listed = iam
        .list_user_tags()
        .user_name("tagged")
        .send()
        .await
        .expect("ListUserTags");
    assert_eq!(
        tag_map(listed.tags()),
        BTreeMap::from([("team".into(), "core".into())])
    );
    assert!(!listed.is_truncated());

    iam.tag_user()
        .user_name("tagged")
        .tags(tag("env", "prod"))
        .tags(tag("team", "kms"))
        .send()
        .await
        .expect("TagUser");
    let listed = iam
        .list_user_tags()
        .user_name("tagged")
        .send()
        .await
        .expect("ListUserTags");
    assert_eq!(
        tag_map(listed.tags()),
        BTreeMap::from([("env".into(), "prod".into()), ("team".into(), "kms".into())])
    );

    iam.untag_user()
        .user_name("tagged")
        .tag_keys("env")
        .send()
        .await
        .expect("UntagUser");
    let listed = iam
        .list_user_tags()
        .user_name("tagged")
        .send()
        .await
        .expect("ListUserTags");
    assert_eq!(
        tag_map(listed.tags()),
        BTreeMap::from([("team".into(), "kms".into())])
    );

    let message = expect_error(
        iam.tag_user()
            .user_name("nobody")
            .tags(tag("a", "b"))
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");
    let message = expect_error(
        iam.untag_user()
            .user_name("nobody")
            .tag_keys("a")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");
    let message = expect_error(
        iam.list_user_tags().user_name("nobody").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");
}

// ---------------------------------------------------------------- groups

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_their_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser");

    let created = iam
        .create_group()
        .group_name("ops")
        .send()
        .await
        .expect("CreateGroup");
    let group = created.group().expect("Group");
    assert_eq!(group.group_name(), "ops");
    assert_eq!(group.path(), "/");
    assert_eq!(group.arn(), format!("arn:aws:iam::{ACCOUNT}:group/ops"));
    assert!(group.group_id().starts_with("AGPA"), "{}", group.group_id());
    let message = expect_error(
        iam.create_group().group_name("ops").send().await,
        "EntityAlreadyExists",
        409,
    );
    assert_eq!(message, "Group with name ops already exists.");
    iam.create_group()
        .group_name("auditors")
        .path("/sec/")
        .send()
        .await
        .expect("CreateGroup with a path");

    iam.add_user_to_group()
        .group_name("ops")
        .user_name("alice")
        .send()
        .await
        .expect("AddUserToGroup");
    let got = iam
        .get_group()
        .group_name("ops")
        .send()
        .await
        .expect("GetGroup");
    assert_eq!(got.group().expect("Group").group_name(), "ops");
    let members: Vec<&str> = got.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(members, ["alice"]);
    let of_alice = iam
        .list_groups_for_user()
        .user_name("alice")
        .send()
        .await
        .expect("ListGroupsForUser");
    let names: Vec<&str> = of_alice.groups().iter().map(|g| g.group_name()).collect();
    assert_eq!(names, ["ops"]);
    let all = iam.list_groups().send().await.expect("ListGroups");
    let mut names: Vec<&str> = all.groups().iter().map(|g| g.group_name()).collect();
    names.sort_unstable();
    assert_eq!(names, ["auditors", "ops"]);
    let arns: Vec<&str> = all.groups().iter().map(|g| g.arn()).collect();
    assert!(
        arns.contains(&format!("arn:aws:iam::{ACCOUNT}:group/sec/auditors").as_str()),
        "{arns:?}"
    );

    let message = expect_error(
        iam.add_user_to_group()
            .group_name("nogroup")
            .user_name("alice")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The group with name nogroup cannot be found.");
    let message = expect_error(
        iam.add_user_to_group()
            .group_name("ops")
            .user_name("nobody")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");

    iam.update_group()
        .group_name("ops")
        .new_group_name("operators")
        .send()
        .await
        .expect("UpdateGroup");
    let message = expect_error(
        iam.get_group().group_name("ops").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The group with name ops cannot be found.");
    let renamed = iam
        .get_group()
        .group_name("operators")
        .send()
        .await
        .expect("GetGroup after rename");
    assert_eq!(
        renamed.group().expect("Group").arn(),
        format!("arn:aws:iam::{ACCOUNT}:group/operators")
    );
    let members: Vec<&str> = renamed.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(members, ["alice"], "a rename keeps the members");

    let message = expect_error(
        iam.delete_group().group_name("operators").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(
        message,
        "Cannot delete entity, must remove users from group first."
    );
    iam.remove_user_from_group()
        .group_name("operators")
        .user_name("alice")
        .send()
        .await
        .expect("RemoveUserFromGroup");
    let of_alice = iam
        .list_groups_for_user()
        .user_name("alice")
        .send()
        .await
        .expect("ListGroupsForUser");
    assert!(of_alice.groups().is_empty());
    iam.delete_group()
        .group_name("operators")
        .send()
        .await
        .expect("DeleteGroup");
    let message = expect_error(
        iam.delete_group().group_name("operators").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The group with name operators cannot be found.");
}

// ---------------------------------------------------------------- roles

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_created_read_updated_tagged_and_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    let trust_admin = trust(&user_arn("custos-admin"));

    let created = iam
        .create_role()
        .role_name("decryptor")
        .assume_role_policy_document(&trust_admin)
        .description("decrypts app data")
        .tags(tag("team", "core"))
        .send()
        .await
        .expect("CreateRole");
    let role = created.role().expect("Role");
    assert_eq!(role.role_name(), "decryptor");
    assert_eq!(role.arn(), role_arn("decryptor"));
    assert!(role.role_id().starts_with("AROA"), "{}", role.role_id());
    let role_id = role.role_id().to_owned();

    let got = iam
        .get_role()
        .role_name("decryptor")
        .send()
        .await
        .expect("GetRole");
    let got = got.role().expect("Role");
    assert_eq!(got.role_id(), role_id);
    assert_eq!(got.arn(), role_arn("decryptor"));
    assert_eq!(got.description(), Some("decrypts app data"));
    assert_eq!(got.max_session_duration(), Some(3600), "the default");
    assert_document(
        got.assume_role_policy_document().expect("trust policy"),
        &trust_admin,
    );

    iam.create_role()
        .role_name("long")
        .path("/batch/")
        .assume_role_policy_document(&trust_admin)
        .max_session_duration(43200)
        .send()
        .await
        .expect("CreateRole with the longest MaxSessionDuration");
    let long = iam
        .get_role()
        .role_name("long")
        .send()
        .await
        .expect("GetRole");
    let long = long.role().expect("Role");
    assert_eq!(long.max_session_duration(), Some(43200));
    assert_eq!(
        long.arn(),
        format!("arn:aws:iam::{ACCOUNT}:role/batch/long")
    );
    for out_of_range in [3599, 43201] {
        expect_error(
            iam.create_role()
                .role_name("bad-duration")
                .assume_role_policy_document(&trust_admin)
                .max_session_duration(out_of_range)
                .send()
                .await,
            "ValidationError",
            400,
        );
    }

    let message = expect_error(
        iam.create_role()
            .role_name("decryptor")
            .assume_role_policy_document(&trust_admin)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
    );
    assert_eq!(message, "Role with name decryptor already exists.");
    let message = expect_error(
        iam.get_role().role_name("nobody").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The role with name nobody cannot be found.");
    let message = expect_error(
        iam.create_role()
            .role_name("bad-trust")
            .assume_role_policy_document(trust(&user_arn("nobody")))
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
    assert_eq!(
        message,
        r#"Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/nobody""#
    );
    let message = expect_error(
        iam.create_role()
            .role_name("bad-json")
            .assume_role_policy_document("{not json")
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
    assert!(!message.is_empty());

    let listed = iam.list_roles().send().await.expect("ListRoles");
    let mut names: Vec<&str> = listed.roles().iter().map(|r| r.role_name()).collect();
    names.sort_unstable();
    assert_eq!(names, ["decryptor", "long"]);

    iam.update_role()
        .role_name("decryptor")
        .description("new description")
        .max_session_duration(7200)
        .send()
        .await
        .expect("UpdateRole");
    iam.create_user()
        .user_name("billing-svc")
        .send()
        .await
        .expect("CreateUser");
    let trust_billing = trust(&user_arn("billing-svc"));
    iam.update_assume_role_policy()
        .role_name("decryptor")
        .policy_document(&trust_billing)
        .send()
        .await
        .expect("UpdateAssumeRolePolicy");
    let got = iam
        .get_role()
        .role_name("decryptor")
        .send()
        .await
        .expect("GetRole");
    let got = got.role().expect("Role");
    assert_eq!(got.description(), Some("new description"));
    assert_eq!(got.max_session_duration(), Some(7200));
    assert_document(
        got.assume_role_policy_document().expect("trust policy"),
        &trust_billing,
    );
    let message = expect_error(
        iam.update_assume_role_policy()
            .role_name("nobody")
            .policy_document(&trust_billing)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The role with name nobody cannot be found.");
    let message = expect_error(
        iam.update_role()
            .role_name("nobody")
            .description("x")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The role with name nobody cannot be found.");

    // Tags.
    iam.tag_role()
        .role_name("decryptor")
        .tags(tag("env", "prod"))
        .send()
        .await
        .expect("TagRole");
    let tags = iam
        .list_role_tags()
        .role_name("decryptor")
        .send()
        .await
        .expect("ListRoleTags");
    assert_eq!(
        tag_map(tags.tags()),
        BTreeMap::from([
            ("env".into(), "prod".into()),
            ("team".into(), "core".into())
        ])
    );
    iam.untag_role()
        .role_name("decryptor")
        .tag_keys("team")
        .send()
        .await
        .expect("UntagRole");
    let tags = iam
        .list_role_tags()
        .role_name("decryptor")
        .send()
        .await
        .expect("ListRoleTags");
    assert_eq!(
        tag_map(tags.tags()),
        BTreeMap::from([("env".into(), "prod".into())])
    );
    let message = expect_error(
        iam.list_role_tags().role_name("nobody").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The role with name nobody cannot be found.");

    // A role with policies cannot be deleted.
    iam.put_role_policy()
        .role_name("decryptor")
        .policy_name("inline")
        .policy_document(allow(&["kms:Decrypt"]))
        .send()
        .await
        .expect("PutRolePolicy");
    let message = expect_error(
        iam.delete_role().role_name("decryptor").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(message, "Cannot delete entity, must delete policies first.");
    iam.delete_role_policy()
        .role_name("decryptor")
        .policy_name("inline")
        .send()
        .await
        .expect("DeleteRolePolicy");
    let managed = iam
        .create_policy()
        .policy_name("decrypt")
        .policy_document(allow(&["kms:Decrypt"]))
        .send()
        .await
        .expect("CreatePolicy");
    let managed_arn = managed.policy().and_then(|p| p.arn()).expect("Arn");
    iam.attach_role_policy()
        .role_name("decryptor")
        .policy_arn(managed_arn)
        .send()
        .await
        .expect("AttachRolePolicy");
    let message = expect_error(
        iam.delete_role().role_name("decryptor").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(
        message,
        "Cannot delete entity, must detach all policies first."
    );
    iam.detach_role_policy()
        .role_name("decryptor")
        .policy_arn(managed_arn)
        .send()
        .await
        .expect("DetachRolePolicy");

    iam.delete_role()
        .role_name("decryptor")
        .send()
        .await
        .expect("DeleteRole");
    let message = expect_error(
        iam.get_role().role_name("decryptor").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The role with name decryptor cannot be found.");
    let message = expect_error(
        iam.delete_role().role_name("decryptor").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The role with name decryptor cannot be found.");
}

// ---------------------------------------------------------------- inline policies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_policies_of_users_groups_and_roles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser");
    iam.create_group()
        .group_name("ops")
        .send()
        .await
        .expect("CreateGroup");
    iam.create_role()
        .role_name("worker")
        .assume_role_policy_document(trust(&user_arn("alice")))
        .send()
        .await
        .expect("CreateRole");
    let document = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "UseAppKey",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "arn:aws:kms:us-east-1:111122223333:key/*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:app": "billing & more"}},
        }],
    })
    .to_string();

    // User.
    iam.put_user_policy()
        .user_name("alice")
        .policy_name("use-app-key")
        .policy_document(&document)
        .send()
        .await
        .expect("PutUserPolicy");
    let got = iam
        .get_user_policy()
        .user_name("alice")
        .policy_name("use-app-key")
        .send()
        .await
        .expect("GetUserPolicy");
    assert_eq!(got.user_name(), "alice");
    assert_eq!(got.policy_name(), "use-app-key");
    assert_document(got.policy_document(), &document);
    let listed = iam
        .list_user_policies()
        .user_name("alice")
        .send()
        .await
        .expect("ListUserPolicies");
    assert_eq!(listed.policy_names(), ["use-app-key"]);
    let message = expect_error(
        iam.get_user_policy()
            .user_name("alice")
            .policy_name("nope")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user policy with name nope cannot be found.");
    let message = expect_error(
        iam.put_user_policy()
            .user_name("nobody")
            .policy_name("p")
            .policy_document(&document)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");
    let message = expect_error(
        iam.delete_user().user_name("alice").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(message, "Cannot delete entity, must delete policies first.");
    iam.delete_user_policy()
        .user_name("alice")
        .policy_name("use-app-key")
        .send()
        .await
        .expect("DeleteUserPolicy");
    let listed = iam
        .list_user_policies()
        .user_name("alice")
        .send()
        .await
        .expect("ListUserPolicies");
    assert!(listed.policy_names().is_empty());
    let message = expect_error(
        iam.delete_user_policy()
            .user_name("alice")
            .policy_name("use-app-key")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(
        message,
        "The user policy with name use-app-key cannot be found."
    );

    // Group.
    iam.put_group_policy()
        .group_name("ops")
        .policy_name("group-p")
        .policy_document(&document)
        .send()
        .await
        .expect("PutGroupPolicy");
    let got = iam
        .get_group_policy()
        .group_name("ops")
        .policy_name("group-p")
        .send()
        .await
        .expect("GetGroupPolicy");
    assert_eq!(got.group_name(), "ops");
    assert_document(got.policy_document(), &document);
    let listed = iam
        .list_group_policies()
        .group_name("ops")
        .send()
        .await
        .expect("ListGroupPolicies");
    assert_eq!(listed.policy_names(), ["group-p"]);
    let message = expect_error(
        iam.get_group_policy()
            .group_name("ops")
            .policy_name("nope")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert!(message.contains("nope"), "{message}");
    let message = expect_error(
        iam.delete_group().group_name("ops").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(message, "Cannot delete entity, must delete policies first.");
    iam.delete_group_policy()
        .group_name("ops")
        .policy_name("group-p")
        .send()
        .await
        .expect("DeleteGroupPolicy");
    assert!(
        iam.list_group_policies()
            .group_name("ops")
            .send()
            .await
            .expect("ListGroupPolicies")
            .policy_names()
            .is_empty()
    );

    // Role.
    iam.put_role_policy()
        .role_name("worker")
        .policy_name("role-p")
        .policy_document(&document)
        .send()
        .await
        .expect("PutRolePolicy");
    let got = iam
        .get_role_policy()
        .role_name("worker")
        .policy_name("role-p")
        .send()
        .await
        .expect("GetRolePolicy");
    assert_eq!(got.role_name(), "worker");
    assert_document(got.policy_document(), &document);
    let listed = iam
        .list_role_policies()
        .role_name("worker")
        .send()
        .await
        .expect("ListRolePolicies");
    assert_eq!(listed.policy_names(), ["role-p"]);
    let message = expect_error(
        iam.get_role_policy()
            .role_name("worker")
            .policy_name("nope")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert!(message.contains("nope"), "{message}");
    iam.delete_role_policy()
        .role_name("worker")
        .policy_name("role-p")
        .send()
        .await
        .expect("DeleteRolePolicy");
    assert!(
        iam.list_role_policies()
            .role_name("worker")
            .send()
            .await
            .expect("ListRolePolicies")
            .policy_names()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_identity_policies_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser");

    for bad_json in [
        "{not json",
        "",
        "[]",
        r#"{"Version":"2012-10-17","Statement":"#,
    ] {
        if bad_json.is_empty() {
            // An empty document is refused by the SDK's own validation or
            // by the server; either way it is not stored.
            let result = iam
                .put_user_policy()
                .user_name("alice")
                .policy_name("bad")
                .policy_document(bad_json)
                .send()
                .await;
            assert!(result.is_err(), "an empty document is refused");
            continue;
        }
        let message = expect_error(
            iam.put_user_policy()
                .user_name("alice")
                .policy_name("bad")
                .policy_document(bad_json)
                .send()
                .await,
            "MalformedPolicyDocument",
            400,
        );
        assert!(!message.is_empty(), "{bad_json}: a message");
    }
    let with_principal = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": user_arn("alice")},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }],
    })
    .to_string();
    let message = expect_error(
        iam.put_user_policy()
            .user_name("alice")
            .policy_name("bad")
            .policy_document(&with_principal)
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
    assert_eq!(message, "Policy document should not specify a principal.");
    let message = expect_error(
        iam.create_policy()
            .policy_name("bad")
            .policy_document(&with_principal)
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
    assert_eq!(message, "Policy document should not specify a principal.");
    let message = expect_error(
        iam.create_policy()
            .policy_name("bad")
            .policy_document("{not json")
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
    assert!(!message.is_empty());
    assert!(
        iam.list_user_policies()
            .user_name("alice")
            .send()
            .await
            .expect("ListUserPolicies")
            .policy_names()
            .is_empty(),
        "nothing refused was stored"
    );
}

// ---------------------------------------------------------------- managed policies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_policies_versions_and_attachments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser");
    iam.create_group()
        .group_name("ops")
        .send()
        .await
        .expect("CreateGroup");
    iam.create_role()
        .role_name("worker")
        .assume_role_policy_document(trust(&user_arn("alice")))
        .send()
        .await
        .expect("CreateRole");
    let v1 = allow(&["kms:DescribeKey"]);

    let created = iam
        .create_policy()
        .policy_name("kms-read")
        .path("/team/")
        .description("read key metadata")
        .policy_document(&v1)
        .send()
        .await
        .expect("CreatePolicy");
    let policy = created.policy().expect("Policy");
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/team/kms-read");
    assert_eq!(policy.arn(), Some(arn.as_str()));
    assert_eq!(policy.policy_name(), Some("kms-read"));
    assert_eq!(policy.path(), Some("/team/"));
    assert_eq!(policy.default_version_id(), Some("v1"));
    assert_eq!(policy.attachment_count(), Some(0));
    assert!(policy.is_attachable());
    let policy_id = policy.policy_id().expect("PolicyId").to_owned();
    assert!(policy_id.starts_with("ANPA"), "{policy_id}");

    let message = expect_error(
        iam.create_policy()
            .policy_name("kms-read")
            .policy_document(&v1)
            .send()
            .await,
        "EntityAlreadyExists",
        409,
    );
    assert_eq!(
        message,
        "A policy called kms-read already exists. Duplicate names are not allowed."
    );

    let got = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy");
    let got = got.policy().expect("Policy");
    assert_eq!(got.policy_id(), Some(policy_id.as_str()));
    assert_eq!(got.description(), Some("read key metadata"));
    expect_error(
        iam.get_policy().policy_arn(policy_arn("nope")).send().await,
        "NoSuchEntity",
        404,
    );
    let local = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .send()
        .await
        .expect("ListPolicies");
    let arns: Vec<&str> = local.policies().iter().filter_map(|p| p.arn()).collect();
    assert_eq!(arns, [arn.as_str()]);

    let version = iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("GetPolicyVersion");
    let version = version.policy_version().expect("PolicyVersion");
    assert!(version.is_default_version());
    assert_eq!(version.version_id(), Some("v1"));
    assert_document(version.document().expect("Document"), &v1);

    // Versions: v2 becomes the default, up to five in all.
    let v2 = allow(&["kms:DescribeKey", "kms:ListKeys"]);
    let created = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(&v2)
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion");
    let created = created.policy_version().expect("PolicyVersion");
    assert_eq!(created.version_id(), Some("v2"));
    assert!(created.is_default_version());
    for n in 3..=5 {
        let created = iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(allow(&["kms:ListAliases"]))
            .send()
            .await
            .expect("CreatePolicyVersion");
        let created = created.policy_version().expect("PolicyVersion");
        assert_eq!(created.version_id(), Some(format!("v{n}").as_str()));
        assert!(!created.is_default_version());
    }
    let message = expect_error(
        iam.create_policy_version()
            .policy_arn(&arn)
            .policy_document(&v1)
            .send()
            .await,
        "LimitExceeded",
        409,
    );
    assert_eq!(
        message,
        "A managed policy can have up to 5 versions. Before you create a new version, you must \
         delete an existing version."
    );
    let got = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy");
    assert_eq!(
        got.policy().and_then(|p| p.default_version_id()),
        Some("v2")
    );
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListPolicyVersions");
    let mut ids: Vec<&str> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["v1", "v2", "v3", "v4", "v5"]);
    let defaults: Vec<&str> = versions
        .versions()
        .iter()
        .filter(|v| v.is_default_version())
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(defaults, ["v2"]);
    let message = expect_error(
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send()
            .await,
        "DeleteConflict",
        409,
    );
    assert_eq!(message, "Cannot delete the default version of a policy.");
    iam.set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v3")
        .send()
        .await
        .expect("SetDefaultPolicyVersion");
    let got = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy");
    assert_eq!(
        got.policy().and_then(|p| p.default_version_id()),
        Some("v3")
    );
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .expect("DeletePolicyVersion");
    let versions = iam
        .list_policy_versions()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListPolicyVersions");
    assert_eq!(versions.versions().len(), 4);
    expect_error(
        iam.get_policy_version()
            .policy_arn(&arn)
            .version_id("v2")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );

    // Attachments to a user, a group and a role.
    iam.attach_user_policy()
        .user_name("alice")
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachUserPolicy");
    iam.attach_group_policy()
        .group_name("ops")
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachGroupPolicy");
    iam.attach_role_policy()
        .role_name("worker")
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachRolePolicy");
    let attached = iam
        .list_attached_user_policies()
        .user_name("alice")
        .send()
        .await
        .expect("ListAttachedUserPolicies");
    let names: Vec<(Option<&str>, Option<&str>)> = attached
        .attached_policies()
        .iter()
        .map(|p| (p.policy_name(), p.policy_arn()))
        .collect();
    assert_eq!(names, [(Some("kms-read"), Some(arn.as_str()))]);
    let attached = iam
        .list_attached_group_policies()
        .group_name("ops")
        .send()
        .await
        .expect("ListAttachedGroupPolicies");
    assert_eq!(attached.attached_policies().len(), 1);
    let attached = iam
        .list_attached_role_policies()
        .role_name("worker")
        .send()
        .await
        .expect("ListAttachedRolePolicies");
    assert_eq!(attached.attached_policies().len(), 1);
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListEntitiesForPolicy");
    let users: Vec<Option<&str>> = entities
        .policy_users()
        .iter()
        .map(|u| u.user_name())
        .collect();
    let groups: Vec<Option<&str>> = entities
        .policy_groups()
        .iter()
        .map(|g| g.group_name())
        .collect();
    let roles: Vec<Option<&str>> = entities
        .policy_roles()
        .iter()
        .map(|r| r.role_name())
        .collect();
    assert_eq!(users, [Some("alice")]);
    assert_eq!(groups, [Some("ops")]);
    assert_eq!(roles, [Some("worker")]);
    let got = iam
        .get_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("GetPolicy");
    assert_eq!(got.policy().and_then(|p| p.attachment_count()), Some(3));

    let missing = policy_arn("nope");
    let message = expect_error(
        iam.attach_user_policy()
            .user_name("alice")
            .policy_arn(&missing)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(
        message,
        "Policy arn:aws:iam::111122223333:policy/nope does not exist or is not attachable."
    );
    let message = expect_error(
        iam.attach_user_policy()
            .user_name("nobody")
            .policy_arn(&arn)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");

    let message = expect_error(
        iam.delete_policy().policy_arn(&arn).send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(message, "Cannot delete a policy attached to entities.");
    let message = expect_error(
        iam.delete_user().user_name("alice").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(
        message,
        "Cannot delete entity, must detach all policies first."
    );
    let message = expect_error(
        iam.delete_group().group_name("ops").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(
        message,
        "Cannot delete entity, must detach all policies first."
    );

    iam.detach_user_policy()
        .user_name("alice")
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachUserPolicy");
    iam.detach_group_policy()
        .group_name("ops")
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachGroupPolicy");
    iam.detach_role_policy()
        .role_name("worker")
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachRolePolicy");
    assert!(
        iam.list_attached_user_policies()
            .user_name("alice")
            .send()
            .await
            .expect("ListAttachedUserPolicies")
            .attached_policies()
            .is_empty()
    );
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("ListEntitiesForPolicy");
    assert!(entities.policy_users().is_empty());
    assert!(entities.policy_groups().is_empty());
    assert!(entities.policy_roles().is_empty());

    // As AWS asks: the non-default versions first, then the policy.
    for v in ["v1", "v4", "v5"] {
        iam.delete_policy_version()
            .policy_arn(&arn)
            .version_id(v)
            .send()
            .await
            .expect("DeletePolicyVersion");
    }
    iam.delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("DeletePolicy");
    expect_error(
        iam.get_policy().policy_arn(&arn).send().await,
        "NoSuchEntity",
        404,
    );
    assert!(
        iam.list_policies()
            .scope(PolicyScopeType::Local)
            .send()
            .await
            .expect("ListPolicies")
            .policies()
            .is_empty()
    );
    iam.delete_user()
        .user_name("alice")
        .send()
        .await
        .expect("DeleteUser once detached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_with_several_versions_is_deleted_only_once_they_are_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    let arn = policy_arn("versioned");
    iam.create_policy()
        .policy_name("versioned")
        .policy_document(allow(&["kms:DescribeKey"]))
        .send()
        .await
        .expect("CreatePolicy");
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(allow(&["kms:ListKeys"]))
        .send()
        .await
        .expect("CreatePolicyVersion");
    // AWS's wording (DeletePolicy: "you must delete all the policy's
    // versions"; the default one goes with the policy).
    let message = expect_error(
        iam.delete_policy().policy_arn(&arn).send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(
        message,
        "This policy has more than one version. Before you delete a policy, you must delete the \
         policy's versions. The default version is deleted with the policy."
    );
    iam.delete_policy_version()
        .policy_arn(&arn)
        .version_id("v2")
        .send()
        .await
        .expect("DeletePolicyVersion");
    iam.delete_policy()
        .policy_arn(&arn)
        .send()
        .await
        .expect("DeletePolicy");
}

// ---------------------------------------------------------------- access keys

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_keys_are_created_listed_limited_and_deleted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let iam = iam(&server);
    iam.create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser");

    let first = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .expect("CreateAccessKey");
    let first = first.access_key().expect("AccessKey");
    assert_eq!(first.user_name(), "alice");
    assert!(
        first.access_key_id().starts_with("AKIA"),
        "{}",
        first.access_key_id()
    );
    assert_eq!(first.access_key_id().len(), 20);
    assert!(!first.secret_access_key().is_empty());
    assert_eq!(first.status(), &StatusType::Active);
    let first_id = first.access_key_id().to_owned();
    let second = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .expect("second CreateAccessKey");
    let second_id = second
        .access_key()
        .expect("AccessKey")
        .access_key_id()
        .to_owned();
    assert_ne!(first_id, second_id);
    let message = expect_error(
        iam.create_access_key().user_name("alice").send().await,
        "LimitExceeded",
        409,
    );
    assert_eq!(message, "Cannot exceed quota for AccessKeysPerUser: 2");
    let message = expect_error(
        iam.create_access_key().user_name("nobody").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name nobody cannot be found.");

    let listed = iam
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .expect("ListAccessKeys");
    let mut ids: Vec<(&str, &str)> = listed
        .access_key_metadata()
        .iter()
        .map(|k| {
            (
                k.access_key_id().expect("id"),
                k.status().expect("status").as_str(),
            )
        })
        .collect();
    ids.sort_unstable();
    let mut want = vec![
        (first_id.as_str(), "Active"),
        (second_id.as_str(), "Active"),
    ];
    want.sort_unstable();
    assert_eq!(ids, want);

    iam.update_access_key()
        .user_name("alice")
        .access_key_id(&first_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .expect("UpdateAccessKey");
    let listed = iam
        .list_access_keys()
        .user_name("alice")
        .send()
        .await
        .expect("ListAccessKeys");
    let status = listed
        .access_key_metadata()
        .iter()
        .find(|k| k.access_key_id() == Some(first_id.as_str()))
        .and_then(|k| k.status())
        .expect("the first key is listed");
    assert_eq!(status, &StatusType::Inactive);

    let message = expect_error(
        iam.delete_user().user_name("alice").send().await,
        "DeleteConflict",
        409,
    );
    assert_eq!(
        message,
        "Cannot delete entity, must delete access keys first."
    );

    let never_used = iam
        .get_access_key_last_used()
        .access_key_id(&second_id)
        .send()
        .await
        .expect("GetAccessKeyLastUsed");
    assert_eq!(never_used.user_name(), Some("alice"));
    let never_used = never_used
        .access_key_last_used()
        .expect("AccessKeyLastUsed");
    assert_eq!(never_used.last_used_date(), None);
    assert_eq!(never_used.service_name(), "N/A");
    assert_eq!(never_used.region(), "N/A");

    for id in [&first_id, &second_id] {
        iam.delete_access_key()
            .user_name("alice")
            .access_key_id(id)
            .send()
            .await
            .expect("DeleteAccessKey");
    }
    let message = expect_error(
        iam.delete_access_key()
            .user_name("alice")
            .access_key_id(&first_id)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(
        message,
        format!("The Access Key with id {first_id} cannot be found.")
    );
    let message = expect_error(
        iam.update_access_key()
            .user_name("alice")
            .access_key_id(&first_id)
            .status(StatusType::Active)
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(
        message,
        format!("The Access Key with id {first_id} cannot be found.")
    );
    assert!(
        iam.list_access_keys()
            .user_name("alice")
            .send()
            .await
            .expect("ListAccessKeys")
            .access_key_metadata()
            .is_empty()
    );
    iam.delete_user()
        .user_name("alice")
        .send()
        .await
        .expect("DeleteUser once its keys are gone");

    // Without a UserName, the caller's own key.
    let own = iam
        .create_access_key()
        .send()
        .await
        .expect("CreateAccessKey for the caller");
    assert_eq!(
        own.access_key().expect("AccessKey").user_name(),
        "custos-admin"
    );
    let listed = iam
        .list_access_keys()
        .send()
        .await
        .expect("ListAccessKeys of the caller");
    assert!(
        listed
            .access_key_metadata()
            .iter()
            .all(|k| k.user_name() == Some("custos-admin")),
        "{listed:?}"
    );
    assert_eq!(
        listed.access_key_metadata().len(),
        2,
        "bootstrap key and the new one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_key_reports_when_and_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = iam(&server);
    let alice = user_with_key(&admin, "alice").await;
    admin
        .put_user_policy()
        .user_name("alice")
        .policy_name("list")
        .policy_document(allow(&["iam:ListUsers"]))
        .send()
        .await
        .expect("PutUserPolicy");
    iam_as(&server, &alice)
        .list_users()
        .send()
        .await
        .expect("ListUsers as alice");
    let used = admin
        .get_access_key_last_used()
        .access_key_id(&alice.id)
        .send()
        .await
        .expect("GetAccessKeyLastUsed");
    assert_eq!(used.user_name(), Some("alice"));
    let used = used.access_key_last_used().expect("AccessKeyLastUsed");
    assert!(used.last_used_date().is_some());
    assert_eq!(used.service_name(), "iam");
    assert_eq!(used.region(), "us-east-1");
    let message = expect_error(
        admin
            .get_access_key_last_used()
            .access_key_id("AKIAUNKNOWNUNKNOWN00")
            .send()
            .await,
        "NoSuchEntity",
        404,
    );
    assert!(message.contains("AKIAUNKNOWNUNKNOWN00"), "{message}");
}

// ---------------------------------------------------------------- authentication

/// Asserts that `keys` are refused by IAM, STS and KMS as an unknown key.
async fn assert_refused_as_invalid(server: &custos_server::Running, keys: &Keys) {
    let message = expect_error(
        iam_as(server, keys).list_users().send().await,
        "InvalidClientTokenId",
        403,
    );
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
    let message = expect_error(
        sts_as(server, keys).get_caller_identity().send().await,
        "InvalidClientTokenId",
        403,
    );
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
    let message = expect_error(
        kms_as(server, keys).list_keys().send().await,
        "UnrecognizedClientException",
        400,
    );
    assert_eq!(
        message,
        "The security token included in the request is invalid."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactive_deleted_and_unknown_keys_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = iam(&server);
    let alice = user_with_key(&admin, "alice").await;
    admin
        .put_user_policy()
        .user_name("alice")
        .policy_name("list")
        .policy_document(allow(&["iam:ListUsers", "kms:ListKeys"]))
        .send()
        .await
        .expect("PutUserPolicy");

    // Used first, so that any cache of the credential is warm.
    iam_as(&server, &alice)
        .list_users()
        .send()
        .await
        .expect("ListUsers with an active key");
    kms_as(&server, &alice)
        .list_keys()
        .send()
        .await
        .expect("ListKeys with an active key");

    admin
        .update_access_key()
        .user_name("alice")
        .access_key_id(&alice.id)
        .status(StatusType::Inactive)
        .send()
        .await
        .expect("UpdateAccessKey Inactive");
    assert_refused_as_invalid(&server, &alice).await;

    admin
        .update_access_key()
        .user_name("alice")
        .access_key_id(&alice.id)
        .status(StatusType::Active)
        .send()
        .await
        .expect("UpdateAccessKey Active");
    iam_as(&server, &alice)
        .list_users()
        .send()
        .await
        .expect("ListUsers once reactivated");
    kms_as(&server, &alice)
        .list_keys()
        .send()
        .await
        .expect("ListKeys once reactivated");

    admin
        .delete_access_key()
        .user_name("alice")
        .access_key_id(&alice.id)
        .send()
        .await
        .expect("DeleteAccessKey");
    assert_refused_as_invalid(&server, &alice).await;

    let unknown = Keys::long_term(
        "AKIAUNKNOWNUNKNOWN00",
        "not-a-secret-not-a-secret-not-a-secret00",
    );
    assert_refused_as_invalid(&server, &unknown).await;
    // The right key id with a wrong secret is a signature mismatch.
    let wrong_secret = Keys::long_term(
        &Keys::admin().id,
        "wrong-secret-wrong-secret-wrong-secret00",
    );
    expect_error(
        iam_as(&server, &wrong_secret).list_users().send().await,
        "SignatureDoesNotMatch",
        403,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_user_and_its_keys_are_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = iam(&server);
    let alice = user_with_key(&admin, "alice").await;
    sts_as(&server, &alice)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as alice");
    admin
        .delete_access_key()
        .user_name("alice")
        .access_key_id(&alice.id)
        .send()
        .await
        .expect("DeleteAccessKey");
    admin
        .delete_user()
        .user_name("alice")
        .send()
        .await
        .expect("DeleteUser");
    // A new user of the same name is another user: the old key stays dead.
    admin
        .create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser again");
    assert_refused_as_invalid(&server, &alice).await;
}

// ---------------------------------------------------------------- authorization

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_policies_is_denied_and_an_inline_policy_allows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = iam(&server);
    let nopol = user_with_key(&admin, "nopol").await;
    let as_nopol = iam_as(&server, &nopol);

    let message = expect_error(as_nopol.list_users().send().await, "AccessDenied", 403);
    assert_eq!(
        message,
        format!("User: arn:aws:iam::111122223333:user/nopol {NOT_AUTHORIZED_LIST_USERS}")
    );
    // Being denied is not being unknown: STS still answers who it is.
    let me = sts_as(&server, &nopol)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity needs no permission");
    assert_eq!(me.arn(), Some(user_arn("nopol").as_str()));

    admin
        .put_user_policy()
        .user_name("nopol")
        .policy_name("list-users")
        .policy_document(allow(&["iam:ListUsers"]))
        .send()
        .await
        .expect("PutUserPolicy");
    let listed = as_nopol
        .list_users()
        .send()
        .await
        .expect("ListUsers once allowed");
    assert!(
        listed.users().iter().any(|u| u.user_name() == "nopol"),
        "{listed:?}"
    );
    // Only what the policy names.
    let message = expect_error(as_nopol.list_roles().send().await, "AccessDenied", 403);
    assert!(
        message.starts_with(
            "User: arn:aws:iam::111122223333:user/nopol is not authorized to perform: \
             iam:ListRoles"
        ),
        "{message}"
    );
    expect_error(
        as_nopol.create_user().user_name("mallory").send().await,
        "AccessDenied",
        403,
    );

    // An explicit Deny wins over the Allow.
    let deny = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}],
    })
    .to_string();
    admin
        .put_user_policy()
        .user_name("nopol")
        .policy_name("deny-list")
        .policy_document(&deny)
        .send()
        .await
        .expect("PutUserPolicy deny");
    expect_error(as_nopol.list_users().send().await, "AccessDenied", 403);
    admin
        .delete_user_policy()
        .user_name("nopol")
        .policy_name("deny-list")
        .send()
        .await
        .expect("DeleteUserPolicy deny");
    as_nopol
        .list_users()
        .send()
        .await
        .expect("ListUsers once the deny is gone");

    admin
        .delete_user_policy()
        .user_name("nopol")
        .policy_name("list-users")
        .send()
        .await
        .expect("DeleteUserPolicy");
    let message = expect_error(as_nopol.list_users().send().await, "AccessDenied", 403);
    assert_eq!(
        message,
        format!("User: arn:aws:iam::111122223333:user/nopol {NOT_AUTHORIZED_LIST_USERS}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_policy_applies_to_its_members_only_while_they_are_members() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = iam(&server);
    let member = user_with_key(&admin, "member").await;
    let as_member = iam_as(&server, &member);
    admin
        .create_group()
        .group_name("readers")
        .send()
        .await
        .expect("CreateGroup");
    admin
        .put_group_policy()
        .group_name("readers")
        .policy_name("list-users")
        .policy_document(allow(&["iam:ListUsers"]))
        .send()
        .await
        .expect("PutGroupPolicy");
    expect_error(as_member.list_users().send().await, "AccessDenied", 403);

    admin
        .add_user_to_group()
        .group_name("readers")
        .user_name("member")
        .send()
        .await
        .expect("AddUserToGroup");
    as_member
        .list_users()
        .send()
        .await
        .expect("ListUsers as a member");

    admin
        .remove_user_from_group()
        .group_name("readers")
        .user_name("member")
        .send()
        .await
        .expect("RemoveUserFromGroup");
    expect_error(as_member.list_users().send().await, "AccessDenied", 403);

    // A managed policy attached to the group applies the same way.
    let managed = admin
        .create_policy()
        .policy_name("list-roles")
        .policy_document(allow(&["iam:ListRoles"]))
        .send()
        .await
        .expect("CreatePolicy");
    let arn = managed
        .policy()
        .and_then(|p| p.arn())
        .expect("Arn")
        .to_owned();
    admin
        .attach_group_policy()
        .group_name("readers")
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachGroupPolicy");
    admin
        .add_user_to_group()
        .group_name("readers")
        .user_name("member")
        .send()
        .await
        .expect("AddUserToGroup");
    as_member
        .list_roles()
        .send()
        .await
        .expect("ListRoles through the group's managed policy");
    admin
        .detach_group_policy()
        .group_name("readers")
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachGroupPolicy");
    expect_error(as_member.list_roles().send().await, "AccessDenied", 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_managed_policy_applies_and_detaching_removes_it_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = iam(&server);
    let alice = user_with_key(&admin, "alice").await;
    let as_alice = iam_as(&server, &alice);
    let created = admin
        .create_policy()
        .policy_name("list-users")
        .policy_document(allow(&["iam:ListUsers"]))
        .send()
        .await
        .expect("CreatePolicy");
    let arn = created
        .policy()
        .and_then(|p| p.arn())
        .expect("Arn")
        .to_owned();
    assert_eq!(arn, policy_arn("list-users"));
    expect_error(as_alice.list_users().send().await, "AccessDenied", 403);

    admin
        .attach_user_policy()
        .user_name("alice")
        .policy_arn(&arn)
        .send()
        .await
        .expect("AttachUserPolicy");
    as_alice
        .list_users()
        .send()
        .await
        .expect("ListUsers with the attached policy");

    // The default version is what applies.
    admin
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(allow(&["iam:ListRoles"]))
        .set_as_default(true)
        .send()
        .await
        .expect("CreatePolicyVersion");
    expect_error(as_alice.list_users().send().await, "AccessDenied", 403);
    as_alice
        .list_roles()
        .send()
        .await
        .expect("ListRoles with v2");
    admin
        .set_default_policy_version()
        .policy_arn(&arn)
        .version_id("v1")
        .send()
        .await
        .expect("SetDefaultPolicyVersion");
    as_alice
        .list_users()
        .send()
        .await
        .expect("ListUsers with v1 again");

    admin
        .detach_user_policy()
        .user_name("alice")
        .policy_arn(&arn)
        .send()
        .await
        .expect("DetachUserPolicy");
    let message = expect_error(as_alice.list_users().send().await, "AccessDenied", 403);
    assert_eq!(
        message,
        format!("User: arn:aws:iam::111122223333:user/alice {NOT_AUTHORIZED_LIST_USERS}")
    );
}

// ---------------------------------------------------------------- accounts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_see_only_their_own_users_roles_keys_and_aliases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let other = server.create_account(None).await.expect("a second account");
    let other_account = other.account_id.clone();
    assert_ne!(other_account, ACCOUNT);
    assert_eq!(other_account.len(), 12);
    assert!(
        other_account.bytes().all(|b| b.is_ascii_digit()),
        "{other_account}"
    );
    let other_admin = Keys::of_account(&other.access_key_id, other.secret.expose_secret());
    let a_iam = iam(&server);
    let b_iam = iam_as(&server, &other_admin);

    let b_me = sts_as(&server, &other_admin)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity of the second admin");
    assert_eq!(b_me.account(), Some(other_account.as_str()));
    assert_eq!(
        b_me.arn(),
        Some(format!("arn:aws:iam::{other_account}:user/custos-admin").as_str())
    );

    // IAM: users and roles.
    a_iam
        .create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser in A");
    a_iam
        .create_role()
        .role_name("worker")
        .assume_role_policy_document(trust(&user_arn("alice")))
        .send()
        .await
        .expect("CreateRole in A");
    let message = expect_error(
        b_iam.get_user().user_name("alice").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The user with name alice cannot be found.");
    let message = expect_error(
        b_iam.get_role().role_name("worker").send().await,
        "NoSuchEntity",
        404,
    );
    assert_eq!(message, "The role with name worker cannot be found.");
    let b_users = b_iam.list_users().send().await.expect("ListUsers in B");
    let names: Vec<&str> = b_users.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["custos-admin"]);
    assert_eq!(
        b_users.users()[0].arn(),
        format!("arn:aws:iam::{other_account}:user/custos-admin")
    );
    assert!(
        b_iam
            .list_roles()
            .send()
            .await
            .expect("ListRoles in B")
            .roles()
            .is_empty()
    );
    // The same name in the other account is another user.
    let b_alice = b_iam
        .create_user()
        .user_name("alice")
        .send()
        .await
        .expect("CreateUser alice in B");
    assert_eq!(
        b_alice.user().expect("User").arn(),
        format!("arn:aws:iam::{other_account}:user/alice")
    );
    let a_alice = a_iam
        .get_user()
        .user_name("alice")
        .send()
        .await
        .expect("GetUser in A");
    assert_eq!(a_alice.user().expect("User").arn(), user_arn("alice"));
    assert_ne!(
        a_alice.user().expect("User").user_id(),
        b_alice.user().expect("User").user_id()
    );
    // Deleting B's alice leaves A's alone.
    b_iam
        .delete_user()
        .user_name("alice")
        .send()
        .await
        .expect("B deletes its own alice");
    a_iam
        .get_user()
        .user_name("alice")
        .send()
        .await
        .expect("A's alice is still there");
    // B's alice is gone: a trust policy naming her is refused, although A
    // has an alice.
    let message = expect_error(
        b_iam
            .create_role()
            .role_name("w")
            .assume_role_policy_document(trust(&format!("arn:aws:iam::{other_account}:user/alice")))
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
    assert_eq!(
        message,
        format!(r#"Invalid principal in policy: "AWS":"arn:aws:iam::{other_account}:user/alice""#)
    );

    // KMS: keys and aliases.
    let a_kms = kms_as(&server, &Keys::admin());
    let b_kms = kms_as(&server, &other_admin);
    let a_key = a_kms.create_key().send().await.expect("CreateKey in A");
    let a_key = a_key.key_metadata().expect("meta");
    let a_key_id = a_key.key_id().to_owned();
    let a_key_arn = a_key.arn().expect("Arn").to_owned();
    assert!(
        a_key_arn.contains(&format!(":{ACCOUNT}:key/")),
        "{a_key_arn}"
    );
    a_kms
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&a_key_id)
        .send()
        .await
        .expect("CreateAlias in A");

    let b_keys = b_kms.list_keys().send().await.expect("ListKeys in B");
    assert!(b_keys.keys().is_empty(), "{b_keys:?}");
    let b_aliases = b_kms.list_aliases().send().await.expect("ListAliases in B");
    assert!(
        b_aliases
            .aliases()
            .iter()
            .all(|a| a.target_key_id() != Some(a_key_id.as_str())
                && a.alias_name() != Some("alias/app")),
        "{b_aliases:?}"
    );
    // By id or alias name, B's own account is meant: not found.
    for key_id in [a_key_id.as_str(), "alias/app"] {
        expect_error(
            b_kms.describe_key().key_id(key_id).send().await,
            "NotFoundException",
            400,
        );
    }
    // By ARN, A's key is meant, and A's key policy does not let B in.
    let message = expect_error(
        b_kms.describe_key().key_id(a_key_arn.as_str()).send().await,
        "AccessDeniedException",
        400,
    );
    assert!(
        message.ends_with("because no resource-based policy allows the kms:DescribeKey action"),
        "{message}"
    );
    expect_error(
        b_kms
            .encrypt()
            .key_id(&a_key_arn)
            .plaintext(aws_sdk_kms::primitives::Blob::new(b"x".to_vec()))
            .send()
            .await,
        "AccessDeniedException",
        400,
    );
    // B's own key, and the same alias name in B's namespace.
    let b_key = b_kms.create_key().send().await.expect("CreateKey in B");
    let b_key = b_key.key_metadata().expect("meta");
    let b_key_id = b_key.key_id().to_owned();
    assert!(
        b_key
            .arn()
            .expect("Arn")
            .contains(&format!(":{other_account}:key/")),
        "{:?}",
        b_key.arn()
    );
    assert_eq!(b_key.aws_account_id(), Some(other_account.as_str()));
    b_kms
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&b_key_id)
        .send()
        .await
        .expect("CreateAlias alias/app in B");
    let described = b_kms
        .describe_key()
        .key_id("alias/app")
        .send()
        .await
        .expect("DescribeKey alias/app in B");
    assert_eq!(described.key_metadata().expect("meta").key_id(), b_key_id);
    let a_keys = a_kms.list_keys().send().await.expect("ListKeys in A");
    let a_ids: Vec<Option<&str>> = a_keys.keys().iter().map(|k| k.key_id()).collect();
    assert_eq!(a_ids, [Some(a_key_id.as_str())]);
    let described = a_kms
        .describe_key()
        .key_id("alias/app")
        .send()
        .await
        .expect("DescribeKey alias/app in A");
    assert_eq!(described.key_metadata().expect("meta").key_id(), a_key_id);
}

// ---------------------------------------------------------------- tampered store

/// The row of user `name` of the test account in the IAM table.
fn user_row(name: &str) -> Vec<u8> {
    format!("user/{ACCOUNT}/{name}").into_bytes()
}

/// Asserts that the server refuses, rather than obeys, requests signed by
/// `keys` and reads of user `name`: an internal error each time.
async fn assert_refused_as_corrupt(server: &custos_server::Running, keys: &Keys, name: &str) {
    expect_error(
        iam_as(server, keys).list_users().send().await,
        "ServiceFailure",
        500,
    );
    expect_error(
        kms_as(server, keys).list_keys().send().await,
        "KMSInternalException",
        500,
    );
    let (code, _, status) = common::error_of(
        &iam(server)
            .get_user()
            .user_name(name)
            .send()
            .await
            .expect_err("GetUser of a tampered record fails"),
    );
    assert_eq!(status, 500, "{code}");
}

/// Starts a server with `billing-svc` (allowed to list users) and
/// `other-svc`, checks that billing-svc works, stops it; billing-svc's key.
async fn two_users_then_stop(dir: &std::path::Path) -> Keys {
    let server = start(dir).await;
    let admin = iam(&server);
    let billing = user_with_key(&admin, "billing-svc").await;
    user_with_key(&admin, "other-svc").await;
    admin
        .put_user_policy()
        .user_name("billing-svc")
        .policy_name("list")
        .policy_document(allow(&["iam:ListUsers", "kms:ListKeys"]))
        .send()
        .await
        .expect("PutUserPolicy");
    iam_as(&server, &billing)
        .list_users()
        .send()
        .await
        .expect("ListUsers as billing-svc before tampering");
    kms_as(&server, &billing)
        .list_keys()
        .send()
        .await
        .expect("ListKeys as billing-svc before tampering");
    server.shutdown().await;
    billing
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_byte_in_a_user_record_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let billing = two_users_then_stop(dir.path()).await;
    {
        let engine = custos_store::redb::RedbEngine::open(&dir.path().join("custos.redb"))
            .expect("open the store");
        let mut value = engine
            .get(Table::Iam, &user_row("billing-svc"))
            .await
            .expect("read")
            .expect("billing-svc's record is at its row");
        let mid = value.len() / 2;
        value[mid] ^= 0x01;
        let mut batch = Batch::new();
        batch.put(Table::Iam, user_row("billing-svc"), value);
        engine
            .commit(batch)
            .await
            .expect("write the tampered record");
    }
    let server = start(dir.path()).await;
    assert_refused_as_corrupt(&server, &billing, "billing-svc").await;
    // The untouched user is still served.
    iam(&server)
        .get_user()
        .user_name("other-svc")
        .send()
        .await
        .expect("GetUser other-svc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_copied_onto_another_users_row_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let billing = two_users_then_stop(dir.path()).await;
    {
        let engine = custos_store::redb::RedbEngine::open(&dir.path().join("custos.redb"))
            .expect("open the store");
        let other = engine
            .get(Table::Iam, &user_row("other-svc"))
            .await
            .expect("read")
            .expect("other-svc's record is at its row");
        let mut batch = Batch::new();
        batch.put(Table::Iam, user_row("billing-svc"), other);
        engine.commit(batch).await.expect("write the copied record");
    }
    let server = start(dir.path()).await;
    assert_refused_as_corrupt(&server, &billing, "billing-svc").await;
    iam(&server)
        .get_user()
        .user_name("other-svc")
        .send()
        .await
        .expect("GetUser other-svc");
}
