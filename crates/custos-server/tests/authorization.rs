//! Authorization of KMS requests through the official SDKs against the
//! real server over HTTPS, as AWS KMS documents it: key policies and IAM
//! identity policies together (explicit denies, key policies naming the
//! caller or its account, key policies without the account statement),
//! actions on no key, role sessions and their session policies, use of a
//! key across accounts, the condition keys each request brings, the
//! refusal of `Decrypt` without a `KeyId`, the lockout safety check,
//! tagging at creation, aliases, and policy changes taking effect at once.
//!
//! Every refusal is checked for its code, HTTP status and AWS's exact
//! message.

mod common;

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{EncryptionAlgorithmSpec, KeySpec, KeyState, KeyUsageType, Tag};
use aws_smithy_runtime_api::http::Response;
use common::iam::{
    Keys, allow, expect_error, iam, iam_as, kms_as, role_arn, sts_as, trust, user_arn,
    user_with_key,
};
use common::{ACCOUNT, REGION, arn, encrypt, new_key, start};
use serde_json::{Value, json};

const ACCESS_DENIED: &str = "AccessDeniedException";
const DENY_IN_KEY_POLICY: &str = "with an explicit deny in a resource-based policy";
const DENY_IN_IDENTITY_POLICY: &str = "with an explicit deny in an identity-based policy";
const DENY_IN_SESSION_POLICY: &str = "with an explicit deny in a session policy";
const LOCKOUT: &str =
    "The new key policy will not allow you to update the key policy in the future.";

/// AWS's refusal: `caller` may not perform `action` on `resource`, and why.
fn denied(caller: &str, action: &str, resource: &str, ending: &str) -> String {
    format!(
        "User: {caller} is not authorized to perform: {action} on resource: {resource} {ending}"
    )
}

fn no_identity_allows(action: &str) -> String {
    format!("because no identity-based policy allows the {action} action")
}

fn no_resource_allows(action: &str) -> String {
    format!("because no resource-based policy allows the {action} action")
}

fn no_session_allows(action: &str) -> String {
    format!("because no session policy allows the {action} action")
}

/// AWS's refusal of a `Decrypt` that names no key.
fn denied_for_ciphertext(caller: &str) -> String {
    format!(
        "User: {caller} is not authorized to perform: kms:Decrypt on the resource associated \
         with this ciphertext because the resource does not exist in this Region, no \
         resource-based policies allow access, or a resource-based policy explicitly denies \
         access"
    )
}

/// Asserts that a KMS call was refused as `AccessDeniedException` (HTTP
/// 400) with exactly `message`.
#[track_caller]
fn assert_denied<T, E>(result: Result<T, SdkError<E, Response>>, message: &str)
where
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    assert_eq!(expect_error(result, ACCESS_DENIED, 400), message);
}

/// The ARN of the administrator `custos-admin` of `account`.
fn admin_arn_of(account: &str) -> String {
    format!("arn:aws:iam::{account}:user/custos-admin")
}

/// The ARN of a key of account `account` in the test region.
fn key_arn_in(account: &str, id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{account}:key/{id}")
}

/// The ARN of alias `name` (`alias/...`) of the test account.
fn alias_arn(name: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:{name}")
}

/// A key policy made of `statements`.
fn key_policy(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// The statement of the default key policy: the account's IAM policies
/// decide.
fn account_statement(account: &str) -> Value {
    json!({
        "Sid": "root",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
        "Action": "kms:*",
        "Resource": "*",
    })
}

/// A key policy statement with `effect` for `principal` on `actions`.
fn statement(effect: &str, principal: &str, actions: &[&str]) -> Value {
    json!({
        "Effect": effect,
        "Principal": {"AWS": principal},
        "Action": actions,
        "Resource": "*",
    })
}

/// [`statement`] with a `Condition` block.
fn statement_if(effect: &str, principal: &str, actions: &[&str], condition: Value) -> Value {
    let mut s = statement(effect, principal, actions);
    s["Condition"] = condition;
    s
}

/// An identity policy of `statements`.
fn identity_policy(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A new symmetric key with key policy `policy`; its id.
async fn key_with_policy(kms: &aws_sdk_kms::Client, policy: &str) -> String {
    kms.create_key()
        .policy(policy)
        .send()
        .await
        .expect("CreateKey with a policy")
        .key_metadata()
        .expect("KeyMetadata")
        .key_id()
        .to_owned()
}

async fn put_key_policy(kms: &aws_sdk_kms::Client, key: &str, policy: &str) {
    kms.put_key_policy()
        .key_id(key)
        .policy(policy)
        .send()
        .await
        .expect("PutKeyPolicy");
}

async fn put_user_policy(iam: &aws_sdk_iam::Client, user: &str, name: &str, document: &str) {
    iam.put_user_policy()
        .user_name(user)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .expect("PutUserPolicy");
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .tag_key(key)
        .tag_value(value)
        .build()
        .expect("tag")
}

fn blob(text: &[u8]) -> Blob {
    Blob::new(text.to_vec())
}

/// `Encrypt` of a fixed text under `key` with the encryption context
/// `context`; the result.
async fn encrypt_with(
    kms: &aws_sdk_kms::Client,
    key: &str,
    context: &[(&str, &str)],
) -> Result<
    aws_sdk_kms::operation::encrypt::EncryptOutput,
    SdkError<aws_sdk_kms::operation::encrypt::EncryptError, Response>,
> {
    let mut req = kms.encrypt().key_id(key).plaintext(blob(b"payload"));
    for (k, v) in context {
        req = req.encryption_context(*k, *v);
    }
    req.send().await
}

// ------------------------------------------------ key and identity policies

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_key_policy_delegates_to_identity_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");

    // The default key policy names the account: alice needs an IAM policy.
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &denied(
            &alice_arn,
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );

    put_user_policy(
        &admin_iam,
        "alice",
        "use",
        &allow(&["kms:Encrypt", "kms:Decrypt"]),
    )
    .await;
    let sealed = encrypt(&alice, &key, b"secret").await;
    let opened = alice
        .decrypt()
        .ciphertext_blob(sealed.clone())
        .send()
        .await
        .expect("Decrypt once allowed");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"secret");
    // Only what the policy names.
    assert_denied(
        alice
            .generate_data_key()
            .key_id(&key)
            .number_of_bytes(32)
            .send()
            .await,
        &denied(
            &alice_arn,
            "kms:GenerateDataKey",
            &key_arn,
            &no_identity_allows("kms:GenerateDataKey"),
        ),
    );

    // An explicit Deny in an identity policy wins over its Allow.
    let deny_decrypt = identity_policy(&[json!({
        "Effect": "Deny", "Action": "kms:Decrypt", "Resource": key_arn,
    })]);
    put_user_policy(&admin_iam, "alice", "no-decrypt", &deny_decrypt).await;
    assert_denied(
        alice
            .decrypt()
            .key_id(&key)
            .ciphertext_blob(sealed.clone())
            .send()
            .await,
        &denied(&alice_arn, "kms:Decrypt", &key_arn, DENY_IN_IDENTITY_POLICY),
    );
    admin_iam
        .delete_user_policy()
        .user_name("alice")
        .policy_name("no-decrypt")
        .send()
        .await
        .expect("DeleteUserPolicy");
    alice
        .decrypt()
        .key_id(&key)
        .ciphertext_blob(sealed.clone())
        .send()
        .await
        .expect("Decrypt once the Deny is gone");

    // An explicit Deny in the key policy wins over everything, even for
    // the administrator's Allow * on *.
    put_key_policy(
        &admin,
        &key,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement("Deny", &alice_arn, &["kms:Encrypt"]),
            statement("Deny", &admin_arn_of(ACCOUNT), &["kms:GenerateDataKey"]),
        ]),
    )
    .await;
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &denied(&alice_arn, "kms:Encrypt", &key_arn, DENY_IN_KEY_POLICY),
    );
    assert_denied(
        admin
            .generate_data_key()
            .key_id(&key)
            .number_of_bytes(32)
            .send()
            .await,
        &denied(
            &admin_arn_of(ACCOUNT),
            "kms:GenerateDataKey",
            &key_arn,
            DENY_IN_KEY_POLICY,
        ),
    );
    encrypt_with(&admin, &key, &[])
        .await
        .expect("the administrator's Encrypt is not denied");
    alice
        .decrypt()
        .ciphertext_blob(sealed)
        .send()
        .await
        .expect("alice's Decrypt is not denied");

    // Removing the identity policy takes effect on the next request.
    admin_iam
        .delete_user_policy()
        .user_name("alice")
        .policy_name("use")
        .send()
        .await
        .expect("DeleteUserPolicy");
    put_key_policy(&admin, &key, &key_policy(&[account_statement(ACCOUNT)])).await;
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &denied(
            &alice_arn,
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_policy_naming_the_caller_allows_without_identity_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let bob = kms_as(&server, &user_with_key(&admin_iam, "bob").await);
    let carol = kms_as(&server, &user_with_key(&admin_iam, "carol").await);
    let key = key_with_policy(
        &admin,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement("Allow", &user_arn("bob"), &["kms:Encrypt", "kms:Decrypt"]),
            statement("Allow", "*", &["kms:DescribeKey"]),
        ]),
    )
    .await;
    let key_arn = arn(&key);

    // bob is named: no IAM policy needed.
    let sealed = encrypt(&bob, &key, b"for bob").await;
    let opened = bob
        .decrypt()
        .ciphertext_blob(sealed)
        .send()
        .await
        .expect("Decrypt by the named user");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"for bob");
    // For what bob is not named for, the account statement delegates to
    // IAM, where bob has nothing...
    assert_denied(
        bob.generate_data_key()
            .key_id(&key)
            .number_of_bytes(16)
            .send()
            .await,
        &denied(
            &user_arn("bob"),
            "kms:GenerateDataKey",
            &key_arn,
            &no_identity_allows("kms:GenerateDataKey"),
        ),
    );
    // ... until an identity policy allows.
    put_user_policy(&admin_iam, "bob", "gdk", &allow(&["kms:GenerateDataKey"])).await;
    bob.generate_data_key()
        .key_id(&key)
        .number_of_bytes(16)
        .send()
        .await
        .expect("GenerateDataKey once IAM allows");

    // "*" names everyone in the account: carol may describe the key, and
    // nothing more.
    let described = carol
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("DescribeKey allowed by Principal *");
    assert_eq!(
        described.key_metadata().map(|m| m.arn()),
        Some(Some(key_arn.as_str()))
    );
    assert_denied(
        encrypt_with(&carol, &key, &[]).await,
        &denied(
            &user_arn("carol"),
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_account_statement_identity_policies_allow_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let dave = kms_as(&server, &user_with_key(&admin_iam, "dave").await);
    put_user_policy(&admin_iam, "dave", "all-kms", &allow(&["kms:*"])).await;
    // Naming the administrator directly passes the lockout check.
    let key = key_with_policy(
        &admin,
        &key_policy(&[statement("Allow", &admin_arn_of(ACCOUNT), &["kms:*"])]),
    )
    .await;
    let key_arn = arn(&key);

    assert_denied(
        encrypt_with(&dave, &key, &[]).await,
        &denied(
            &user_arn("dave"),
            "kms:Encrypt",
            &key_arn,
            &no_resource_allows("kms:Encrypt"),
        ),
    );
    assert_denied(
        dave.describe_key().key_id(&key).send().await,
        &denied(
            &user_arn("dave"),
            "kms:DescribeKey",
            &key_arn,
            &no_resource_allows("kms:DescribeKey"),
        ),
    );
    // dave's Allow kms:* still works on keys whose policy delegates to IAM.
    let other = new_key(&admin).await;
    encrypt_with(&dave, &other, &[])
        .await
        .expect("Encrypt under a key with the default policy");

    // The administrator, named, restores the account statement; dave's
    // next request sees it.
    encrypt_with(&admin, &key, &[])
        .await
        .expect("Encrypt by the named administrator");
    put_key_policy(&admin, &key, &key_policy(&[account_statement(ACCOUNT)])).await;
    encrypt_with(&dave, &key, &[])
        .await
        .expect("Encrypt once the key policy delegates to IAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_on_no_key_are_decided_by_identity_policies_on_resource_star() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let frank = kms_as(&server, &user_with_key(&admin_iam, "frank").await);
    let frank_arn = user_arn("frank");

    assert_denied(
        frank.create_key().send().await,
        &denied(
            &frank_arn,
            "kms:CreateKey",
            "*",
            &no_identity_allows("kms:CreateKey"),
        ),
    );
    assert_denied(
        frank.list_keys().send().await,
        &denied(
            &frank_arn,
            "kms:ListKeys",
            "*",
            &no_identity_allows("kms:ListKeys"),
        ),
    );
    assert_denied(
        frank.list_aliases().send().await,
        &denied(
            &frank_arn,
            "kms:ListAliases",
            "*",
            &no_identity_allows("kms:ListAliases"),
        ),
    );
    assert_denied(
        frank.generate_random().number_of_bytes(16).send().await,
        &denied(
            &frank_arn,
            "kms:GenerateRandom",
            "*",
            &no_identity_allows("kms:GenerateRandom"),
        ),
    );

    put_user_policy(
        &admin_iam,
        "frank",
        "some",
        &allow(&["kms:ListKeys", "kms:GenerateRandom"]),
    )
    .await;
    frank
        .list_keys()
        .send()
        .await
        .expect("ListKeys once allowed");
    let random = frank
        .generate_random()
        .number_of_bytes(16)
        .send()
        .await
        .expect("GenerateRandom once allowed");
    assert_eq!(random.plaintext().map(|b| b.as_ref().len()), Some(16));
    assert_denied(
        frank.create_key().send().await,
        &denied(
            &frank_arn,
            "kms:CreateKey",
            "*",
            &no_identity_allows("kms:CreateKey"),
        ),
    );

    let deny = identity_policy(&[json!({
        "Effect": "Deny", "Action": "kms:GenerateRandom", "Resource": "*",
    })]);
    put_user_policy(&admin_iam, "frank", "no-random", &deny).await;
    assert_denied(
        frank.generate_random().number_of_bytes(16).send().await,
        &denied(
            &frank_arn,
            "kms:GenerateRandom",
            "*",
            DENY_IN_IDENTITY_POLICY,
        ),
    );
    frank
        .list_keys()
        .send()
        .await
        .expect("ListKeys is not denied");
}

// ------------------------------------------------------------ role sessions

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_sessions_are_narrowed_by_session_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let sts = sts_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);

    admin_iam
        .create_role()
        .role_name("kms-worker")
        .assume_role_policy_document(trust(&admin_arn_of(ACCOUNT)))
        .send()
        .await
        .expect("CreateRole");
    put_role_policy(
        &admin_iam,
        "kms-worker",
        &allow(&["kms:Encrypt", "kms:DescribeKey"]),
    )
    .await;

    // The role's own policy: both actions.
    let full = assume(&sts, "kms-worker", "full", None).await;
    let full = kms_as(&server, &full);
    encrypt_with(&full, &key, &[])
        .await
        .expect("Encrypt by a role session");

    // A session policy allowing only DescribeKey narrows the session.
    let narrowed = assume(
        &sts,
        "kms-worker",
        "narrowed",
        Some(&allow(&["kms:DescribeKey"])),
    )
    .await;
    let narrowed = kms_as(&server, &narrowed);
    let session_arn = format!("arn:aws:sts::{ACCOUNT}:assumed-role/kms-worker/narrowed");
    assert_denied(
        encrypt_with(&narrowed, &key, &[]).await,
        &denied(
            &session_arn,
            "kms:Encrypt",
            &key_arn,
            &no_session_allows("kms:Encrypt"),
        ),
    );
    narrowed
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("DescribeKey allowed by role and session policy");

    // A session policy never widens: kms:Decrypt is in it, not in the role's.
    let wide = assume(
        &sts,
        "kms-worker",
        "wide",
        Some(&allow(&["kms:Encrypt", "kms:Decrypt"])),
    )
    .await;
    let wide = kms_as(&server, &wide);
    let sealed = encrypt(&wide, &key, b"x").await;
    assert_denied(
        wide.decrypt()
            .key_id(&key)
            .ciphertext_blob(sealed)
            .send()
            .await,
        &denied(
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/kms-worker/wide"),
            "kms:Decrypt",
            &key_arn,
            &no_identity_allows("kms:Decrypt"),
        ),
    );

    // An explicit Deny in a session policy refuses.
    let deny_describe = identity_policy(&[
        json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
        json!({"Effect": "Deny", "Action": "kms:DescribeKey", "Resource": "*"}),
    ]);
    let denying = assume(&sts, "kms-worker", "denying", Some(&deny_describe)).await;
    let denying = kms_as(&server, &denying);
    assert_denied(
        denying.describe_key().key_id(&key).send().await,
        &denied(
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/kms-worker/denying"),
            "kms:DescribeKey",
            &key_arn,
            DENY_IN_SESSION_POLICY,
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_policy_naming_a_role_allows_its_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let sts = sts_as(&server, &Keys::admin());
    // The role has no identity policy at all.
    admin_iam
        .create_role()
        .role_name("direct")
        .assume_role_policy_document(trust(&admin_arn_of(ACCOUNT)))
        .send()
        .await
        .expect("CreateRole");
    let key = key_with_policy(
        &admin,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement("Allow", &role_arn("direct"), &["kms:Encrypt"]),
        ]),
    )
    .await;
    let session = kms_as(&server, &assume(&sts, "direct", "s1", None).await);
    encrypt_with(&session, &key, &[])
        .await
        .expect("Encrypt by a session of the named role");
    assert_denied(
        session.describe_key().key_id(&key).send().await,
        &denied(
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/direct/s1"),
            "kms:DescribeKey",
            &arn(&key),
            &no_identity_allows("kms:DescribeKey"),
        ),
    );

    // A session policy narrows even what the key policy grants directly.
    let narrowed = kms_as(
        &server,
        &assume(&sts, "direct", "s2", Some(&allow(&["kms:DescribeKey"]))).await,
    );
    assert_denied(
        encrypt_with(&narrowed, &key, &[]).await,
        &denied(
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/direct/s2"),
            "kms:Encrypt",
            &arn(&key),
            &no_session_allows("kms:Encrypt"),
        ),
    );
}

async fn put_role_policy(iam: &aws_sdk_iam::Client, role: &str, document: &str) {
    iam.put_role_policy()
        .role_name(role)
        .policy_name("permissions")
        .policy_document(document)
        .send()
        .await
        .expect("PutRolePolicy");
}

/// `AssumeRole` of `role` as `session`, with the session policy `policy`
/// if any; the session's keys.
async fn assume(
    sts: &aws_sdk_sts::Client,
    role: &str,
    session: &str,
    policy: Option<&str>,
) -> Keys {
    let out = sts
        .assume_role()
        .role_arn(role_arn(role))
        .role_session_name(session)
        .set_policy(policy.map(str::to_owned))
        .send()
        .await
        .expect("AssumeRole");
    Keys::of_session(out.credentials().expect("Credentials"))
}

// ------------------------------------------------------------ cross-account

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_needs_the_key_policy_and_its_own_identity_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = kms_as(&server, &Keys::admin());
    let other = server.create_account(None).await.expect("a second account");
    let b = other.account_id.clone();
    let b_admin_keys = Keys::of_account(&other.access_key_id, other.secret.expose_secret());
    let b_admin = kms_as(&server, &b_admin_keys);
    let b_iam = iam_as(&server, &b_admin_keys);
    let b_admin_arn = admin_arn_of(&b);

    // A's key, its policy opening everything to account B.
    let shared = key_with_policy(
        &admin,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement("Allow", &format!("arn:aws:iam::{b}:root"), &["kms:*"]),
        ]),
    )
    .await;
    let shared_arn = arn(&shared);

    // B's administrator (Allow * on *) uses it by its ARN.
    let sealed = encrypt(&b_admin, &shared_arn, b"across").await;
    let opened = b_admin
        .decrypt()
        .key_id(&shared_arn)
        .ciphertext_blob(sealed.clone())
        .send()
        .await
        .expect("Decrypt across accounts");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"across");
    assert_eq!(opened.key_id(), Some(shared_arn.as_str()));
    b_admin
        .decrypt()
        .ciphertext_blob(sealed)
        .send()
        .await
        .expect("Decrypt across accounts without KeyId");
    b_admin
        .generate_data_key()
        .key_id(&shared_arn)
        .number_of_bytes(32)
        .send()
        .await
        .expect("GenerateDataKey across accounts");
    let described = b_admin
        .describe_key()
        .key_id(&shared_arn)
        .send()
        .await
        .expect("DescribeKey across accounts");
    assert_eq!(
        described.key_metadata().and_then(|m| m.aws_account_id()),
        Some(ACCOUNT)
    );
    b_admin
        .get_key_rotation_status()
        .key_id(&shared_arn)
        .send()
        .await
        .expect("GetKeyRotationStatus across accounts");

    // Managing the key is never allowed across accounts, whatever both
    // policies say.
    assert_denied(
        b_admin
            .put_key_policy()
            .key_id(&shared_arn)
            .policy(key_policy(&[account_statement(&b)]))
            .send()
            .await,
        &denied(
            &b_admin_arn,
            "kms:PutKeyPolicy",
            &shared_arn,
            &no_resource_allows("kms:PutKeyPolicy"),
        ),
    );
    assert_denied(
        b_admin.disable_key().key_id(&shared_arn).send().await,
        &denied(
            &b_admin_arn,
            "kms:DisableKey",
            &shared_arn,
            &no_resource_allows("kms:DisableKey"),
        ),
    );
    assert_denied(
        b_admin
            .schedule_key_deletion()
            .key_id(&shared_arn)
            .pending_window_in_days(7)
            .send()
            .await,
        &denied(
            &b_admin_arn,
            "kms:ScheduleKeyDeletion",
            &shared_arn,
            &no_resource_allows("kms:ScheduleKeyDeletion"),
        ),
    );
    assert_denied(
        b_admin
            .tag_resource()
            .key_id(&shared_arn)
            .tags(tag("owner", "b"))
            .send()
            .await,
        &denied(
            &b_admin_arn,
            "kms:TagResource",
            &shared_arn,
            &no_resource_allows("kms:TagResource"),
        ),
    );
    assert_denied(
        b_admin.get_key_policy().key_id(&shared_arn).send().await,
        &denied(
            &b_admin_arn,
            "kms:GetKeyPolicy",
            &shared_arn,
            &no_resource_allows("kms:GetKeyPolicy"),
        ),
    );
    let still = admin
        .describe_key()
        .key_id(&shared)
        .send()
        .await
        .expect("DescribeKey by the owner");
    assert_eq!(
        still.key_metadata().map(|m| m.key_state()),
        Some(Some(&KeyState::Enabled))
    );

    // By key id or alias name, B's own account is meant.
    let message = expect_error(
        b_admin.describe_key().key_id(&shared).send().await,
        "NotFoundException",
        400,
    );
    assert_eq!(
        message,
        format!("Key '{}' does not exist", key_arn_in(&b, &shared))
    );
    admin
        .create_alias()
        .alias_name("alias/shared")
        .target_key_id(&shared)
        .send()
        .await
        .expect("CreateAlias");
    let message = expect_error(
        encrypt_with(&b_admin, "alias/shared", &[]).await,
        "NotFoundException",
        400,
    );
    assert_eq!(
        message,
        format!("Alias arn:aws:kms:{REGION}:{b}:alias/shared is not found.")
    );

    // A user of B needs its own identity policy as well.
    let reader = kms_as(&server, &user_with_key(&b_iam, "reader").await);
    let reader_arn = format!("arn:aws:iam::{b}:user/reader");
    assert_denied(
        encrypt_with(&reader, &shared_arn, &[]).await,
        &denied(
            &reader_arn,
            "kms:Encrypt",
            &shared_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
    put_user_policy(&b_iam, "reader", "use", &allow(&["kms:Encrypt"])).await;
    encrypt_with(&reader, &shared_arn, &[])
        .await
        .expect("Encrypt once B's IAM allows too");

    // A key whose policy does not name B.
    let private = new_key(&admin).await;
    assert_denied(
        encrypt_with(&b_admin, &arn(&private), &[]).await,
        &denied(
            &b_admin_arn,
            "kms:Encrypt",
            &arn(&private),
            &no_resource_allows("kms:Encrypt"),
        ),
    );

    // Naming one user of B directly still needs B's identity policy.
    let writer = kms_as(&server, &user_with_key(&b_iam, "writer").await);
    let writer_arn = format!("arn:aws:iam::{b}:user/writer");
    let named = key_with_policy(
        &admin,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement("Allow", &writer_arn, &["kms:Encrypt"]),
        ]),
    )
    .await;
    let named_arn = arn(&named);
    assert_denied(
        encrypt_with(&writer, &named_arn, &[]).await,
        &denied(
            &writer_arn,
            "kms:Encrypt",
            &named_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
    put_user_policy(&b_iam, "writer", "use", &allow(&["kms:Encrypt"])).await;
    encrypt_with(&writer, &named_arn, &[])
        .await
        .expect("Encrypt by the named user of B with its IAM allow");
    // B's administrator is not the named user.
    assert_denied(
        encrypt_with(&b_admin, &named_arn, &[]).await,
        &denied(
            &b_admin_arn,
            "kms:Encrypt",
            &named_arn,
            &no_resource_allows("kms:Encrypt"),
        ),
    );
}

// ------------------------------------------------------------ condition keys

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_context_conditions_in_the_key_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let billing = kms_as(&server, &user_with_key(&admin_iam, "billing-svc").await);
    let billing_arn = user_arn("billing-svc");

    let key = key_with_policy(
        &admin,
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/billing-svc"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"acme"}}}]}"#,
    )
    .await;
    let key_arn = arn(&key);
    let acme = encrypt_with(&admin, &key, &[("tenant", "acme")])
        .await
        .expect("Encrypt for acme")
        .ciphertext_blob()
        .expect("blob")
        .clone();
    let globex = encrypt_with(&admin, &key, &[("tenant", "globex")])
        .await
        .expect("Encrypt for globex")
        .ciphertext_blob()
        .expect("blob")
        .clone();

    let opened = billing
        .decrypt()
        .key_id(&key)
        .ciphertext_blob(acme)
        .encryption_context("tenant", "acme")
        .send()
        .await
        .expect("Decrypt with tenant=acme");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"payload");
    assert_denied(
        billing
            .decrypt()
            .key_id(&key)
            .ciphertext_blob(globex.clone())
            .encryption_context("tenant", "globex")
            .send()
            .await,
        &denied(
            &billing_arn,
            "kms:Decrypt",
            &key_arn,
            &no_identity_allows("kms:Decrypt"),
        ),
    );
    assert_denied(
        billing
            .decrypt()
            .ciphertext_blob(globex)
            .encryption_context("tenant", "globex")
            .send()
            .await,
        &denied_for_ciphertext(&billing_arn),
    );
    // The condition is about Decrypt only.
    assert_denied(
        encrypt_with(&billing, &key, &[("tenant", "acme")]).await,
        &denied(
            &billing_arn,
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );

    // kms:EncryptionContextKeys with ForAllValues: every key of the
    // context must be one of the list (an empty context has none that is
    // not, as AWS documents).
    let writer = kms_as(&server, &user_with_key(&admin_iam, "writer").await);
    let keys_key = key_with_policy(
        &admin,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement_if(
                "Allow",
                &user_arn("writer"),
                &["kms:Encrypt"],
                json!({"ForAllValues:StringEquals": {
                    "kms:EncryptionContextKeys": ["tenant", "purpose"],
                }}),
            ),
        ]),
    )
    .await;
    encrypt_with(&writer, &keys_key, &[("tenant", "acme")])
        .await
        .expect("Encrypt with one listed key");
    encrypt_with(
        &writer,
        &keys_key,
        &[("tenant", "acme"), ("purpose", "invoices")],
    )
    .await
    .expect("Encrypt with both listed keys");
    encrypt_with(&writer, &keys_key, &[])
        .await
        .expect("Encrypt with no context");
    assert_denied(
        encrypt_with(&writer, &keys_key, &[("tenant", "acme"), ("owner", "x")]).await,
        &denied(
            &user_arn("writer"),
            "kms:Encrypt",
            &arn(&keys_key),
            &no_identity_allows("kms:Encrypt"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_algorithm_and_request_alias_conditions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());

    // kms:EncryptionAlgorithm: an omitted algorithm is SYMMETRIC_DEFAULT.
    let sym = kms_as(&server, &user_with_key(&admin_iam, "sym-user").await);
    let oaep = kms_as(&server, &user_with_key(&admin_iam, "oaep-user").await);
    let key = key_with_policy(
        &admin,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement_if(
                "Allow",
                &user_arn("sym-user"),
                &["kms:Encrypt"],
                json!({"StringEquals": {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}}),
            ),
            statement_if(
                "Allow",
                &user_arn("oaep-user"),
                &["kms:Encrypt"],
                json!({"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}),
            ),
        ]),
    )
    .await;
    encrypt_with(&sym, &key, &[])
        .await
        .expect("Encrypt with the algorithm omitted");
    sym.encrypt()
        .key_id(&key)
        .plaintext(blob(b"x"))
        .encryption_algorithm(EncryptionAlgorithmSpec::SymmetricDefault)
        .send()
        .await
        .expect("Encrypt with SYMMETRIC_DEFAULT named");
    assert_denied(
        encrypt_with(&oaep, &key, &[]).await,
        &denied(
            &user_arn("oaep-user"),
            "kms:Encrypt",
            &arn(&key),
            &no_identity_allows("kms:Encrypt"),
        ),
    );

    // kms:RequestAlias: only requests naming the key by alias/app.
    let aliased = kms_as(&server, &user_with_key(&admin_iam, "aliased").await);
    let app = key_with_policy(
        &admin,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement_if(
                "Allow",
                &user_arn("aliased"),
                &["kms:Encrypt"],
                json!({"StringEquals": {"kms:RequestAlias": "alias/app"}}),
            ),
        ]),
    )
    .await;
    admin
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(&app)
        .send()
        .await
        .expect("CreateAlias");
    encrypt_with(&aliased, "alias/app", &[])
        .await
        .expect("Encrypt by alias name");
    encrypt_with(&aliased, &alias_arn("alias/app"), &[])
        .await
        .expect("Encrypt by alias ARN");
    for by in [app.clone(), arn(&app)] {
        assert_denied(
            encrypt_with(&aliased, &by, &[]).await,
            &denied(
                &user_arn("aliased"),
                "kms:Encrypt",
                &arn(&app),
                &no_identity_allows("kms:Encrypt"),
            ),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_account_and_resource_tag_conditions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let other = server.create_account(None).await.expect("a second account");
    let b = other.account_id.clone();
    let b_admin = kms_as(
        &server,
        &Keys::of_account(&other.access_key_id, other.secret.expose_secret()),
    );

    // kms:CallerAccount with Principal "*": everyone of one account.
    let gus = kms_as(&server, &user_with_key(&admin_iam, "gus").await);
    let everyone_of = |account: &str| {
        key_policy(&[
            account_statement(ACCOUNT),
            statement_if(
                "Allow",
                "*",
                &["kms:Encrypt"],
                json!({"StringEquals": {"kms:CallerAccount": account}}),
            ),
        ])
    };
    let key = key_with_policy(&admin, &everyone_of(ACCOUNT)).await;
    let key_arn = arn(&key);
    encrypt_with(&gus, &key, &[])
        .await
        .expect("Encrypt by a user of the key's account");
    assert_denied(
        encrypt_with(&b_admin, &key_arn, &[]).await,
        &denied(
            &admin_arn_of(&b),
            "kms:Encrypt",
            &key_arn,
            &no_resource_allows("kms:Encrypt"),
        ),
    );
    put_key_policy(&admin, &key, &everyone_of(&b)).await;
    encrypt_with(&b_admin, &key_arn, &[])
        .await
        .expect("Encrypt by B once the condition names B");
    assert_denied(
        encrypt_with(&gus, &key, &[]).await,
        &denied(
            &user_arn("gus"),
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );

    // aws:ResourceTag in an identity policy.
    let hal = kms_as(&server, &user_with_key(&admin_iam, "hal").await);
    put_user_policy(
        &admin_iam,
        "hal",
        "blue-keys",
        &identity_policy(&[json!({
            "Effect": "Allow",
            "Action": "kms:Encrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}},
        })]),
    )
    .await;
    let blue = tagged_key(&admin, "team", "blue").await;
    let red = tagged_key(&admin, "team", "red").await;
    encrypt_with(&hal, &blue, &[])
        .await
        .expect("Encrypt under a key tagged team=blue");
    assert_denied(
        encrypt_with(&hal, &red, &[]).await,
        &denied(
            &user_arn("hal"),
            "kms:Encrypt",
            &arn(&red),
            &no_identity_allows("kms:Encrypt"),
        ),
    );
    admin
        .tag_resource()
        .key_id(&red)
        .tags(tag("team", "blue"))
        .send()
        .await
        .expect("TagResource");
    encrypt_with(&hal, &red, &[])
        .await
        .expect("Encrypt once the key is retagged");
}

async fn tagged_key(kms: &aws_sdk_kms::Client, key: &str, value: &str) -> String {
    kms.create_key()
        .tags(tag(key, value))
        .send()
        .await
        .expect("CreateKey with tags")
        .key_metadata()
        .expect("KeyMetadata")
        .key_id()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_tag_and_tag_keys_conditions_on_tagging() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let ivy = kms_as(&server, &user_with_key(&admin_iam, "ivy").await);
    let ivy_arn = user_arn("ivy");
    put_user_policy(
        &admin_iam,
        "ivy",
        "env-tags",
        &identity_policy(&[
            json!({
                "Effect": "Allow",
                "Action": "kms:TagResource",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:RequestTag/env": ["dev", "test"]},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["env"]},
                },
            }),
            json!({
                "Effect": "Allow",
                "Action": "kms:UntagResource",
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}},
            }),
        ]),
    )
    .await;
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let refused = |action: &str| denied(&ivy_arn, action, &key_arn, &no_identity_allows(action));

    ivy.tag_resource()
        .key_id(&key)
        .tags(tag("env", "dev"))
        .send()
        .await
        .expect("TagResource env=dev");
    assert_denied(
        ivy.tag_resource()
            .key_id(&key)
            .tags(tag("env", "prod"))
            .send()
            .await,
        &refused("kms:TagResource"),
    );
    assert_denied(
        ivy.tag_resource()
            .key_id(&key)
            .tags(tag("env", "test"))
            .tags(tag("owner", "ivy"))
            .send()
            .await,
        &refused("kms:TagResource"),
    );

    admin
        .tag_resource()
        .key_id(&key)
        .tags(tag("owner", "admin"))
        .send()
        .await
        .expect("TagResource by the administrator");
    assert_denied(
        ivy.untag_resource()
            .key_id(&key)
            .tag_keys("owner")
            .send()
            .await,
        &refused("kms:UntagResource"),
    );
    ivy.untag_resource()
        .key_id(&key)
        .tag_keys("env")
        .send()
        .await
        .expect("UntagResource of env");

    let tags = admin
        .list_resource_tags()
        .key_id(&key)
        .send()
        .await
        .expect("ListResourceTags");
    let tags: Vec<(&str, &str)> = tags
        .tags()
        .iter()
        .map(|t| (t.tag_key(), t.tag_value()))
        .collect();
    assert_eq!(tags, [("owner", "admin")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_is_decided_on_its_key_spec_and_tags_need_tag_resource() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let jo = kms_as(&server, &user_with_key(&admin_iam, "jo").await);
    let jo_arn = user_arn("jo");
    put_user_policy(
        &admin_iam,
        "jo",
        "symmetric-only",
        &identity_policy(&[json!({
            "Effect": "Allow",
            "Action": "kms:CreateKey",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:KeySpec": "SYMMETRIC_DEFAULT"}},
        })]),
    )
    .await;

    let created = jo
        .create_key()
        .send()
        .await
        .expect("CreateKey of the default spec");
    assert_eq!(
        created.key_metadata().and_then(|m| m.key_spec()),
        Some(&KeySpec::SymmetricDefault)
    );
    jo.create_key()
        .key_spec(KeySpec::SymmetricDefault)
        .send()
        .await
        .expect("CreateKey with SYMMETRIC_DEFAULT named");
    assert_denied(
        jo.create_key()
            .key_spec(KeySpec::Rsa2048)
            .key_usage(KeyUsageType::EncryptDecrypt)
            .send()
            .await,
        &denied(
            &jo_arn,
            "kms:CreateKey",
            "*",
            &no_identity_allows("kms:CreateKey"),
        ),
    );

    // Tags at creation need kms:TagResource as well, on the new key's ARN
    // (a fresh key id each time, so only its shape can be checked).
    let refused = expect_error(
        jo.create_key().tags(tag("team", "blue")).send().await,
        ACCESS_DENIED,
        400,
    );
    let prefix = format!(
        "User: {jo_arn} is not authorized to perform: kms:TagResource on resource: \
         arn:aws:kms:{REGION}:{ACCOUNT}:key/"
    );
    let ending = format!(" {}", no_identity_allows("kms:TagResource"));
    assert!(
        refused.starts_with(&prefix) && refused.ends_with(&ending),
        "{refused}"
    );
    let id = &refused[prefix.len()..refused.len() - ending.len()];
    assert_eq!(id.len(), 36, "a key id: {id}");
    put_user_policy(&admin_iam, "jo", "tagging", &allow(&["kms:TagResource"])).await;
    let tagged = jo
        .create_key()
        .tags(tag("team", "blue"))
        .send()
        .await
        .expect("CreateKey with tags once TagResource is allowed");
    let tagged = tagged
        .key_metadata()
        .expect("KeyMetadata")
        .key_id()
        .to_owned();
    let tags = kms_as(&server, &Keys::admin())
        .list_resource_tags()
        .key_id(&tagged)
        .send()
        .await
        .expect("ListResourceTags");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].tag_key(), "team");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_window_and_secure_transport_conditions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let kim = kms_as(&server, &user_with_key(&admin_iam, "kim").await);
    put_user_policy(
        &admin_iam,
        "kim",
        "careful",
        &identity_policy(&[
            json!({
                "Effect": "Allow",
                "Action": "kms:ScheduleKeyDeletion",
                "Resource": "*",
                "Condition": {"NumericGreaterThanEquals": {
                    "kms:ScheduleKeyDeletionPendingWindowInDays": "20",
                }},
            }),
            json!({
                "Effect": "Allow",
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }),
            json!({
                "Effect": "Deny",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }),
        ]),
    )
    .await;
    let key = new_key(&admin).await;

    assert_denied(
        kim.schedule_key_deletion()
            .key_id(&key)
            .pending_window_in_days(7)
            .send()
            .await,
        &denied(
            &user_arn("kim"),
            "kms:ScheduleKeyDeletion",
            &arn(&key),
            &no_identity_allows("kms:ScheduleKeyDeletion"),
        ),
    );
    let scheduled = kim
        .schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(30)
        .send()
        .await
        .expect("ScheduleKeyDeletion with 30 days");
    assert_eq!(scheduled.pending_window_in_days(), Some(30));

    // Requests arrive over HTTPS: aws:SecureTransport is true.
    let described = kim
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("DescribeKey over HTTPS");
    assert_eq!(
        described.key_metadata().map(|m| m.key_state()),
        Some(Some(&KeyState::PendingDeletion))
    );
}

// --------------------------------------------------- Decrypt without KeyId

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_decrypt_without_key_id_does_not_name_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let lee = kms_as(&server, &user_with_key(&admin_iam, "lee").await);
    let key = new_key(&admin).await;
    let sealed = encrypt(&admin, &key, b"not for lee").await;

    assert_denied(
        lee.decrypt().ciphertext_blob(sealed.clone()).send().await,
        &denied_for_ciphertext(&user_arn("lee")),
    );
    // Naming the key, the refusal names it too.
    assert_denied(
        lee.decrypt()
            .key_id(&key)
            .ciphertext_blob(sealed.clone())
            .send()
            .await,
        &denied(
            &user_arn("lee"),
            "kms:Decrypt",
            &arn(&key),
            &no_identity_allows("kms:Decrypt"),
        ),
    );

    // Another account's caller is told the same, without a KeyId.
    let other = server.create_account(None).await.expect("a second account");
    let b_admin = kms_as(
        &server,
        &Keys::of_account(&other.access_key_id, other.secret.expose_secret()),
    );
    assert_denied(
        b_admin
            .decrypt()
            .ciphertext_blob(sealed.clone())
            .send()
            .await,
        &denied_for_ciphertext(&admin_arn_of(&other.account_id)),
    );
    assert_denied(
        b_admin
            .decrypt()
            .key_id(arn(&key))
            .ciphertext_blob(sealed.clone())
            .send()
            .await,
        &denied(
            &admin_arn_of(&other.account_id),
            "kms:Decrypt",
            &arn(&key),
            &no_resource_allows("kms:Decrypt"),
        ),
    );

    // Allowed, the same request decrypts.
    put_user_policy(&admin_iam, "lee", "decrypt", &allow(&["kms:Decrypt"])).await;
    let opened = lee
        .decrypt()
        .ciphertext_blob(sealed)
        .send()
        .await
        .expect("Decrypt once allowed");
    assert_eq!(
        opened.plaintext().expect("Plaintext").as_ref(),
        b"not for lee"
    );
}

// ------------------------------------------------- lockout safety check

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lockout_safety_check_refuses_policies_that_lock_the_caller_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let admin_arn = admin_arn_of(ACCOUNT);
    let bob = kms_as(&server, &user_with_key(&admin_iam, "bob").await);
    let bob_only = key_policy(&[statement("Allow", &user_arn("bob"), &["kms:*"])]);
    let key = new_key(&admin).await;
    let key_arn = arn(&key);

    // PutKeyPolicy.
    let message = expect_error(
        admin
            .put_key_policy()
            .key_id(&key)
            .policy(&bob_only)
            .send()
            .await,
        "MalformedPolicyDocumentException",
        400,
    );
    assert_eq!(message, LOCKOUT);
    let describe_only = key_policy(&[statement("Allow", &admin_arn, &["kms:DescribeKey"])]);
    let message = expect_error(
        admin
            .put_key_policy()
            .key_id(&key)
            .policy(&describe_only)
            .send()
            .await,
        "MalformedPolicyDocumentException",
        400,
    );
    assert_eq!(message, LOCKOUT);
    let denying = key_policy(&[
        account_statement(ACCOUNT),
        statement("Deny", &admin_arn, &["kms:PutKeyPolicy"]),
    ]);
    let message = expect_error(
        admin
            .put_key_policy()
            .key_id(&key)
            .policy(&denying)
            .send()
            .await,
        "MalformedPolicyDocumentException",
        400,
    );
    assert_eq!(message, LOCKOUT);
    // The refused policies were not stored.
    encrypt_with(&admin, &key, &[])
        .await
        .expect("the default policy still applies");

    // Naming the administrator directly passes.
    put_key_policy(
        &admin,
        &key,
        &key_policy(&[statement("Allow", &admin_arn, &["kms:*"])]),
    )
    .await;

    // Bypassing the check, the administrator locks itself out.
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(&bob_only)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .expect("PutKeyPolicy with the check bypassed");
    assert_denied(
        admin.describe_key().key_id(&key).send().await,
        &denied(
            &admin_arn,
            "kms:DescribeKey",
            &key_arn,
            &no_resource_allows("kms:DescribeKey"),
        ),
    );
    assert_denied(
        admin
            .put_key_policy()
            .key_id(&key)
            .policy(key_policy(&[account_statement(ACCOUNT)]))
            .send()
            .await,
        &denied(
            &admin_arn,
            "kms:PutKeyPolicy",
            &key_arn,
            &no_resource_allows("kms:PutKeyPolicy"),
        ),
    );
    // bob, named, is not locked out and can give the key back (naming
    // himself, or the check would refuse: he has no IAM policy).
    put_key_policy(
        &bob,
        &key,
        &key_policy(&[
            account_statement(ACCOUNT),
            statement("Allow", &user_arn("bob"), &["kms:*"]),
        ]),
    )
    .await;
    admin
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("DescribeKey once the account statement is back");

    // CreateKey with a Policy.
    let message = expect_error(
        admin.create_key().policy(&bob_only).send().await,
        "MalformedPolicyDocumentException",
        400,
    );
    assert_eq!(message, LOCKOUT);
    let locked = admin
        .create_key()
        .policy(&bob_only)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .expect("CreateKey with the check bypassed");
    let locked = locked
        .key_metadata()
        .expect("KeyMetadata")
        .key_id()
        .to_owned();
    assert_denied(
        admin.describe_key().key_id(&locked).send().await,
        &denied(
            &admin_arn,
            "kms:DescribeKey",
            &arn(&locked),
            &no_resource_allows("kms:DescribeKey"),
        ),
    );
    bob.describe_key()
        .key_id(&locked)
        .send()
        .await
        .expect("DescribeKey by the named user");
}

// ------------------------------------------------------------------ aliases

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_alias_needs_permission_on_the_alias_and_on_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let mo = kms_as(&server, &user_with_key(&admin_iam, "mo").await);
    let mo_arn = user_arn("mo");
    let key = new_key(&admin).await;
    let team_aliases = json!({
        "Effect": "Allow",
        "Action": "kms:CreateAlias",
        "Resource": format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/team-*"),
    });
    put_user_policy(
        &admin_iam,
        "mo",
        "aliases",
        &identity_policy(std::slice::from_ref(&team_aliases)),
    )
    .await;

    // The alias is allowed, the key is not.
    assert_denied(
        mo.create_alias()
            .alias_name("alias/team-a")
            .target_key_id(&key)
            .send()
            .await,
        &denied(
            &mo_arn,
            "kms:CreateAlias",
            &arn(&key),
            &no_identity_allows("kms:CreateAlias"),
        ),
    );

    put_user_policy(
        &admin_iam,
        "mo",
        "aliases",
        &identity_policy(&[
            team_aliases,
            json!({
                "Effect": "Allow",
                "Action": "kms:CreateAlias",
                "Resource": format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/*"),
            }),
        ]),
    )
    .await;
    mo.create_alias()
        .alias_name("alias/team-a")
        .target_key_id(&key)
        .send()
        .await
        .expect("CreateAlias of a team alias");
    assert_denied(
        mo.create_alias()
            .alias_name("alias/other")
            .target_key_id(&key)
            .send()
            .await,
        &denied(
            &mo_arn,
            "kms:CreateAlias",
            &alias_arn("alias/other"),
            &no_identity_allows("kms:CreateAlias"),
        ),
    );

    let aliases = admin
        .list_aliases()
        .key_id(&key)
        .send()
        .await
        .expect("ListAliases");
    let names: Vec<&str> = aliases
        .aliases()
        .iter()
        .filter_map(|a| a.alias_name())
        .collect();
    assert_eq!(names, ["alias/team-a"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_aliases_condition_follows_the_keys_aliases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    // The example of AWS's "kms:ResourceAliases": keys with an alias
    // matching `alias/finance*`, whatever their id.
    let ivy = kms_as(&server, &user_with_key(&admin_iam, "ivy").await);
    put_user_policy(
        &admin_iam,
        "ivy",
        "finance-keys",
        &identity_policy(&[json!({
            "Effect": "Allow",
            "Action": "kms:Encrypt",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/finance*"}},
        })]),
    )
    .await;
    let key = new_key(&admin).await;
    assert_denied(
        encrypt_with(&ivy, &key, &[]).await,
        &denied(
            &user_arn("ivy"),
            "kms:Encrypt",
            &arn(&key),
            &no_identity_allows("kms:Encrypt"),
        ),
    );
    admin
        .create_alias()
        .alias_name("alias/finance-reports")
        .target_key_id(&key)
        .send()
        .await
        .expect("CreateAlias");
    encrypt_with(&ivy, &key, &[])
        .await
        .expect("Encrypt by key id once the key has a matching alias");
    encrypt_with(&ivy, "alias/finance-reports", &[])
        .await
        .expect("Encrypt by the alias");
    admin
        .delete_alias()
        .alias_name("alias/finance-reports")
        .send()
        .await
        .expect("DeleteAlias");
    assert_denied(
        encrypt_with(&ivy, &key, &[]).await,
        &denied(
            &user_arn("ivy"),
            "kms:Encrypt",
            &arn(&key),
            &no_identity_allows("kms:Encrypt"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_condition_keys_limit_what_grants_a_principal_may_create() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let jay = kms_as(&server, &user_with_key(&admin_iam, "jay").await);
    user_with_key(&admin_iam, "worker").await;
    // Jay may give `worker` grants for Decrypt and Encrypt only, with an
    // encryption context constraint, and never for an AWS resource.
    let policy = key_policy(&[
        account_statement(ACCOUNT),
        statement_if(
            "Allow",
            &user_arn("jay"),
            &["kms:CreateGrant"],
            json!({
                "ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "Encrypt"]},
                "StringEquals": {
                    "kms:GranteePrincipal": user_arn("worker"),
                    "kms:GrantConstraintType": "EncryptionContextSubset",
                },
                "Bool": {"kms:GrantIsForAWSResource": "false"},
            }),
        ),
    ]);
    let key = key_with_policy(&admin, &policy).await;
    let constraints = aws_sdk_kms::types::GrantConstraints::builder()
        .encryption_context_subset("tenant", "acme")
        .build();
    let grant = |grantee: String, ops: Vec<aws_sdk_kms::types::GrantOperation>, c: bool| {
        let mut req = jay
            .create_grant()
            .key_id(&key)
            .grantee_principal(grantee)
            .set_operations(Some(ops));
        if c {
            req = req.constraints(constraints.clone());
        }
        req.send()
    };
    use aws_sdk_kms::types::GrantOperation as Op;
    grant(user_arn("worker"), vec![Op::Decrypt], true)
        .await
        .expect("a grant within every condition");
    let refused = denied(
        &user_arn("jay"),
        "kms:CreateGrant",
        &arn(&key),
        &no_identity_allows("kms:CreateGrant"),
    );
    assert_denied(
        grant(
            user_arn("worker"),
            vec![Op::Decrypt, Op::ReEncryptFrom],
            true,
        )
        .await,
        &refused,
    );
    assert_denied(
        grant(user_arn("jay"), vec![Op::Decrypt], true).await,
        &refused,
    );
    assert_denied(
        grant(user_arn("worker"), vec![Op::Decrypt], false).await,
        &refused,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_policies_may_name_only_principals_that_exist() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let naming = |principal: &str| {
        key_policy(&[
            account_statement(ACCOUNT),
            statement("Allow", principal, &["kms:Decrypt"]),
        ])
    };
    let invalid = "Policy contains a statement with one or more invalid principals.";
    for ghost in [
        user_arn("nobody"),
        role_arn("no-such-role"),
        "arn:aws:iam::999988887777:root".to_owned(),
    ] {
        let refused = expect_error(
            admin
                .put_key_policy()
                .key_id(&key)
                .policy(naming(&ghost))
                .send()
                .await,
            "MalformedPolicyDocumentException",
            400,
        );
        assert_eq!(refused, invalid, "{ghost}");
        let refused = expect_error(
            admin.create_key().policy(naming(&ghost)).send().await,
            "MalformedPolicyDocumentException",
            400,
        );
        assert_eq!(refused, invalid, "{ghost}");
    }
    // Once the user exists, the same policy is accepted; under another
    // path, it is not the same user.
    user_with_key(&admin_iam, "nobody").await;
    put_key_policy(&admin, &key, &naming(&user_arn("nobody"))).await;
    let elsewhere = format!("arn:aws:iam::{ACCOUNT}:user/other/path/nobody");
    let refused = expect_error(
        admin
            .put_key_policy()
            .key_id(&key)
            .policy(naming(&elsewhere))
            .send()
            .await,
        "MalformedPolicyDocumentException",
        400,
    );
    assert_eq!(refused, invalid);
    key_with_policy(&admin, &naming(&user_arn("nobody"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_permissions_boundary_narrows_to_nothing_rather_than_lifting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    admin_iam
        .create_policy()
        .policy_name("edge")
        .policy_document(allow(&["kms:DescribeKey"]))
        .send()
        .await
        .expect("CreatePolicy");
    admin_iam
        .create_user()
        .user_name("bounded")
        .permissions_boundary(common::iam::policy_arn("edge"))
        .send()
        .await
        .expect("CreateUser with a boundary");
    let created = admin_iam
        .create_access_key()
        .user_name("bounded")
        .send()
        .await
        .expect("CreateAccessKey");
    let bounded = kms_as(
        &server,
        &Keys::of_access_key(created.access_key().expect("key")),
    );
    put_user_policy(&admin_iam, "bounded", "all", &allow(&["kms:*"])).await;
    bounded
        .describe_key()
        .key_id(&key)
        .send()
        .await
        .expect("DescribeKey within the boundary");
    let beyond = denied(
        &user_arn("bounded"),
        "kms:Encrypt",
        &arn(&key),
        "because no permissions boundary allows the kms:Encrypt action",
    );
    assert_denied(encrypt_with(&bounded, &key, &[]).await, &beyond);
    // The boundary's policy deleted: the user may do nothing, not everything.
    admin_iam
        .delete_policy()
        .policy_arn(common::iam::policy_arn("edge"))
        .send()
        .await
        .expect("DeletePolicy");
    assert_denied(encrypt_with(&bounded, &key, &[]).await, &beyond);
    assert_denied(
        bounded.describe_key().key_id(&key).send().await,
        &denied(
            &user_arn("bounded"),
            "kms:DescribeKey",
            &arn(&key),
            "because no permissions boundary allows the kms:DescribeKey action",
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_policy_narrows_what_a_grant_to_the_role_allows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let sts = sts_as(&server, &Keys::admin());
    // No policy of the role allows anything on the key: only the grant.
    let key = key_with_policy(&admin, &key_policy(&[account_statement(ACCOUNT)])).await;
    admin_iam
        .create_role()
        .role_name("granted")
        .assume_role_policy_document(trust(&admin_arn_of(ACCOUNT)))
        .send()
        .await
        .expect("CreateRole");
    admin
        .create_grant()
        .key_id(&key)
        .grantee_principal(role_arn("granted"))
        .operations(aws_sdk_kms::types::GrantOperation::Encrypt)
        .send()
        .await
        .expect("CreateGrant");
    let plain = kms_as(&server, &assume(&sts, "granted", "plain", None).await);
    encrypt_with(&plain, &key, &[])
        .await
        .expect("Encrypt through the grant");
    let narrowed = kms_as(
        &server,
        &assume(
            &sts,
            "granted",
            "narrow",
            Some(&allow(&["kms:DescribeKey"])),
        )
        .await,
    );
    assert_denied(
        encrypt_with(&narrowed, &key, &[]).await,
        &denied(
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/granted/narrow"),
            "kms:Encrypt",
            &arn(&key),
            &no_session_allows("kms:Encrypt"),
        ),
    );
}
