//! The HTTPS listener: accepts connections, terminates TLS, reads each
//! request within limits, authenticates it, dispatches it, audits it, and
//! answers in the AWS JSON 1.1 format.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use custos_iam::{Connection, Iam, Scope};
use custos_kms::Kms;
use custos_store::redb::RedbEngine;
use custos_wire::{ErrorBody, Operation};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use zeroize::Zeroizing;

use crate::audit::Seen;
use crate::dispatch::dispatch;
use crate::error::ApiError;
use crate::limits::{BodyRoom, UNAUTHENTICATED_BODY_BYTES};
use crate::seal::Node;

/// The largest request body accepted. The largest legitimate KMS request
/// is a `CreateKey` or `PutKeyPolicy` with a 128 KiB policy, JSON-escaped.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// How long a client may take to send its headers (or keep an idle
/// connection), and then its body.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The most buffer reserved for a body before its bytes arrive (most KMS
/// requests fit).
const FIRST_BODY_BUFFER: usize = 4 * 1024;
/// How long a client whose headers checked out may take to send its body:
/// a slow sender holds its share of the body budget only this long.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client whose headers did not check out may take to send
/// its (small) body.
const UNAUTHENTICATED_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a connection buffers while reading headers: a request's
/// headers must fit (the largest real ones, with a session token, are a
/// few KiB).
const MAX_HEADER_BUFFER: usize = 64 * 1024;
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in flight.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct State {
    pub kms: Kms<RedbEngine>,
    pub iam: Iam<RedbEngine>,
    pub audit: custos_audit::AuditLog,
}

impl State {
    /// Appends `event` to the audit log; the request fails if it cannot.
    pub(crate) async fn record(&self, event: &custos_audit::Event) -> Result<(), ApiError> {
        let bytes = serde_json::to_vec(event)
            .map_err(|_| ApiError::Audit(Box::new(custos_audit::AuditError::Encode)))?;
        self.audit
            .append(bytes)
            .await
            .map(|_| ())
            .map_err(|e| ApiError::Audit(Box::new(e)))
    }

    /// [`State::record`] of the event `build` makes, built only when
    /// auditing is on (off, it is only for benchmarks).
    pub(crate) async fn record_with(
        &self,
        build: impl FnOnce() -> custos_audit::Event,
    ) -> Result<(), ApiError> {
        if self.audit.is_disabled() {
            return Ok(());
        }
        self.record(&build()).await
    }

    /// Refuses quickly, before the domain sees the request, while the
    /// audit log is known to be unwritable: a refused request changes
    /// nothing.
    pub(crate) fn audit_ready(&self) -> Result<(), ApiError> {
        if self.audit.is_healthy() {
            Ok(())
        } else {
            Err(ApiError::Audit(Box::new(custos_audit::AuditError::Write(
                "the audit log is not writable".into(),
            ))))
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        self.kms.shared_clock().now_ms()
    }
}

/// The TLS version and cipher suite of a connection, as CloudTrail names
/// them (`TLSv1.3`, `TLS_AES_128_GCM_SHA256`).
fn tls_details(session: &rustls::ServerConnection) -> Option<(String, String)> {
    let version = match session.protocol_version()? {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        _ => "unknown",
    };
    let suite = session.negotiated_cipher_suite()?.suite();
    let name = suite.as_str().unwrap_or("unknown");
    Some((
        version.to_owned(),
        name.strip_prefix("TLS13_")
            .map_or_else(|| name.to_owned(), |rest| format!("TLS_{rest}")),
    ))
}

/// How often the scheduler looks for keys to destroy or rotate.
const SCHEDULER_INTERVAL: Duration = Duration::from_secs(60);

/// Runs the scheduler's passes until shutdown. A failed pass is logged and
/// retried at the next interval: nothing it does is urgent to the second.
pub(crate) async fn schedule(node: Arc<Node>, mut shutdown: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(SCHEDULER_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                // Sealed, there is nothing it could read.
                if let Some(state) = node.state() {
                    scheduled_pass(&state, &node.metrics).await;
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}

/// One pass of the scheduler, its actions recorded in the audit log and
/// its outcome in `metrics`.
pub(crate) async fn scheduled_pass(state: &State, metrics: &crate::metrics::Metrics) {
    use crate::metrics::PassOutcome;
    // Nothing is destroyed or rotated that could not be recorded: the
    // pass waits for the log to be writable again.
    if !state.audit.is_healthy() {
        tracing::warn!("scheduled work postponed: the audit log is not writable");
        metrics.scheduler_pass(PassOutcome::Postponed, 0);
        return;
    }
    match state.kms.run_scheduled_work().await {
        Ok(done) => {
            metrics.scheduler_pass(PassOutcome::Done, done.actions.len());
            metrics.key_counts(done.keys_by_state.clone());
            for action in &done.actions {
                let event = crate::audit::service_event(action, state.now_ms());
                // What was done is done: a record that cannot be written is
                // an error for the operator to see.
                if let Err(e) = state.record(&event).await {
                    tracing::error!(
                        error = ?e,
                        key = %action.key_arn,
                        action = action.event_name,
                        "the scheduler's action could not be recorded"
                    );
                }
            }
        }
        Err(e) => {
            metrics.scheduler_pass(PassOutcome::Failed, 0);
            tracing::error!(error = ?e, "scheduled work failed");
        }
    }
}

/// Accepts connections until `shutdown` turns true, then waits (a bounded
/// time) for connections in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    node: Arc<Node>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = tokio::task::JoinSet::new();
    let mut accept_errors = RateLimited::default();
    let mut refusals = RateLimited::default();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: back off
                        // rather than spin, and say so at a bounded rate.
                        if let Some(suppressed) = accept_errors.due() {
                            tracing::warn!(error = %e, suppressed, "accept failed");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let admitted = match node.gate.admit(peer.ip()) {
                    Ok(a) => a,
                    Err(refused) => {
                        // Closed at once: a client over its share holds
                        // nothing, not even a TLS handshake.
                        node.metrics.refused(refused.label());
                        if let Some(suppressed) = refusals.due() {
                            tracing::warn!(%peer, limit = refused.label(), suppressed, "connection refused");
                        }
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let node = Arc::clone(&node);
                let tls = tls.clone();
                let shutdown = shutdown.clone();
                connections.spawn(async move {
                    let _admitted = admitted;
                    connection(stream, peer, tls, node, shutdown).await;
                });
            }
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        tracing::warn!("connections still open at shutdown; closing them");
    }
}

/// A log line at most every [`RateLimited::EVERY`], counting the ones it
/// holds back.
#[derive(Debug, Default)]
struct RateLimited {
    last: Option<std::time::Instant>,
    held: u64,
}

impl RateLimited {
    const EVERY: Duration = Duration::from_secs(10);

    /// `Some(held back since the last)` when a line is due now.
    fn due(&mut self) -> Option<u64> {
        let now = std::time::Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < Self::EVERY)
        {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held))
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    node: Arc<Node>,
    shutdown: watch::Receiver<bool>,
) {
    let connection = Connection {
        peer: Some(peer.ip()),
        secure: tls.is_some(),
    };
    let open = Arc::clone(&node);
    let _open = open.metrics.connection();
    let service = move |link: Option<Arc<(String, String)>>| {
        hyper::service::service_fn(move |req| {
            let node = Arc::clone(&node);
            let link = link.clone();
            async move {
                Ok::<_, Infallible>(handle(&node, peer, connection, link.as_deref(), req).await)
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .max_buf_size(MAX_HEADER_BUFFER)
        .keep_alive(true);
    match tls {
        Some(acceptor) => {
            let stream =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let link = tls_details(stream.get_ref().1).map(Arc::new);
            drive(
                builder.serve_connection(TokioIo::new(stream), service(link)),
                shutdown,
            )
            .await;
        }
        None => {
            drive(
                builder.serve_connection(TokioIo::new(stream), service(None)),
                shutdown,
            )
            .await
        }
    }
}

/// Runs a connection to its end, or until shutdown, letting the request in
/// flight finish.
async fn drive<I, S>(
    conn: hyper::server::conn::http1::Connection<I, S>,
    mut shutdown: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = Full<Bytes>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        }
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A fresh request id, shaped like AWS's (a UUID), never equal to an
/// event id.
fn request_id() -> String {
    custos_audit::event::unique_id()
}

async fn handle(
    node: &Node,
    peer: SocketAddr,
    connection: Connection,
    link: Option<&(String, String)>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    if let Some((status, content_type, body)) =
        crate::health::answer(node, req.method(), req.uri().path())
    {
        return respond(status, content_type, Bytes::from(body), None);
    }
    let started = std::time::Instant::now();
    let id = request_id();
    let (parts, body) = req.into_parts();
    let query = crate::query::is_query(&parts);
    let trail = crate::cloudtrail::is_cloudtrail(&parts);
    let mut kms_error = None;
    // Sealed, every request gets the same refusal, its body unread.
    let body = match node.state() {
        Some(state) => {
            let checked = state
                .iam
                .precheck(&custos_sigv4::RequestParts {
                    method: parts.method.as_str(),
                    path: parts.uri.path(),
                    query: parts.uri.query().unwrap_or(""),
                    headers: &parts.headers,
                    body: b"",
                })
                .await
                .is_ok();
            read_body(&node.gate, &parts, body, checked)
                .await
                .map(|(body, room)| (state, body, room))
        }
        None => Err(ApiError::Sealed),
    };
    // The body's room in the budget is held until the request is answered.
    let (body, _room) = match body {
        Ok((state, body, room)) => (Ok((state, body)), room),
        Err(e) => (Err(e), None),
    };
    let (status, content_type, body) = if trail {
        let answer = match body {
            Ok((state, body)) => {
                crate::cloudtrail::answer(&state, peer, connection, link, &parts, &body, &id).await
            }
            Err(e) => Err(crate::cloudtrail::TrailError::of(&e)),
        };
        let (status, body) = match answer {
            Ok(body) => (StatusCode::OK, Bytes::from(body)),
            Err(e) => (
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                Bytes::from(e.body()),
            ),
        };
        (status, custos_wire::CONTENT_TYPE, body)
    } else if query {
        let answer = match body {
            Ok((state, body)) => {
                crate::query::answer(&state, peer, connection, link, &parts, &body, &id).await
            }
            Err(e) => crate::query::Answer {
                status: e.to_query_wire().status(),
                body: Zeroizing::new(e.to_query_wire().to_xml(custos_iam_wire::Service::Iam, &id)),
            },
        };
        (
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            custos_iam_wire::CONTENT_TYPE,
            // The body may hold a new secret access key: handed to hyper
            // without a copy, and the buffer is not reused.
            Bytes::from(answer.body.as_bytes().to_vec()),
        )
    } else {
        let result = match body {
            Ok((state, body)) => answer(&state, peer, connection, link, &parts, &body, &id).await,
            Err(e) => Err(e),
        };
        let (status, body) = match result {
            Ok(body) => (StatusCode::OK, Bytes::from_owner(body)),
            Err(e) => {
                let (code, message) = e.to_wire();
                kms_error = Some(code.type_name());
                if e.is_internal() {
                    tracing::error!(request_id = %id, error = ?e, "internal error");
                } else {
                    tracing::debug!(request_id = %id, error = %code.type_name(), "request refused");
                }
                let body = serde_json::to_vec(&ErrorBody {
                    type_name: code.type_name(),
                    message: message.as_deref(),
                })
                .unwrap_or_default();
                let status = StatusCode::from_u16(code.status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, Bytes::from(body))
            }
        };
        (status, custos_wire::CONTENT_TYPE, body)
    };
    let (api, operation) = if trail {
        (crate::metrics::Api::CloudTrail, "")
    } else if query {
        (crate::metrics::Api::Query, "")
    } else {
        let op = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(Operation::from_target);
        (
            crate::metrics::Api::Kms,
            op.map_or("Unknown", Operation::name),
        )
    };
    node.metrics.record(
        api,
        operation,
        status.as_u16(),
        kms_error,
        started.elapsed(),
    );
    respond(status, content_type, body, Some(&id))
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    request_id: Option<&str>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    if let Some(v) = request_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert("x-amzn-requestid", v);
    }
    response
}

/// Reads a request body within the limits, into a buffer wiped on drop.
///
/// `checked`: the request's headers passed the authentication precheck, so
/// its body is read up to [`MAX_BODY_BYTES`], in [`BODY_TIMEOUT`], each
/// chunk within the shared body budget as it arrives. Otherwise at most
/// [`UNAUTHENTICATED_BODY_BYTES`] are read, and a longer body (or one with
/// no room left for it) is not read at all: the request goes on with an
/// empty body, to fail its authentication.
async fn read_body(
    gate: &crate::limits::Gate,
    parts: &http::request::Parts,
    mut body: Incoming,
    checked: bool,
) -> Result<(Zeroizing<Vec<u8>>, Option<BodyRoom>), ApiError> {
    let announced = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let nothing = || Ok((Zeroizing::new(Vec::new()), None));
    if announced == Some(0) {
        return nothing();
    }
    let (limit, deadline, mut room) = if checked {
        // Refuse an oversized body before reading it, when its length is
        // announced; otherwise stop reading at the limit.
        if announced.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(ApiError::BodyTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        (MAX_BODY_BYTES, BODY_TIMEOUT, None)
    } else {
        if announced.is_some_and(|n| n > UNAUTHENTICATED_BODY_BYTES as u64) {
            return nothing();
        }
        match gate.unauthenticated_room() {
            Some(room) => (
                UNAUTHENTICATED_BODY_BYTES,
                UNAUTHENTICATED_READ_TIMEOUT,
                Some(room),
            ),
            None => return nothing(),
        }
    };
    let deadline = tokio::time::Instant::now() + deadline;
    // The body may hold a plaintext: read straight into a buffer wiped on
    // drop. Sized by what was announced only up to a small first size:
    // an announcement is anyone's word, memory is taken as bytes arrive.
    let mut out = Zeroizing::new(Vec::with_capacity(
        announced.map_or(0, |n| n as usize).min(FIRST_BODY_BUFFER),
    ));
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(ApiError::Timeout),
            Ok(None) => break,
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(_))) => {
                return Err(ApiError::Serialization(
                    "The request body could not be read.".into(),
                ));
            }
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers carry nothing we use
        };
        let total = out.len() + data.len();
        if total > limit {
            return if checked {
                Err(ApiError::BodyTooLarge {
                    limit: MAX_BODY_BYTES,
                })
            } else {
                nothing()
            };
        }
        if checked
            && tokio::time::timeout_at(deadline, gate.grow(&mut room, total))
                .await
                .is_err()
        {
            return Err(ApiError::Busy);
        }
        if out.capacity() < total {
            // Grown by hand, so that no copy of a plaintext is left behind
            // in freed memory.
            let mut bigger =
                Zeroizing::new(Vec::with_capacity(total.max(out.capacity() * 2).min(limit)));
            bigger.extend_from_slice(&out);
            out = bigger;
        }
        out.extend_from_slice(&data);
    }
    Ok((out, room))
}

/// Everything between a KMS request's body and its response body,
/// audited whatever its outcome.
async fn answer(
    state: &State,
    peer: SocketAddr,
    connection: Connection,
    link: Option<&(String, String)>,
    parts: &http::request::Parts,
    body: &[u8],
    request_id: &str,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    state.audit_ready()?;
    let seen = Seen::of(request_id, peer.ip(), parts, link, state.now_ms());
    let request = custos_sigv4::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let scope = Scope {
        service: "kms",
        regions: Some(state.kms.regions()),
        // The operation is named by a header: it must be signed, or a
        // signature given out for one operation could be replayed with
        // another.
        signed_headers: &["X-Amz-Target"],
        // No KMS client presigns; a presigned URL is a bearer credential
        // that leaks through logs, histories and referrers.
        presigned_lifetime: None,
    };
    let op = match parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
    {
        Some(target) if parts.method == http::Method::POST => Operation::from_target(target),
        _ => None,
    };
    let name = op.map_or("Unknown", Operation::name);
    let caller = match state.iam.authenticate(&request, connection, scope).await {
        Ok(caller) => caller,
        Err(e) => {
            // A failed authentication is recorded with what is known: the
            // access key it claimed, the region of its scope; not its
            // parameters (an unauthenticated body is anyone's).
            let e = ApiError::from(e);
            // The claimed region, only if it is one served (it is anyone's
            // text, and the export makes paths of regions).
            let region = custos_sigv4::parse(&request)
                .ok()
                .and_then(|s| state.kms.served_region(s.region()).map(|r| r.to_string()))
                .unwrap_or_default();
            state
                .record_with(|| {
                    crate::audit::kms_event(
                        &seen,
                        crate::audit::claimed_identity(parts),
                        None,
                        &region,
                        name,
                        b"",
                        None,
                        Some(wire_error(&e)),
                    )
                })
                .await?;
            return Err(e);
        }
    };
    let result = match op {
        Some(op) => dispatch(&state.kms, &state.audit, &caller, op, body).await,
        None => Err(ApiError::UnknownOperation),
    };
    state
        .record_with(|| {
            crate::audit::kms_event(
                &seen,
                crate::audit::identity_of(&caller),
                Some(&caller),
                caller.region().as_str(),
                name,
                body,
                result.as_ref().ok().map(|b| b.as_slice()),
                result.as_ref().err().map(wire_error),
            )
        })
        .await?;
    result
}

/// An error's code and message as the event records them.
pub(crate) fn wire_error(e: &ApiError) -> (String, Option<String>) {
    let (code, message) = e.to_wire();
    (code.type_name().to_owned(), message)
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_failures_are_logged_once_per_interval_with_a_count() {
        let mut limited = super::RateLimited::default();
        assert_eq!(limited.due(), Some(0));
        for _ in 0..5 {
            assert_eq!(limited.due(), None);
        }
        // As if the interval had passed.
        limited.last = Some(std::time::Instant::now() - super::RateLimited::EVERY);
        assert_eq!(limited.due(), Some(5));
        assert_eq!(limited.due(), None);
    }

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let a = super::request_id();
        let b = super::request_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
    }
}
