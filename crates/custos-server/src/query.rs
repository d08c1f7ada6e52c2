//! The AWS Query protocol, for IAM and STS: form-encoded requests
//! (`Action=…&Version=…`), XML responses and XML errors.
//!
//! The same pipeline as KMS requests, in another dialect: SigV4 (service
//! `iam` or `sts`, as the credential scope says; any region, since the
//! SDKs sign IAM and STS requests for a custom endpoint with the client's
//! own region) → typed request (`custos-iam-wire`) → the IAM domain →
//! audit → XML.

use std::net::SocketAddr;

use custos_iam::{Connection, Scope};
use custos_iam_wire::{IamRequest, Params, Service, StsRequest};
use zeroize::Zeroizing;

use crate::audit::Seen;
use crate::error::ApiError;
use crate::server::State;

/// The longest an IAM or STS presigned request lives, whatever its
/// `X-Amz-Expires` says.
const PRESIGNED_LIFETIME_SECS: u32 = 300;

/// Whether a request speaks the Query protocol: a form body, or a GET
/// with an `Action` in its query string.
pub(crate) fn is_query(parts: &http::request::Parts) -> bool {
    if parts.headers.contains_key("x-amz-target") {
        return false;
    }
    let form = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    form || (parts.method == http::Method::GET
        && parts
            .uri
            .query()
            .is_some_and(|q| q.starts_with("Action=") || q.contains("&Action=")))
}

/// A Query response: status, body, and the service whose namespace the
/// body uses.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Zeroizing<String>,
}

/// Answers one Query request whose body has been read.
pub(crate) async fn answer(
    state: &State,
    peer: SocketAddr,
    connection: Connection,
    link: Option<&(String, String)>,
    parts: &http::request::Parts,
    body: &[u8],
    request_id: &str,
) -> Answer {
    let form: &[u8] = if parts.method == http::Method::GET {
        parts.uri.query().unwrap_or("").as_bytes()
    } else {
        body
    };
    let params = custos_iam_wire::parse_form(form);
    // Which service: the credential scope's, when the request is signed;
    // otherwise what the parameters say (for the error's namespace).
    let request = custos_sigv4::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let scoped = custos_sigv4::parse(&request)
        .ok()
        .map(|s| s.service() == "sts");
    let service = match (scoped, &params) {
        (Some(true), _) => Service::Sts,
        (Some(false), _) => Service::Iam,
        (None, Ok(p)) => Service::of(p),
        (None, Err(_)) => Service::Iam,
    };
    let seen = Seen::of(request_id, peer.ip(), parts, link, state.now_ms());
    match run(state, &seen, parts, connection, &request, params, service).await {
        Ok(body) => Answer { status: 200, body },
        Err(e) => {
            let wire = e.to_query_wire();
            if wire.status() >= 500 {
                tracing::error!(request_id, error = ?e, "internal error");
            }
            Answer {
                status: wire.status(),
                body: Zeroizing::new(wire.to_xml(service, request_id)),
            }
        }
    }
}

async fn run(
    state: &State,
    seen: &Seen<'_>,
    parts: &http::request::Parts,
    connection: Connection,
    request: &custos_sigv4::RequestParts<'_>,
    params: Result<Params, custos_iam_wire::WireError>,
    service: Service,
) -> Result<Zeroizing<String>, ApiError> {
    state.audit_ready()?;
    let source = match service {
        Service::Iam => "iam.amazonaws.com",
        Service::Sts => "sts.amazonaws.com",
    };
    let scope = Scope {
        service: match service {
            Service::Iam => "iam",
            Service::Sts => "sts",
        },
        regions: None,
        signed_headers: &[],
        // Presigned STS GetCallerIdentity URLs are how Kubernetes'
        // aws-iam-authenticator and similar tools prove an identity to a
        // third party; they live minutes, not the seven days SigV4 allows.
        presigned_lifetime: Some(PRESIGNED_LIFETIME_SECS),
    };
    let claimed_action = params
        .as_ref()
        .ok()
        .and_then(|p| p.get("Action"))
        // Anyone's text before authentication: only a plausible name.
        .filter(|a| a.len() <= 64 && a.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_owned)
        .unwrap_or_else(|| "Unknown".into());
    let caller = match state.iam.authenticate(request, connection, scope).await {
        Ok(caller) => caller,
        Err(e) => {
            let e = ApiError::from(e);
            // Not the parameters: an unauthenticated body is anyone's.
            let event = crate::audit::query_event(
                seen,
                crate::audit::claimed_identity(parts),
                None,
                source,
                &claimed_action,
                serde_json::Value::Null,
                Some(query_error(&e)),
            );
            state.record(&event).await?;
            return Err(e);
        }
    };
    let parameters = params
        .as_ref()
        .map_or(serde_json::Value::Null, crate::audit::query_parameters);
    let outcome = async {
        let params = params.map_err(|e| ApiError::Query(e.into()))?;
        match service {
            Service::Iam => {
                let parsed = IamRequest::parse(&params).map_err(ApiError::Query)?;
                state
                    .iam
                    .iam_request(&caller, parsed)
                    .await
                    .map(|r| r.to_xml(seen.request_id))
                    .map_err(ApiError::Iam)
            }
            Service::Sts => {
                let parsed = StsRequest::parse(&params).map_err(ApiError::Query)?;
                state
                    .iam
                    .sts_request(&caller, parsed)
                    .await
                    .map(|r| r.to_xml(seen.request_id))
                    .map_err(ApiError::Iam)
            }
        }
    };
    let result = outcome.await;
    let event = crate::audit::query_event(
        seen,
        crate::audit::identity_of(&caller),
        Some(&caller),
        source,
        &claimed_action,
        parameters,
        result.as_ref().err().map(query_error),
    );
    state.record(&event).await?;
    result
}

/// An error's code and message as the event records them.
fn query_error(e: &ApiError) -> (String, Option<String>) {
    let wire = e.to_query_wire();
    (wire.code.code().to_owned(), Some(wire.message.clone()))
}
