//! Authentication: from an untrusted request to a [`Caller`].
//!
//! The one place a [`Caller`] is made. The steps, in order:
//!
//! 1. parse the SigV4 information (structure only) and check the
//!    credential scope: the service the endpoint answers for, and for
//!    regional services a region it serves;
//! 2. find the credential: a session token (`ASIA…` with
//!    `X-Amz-Security-Token`) is opened with the store key and its expiry
//!    and revocation checked — an expired session is reported as expired
//!    before its signature is looked at, as AWS does; a long-term key
//!    (`AKIA…`) is read from the store and must be active, its user must
//!    exist;
//! 3. verify the signature with that secret, in constant time;
//! 4. only then build the caller, with the identity policies that apply
//!    to it.
//!
//! Credentials, their signing keys and their parsed policies are cached
//! per access key id for [`CREDENTIAL_TTL`]. Every IAM write on a node
//! empties that node's cache at once; other nodes see a change (a deleted
//! or deactivated key, a detached policy) within `CREDENTIAL_TTL`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custos_crypto::SecretBytes;
use custos_policy::{Policy, PolicyKind};
use custos_sigv4::{AuthError, RequestParts, SigningKey, Verified};
use custos_store::{Batch, Engine, Table};

use crate::caller::{Caller, IdentityPolicies, Principal};
use crate::names::{AccountId, Region};
use crate::records::{self, AccessKeyRecord, LastUsedRecord, RoleRecord, UserRecord};
use crate::session::{self, SessionPrincipal};
use crate::{Iam, IamError};

/// How long a looked-up credential is trusted without looking again: the
/// bound on how long a deleted or deactivated key, or a changed policy,
/// can go on being honoured by a node that did not make the change.
pub const CREDENTIAL_TTL: Duration = Duration::from_secs(10);
/// Beyond this many cached credentials the cache is emptied: a flood of
/// distinct access key ids cannot grow it without bound.
const MAX_CACHED: usize = 10_000;
/// Last-used times are written at most this often per key and node.
const LAST_USED_EVERY_MS: i64 = 60 * 60 * 1000;

/// Why a request was not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthFailure {
    /// The SigV4 information is missing, malformed, out of date, scoped
    /// elsewhere, or the signature does not match; or the access key is
    /// unknown.
    #[error(transparent)]
    Signature(#[from] AuthError),
    /// A session token that is not one of ours, or does not belong to the
    /// access key id it came with.
    #[error("invalid security token")]
    InvalidToken,
    /// A session token past its expiry.
    #[error("expired security token")]
    ExpiredToken,
    /// The store or a record failed.
    #[error(transparent)]
    Internal(#[from] IamError),
}

/// How the request reached us.
#[derive(Debug, Clone, Copy)]
pub struct Connection {
    pub peer: Option<IpAddr>,
    /// Whether it came over TLS.
    pub secure: bool,
}

/// Which service an endpoint answers for, and in which regions.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The SigV4 service name: `kms`, `iam`, `sts`.
    pub service: &'static str,
    /// The regions served, or `None` for a service that answers in any
    /// region (IAM is global; with a custom endpoint the SDKs sign IAM and
    /// STS requests with the client's own region).
    pub regions: Option<&'a [Region]>,
    /// Headers the service acts on, which must be signed when present.
    pub signed_headers: &'static [&'static str],
    /// How long a presigned request may live, in seconds; `None`: presigned
    /// requests are refused.
    pub presigned_lifetime: Option<u32>,
}

/// What a cached credential gives a request: its account, principal,
/// signing key for the request's scope, identity policies, principal tags,
/// session facts, and whether this request should write the key's
/// last-used time.
type Found = (
    AccountId,
    Principal,
    Arc<SigningKey>,
    Arc<IdentityPolicies>,
    Vec<(String, String)>,
    Option<SessionFacts>,
    bool,
);

/// The credential behind an access key id, as cached.
struct Credential {
    account: AccountId,
    principal: Principal,
    secret: Arc<SecretBytes>,
    signing_key: Option<Arc<SigningKey>>,
    policies: Arc<IdentityPolicies>,
    principal_tags: Vec<(String, String)>,
    session: Option<SessionFacts>,
    last_used_written_ms: Option<i64>,
    fetched: Instant,
}

#[derive(Clone)]
struct SessionFacts {
    issued_ms: i64,
    expires_ms: i64,
    tags: Vec<(String, String)>,
    /// SHA-256 of the token the session was opened from: a cached session
    /// answers only to that token.
    token_digest: [u8; 32],
}

/// The credential cache.
#[derive(Default)]
pub(crate) struct CredentialCache {
    entries: Mutex<HashMap<String, Credential>>,
    /// Bumped by every `clear`: a credential loaded while an IAM write
    /// cleared the cache may predate that write, and is not kept.
    generation: std::sync::atomic::AtomicU64,
    /// Authentications that found their credential cached, and those that
    /// read it from the store.
    pub(crate) hits: std::sync::atomic::AtomicU64,
    pub(crate) misses: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache").finish_non_exhaustive()
    }
}

impl CredentialCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Credential>> {
        // Poisoning would mean a panic while holding the map; the entries
        // are still whole.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        entries.clear();
    }

    fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// `now_ms` as a time, for the SigV4 clock checks.
fn instant(now_ms: i64) -> Result<time::OffsetDateTime, AuthFailure> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .map_err(|_| AuthError::UnrecognizedClient.into())
}

impl<E: Engine> Iam<E> {
    /// Verifies the SigV4 signature of `request` for `scope` and returns
    /// who signed it.
    pub async fn authenticate(
        &self,
        request: &RequestParts<'_>,
        connection: Connection,
        scope: Scope<'_>,
    ) -> Result<Caller, AuthFailure> {
        let mut signed = custos_sigv4::parse(request)?;
        signed.limit_presigned(scope.service, scope.presigned_lifetime)?;
        let region = match scope.regions {
            Some(served) => served
                .iter()
                .find(|r| r.as_str() == signed.region())
                .cloned()
                .ok_or_else(|| AuthError::WrongScope {
                    region: Some(signed.region().to_owned()),
                    expected_service: (signed.service() != scope.service)
                        .then(|| scope.service.to_owned()),
                })?,
            None => Region::parse(signed.region()).ok_or_else(|| AuthError::WrongScope {
                region: Some(signed.region().to_owned()),
                expected_service: None,
            })?,
        };
        signed.check_scope(region.as_str(), scope.service)?;
        // A session token that is not signed could be swapped for another.
        signed.require_signed(request.headers, "X-Amz-Security-Token")?;
        for &header in scope.signed_headers {
            signed.require_signed(request.headers, header)?;
        }

        let now_ms = self.clock.now_ms();
        let access_key_id = signed.access_key_id().to_owned();
        let (account, principal, key, policies, principal_tags, session, write_last_used) =
            self.credential(&signed, now_ms, true).await?;
        let verified = signed.verify_with_key(&key, instant(now_ms)?)?;
        if write_last_used {
            self.record_last_used(&access_key_id, scope.service, region.as_str(), now_ms)
                .await;
        }
        Ok(make_caller(
            verified,
            account,
            region,
            principal,
            connection,
            policies,
            principal_tags,
            session,
        ))
    }

    /// Credential cache lookups so far, one per request (at its precheck):
    /// (found cached, read from the store).
    pub fn credential_cache_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.cache.hits.load(Relaxed),
            self.cache.misses.load(Relaxed),
        )
    }

    /// What can be checked before the body is read: the SigV4 structure,
    /// the clock, and that the access key (or session token) is one of
    /// ours and usable. A server reads a large body only for a request
    /// that passes; one that fails is still authenticated in full, with
    /// what little body it sent, for its error and its audit record.
    pub async fn precheck(&self, request: &RequestParts<'_>) -> Result<(), AuthFailure> {
        let signed = custos_sigv4::parse(request)?;
        let now_ms = self.clock.now_ms();
        signed.check_time(instant(now_ms)?)?;
        self.credential(&signed, now_ms, false).await.map(|_| ())
    }

    /// The credential behind the request's access key id, from the cache or
    /// the store, with a signing key for its scope. `authenticating`: this
    /// is the request's authentication, not its precheck: it claims the
    /// write of the key's last-used time if one is due. The precheck, which
    /// every request passes through first, is what the cache statistics
    /// count (after it, the authentication finds the credential cached).
    async fn credential(
        &self,
        signed: &custos_sigv4::SignedRequest<'_>,
        now_ms: i64,
        authenticating: bool,
    ) -> Result<Found, AuthFailure> {
        let access_key_id = signed.access_key_id();
        let counter = |c: &std::sync::atomic::AtomicU64| {
            if !authenticating {
                c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let hit = match self.cached(access_key_id, signed, now_ms, authenticating)? {
            Some(hit) => {
                counter(&self.cache.hits);
                hit
            }
            None => {
                counter(&self.cache.misses);
                let generation = self.cache.generation();
                let credential = self
                    .load_credential(access_key_id, signed.security_token(), now_ms)
                    .await?;
                self.remember(access_key_id, credential);
                let hit = self.cached(access_key_id, signed, now_ms, authenticating);
                if self.cache.generation() != generation {
                    // An IAM write landed while this credential was
                    // read: good enough for this request, which raced
                    // with it, but not to be kept for the next ones.
                    self.cache.lock().remove(access_key_id);
                }
                hit?.ok_or(AuthFailure::Signature(AuthError::UnrecognizedClient))?
            }
        };
        // A session key is only ever valid with its token, and a long-term
        // key never with one.
        match (&hit.5, signed.security_token()) {
            (Some(_), None) | (None, Some(_)) => Err(AuthFailure::InvalidToken),
            _ => Ok(hit),
        }
    }

    /// A fresh cached credential for the request's key id, with a signing
    /// key for its scope. Checks a cached session's expiry every time.
    fn cached(
        &self,
        access_key_id: &str,
        signed: &custos_sigv4::SignedRequest<'_>,
        now_ms: i64,
        authenticating: bool,
    ) -> Result<Option<Found>, AuthFailure> {
        let mut cache = self.cache.lock();
        let Some(entry) = cache.get_mut(access_key_id) else {
            return Ok(None);
        };
        if entry.fetched.elapsed() > CREDENTIAL_TTL {
            cache.remove(access_key_id);
            return Ok(None);
        }
        if let Some(s) = &entry.session {
            let same_token = signed
                .security_token()
                .is_some_and(|t| custos_crypto::mac::sha256(t.as_bytes()) == s.token_digest);
            if !same_token {
                // Another token with this key id: open it afresh.
                cache.remove(access_key_id);
                return Ok(None);
            }
            if now_ms >= s.expires_ms {
                return Err(AuthFailure::ExpiredToken);
            }
        }
        let (date, region, service) = (signed.scope_date(), signed.region(), signed.service());
        let key = match &entry.signing_key {
            Some(k) if k.is_for(date, region, service) => Arc::clone(k),
            _ => {
                let k = Arc::new(SigningKey::derive(&entry.secret, date, region, service));
                entry.signing_key = Some(Arc::clone(&k));
                k
            }
        };
        let write_last_used = entry.session.is_none()
            && entry
                .last_used_written_ms
                .is_none_or(|t| now_ms - t >= LAST_USED_EVERY_MS);
        if write_last_used && authenticating {
            entry.last_used_written_ms = Some(now_ms);
        }
        Ok(Some((
            entry.account.clone(),
            entry.principal.clone(),
            key,
            Arc::clone(&entry.policies),
            entry.principal_tags.clone(),
            entry.session.clone(),
            write_last_used,
        )))
    }

    fn remember(&self, access_key_id: &str, credential: Credential) {
        let mut cache = self.cache.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(access_key_id.to_owned(), credential);
    }

    /// Reads the credential behind `access_key_id` from the store, or from
    /// its session token.
    async fn load_credential(
        &self,
        access_key_id: &str,
        token: Option<&str>,
        now_ms: i64,
    ) -> Result<Credential, AuthFailure> {
        if let Some(token) = token {
            return self.load_session(access_key_id, token, now_ms).await;
        }
        let Some(key) = self.access_key(access_key_id).await? else {
            return Err(AuthError::UnrecognizedClient.into());
        };
        if !key.active {
            return Err(AuthError::UnrecognizedClient.into());
        }
        let account = AccountId::parse(&key.account_id).ok_or_else(|| IamError::Corrupt {
            what: format!("access key {access_key_id}"),
        })?;
        let Some(user) = self.user_record(&account, &key.user_name).await? else {
            return Err(AuthError::UnrecognizedClient.into());
        };
        if user.record.user_id != key.user_id {
            // The user was deleted and another made with the same name.
            return Err(AuthError::UnrecognizedClient.into());
        }
        let user = user.record;
        let policies = self.user_policies(&account, &user).await?;
        Ok(Credential {
            principal: Principal::User {
                name: user.name.clone(),
                user_id: user.user_id.clone(),
                arn: crate::arn::user(&account, &user.path, &user.name),
            },
            account,
            secret: Arc::new(SecretBytes::from_slice(key.secret.as_bytes())),
            signing_key: None,
            policies: Arc::new(policies),
            principal_tags: user.tags.clone(),
            session: None,
            last_used_written_ms: None,
            fetched: Instant::now(),
        })
    }

    async fn load_session(
        &self,
        access_key_id: &str,
        token: &str,
        now_ms: i64,
    ) -> Result<Credential, AuthFailure> {
        let claims =
            session::open(&self.sealer, access_key_id, token).ok_or(AuthFailure::InvalidToken)?;
        if now_ms >= claims.expires_ms {
            return Err(AuthFailure::ExpiredToken);
        }
        let account = AccountId::parse(&claims.account_id).ok_or(AuthFailure::InvalidToken)?;
        let session_policies = self
            .session_policies(&account, claims.policy.as_deref(), &claims.policy_arns)
            .await?;
        let facts = SessionFacts {
            issued_ms: claims.issued_ms,
            expires_ms: claims.expires_ms,
            tags: claims.tags.clone(),
            token_digest: custos_crypto::mac::sha256(token.as_bytes()),
        };
        let secret = Arc::new(SecretBytes::from_slice(claims.secret.as_bytes()));
        let (principal, policies, principal_tags) = match &claims.principal {
            SessionPrincipal::Role {
                role_name,
                role_id,
                role_path,
                session_name,
            } => {
                let Some(role) = self.role_record(&account, role_name).await? else {
                    return Err(AuthFailure::InvalidToken);
                };
                let role: RoleRecord = role.record;
                if &role.role_id != role_id {
                    return Err(AuthFailure::InvalidToken);
                }
                let mut policies = self.role_policies(&account, &role).await?;
                policies.session = session_policies;
                let mut tags = role.tags.clone();
                tags.extend(claims.tags.iter().cloned());
                (
                    Principal::AssumedRole {
                        role_name: role.name.clone(),
                        role_id: role.role_id.clone(),
                        role_arn: crate::arn::role(&account, role_path, &role.name),
                        session_name: session_name.clone(),
                        arn: crate::arn::assumed_role(&account, &role.name, session_name),
                    },
                    policies,
                    tags,
                )
            }
            SessionPrincipal::User {
                user_name, user_id, ..
            } => {
                let Some(user) = self.user_record(&account, user_name).await? else {
                    return Err(AuthFailure::InvalidToken);
                };
                let user: UserRecord = user.record;
                if &user.user_id != user_id {
                    return Err(AuthFailure::InvalidToken);
                }
                let policies = self.user_policies(&account, &user).await?;
                (
                    Principal::UserSession {
                        name: user.name.clone(),
                        user_id: user.user_id.clone(),
                        arn: crate::arn::user(&account, &user.path, &user.name),
                    },
                    policies,
                    user.tags.clone(),
                )
            }
        };
        Ok(Credential {
            account,
            principal,
            secret,
            signing_key: None,
            policies: Arc::new(policies),
            principal_tags,
            session: Some(facts),
            last_used_written_ms: None,
            fetched: Instant::now(),
        })
    }

    /// The access key record for `access_key_id`.
    pub(crate) async fn access_key(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, IamError> {
        Ok(records::load::<_, AccessKeyRecord>(
            &self.engine,
            &self.sealer,
            Table::Identities,
            access_key_id.as_bytes(),
        )
        .await?
        .map(|l| l.record))
    }

    /// Every policy that applies to `user`: its own inline and attached
    /// policies and those of its groups.
    pub(crate) async fn user_policies(
        &self,
        account: &AccountId,
        user: &UserRecord,
    ) -> Result<IdentityPolicies, IamError> {
        let mut texts: Vec<String> = user.inline_policies.values().cloned().collect();
        let mut attached = user.attached.clone();
        for group in &user.groups {
            if let Some(g) = self.group_record(account, group).await? {
                texts.extend(g.record.inline_policies.values().cloned());
                attached.extend(g.record.attached.iter().cloned());
            }
        }
        texts.extend(self.managed_documents(account, &attached).await?);
        Ok(IdentityPolicies {
            identity: texts
                .iter()
                .map(|t| parse_stored(t))
                .collect::<Result<_, _>>()?,
            session: Vec::new(),
            boundary: self
                .boundary(account, user.permissions_boundary.as_ref())
                .await?,
        })
    }

    pub(crate) async fn role_policies(
        &self,
        account: &AccountId,
        role: &RoleRecord,
    ) -> Result<IdentityPolicies, IamError> {
        let mut texts: Vec<String> = role.inline_policies.values().cloned().collect();
        texts.extend(self.managed_documents(account, &role.attached).await?);
        Ok(IdentityPolicies {
            identity: texts
                .iter()
                .map(|t| parse_stored(t))
                .collect::<Result<_, _>>()?,
            session: Vec::new(),
            boundary: self
                .boundary(account, role.permissions_boundary.as_ref())
                .await?,
        })
    }

    /// The permissions boundary `arn` names, if any.
    async fn boundary(
        &self,
        account: &AccountId,
        arn: Option<&String>,
    ) -> Result<Option<Arc<Policy>>, IamError> {
        match arn {
            Some(arn) => Ok(self
                .narrowing(account, std::slice::from_ref(arn))
                .await?
                .pop()),
            None => Ok(None),
        }
    }

    async fn session_policies(
        &self,
        account: &AccountId,
        inline: Option<&str>,
        arns: &[String],
    ) -> Result<Vec<Arc<Policy>>, IamError> {
        let mut out = Vec::new();
        if let Some(text) = inline {
            out.push(parse_stored(text)?);
        }
        out.extend(self.narrowing(account, arns).await?);
        Ok(out)
    }

    /// The managed policies `arns` as policies that only narrow (a
    /// permissions boundary, session policies): one that cannot be read —
    /// deleted since it was named, or of another account — allows nothing,
    /// so that its absence narrows rather than lifts the restriction.
    async fn narrowing(
        &self,
        account: &AccountId,
        arns: &[String],
    ) -> Result<Vec<Arc<Policy>>, IamError> {
        let mut out = Vec::with_capacity(arns.len());
        for arn in arns {
            out.push(match self.managed_document(account, arn).await? {
                Some(text) => parse_stored(&text)?,
                None => parse_stored(ALLOWS_NOTHING)?,
            });
        }
        Ok(out)
    }

    /// The default versions of the managed policies `arns` (of `account`;
    /// another account's policy cannot be attached).
    pub(crate) async fn managed_documents(
        &self,
        account: &AccountId,
        arns: &[String],
    ) -> Result<Vec<String>, IamError> {
        let mut out = Vec::with_capacity(arns.len());
        for arn in arns {
            out.extend(self.managed_document(account, arn).await?);
        }
        Ok(out)
    }

    /// The default version of the managed policy `arn` of `account`, if
    /// there is one.
    async fn managed_document(
        &self,
        account: &AccountId,
        arn: &str,
    ) -> Result<Option<String>, IamError> {
        let Some((acct, _, name)) = crate::arn::parse_policy(arn) else {
            return Ok(None);
        };
        if acct != account.as_str() {
            return Ok(None);
        }
        Ok(self
            .policy_record(account, name)
            .await?
            .and_then(|p| p.record.default_document().map(str::to_owned)))
    }

    async fn record_last_used(
        &self,
        access_key_id: &str,
        service: &str,
        region: &str,
        now_ms: i64,
    ) {
        let row = records::last_used_row(access_key_id);
        let record = LastUsedRecord {
            format: records::RECORD_FORMAT,
            used_ms: now_ms,
            service: service.to_owned(),
            region: region.to_owned(),
        };
        let result = async {
            let bytes = records::seal_record(&self.sealer, Table::Iam, &row, &record)?;
            let mut batch = Batch::new();
            batch.put(Table::Iam, row, bytes);
            self.engine.commit(batch).await?;
            Ok::<_, IamError>(())
        }
        .await;
        // Best effort: a lost last-used time must not fail the request.
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not record when an access key was last used");
        }
    }
}

/// Parses a policy document read from the store (checked when written).
/// One that no longer parses is refused, never ignored: ignoring a policy
/// could ignore a Deny.
/// A policy that allows nothing (no action is outside `NotAction: *`).
const ALLOWS_NOTHING: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"*","Resource":"*"}]}"#;

pub(crate) fn parse_stored(text: &str) -> Result<Arc<Policy>, IamError> {
    Policy::parse(text, PolicyKind::Identity)
        .map(Arc::new)
        .map_err(|_| IamError::Corrupt {
            what: "stored policy document".into(),
        })
}

#[allow(
    clippy::too_many_arguments,
    reason = "the caller's parts, assembled once"
)]
fn make_caller(
    verified: Verified,
    account: AccountId,
    region: Region,
    principal: Principal,
    connection: Connection,
    policies: Arc<IdentityPolicies>,
    principal_tags: Vec<(String, String)>,
    session: Option<SessionFacts>,
) -> Caller {
    Caller {
        account,
        region,
        access_key_id: verified.access_key_id().to_owned(),
        principal,
        source_ip: connection.peer,
        secure_transport: connection.secure,
        token_issued_ms: session.as_ref().map(|s| s.issued_ms),
        session_tags: session.map(|s| s.tags).unwrap_or_default(),
        principal_tags,
        policies,
    }
}
