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

use crate::audit::AuditEvent;
use crate::error::ApiError;
use crate::server::State;

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
    match run(
        state, peer, connection, &request, params, service, request_id,
    )
    .await
    {
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
    peer: SocketAddr,
    connection: Connection,
    request: &custos_sigv4::RequestParts<'_>,
    params: Result<Params, custos_iam_wire::WireError>,
    service: Service,
    request_id: &str,
) -> Result<Zeroizing<String>, ApiError> {
    let scope = Scope {
        service: match service {
            Service::Iam => "iam",
            Service::Sts => "sts",
        },
        regions: None,
        signed_headers: &[],
    };
    let caller = state.iam.authenticate(request, connection, scope).await?;
    let params = params.map_err(|e| ApiError::Query(e.into()))?;
    let (operation, result) = match service {
        Service::Iam => {
            let parsed = IamRequest::parse(&params).map_err(ApiError::Query)?;
            let action = parsed.action();
            let result = state
                .iam
                .iam_request(&caller, parsed)
                .await
                .map(|r| r.to_xml(request_id))
                .map_err(ApiError::Iam);
            (action, result)
        }
        Service::Sts => {
            let parsed = StsRequest::parse(&params).map_err(ApiError::Query)?;
            let action = parsed.action();
            let result = state
                .iam
                .sts_request(&caller, parsed)
                .await
                .map(|r| r.to_xml(request_id))
                .map_err(ApiError::Iam);
            (action, result)
        }
    };
    let error_code = result.as_ref().err().map(|e| e.to_query_wire().code.code());
    state
        .audit
        .record(&AuditEvent {
            request_id,
            operation,
            region: caller.region().as_str(),
            access_key_id: caller.access_key_id(),
            principal_arn: caller.principal_arn(),
            source_ip: peer.ip(),
            error_code,
        })
        .map_err(ApiError::Audit)?;
    result
}
