"""The IAM and STS APIs of a running Custos, driven by boto3 as a user would.

Run by `crates/custos/tests/iam_cli.rs` with only the environment `custos
server` prints (AWS_ENDPOINT_URL_IAM, AWS_ENDPOINT_URL_STS, AWS_CA_BUNDLE,
the region and the bootstrap administrator's key) plus CUSTOS_TEST_ACCOUNT.
It checks the success and the main error paths of the IAM operations
(error code, message and HTTP status as botocore reports them) and exits
non-zero at the first failed check, saying what failed.
"""

import json
import os
import sys
import traceback

import boto3
import botocore.config
from botocore.exceptions import ClientError

ACCOUNT = os.environ["CUSTOS_TEST_ACCOUNT"]
# One attempt per call: a test wants the server's first answer.
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})


class CheckFailed(Exception):
    pass


def check(condition, what, detail=""):
    if not condition:
        raise CheckFailed(f"{what}: {detail}")


def equal(got, want, what):
    check(got == want, what, f"got {got!r}, want {want!r}")


def fails(call, code, status, message=None, prefix=None, what=""):
    """Runs `call`, which must raise a ClientError with `code` and `status`
    (and `message`, or a message starting with `prefix`); its message."""
    try:
        result = call()
    except ClientError as e:
        got_code = e.response["Error"]["Code"]
        got_message = e.response["Error"].get("Message", "")
        got_status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        label = what or code
        equal((got_code, got_status), (code, status), f"{label}: code and status ({got_message!r})")
        if message is not None:
            equal(got_message, message, f"{label}: message")
        if prefix is not None:
            check(got_message.startswith(prefix), f"{label}: message", f"{got_message!r} does not start with {prefix!r}")
        check(got_message != "", f"{label}: message", "empty")
        return got_message
    raise CheckFailed(f"{what or code}: expected {code} ({status}), the call succeeded: {result!r}")


def client(service, keys=None):
    if keys is None:
        return boto3.client(service, config=CONFIG)
    return boto3.client(
        service,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
        config=CONFIG,
    )


def allow(*actions):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}],
    }


def trust(arn):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}],
    }


def user_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def names(items, key):
    return sorted(i[key] for i in items)


def tags(items):
    return {t["Key"]: t["Value"] for t in items}


# ---------------------------------------------------------------- checks


def caller_identity(sts):
    me = sts.get_caller_identity()
    equal(me["Account"], ACCOUNT, "GetCallerIdentity Account")
    equal(me["Arn"], user_arn("custos-admin"), "GetCallerIdentity Arn")
    check(me["UserId"].startswith("AIDA"), "GetCallerIdentity UserId", me["UserId"])


def users(iam):
    user = iam.create_user(UserName="alice", Path="/ops/", Tags=[{"Key": "team", "Value": "core"}])["User"]
    equal(user["Arn"], user_arn("alice", "/ops/"), "CreateUser Arn")
    equal(user["Path"], "/ops/", "CreateUser Path")
    check(user["UserId"].startswith("AIDA"), "CreateUser UserId", user["UserId"])
    got = iam.get_user(UserName="alice")["User"]
    equal(got["UserId"], user["UserId"], "GetUser UserId")
    equal(iam.get_user()["User"]["UserName"], "custos-admin", "GetUser of the caller")
    fails(lambda: iam.create_user(UserName="alice"), "EntityAlreadyExists", 409,
          "User with name alice already exists.")
    fails(lambda: iam.get_user(UserName="nobody"), "NoSuchEntity", 404,
          "The user with name nobody cannot be found.")
    fails(lambda: iam.create_user(UserName="bad name!"), "ValidationError", 400,
          prefix="1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy "
          "constraint: Member must satisfy regular expression pattern")

    equal(names(iam.list_users(PathPrefix="/ops/")["Users"], "UserName"), ["alice"], "ListUsers /ops/")

    for i in range(1, 6):
        iam.create_user(UserName=f"pager-{i}", Path="/paged/")
    seen, pages, marker = [], [], None
    while True:
        kwargs = {"PathPrefix": "/paged/", "MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = iam.list_users(**kwargs)
        pages.append((len(page["Users"]), page["IsTruncated"]))
        seen += [u["UserName"] for u in page["Users"]]
        if not page["IsTruncated"]:
            check("Marker" not in page, "the last page has no Marker", page.get("Marker"))
            break
        marker = page["Marker"]
        check(len(pages) < 10, "ListUsers pagination ends", pages)
    equal(pages, [(2, True), (2, True), (1, False)], "ListUsers pages of 2")
    equal(sorted(seen), [f"pager-{i}" for i in range(1, 6)], "ListUsers pages: every user once")
    paginated = []
    for page in iam.get_paginator("list_users").paginate(PathPrefix="/paged/", PaginationConfig={"PageSize": 2}):
        paginated += [u["UserName"] for u in page["Users"]]
    equal(sorted(paginated), sorted(seen), "boto3's ListUsers paginator")

    iam.tag_user(UserName="alice", Tags=[{"Key": "env", "Value": "prod"}])
    equal(tags(iam.list_user_tags(UserName="alice")["Tags"]), {"team": "core", "env": "prod"}, "ListUserTags")
    iam.untag_user(UserName="alice", TagKeys=["team"])
    equal(tags(iam.list_user_tags(UserName="alice")["Tags"]), {"env": "prod"}, "ListUserTags after UntagUser")

    iam.update_user(UserName="alice", NewUserName="alice2", NewPath="/dev/")
    equal(iam.get_user(UserName="alice2")["User"]["Arn"], user_arn("alice2", "/dev/"), "UpdateUser")
    fails(lambda: iam.get_user(UserName="alice"), "NoSuchEntity", 404,
          "The user with name alice cannot be found.", what="GetUser after rename")
    iam.delete_user(UserName="alice2")
    fails(lambda: iam.delete_user(UserName="alice2"), "NoSuchEntity", 404,
          "The user with name alice2 cannot be found.", what="DeleteUser twice")
    for i in range(1, 6):
        iam.delete_user(UserName=f"pager-{i}")


def groups(iam):
    iam.create_user(UserName="member")
    group = iam.create_group(GroupName="ops")["Group"]
    equal(group["Arn"], f"arn:aws:iam::{ACCOUNT}:group/ops", "CreateGroup Arn")
    check(group["GroupId"].startswith("AGPA"), "CreateGroup GroupId", group["GroupId"])
    fails(lambda: iam.create_group(GroupName="ops"), "EntityAlreadyExists", 409,
          "Group with name ops already exists.")
    iam.add_user_to_group(GroupName="ops", UserName="member")
    equal(names(iam.get_group(GroupName="ops")["Users"], "UserName"), ["member"], "GetGroup Users")
    equal(names(iam.list_groups_for_user(UserName="member")["Groups"], "GroupName"), ["ops"], "ListGroupsForUser")
    check("ops" in names(iam.list_groups()["Groups"], "GroupName"), "ListGroups")
    fails(lambda: iam.get_group(GroupName="nogroup"), "NoSuchEntity", 404,
          "The group with name nogroup cannot be found.")
    iam.update_group(GroupName="ops", NewGroupName="operators")
    equal(names(iam.get_group(GroupName="operators")["Users"], "UserName"), ["member"], "UpdateGroup keeps members")
    fails(lambda: iam.delete_group(GroupName="operators"), "DeleteConflict", 409,
          "Cannot delete entity, must remove users from group first.")
    iam.put_group_policy(GroupName="operators", PolicyName="gp", PolicyDocument=json.dumps(allow("iam:ListUsers")))
    equal(iam.get_group_policy(GroupName="operators", PolicyName="gp")["PolicyDocument"], allow("iam:ListUsers"),
          "GetGroupPolicy document")
    equal(iam.list_group_policies(GroupName="operators")["PolicyNames"], ["gp"], "ListGroupPolicies")
    iam.delete_group_policy(GroupName="operators", PolicyName="gp")
    iam.remove_user_from_group(GroupName="operators", UserName="member")
    equal(iam.list_groups_for_user(UserName="member")["Groups"], [], "RemoveUserFromGroup")
    iam.delete_group(GroupName="operators")
    fails(lambda: iam.delete_group(GroupName="operators"), "NoSuchEntity", 404,
          "The group with name operators cannot be found.")
    iam.delete_user(UserName="member")


def roles(iam):
    trust_admin = trust(user_arn("custos-admin"))
    role = iam.create_role(RoleName="decryptor", AssumeRolePolicyDocument=json.dumps(trust_admin),
                           Description="decrypts")["Role"]
    equal(role["Arn"], role_arn("decryptor"), "CreateRole Arn")
    check(role["RoleId"].startswith("AROA"), "CreateRole RoleId", role["RoleId"])
    got = iam.get_role(RoleName="decryptor")["Role"]
    equal(got["AssumeRolePolicyDocument"], trust_admin, "GetRole trust policy")
    equal(got["MaxSessionDuration"], 3600, "GetRole MaxSessionDuration default")
    fails(lambda: iam.create_role(RoleName="decryptor", AssumeRolePolicyDocument=json.dumps(trust_admin)),
          "EntityAlreadyExists", 409, "Role with name decryptor already exists.")
    fails(lambda: iam.get_role(RoleName="nobody"), "NoSuchEntity", 404,
          "The role with name nobody cannot be found.")
    fails(lambda: iam.create_role(RoleName="bad", AssumeRolePolicyDocument=json.dumps(trust(user_arn("nobody")))),
          "MalformedPolicyDocument", 400,
          f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:user/nobody"')
    check("decryptor" in names(iam.list_roles()["Roles"], "RoleName"), "ListRoles")

    iam.update_role(RoleName="decryptor", Description="new", MaxSessionDuration=7200)
    iam.create_user(UserName="svc")
    iam.update_assume_role_policy(RoleName="decryptor", PolicyDocument=json.dumps(trust(user_arn("svc"))))
    got = iam.get_role(RoleName="decryptor")["Role"]
    equal((got["Description"], got["MaxSessionDuration"]), ("new", 7200), "UpdateRole")
    equal(got["AssumeRolePolicyDocument"], trust(user_arn("svc")), "UpdateAssumeRolePolicy")

    iam.tag_role(RoleName="decryptor", Tags=[{"Key": "env", "Value": "prod"}, {"Key": "x", "Value": "y"}])
    iam.untag_role(RoleName="decryptor", TagKeys=["x"])
    equal(tags(iam.list_role_tags(RoleName="decryptor")["Tags"]), {"env": "prod"}, "ListRoleTags")

    iam.put_role_policy(RoleName="decryptor", PolicyName="rp", PolicyDocument=json.dumps(allow("kms:Decrypt")))
    equal(iam.get_role_policy(RoleName="decryptor", PolicyName="rp")["PolicyDocument"], allow("kms:Decrypt"),
          "GetRolePolicy document")
    equal(iam.list_role_policies(RoleName="decryptor")["PolicyNames"], ["rp"], "ListRolePolicies")
    fails(lambda: iam.delete_role(RoleName="decryptor"), "DeleteConflict", 409,
          "Cannot delete entity, must delete policies first.")
    iam.delete_role_policy(RoleName="decryptor", PolicyName="rp")
    iam.delete_role(RoleName="decryptor")
    fails(lambda: iam.get_role(RoleName="decryptor"), "NoSuchEntity", 404,
          "The role with name decryptor cannot be found.", what="GetRole after DeleteRole")
    iam.delete_user(UserName="svc")


def inline_policies(iam):
    iam.create_user(UserName="writer")
    document = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "UseAppKey",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:EncryptionContext:app": "a b&c=d%e"}},
        }],
    }
    iam.put_user_policy(UserName="writer", PolicyName="use-app-key", PolicyDocument=json.dumps(document))
    got = iam.get_user_policy(UserName="writer", PolicyName="use-app-key")
    equal(got["PolicyDocument"], document, "GetUserPolicy document (decoded by boto3)")
    equal(iam.list_user_policies(UserName="writer")["PolicyNames"], ["use-app-key"], "ListUserPolicies")
    fails(lambda: iam.get_user_policy(UserName="writer", PolicyName="nope"), "NoSuchEntity", 404,
          "The user policy with name nope cannot be found.")
    fails(lambda: iam.put_user_policy(UserName="writer", PolicyName="bad", PolicyDocument="{not json"),
          "MalformedPolicyDocument", 400, what="PutUserPolicy of bad JSON")
    with_principal = dict(allow("kms:Decrypt"))
    with_principal["Statement"] = [dict(with_principal["Statement"][0], Principal={"AWS": user_arn("writer")})]
    fails(lambda: iam.put_user_policy(UserName="writer", PolicyName="bad", PolicyDocument=json.dumps(with_principal)),
          "MalformedPolicyDocument", 400, "Policy document should not specify a principal.")
    fails(lambda: iam.delete_user(UserName="writer"), "DeleteConflict", 409,
          "Cannot delete entity, must delete policies first.")
    iam.delete_user_policy(UserName="writer", PolicyName="use-app-key")
    equal(iam.list_user_policies(UserName="writer")["PolicyNames"], [], "DeleteUserPolicy")
    iam.delete_user(UserName="writer")


def managed_policies(iam):
    iam.create_user(UserName="holder")
    v1 = allow("kms:DescribeKey")
    policy = iam.create_policy(PolicyName="kms-read", Path="/team/", PolicyDocument=json.dumps(v1))["Policy"]
    arn = f"arn:aws:iam::{ACCOUNT}:policy/team/kms-read"
    equal(policy["Arn"], arn, "CreatePolicy Arn")
    equal(policy["DefaultVersionId"], "v1", "CreatePolicy DefaultVersionId")
    check(policy["PolicyId"].startswith("ANPA"), "CreatePolicy PolicyId", policy["PolicyId"])
    fails(lambda: iam.create_policy(PolicyName="kms-read", PolicyDocument=json.dumps(v1)), "EntityAlreadyExists",
          409, "A policy called kms-read already exists. Duplicate names are not allowed.")
    equal(iam.get_policy(PolicyArn=arn)["Policy"]["PolicyName"], "kms-read", "GetPolicy")
    check(arn in [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]], "ListPolicies Local")
    version = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    equal(version["Document"], v1, "GetPolicyVersion document")
    check(version["IsDefaultVersion"], "v1 is the default")

    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("kms:ListKeys")), SetAsDefault=True)
    equal(v2["PolicyVersion"]["VersionId"], "v2", "CreatePolicyVersion")
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(v1))
    fails(lambda: iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(v1)), "LimitExceeded", 409,
          "A managed policy can have up to 5 versions. Before you create a new version, you must delete an "
          "existing version.")
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    equal(sorted(v["VersionId"] for v in versions), ["v1", "v2", "v3", "v4", "v5"], "ListPolicyVersions")
    equal([v["VersionId"] for v in versions if v["IsDefaultVersion"]], ["v2"], "one default version")
    fails(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId="v2"), "DeleteConflict", 409,
          "Cannot delete the default version of a policy.")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    equal(iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v1", "SetDefaultPolicyVersion")

    iam.attach_user_policy(UserName="holder", PolicyArn=arn)
    equal([p["PolicyArn"] for p in iam.list_attached_user_policies(UserName="holder")["AttachedPolicies"]], [arn],
          "ListAttachedUserPolicies")
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    equal([u["UserName"] for u in entities["PolicyUsers"]], ["holder"], "ListEntitiesForPolicy")
    fails(lambda: iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409,
          "Cannot delete a policy attached to entities.")
    fails(lambda: iam.delete_user(UserName="holder"), "DeleteConflict", 409,
          "Cannot delete entity, must detach all policies first.")
    missing = f"arn:aws:iam::{ACCOUNT}:policy/nope"
    fails(lambda: iam.attach_user_policy(UserName="holder", PolicyArn=missing), "NoSuchEntity", 404,
          f"Policy {missing} does not exist or is not attachable.")
    iam.detach_user_policy(UserName="holder", PolicyArn=arn)
    for v in ["v2", "v3", "v4", "v5"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    fails(lambda: iam.get_policy(PolicyArn=arn), "NoSuchEntity", 404, what="GetPolicy after DeletePolicy")
    iam.delete_user(UserName="holder")


def access_keys_and_authorization(iam):
    iam.create_user(UserName="keyholder")
    first = iam.create_access_key(UserName="keyholder")["AccessKey"]
    check(first["AccessKeyId"].startswith("AKIA"), "CreateAccessKey id", first["AccessKeyId"])
    equal(first["Status"], "Active", "CreateAccessKey Status")
    second = iam.create_access_key(UserName="keyholder")["AccessKey"]
    fails(lambda: iam.create_access_key(UserName="keyholder"), "LimitExceeded", 409,
          "Cannot exceed quota for AccessKeysPerUser: 2")
    listed = iam.list_access_keys(UserName="keyholder")["AccessKeyMetadata"]
    equal(sorted(k["AccessKeyId"] for k in listed), sorted([first["AccessKeyId"], second["AccessKeyId"]]),
          "ListAccessKeys")
    fails(lambda: iam.delete_user(UserName="keyholder"), "DeleteConflict", 409,
          "Cannot delete entity, must delete access keys first.")

    as_holder = client("iam", first)
    holder_sts = client("sts", first)
    equal(holder_sts.get_caller_identity()["Arn"], user_arn("keyholder"), "GetCallerIdentity as keyholder")
    fails(lambda: as_holder.list_users(), "AccessDenied", 403,
          f"User: arn:aws:iam::{ACCOUNT}:user/keyholder is not authorized to perform: iam:ListUsers on resource: "
          f"arn:aws:iam::{ACCOUNT}:user/* because no identity-based policy allows the iam:ListUsers action",
          what="ListUsers without policies")
    iam.put_user_policy(UserName="keyholder", PolicyName="list", PolicyDocument=json.dumps(allow("iam:ListUsers")))
    as_holder.list_users()
    used = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    equal(used["UserName"], "keyholder", "GetAccessKeyLastUsed UserName")

    iam.update_access_key(UserName="keyholder", AccessKeyId=first["AccessKeyId"], Status="Inactive")
    invalid = "The security token included in the request is invalid."
    fails(lambda: holder_sts.get_caller_identity(), "InvalidClientTokenId", 403, invalid, what="an Inactive key (STS)")
    fails(lambda: as_holder.list_users(), "InvalidClientTokenId", 403, invalid, what="an Inactive key (IAM)")
    iam.update_access_key(UserName="keyholder", AccessKeyId=first["AccessKeyId"], Status="Active")
    as_holder.list_users()
    for key in (first, second):
        iam.delete_access_key(UserName="keyholder", AccessKeyId=key["AccessKeyId"])
    fails(lambda: holder_sts.get_caller_identity(), "InvalidClientTokenId", 403, invalid, what="a deleted key")
    fails(lambda: iam.delete_access_key(UserName="keyholder", AccessKeyId=first["AccessKeyId"]), "NoSuchEntity",
          404, f"The Access Key with id {first['AccessKeyId']} cannot be found.")
    iam.delete_user_policy(UserName="keyholder", PolicyName="list")
    iam.delete_user(UserName="keyholder")


def assume_role(iam):
    iam.create_user(UserName="billing-svc")
    keys = iam.create_access_key(UserName="billing-svc")["AccessKey"]
    iam.create_role(RoleName="decryptor", AssumeRolePolicyDocument=json.dumps(trust(user_arn("billing-svc"))))
    fails(lambda: client("sts").assume_role(RoleArn=role_arn("decryptor"), RoleSessionName="nope"),
          "AccessDenied", 403,
          f"User: arn:aws:iam::{ACCOUNT}:user/custos-admin is not authorized to perform: sts:AssumeRole on "
          f"resource: arn:aws:iam::{ACCOUNT}:role/decryptor", what="AssumeRole not trusted")
    out = client("sts", keys).assume_role(RoleArn=role_arn("decryptor"), RoleSessionName="job-42")
    creds = out["Credentials"]
    check(creds["AccessKeyId"].startswith("ASIA"), "AssumeRole AccessKeyId", creds["AccessKeyId"])
    equal(out["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/decryptor/job-42",
          "AssumedRoleUser Arn")
    me = client("sts", creds).get_caller_identity()
    equal(me["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/decryptor/job-42", "GetCallerIdentity of the session")
    check(me["UserId"].endswith(":job-42") and me["UserId"].startswith("AROA"), "session UserId", me["UserId"])


def main():
    for var in ["AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "CUSTOS_TEST_ACCOUNT"]:
        if not os.environ.get(var):
            # Without the endpoint, boto3 would go to AWS itself.
            print(f"FAILED: {var} is not set", file=sys.stderr)
            return 2
    iam = client("iam")
    steps = [
        ("caller identity", lambda: caller_identity(client("sts"))),
        ("users", lambda: users(iam)),
        ("groups", lambda: groups(iam)),
        ("roles", lambda: roles(iam)),
        ("inline policies", lambda: inline_policies(iam)),
        ("managed policies", lambda: managed_policies(iam)),
        ("access keys and authorization", lambda: access_keys_and_authorization(iam)),
        ("assume role", lambda: assume_role(iam)),
    ]
    for name, step in steps:
        try:
            step()
        except CheckFailed as e:
            print(f"FAILED in {name}: {e}", file=sys.stderr)
            return 1
        except ClientError as e:
            print(f"FAILED in {name}: unexpected error {e.response['Error']} "
                  f"(HTTP {e.response['ResponseMetadata']['HTTPStatusCode']}): {e}\n{traceback.format_exc()}",
                  file=sys.stderr)
            return 1
        print(f"ok: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
