"""The policy examples of AWS's KMS Developer Guide, run against Custos with boto3.

Run by `crates/custos/tests/policy_examples.rs` with the environment that
`custos server` prints (endpoints, CA bundle, region, the bootstrap
administrator's key) plus CUSTOS_TEST_ACCOUNT, and a second account made by
`custos account create`: CUSTOS_OTHER_ACCOUNT (444455556666, the guide's own
"other account"), CUSTOS_OTHER_ACCESS_KEY_ID and CUSTOS_OTHER_SECRET_ACCESS_KEY.

Each example is one function, with the page it comes from. As the
administrator it creates the IAM users and roles the example names, a key
with the example's key policy (or attaches the example's IAM policy), then
shows with boto3 that a request the example allows succeeds and that a
request it means to refuse gets AccessDeniedException, with the message AWS
documents:

    User: <caller ARN> is not authorized to perform: <action> on resource:
    <key ARN, alias ARN or *> <why>

where <why> is "because no resource-based policy allows the <action>
action" (the key policy lets nobody matching do it), "because no
identity-based policy allows the <action> action" (the key policy delegates
to IAM, which does not allow), "with an explicit deny in a resource-based
policy" or "with an explicit deny in an identity-based policy"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

The policies are written as the guide writes them. Only the guide's
placeholders change: accounts 111122223333 and 712816755609 become this
server's account, Regions (us-west-2, ap-southeast-1) become this server's
Region, and example key IDs become the keys created here. Where an example is
a single statement, the key policy is that statement alone (so nobody else,
not even the account, is allowed); the administrator sets it up first under
the default key policy and then replaces the policy, with
BypassPolicyLockoutSafetyCheck, as an operator would.

Where Custos answers differently from the guide, the check is listed in
KNOWN_GAPS with the reason: the script still runs it, reports it as a known
gap, and passes. A listed check that passes fails the script, so that the
list stays true. Any other failed check fails the script (exit 1).

Arguments, if any, name the example functions to run (all by default).
"""

import hashlib
import itertools
import json
import os
import sys
import traceback

import boto3
import botocore.config
from botocore.exceptions import ClientError

ACCOUNT = os.environ["CUSTOS_TEST_ACCOUNT"]
OTHER_ACCOUNT = os.environ["CUSTOS_OTHER_ACCOUNT"]
REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
# One attempt per call: a test wants the server's first answer.
CONFIG = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})

# "<example function>: <check label>" -> how Custos answers differently from
# the guide. Each entry is a finding; remove it when Custos is fixed (the
# script fails while a listed check passes).
KNOWN_GAPS = {}


class CheckFailed(Exception):
    pass


def check(condition, what, detail=""):
    if not condition:
        raise CheckFailed(f"{what}: {detail}")


def equal(got, want, what):
    check(got == want, what, f"got {got!r}, want {want!r}")


# ------------------------------------------------------------- principals

_counter = itertools.count(1)


def unique(prefix):
    return f"{prefix}-{next(_counter)}"


class Principal:
    """Someone who calls AWS: an IAM user or a role session, with its keys."""

    def __init__(self, arn, keys, user_name=None, role_name=None):
        self.arn = arn
        self.account = arn.split(":")[4]
        self.keys = keys
        self.user_name = user_name
        self.role_name = role_name
        self._clients = {}

    def client(self, service):
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                aws_access_key_id=self.keys["AccessKeyId"],
                aws_secret_access_key=self.keys["SecretAccessKey"],
                aws_session_token=self.keys.get("SessionToken"),
                config=CONFIG,
            )
        return self._clients[service]

    @property
    def kms(self):
        return self.client("kms")

    def put_policy(self, name, document):
        """Attaches an inline IAM policy to the user, or to the role."""
        iam = (ADMIN if self.account == ACCOUNT else OTHER_ADMIN).client("iam")
        text = json.dumps(document)
        if self.user_name:
            iam.put_user_policy(UserName=self.user_name, PolicyName=name, PolicyDocument=text)
        else:
            iam.put_role_policy(RoleName=self.role_name, PolicyName=name, PolicyDocument=text)

    def delete_policy(self, name):
        iam = (ADMIN if self.account == ACCOUNT else OTHER_ADMIN).client("iam")
        if self.user_name:
            iam.delete_user_policy(UserName=self.user_name, PolicyName=name)
        else:
            iam.delete_role_policy(RoleName=self.role_name, PolicyName=name)


ADMIN = Principal(
    f"arn:aws:iam::{ACCOUNT}:user/custos-admin",
    {"AccessKeyId": os.environ["AWS_ACCESS_KEY_ID"], "SecretAccessKey": os.environ["AWS_SECRET_ACCESS_KEY"]},
    user_name="custos-admin",
)
OTHER_ADMIN = Principal(
    f"arn:aws:iam::{OTHER_ACCOUNT}:user/custos-admin",
    {
        "AccessKeyId": os.environ["CUSTOS_OTHER_ACCESS_KEY_ID"],
        "SecretAccessKey": os.environ["CUSTOS_OTHER_SECRET_ACCESS_KEY"],
    },
    user_name="custos-admin",
)

_users = {}
_roles = set()
_sessions = {}


def _account_of(admin):
    return ACCOUNT if admin is None or admin is ADMIN else OTHER_ACCOUNT


def user(name, admin=None):
    """The IAM user `name` (created once), with an access key."""
    admin = admin or ADMIN
    account = _account_of(admin)
    if (account, name) not in _users:
        iam = admin.client("iam")
        created = iam.create_user(UserName=name)["User"]
        keys = iam.create_access_key(UserName=name)["AccessKey"]
        _users[(account, name)] = Principal(created["Arn"], keys, user_name=name)
    return _users[(account, name)]


def fresh_user(prefix, admin=None):
    """A new IAM user, for an example that attaches IAM policies to it."""
    return user(unique(prefix), admin)


def role(name, admin=None):
    """The IAM role `name` (created once), which the role-assumer user may
    assume. Role names are unique regardless of case, as in AWS."""
    admin = admin or ADMIN
    account = _account_of(admin)
    if (account, name.lower()) not in _roles:
        assumer = user("role-assumer", admin)
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": assumer.arn}, "Action": "sts:AssumeRole"}],
        }
        admin.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        _roles.add((account, name.lower()))
    return f"arn:aws:iam::{account}:role/{name}"


def role_session(name, admin=None):
    """A session of the role `name`, as someone who assumed it."""
    account = _account_of(admin)
    if (account, name) not in _sessions:
        role_arn = role(name, admin)
        sts = user("role-assumer", admin).client("sts")
        out = sts.assume_role(RoleArn=role_arn, RoleSessionName="policy-examples")
        _sessions[(account, name)] = Principal(out["AssumedRoleUser"]["Arn"], out["Credentials"], role_name=name)
    return _sessions[(account, name)]


# ------------------------------------------------------------- policies and keys


def doc(text, keys=None, account=None):
    """A policy as the guide writes it, with its placeholders replaced: the
    accounts (by this server's, or `account`), the Regions, and the example
    key IDs named in `keys` (placeholder -> key ID). Returns the parsed JSON."""
    account = account or ACCOUNT
    text = text.replace("111122223333", account).replace("712816755609", account)
    for region in ("us-west-2", "ap-southeast-1"):
        text = text.replace(region, REGION)
    for placeholder, key_id in (keys or {}).items():
        text = text.replace(placeholder, key_id)
    return json.loads(text)


def key_policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def iam_policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def new_key(admin=None, **create):
    """A key created by the administrator (default key policy); its metadata."""
    return (admin or ADMIN).kms.create_key(**create)["KeyMetadata"]


def set_policy(key, policy, admin=None):
    """Replaces the key's policy, as an administrator who may lock itself out."""
    (admin or ADMIN).kms.put_key_policy(
        KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy), BypassPolicyLockoutSafetyCheck=True
    )


def key_arn(key):
    return key["Arn"]


def alias_arn(name):
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:{name}"


PLAINTEXT = b"a policy example"

# key-policy-default.html#key-policy-default-allow-root-enable-iam
ENABLE_IAM_POLICIES = """
{
  "Sid": "Enable IAM policies",
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:root"
   },
  "Action": "kms:*",
  "Resource": "*"
}
"""

# ------------------------------------------------------------- checks


def no_resource_allow(action):
    return f"because no resource-based policy allows the {action} action"


def no_identity_allow(action):
    return f"because no identity-based policy allows the {action} action"


DENY_IN_KEY_POLICY = "with an explicit deny in a resource-based policy"
DENY_IN_IAM_POLICY = "with an explicit deny in an identity-based policy"

RESULTS = []  # (example, check, outcome, detail)


class Example:
    """One example's run: its checks, each recorded, known gaps tolerated."""

    def __init__(self, name):
        self.name = name

    def check(self, label, body):
        """`body` must run without a failed check or an error."""
        key = f"{self.name}: {label}"
        try:
            body()
        except (CheckFailed, ClientError) as e:
            detail = str(e) if isinstance(e, CheckFailed) else f"unexpected {describe(e)}"
            if key in KNOWN_GAPS:
                RESULTS.append((self.name, label, "known gap", f"{KNOWN_GAPS[key]} [got: {detail}]"))
            else:
                RESULTS.append((self.name, label, "FAILED", detail))
            return
        if key in KNOWN_GAPS:
            RESULTS.append((self.name, label, "FIXED", "passes now: remove it from KNOWN_GAPS"))
        else:
            RESULTS.append((self.name, label, "ok", ""))

    def allowed(self, label, call):
        """`call` must succeed; returns its result (None if it failed)."""
        box = {}

        def body():
            box["result"] = call()

        self.check(label, body)
        return box.get("result")

    def denied(self, label, call, who, action, resource, why, alternative=None):
        """`call` must fail with AccessDeniedException and AWS's message.
        `resource` None checks the message up to "on resource: " only.
        `alternative`, an (action, resource, why), is another message that
        would be as right (for a request that two permissions both refuse,
        where AWS does not document which it names)."""

        def body():
            try:
                result = call()
            except ClientError as e:
                code = e.response["Error"]["Code"]
                message = e.response["Error"].get("Message", "")
                status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                equal((code, status), ("AccessDeniedException", 400), f"error code and status ({message!r})")
                head = f"User: {who.arn} is not authorized to perform: {action} on resource: "
                if alternative is not None:
                    a_action, a_resource, a_why = alternative
                    other = f"User: {who.arn} is not authorized to perform: {a_action} on resource: {a_resource} {a_why}"
                    check(message in (f"{head}{resource} {why}", other), "message",
                          f"{message!r} is neither {head}{resource} {why!r} nor {other!r}")
                elif resource is None:
                    check(message.startswith(head) and message.endswith(why), "message",
                          f"{message!r} is not {head!r}...{why!r}")
                else:
                    equal(message, f"{head}{resource} {why}", "message")
                return
            raise CheckFailed(f"expected AccessDeniedException, the call succeeded: {short(result)}")

        self.check(label, body)


def describe(e):
    err = e.response["Error"]
    return f"{err.get('Code')} (HTTP {e.response['ResponseMetadata']['HTTPStatusCode']}): {err.get('Message')}"


def short(result):
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k != "ResponseMetadata"}
    text = repr(result)
    return text if len(text) < 300 else text[:300] + "..."


# ============================================================= the examples
#
# Key policies: key-policy-default.html


def default_key_policy_enables_iam_policies(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    default = new_key()

    def is_default():
        policy = json.loads(ADMIN.kms.get_key_policy(KeyId=default["KeyId"], PolicyName="default")["Policy"])
        statements = policy["Statement"]
        check(
            any(
                s.get("Effect") == "Allow"
                and s.get("Principal") == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
                and s.get("Action") == "kms:*"
                and s.get("Resource") == "*"
                for s in statements
            ),
            "the default key policy has the statement that enables IAM policies",
            statements,
        )

    ex.allowed("CreateKey without a policy gets the statement that enables IAM policies", is_default)

    key = new_key()
    set_policy(key, key_policy(doc(ENABLE_IAM_POLICIES)))
    # customer-managed-policies.html#iam-policy-example-encrypt-decrypt-specific-cmks
    allowed_user = fresh_user("enable-iam")
    allowed_user.put_policy("specific-keys", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:Encrypt",
      "kms:Decrypt"
    ],
    "Resource": [
      "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    ]
  }
}
""", keys={"1234abcd-12ab-34cd-56ef-1234567890ab": key["KeyId"],
        "0987dcba-09fe-87dc-65ba-ab0987654321": default["KeyId"]}))
    ex.allowed("a user whose IAM policy allows Encrypt encrypts",
               lambda: allowed_user.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT))
    nobody = fresh_user("enable-iam-none")
    ex.denied("a user with no IAM policy cannot encrypt",
              lambda: nobody.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT),
              nobody, "kms:Encrypt", key_arn(key), no_identity_allow("kms:Encrypt"))
    user("KMSAdminUser")
    role("KMSAdminRole")
    set_policy(key, key_policy(doc(KEY_ADMINISTRATORS)))
    ex.denied("an IAM policy is no use without the statement that enables IAM policies",
              lambda: allowed_user.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT),
              allowed_user, "kms:Encrypt", key_arn(key), no_resource_allow("kms:Encrypt"))


# key-policy-default.html#key-policy-default-allow-administrators
KEY_ADMINISTRATORS = """
{
  "Sid": "Allow access for Key Administrators",
  "Effect": "Allow",
  "Principal": {"AWS": [
    "arn:aws:iam::111122223333:user/KMSAdminUser",
    "arn:aws:iam::111122223333:role/KMSAdminRole"
  ]},
  "Action": [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion"
  ],
  "Resource": "*"
}
"""


def key_administrators_statement(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators
    admin_user = user("KMSAdminUser")
    admin_role = role_session("KMSAdminRole")
    key = new_key()
    policy = key_policy(doc(KEY_ADMINISTRATORS))
    set_policy(key, policy)
    kid = key["KeyId"]
    ex.allowed("DescribeKey", lambda: admin_user.kms.describe_key(KeyId=kid))
    ex.allowed("DisableKey then EnableKey", lambda: (admin_user.kms.disable_key(KeyId=kid),
                                                    admin_user.kms.enable_key(KeyId=kid)))
    ex.allowed("EnableKeyRotation and GetKeyRotationStatus",
               lambda: (admin_role.kms.enable_key_rotation(KeyId=kid), admin_role.kms.get_key_rotation_status(KeyId=kid)))
    ex.allowed("GetKeyPolicy, ListKeyPolicies, ListResourceTags",
               lambda: (admin_user.kms.get_key_policy(KeyId=kid, PolicyName="default"),
                        admin_user.kms.list_key_policies(KeyId=kid), admin_user.kms.list_resource_tags(KeyId=kid)))
    ex.allowed("TagResource and UntagResource (the role)",
               lambda: (admin_role.kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "team", "TagValue": "a"}]),
                        admin_role.kms.untag_resource(KeyId=kid, TagKeys=["team"])))
    ex.allowed("PutKeyPolicy (kms:Put*)",
               lambda: admin_user.kms.put_key_policy(KeyId=kid, PolicyName="default", Policy=json.dumps(policy)))
    ex.allowed("UpdateKeyDescription (kms:Update*)",
               lambda: admin_user.kms.update_key_description(KeyId=kid, Description="administered"))
    ex.allowed("CreateGrant, ListGrants, RevokeGrant (kms:Create*, kms:List*, kms:Revoke*)", lambda: (
        admin_user.kms.revoke_grant(KeyId=kid, GrantId=admin_user.kms.create_grant(
            KeyId=kid, GranteePrincipal=role("KMSAdminRole"), Operations=["DescribeKey"])["GrantId"]),
        admin_user.kms.list_grants(KeyId=kid)))
    ex.allowed("ScheduleKeyDeletion, CancelKeyDeletion, EnableKey (the role)",
               lambda: (admin_role.kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7),
                        admin_role.kms.cancel_key_deletion(KeyId=kid), admin_role.kms.enable_key(KeyId=kid)))
    ex.denied("key administrators cannot encrypt",
              lambda: admin_user.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT),
              admin_user, "kms:Encrypt", key_arn(key), no_resource_allow("kms:Encrypt"))
    ex.denied("key administrators cannot generate data keys",
              lambda: admin_role.kms.generate_data_key(KeyId=kid, KeySpec="AES_256"),
              admin_role, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


# key-policy-default.html#key-policy-default-allow-users
KEY_USERS = """
{
  "Sid": "Allow use of the key",
  "Effect": "Allow",
  "Principal": {"AWS": [
    "arn:aws:iam::111122223333:user/ExampleUser",
    "arn:aws:iam::111122223333:role/ExampleRole",
    "arn:aws:iam::444455556666:root"
  ]},
  "Action": [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey"
  ],
  "Resource": "*"
}
"""
KEY_USERS_GRANTS = """
{
  "Sid": "Allow attachment of persistent resources",
  "Effect": "Allow",
  "Principal": {"AWS": [
    "arn:aws:iam::111122223333:user/ExampleUser",
    "arn:aws:iam::111122223333:role/ExampleRole",
    "arn:aws:iam::444455556666:root"
  ]},
  "Action": [
    "kms:CreateGrant",
    "kms:ListGrants",
    "kms:RevokeGrant"
  ],
  "Resource": "*",
  "Condition": {"Bool": {"kms:GrantIsForAWSResource": true}}
}
"""


def key_users_statements(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-users
    example_user = user("ExampleUser")
    example_role = role_session("ExampleRole")
    key = new_key()
    set_policy(key, key_policy(doc(KEY_USERS), doc(KEY_USERS_GRANTS)))
    kid = key["KeyId"]

    def round_trip():
        blob = example_user.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT)["CiphertextBlob"]
        blob = example_user.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=kid)["CiphertextBlob"]
        equal(example_user.kms.decrypt(CiphertextBlob=blob, KeyId=kid)["Plaintext"], PLAINTEXT, "plaintext")

    ex.allowed("Encrypt, ReEncrypt, Decrypt", round_trip)
    ex.allowed("GenerateDataKeyWithoutPlaintext and DescribeKey (the role)",
               lambda: (example_role.kms.generate_data_key_without_plaintext(KeyId=kid, KeySpec="AES_256"),
                        example_role.kms.describe_key(KeyId=kid)))
    ex.allowed("the other account (444455556666:root) delegates to its administrator",
               lambda: OTHER_ADMIN.kms.generate_data_key(KeyId=key_arn(key), KeySpec="AES_256"))
    ex.denied("CreateGrant called directly, not by an AWS service (kms:GrantIsForAWSResource)",
              lambda: example_user.kms.create_grant(KeyId=kid, GranteePrincipal=role("ExampleRole"),
                                                    Operations=["Decrypt"]),
              example_user, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))
    ex.denied("ListGrants called directly (kms:GrantIsForAWSResource)",
              lambda: example_user.kms.list_grants(KeyId=kid),
              example_user, "kms:ListGrants", key_arn(key), no_resource_allow("kms:ListGrants"))
    ex.denied("key users cannot disable the key",
              lambda: example_user.kms.disable_key(KeyId=kid),
              example_user, "kms:DisableKey", key_arn(key), no_resource_allow("kms:DisableKey"))
    ex.denied("the other account cannot disable the key",
              lambda: OTHER_ADMIN.kms.disable_key(KeyId=key_arn(key)),
              OTHER_ADMIN, "kms:DisableKey", key_arn(key), no_resource_allow("kms:DisableKey"))


def key_users_hmac_keys(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-users-crypto
    example_user = user("ExampleUser")
    key = new_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
    set_policy(key, key_policy(doc("""
{
  "Sid": "Allow use of the key",
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": [
    "kms:DescribeKey",
    "kms:GenerateMac",
    "kms:VerifyMac"
  ],
  "Resource": "*"
}
""")))
    kid = key["KeyId"]

    def mac_round_trip():
        mac = example_user.kms.generate_mac(KeyId=kid, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
        check(example_user.kms.verify_mac(KeyId=kid, Message=b"m", MacAlgorithm="HMAC_SHA_256", Mac=mac)["MacValid"],
              "MacValid")
        example_user.kms.describe_key(KeyId=kid)

    ex.allowed("GenerateMac, VerifyMac, DescribeKey", mac_round_trip)
    ex.denied("GetKeyPolicy is not a key user's",
              lambda: example_user.kms.get_key_policy(KeyId=kid, PolicyName="default"),
              example_user, "kms:GetKeyPolicy", key_arn(key), no_resource_allow("kms:GetKeyPolicy"))


def key_users_signing_keys(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-users-crypto
    example_user = user("ExampleUser")
    key = new_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    set_policy(key, key_policy(doc("""
{
  "Sid": "Allow use of the key",
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": [
    "kms:DescribeKey",
    "kms:GetPublicKey",
    "kms:Sign",
    "kms:Verify"
  ],
  "Resource": "*"
}
""")))
    kid = key["KeyId"]

    def sign_verify():
        sig = example_user.kms.sign(KeyId=kid, Message=b"m", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        check(example_user.kms.verify(KeyId=kid, Message=b"m", Signature=sig,
                                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"], "SignatureValid")
        example_user.kms.get_public_key(KeyId=kid)

    ex.allowed("Sign, Verify, GetPublicKey", sign_verify)
    ex.denied("ScheduleKeyDeletion is not a key user's",
              lambda: example_user.kms.schedule_key_deletion(KeyId=kid),
              example_user, "kms:ScheduleKeyDeletion", key_arn(key), no_resource_allow("kms:ScheduleKeyDeletion"))


# ------------------------------------------------------------- conditions-kms.html


def bypass_lockout_check_denied_in_iam(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check
    u = fresh_user("no-bypass")
    u.put_policy("p", iam_policy(
        # customer-managed-policies.html#iam-policy-example-create-key
        doc('{"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}'),
        doc("""
{
  "Effect": "Deny",
  "Action": [
    "kms:CreateKey",
    "kms:PutKeyPolicy"
  ],
  "Resource": "*",
  "Condition": {
    "Bool": {
      "kms:BypassPolicyLockoutSafetyCheck": true
    }
  }
}
""")))
    ex.allowed("CreateKey without the bypass", lambda: u.kms.create_key())
    ex.denied("CreateKey with BypassPolicyLockoutSafetyCheck=true",
              lambda: u.kms.create_key(BypassPolicyLockoutSafetyCheck=True),
              u, "kms:CreateKey", "*", DENY_IN_IAM_POLICY)
    key = new_key()
    ex.denied("PutKeyPolicy with BypassPolicyLockoutSafetyCheck=true",
              lambda: u.kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", BypassPolicyLockoutSafetyCheck=True,
                                           Policy=json.dumps(key_policy(doc(ENABLE_IAM_POLICIES)))),
              u, "kms:PutKeyPolicy", key_arn(key), DENY_IN_IAM_POLICY)


def bypass_lockout_check_null(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check
    # The guide shows this statement without a Principal, which a key policy
    # requires; it is attached here as an IAM policy (valid for PutKeyPolicy).
    u = fresh_user("null-bypass")
    u.put_policy("p", iam_policy(doc("""
{
  "Effect": "Allow",
  "Action": "kms:PutKeyPolicy",
  "Resource": "*",
  "Condition": {
    "Null": {
      "kms:BypassPolicyLockoutSafetyCheck": true
    }
  }
}
""")))
    key = new_key()
    policy = json.dumps(key_policy(doc(ENABLE_IAM_POLICIES)))
    ex.allowed("PutKeyPolicy without the BypassPolicyLockoutSafetyCheck parameter",
               lambda: u.kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy))
    ex.denied("PutKeyPolicy with BypassPolicyLockoutSafetyCheck=true",
              lambda: u.kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy,
                                           BypassPolicyLockoutSafetyCheck=True),
              u, "kms:PutKeyPolicy", key_arn(key), no_identity_allow("kms:PutKeyPolicy"))


def caller_account_with_via_service(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account
    # The allowing half needs a request made through Amazon EBS, which a
    # Custos server does not have; only the refusal of a direct call is shown.
    example_user = user("ExampleUser")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
  "Effect": "Allow",
  "Principal": {"AWS": "*"},
  "Condition": {
    "StringEquals": {
      "kms:CallerAccount": "111122223333",
      "kms:ViaService": "ec2.us-west-2.amazonaws.com"
    }
  },
  "Action": [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:DescribeKey"
  ],
  "Resource": "*"
}
""")))
    ex.denied("a direct call, not through EBS, is refused",
              lambda: example_user.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT),
              example_user, "kms:Encrypt", key_arn(key), no_resource_allow("kms:Encrypt"))


def data_key_pair_spec(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-data-key-spec
    example_user = user("ExampleUser")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:user/ExampleUser"
  },
  "Action": [
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext"
  ],
  "Resource": "*",
  "Condition": {
    "StringLike": {
      "kms:DataKeyPairSpec": "RSA*"
    }
  }
}
""")))
    kid = key["KeyId"]
    ex.allowed("GenerateDataKeyPair RSA_2048",
               lambda: example_user.kms.generate_data_key_pair(KeyId=kid, KeyPairSpec="RSA_2048"))
    ex.allowed("GenerateDataKeyPairWithoutPlaintext RSA_3072",
               lambda: example_user.kms.generate_data_key_pair_without_plaintext(KeyId=kid, KeyPairSpec="RSA_3072"))
    ex.denied("GenerateDataKeyPair ECC_NIST_P256",
              lambda: example_user.kms.generate_data_key_pair(KeyId=kid, KeyPairSpec="ECC_NIST_P256"),
              example_user, "kms:GenerateDataKeyPair", key_arn(key), no_resource_allow("kms:GenerateDataKeyPair"))


def encryption_algorithm_in_key_policy(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-algorithm
    # The Deny statement, beside the key users statement of the default
    # console key policy (key-policy-default.html) that allows the role.
    example_role = role_session("ExampleRole")
    user("ExampleUser")
    key = new_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    set_policy(key, key_policy(doc(KEY_USERS), doc("""
{
  "Sid": "Allow only one encryption algorithm with this asymmetric KMS key",
  "Effect": "Deny",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/ExampleRole"
  },
  "Action": [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*"
  ],
  "Resource": "*",
  "Condition": {
    "StringNotEquals": {
      "kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"
    }
  }
}
""")))
    kid = key["KeyId"]

    def oaep_sha256():
        blob = example_role.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT,
                                        EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
        out = example_role.kms.decrypt(KeyId=kid, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        equal(out["Plaintext"], PLAINTEXT, "plaintext")

    ex.allowed("Encrypt and Decrypt with RSAES_OAEP_SHA_256", oaep_sha256)
    ex.allowed("the Deny names only the role: ExampleUser uses RSAES_OAEP_SHA_1",
               lambda: user("ExampleUser").kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT,
                                                       EncryptionAlgorithm="RSAES_OAEP_SHA_1"))
    ex.denied("Encrypt with RSAES_OAEP_SHA_1",
              lambda: example_role.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT, EncryptionAlgorithm="RSAES_OAEP_SHA_1"),
              example_role, "kms:Encrypt", key_arn(key), DENY_IN_KEY_POLICY)


def encryption_algorithm_in_iam_policy(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-algorithm
    # The Deny, beside two Allow statements of the guide:
    # customer-managed-policies.html#iam-policy-example-encrypt-decrypt-one-account
    # and cmks-in-iam-policies.html (all KMS keys in the trusted accounts).
    u = fresh_user("symmetric-only")
    u.put_policy("p", iam_policy(
        doc("""
{
    "Effect": "Allow",
    "Action": [
      "kms:Encrypt",
      "kms:Decrypt"
    ],
    "Resource": "arn:aws:kms:*:111122223333:key/*"
}
"""),
        doc("""
{
    "Effect": "Allow",
    "Action": [
      "kms:DescribeKey",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyPair"
    ],
    "Resource": [
      "arn:aws:kms:*:111122223333:key/*",
      "arn:aws:kms:*:444455556666:key/*"
    ]
}
"""),
        doc("""
{
  "Sid": "AllowOnlySymmetricAlgorithm",
  "Effect": "Deny",
  "Action": [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*"
  ],
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/*",
  "Condition": {
    "StringNotEquals": {
      "kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"
    }
  }
}
""")))
    sym = new_key()
    rsa = new_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")

    def symmetric_round_trip():
        blob = u.kms.encrypt(KeyId=sym["KeyId"], Plaintext=PLAINTEXT)["CiphertextBlob"]
        equal(u.kms.decrypt(CiphertextBlob=blob)["Plaintext"], PLAINTEXT, "plaintext")
        u.kms.encrypt(KeyId=sym["KeyId"], Plaintext=PLAINTEXT, EncryptionAlgorithm="SYMMETRIC_DEFAULT")

    ex.allowed("Encrypt and Decrypt with a symmetric key, the algorithm omitted or SYMMETRIC_DEFAULT",
               symmetric_round_trip)
    ex.allowed("GenerateDataKey (always SYMMETRIC_DEFAULT)",
               lambda: u.kms.generate_data_key(KeyId=sym["KeyId"], KeySpec="AES_256"))
    ex.allowed("GenerateDataKeyPair (always SYMMETRIC_DEFAULT)",
               lambda: u.kms.generate_data_key_pair(KeyId=sym["KeyId"], KeyPairSpec="ECC_NIST_P256"))
    ex.denied("Encrypt with RSAES_OAEP_SHA_256",
              lambda: u.kms.encrypt(KeyId=rsa["KeyId"], Plaintext=PLAINTEXT, EncryptionAlgorithm="RSAES_OAEP_SHA_256"),
              u, "kms:Encrypt", key_arn(rsa), DENY_IN_IAM_POLICY)


def encryption_context_required_pair(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:AppName": "ExampleApp"
    }
  }
}
""")))
    kid = key["KeyId"]
    gdk = lambda ctx: lambda: app.kms.generate_data_key(KeyId=kid, KeySpec="AES_256", **ctx)  # noqa: E731
    ex.allowed("AppName=ExampleApp, other pairs permitted",
               gdk({"EncryptionContext": {"AppName": "ExampleApp", "Stage": "Test"}}))
    ex.denied("AppName=OtherApp", gdk({"EncryptionContext": {"AppName": "OtherApp"}}),
              app, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))
    ex.denied("no encryption context", gdk({}),
              app, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


def encryption_context_pair_and_only_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
    alice = user("alice")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::712816755609:user/alice"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:AppName": "ExampleApp"
    },
    "ForAllValues:StringEquals": {
      "kms:EncryptionContextKeys": [
        "AppName"
      ]
    }
  }
}
""")))
    kid = key["KeyId"]
    gdk = lambda ctx: lambda: alice.kms.generate_data_key(KeyId=kid, KeySpec="AES_256", **ctx)  # noqa: E731
    ex.allowed("only AppName=ExampleApp", gdk({"EncryptionContext": {"AppName": "ExampleApp"}}))
    ex.denied("AppName=ExampleApp and another pair", gdk({"EncryptionContext": {"AppName": "ExampleApp", "Project": "Alpha"}}),
              alice, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))
    ex.denied("no encryption context", gdk({}),
              alice, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


def _with_role_policy(principal, key, body):
    """Runs `body` while the role's IAM policy allows it the key (the guide's
    cmks-in-iam-policies.html example with specific key ARNs)."""
    principal.put_policy("specific-keys", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:DescribeKey",
      "kms:GenerateDataKey",
      "kms:Decrypt"
    ],
    "Resource": [
      "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    ]
  }
}
""", keys={"1234abcd-12ab-34cd-56ef-1234567890ab": key["KeyId"], "0987dcba-09fe-87dc-65ba-ab0987654321": key["KeyId"]}))
    try:
        body()
    finally:
        principal.delete_policy("specific-keys")


def encryption_context_deny_pair(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
    # The Deny statement in a key policy that also enables IAM policies; the
    # role's IAM policy allows GenerateDataKey on the key.
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(doc(ENABLE_IAM_POLICIES), doc("""
{
  "Effect": "Deny",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:Stage": "Restricted"
    }
  }
}
""")))
    kid = key["KeyId"]

    def body():
        ex.allowed("Stage=Test", lambda: app.kms.generate_data_key(
            KeyId=kid, KeySpec="AES_256", EncryptionContext={"Stage": "Test"}))
        ex.denied("Stage=Restricted", lambda: app.kms.generate_data_key(
            KeyId=kid, KeySpec="AES_256", EncryptionContext={"Stage": "Restricted"}),
                  app, "kms:GenerateDataKey", key_arn(key), DENY_IN_KEY_POLICY)

    _with_role_policy(app, key, body)


def encryption_context_two_pairs_required(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-many
    app = role_session("RoleForExampleApp")
    key = new_key()
    kid = key["KeyId"]
    both = ADMIN.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT,
                             EncryptionContext={"Department": "IT", "Project": "Alpha", "Stage": "Test"})["CiphertextBlob"]
    one = ADMIN.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT, EncryptionContext={"Department": "IT"})["CiphertextBlob"]
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": "kms:Decrypt",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:Department": "IT",
      "kms:EncryptionContext:Project": "Alpha"
    }
  }
}
""")))
    ex.allowed("Department=IT and Project=Alpha (and another pair)", lambda: app.kms.decrypt(
        KeyId=kid, CiphertextBlob=both, EncryptionContext={"Department": "IT", "Project": "Alpha", "Stage": "Test"}))
    ex.denied("Department=IT alone", lambda: app.kms.decrypt(
        KeyId=kid, CiphertextBlob=one, EncryptionContext={"Department": "IT"}),
              app, "kms:Decrypt", key_arn(key), no_resource_allow("kms:Decrypt"))


def encryption_context_one_pair_or_another(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-many
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(*doc("""
[{
 "Effect": "Allow",
 "Principal": {
  "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
 },
 "Action": "kms:GenerateDataKey",
 "Resource": "*",
 "Condition": {
  "StringEquals": {
   "kms:EncryptionContext:Department": "IT"
  }
 }
},
{
 "Effect": "Allow",
 "Principal": {
  "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
 },
 "Action": "kms:GenerateDataKey",
 "Resource": "*",
 "Condition": {
  "StringEquals": {
   "kms:EncryptionContext:Project": "Alpha"
  }
 }
}]
""")))
    kid = key["KeyId"]
    gdk = lambda ctx: lambda: app.kms.generate_data_key(KeyId=kid, KeySpec="AES_256", EncryptionContext=ctx)  # noqa: E731
    ex.allowed("Department=IT", gdk({"Department": "IT"}))
    ex.allowed("Project=Alpha", gdk({"Project": "Alpha"}))
    ex.denied("Department=HR", gdk({"Department": "HR"}),
              app, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


def encryption_context_two_pairs_and_only_keys(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-many
    alice = user("alice")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::712816755609:user/alice"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:Department": "IT",
      "kms:EncryptionContext:Project": "Alpha"
    },
    "ForAllValues:StringEquals": {
      "kms:EncryptionContextKeys": [
        "Department",
        "Project"
      ]
    }
  }
}
""")))
    kid = key["KeyId"]
    gdk = lambda ctx: lambda: alice.kms.generate_data_key(KeyId=kid, KeySpec="AES_256", EncryptionContext=ctx)  # noqa: E731
    ex.allowed("Department=IT and Project=Alpha only", gdk({"Department": "IT", "Project": "Alpha"}))
    ex.denied("with a third pair", gdk({"Department": "IT", "Project": "Alpha", "Stage": "Test"}),
              alice, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


def encryption_context_deny_two_values(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-many
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(doc(ENABLE_IAM_POLICIES), doc("""
{
  "Effect": "Deny",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:Stage": [
         "Restricted",
         "Production"
      ] 
    }
  }
}
""")))
    kid = key["KeyId"]
    gdk = lambda stage: lambda: app.kms.generate_data_key(  # noqa: E731
        KeyId=kid, KeySpec="AES_256", EncryptionContext={"Stage": stage})

    def body():
        ex.allowed("Stage=Test", gdk("Test"))
        ex.denied("Stage=Restricted", gdk("Restricted"), app, "kms:GenerateDataKey", key_arn(key), DENY_IN_KEY_POLICY)
        ex.denied("Stage=Production", gdk("Production"), app, "kms:GenerateDataKey", key_arn(key), DENY_IN_KEY_POLICY)

    _with_role_policy(app, key, body)


def encryption_context_key_is_case_insensitive(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-case
    app = role_session("RoleForExampleApp")
    key = new_key()
    kid = key["KeyId"]
    blobs = {
        value: ADMIN.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT, EncryptionContext={"AppName": value})["CiphertextBlob"]
        for value in ("ExampleApp", "exampleapp")
    }
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": "kms:Decrypt",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:Appname": "ExampleApp"
    }
  }
}
""")))
    dec = lambda value: lambda: app.kms.decrypt(  # noqa: E731
        KeyId=kid, CiphertextBlob=blobs[value], EncryptionContext={"AppName": value})
    ex.allowed("the context key AppName matches the condition key's Appname", dec("ExampleApp"))
    ex.denied("the value is compared case-sensitively (exampleapp)", dec("exampleapp"),
              app, "kms:Decrypt", key_arn(key), no_resource_allow("kms:Decrypt"))


def encryption_context_keys_case_sensitive(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-case
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "ForAnyValue:StringEquals": {
      "kms:EncryptionContextKeys": "AppName"
    }
  }
}
""")))
    kid = key["KeyId"]
    gdk = lambda ctx: lambda: app.kms.generate_data_key(KeyId=kid, KeySpec="AES_256", EncryptionContext=ctx)  # noqa: E731
    ex.allowed("AppName", gdk({"AppName": "Helper"}))
    ex.denied("appname", gdk({"appname": "Helper"}),
              app, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


def encryption_context_key_and_value_case_sensitive(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-case
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "ForAnyValue:StringEquals": {
      "kms:EncryptionContextKeys": "AppName"
    },
    "StringEquals": {
      "kms:EncryptionContext:AppName": "ExampleApp"
    }
  }
}
""")))
    kid = key["KeyId"]
    gdk = lambda ctx: lambda: app.kms.generate_data_key(KeyId=kid, KeySpec="AES_256", EncryptionContext=ctx)  # noqa: E731
    ex.allowed("AppName=ExampleApp", gdk({"AppName": "ExampleApp"}))
    ex.denied("appname=ExampleApp", gdk({"appname": "ExampleApp"}),
              app, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))
    ex.denied("AppName=exampleapp", gdk({"AppName": "exampleapp"}),
              app, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


TEST_TEAM = """
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/TestTeam"
  },
  "Action": [
    "kms:Decrypt",
    "kms:Encrypt"
  ],
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:EncryptionContext:user": "${aws:username}"
    }
  }
}
"""


def encryption_context_policy_variable(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-variables
    # The guide gives this statement to the TestTeam role. aws:username is
    # present only for IAM users (IAM User Guide, aws:username), so a role
    # session matches no "user" value: the role is refused whatever it
    # sends. The same statement with an IAM user principal (bob) shows the
    # variable at work.
    team = role_session("TestTeam")
    key = new_key()
    set_policy(key, key_policy(doc(TEST_TEAM)))
    kid = key["KeyId"]
    ex.denied("a TestTeam session: aws:username is absent, so no context matches",
              lambda: team.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT, EncryptionContext={"user": "policy-examples"}),
              team, "kms:Encrypt", key_arn(key), no_resource_allow("kms:Encrypt"))
    bob = user("bob")
    bobs = new_key()
    set_policy(bobs, key_policy(doc(TEST_TEAM.replace("role/TestTeam", "user/bob"))))
    ex.allowed("user bob with user=bob",
               lambda: bob.kms.encrypt(KeyId=bobs["KeyId"], Plaintext=PLAINTEXT, EncryptionContext={"user": "bob"}))
    ex.denied("user bob with user=alice",
              lambda: bob.kms.encrypt(KeyId=bobs["KeyId"], Plaintext=PLAINTEXT, EncryptionContext={"user": "alice"}),
              bob, "kms:Encrypt", key_arn(bobs), no_resource_allow("kms:Encrypt"))


def encryption_context_keys_any_value(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-keys
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": [
    "kms:Encrypt",
    "kms:GenerateDataKey*"
  ],
  "Resource": "*",
  "Condition": {
    "ForAnyValue:StringEquals": {
      "kms:EncryptionContextKeys": "AppName"
    }
  }
}
""")))
    kid = key["KeyId"]
    ex.allowed("GenerateDataKey with AppName=Helper and Project=Alpha", lambda: app.kms.generate_data_key(
        KeyId=kid, KeySpec="AES_256", EncryptionContext={"AppName": "Helper", "Project": "Alpha"}))
    ex.denied("GenerateDataKey with Project=Alpha only", lambda: app.kms.generate_data_key(
        KeyId=kid, KeySpec="AES_256", EncryptionContext={"Project": "Alpha"}),
              app, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))
    ex.denied("Encrypt with no encryption context", lambda: app.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT),
              app, "kms:Encrypt", key_arn(key), no_resource_allow("kms:Encrypt"))


def encryption_context_keys_null(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context-keys
    app = role_session("RoleForExampleApp")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"
  },
  "Action": [
    "kms:Encrypt",
    "kms:GenerateDataKey*"
  ],
  "Resource": "*",
  "Condition": {
    "Null": {
      "kms:EncryptionContextKeys": false
    }
  }
}
""")))
    kid = key["KeyId"]
    ex.allowed("Encrypt with any encryption context",
               lambda: app.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT, EncryptionContext={"any": "thing"}))
    ex.allowed("GenerateDataKeyWithoutPlaintext with an encryption context",
               lambda: app.kms.generate_data_key_without_plaintext(KeyId=kid, KeySpec="AES_256",
                                                                   EncryptionContext={"x": "y"}))
    ex.denied("Encrypt without an encryption context", lambda: app.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT),
              app, "kms:Encrypt", key_arn(key), no_resource_allow("kms:Encrypt"))


def _grant_example(condition_json):
    """ExampleUser, LimitedAdminRole and OpsAdmin, and a key whose policy is
    the guide's CreateGrant statement with `condition_json`."""
    example_user = user("ExampleUser")
    role("LimitedAdminRole")
    user("OpsAdmin")
    key = new_key()
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:user/ExampleUser"
  },
  "Action": "kms:CreateGrant",
  "Resource": "*",
  "Condition": %s
}
""" % condition_json)))
    return example_user, key


def grant_constraint_type(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-constraint-type
    u, key = _grant_example('{"StringEquals": {"kms:GrantConstraintType": "EncryptionContextEquals"}}')
    grant = lambda **c: lambda: u.kms.create_grant(  # noqa: E731
        KeyId=key["KeyId"], GranteePrincipal=role("LimitedAdminRole"), Operations=["Decrypt"], **c)
    ex.allowed("a grant with an EncryptionContextEquals constraint",
               grant(Constraints={"EncryptionContextEquals": {"Department": "IT"}}))
    ex.denied("a grant with an EncryptionContextSubset constraint",
              grant(Constraints={"EncryptionContextSubset": {"Department": "IT"}}),
              u, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))
    ex.denied("a grant with no constraint", grant(),
              u, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))


def grant_is_for_aws_resource(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource
    # The allowing half is a grant an integrated AWS service creates for the
    # user; Custos has no such service, so only the refusal of a direct call
    # is shown.
    u, key = _grant_example('{"Bool": {"kms:GrantIsForAWSResource": true}}')
    ex.denied("CreateGrant called directly",
              lambda: u.kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=role("LimitedAdminRole"),
                                         Operations=["Decrypt"]),
              u, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))


def grant_operations(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-operations
    u, key = _grant_example('{"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt", "ReEncryptTo"]}}')
    grant = lambda ops: lambda: u.kms.create_grant(  # noqa: E731
        KeyId=key["KeyId"], GranteePrincipal=role("LimitedAdminRole"), Operations=ops)
    ex.allowed("a grant for Encrypt", grant(["Encrypt"]))
    ex.allowed("a grant for Encrypt and ReEncryptTo", grant(["Encrypt", "ReEncryptTo"]))
    ex.denied("a grant for Encrypt and Decrypt", grant(["Encrypt", "Decrypt"]),
              u, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))


def grantee_principal(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grantee-principal
    u, key = _grant_example(
        '{"StringEquals": {"kms:GranteePrincipal": "arn:aws:iam::111122223333:role/LimitedAdminRole"}}')
    grant = lambda grantee: lambda: u.kms.create_grant(  # noqa: E731
        KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=["Decrypt"])
    ex.allowed("a grant for LimitedAdminRole", grant(role("LimitedAdminRole")))
    ex.denied("a grant for OpsAdmin", grant(user("OpsAdmin").arn),
              u, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))


def retiring_principal(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-retiring-principal
    u, key = _grant_example("""{
    "StringEquals": {
      "kms:RetiringPrincipal": [
         "arn:aws:iam::111122223333:role/LimitedAdminRole",
         "arn:aws:iam::111122223333:user/OpsAdmin"
      ]
    }
  }""")
    grant = lambda **r: lambda: u.kms.create_grant(  # noqa: E731
        KeyId=key["KeyId"], GranteePrincipal=role("LimitedAdminRole"), Operations=["Decrypt"], **r)
    ex.allowed("retiring principal OpsAdmin", grant(RetiringPrincipal=user("OpsAdmin").arn))
    ex.allowed("retiring principal LimitedAdminRole", grant(RetiringPrincipal=role("LimitedAdminRole")))
    ex.denied("retiring principal ExampleUser", grant(RetiringPrincipal=u.arn),
              u, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))
    ex.denied("no retiring principal", grant(),
              u, "kms:CreateGrant", key_arn(key), no_resource_allow("kms:CreateGrant"))


def key_spec_on_create_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-key-spec
    u = fresh_user("rsa-creator")
    u.put_policy("p", iam_policy(doc("""
{
  "Effect": "Allow",
  "Action": "kms:CreateKey",
  "Resource": "*",
  "Condition": {
    "StringLike": {
      "kms:KeySpec": "RSA_*"
    }
  }
}
""")))
    ex.allowed("CreateKey RSA_2048", lambda: u.kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"))
    ex.denied("CreateKey with no KeySpec (SYMMETRIC_DEFAULT)", lambda: u.kms.create_key(),
              u, "kms:CreateKey", "*", no_identity_allow("kms:CreateKey"))
    ex.denied("CreateKey ECC_NIST_P256", lambda: u.kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"),
              u, "kms:CreateKey", "*", no_identity_allow("kms:CreateKey"))


def key_spec_of_the_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-key-spec
    u = fresh_user("symmetric-user")
    u.put_policy("p", iam_policy(doc("""
{
  "Effect": "Allow",
  "Action": [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:DescribeKey"
  ],
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/*",
  "Condition": {
    "StringEquals": {
      "kms:KeySpec": "SYMMETRIC_DEFAULT"
    }
  }
}
""")))
    sym = new_key()
    rsa = new_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")
    ex.allowed("Encrypt and DescribeKey with a symmetric key", lambda: (
        u.kms.encrypt(KeyId=sym["KeyId"], Plaintext=PLAINTEXT), u.kms.describe_key(KeyId=sym["KeyId"])))
    ex.denied("DescribeKey of an RSA key", lambda: u.kms.describe_key(KeyId=rsa["KeyId"]),
              u, "kms:DescribeKey", key_arn(rsa), no_identity_allow("kms:DescribeKey"))


def key_usage_on_create_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-key-usage
    u = fresh_user("encrypt-key-creator")
    u.put_policy("p", iam_policy(doc("""
{
  "Effect": "Allow",  
  "Action": "kms:CreateKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:KeyUsage": "ENCRYPT_DECRYPT"
    }
  }
}
""")))
    ex.allowed("CreateKey with no KeyUsage (ENCRYPT_DECRYPT)", lambda: u.kms.create_key())
    ex.allowed("CreateKey RSA_2048 ENCRYPT_DECRYPT",
               lambda: u.kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT"))
    ex.denied("CreateKey RSA_2048 SIGN_VERIFY", lambda: u.kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY"),
              u, "kms:CreateKey", "*", no_identity_allow("kms:CreateKey"))


def key_usage_of_the_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-key-usage
    u = fresh_user("signing-admin")
    u.put_policy("p", iam_policy(doc("""
{
  "Effect": "Allow",
  "Action": [
    "kms:CreateGrant",
    "kms:DescribeKey",
    "kms:GetPublicKey",
    "kms:ScheduleKeyDeletion"
  ],
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/*",
  "Condition": {
    "StringEquals": {
      "kms:KeyUsage": "SIGN_VERIFY"
    }
  }
}
""")))
    sign = new_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    sym = new_key()
    ex.allowed("DescribeKey, GetPublicKey, CreateGrant on a signing key", lambda: (
        u.kms.describe_key(KeyId=sign["KeyId"]), u.kms.get_public_key(KeyId=sign["KeyId"]),
        u.kms.create_grant(KeyId=sign["KeyId"], GranteePrincipal=u.arn, Operations=["Sign"])))
    ex.denied("DescribeKey of a symmetric key", lambda: u.kms.describe_key(KeyId=sym["KeyId"]),
              u, "kms:DescribeKey", key_arn(sym), no_identity_allow("kms:DescribeKey"))


def mac_algorithm(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-mac-algorithm
    testers = role_session("testers")
    policy = doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:aws:iam::111122223333:role/testers"
      },
      "Action": [
        "kms:GenerateMac",
        "kms:VerifyMac"
      ],
      "Resource": "*",
      "Condition": {
        "StringEquals": {
          "kms:MacAlgorithm": "HMAC_SHA_384"
        }
      }
    },
    {
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:aws:iam::111122223333:role/testers"
      },
      "Action": [
        "kms:GenerateMac",
        "kms:VerifyMac"
      ],
      "Resource": "*",
      "Condition": {
        "StringEquals": {
          "kms:MacAlgorithm": "HMAC_SHA_512"
        }
      }
    }
  ]
}
""")
    keys = {}
    for spec in ("HMAC_384", "HMAC_512", "HMAC_256"):
        keys[spec] = new_key(KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")
        set_policy(keys[spec], policy)

    def mac(spec, algorithm):
        kid = keys[spec]["KeyId"]
        tag = testers.kms.generate_mac(KeyId=kid, Message=b"m", MacAlgorithm=algorithm)["Mac"]
        check(testers.kms.verify_mac(KeyId=kid, Message=b"m", MacAlgorithm=algorithm, Mac=tag)["MacValid"], "MacValid")

    ex.allowed("GenerateMac and VerifyMac with HMAC_SHA_384", lambda: mac("HMAC_384", "HMAC_SHA_384"))
    ex.allowed("GenerateMac and VerifyMac with HMAC_SHA_512", lambda: mac("HMAC_512", "HMAC_SHA_512"))
    ex.denied("GenerateMac with HMAC_SHA_256",
              lambda: testers.kms.generate_mac(KeyId=keys["HMAC_256"]["KeyId"], Message=b"m",
                                               MacAlgorithm="HMAC_SHA_256"),
              testers, "kms:GenerateMac", key_arn(keys["HMAC_256"]), no_resource_allow("kms:GenerateMac"))


def message_type(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-message-type
    example_user = user("ExampleUser")
    key = new_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:user/ExampleUser"
  },
  "Action": "kms:Sign",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:MessageType": "RAW"
    }
  }
}
""")))
    kid = key["KeyId"]
    ex.allowed("Sign a message (RAW)", lambda: example_user.kms.sign(
        KeyId=kid, Message=b"m", MessageType="RAW", SigningAlgorithm="RSASSA_PSS_SHA_256"))
    ex.allowed("Sign with MessageType omitted (RAW by default)", lambda: example_user.kms.sign(
        KeyId=kid, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256"))
    ex.denied("Sign a digest", lambda: example_user.kms.sign(
        KeyId=kid, Message=hashlib.sha256(b"m").digest(), MessageType="DIGEST", SigningAlgorithm="RSASSA_PSS_SHA_256"),
              example_user, "kms:Sign", key_arn(key), no_resource_allow("kms:Sign"))


def multi_region_on_create_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-multiregion
    u = fresh_user("single-region-creator")
    u.put_policy("p", iam_policy(doc("""
{
  "Effect": "Allow",
  "Action": "kms:CreateKey",
  "Resource": "*",
  "Condition": {
    "Bool": {
      "kms:MultiRegion": false
    }
  }
}
""")))
    ex.allowed("CreateKey (single-Region)", lambda: u.kms.create_key())
    ex.denied("CreateKey MultiRegion=true", lambda: u.kms.create_key(MultiRegion=True),
              u, "kms:CreateKey", "*", no_identity_allow("kms:CreateKey"))


def re_encrypt_on_same_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-reencrypt-on-same-key
    example_user = user("ExampleUser")
    policy = key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:user/ExampleUser"
  },
  "Action": "kms:ReEncrypt*",
  "Resource": "*",
  "Condition": {
    "Bool": {
      "kms:ReEncryptOnSameKey": true
    }
  }
}
"""))
    source, destination = new_key(), new_key()
    blob = ADMIN.kms.encrypt(KeyId=source["KeyId"], Plaintext=PLAINTEXT)["CiphertextBlob"]
    set_policy(source, policy)
    set_policy(destination, policy)
    ex.allowed("ReEncrypt onto the same key",
               lambda: example_user.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=source["KeyId"]))
    ex.denied("ReEncrypt onto another key",
              lambda: example_user.kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination["KeyId"]),
              example_user, "kms:ReEncryptFrom", key_arn(source), no_resource_allow("kms:ReEncryptFrom"),
              alternative=("kms:ReEncryptTo", key_arn(destination), no_resource_allow("kms:ReEncryptTo")))


def request_alias(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-request-alias
    developer = role_session("developer")
    key = new_key()
    ADMIN.kms.create_alias(AliasName="alias/finance-key", TargetKeyId=key["KeyId"])
    set_policy(key, key_policy(doc("""
{
  "Sid": "Key policy using a request alias condition",
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/developer"
  },
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {
      "kms:RequestAlias": "alias/finance-key"
    }
  }
}
""")))
    gdk = lambda key_id: lambda: developer.kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")  # noqa: E731
    ex.allowed("KeyId alias/finance-key", gdk("alias/finance-key"))
    ex.allowed("KeyId the alias ARN", gdk(alias_arn("alias/finance-key")))
    ex.denied("KeyId the key ID", gdk(key["KeyId"]),
              developer, "kms:GenerateDataKey", key_arn(key), no_resource_allow("kms:GenerateDataKey"))


def request_alias_pattern(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html#alias-auth-request-alias
    developer = role_session("alpha-developer")
    key = new_key()
    ADMIN.kms.create_alias(AliasName="alias/project-alpha", TargetKeyId=key["KeyId"])
    ADMIN.kms.create_alias(AliasName="alias/project-beta", TargetKeyId=key["KeyId"])
    set_policy(key, key_policy(doc("""
{
  "Sid": "Key policy using a request alias condition",
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/alpha-developer"
  },
  "Action": [
    "kms:Decrypt",
    "kms:GenerateDataKey*",
    "kms:DescribeKey"
  ],
  "Resource": "*",
  "Condition": {
    "StringLike": {
      "kms:RequestAlias": "alias/*alpha*"
    }
  }
}
""")))
    ex.allowed("describe-key --key-id arn:aws:kms:...:alias/project-alpha",
               lambda: developer.kms.describe_key(KeyId=alias_arn("alias/project-alpha")))
    ex.denied("DescribeKey by key ARN", lambda: developer.kms.describe_key(KeyId=key_arn(key)),
              developer, "kms:DescribeKey", key_arn(key), no_resource_allow("kms:DescribeKey"))
    ex.denied("DescribeKey by another alias of the same key",
              lambda: developer.kms.describe_key(KeyId="alias/project-beta"),
              developer, "kms:DescribeKey", key_arn(key), no_resource_allow("kms:DescribeKey"))


def resource_aliases_any_value(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases
    u = fresh_user("finance")
    u.put_policy("p", iam_policy(doc("""
{
  "Sid": "AliasBasedIAMPolicy",
  "Effect": "Allow",
  "Action": "kms:GenerateDataKey",
  "Resource": [
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:kms:*:444455556666:key/*"
  ],
  "Condition": {
    "ForAnyValue:StringEquals": {
      "kms:ResourceAliases": "alias/finance-key"
    }
  }
}
""")))
    finance, other = new_key(), new_key()
    ADMIN.kms.create_alias(AliasName="alias/finance-key", TargetKeyId=finance["KeyId"])
    ADMIN.kms.create_alias(AliasName="alias/other-key", TargetKeyId=other["KeyId"])
    ex.allowed("GenerateDataKey by key ID on a key with alias/finance-key",
               lambda: u.kms.generate_data_key(KeyId=finance["KeyId"], KeySpec="AES_256"))
    ex.denied("GenerateDataKey on a key without it",
              lambda: u.kms.generate_data_key(KeyId=other["KeyId"], KeySpec="AES_256"),
              u, "kms:GenerateDataKey", key_arn(other), no_identity_allow("kms:GenerateDataKey"))
    # request_alias gives the name to a key of its own.
    ADMIN.kms.delete_alias(AliasName="alias/finance-key")


def resource_aliases_all_and_any_values(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-resource-aliases
    u = fresh_user("test-keys-admin")
    u.put_policy("p", iam_policy(doc("""
{
  "Sid": "AliasBasedIAMPolicy",
  "Effect": "Allow",
  "Action": [
    "kms:EnableKey",
    "kms:DisableKey"
  ],
  "Resource": "arn:aws:kms:*:111122223333:key/*",
  "Condition": {
    "ForAllValues:StringLike": {
      "kms:ResourceAliases": [
        "alias/*Test*"
      ]
    },
    "ForAnyValue:StringLike": {
      "kms:ResourceAliases": [
        "alias/*Test*"
      ]
    }
  }
}
""")))
    test_only, mixed, none = new_key(), new_key(), new_key()
    ADMIN.kms.create_alias(AliasName="alias/ProjectTest", TargetKeyId=test_only["KeyId"])
    ADMIN.kms.create_alias(AliasName="alias/TestTwo", TargetKeyId=test_only["KeyId"])
    ADMIN.kms.create_alias(AliasName="alias/MixedTest", TargetKeyId=mixed["KeyId"])
    ADMIN.kms.create_alias(AliasName="alias/Mixed", TargetKeyId=mixed["KeyId"])
    ex.allowed("DisableKey and EnableKey on a key whose aliases all include Test", lambda: (
        u.kms.disable_key(KeyId=test_only["KeyId"]), u.kms.enable_key(KeyId=test_only["KeyId"])))
    ex.denied("DisableKey on a key with one alias without Test", lambda: u.kms.disable_key(KeyId=mixed["KeyId"]),
              u, "kms:DisableKey", key_arn(mixed), no_identity_allow("kms:DisableKey"))
    ex.denied("DisableKey on a key with no alias", lambda: u.kms.disable_key(KeyId=none["KeyId"]),
              u, "kms:DisableKey", key_arn(none), no_identity_allow("kms:DisableKey"))


def resource_aliases_rotation(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-authorization.html#alias-auth-resource-aliases
    u = fresh_user("rotation")
    u.put_policy("p", iam_policy(doc("""
{
  "Sid": "AliasBasedIAMPolicy",
  "Effect": "Allow",
  "Action": [
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
    "kms:GetKeyRotationStatus"
  ],
  "Resource": [
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:kms:*:444455556666:key/*"
  ],
  "Condition": {
    "ForAnyValue:StringLike": {
      "kms:ResourceAliases": "alias/restricted*"
    }
  }
}
""")))
    restricted, other = new_key(), new_key()
    ADMIN.kms.create_alias(AliasName="alias/restricted-project", TargetKeyId=restricted["KeyId"])
    ex.allowed("enable-key-rotation --key-id alias/restricted-project",
               lambda: u.kms.enable_key_rotation(KeyId="alias/restricted-project"))
    ex.allowed("enable-key-rotation --key-id <key ID> of the same key",
               lambda: (u.kms.enable_key_rotation(KeyId=restricted["KeyId"]),
                        u.kms.get_key_rotation_status(KeyId=restricted["KeyId"])))
    ex.denied("EnableKeyRotation on a key without such an alias",
              lambda: u.kms.enable_key_rotation(KeyId=other["KeyId"]),
              u, "kms:EnableKeyRotation", key_arn(other), no_identity_allow("kms:EnableKeyRotation"))


def signing_algorithm(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-signing-algorithm
    testers = role_session("testers")
    key = new_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    set_policy(key, key_policy(doc("""
{
  "Effect": "Allow",
  "Principal": {
    "AWS": "arn:aws:iam::111122223333:role/testers"
  },
  "Action": "kms:Sign",
  "Resource": "*",
  "Condition": {
    "StringLike": {
      "kms:SigningAlgorithm": "RSASSA_PSS*"
    }
  }
}
""")))
    sign = lambda alg: lambda: testers.kms.sign(KeyId=key["KeyId"], Message=b"m", SigningAlgorithm=alg)  # noqa: E731
    ex.allowed("Sign with RSASSA_PSS_SHA_512", sign("RSASSA_PSS_SHA_512"))
    ex.denied("Sign with RSASSA_PKCS1_V1_5_SHA_256", sign("RSASSA_PKCS1_V1_5_SHA_256"),
              testers, "kms:Sign", key_arn(key), no_resource_allow("kms:Sign"))


def schedule_key_deletion_pending_window(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-schedule-key-deletion-pending-window-in-days
    # The stored copies of the guide did not include this section's JSON;
    # the statement is AWS's own sample (aws-samples/service-control-policy-examples,
    # Protect-cloud-platform-resource/Enforce-30-days-for-KMS-deletion.json),
    # attached as an IAM policy beside an Allow.
    u = fresh_user("deleter")
    u.put_policy("p", iam_policy(
        {"Effect": "Allow", "Action": ["kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
         "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"},
        json.loads("""
{
  "Effect": "Deny",
  "Action": "kms:ScheduleKeyDeletion",
  "Resource": "*",
  "Condition": {
    "NumericLessThan": {
      "kms:ScheduleKeyDeletionPendingWindowInDays": "30"
    }
  }
}
""")))
    key = new_key()
    kid = key["KeyId"]
    ex.allowed("PendingWindowInDays=30", lambda: (u.kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=30),
                                                  u.kms.cancel_key_deletion(KeyId=kid)))
    ex.allowed("PendingWindowInDays omitted (30 by default)", lambda: (
        u.kms.schedule_key_deletion(KeyId=kid), u.kms.cancel_key_deletion(KeyId=kid)))
    ex.denied("PendingWindowInDays=7", lambda: u.kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7),
              u, "kms:ScheduleKeyDeletion", key_arn(key), DENY_IN_IAM_POLICY)


# ------------------------------------------------------------- conditions-aws.html, ABAC, tags


def source_ip(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-aws.html#conditions-aws-ip-address
    # The policy it refers to: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-ip.html
    # (its IP ranges are placeholders; the allowing half puts this machine's
    # loopback range in their place).
    u = fresh_user("office")
    deny_ip = """
{
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {
            "NotIpAddress": {
                "aws:SourceIp": [
                    "192.0.2.0/24",
                    "203.0.113.0/24"
                ]
            }
        }
    }
}
"""
    # customer-managed-policies.html#iam-policy-example-encrypt-decrypt-one-account
    u.put_policy("encrypt", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:Encrypt",
      "kms:Decrypt"
    ],
    "Resource": "arn:aws:kms:*:111122223333:key/*"
  }
}
"""))
    key = new_key()
    u.put_policy("deny-ip", doc(deny_ip))
    ex.denied("a request from outside 192.0.2.0/24 and 203.0.113.0/24",
              lambda: u.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT),
              u, "kms:Encrypt", key_arn(key), DENY_IN_IAM_POLICY)
    u.put_policy("deny-ip", doc(deny_ip.replace("192.0.2.0/24", "127.0.0.0/8")))
    ex.allowed("a request from inside the ranges",
               lambda: u.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT))


def resource_tag_purpose_test(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/abac.html
    u = fresh_user("purpose-test")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AliasBasedIAMPolicy",
      "Effect": "Allow",
      "Action": [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:DescribeKey"
      ],
      "Resource": "arn:aws:kms:*:111122223333:key/*",
      "Condition": {
        "StringEquals": {
          "aws:ResourceTag/Purpose": "Test"
        }
      }
    }
  ]
}
"""))
    test = new_key(Tags=[{"TagKey": "Purpose", "TagValue": "Test"}])
    prod = new_key(Tags=[{"TagKey": "Purpose", "TagValue": "Prod"}])
    ex.allowed("Encrypt and DescribeKey with a Purpose=Test key", lambda: (
        u.kms.encrypt(KeyId=test["KeyId"], Plaintext=PLAINTEXT), u.kms.describe_key(KeyId=test["KeyId"])))
    ex.denied("Encrypt with a Purpose=Prod key", lambda: u.kms.encrypt(KeyId=prod["KeyId"], Plaintext=PLAINTEXT),
              u, "kms:Encrypt", key_arn(prod), no_identity_allow("kms:Encrypt"))

    def retagged():
        ADMIN.kms.tag_resource(KeyId=prod["KeyId"], Tags=[{"TagKey": "Purpose", "TagValue": "Test"}])
        u.kms.encrypt(KeyId=prod["KeyId"], Plaintext=PLAINTEXT)

    ex.allowed("after the key is tagged Purpose=Test, the same user may", retagged)


def resource_tag_project_alpha(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/tag-authorization.html
    u = fresh_user("alpha")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "IAMPolicyWithResourceTag",
      "Effect": "Allow",
      "Action": [
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:Decrypt"
      ],
      "Resource": "arn:aws:kms:ap-southeast-1:111122223333:key/*",
      "Condition": {
        "StringEquals": {
          "aws:ResourceTag/Project": "Alpha"
        }
      }
    }
  ]
}
"""))
    alpha = new_key(Tags=[{"TagKey": "Project", "TagValue": "Alpha"}])
    untagged = new_key()

    def data_key():
        blob = u.kms.generate_data_key_without_plaintext(KeyId=alpha["KeyId"], KeySpec="AES_256")["CiphertextBlob"]
        u.kms.decrypt(CiphertextBlob=blob, KeyId=alpha["KeyId"])

    ex.allowed("GenerateDataKeyWithoutPlaintext and Decrypt with a Project=Alpha key", data_key)
    ex.denied("GenerateDataKeyWithoutPlaintext with an untagged key",
              lambda: u.kms.generate_data_key_without_plaintext(KeyId=untagged["KeyId"], KeySpec="AES_256"),
              u, "kms:GenerateDataKeyWithoutPlaintext", key_arn(untagged),
              no_identity_allow("kms:GenerateDataKeyWithoutPlaintext"))

    def untag():
        ADMIN.kms.untag_resource(KeyId=alpha["KeyId"], TagKeys=["Project"])
        u.kms.generate_data_key_without_plaintext(KeyId=alpha["KeyId"], KeySpec="AES_256")

    ex.denied("after the tag is deleted", untag, u, "kms:GenerateDataKeyWithoutPlaintext", key_arn(alpha),
              no_identity_allow("kms:GenerateDataKeyWithoutPlaintext"))


def resource_tag_deny_reserved(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/tag-authorization.html
    u = fresh_user("crypto-not-reserved")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "IAMAllowCryptographicOperations",
      "Effect": "Allow",
      "Action": [
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:Decrypt",
        "kms:ReEncrypt*"
      ],
      "Resource": "arn:aws:kms:*:111122223333:key/*"
    },
    {
      "Sid": "IAMDenyOnTag",
      "Effect": "Deny",
      "Action": "kms:*",
      "Resource": "arn:aws:kms:*:111122223333:key/*",
      "Condition": {
        "StringEquals": {
          "aws:ResourceTag/Type": "Reserved"
        }
      }
    },
    {
      "Sid": "IAMDenyNoTag",
      "Effect": "Deny",
      "Action": "kms:*",
      "Resource": "arn:aws:kms:*:111122223333:key/*",
      "Condition": {
        "Null": {
          "aws:ResourceTag/Type": "true"
        }
      }
    }
  ]
}
"""))
    normal = new_key(Tags=[{"TagKey": "Type", "TagValue": "Normal"}])
    reserved = new_key(Tags=[{"TagKey": "Type", "TagValue": "Reserved"}])
    untagged = new_key()
    ex.allowed("Encrypt with a Type=Normal key", lambda: u.kms.encrypt(KeyId=normal["KeyId"], Plaintext=PLAINTEXT))
    ex.denied("Encrypt with a Type=Reserved key", lambda: u.kms.encrypt(KeyId=reserved["KeyId"], Plaintext=PLAINTEXT),
              u, "kms:Encrypt", key_arn(reserved), DENY_IN_IAM_POLICY)
    ex.denied("Encrypt with a key without a Type tag",
              lambda: u.kms.encrypt(KeyId=untagged["KeyId"], Plaintext=PLAINTEXT),
              u, "kms:Encrypt", key_arn(untagged), DENY_IN_IAM_POLICY)


def tag_keys(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html#tag-permissions-conditions
    u = fresh_user("project-tagger")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "IAMPolicyCreateKey",
      "Effect": "Allow",
      "Action": "kms:CreateKey",
      "Resource": "*"
    },
    {
      "Sid": "IAMPolicyViewAllTags",
      "Effect": "Allow",
      "Action": "kms:ListResourceTags",
      "Resource": "arn:aws:kms:*:111122223333:key/*"
    },
    {
      "Sid": "IAMPolicyManageTags",
      "Effect": "Allow",
      "Action": [
        "kms:TagResource",
        "kms:UntagResource"
      ],
      "Resource": "arn:aws:kms:*:111122223333:key/*",
      "Condition": {
          "ForAllValues:StringEquals": {"aws:TagKeys": "Project"}
      }
    }
  ]
}
"""))
    key = ex.allowed("CreateKey", lambda: u.kms.create_key()["KeyMetadata"]) or new_key()
    kid = key["KeyId"]
    ex.allowed("TagResource Project, ListResourceTags, UntagResource Project", lambda: (
        u.kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "Project", "TagValue": "Alpha"}]),
        u.kms.list_resource_tags(KeyId=kid), u.kms.untag_resource(KeyId=kid, TagKeys=["Project"])))
    ex.denied("TagResource Project and Owner", lambda: u.kms.tag_resource(
        KeyId=kid, Tags=[{"TagKey": "Project", "TagValue": "Alpha"}, {"TagKey": "Owner", "TagValue": "me"}]),
              u, "kms:TagResource", key_arn(key), no_identity_allow("kms:TagResource"))
    ex.denied("UntagResource Owner", lambda: u.kms.untag_resource(KeyId=kid, TagKeys=["Owner"]),
              u, "kms:UntagResource", key_arn(key), no_identity_allow("kms:UntagResource"))


def tagging_in_a_key_policy(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html#tag-permission-examples
    # In the other account: its role "Developer" and request_alias's role
    # "developer" would be one role in one account (IAM names ignore case).
    lead = user("LeadAdmin", OTHER_ADMIN)
    user("SupportLead", OTHER_ADMIN)
    role("Administrator", OTHER_ADMIN)
    developer = role_session("Developer", OTHER_ADMIN)
    key = new_key(OTHER_ADMIN)
    set_policy(key, doc("""
{
  "Version": "2012-10-17",
  "Id": "key-policy-example",
  "Statement": [
    { 
      "Sid": "Enable IAM policies",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "Allow all tagging permissions",
      "Effect": "Allow",
      "Principal": {"AWS": [
        "arn:aws:iam::111122223333:user/LeadAdmin",
        "arn:aws:iam::111122223333:user/SupportLead"
      ]},
      "Action": [
          "kms:TagResource",
          "kms:ListResourceTags",
          "kms:UntagResource"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Allow roles to view tags",
      "Effect": "Allow",
      "Principal": {"AWS": [
        "arn:aws:iam::111122223333:role/Administrator",
        "arn:aws:iam::111122223333:role/Developer"
      ]},
      "Action": "kms:ListResourceTags",
      "Resource": "*"
    }
  ]
}
""", account=OTHER_ACCOUNT), admin=OTHER_ADMIN)
    kid = key["KeyId"]
    ex.allowed("LeadAdmin tags and untags", lambda: (
        lead.kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "Cost Center", "TagValue": "87654"}]),
        lead.kms.untag_resource(KeyId=kid, TagKeys=["Cost Center"])))
    ex.allowed("a Developer session lists tags", lambda: developer.kms.list_resource_tags(KeyId=kid))
    ex.denied("a Developer session cannot tag", lambda: developer.kms.tag_resource(
        KeyId=kid, Tags=[{"TagKey": "Cost Center", "TagValue": "1"}]),
              developer, "kms:TagResource", key_arn(key), no_identity_allow("kms:TagResource"))


# ------------------------------------------------------------- cmks-in-iam-policies.html


def iam_policy_specific_key_arns(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
    one, two, three = new_key(), new_key(), new_key()
    u = fresh_user("two-keys")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:DescribeKey",
      "kms:GenerateDataKey",
      "kms:Decrypt"
    ],
    "Resource": [
      "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    ]
  }
}
""", keys={"1234abcd-12ab-34cd-56ef-1234567890ab": one["KeyId"], "0987dcba-09fe-87dc-65ba-ab0987654321": two["KeyId"]}))

    def data_key():
        blob = u.kms.generate_data_key(KeyId=one["KeyId"], KeySpec="AES_256")["CiphertextBlob"]
        u.kms.decrypt(CiphertextBlob=blob)
        u.kms.describe_key(KeyId=two["KeyId"])

    ex.allowed("GenerateDataKey, Decrypt, DescribeKey with the listed keys", data_key)
    ex.denied("DescribeKey of a key not listed", lambda: u.kms.describe_key(KeyId=three["KeyId"]),
              u, "kms:DescribeKey", key_arn(three), no_identity_allow("kms:DescribeKey"))
    ex.denied("DescribeKey by alias of a key not listed (the Resource is the key, not the alias)", lambda: (
        ADMIN.kms.create_alias(AliasName="alias/not-listed", TargetKeyId=three["KeyId"]),
        u.kms.describe_key(KeyId="alias/not-listed")),
              u, "kms:DescribeKey", key_arn(three), no_identity_allow("kms:DescribeKey"))


def iam_policy_deny_star(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
    # The Deny, beside KMS full access ("Action": "kms:*"), as
    # deleting-keys-adding-permission.html describes it.
    u = fresh_user("no-admin-ops")
    u.put_policy("full", iam_policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    u.put_policy("deny", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Deny",
    "Action": [
      "kms:CreateKey",
      "kms:PutKeyPolicy",
      "kms:CreateGrant",
      "kms:ScheduleKeyDeletion"
    ],
    "Resource": "*"
  }
}
"""))
    key = new_key()
    ex.allowed("Encrypt", lambda: u.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT))
    ex.denied("CreateKey", lambda: u.kms.create_key(), u, "kms:CreateKey", "*", DENY_IN_IAM_POLICY)
    ex.denied("ScheduleKeyDeletion", lambda: u.kms.schedule_key_deletion(KeyId=key["KeyId"]),
              u, "kms:ScheduleKeyDeletion", key_arn(key), DENY_IN_IAM_POLICY)
    ex.denied("CreateGrant", lambda: u.kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=u.arn,
                                                        Operations=["Encrypt"]),
              u, "kms:CreateGrant", key_arn(key), DENY_IN_IAM_POLICY)


def iam_policy_read_only_star(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html
    u = fresh_user("lister")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:CreateKey",
      "kms:ListKeys",
      "kms:ListAliases",
      "kms:ListResourceTags"
    ],
    "Resource": "*"
  }
}
"""))
    key = new_key()
    ex.allowed("CreateKey, ListKeys, ListAliases, ListResourceTags", lambda: (
        u.kms.create_key(), u.kms.list_keys(), u.kms.list_aliases(), u.kms.list_resource_tags(KeyId=key["KeyId"])))
    ex.denied("DescribeKey", lambda: u.kms.describe_key(KeyId=key["KeyId"]),
              u, "kms:DescribeKey", key_arn(key), no_identity_allow("kms:DescribeKey"))


# ------------------------------------------------------------- customer-managed-policies.html (IAM policy examples)


def iam_read_only_console(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/customer-managed-policies.html#iam-policy-example-read-only-console
    u = fresh_user("viewer")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadOnlyAccessForAllKMSkeysInAccount",
      "Effect": "Allow",
      "Action": [
        "kms:GetPublicKey",        
        "kms:GetKeyRotationStatus",
        "kms:GetKeyPolicy",
        "kms:DescribeKey",
        "kms:ListKeyPolicies",
        "kms:ListResourceTags"
      ],
      "Resource": "arn:aws:kms:*:111122223333:key/*"
    },
    {
      "Sid": "ReadOnlyAccessForOperationsWithNoKMSkey",
      "Effect": "Allow",
      "Action": [
        "kms:ListKeys",
        "kms:ListAliases",
        "iam:ListRoles",
        "iam:ListUsers"
      ],
      "Resource": "*"
    }
  ]
}
"""))
    key = new_key()
    kid = key["KeyId"]
    ex.allowed("ListKeys, ListAliases, DescribeKey, GetKeyPolicy, GetKeyRotationStatus, ListKeyPolicies, "
               "ListResourceTags, iam:ListUsers, iam:ListRoles", lambda: (
                   u.kms.list_keys(), u.kms.list_aliases(), u.kms.describe_key(KeyId=kid),
                   u.kms.get_key_policy(KeyId=kid, PolicyName="default"), u.kms.get_key_rotation_status(KeyId=kid),
                   u.kms.list_key_policies(KeyId=kid), u.kms.list_resource_tags(KeyId=kid),
                   u.client("iam").list_users(), u.client("iam").list_roles()))
    ex.denied("Encrypt", lambda: u.kms.encrypt(KeyId=kid, Plaintext=PLAINTEXT),
              u, "kms:Encrypt", key_arn(key), no_identity_allow("kms:Encrypt"))
    ex.denied("DisableKey", lambda: u.kms.disable_key(KeyId=kid),
              u, "kms:DisableKey", key_arn(key), no_identity_allow("kms:DisableKey"))


def iam_create_keys(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/customer-managed-policies.html#iam-policy-example-create-key
    plain = fresh_user("creator")
    plain.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "kms:CreateKey",
    "Resource": "*"
  }
}
"""))
    ex.allowed("CreateKey", lambda: plain.kms.create_key())
    ex.denied("CreateKey with Tags needs kms:TagResource too",
              lambda: plain.kms.create_key(Tags=[{"TagKey": "Project", "TagValue": "Alpha"}]),
              plain, "kms:TagResource", None, no_identity_allow("kms:TagResource"))
    tagger = fresh_user("creator-tagger")
    tagger.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "IAMPermissionsForParticularKMSkeys",
      "Effect": "Allow",
      "Action": "kms:TagResource",
      "Resource": "arn:aws:kms:*:111122223333:key/*"
    },
    {
      "Sid": "IAMPermissionsForParticularAliases",
      "Effect": "Allow",
      "Action": "kms:CreateAlias",
      "Resource": "arn:aws:kms:*:111122223333:alias/*"
    },
    {
      "Sid": "IAMPermissionsForAllKMSkeys",
      "Effect": "Allow",
      "Action": [
        "kms:CreateKey",
        "kms:ListKeys",
        "kms:ListAliases"
      ],
      "Resource": "*"
    }
  ]
}
"""))
    key = ex.allowed("CreateKey with Tags, ListKeys, ListAliases", lambda: (
        tagger.kms.list_keys(), tagger.kms.list_aliases(),
        tagger.kms.create_key(Tags=[{"TagKey": "Project", "TagValue": "Alpha"}])["KeyMetadata"])[2]) or new_key()
    # The alias half is allowed; the key half must come from the key policy
    # (or an IAM policy on the key), which this policy does not give.
    ex.denied("CreateAlias: the key's half is not in this policy",
              lambda: tagger.kms.create_alias(AliasName="alias/created-by-tagger", TargetKeyId=key["KeyId"]),
              tagger, "kms:CreateAlias", key_arn(key), no_identity_allow("kms:CreateAlias"))


def iam_encrypt_decrypt_in_account(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/customer-managed-policies.html#iam-policy-example-encrypt-decrypt-one-account
    u = fresh_user("account-crypto")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:Encrypt",
      "kms:Decrypt"
    ],
    "Resource": "arn:aws:kms:*:111122223333:key/*"
  }
}
"""))
    key = new_key()

    def round_trip():
        blob = u.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT)["CiphertextBlob"]
        equal(u.kms.decrypt(CiphertextBlob=blob)["Plaintext"], PLAINTEXT, "plaintext")

    ex.allowed("Encrypt and Decrypt", round_trip)
    ex.denied("GenerateDataKey", lambda: u.kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256"),
              u, "kms:GenerateDataKey", key_arn(key), no_identity_allow("kms:GenerateDataKey"))

    other_key = new_key(admin=OTHER_ADMIN)
    set_policy(other_key, key_policy(doc(ENABLE_IAM_POLICIES.replace("111122223333", OTHER_ACCOUNT)),
                                     doc('{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},'
                                         ' "Action": "kms:Encrypt", "Resource": "*"}')), admin=OTHER_ADMIN)
    ex.denied("Encrypt with a key of another account that allows this account",
              lambda: u.kms.encrypt(KeyId=key_arn(other_key), Plaintext=PLAINTEXT),
              u, "kms:Encrypt", key_arn(other_key), no_identity_allow("kms:Encrypt"))


def iam_encrypt_decrypt_in_account_and_region(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/customer-managed-policies.html#iam-policy-example-encrypt-decrypt-one-account-one-region
    u = fresh_user("region-crypto")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:Encrypt",
      "kms:Decrypt"
    ],
    "Resource": [
      "arn:aws:kms:us-west-2:111122223333:key/*"
    ]
  }
}
"""))
    key = new_key()
    ex.allowed("Encrypt", lambda: u.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT))
    ex.denied("ReEncrypt", lambda: u.kms.re_encrypt(
        CiphertextBlob=ADMIN.kms.encrypt(KeyId=key["KeyId"], Plaintext=PLAINTEXT)["CiphertextBlob"],
        DestinationKeyId=key["KeyId"]),
              u, "kms:ReEncryptFrom", key_arn(key), no_identity_allow("kms:ReEncryptFrom"),
              alternative=("kms:ReEncryptTo", key_arn(key), no_identity_allow("kms:ReEncryptTo")))


def iam_encrypt_decrypt_specific_keys(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/customer-managed-policies.html#iam-policy-example-encrypt-decrypt-specific-cmks
    one, two, three = new_key(), new_key(), new_key()
    u = fresh_user("key-crypto")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": [
      "kms:Encrypt",
      "kms:Decrypt"
    ],
    "Resource": [
      "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      "arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
    ]
  }
}
""", keys={"1234abcd-12ab-34cd-56ef-1234567890ab": one["KeyId"], "0987dcba-09fe-87dc-65ba-ab0987654321": two["KeyId"]}))
    ex.allowed("Encrypt with either listed key", lambda: (
        u.kms.encrypt(KeyId=one["KeyId"], Plaintext=PLAINTEXT), u.kms.encrypt(KeyId=two["KeyId"], Plaintext=PLAINTEXT)))
    ex.denied("Encrypt with another key", lambda: u.kms.encrypt(KeyId=three["KeyId"], Plaintext=PLAINTEXT),
              u, "kms:Encrypt", key_arn(three), no_identity_allow("kms:Encrypt"))
    blob = ADMIN.kms.encrypt(KeyId=three["KeyId"], Plaintext=PLAINTEXT)["CiphertextBlob"]
    # Without a KeyId, AWS does not say which key the ciphertext names.
    ex.check("Decrypt another key's ciphertext without KeyId", lambda: _decrypt_refused_without_key_id(u, blob))


def _decrypt_refused_without_key_id(u, blob):
    try:
        u.kms.decrypt(CiphertextBlob=blob)
    except ClientError as e:
        equal(e.response["Error"]["Code"], "AccessDeniedException", "code")
        equal(e.response["Error"]["Message"],
              f"User: {u.arn} is not authorized to perform: kms:Decrypt on the resource associated with this "
              "ciphertext because the resource does not exist in this Region, no resource-based policies allow "
              "access, or a resource-based policy explicitly denies access", "message")
        return
    raise CheckFailed("the Decrypt succeeded")


def iam_deny_disable_and_delete(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/customer-managed-policies.html#iam-policy-example-deny-disable-delete
    u = fresh_user("no-disable")
    u.put_policy("full", iam_policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}))
    u.put_policy("deny", doc("""
{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Deny",
    "Action": [
      "kms:DisableKey",
      "kms:ScheduleKeyDeletion"
    ],
    "Resource": "*"
  }
}
"""))
    key = new_key()
    ex.allowed("EnableKey and DescribeKey", lambda: (u.kms.enable_key(KeyId=key["KeyId"]),
                                                     u.kms.describe_key(KeyId=key["KeyId"])))
    ex.denied("DisableKey", lambda: u.kms.disable_key(KeyId=key["KeyId"]),
              u, "kms:DisableKey", key_arn(key), DENY_IN_IAM_POLICY)
    ex.denied("ScheduleKeyDeletion", lambda: u.kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7),
              u, "kms:ScheduleKeyDeletion", key_arn(key), DENY_IN_IAM_POLICY)


# ------------------------------------------------------------- alias-access.html


def alias_permissions_on_alias_and_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html#alias-access-create
    admin_user = user("KMSAdminUser")
    key = new_key()
    set_policy(key, key_policy(doc("""
  {
    "Sid": "Key policy for 1234abcd-12ab-34cd-56ef-1234567890ab",
    "Effect": "Allow",
    "Principal": {
      "AWS": "arn:aws:iam::111122223333:user/KMSAdminUser"
    },
    "Action": [
      "kms:CreateAlias",
      "kms:UpdateAlias",
      "kms:DeleteAlias",
      "kms:DescribeKey"
    ],
    "Resource": "*"
  }
""")))
    other = new_key()
    admin_user.put_policy("alias", iam_policy(doc("""
  {
    "Sid": "IAMPolicyForAnAlias",
    "Effect": "Allow",
    "Action": [
      "kms:CreateAlias",
      "kms:UpdateAlias",
      "kms:DeleteAlias"
    ],
    "Resource": "arn:aws:kms:us-west-2:111122223333:alias/test-key"
  }
""")))
    try:
        ex.denied("CreateAlias alias/other-key: not the alias of the IAM policy",
                  lambda: admin_user.kms.create_alias(AliasName="alias/other-key-2", TargetKeyId=key["KeyId"]),
                  admin_user, "kms:CreateAlias", alias_arn("alias/other-key-2"), no_identity_allow("kms:CreateAlias"))
        ex.denied("CreateAlias alias/test-key for a key whose policy does not allow it",
                  lambda: admin_user.kms.create_alias(AliasName="alias/test-key", TargetKeyId=other["KeyId"]),
                  admin_user, "kms:CreateAlias", key_arn(other), no_identity_allow("kms:CreateAlias"))
        ex.allowed("CreateAlias alias/test-key, then DeleteAlias", lambda: (
            admin_user.kms.create_alias(AliasName="alias/test-key", TargetKeyId=key["KeyId"]),
            admin_user.kms.delete_alias(AliasName="alias/test-key")))
    finally:
        admin_user.delete_policy("alias")


def alias_permissions_except_restricted(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/alias-access.html#alias-access-limiting
    u = fresh_user("alias-manager")
    u.put_policy("p", iam_policy(*doc("""
[{
  "Sid": "IAMPolicyKeyPermissions",
  "Effect": "Allow",
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/*",
  "Action": [
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias"
  ],
  "Condition": {
    "StringEquals": {
      "kms:KeyOrigin": "AWS_KMS"
    }
  }  
},
{
  "Sid": "IAMPolicyForAnAliasAllow",
  "Effect": "Allow",
  "Action": [
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias"
  ],
  "Resource": "arn:aws:kms:us-west-2:111122223333:alias/*"
},
{
  "Sid": "IAMPolicyForAnAliasDeny",
  "Effect": "Deny",
  "Action": [
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias"
  ],
  "Resource": "arn:aws:kms:us-west-2:111122223333:alias/Restricted*"
}]
""")))
    one, two = new_key(), new_key()
    ex.allowed("CreateAlias, UpdateAlias, DeleteAlias of alias/ProjectKey", lambda: (
        u.kms.create_alias(AliasName="alias/ProjectKey", TargetKeyId=one["KeyId"]),
        u.kms.update_alias(AliasName="alias/ProjectKey", TargetKeyId=two["KeyId"]),
        u.kms.delete_alias(AliasName="alias/ProjectKey")))
    ex.denied("CreateAlias alias/RestrictedKey",
              lambda: u.kms.create_alias(AliasName="alias/RestrictedKey", TargetKeyId=one["KeyId"]),
              u, "kms:CreateAlias", alias_arn("alias/RestrictedKey"), DENY_IN_IAM_POLICY)


# ------------------------------------------------------------- key-policy-modifying.html (other accounts)


def external_account_uses_a_key(ex):
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying.html#key-policy-modifying-external-accounts
    # The key is in 444455556666 (the guide's key account); its policy enables
    # IAM policies there and names 111122223333 (this server's first account)
    # in the key users statements of the default console key policy
    # (key-policy-default.html). The users are in 111122223333, with the
    # guide's IAM policy.
    key = new_key(admin=OTHER_ADMIN)
    set_policy(key, key_policy(
        doc(ENABLE_IAM_POLICIES.replace("111122223333", "444455556666")),
        doc("""
{
  "Sid": "Allow use of the key",
  "Effect": "Allow",
  "Principal": {"AWS": [
    "arn:aws:iam::111122223333:root"
  ]},
  "Action": [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey"
  ],
  "Resource": "*"
}
"""),
        doc("""
{
  "Sid": "Allow attachment of persistent resources",
  "Effect": "Allow",
  "Principal": {"AWS": [
    "arn:aws:iam::111122223333:root"
  ]},
  "Action": [
    "kms:CreateGrant",
    "kms:ListGrants",
    "kms:RevokeGrant"
  ],
  "Resource": "*",
  "Condition": {"Bool": {"kms:GrantIsForAWSResource": true}}
}
"""),
    ), admin=OTHER_ADMIN)
    u = fresh_user("external")
    u.put_policy("p", doc("""
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowUseOfCMKInAccount444455556666",
      "Effect": "Allow",
      "Action": [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey"
      ],
      "Resource": "arn:aws:kms:us-west-2:444455556666:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d"
    },
    {
      "Sid": "AllowUseofCMKToCreateEncryptedResourcesInAccount444455556666",
      "Effect": "Allow",
      "Action": "kms:CreateGrant",
      "Resource": "arn:aws:kms:us-west-2:444455556666:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d",
      "Condition": {
        "Bool": {
          "kms:GrantIsForAWSResource": true
        }
      }
    }
  ]
}
""", keys={"1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d": key["KeyId"]}))
    arn = key_arn(key)

    def use():
        blob = u.kms.encrypt(KeyId=arn, Plaintext=PLAINTEXT)["CiphertextBlob"]
        equal(u.kms.decrypt(CiphertextBlob=blob, KeyId=arn)["Plaintext"], PLAINTEXT, "plaintext")
        u.kms.generate_data_key(KeyId=arn, KeySpec="AES_256")
        u.kms.describe_key(KeyId=arn)

    ex.allowed("Encrypt, Decrypt, GenerateDataKey, DescribeKey by key ARN from the other account", use)
    nobody = fresh_user("external-none")
    ex.denied("a user of the account without the IAM policy",
              lambda: nobody.kms.encrypt(KeyId=arn, Plaintext=PLAINTEXT),
              nobody, "kms:Encrypt", arn, no_identity_allow("kms:Encrypt"))
    ex.denied("CreateGrant called directly (kms:GrantIsForAWSResource)",
              lambda: u.kms.create_grant(KeyId=arn, GranteePrincipal=u.arn, Operations=["Encrypt"]),
              u, "kms:CreateGrant", arn, no_resource_allow("kms:CreateGrant"))


EXAMPLES = [
    default_key_policy_enables_iam_policies,
    key_administrators_statement,
    key_users_statements,
    key_users_hmac_keys,
    key_users_signing_keys,
    bypass_lockout_check_denied_in_iam,
    bypass_lockout_check_null,
    caller_account_with_via_service,
    data_key_pair_spec,
    encryption_algorithm_in_key_policy,
    encryption_algorithm_in_iam_policy,
    encryption_context_required_pair,
    encryption_context_pair_and_only_key,
    encryption_context_deny_pair,
    encryption_context_two_pairs_required,
    encryption_context_one_pair_or_another,
    encryption_context_two_pairs_and_only_keys,
    encryption_context_deny_two_values,
    encryption_context_key_is_case_insensitive,
    encryption_context_keys_case_sensitive,
    encryption_context_key_and_value_case_sensitive,
    encryption_context_policy_variable,
    encryption_context_keys_any_value,
    encryption_context_keys_null,
    grant_constraint_type,
    grant_is_for_aws_resource,
    grant_operations,
    grantee_principal,
    retiring_principal,
    key_spec_on_create_key,
    key_spec_of_the_key,
    key_usage_on_create_key,
    key_usage_of_the_key,
    mac_algorithm,
    message_type,
    multi_region_on_create_key,
    re_encrypt_on_same_key,
    resource_aliases_any_value,
    request_alias,
    request_alias_pattern,
    resource_aliases_all_and_any_values,
    resource_aliases_rotation,
    signing_algorithm,
    schedule_key_deletion_pending_window,
    source_ip,
    resource_tag_purpose_test,
    resource_tag_project_alpha,
    resource_tag_deny_reserved,
    tag_keys,
    tagging_in_a_key_policy,
    iam_policy_specific_key_arns,
    iam_policy_deny_star,
    iam_policy_read_only_star,
    iam_read_only_console,
    iam_create_keys,
    iam_encrypt_decrypt_in_account,
    iam_encrypt_decrypt_in_account_and_region,
    iam_encrypt_decrypt_specific_keys,
    iam_deny_disable_and_delete,
    alias_permissions_on_alias_and_key,
    alias_permissions_except_restricted,
    external_account_uses_a_key,
]


def main():
    for var in ["AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "CUSTOS_TEST_ACCOUNT",
                "CUSTOS_OTHER_ACCOUNT"]:
        if not os.environ.get(var):
            # Without the endpoints, boto3 would go to AWS itself.
            print(f"FAILED: {var} is not set", file=sys.stderr)
            return 2
    only = set(sys.argv[1:])
    failures = []
    for example in EXAMPLES:
        if only and example.__name__ not in only:
            continue
        try:
            example(Example(example.__name__))
        except CheckFailed as e:
            failures.append(f"{example.__name__}: {e}")
        except ClientError as e:
            failures.append(f"{example.__name__}: setting up: unexpected {describe(e)}\n{traceback.format_exc()}")
    for name, label, outcome, detail in RESULTS:
        print(f"{outcome:9} {name}: {label}")
        if detail:
            print(f"          {detail}")
    fixed = [r for r in RESULTS if r[2] == "FIXED"]
    failures += [f"{name}: {label}: {detail}" for name, label, outcome, detail in RESULTS if outcome == "FAILED"]
    gaps = [r for r in RESULTS if r[2] == "known gap"]
    print(f"\n{len(EXAMPLES)} examples, {len(RESULTS)} checks: "
          f"{sum(r[2] == 'ok' for r in RESULTS)} ok, {len(gaps)} known gaps, {len(fixed)} fixed, "
          f"{len(failures)} failed")
    for f in failures:
        print(f"FAILED {f}", file=sys.stderr)
    if failures:
        print("(each failed check is listed above with what Custos answered)", file=sys.stderr)
    for name, label, _, _ in fixed:
        print(f"FIXED {name}: {label}: it passes now; remove it from KNOWN_GAPS", file=sys.stderr)
    return 1 if failures or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
