//! The authentication step: from an untrusted request to a [`Caller`].
//!
//! Handlers never see a request that has not passed through here: the
//! only way to obtain a `Caller` in the server is [`Authenticator::authenticate`].
//!
//! Identities and derived signing keys are cached for a short time
//! ([`IDENTITY_TTL`]): looking up and unsealing an identity, and deriving
//! its SigV4 signing key (four HMACs), on every request would cost more
//! than the rest of a small `Encrypt`. A changed or removed identity is
//! therefore honoured within `IDENTITY_TTL`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custos_kms::{AccountId, Caller, Kms};
use custos_sigv4::{AuthError, RequestParts, SigningKey};
use custos_store::Engine;

use crate::error::ApiError;

/// The service name requests must be signed for.
const SERVICE: &str = "kms";
/// How long a looked-up identity is trusted without looking again.
pub(crate) const IDENTITY_TTL: Duration = Duration::from_secs(10);
/// Beyond this many cached identities the cache is emptied: a flood of
/// distinct access key ids cannot grow it without bound.
const MAX_CACHED: usize = 10_000;

struct Cached {
    principal_arn: String,
    account_id: AccountId,
    secret: Arc<custos_crypto::SecretBytes>,
    signing_key: Option<Arc<SigningKey>>,
    fetched: Instant,
}

/// Verifies requests, with a short-lived cache of identities.
#[derive(Default)]
pub(crate) struct Authenticator {
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Verifies the SigV4 signature of a request, with the secret of the
    /// identity it names, and checks its scope names a region we serve.
    pub(crate) async fn authenticate<E: Engine>(
        &self,
        kms: &Kms<E>,
        parts: &http::request::Parts,
        body: &[u8],
    ) -> Result<Caller, ApiError> {
        let request = RequestParts {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body,
        };
        let signed = custos_sigv4::parse(&request)?;
        // Custos issues no temporary credentials: a session token can only
        // be one it never issued.
        if signed.security_token().is_some() {
            return Err(AuthError::UnrecognizedClient.into());
        }
        let region =
            kms.served_region(signed.region())
                .cloned()
                .ok_or_else(|| AuthError::WrongScope {
                    region: Some(signed.region().to_owned()),
                    expected_service: (signed.service() != SERVICE).then(|| SERVICE.to_owned()),
                })?;
        signed.check_scope(region.as_str(), SERVICE)?;
        // The operation is named by a header: it must be signed, or a
        // signature given out for one operation could be replayed with
        // another.
        signed.require_signed(&parts.headers, "X-Amz-Target")?;

        let access_key_id = signed.access_key_id();
        let (principal_arn, account_id, key) = match self.cached(access_key_id, &signed) {
            Some(hit) => hit,
            None => {
                let identity = kms
                    .identity(access_key_id)
                    .await?
                    .ok_or(AuthError::UnrecognizedClient)?;
                let secret = Arc::new(identity.secret);
                let key = Arc::new(SigningKey::derive(
                    &secret,
                    signed.scope_date(),
                    signed.region(),
                    signed.service(),
                ));
                self.remember(
                    access_key_id,
                    Cached {
                        principal_arn: identity.principal_arn.clone(),
                        account_id: identity.account_id.clone(),
                        secret,
                        signing_key: Some(Arc::clone(&key)),
                        fetched: Instant::now(),
                    },
                );
                (identity.principal_arn, identity.account_id, key)
            }
        };
        signed.verify_with_key(&key, time::OffsetDateTime::now_utc())?;
        Ok(Caller {
            region,
            account_id,
            access_key_id: access_key_id.to_owned(),
            principal_arn,
        })
    }

    /// A fresh cached identity with a signing key for the request's scope,
    /// deriving (and caching) the key if the scope changed.
    fn cached(
        &self,
        access_key_id: &str,
        signed: &custos_sigv4::SignedRequest<'_>,
    ) -> Option<(String, AccountId, Arc<SigningKey>)> {
        // Poisoning would mean a panic while holding the map; the entries
        // are still whole.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let entry = cache.get_mut(access_key_id)?;
        if entry.fetched.elapsed() > IDENTITY_TTL {
            cache.remove(access_key_id);
            return None;
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
        Some((entry.principal_arn.clone(), entry.account_id.clone(), key))
    }

    fn remember(&self, access_key_id: &str, entry: Cached) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(access_key_id.to_owned(), entry);
    }
}
