//! The authentication step: from an untrusted request to a [`Caller`].
//!
//! Handlers never see a request that has not passed through here: the
//! only way to obtain a `Caller` in the server is [`authenticate`].

use custos_kms::{Caller, Kms};
use custos_sigv4::{AuthError, RequestParts};
use custos_store::Engine;

use crate::error::ApiError;

/// The service name requests must be signed for.
const SERVICE: &str = "kms";

/// Verifies the SigV4 signature of a request, with the secret of the
/// identity it names, and checks its scope names a region we serve.
pub(crate) async fn authenticate<E: Engine>(
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
    // Custos issues no temporary credentials: a session token can only be
    // one it never issued.
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
    // The operation is named by a header: it must be signed, or a signature
    // given out for one operation could be replayed with another.
    signed.require_signed(&parts.headers, "X-Amz-Target")?;
    let identity = kms
        .identity(signed.access_key_id())
        .await?
        .ok_or(AuthError::UnrecognizedClient)?;
    signed.verify(&identity.secret, time::OffsetDateTime::now_utc())?;
    Ok(Caller {
        region,
        account_id: identity.account_id,
        access_key_id: identity.access_key_id,
        principal_arn: identity.principal_arn,
    })
}
