//! One HTTP/1.1 keep-alive connection over TLS to the endpoint.
//!
//! This is hyper's connection-level client, with no pool: each worker owns
//! exactly one connection and sends on it sequentially, so the number of
//! connections the server sees is the concurrency asked for, and a request
//! never waits for another one of the client's.

use std::fmt;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::endpoint::Endpoint;

/// Largest response body read; a KMS response is a few kilobytes at most.
const MAX_RESPONSE_BODY: usize = 1 << 20;

/// Opens connections to one endpoint.
pub(crate) struct Connector {
    tls: TlsConnector,
    endpoint: Endpoint,
}

impl Connector {
    pub(crate) fn new(config: Arc<ClientConfig>, endpoint: Endpoint) -> Self {
        Self {
            tls: TlsConnector::from(config),
            endpoint,
        }
    }

    /// TCP connect, TLS handshake and HTTP/1.1 handshake.
    pub(crate) async fn connect(&self) -> anyhow::Result<(Connection, TlsSummary)> {
        let addr = self.endpoint.addr;
        let tcp = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        // Requests and responses are small: do not let Nagle hold them back.
        tcp.set_nodelay(true).context("setting TCP_NODELAY")?;
        let tls = self
            .tls
            .connect(self.endpoint.server_name.clone(), tcp)
            .await
            .with_context(|| format!("TLS handshake with {addr}"))?;
        let summary = TlsSummary::of(tls.get_ref().1);
        let (sender, connection) = http1::handshake(TokioIo::new(tls))
            .await
            .context("HTTP/1.1 handshake")?;
        // The connection's I/O runs in its own task, which ends when the
        // server closes or the sender is dropped; its errors reach the
        // sender's next request. (Polling it inside the worker's task
        // instead, to save a task switch per request, measured no better.)
        tokio::spawn(async move {
            let _closed = connection.await;
        });
        Ok((Connection { sender }, summary))
    }
}

/// One open connection.
pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Whether the server has closed this connection.
    pub(crate) fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Sends `request` and reads the whole response.
    pub(crate) async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Reply, SendError> {
        if self.sender.ready().await.is_err() {
            return Err(SendError::NotSent);
        }
        let response = match self.sender.try_send_request(request).await {
            Ok(response) => response,
            Err(mut err) => {
                return Err(match err.take_message() {
                    // Closed before a byte was written: a keep-alive
                    // connection the server had just closed.
                    Some(_unsent) => SendError::NotSent,
                    None => SendError::Failed(err.into_error().into()),
                });
            }
        };
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_RESPONSE_BODY)
            .collect()
            .await
            .map_err(|err| SendError::Failed(anyhow::anyhow!(err).context("reading the body")))?
            .to_bytes();
        Ok(Reply { status, body })
    }
}

/// A complete response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Bytes,
}

impl Reply {
    /// The start of the body, for error messages.
    pub(crate) fn body_excerpt(&self) -> String {
        const LIMIT: usize = 512;
        let shown = &self.body[..self.body.len().min(LIMIT)];
        let ellipsis = if self.body.len() > LIMIT { "…" } else { "" };
        format!("{}{ellipsis}", String::from_utf8_lossy(shown))
    }
}

/// Why a request got no response.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The connection was closed before the request was written: reconnect
    /// and send again. Not a failure of the server.
    NotSent,
    /// The request failed once sent: connection reset, malformed response…
    Failed(anyhow::Error),
}

/// What the TLS handshake negotiated, for the report.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsSummary {
    pub(crate) version: String,
    pub(crate) cipher_suite: String,
    pub(crate) key_exchange: String,
}

impl TlsSummary {
    fn of(connection: &rustls::ClientConnection) -> Self {
        fn name(value: Option<impl fmt::Debug>) -> String {
            value.map_or_else(|| "unknown".to_owned(), |v| format!("{v:?}"))
        }
        Self {
            version: name(connection.protocol_version()),
            cipher_suite: name(connection.negotiated_cipher_suite().map(|s| s.suite())),
            key_exchange: name(
                connection
                    .negotiated_key_exchange_group()
                    .map(|group| group.name()),
            ),
        }
    }
}
