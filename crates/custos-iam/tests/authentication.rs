//! The IAM domain's authentication, driven by requests the real
//! `aws-sigv4` signer signs: who a signature names, what happens when a
//! key is deactivated or a record is edited on disk, sessions and their
//! expiry, and the upgrade of a data directory of the first format.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use custos_crypto::seal::{self, Sealer};
use custos_crypto::{Key256, SecretBytes};
use custos_iam::{AccountId, AuthFailure, Caller, Connection, Iam, Principal, Region, Scope};
use custos_iam_wire::{IamRequest, IamResponse, Params, StsRequest, StsResponse};
use custos_store::clock::ManualClock;
use custos_store::redb::RedbEngine;
use custos_store::{Batch, Engine, Table};

const ACCOUNT: &str = "111122223333";
const ADMIN_KEY: &str = "AKIAADMINADMINADMIN1";
const ADMIN_SECRET: &str = "admin-secret-admin-secret-admin-secret00";

struct Rig {
    _dir: tempfile::TempDir,
    engine: RedbEngine,
    iam: Iam<RedbEngine>,
    clock: Arc<ManualClock>,
    account: AccountId,
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
    )
    .expect("fits")
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = RedbEngine::open(&dir.path().join("store.redb")).expect("store");
    let sealer = Arc::new(Sealer::new(Key256::generate().expect("rng")));
    let clock = Arc::new(ManualClock::new(now_ms()));
    let iam = Iam::new(engine.clone(), sealer, clock.clone());
    let account = AccountId::parse(ACCOUNT).expect("account");
    iam.ensure_bootstrap(
        &account,
        Some((
            ADMIN_KEY.into(),
            SecretBytes::from_slice(ADMIN_SECRET.as_bytes()),
        )),
    )
    .await
    .expect("bootstrap");
    Rig {
        _dir: dir,
        engine,
        iam,
        clock,
        account,
    }
}

/// A request signed by `aws-sigv4` for `service` at `at` (ms).
struct Signed {
    headers: http::HeaderMap,
    body: Vec<u8>,
}

fn signed(
    service: &str,
    id: &str,
    secret: &str,
    token: Option<&str>,
    at_ms: i64,
    body: &str,
) -> Signed {
    let credentials = Credentials::new(id, secret, token.map(str::to_owned), None, "test");
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(
            SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at_ms).expect("positive")),
        )
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let mut request = http::Request::builder()
        .method("POST")
        .uri("/")
        .header("host", "custos.test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.as_bytes().to_vec())
        .expect("request");
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().expect("ascii")))
        .collect();
    let signable = SignableRequest::new(
        "POST",
        "https://custos.test/",
        headers.into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("signs").into_parts();
    instructions.apply_to_request_http1x(&mut request);
    let (head, body) = request.into_parts();
    Signed {
        headers: head.headers,
        body,
    }
}

impl Rig {
    async fn authenticate_as(
        &self,
        service: &'static str,
        id: &str,
        secret: &str,
        token: Option<&str>,
        body: &str,
    ) -> Result<Caller, AuthFailure> {
        let s = signed(service, id, secret, token, self.clock.now_wall_ms(), body);
        let parts = custos_sigv4::RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &s.headers,
            body: &s.body,
        };
        let regions = [Region::parse("us-east-1").expect("region")];
        self.iam
            .authenticate(
                &parts,
                Connection {
                    peer: None,
                    secure: true,
                },
                Scope {
                    service,
                    regions: (service == "kms").then_some(&regions[..]),
                    signed_headers: &[],
                    presigned_lifetime: None,
                },
            )
            .await
    }

    async fn admin(&self) -> Caller {
        self.authenticate_as("iam", ADMIN_KEY, ADMIN_SECRET, None, "Action=ListUsers")
            .await
            .expect("the administrator authenticates")
    }

    async fn iam(&self, caller: &Caller, form: &str) -> Result<IamResponse, custos_iam::IamError> {
        let params: Params = custos_iam_wire::parse_form(form.as_bytes()).expect("form");
        let request = IamRequest::parse(&params).expect("valid request");
        self.iam.iam_request(caller, request).await
    }

    /// A new user with an access key; its key id and secret.
    async fn user_with_key(&self, name: &str) -> (String, String) {
        let admin = self.admin().await;
        self.iam(
            &admin,
            &format!("Action=CreateUser&Version=2010-05-08&UserName={name}"),
        )
        .await
        .expect("CreateUser");
        match self
            .iam(
                &admin,
                &format!("Action=CreateAccessKey&Version=2010-05-08&UserName={name}"),
            )
            .await
            .expect("CreateAccessKey")
        {
            IamResponse::CreateAccessKey(r) => (
                r.access_key.access_key_id.clone(),
                String::from_utf8(r.access_key.secret_access_key.expose_secret().to_vec())
                    .expect("ascii"),
            ),
            other => panic!("unexpected {other:?}"),
        }
    }
}

trait WallMs {
    fn now_wall_ms(&self) -> i64;
}

impl WallMs for ManualClock {
    fn now_wall_ms(&self) -> i64 {
        custos_store::clock::Clock::now_ms(self)
    }
}

#[tokio::test]
async fn a_signature_names_its_user_and_account() {
    let rig = rig().await;
    let admin = rig.admin().await;
    assert_eq!(admin.account(), &rig.account);
    assert_eq!(
        admin.principal_arn(),
        "arn:aws:iam::111122223333:user/custos-admin"
    );
    let (id, secret) = rig.user_with_key("billing-svc").await;
    let caller = rig
        .authenticate_as("kms", &id, &secret, None, "{}")
        .await
        .expect("authenticates");
    assert!(matches!(caller.principal(), Principal::User { name, .. } if name == "billing-svc"));
    // The wrong secret, an unknown key: refused.
    assert!(matches!(
        rig.authenticate_as("kms", &id, ADMIN_SECRET, None, "{}")
            .await,
        Err(AuthFailure::Signature(
            custos_sigv4::AuthError::InvalidSignature
        ))
    ));
    assert!(matches!(
        rig.authenticate_as("kms", "AKIANOBODYNOBODYNOBO", &secret, None, "{}")
            .await,
        Err(AuthFailure::Signature(
            custos_sigv4::AuthError::UnrecognizedClient
        ))
    ));
}

#[tokio::test]
async fn a_deactivated_or_deleted_key_is_refused_at_once() {
    let rig = rig().await;
    let (id, secret) = rig.user_with_key("svc").await;
    rig.authenticate_as("kms", &id, &secret, None, "{}")
        .await
        .expect("works first");
    let admin = rig.admin().await;
    rig.iam(
        &admin,
        &format!("Action=UpdateAccessKey&Version=2010-05-08&UserName=svc&AccessKeyId={id}&Status=Inactive"),
    )
    .await
    .expect("deactivate");
    assert!(matches!(
        rig.authenticate_as("kms", &id, &secret, None, "{}").await,
        Err(AuthFailure::Signature(
            custos_sigv4::AuthError::UnrecognizedClient
        ))
    ));
    rig.iam(
        &admin,
        &format!(
            "Action=UpdateAccessKey&Version=2010-05-08&UserName=svc&AccessKeyId={id}&Status=Active"
        ),
    )
    .await
    .expect("reactivate");
    rig.authenticate_as("kms", &id, &secret, None, "{}")
        .await
        .expect("works again");
    rig.iam(
        &admin,
        &format!("Action=DeleteAccessKey&Version=2010-05-08&UserName=svc&AccessKeyId={id}"),
    )
    .await
    .expect("delete");
    assert!(
        rig.authenticate_as("kms", &id, &secret, None, "{}")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn edited_records_are_refused_not_obeyed() {
    let rig = rig().await;
    let (id, secret) = rig.user_with_key("svc").await;
    // Re-activating a key by editing its record: flip a byte anywhere in
    // the sealed record and it no longer opens.
    let admin = rig.admin().await;
    rig.iam(
        &admin,
        &format!("Action=UpdateAccessKey&Version=2010-05-08&UserName=svc&AccessKeyId={id}&Status=Inactive"),
    )
    .await
    .expect("deactivate");
    let sealed = rig
        .engine
        .get(Table::Identities, id.as_bytes())
        .await
        .expect("read")
        .expect("present");
    for i in [1, sealed.len() / 2, sealed.len() - 1] {
        let mut edited = sealed.clone();
        edited[i] ^= 0x01;
        let mut batch = Batch::new();
        batch.put(Table::Identities, id.as_bytes().to_vec(), edited);
        rig.engine.commit(batch).await.expect("write");
        // Refused credentials are never cached: each try reads the store.
        assert!(
            matches!(
                rig.authenticate_as("kms", &id, &secret, None, "{}").await,
                Err(AuthFailure::Internal(custos_iam::IamError::Corrupt { .. }))
            ),
            "byte {i}"
        );
    }
    // A user record copied onto another user's row does not open there.
    let admin_row = b"user/111122223333/custos-admin".to_vec();
    let svc_row = b"user/111122223333/svc".to_vec();
    let admin_record = rig
        .engine
        .get(Table::Iam, &admin_row)
        .await
        .expect("read")
        .expect("present");
    let mut batch = Batch::new();
    batch.put(Table::Iam, svc_row, admin_record);
    rig.engine.commit(batch).await.expect("write");
    let admin = rig.admin().await;
    assert!(matches!(
        rig.iam(&admin, "Action=GetUser&Version=2010-05-08&UserName=svc")
            .await,
        Err(custos_iam::IamError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn sessions_work_until_they_expire() {
    let rig = rig().await;
    let (id, secret) = rig.user_with_key("svc").await;
    let user = rig
        .authenticate_as("sts", &id, &secret, None, "Action=GetSessionToken")
        .await
        .expect("user");
    let params = custos_iam_wire::parse_form(
        b"Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900",
    )
    .expect("form");
    let StsResponse::GetSessionToken(r) = rig
        .iam
        .sts_request(&user, StsRequest::parse(&params).expect("parse"))
        .await
        .expect("GetSessionToken")
    else {
        panic!("unexpected response");
    };
    let c = &r.credentials;
    assert!(c.access_key_id.starts_with("ASIA"));
    let session_secret =
        String::from_utf8(c.secret_access_key.expose_secret().to_vec()).expect("ascii");
    let caller = rig
        .authenticate_as(
            "kms",
            &c.access_key_id,
            &session_secret,
            Some(&c.session_token),
            "{}",
        )
        .await
        .expect("session works");
    assert!(matches!(caller.principal(), Principal::UserSession { name, .. } if name == "svc"));
    // Without its token, or with another's: refused.
    assert!(matches!(
        rig.authenticate_as("kms", &c.access_key_id, &session_secret, None, "{}")
            .await,
        Err(AuthFailure::InvalidToken
            | AuthFailure::Signature(custos_sigv4::AuthError::UnrecognizedClient))
    ));
    let mut tampered = c.session_token.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    assert!(matches!(
        rig.authenticate_as(
            "kms",
            &c.access_key_id,
            &session_secret,
            Some(&tampered),
            "{}"
        )
        .await,
        Err(AuthFailure::InvalidToken)
    ));
    // 900 s later, expired.
    rig.clock.advance_ms(900_000);
    assert!(matches!(
        rig.authenticate_as(
            "kms",
            &c.access_key_id,
            &session_secret,
            Some(&c.session_token),
            "{}"
        )
        .await,
        Err(AuthFailure::ExpiredToken)
    ));
}

#[tokio::test]
async fn a_first_format_store_is_upgraded_keeping_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = RedbEngine::open(&dir.path().join("store.redb")).expect("store");
    let sealer = Arc::new(Sealer::new(Key256::generate().expect("rng")));
    // What Custos 0.1 wrote: one identity record, its secret sealed, and
    // the bootstrap marker.
    let sealed_secret = sealer
        .seal(
            &seal::aad("custos.identity-secret.v1", &[ADMIN_KEY.as_bytes()]),
            ADMIN_SECRET.as_bytes(),
        )
        .expect("seal");
    let record = format!(
        r#"{{"format":1,"access_key_id":"{ADMIN_KEY}","principal_arn":"arn:aws:iam::{ACCOUNT}:user/custos-admin","created_ms":1,"sealed_secret":"{}"}}"#,
        hex::encode(sealed_secret)
    );
    let mut batch = Batch::new();
    batch
        .put(
            Table::Identities,
            ADMIN_KEY.as_bytes().to_vec(),
            record.into_bytes(),
        )
        .put(
            Table::Meta,
            b"bootstrap-identity".to_vec(),
            ADMIN_KEY.as_bytes().to_vec(),
        );
    engine.commit(batch).await.expect("write");

    let clock = Arc::new(ManualClock::new(now_ms()));
    let iam = Iam::new(engine.clone(), sealer, clock.clone());
    let account = AccountId::parse(ACCOUNT).expect("account");
    let admin = iam.ensure_bootstrap(&account, None).await.expect("upgrade");
    assert_eq!(admin.access_key_id, ADMIN_KEY);
    assert!(admin.new_secret.is_none(), "the secret is not shown again");
    let rig = Rig {
        _dir: dir,
        engine,
        iam,
        clock,
        account,
    };
    // The old secret still signs, as the administrator.
    let caller = rig.admin().await;
    assert_eq!(
        caller.principal_arn(),
        "arn:aws:iam::111122223333:user/custos-admin"
    );
    // And a second start finds everything in place.
    let again = rig
        .iam
        .ensure_bootstrap(&rig.account, None)
        .await
        .expect("again");
    assert_eq!(again.access_key_id, ADMIN_KEY);
}
