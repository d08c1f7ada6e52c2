//! KMS grants through the official SDK against the real server over HTTPS,
//! as AWS KMS documents them: `CreateGrant` and its validation, what a
//! grant lets its grantee do (and nothing more, including through a
//! delegated `CreateGrant`), encryption context constraints, grant tokens,
//! `ListGrants` and `ListRetirableGrants` (one account, one Region),
//! retiring and revoking, explicit denies winning over grants, grants to
//! roles, grants to principals of another account, and grants across key
//! states.
//!
//! Custos' store is consistent: a grant takes effect, and stops taking
//! effect, on the very next request, with or without its grant token. No
//! test sleeps.
//!
//! Sources: the AWS KMS Developer Guide ("Grants in AWS KMS", "Allowing
//! users in other accounts to use a KMS key", "Key states of AWS KMS
//! keys") and the API reference of each grant operation.

mod common;

use std::collections::HashMap;

use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::operation::create_grant::builders::CreateGrantFluentBuilder;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeySpec, GrantConstraints, GrantListEntry, GrantOperation, KeySpec, KeyUsageType,
};
use aws_smithy_runtime_api::http::Response;
use common::iam::{
    Keys, allow, expect_error, iam, iam_as, kms_as, role_arn, sts_as, trust, user_arn,
    user_with_key,
};
use common::{ACCOUNT, arn, encrypt, new_key, start};
use serde_json::{Value, json};

const ACCESS_DENIED: &str = "AccessDeniedException";
const VALIDATION: &str = "ValidationException";
const NOT_FOUND: &str = "NotFoundException";
const DENY_IN_KEY_POLICY: &str = "with an explicit deny in a resource-based policy";
const DENY_IN_IDENTITY_POLICY: &str = "with an explicit deny in an identity-based policy";
/// The account that issues every grant of these tests, as `ListGrants`
/// reports it.
const ISSUING_ACCOUNT: &str = "arn:aws:iam::111122223333:root";
/// A well-formed grant id that no grant has.
const NO_SUCH_GRANT: &str = "0000000000000000000000000000000000000000000000000000000000000000";

// ------------------------------------------------------------------ helpers

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

/// Asserts that a KMS call was refused as `AccessDeniedException` (HTTP
/// 400), whatever the message.
#[track_caller]
fn assert_refused<T, E>(result: Result<T, SdkError<E, Response>>)
where
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    expect_error(result, ACCESS_DENIED, 400);
}

/// A `CreateGrant` request on `key` for `grantee` allowing `operations`,
/// to be completed (constraints, retiring principal, name) and sent.
fn grant_request(
    kms: &aws_sdk_kms::Client,
    key: &str,
    grantee: &str,
    operations: &[GrantOperation],
) -> CreateGrantFluentBuilder {
    operations.iter().fold(
        kms.create_grant().key_id(key).grantee_principal(grantee),
        |request, op| request.operations(op.clone()),
    )
}

/// A grant made by [`grant_request`] as is; its id and token.
async fn grant(
    kms: &aws_sdk_kms::Client,
    key: &str,
    grantee: &str,
    operations: &[GrantOperation],
) -> (String, String) {
    let out = grant_request(kms, key, grantee, operations)
        .send()
        .await
        .expect("CreateGrant");
    ids_of(&out)
}

/// The grant id and grant token of a `CreateGrant` response, the id
/// checked for AWS's form (64 lowercase hexadecimal digits).
#[track_caller]
fn ids_of(out: &aws_sdk_kms::operation::create_grant::CreateGrantOutput) -> (String, String) {
    let id = out.grant_id().expect("GrantId").to_owned();
    assert!(
        id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "a grant id is 64 lowercase hex digits: {id:?}"
    );
    let token = out.grant_token().expect("GrantToken").to_owned();
    assert!(!token.is_empty(), "a grant token is not empty");
    (id, token)
}

fn blob(text: &[u8]) -> Blob {
    Blob::new(text.to_vec())
}

fn context(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `Encrypt` of a fixed text under `key` with the encryption context
/// `pairs`; the result.
async fn encrypt_with(
    kms: &aws_sdk_kms::Client,
    key: &str,
    pairs: &[(&str, &str)],
) -> Result<
    aws_sdk_kms::operation::encrypt::EncryptOutput,
    SdkError<aws_sdk_kms::operation::encrypt::EncryptError, Response>,
> {
    kms.encrypt()
        .key_id(key)
        .plaintext(blob(b"payload"))
        .set_encryption_context(Some(context(pairs)).filter(|c| !c.is_empty()))
        .send()
        .await
}

/// `Decrypt` of `sealed` naming `key`, with the encryption context
/// `pairs`; the result.
async fn decrypt_with(
    kms: &aws_sdk_kms::Client,
    key: &str,
    sealed: &Blob,
    pairs: &[(&str, &str)],
) -> Result<
    aws_sdk_kms::operation::decrypt::DecryptOutput,
    SdkError<aws_sdk_kms::operation::decrypt::DecryptError, Response>,
> {
    kms.decrypt()
        .key_id(key)
        .ciphertext_blob(sealed.clone())
        .set_encryption_context(Some(context(pairs)).filter(|c| !c.is_empty()))
        .send()
        .await
}

/// `GenerateDataKey` (AES-256) under `key` with the encryption context
/// `pairs`; the result.
async fn data_key_with(
    kms: &aws_sdk_kms::Client,
    key: &str,
    pairs: &[(&str, &str)],
) -> Result<
    aws_sdk_kms::operation::generate_data_key::GenerateDataKeyOutput,
    SdkError<aws_sdk_kms::operation::generate_data_key::GenerateDataKeyError, Response>,
> {
    kms.generate_data_key()
        .key_id(key)
        .key_spec(DataKeySpec::Aes256)
        .set_encryption_context(Some(context(pairs)).filter(|c| !c.is_empty()))
        .send()
        .await
}

/// Every grant of `key`, following `NextMarker` with pages of `limit`.
async fn all_grants(kms: &aws_sdk_kms::Client, key: &str, limit: i32) -> Vec<GrantListEntry> {
    let mut grants = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = kms
            .list_grants()
            .key_id(key)
            .limit(limit)
            .set_marker(marker.take())
            .send()
            .await
            .expect("ListGrants");
        assert!(
            page.grants().len() <= usize::try_from(limit).expect("a positive limit"),
            "a page holds at most Limit grants"
        );
        grants.extend(page.grants().iter().cloned());
        if !page.truncated() {
            assert_eq!(page.next_marker(), None, "the last page has no NextMarker");
            return grants;
        }
        marker = Some(
            page.next_marker()
                .expect("a truncated page has a NextMarker")
                .to_owned(),
        );
    }
}

/// The ids of `grants`, sorted.
fn ids(grants: &[GrantListEntry]) -> Vec<String> {
    let mut ids: Vec<String> = grants
        .iter()
        .map(|g| g.grant_id().expect("GrantId").to_owned())
        .collect();
    ids.sort();
    ids
}

/// `ids` sorted, as owned strings.
fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    ids.sort();
    ids
}

/// The operation names of a grant, sorted (AWS does not promise an order).
fn operation_names(entry: &GrantListEntry) -> Vec<String> {
    let mut names: Vec<String> = entry
        .operations()
        .iter()
        .map(|op| op.as_str().to_owned())
        .collect();
    names.sort();
    names
}

/// A key policy made of `statements`.
fn key_policy(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// The statement of the default key policy: the account's IAM policies
/// decide.
fn account_statement() -> Value {
    json!({
        "Sid": "root",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*",
        "Resource": "*",
    })
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

/// `AssumeRole` of `role` as `session`; the session's keys.
async fn assume(sts: &aws_sdk_sts::Client, role: &str, session: &str) -> Keys {
    let out = sts
        .assume_role()
        .role_arn(role_arn(role))
        .role_session_name(session)
        .send()
        .await
        .expect("AssumeRole");
    Keys::of_session(out.credentials().expect("Credentials"))
}

// ------------------------------------------------------ what a grant allows

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_lets_its_grantee_use_the_key_with_no_policy_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");
    let bob = kms_as(&server, &user_with_key(&admin_iam, "bob").await);

    // No IAM policy, and the default key policy delegates to IAM.
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &denied(
            &alice_arn,
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );

    let (_, _token) = grant(
        &admin,
        &key,
        &alice_arn,
        &[
            GrantOperation::Encrypt,
            GrantOperation::Decrypt,
            GrantOperation::GenerateDataKey,
        ],
    )
    .await;

    // At once, without the grant token, with no policy naming alice.
    let sealed = encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt by the grantee")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();
    let opened = decrypt_with(&alice, &key, &sealed, &[])
        .await
        .expect("Decrypt by the grantee");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"payload");
    let opened = alice
        .decrypt()
        .ciphertext_blob(sealed.clone())
        .send()
        .await
        .expect("Decrypt by the grantee without KeyId");
    assert_eq!(opened.key_id(), Some(key_arn.as_str()));
    let data_key = data_key_with(&alice, &key, &[])
        .await
        .expect("GenerateDataKey by the grantee");
    assert_eq!(data_key.plaintext().expect("Plaintext").as_ref().len(), 32);
    // By its key ARN as well.
    encrypt_with(&alice, &key_arn, &[])
        .await
        .expect("Encrypt by the grantee, key named by ARN");

    // Only the operations the grant lists.
    assert_denied(
        alice.describe_key().key_id(&key).send().await,
        &denied(
            &alice_arn,
            "kms:DescribeKey",
            &key_arn,
            &no_identity_allows("kms:DescribeKey"),
        ),
    );
    assert_denied(
        alice
            .generate_data_key_without_plaintext()
            .key_id(&key)
            .key_spec(DataKeySpec::Aes256)
            .send()
            .await,
        &denied(
            &alice_arn,
            "kms:GenerateDataKeyWithoutPlaintext",
            &key_arn,
            &no_identity_allows("kms:GenerateDataKeyWithoutPlaintext"),
        ),
    );
    // Only on that key.
    let other_key = new_key(&admin).await;
    assert_denied(
        encrypt_with(&alice, &other_key, &[]).await,
        &denied(
            &alice_arn,
            "kms:Encrypt",
            &arn(&other_key),
            &no_identity_allows("kms:Encrypt"),
        ),
    );
    // Only for its grantee.
    assert_denied(
        encrypt_with(&bob, &key, &[]).await,
        &denied(
            &user_arn("bob"),
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_never_allows_operations_it_does_not_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");

    grant(&admin, &key, &alice_arn, &[GrantOperation::Encrypt]).await;
    let sealed = encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt, which the grant lists")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();
    assert_denied(
        decrypt_with(&alice, &key, &sealed, &[]).await,
        &denied(
            &alice_arn,
            "kms:Decrypt",
            &key_arn,
            &no_identity_allows("kms:Decrypt"),
        ),
    );
    assert_denied(
        data_key_with(&alice, &key, &[]).await,
        &denied(
            &alice_arn,
            "kms:GenerateDataKey",
            &key_arn,
            &no_identity_allows("kms:GenerateDataKey"),
        ),
    );
    // Managing the key or its grants is not using it.
    assert_denied(
        alice.disable_key().key_id(&key).send().await,
        &denied(
            &alice_arn,
            "kms:DisableKey",
            &key_arn,
            &no_identity_allows("kms:DisableKey"),
        ),
    );
    assert_denied(
        grant_request(&alice, &key, &alice_arn, &[GrantOperation::Decrypt])
            .send()
            .await,
        &denied(
            &alice_arn,
            "kms:CreateGrant",
            &key_arn,
            &no_identity_allows("kms:CreateGrant"),
        ),
    );

    // A second grant adds to the first: grants are additive.
    grant(&admin, &key, &alice_arn, &[GrantOperation::Decrypt]).await;
    let opened = decrypt_with(&alice, &key, &sealed, &[])
        .await
        .expect("Decrypt once a second grant lists it");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"payload");

    // GenerateDataKeyWithoutPlaintext is its own operation, both ways.
    let wrapped_only = new_key(&admin).await;
    grant(
        &admin,
        &wrapped_only,
        &alice_arn,
        &[GrantOperation::GenerateDataKeyWithoutPlaintext],
    )
    .await;
    alice
        .generate_data_key_without_plaintext()
        .key_id(&wrapped_only)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect("GenerateDataKeyWithoutPlaintext under its grant");
    assert_denied(
        data_key_with(&alice, &wrapped_only, &[]).await,
        &denied(
            &alice_arn,
            "kms:GenerateDataKey",
            &arn(&wrapped_only),
            &no_identity_allows("kms:GenerateDataKey"),
        ),
    );

    // ReEncrypt needs ReEncryptFrom on the source key and ReEncryptTo on
    // the destination key; Decrypt and Encrypt are not enough.
    let target = new_key(&admin).await;
    let target_arn = arn(&target);
    grant(&admin, &target, &alice_arn, &[GrantOperation::Encrypt]).await;
    let re_encrypt = || {
        alice
            .re_encrypt()
            .ciphertext_blob(sealed.clone())
            .source_key_id(&key)
            .destination_key_id(&target)
            .send()
    };
    assert_refused(re_encrypt().await);
    grant(&admin, &key, &alice_arn, &[GrantOperation::ReEncryptFrom]).await;
    assert_denied(
        re_encrypt().await,
        &denied(
            &alice_arn,
            "kms:ReEncryptTo",
            &target_arn,
            &no_identity_allows("kms:ReEncryptTo"),
        ),
    );
    grant(&admin, &target, &alice_arn, &[GrantOperation::ReEncryptTo]).await;
    let moved = re_encrypt()
        .await
        .expect("ReEncrypt with ReEncryptFrom and ReEncryptTo granted");
    assert_eq!(moved.key_id(), Some(target_arn.as_str()));
    assert_eq!(moved.source_key_id(), Some(key_arn.as_str()));
    // ReEncryptTo alone is not enough: the source needs ReEncryptFrom.
    let ungranted = new_key(&admin).await;
    assert_denied(
        alice
            .re_encrypt()
            .ciphertext_blob(encrypt(&admin, &ungranted, b"elsewhere").await)
            .source_key_id(&ungranted)
            .destination_key_id(&target)
            .send()
            .await,
        &denied(
            &alice_arn,
            "kms:ReEncryptFrom",
            &arn(&ungranted),
            &no_identity_allows("kms:ReEncryptFrom"),
        ),
    );

    // A grant allowing CreateGrant lets its grantee create grants no wider
    // than its own ("Grants in AWS KMS": equally or more restrictive).
    let delegating = new_key(&admin).await;
    grant(
        &admin,
        &delegating,
        &alice_arn,
        &[
            GrantOperation::Encrypt,
            GrantOperation::Decrypt,
            GrantOperation::CreateGrant,
        ],
    )
    .await;
    let bob = kms_as(&server, &user_with_key(&admin_iam, "bob").await);
    let bob_arn = user_arn("bob");
    grant(&alice, &delegating, &bob_arn, &[GrantOperation::Decrypt]).await;
    encrypt_with(&bob, &delegating, &[])
        .await
        .expect_err("bob's grant allows Decrypt only");
    assert_refused(
        grant_request(
            &alice,
            &delegating,
            &bob_arn,
            &[GrantOperation::Encrypt, GrantOperation::GenerateDataKey],
        )
        .send()
        .await,
    );
    assert_refused(
        grant_request(
            &alice,
            &delegating,
            &bob_arn,
            &[GrantOperation::ReEncryptFrom],
        )
        .send()
        .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encryption_context_subset_constraint_needs_its_pairs_in_the_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");

    grant_request(
        &admin,
        &key,
        &alice_arn,
        &[
            GrantOperation::Encrypt,
            GrantOperation::Decrypt,
            GrantOperation::GenerateDataKey,
        ],
    )
    .constraints(
        GrantConstraints::builder()
            .encryption_context_subset("tenant", "acme")
            .build(),
    )
    .send()
    .await
    .expect("CreateGrant with EncryptionContextSubset");

    // The pair alone, or among others.
    let sealed = encrypt_with(&alice, &key, &[("tenant", "acme")])
        .await
        .expect("Encrypt with exactly the constraint's pairs")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();
    let wider = [("tenant", "acme"), ("region", "eu")];
    let sealed_wider = encrypt_with(&alice, &key, &wider)
        .await
        .expect("Encrypt with more pairs than the constraint")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();
    decrypt_with(&alice, &key, &sealed, &[("tenant", "acme")])
        .await
        .expect("Decrypt with the constraint's pairs");
    decrypt_with(&alice, &key, &sealed_wider, &wider)
        .await
        .expect("Decrypt with more pairs than the constraint");
    data_key_with(&alice, &key, &[("tenant", "acme"), ("job", "7")])
        .await
        .expect("GenerateDataKey with the constraint's pairs");

    // Missing, different, or differently cased: the grant does not apply.
    let refusal = |action: &str| denied(&alice_arn, action, &key_arn, &no_identity_allows(action));
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        encrypt_with(&alice, &key, &[("tenant", "globex")]).await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        encrypt_with(&alice, &key, &[("Tenant", "acme")]).await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        encrypt_with(&alice, &key, &[("region", "eu")]).await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        data_key_with(&alice, &key, &[]).await,
        &refusal("kms:GenerateDataKey"),
    );
    // A ciphertext made by the administrator without the pair: alice may
    // not decrypt it, whatever she claims.
    let plain = encrypt(&admin, &key, b"no context").await;
    assert_denied(
        decrypt_with(&alice, &key, &plain, &[]).await,
        &refusal("kms:Decrypt"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encryption_context_equals_constraint_needs_exactly_its_pairs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");

    grant_request(
        &admin,
        &key,
        &alice_arn,
        &[
            GrantOperation::Encrypt,
            GrantOperation::Decrypt,
            GrantOperation::GenerateDataKey,
        ],
    )
    .constraints(
        GrantConstraints::builder()
            .encryption_context_equals("tenant", "acme")
            .encryption_context_equals("stage", "prod")
            .build(),
    )
    .send()
    .await
    .expect("CreateGrant with EncryptionContextEquals");

    // Exactly the pairs, in any order.
    let exact = [("stage", "prod"), ("tenant", "acme")];
    let sealed = encrypt_with(&alice, &key, &exact)
        .await
        .expect("Encrypt with exactly the constraint's pairs")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();
    let opened = decrypt_with(
        &alice,
        &key,
        &sealed,
        &[("tenant", "acme"), ("stage", "prod")],
    )
    .await
    .expect("Decrypt with exactly the constraint's pairs");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"payload");
    data_key_with(&alice, &key, &exact)
        .await
        .expect("GenerateDataKey with exactly the constraint's pairs");

    let refusal = |action: &str| denied(&alice_arn, action, &key_arn, &no_identity_allows(action));
    // More pairs, fewer pairs, none, or a different value.
    assert_denied(
        encrypt_with(
            &alice,
            &key,
            &[("tenant", "acme"), ("stage", "prod"), ("job", "7")],
        )
        .await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        encrypt_with(&alice, &key, &[("tenant", "acme")]).await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        encrypt_with(&alice, &key, &[("tenant", "acme"), ("stage", "PROD")]).await,
        &refusal("kms:Encrypt"),
    );
    assert_denied(
        data_key_with(&alice, &key, &[("tenant", "acme")]).await,
        &refusal("kms:GenerateDataKey"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grant_tokens_are_optional_but_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");

    let (_, token) = grant(
        &admin,
        &key,
        &alice_arn,
        &[GrantOperation::Encrypt, GrantOperation::Decrypt],
    )
    .await;

    // With its own token.
    let sealed = alice
        .encrypt()
        .key_id(&key)
        .plaintext(blob(b"with token"))
        .grant_tokens(&token)
        .send()
        .await
        .expect("Encrypt with the grant token")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();
    alice
        .decrypt()
        .key_id(&key)
        .ciphertext_blob(sealed)
        .grant_tokens(&token)
        .send()
        .await
        .expect("Decrypt with the grant token");

    // At most 10 grant tokens in a request.
    let eleven = (0..11).fold(
        alice.encrypt().key_id(&key).plaintext(blob(b"x")),
        |request, _| request.grant_tokens(&token),
    );
    expect_error(eleven.send().await, VALIDATION, 400);
    let ten = (0..10).fold(
        alice.encrypt().key_id(&key).plaintext(blob(b"x")),
        |request, _| request.grant_tokens(&token),
    );
    ten.send().await.expect("Encrypt with 10 grant tokens");

    // A string that is no grant token.
    expect_error(
        alice
            .encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .grant_tokens("not-a-grant-token")
            .send()
            .await,
        "InvalidGrantTokenException",
        400,
    );
    // Even for a caller who needs no grant.
    expect_error(
        admin
            .encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .grant_tokens("not-a-grant-token")
            .send()
            .await,
        "InvalidGrantTokenException",
        400,
    );
}

// ------------------------------------------------------------- CreateGrant

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_grant_checks_operations_constraints_and_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let grantee = user_arn("alice");

    // No such operation.
    expect_error(
        grant_request(
            &admin,
            &key,
            &grantee,
            &[GrantOperation::from("EncryptEverything")],
        )
        .send()
        .await,
        VALIDATION,
        400,
    );
    // Operations the key does not support. AWS: "If you specify an
    // unsupported operation, the CreateGrant request fails with a
    // ValidationError exception."
    expect_error(
        grant_request(&admin, &key, &grantee, &[GrantOperation::Sign])
            .send()
            .await,
        VALIDATION,
        400,
    );
    expect_error(
        grant_request(
            &admin,
            &key,
            &grantee,
            &[GrantOperation::Encrypt, GrantOperation::Verify],
        )
        .send()
        .await,
        VALIDATION,
        400,
    );

    // A signing key: no encryption, no data keys, no constraints.
    let signing = common::new_key_of(&admin, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    grant(
        &admin,
        &signing,
        &grantee,
        &[GrantOperation::Sign, GrantOperation::Verify],
    )
    .await;
    expect_error(
        grant_request(&admin, &signing, &grantee, &[GrantOperation::Encrypt])
            .send()
            .await,
        VALIDATION,
        400,
    );
    expect_error(
        grant_request(
            &admin,
            &signing,
            &grantee,
            &[GrantOperation::GenerateDataKey],
        )
        .send()
        .await,
        VALIDATION,
        400,
    );
    // "You cannot use encryption context grant constraints in a grant for
    // an asymmetric KMS key."
    expect_error(
        grant_request(&admin, &signing, &grantee, &[GrantOperation::Sign])
            .constraints(
                GrantConstraints::builder()
                    .encryption_context_subset("tenant", "acme")
                    .build(),
            )
            .send()
            .await,
        VALIDATION,
        400,
    );

    // No such key.
    let missing = "1234abcd-12ab-34cd-56ef-1234567890ab";
    expect_error(
        grant_request(&admin, missing, &grantee, &[GrantOperation::Encrypt])
            .send()
            .await,
        NOT_FOUND,
        400,
    );
    expect_error(
        grant_request(&admin, &arn(missing), &grantee, &[GrantOperation::Encrypt])
            .send()
            .await,
        NOT_FOUND,
        400,
    );

    // The same name and parameters on the same key: the same grant.
    let named = || {
        grant_request(
            &admin,
            &key,
            &grantee,
            &[GrantOperation::Encrypt, GrantOperation::Decrypt],
        )
        .name("nightly-backup")
    };
    let (first, _) = ids_of(&named().send().await.expect("CreateGrant named"));
    let (again, _) = ids_of(&named().send().await.expect("CreateGrant named, again"));
    assert_eq!(
        first, again,
        "a retried named CreateGrant returns its grant"
    );
    let listed = all_grants(&admin, &key, 100).await;
    assert_eq!(ids(&listed), vec![first.clone()], "one grant, not two");

    // DryRun: the request would have succeeded; nothing is created.
    expect_error(
        grant_request(&admin, &key, &grantee, &[GrantOperation::Encrypt])
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException",
        412,
    );
    assert_eq!(ids(&all_grants(&admin, &key, 100).await), vec![first]);

    // A grant name is letters, digits and `:/_-` (the API's pattern).
    expect_error(
        grant_request(&admin, &key, &grantee, &[GrantOperation::Encrypt])
            .name("no spaces allowed")
            .send()
            .await,
        VALIDATION,
        400,
    );
}

// -------------------------------------------------------------- ListGrants

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_grants_describes_each_grant_filters_and_pages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice_arn = user_arn("alice");
    let bob_arn = user_arn("bob");
    let carol_keys = user_with_key(&admin_iam, "carol").await;
    let carol = kms_as(&server, &carol_keys);

    assert!(
        all_grants(&admin, &key, 100).await.is_empty(),
        "a new key has no grants"
    );

    let full = grant_request(
        &admin,
        &key,
        &alice_arn,
        &[GrantOperation::Decrypt, GrantOperation::Encrypt],
    )
    .retiring_principal(&bob_arn)
    .name("app-1")
    .constraints(
        GrantConstraints::builder()
            .encryption_context_subset("tenant", "acme")
            .build(),
    )
    .send()
    .await
    .expect("CreateGrant with every field");
    let (full_id, _) = ids_of(&full);
    let (second_id, _) = grant(&admin, &key, &alice_arn, &[GrantOperation::GenerateDataKey]).await;
    let (third_id, _) = grant(&admin, &key_arn, &bob_arn, &[GrantOperation::Encrypt]).await;

    let listed = admin
        .list_grants()
        .key_id(&key)
        .send()
        .await
        .expect("ListGrants");
    assert!(!listed.truncated());
    assert_eq!(
        ids(listed.grants()),
        sorted(&[&full_id, &second_id, &third_id])
    );
    let entry = listed
        .grants()
        .iter()
        .find(|g| g.grant_id() == Some(full_id.as_str()))
        .expect("the first grant is listed");
    assert_eq!(
        entry.key_id(),
        Some(key_arn.as_str()),
        "KeyId is the key ARN"
    );
    assert_eq!(entry.name(), Some("app-1"));
    assert_eq!(entry.grantee_principal(), Some(alice_arn.as_str()));
    assert_eq!(entry.retiring_principal(), Some(bob_arn.as_str()));
    assert_eq!(entry.issuing_account(), Some(ISSUING_ACCOUNT));
    assert_eq!(operation_names(entry), vec!["Decrypt", "Encrypt"]);
    let created = entry.creation_date().expect("CreationDate");
    assert!(
        created.secs() > 1_577_836_800,
        "CreationDate is a real date: {created:?}"
    );
    let constraints = entry.constraints().expect("Constraints");
    assert_eq!(
        constraints.encryption_context_subset(),
        Some(&context(&[("tenant", "acme")]))
    );
    assert_eq!(constraints.encryption_context_equals(), None);
    let plain = listed
        .grants()
        .iter()
        .find(|g| g.grant_id() == Some(second_id.as_str()))
        .expect("the second grant is listed");
    assert_eq!(plain.retiring_principal(), None);
    assert_eq!(plain.constraints(), None);
    assert_eq!(plain.issuing_account(), Some(ISSUING_ACCOUNT));
    assert_eq!(operation_names(plain), vec!["GenerateDataKey"]);

    // Filters.
    let by_id = admin
        .list_grants()
        .key_id(&key_arn)
        .grant_id(&second_id)
        .send()
        .await
        .expect("ListGrants by GrantId");
    assert_eq!(ids(by_id.grants()), vec![second_id.clone()]);
    let by_grantee = admin
        .list_grants()
        .key_id(&key)
        .grantee_principal(&alice_arn)
        .send()
        .await
        .expect("ListGrants by GranteePrincipal");
    assert_eq!(ids(by_grantee.grants()), sorted(&[&full_id, &second_id]));

    // Pages of one and of two: every grant once.
    let one_by_one = all_grants(&admin, &key, 1).await;
    assert_eq!(one_by_one.len(), 3, "no grant twice: {one_by_one:?}");
    assert_eq!(ids(&one_by_one), sorted(&[&full_id, &second_id, &third_id]));
    let first_page = admin
        .list_grants()
        .key_id(&key)
        .limit(2)
        .send()
        .await
        .expect("ListGrants, Limit 2");
    assert_eq!(first_page.grants().len(), 2);
    assert!(first_page.truncated());
    assert!(first_page.next_marker().is_some());
    assert_eq!(all_grants(&admin, &key, 2).await.len(), 3);

    // Limit is 1 to 100.
    for limit in [0, 101] {
        expect_error(
            admin.list_grants().key_id(&key).limit(limit).send().await,
            VALIDATION,
            400,
        );
    }
    // No such key.
    expect_error(
        admin
            .list_grants()
            .key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
            .send()
            .await,
        NOT_FOUND,
        400,
    );

    // kms:ListGrants on the key, from the caller's policies.
    assert_denied(
        carol.list_grants().key_id(&key).send().await,
        &denied(
            &user_arn("carol"),
            "kms:ListGrants",
            &key_arn,
            &no_identity_allows("kms:ListGrants"),
        ),
    );
    put_user_policy(&admin_iam, "carol", "list", &allow(&["kms:ListGrants"])).await;
    let seen = carol
        .list_grants()
        .key_id(&key)
        .send()
        .await
        .expect("ListGrants once allowed");
    assert_eq!(seen.grants().len(), 3);

    // A marker no ListGrants returned.
    expect_error(
        admin
            .list_grants()
            .key_id(&key)
            .marker("not-a-marker")
            .send()
            .await,
        "InvalidMarkerException",
        400,
    );
}

// ----------------------------------------------------- retiring and revoking

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retire_grant_by_the_retiring_principal_the_grantee_or_the_account() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");
    let bob = kms_as(&server, &user_with_key(&admin_iam, "bob").await);
    let bob_arn = user_arn("bob");
    let carol = kms_as(&server, &user_with_key(&admin_iam, "carol").await);
    // None of them has any IAM policy.

    // 1. The retiring principal, by grant token.
    let out = grant_request(&admin, &key, &alice_arn, &[GrantOperation::Encrypt])
        .retiring_principal(&bob_arn)
        .send()
        .await
        .expect("CreateGrant with a retiring principal");
    let (by_token, token) = ids_of(&out);
    encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt under the grant");
    // Neither a bystander nor the grantee (no RetireGrant in the grant).
    assert_refused(carol.retire_grant().grant_token(&token).send().await);
    assert_refused(
        alice
            .retire_grant()
            .key_id(&key_arn)
            .grant_id(&by_token)
            .send()
            .await,
    );
    bob.retire_grant()
        .grant_token(&token)
        .send()
        .await
        .expect("RetireGrant by the retiring principal, by token");
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &denied(
            &alice_arn,
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
    assert!(all_grants(&admin, &key, 100).await.is_empty());

    // 2. The grantee, when the grant lists RetireGrant, by key ARN and id.
    let (self_retired, _) = grant(
        &admin,
        &key,
        &alice_arn,
        &[GrantOperation::Encrypt, GrantOperation::RetireGrant],
    )
    .await;
    encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt under the second grant");
    alice
        .retire_grant()
        .key_id(&key_arn)
        .grant_id(&self_retired)
        .send()
        .await
        .expect("RetireGrant by the grantee");
    assert_refused(encrypt_with(&alice, &key, &[]).await);
    assert!(all_grants(&admin, &key, 100).await.is_empty());

    // 3. A principal of the issuing account whose policies allow
    //    kms:RetireGrant: the administrator.
    let (by_admin, _) = grant(&admin, &key, &alice_arn, &[GrantOperation::Encrypt]).await;
    assert_refused(
        carol
            .retire_grant()
            .key_id(&key_arn)
            .grant_id(&by_admin)
            .send()
            .await,
    );
    encrypt_with(&alice, &key, &[])
        .await
        .expect("a refused RetireGrant leaves the grant in force");
    admin
        .retire_grant()
        .key_id(&key_arn)
        .grant_id(&by_admin)
        .send()
        .await
        .expect("RetireGrant by the administrator");
    assert_refused(encrypt_with(&alice, &key, &[]).await);
    assert!(all_grants(&admin, &key, 100).await.is_empty());

    // No such grant: never created, or already retired.
    expect_error(
        admin
            .retire_grant()
            .key_id(&key_arn)
            .grant_id(NO_SUCH_GRANT)
            .send()
            .await,
        NOT_FOUND,
        400,
    );
    expect_error(
        admin
            .retire_grant()
            .key_id(&key_arn)
            .grant_id(&by_admin)
            .send()
            .await,
        NOT_FOUND,
        400,
    );

    // The grant must be named: by token, or by key ARN and grant id.
    expect_error(admin.retire_grant().send().await, VALIDATION, 400);
    expect_error(
        admin.retire_grant().grant_id(NO_SUCH_GRANT).send().await,
        VALIDATION,
        400,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_retirable_grants_names_a_principals_grants_on_every_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let first_key = new_key(&admin).await;
    let second_key = new_key(&admin).await;
    let alice_arn = user_arn("alice");
    let bob_arn = user_arn("bob");
    let carol = kms_as(&server, &user_with_key(&admin_iam, "carol").await);

    let retirable = |key: &str, retiring: &str| {
        grant_request(&admin, key, &alice_arn, &[GrantOperation::Encrypt])
            .retiring_principal(retiring)
            .send()
    };
    let (on_first, _) = ids_of(&retirable(&first_key, &bob_arn).await.expect("CreateGrant"));
    let (on_second, _) = ids_of(&retirable(&second_key, &bob_arn).await.expect("CreateGrant"));
    let (for_carol, _) = ids_of(
        &retirable(&first_key, &user_arn("carol"))
            .await
            .expect("CreateGrant"),
    );
    // A grant with no retiring principal is nobody's to list.
    grant(&admin, &first_key, &alice_arn, &[GrantOperation::Decrypt]).await;

    let bobs = admin
        .list_retirable_grants()
        .retiring_principal(&bob_arn)
        .send()
        .await
        .expect("ListRetirableGrants");
    assert!(!bobs.truncated());
    assert_eq!(ids(bobs.grants()), sorted(&[&on_first, &on_second]));
    for entry in bobs.grants() {
        let expected_key = if entry.grant_id() == Some(on_first.as_str()) {
            arn(&first_key)
        } else {
            arn(&second_key)
        };
        assert_eq!(entry.key_id(), Some(expected_key.as_str()));
        assert_eq!(entry.retiring_principal(), Some(bob_arn.as_str()));
        assert_eq!(entry.grantee_principal(), Some(alice_arn.as_str()));
        assert_eq!(entry.issuing_account(), Some(ISSUING_ACCOUNT));
        assert_eq!(operation_names(entry), vec!["Encrypt"]);
    }

    // Pages of one.
    let page = admin
        .list_retirable_grants()
        .retiring_principal(&bob_arn)
        .limit(1)
        .send()
        .await
        .expect("ListRetirableGrants, Limit 1");
    assert_eq!(page.grants().len(), 1);
    assert!(page.truncated());
    let rest = admin
        .list_retirable_grants()
        .retiring_principal(&bob_arn)
        .limit(1)
        .marker(page.next_marker().expect("NextMarker"))
        .send()
        .await
        .expect("ListRetirableGrants, second page");
    assert_eq!(rest.grants().len(), 1);
    assert!(!rest.truncated());
    assert_eq!(
        sorted(&[
            page.grants()[0].grant_id().expect("GrantId"),
            rest.grants()[0].grant_id().expect("GrantId"),
        ]),
        sorted(&[&on_first, &on_second])
    );

    // Decided by IAM policy alone.
    assert_refused(
        carol
            .list_retirable_grants()
            .retiring_principal(user_arn("carol"))
            .send()
            .await,
    );
    put_user_policy(
        &admin_iam,
        "carol",
        "retirable",
        &allow(&["kms:ListRetirableGrants"]),
    )
    .await;
    let carols = carol
        .list_retirable_grants()
        .retiring_principal(user_arn("carol"))
        .send()
        .await
        .expect("ListRetirableGrants once allowed");
    assert_eq!(ids(carols.grants()), vec![for_carol]);

    // Retired grants are no longer retirable.
    admin
        .retire_grant()
        .key_id(arn(&first_key))
        .grant_id(&on_first)
        .send()
        .await
        .expect("RetireGrant");
    let bobs = admin
        .list_retirable_grants()
        .retiring_principal(&bob_arn)
        .send()
        .await
        .expect("ListRetirableGrants after a retirement");
    assert_eq!(ids(bobs.grants()), vec![on_second]);

    // Only grants of keys in the caller's Region: KMS is Regional.
    let paris = common::client_with(&server, "eu-west-3", common::ACCESS_KEY, common::SECRET_KEY);
    let paris_key = new_key(&paris).await;
    let (in_paris, _) = ids_of(
        &grant_request(&paris, &paris_key, &alice_arn, &[GrantOperation::Encrypt])
            .retiring_principal(&bob_arn)
            .send()
            .await
            .expect("CreateGrant in eu-west-3"),
    );
    let bobs_here = admin
        .list_retirable_grants()
        .retiring_principal(&bob_arn)
        .send()
        .await
        .expect("ListRetirableGrants in us-east-1");
    assert!(
        !ids(bobs_here.grants()).contains(&in_paris),
        "a grant of eu-west-3 is not listed in us-east-1"
    );
    let bobs_there = paris
        .list_retirable_grants()
        .retiring_principal(&bob_arn)
        .send()
        .await
        .expect("ListRetirableGrants in eu-west-3");
    assert_eq!(ids(bobs_there.grants()), vec![in_paris]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_grant_needs_kms_revoke_grant_and_takes_effect_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");
    let bob = kms_as(&server, &user_with_key(&admin_iam, "bob").await);
    let bob_arn = user_arn("bob");

    let (id, _) = grant(
        &admin,
        &key,
        &alice_arn,
        &[GrantOperation::Encrypt, GrantOperation::RetireGrant],
    )
    .await;
    let (kept, _) = grant(&admin, &key, &bob_arn, &[GrantOperation::Encrypt]).await;
    encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt under the grant");

    // Neither a bystander nor the grantee may revoke without kms:RevokeGrant
    // (retiring is not revoking).
    assert_denied(
        bob.revoke_grant().key_id(&key).grant_id(&id).send().await,
        &denied(
            &bob_arn,
            "kms:RevokeGrant",
            &key_arn,
            &no_identity_allows("kms:RevokeGrant"),
        ),
    );
    assert_denied(
        alice.revoke_grant().key_id(&key).grant_id(&id).send().await,
        &denied(
            &alice_arn,
            "kms:RevokeGrant",
            &key_arn,
            &no_identity_allows("kms:RevokeGrant"),
        ),
    );
    encrypt_with(&alice, &key, &[])
        .await
        .expect("a refused RevokeGrant leaves the grant in force");

    // With an IAM policy allowing it.
    put_user_policy(&admin_iam, "bob", "revoke", &allow(&["kms:RevokeGrant"])).await;
    bob.revoke_grant()
        .key_id(&key)
        .grant_id(&id)
        .send()
        .await
        .expect("RevokeGrant once allowed");
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &denied(
            &alice_arn,
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
    assert_eq!(ids(&all_grants(&admin, &key, 100).await), vec![kept]);
    encrypt_with(&bob, &key, &[])
        .await
        .expect("another grant of the key is untouched");

    // No such grant: never created, or already revoked.
    for missing in [NO_SUCH_GRANT, id.as_str()] {
        expect_error(
            admin
                .revoke_grant()
                .key_id(&key_arn)
                .grant_id(missing)
                .send()
                .await,
            NOT_FOUND,
            400,
        );
    }
}

// ------------------------------------------------------- denies and principals

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_deny_wins_over_a_grant() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");

    grant(
        &admin,
        &key,
        &alice_arn,
        &[GrantOperation::Encrypt, GrantOperation::Decrypt],
    )
    .await;
    let sealed = encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt under the grant")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();

    // A Deny in the grantee's identity policy.
    let deny_encrypt = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "kms:Encrypt", "Resource": key_arn}],
    })
    .to_string();
    put_user_policy(&admin_iam, "alice", "no-encrypt", &deny_encrypt).await;
    assert_denied(
        encrypt_with(&alice, &key, &[]).await,
        &denied(&alice_arn, "kms:Encrypt", &key_arn, DENY_IN_IDENTITY_POLICY),
    );
    decrypt_with(&alice, &key, &sealed, &[])
        .await
        .expect("Decrypt, which nothing denies");

    // A Deny in the key policy.
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(key_policy(&[
            account_statement(),
            json!({
                "Effect": "Deny",
                "Principal": {"AWS": alice_arn},
                "Action": "kms:Decrypt",
                "Resource": "*",
            }),
        ]))
        .send()
        .await
        .expect("PutKeyPolicy");
    assert_denied(
        decrypt_with(&alice, &key, &sealed, &[]).await,
        &denied(&alice_arn, "kms:Decrypt", &key_arn, DENY_IN_KEY_POLICY),
    );

    // The denies gone, the grant allows again.
    admin_iam
        .delete_user_policy()
        .user_name("alice")
        .policy_name("no-encrypt")
        .send()
        .await
        .expect("DeleteUserPolicy");
    admin
        .put_key_policy()
        .key_id(&key)
        .policy(key_policy(&[account_statement()]))
        .send()
        .await
        .expect("PutKeyPolicy");
    encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt once the identity Deny is gone");
    decrypt_with(&alice, &key, &sealed, &[])
        .await
        .expect("Decrypt once the key policy Deny is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_to_a_role_allows_every_session_of_the_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let sts = sts_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    // Two roles with no permission policy at all.
    for role in ["worker", "bystander"] {
        admin_iam
            .create_role()
            .role_name(role)
            .assume_role_policy_document(trust(&format!(
                "arn:aws:iam::{ACCOUNT}:user/custos-admin"
            )))
            .send()
            .await
            .expect("CreateRole");
    }

    grant(
        &admin,
        &key,
        &role_arn("worker"),
        &[GrantOperation::Encrypt, GrantOperation::DescribeKey],
    )
    .await;
    let listed = all_grants(&admin, &key, 100).await;
    assert_eq!(
        listed[0].grantee_principal(),
        Some(role_arn("worker").as_str())
    );

    for session in ["s1", "s2"] {
        let kms = kms_as(&server, &assume(&sts, "worker", session).await);
        encrypt_with(&kms, &key, &[])
            .await
            .expect("Encrypt by a session of the grantee role");
        kms.describe_key()
            .key_id(&key)
            .send()
            .await
            .expect("DescribeKey by a session of the grantee role");
        assert_denied(
            data_key_with(&kms, &key, &[]).await,
            &denied(
                &format!("arn:aws:sts::{ACCOUNT}:assumed-role/worker/{session}"),
                "kms:GenerateDataKey",
                &key_arn,
                &no_identity_allows("kms:GenerateDataKey"),
            ),
        );
    }
    // Another role's session is not the grantee.
    let other = kms_as(&server, &assume(&sts, "bystander", "s1").await);
    assert_denied(
        encrypt_with(&other, &key, &[]).await,
        &denied(
            &format!("arn:aws:sts::{ACCOUNT}:assumed-role/bystander/s1"),
            "kms:Encrypt",
            &key_arn,
            &no_identity_allows("kms:Encrypt"),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_lets_a_user_of_another_account_use_the_key_by_its_arn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin = kms_as(&server, &Keys::admin());
    let other = server.create_account(None).await.expect("a second account");
    let b = other.account_id.clone();
    let b_admin_keys = Keys::of_account(&other.access_key_id, other.secret.expose_secret());
    let b_iam = iam_as(&server, &b_admin_keys);
    let reader = kms_as(&server, &user_with_key(&b_iam, "reader").await);
    let reader_arn = format!("arn:aws:iam::{b}:user/reader");
    let b_admin = kms_as(&server, &b_admin_keys);

    // A's key with its default key policy: nothing names account B.
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    assert_denied(
        encrypt_with(&reader, &key_arn, &[]).await,
        &denied(
            &reader_arn,
            "kms:Encrypt",
            &key_arn,
            &no_resource_allows("kms:Encrypt"),
        ),
    );

    let (id, _) = grant(
        &admin,
        &key,
        &reader_arn,
        &[GrantOperation::Encrypt, GrantOperation::Decrypt],
    )
    .await;
    let listed = all_grants(&admin, &key, 100).await;
    assert_eq!(listed[0].grantee_principal(), Some(reader_arn.as_str()));
    assert_eq!(listed[0].issuing_account(), Some(ISSUING_ACCOUNT));

    // AWS documents this ("Allowing users in other accounts to use a KMS
    // key", step 2): "users and roles in the external account cannot use
    // the KMS key until you attach IAM policies that delegate those
    // permissions, or use grants to manage access to the KMS key." A grant
    // is enough by itself: `reader` has no IAM policy in account B, and
    // the key policy does not name B.
    let sealed = encrypt_with(&reader, &key_arn, &[])
        .await
        .expect("Encrypt across accounts under a grant, no IAM policy")
        .ciphertext_blob()
        .expect("CiphertextBlob")
        .clone();
    let opened = decrypt_with(&reader, &key_arn, &sealed, &[])
        .await
        .expect("Decrypt across accounts under a grant");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), b"payload");
    assert_eq!(opened.key_id(), Some(key_arn.as_str()));

    // Only what the grant lists.
    assert_refused(data_key_with(&reader, &key_arn, &[]).await);
    // By key id alone, B's own account is meant.
    expect_error(encrypt_with(&reader, &key, &[]).await, NOT_FOUND, 400);
    // The grant names reader, not B's administrator.
    assert_denied(
        encrypt_with(&b_admin, &key_arn, &[]).await,
        &denied(
            &format!("arn:aws:iam::{b}:user/custos-admin"),
            "kms:Encrypt",
            &key_arn,
            &no_resource_allows("kms:Encrypt"),
        ),
    );

    // Revoked: refused again at once.
    admin
        .revoke_grant()
        .key_id(&key)
        .grant_id(&id)
        .send()
        .await
        .expect("RevokeGrant");
    assert_denied(
        encrypt_with(&reader, &key_arn, &[]).await,
        &denied(
            &reader_arn,
            "kms:Encrypt",
            &key_arn,
            &no_resource_allows("kms:Encrypt"),
        ),
    );

    // ListRetirableGrants shows another account nothing of this one. AWS:
    // "You must specify a principal in your AWS account."
    let (retirable, _) = ids_of(
        &grant_request(&admin, &key, &reader_arn, &[GrantOperation::Encrypt])
            .retiring_principal(user_arn("alice"))
            .send()
            .await
            .expect("CreateGrant with a retiring principal of this account"),
    );
    match b_admin
        .list_retirable_grants()
        .retiring_principal(user_arn("alice"))
        .send()
        .await
    {
        Err(_) => {}
        Ok(out) => assert!(
            !ids(out.grants()).contains(&retirable),
            "account {b} lists a grant of account {ACCOUNT}: {:?}",
            out.grants()
        ),
    }
}

// ------------------------------------------------------------- key states

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_follow_the_key_state() {
    // "Key states of AWS KMS keys": CreateGrant fails on a disabled key
    // (DisabledException) and on a key pending deletion
    // (KMSInvalidStateException); ListGrants, RetireGrant and RevokeGrant
    // succeed in every state. A grant lasts until its key is deleted.
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let admin_iam = iam(&server);
    let admin = kms_as(&server, &Keys::admin());
    let key = new_key(&admin).await;
    let key_arn = arn(&key);
    let alice = kms_as(&server, &user_with_key(&admin_iam, "alice").await);
    let alice_arn = user_arn("alice");

    let (kept, _) = grant(&admin, &key, &alice_arn, &[GrantOperation::Encrypt]).await;
    let (revoked, _) = grant(&admin, &key, &alice_arn, &[GrantOperation::Decrypt]).await;
    admin
        .schedule_key_deletion()
        .key_id(&key)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("ScheduleKeyDeletion");

    // Pending deletion: the grants are still there.
    assert_eq!(
        ids(&all_grants(&admin, &key, 100).await),
        sorted(&[&kept, &revoked])
    );
    // The grantee is authorized, but the key is not usable.
    let pending = format!("{key_arn} is pending deletion.");
    assert_eq!(
        expect_error(
            encrypt_with(&alice, &key, &[]).await,
            "KMSInvalidStateException",
            400,
        ),
        pending
    );
    assert_eq!(
        expect_error(
            grant_request(&admin, &key, &alice_arn, &[GrantOperation::Decrypt])
                .send()
                .await,
            "KMSInvalidStateException",
            400,
        ),
        pending
    );
    admin
        .revoke_grant()
        .key_id(&key)
        .grant_id(&revoked)
        .send()
        .await
        .expect("RevokeGrant on a key pending deletion");
    assert_eq!(
        ids(&all_grants(&admin, &key, 100).await),
        vec![kept.clone()]
    );

    // Cancelled, the key is disabled.
    admin
        .cancel_key_deletion()
        .key_id(&key)
        .send()
        .await
        .expect("CancelKeyDeletion");
    let disabled = format!("{key_arn} is disabled.");
    assert_eq!(
        expect_error(
            encrypt_with(&alice, &key, &[]).await,
            "DisabledException",
            400,
        ),
        disabled
    );
    assert_eq!(ids(&all_grants(&admin, &key, 100).await), vec![kept]);

    // Enabled again: the grant that was kept is in force.
    admin
        .enable_key()
        .key_id(&key)
        .send()
        .await
        .expect("EnableKey");
    encrypt_with(&alice, &key, &[])
        .await
        .expect("Encrypt under the kept grant once the key is enabled");
    assert_refused(
        alice
            .decrypt()
            .key_id(&key)
            .ciphertext_blob(encrypt(&admin, &key, b"x").await)
            .send()
            .await,
    );

    // Disabled again: no new grant.
    admin
        .disable_key()
        .key_id(&key)
        .send()
        .await
        .expect("DisableKey");
    assert_eq!(
        expect_error(
            grant_request(&admin, &key, &alice_arn, &[GrantOperation::Decrypt])
                .send()
                .await,
            "DisabledException",
            400,
        ),
        disabled
    );
}
