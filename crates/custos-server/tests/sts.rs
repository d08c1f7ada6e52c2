//! STS through the official `aws-sdk-sts` client against the real server
//! over HTTPS: who a caller is, roles assumed (trust policies, external
//! ids, durations, session policies), session credentials signing KMS
//! requests, and sessions ending: by expiry (on an injected clock, never
//! by waiting), by a tampered token, and by revocation.

mod common;

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use common::iam::{
    Keys, allow, expect_error, iam, iam_as, kms_as, role_arn, sts_as, tamper, trust, user_arn,
    user_with_key,
};
use common::{ACCOUNT, config};
use custos_kms::ManualClock;
use custos_server::Running;

const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const EXPIRED_TOKEN: &str = "The security token included in the request is expired";

/// A server on a clock that moves only when the test says so, started at
/// the real time (so that SDK signatures, made on the real clock, are
/// current); the server, its clock and the start in milliseconds.
async fn start_clocked(dir: &std::path::Path) -> (Running, Arc<ManualClock>, i64) {
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis(),
    )
    .expect("milliseconds fit");
    let clock = Arc::new(ManualClock::new(now_ms));
    let server = custos_server::start_with_clock(config(dir), clock.clone())
        .await
        .expect("server starts");
    (server, clock, now_ms)
}

/// Asserts that an STS `Expiration` is `seconds` after `start_ms` (to the
/// second: the wire carries whole seconds).
#[track_caller]
fn assert_expires_after(
    expiration: &aws_sdk_sts::primitives::DateTime,
    start_ms: i64,
    seconds: i64,
) {
    let want = start_ms / 1000 + seconds;
    assert!(
        (expiration.secs() - want).abs() <= 1,
        "Expiration {} is not {seconds} s after the start ({want})",
        expiration.secs()
    );
}

/// Creates role `name` with `trust_policy` and an inline policy allowing
/// `actions`; the role's id.
async fn role(
    iam: &aws_sdk_iam::Client,
    name: &str,
    trust_policy: &str,
    actions: &[&str],
) -> String {
    let created = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust_policy)
        .send()
        .await
        .expect("CreateRole");
    if !actions.is_empty() {
        iam.put_role_policy()
            .role_name(name)
            .policy_name("permissions")
            .policy_document(allow(actions))
            .send()
            .await
            .expect("PutRolePolicy");
    }
    created.role().expect("Role").role_id().to_owned()
}

/// `AssumeRole` of `role` as session `session`; the session's keys.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_identity_of_users_role_sessions_and_user_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, _) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);

    let admin_id = admin_iam
        .get_user()
        .send()
        .await
        .expect("GetUser")
        .user()
        .expect("User")
        .user_id()
        .to_owned();
    let me = sts_as(&server, &Keys::admin())
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.user_id(), Some(admin_id.as_str()));
    assert!(admin_id.starts_with("AIDA"), "{admin_id}");
    assert_eq!(me.arn(), Some(user_arn("custos-admin").as_str()));
    assert_eq!(me.account(), Some(ACCOUNT));

    let billing = user_with_key(&admin_iam, "billing-svc").await;
    let billing_id = admin_iam
        .get_user()
        .user_name("billing-svc")
        .send()
        .await
        .expect("GetUser")
        .user()
        .expect("User")
        .user_id()
        .to_owned();
    let billing_sts = sts_as(&server, &billing);
    let me = billing_sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as billing-svc");
    assert_eq!(me.user_id(), Some(billing_id.as_str()));
    assert_eq!(me.arn(), Some(user_arn("billing-svc").as_str()));
    assert_eq!(me.account(), Some(ACCOUNT));

    let role_id = role(
        &admin_iam,
        "decryptor",
        &trust(&user_arn("billing-svc")),
        &[],
    )
    .await;
    let session = assume(&billing_sts, "decryptor", "job-42").await;
    let me = sts_as(&server, &session)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as the role session");
    assert_eq!(me.user_id(), Some(format!("{role_id}:job-42").as_str()));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/decryptor/job-42").as_str())
    );
    assert_eq!(me.account(), Some(ACCOUNT));

    let out = billing_sts
        .get_session_token()
        .send()
        .await
        .expect("GetSessionToken");
    let user_session = Keys::of_session(out.credentials().expect("Credentials"));
    let me = sts_as(&server, &user_session)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as the user session");
    assert_eq!(me.user_id(), Some(billing_id.as_str()));
    assert_eq!(me.arn(), Some(user_arn("billing-svc").as_str()));
    assert_eq!(me.account(), Some(ACCOUNT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_returns_session_credentials_and_the_assumed_role_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, start_ms) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    let billing = user_with_key(&admin_iam, "billing-svc").await;
    let role_id = role(
        &admin_iam,
        "decryptor",
        &trust(&user_arn("billing-svc")),
        &[],
    )
    .await;
    assert!(role_id.starts_with("AROA"), "{role_id}");

    let out = sts_as(&server, &billing)
        .assume_role()
        .role_arn(role_arn("decryptor"))
        .role_session_name("job-42")
        .send()
        .await
        .expect("AssumeRole");
    let creds = out.credentials().expect("Credentials");
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert_eq!(creds.access_key_id().len(), 20);
    assert!(!creds.secret_access_key().is_empty());
    assert!(!creds.session_token().is_empty());
    assert_expires_after(creds.expiration(), start_ms, 3600);
    let user = out.assumed_role_user().expect("AssumedRoleUser");
    assert_eq!(user.assumed_role_id(), format!("{role_id}:job-42"));
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/decryptor/job-42")
    );

    // Two sessions of the same role are two credentials.
    let again = assume(&sts_as(&server, &billing), "decryptor", "job-42").await;
    assert_ne!(again.id, creds.access_key_id());

    // The role's path is not part of the assumed-role ARN.
    admin_iam
        .create_role()
        .role_name("pathed")
        .path("/batch/")
        .assume_role_policy_document(trust(&user_arn("billing-svc")))
        .send()
        .await
        .expect("CreateRole with a path");
    let out = sts_as(&server, &billing)
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/batch/pathed"))
        .role_session_name("s1")
        .send()
        .await
        .expect("AssumeRole of a role with a path");
    assert_eq!(
        out.assumed_role_user().expect("AssumedRoleUser").arn(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/pathed/s1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_is_denied_unless_the_trust_policy_allows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, _) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    user_with_key(&admin_iam, "billing-svc").await;
    let stranger = user_with_key(&admin_iam, "stranger").await;
    role(
        &admin_iam,
        "decryptor",
        &trust(&user_arn("billing-svc")),
        &[],
    )
    .await;

    for (keys, who) in [(&stranger, "stranger"), (&Keys::admin(), "custos-admin")] {
        let message = expect_error(
            sts_as(&server, keys)
                .assume_role()
                .role_arn(role_arn("decryptor"))
                .role_session_name("sess")
                .send()
                .await,
            "AccessDenied",
            403,
        );
        assert_eq!(
            message,
            format!(
                "User: arn:aws:iam::111122223333:user/{who} is not authorized to perform: \
                 sts:AssumeRole on resource: arn:aws:iam::111122223333:role/decryptor"
            )
        );
    }
    // A role that does not exist is, to the caller, a role it may not assume.
    let message = expect_error(
        sts_as(&server, &stranger)
            .assume_role()
            .role_arn(role_arn("nobody"))
            .role_session_name("sess")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_eq!(
        message,
        "User: arn:aws:iam::111122223333:user/stranger is not authorized to perform: \
         sts:AssumeRole on resource: arn:aws:iam::111122223333:role/nobody"
    );

    // A trust policy naming the account delegates to identity policies.
    role(
        &admin_iam,
        "delegated",
        &trust(&format!("arn:aws:iam::{ACCOUNT}:root")),
        &[],
    )
    .await;
    expect_error(
        sts_as(&server, &stranger)
            .assume_role()
            .role_arn(role_arn("delegated"))
            .role_session_name("sess")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    let may_assume = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": role_arn("delegated"),
        }],
    })
    .to_string();
    admin_iam
        .put_user_policy()
        .user_name("stranger")
        .policy_name("may-assume")
        .policy_document(may_assume)
        .send()
        .await
        .expect("PutUserPolicy");
    let session = assume(&sts_as(&server, &stranger), "delegated", "sess").await;
    let me = sts_as(&server, &session)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/delegated/sess").as_str())
    );
    // The identity policy names only that role.
    expect_error(
        sts_as(&server, &stranger)
            .assume_role()
            .role_arn(role_arn("decryptor"))
            .role_session_name("sess")
            .send()
            .await,
        "AccessDenied",
        403,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_id_condition_is_honoured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, _) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    let partner = user_with_key(&admin_iam, "partner").await;
    let trust_with_external_id = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": user_arn("partner")},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "xyz"}},
        }],
    })
    .to_string();
    role(&admin_iam, "third-party", &trust_with_external_id, &[]).await;
    let sts = sts_as(&server, &partner);

    for external_id in [None, Some("abc"), Some("XYZ")] {
        let message = expect_error(
            sts.assume_role()
                .role_arn(role_arn("third-party"))
                .role_session_name("sess")
                .set_external_id(external_id.map(str::to_owned))
                .send()
                .await,
            "AccessDenied",
            403,
        );
        assert_eq!(
            message,
            "User: arn:aws:iam::111122223333:user/partner is not authorized to perform: \
             sts:AssumeRole on resource: arn:aws:iam::111122223333:role/third-party",
            "ExternalId {external_id:?}"
        );
    }
    let out = sts
        .assume_role()
        .role_arn(role_arn("third-party"))
        .role_session_name("sess")
        .external_id("xyz")
        .send()
        .await
        .expect("AssumeRole with the right ExternalId");
    assert!(out.credentials().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_seconds_is_bounded_by_the_roles_max_session_duration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, start_ms) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    let trust_admin = trust(&user_arn("custos-admin"));
    admin_iam
        .create_role()
        .role_name("two-hours")
        .assume_role_policy_document(&trust_admin)
        .max_session_duration(7200)
        .send()
        .await
        .expect("CreateRole");
    role(&admin_iam, "one-hour", &trust_admin, &[]).await;
    let sts = sts_as(&server, &Keys::admin());

    for seconds in [900, 3600, 7200] {
        let out = sts
            .assume_role()
            .role_arn(role_arn("two-hours"))
            .role_session_name("sess")
            .duration_seconds(seconds)
            .send()
            .await
            .expect("AssumeRole within the role's maximum");
        assert_expires_after(
            out.credentials().expect("Credentials").expiration(),
            start_ms,
            i64::from(seconds),
        );
    }
    for (role_name, seconds) in [("two-hours", 7201), ("one-hour", 3601), ("one-hour", 43200)] {
        let message = expect_error(
            sts.assume_role()
                .role_arn(role_arn(role_name))
                .role_session_name("sess")
                .duration_seconds(seconds)
                .send()
                .await,
            "ValidationError",
            400,
        );
        assert_eq!(
            message,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            "{role_name} for {seconds} s"
        );
    }
    expect_error(
        sts.assume_role()
            .role_arn(role_arn("one-hour"))
            .role_session_name("sess")
            .duration_seconds(899)
            .send()
            .await,
        "ValidationError",
        400,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_policy_narrows_what_the_role_allows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, _) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    role(
        &admin_iam,
        "lister",
        &trust(&user_arn("custos-admin")),
        &["iam:ListUsers", "iam:ListRoles"],
    )
    .await;
    let sts = sts_as(&server, &Keys::admin());

    let full = assume(&sts, "lister", "full").await;
    let as_full = iam_as(&server, &full);
    as_full
        .list_users()
        .send()
        .await
        .expect("ListUsers as the role");
    as_full
        .list_roles()
        .send()
        .await
        .expect("ListRoles as the role");
    let message = expect_error(
        as_full.create_user().user_name("x").send().await,
        "AccessDenied",
        403,
    );
    assert!(
        message.starts_with(&format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/lister/full is not authorized to perform: \
             iam:CreateUser"
        )),
        "{message}"
    );

    // The session policy allows ListRoles, and CreateUser which the role
    // does not: a session gets the intersection.
    let out = sts
        .assume_role()
        .role_arn(role_arn("lister"))
        .role_session_name("narrow")
        .policy(allow(&["iam:ListRoles", "iam:CreateUser"]))
        .send()
        .await
        .expect("AssumeRole with a session policy");
    let narrow = Keys::of_session(out.credentials().expect("Credentials"));
    let as_narrow = iam_as(&server, &narrow);
    as_narrow
        .list_roles()
        .send()
        .await
        .expect("ListRoles, allowed by both");
    let message = expect_error(as_narrow.list_users().send().await, "AccessDenied", 403);
    assert_eq!(
        message,
        format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/lister/narrow is not authorized to \
             perform: iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/* because no \
             session policy allows the iam:ListUsers action"
        )
    );
    expect_error(
        as_narrow.create_user().user_name("x").send().await,
        "AccessDenied",
        403,
    );
    // The wider session is untouched.
    as_full
        .list_users()
        .send()
        .await
        .expect("ListUsers as the full session still");

    expect_error(
        sts.assume_role()
            .role_arn(role_arn("lister"))
            .role_session_name("bad")
            .policy("{not json")
            .send()
            .await,
        "MalformedPolicyDocument",
        400,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_credentials_sign_kms_requests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, _) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    let admin_kms = kms_as(&server, &Keys::admin());
    role(
        &admin_iam,
        "app",
        &trust(&user_arn("custos-admin")),
        &["kms:*"],
    )
    .await;
    let session = assume(&sts_as(&server, &Keys::admin()), "app", "job-1").await;
    let kms = kms_as(&server, &session);

    let created = kms
        .create_key()
        .send()
        .await
        .expect("CreateKey as the role");
    let meta = created.key_metadata().expect("meta");
    let key_id = meta.key_id().to_owned();
    assert_eq!(meta.aws_account_id(), Some(ACCOUNT));
    let blob = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(b"from a role session".to_vec()))
        .send()
        .await
        .expect("Encrypt as the role")
        .ciphertext_blob()
        .expect("blob")
        .clone();
    let plain = kms
        .decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .expect("Decrypt as the role");
    assert_eq!(
        plain.plaintext().expect("Plaintext").as_ref(),
        b"from a role session"
    );
    let listed = kms.list_keys().send().await.expect("ListKeys as the role");
    assert!(
        listed
            .keys()
            .iter()
            .any(|k| k.key_id() == Some(key_id.as_str())),
        "{listed:?}"
    );
    // The key is the account's: the account's admin sees it and decrypts.
    let plain = admin_kms
        .decrypt()
        .ciphertext_blob(blob)
        .send()
        .await
        .expect("Decrypt as the admin");
    assert_eq!(
        plain.plaintext().expect("Plaintext").as_ref(),
        b"from a role session"
    );

    // A user's own session signs KMS requests too.
    let out = sts_as(&server, &Keys::admin())
        .get_session_token()
        .send()
        .await
        .expect("GetSessionToken");
    let user_session = Keys::of_session(out.credentials().expect("Credentials"));
    let listed = kms_as(&server, &user_session)
        .list_keys()
        .send()
        .await
        .expect("ListKeys with a user session");
    assert!(
        listed
            .keys()
            .iter()
            .any(|k| k.key_id() == Some(key_id.as_str())),
        "{listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_session_token_is_for_users_and_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, start_ms) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    let admin_sts = sts_as(&server, &Keys::admin());

    let out = admin_sts
        .get_session_token()
        .send()
        .await
        .expect("GetSessionToken");
    let creds = out.credentials().expect("Credentials");
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert!(!creds.session_token().is_empty());
    assert_expires_after(creds.expiration(), start_ms, 43200);
    let session = Keys::of_session(creds);
    for seconds in [900, 129600] {
        let out = admin_sts
            .get_session_token()
            .duration_seconds(seconds)
            .send()
            .await
            .expect("GetSessionToken within bounds");
        assert_expires_after(
            out.credentials().expect("Credentials").expiration(),
            start_ms,
            i64::from(seconds),
        );
    }
    for seconds in [899, 129601] {
        expect_error(
            admin_sts
                .get_session_token()
                .duration_seconds(seconds)
                .send()
                .await,
            "ValidationError",
            400,
        );
    }

    // Without MFA, a user's session may not call IAM, even an admin's.
    expect_error(
        iam_as(&server, &session).list_users().send().await,
        "AccessDenied",
        403,
    );
    // A role session cannot ask for one.
    role(
        &admin_iam,
        "r",
        &trust(&user_arn("custos-admin")),
        &["sts:*"],
    )
    .await;
    let role_session = assume(&admin_sts, "r", "sess").await;
    expect_error(
        sts_as(&server, &role_session)
            .get_session_token()
            .send()
            .await,
        "AccessDenied",
        403,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_are_refused_by_kms_sts_and_iam() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, clock, _) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    let admin_sts = sts_as(&server, &Keys::admin());
    role(
        &admin_iam,
        "admin-role",
        &trust(&user_arn("custos-admin")),
        &["*"],
    )
    .await;
    let out = admin_sts
        .assume_role()
        .role_arn(role_arn("admin-role"))
        .role_session_name("short")
        .duration_seconds(900)
        .send()
        .await
        .expect("AssumeRole");
    let role_session = Keys::of_session(out.credentials().expect("Credentials"));
    let out = admin_sts
        .get_session_token()
        .duration_seconds(900)
        .send()
        .await
        .expect("GetSessionToken");
    let user_session = Keys::of_session(out.credentials().expect("Credentials"));

    // Both work while current.
    iam_as(&server, &role_session)
        .list_users()
        .send()
        .await
        .expect("ListUsers as the role session");
    for session in [&role_session, &user_session] {
        sts_as(&server, session)
            .get_caller_identity()
            .send()
            .await
            .expect("GetCallerIdentity while current");
        kms_as(&server, session)
            .list_keys()
            .send()
            .await
            .expect("ListKeys while current");
    }

    // Half an hour later (the only move of the clock in this test).
    clock.advance_ms(30 * 60 * 1000);
    for session in [&role_session, &user_session] {
        let message = expect_error(
            kms_as(&server, session).list_keys().send().await,
            "ExpiredTokenException",
            400,
        );
        assert_eq!(message, EXPIRED_TOKEN);
        let err = sts_as(&server, session)
            .get_caller_identity()
            .send()
            .await
            .expect_err("STS refuses an expired session");
        let (code, message, status) = common::error_of(&err);
        assert_eq!(code, "ExpiredToken", "{err:?}");
        assert_eq!(message, EXPIRED_TOKEN);
        assert!(status == 403 || status == 400, "status {status}");
    }
    let err = iam_as(&server, &role_session)
        .list_users()
        .send()
        .await
        .expect_err("IAM refuses an expired session");
    let (code, message, status) = common::error_of(&err);
    assert_eq!(code, "ExpiredToken", "{err:?}");
    assert_eq!(message, EXPIRED_TOKEN);
    assert!(status == 403 || status == 400, "status {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_or_swapped_session_token_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock, _) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    role(
        &admin_iam,
        "app",
        &trust(&user_arn("custos-admin")),
        &["kms:*"],
    )
    .await;
    let admin_sts = sts_as(&server, &Keys::admin());
    let session = assume(&admin_sts, "app", "one").await;
    let other = assume(&admin_sts, "app", "two").await;
    let token = session.token.clone().expect("a session token");
    let tampered = session.with_token(&tamper(&token));

    async fn refused(server: &Running, keys: &Keys, what: &str) {
        let err = kms_as(server, keys)
            .list_keys()
            .send()
            .await
            .expect_err(what);
        let (code, message, status) = common::error_of(&err);
        assert_eq!(
            (code.as_str(), message.as_str(), status),
            ("UnrecognizedClientException", INVALID_TOKEN, 400),
            "KMS, {what}"
        );
        let err = sts_as(server, keys)
            .get_caller_identity()
            .send()
            .await
            .expect_err(what);
        let (code, message, status) = common::error_of(&err);
        assert_eq!(
            (code.as_str(), message.as_str(), status),
            ("InvalidClientTokenId", INVALID_TOKEN, 403),
            "STS, {what}"
        );
    }

    // Before the genuine session was ever used…
    refused(&server, &tampered, "a tampered token, first use").await;
    // …and after it was (whatever the server remembers of it).
    kms_as(&server, &session)
        .list_keys()
        .send()
        .await
        .expect("ListKeys with the genuine token");
    sts_as(&server, &session)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the genuine token");
    refused(&server, &tampered, "a tampered token after genuine use").await;
    // Another session's token with this session's key.
    let swapped = session.with_token(other.token.as_deref().expect("token"));
    refused(&server, &swapped, "another session's token").await;
    // The session key without its token, and a long-term key with a token.
    let bare = Keys::long_term(&session.id, &session.secret);
    refused(&server, &bare, "a session key without its token").await;
    let admin_with_token = Keys::admin().with_token(&token);
    refused(&server, &admin_with_token, "a long-term key with a token").await;
    // The genuine session still works.
    sts_as(&server, &session)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the genuine token still");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_older_sessions_ends_them_and_new_sessions_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, clock, start_ms) = start_clocked(dir.path()).await;
    let admin_iam = iam(&server);
    let admin_sts = sts_as(&server, &Keys::admin());
    role(
        &admin_iam,
        "revocable",
        &trust(&user_arn("custos-admin")),
        &["kms:*"],
    )
    .await;
    let old = assume(&admin_sts, "revocable", "old").await;
    kms_as(&server, &old)
        .list_keys()
        .send()
        .await
        .expect("ListKeys with the old session");

    // Two seconds later (well within the signature's allowed skew), revoke
    // every session issued before now, as the console's "Revoke active
    // sessions" does.
    clock.advance_ms(2000);
    let now = time::OffsetDateTime::from_unix_timestamp((start_ms + 2000) / 1000)
        .expect("a valid time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let revoke = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": now}},
        }],
    })
    .to_string();
    admin_iam
        .put_role_policy()
        .role_name("revocable")
        .policy_name("AWSRevokeOlderSessions")
        .policy_document(revoke)
        .send()
        .await
        .expect("PutRolePolicy AWSRevokeOlderSessions");

    // The revocation is a policy: older sessions meet its explicit deny,
    // on KMS and IAM alike, as on AWS.
    let message = expect_error(
        kms_as(&server, &old).list_keys().send().await,
        "AccessDeniedException",
        400,
    );
    assert!(
        message.ends_with("with an explicit deny in an identity-based policy"),
        "{message}"
    );
    let message = expect_error(
        iam_as(&server, &old).list_roles().send().await,
        "AccessDenied",
        403,
    );
    assert!(
        message.ends_with("with an explicit deny in an identity-based policy"),
        "{message}"
    );
    // GetCallerIdentity needs no permission: it still answers.
    sts_as(&server, &old)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity of a revoked session");

    let new = assume(&admin_sts, "revocable", "new").await;
    kms_as(&server, &new)
        .list_keys()
        .send()
        .await
        .expect("ListKeys with a session issued after the revocation");
    let me = sts_as(&server, &new)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity with the new session");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/revocable/new").as_str())
    );
}
