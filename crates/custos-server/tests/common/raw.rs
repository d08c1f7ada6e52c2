//! A raw HTTPS client, for the requests no well-behaved client sends.
//!
//! The request bytes are written by hand ([`RawRequest::to_bytes`], or any
//! bytes at all), so every one of them can be wrong; the response is parsed
//! by hand, so a server that answers oddly, closes, or never answers is
//! seen as it is. Every exchange runs on a fresh TLS connection, trusting
//! only the server's generated CA, and is bounded by [`EXCHANGE_TIMEOUT`]:
//! a server that neither answers nor closes in that time fails the test.
//!
//! [`Signer`] signs a [`RawRequest`] with the official `aws-sigv4` crate,
//! in header or presigned-query form, so that hostile requests can be
//! derived from valid ones.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use custos_server::Running;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{ACCESS_KEY, REGION, SECRET_KEY};

/// The longest one exchange (connect, send, receive) may take before the
/// server is deemed hung.
pub(crate) const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response head and body we accept; the server sends far less.
const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long a presigned request stays valid.
const PRESIGNED_LIFETIME: Duration = Duration::from_secs(300);

/// An HTTP/1.1 request held as the pieces it is written from. Header values
/// are bytes, so they may be anything, including non-UTF-8.
#[derive(Debug, Clone)]
pub(crate) struct RawRequest {
    pub(crate) method: String,
    /// The request target: path and query, as written on the request line.
    pub(crate) target: String,
    /// In the order written; names as given.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
}

impl RawRequest {
    /// An unsigned `POST /` to `host` with the KMS content type and no
    /// `X-Amz-Target`.
    pub(crate) fn post(host: &str, body: &[u8]) -> Self {
        Self {
            method: "POST".into(),
            target: "/".into(),
            headers: vec![
                ("host".into(), host.into()),
                ("content-type".into(), custos_wire::CONTENT_TYPE.into()),
            ],
            body: body.to_vec(),
        }
    }

    /// An unsigned call of the KMS operation `operation` (`ListKeys`, …).
    pub(crate) fn kms(host: &str, operation: &str, body: &[u8]) -> Self {
        Self::post(host, body).with_header(
            "x-amz-target",
            format!("{}{operation}", custos_wire::TARGET_PREFIX),
        )
    }

    pub(crate) fn with_method(mut self, method: &str) -> Self {
        method.clone_into(&mut self.method);
        self
    }

    /// Sets `name` (compared case-insensitively) to `value`, replacing any
    /// earlier value, or appends it.
    pub(crate) fn with_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        let value = value.into();
        match self
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => *v = value,
            None => self.headers.push((name.to_owned(), value)),
        }
        self
    }

    /// Appends `name: value` even if `name` is already present.
    pub(crate) fn with_extra_header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn without_header(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// The first value of `name`, compared case-insensitively.
    pub(crate) fn header(&self, name: &str) -> Option<&[u8]> {
        find_header(&self.headers, name)
    }

    /// The request as written on the wire. A `content-length` is added,
    /// unsigned, unless the request already frames its body itself
    /// (`content-length` or `transfer-encoding`).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.head_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    /// [`to_bytes`](Self::to_bytes) without the body: the request line,
    /// the header lines and the blank line.
    pub(crate) fn head_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        for (name, value) in &self.headers {
            write_header_line(&mut out, name, value);
        }
        if self.header("content-length").is_none() && self.header("transfer-encoding").is_none() {
            write_header_line(
                &mut out,
                "content-length",
                self.body.len().to_string().as_bytes(),
            );
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

fn write_header_line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn find_header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// SigV4-signs [`RawRequest`]s with the official `aws-sigv4` signer. By
/// default: the rig's bootstrap credentials, its first region, service
/// `kms`, the current time, header form.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    access_key: String,
    secret: String,
    session_token: Option<String>,
    region: String,
    service: String,
    /// `None`: the time of signing.
    time: Option<SystemTime>,
    location: SignatureLocation,
}

impl Default for Signer {
    fn default() -> Self {
        Self {
            access_key: ACCESS_KEY.into(),
            secret: SECRET_KEY.into(),
            session_token: None,
            region: REGION.into(),
            service: "kms".into(),
            time: None,
            location: SignatureLocation::Headers,
        }
    }
}

impl Signer {
    pub(crate) fn with_access_key(mut self, access_key: &str) -> Self {
        access_key.clone_into(&mut self.access_key);
        self
    }

    pub(crate) fn with_secret(mut self, secret: &str) -> Self {
        secret.clone_into(&mut self.secret);
        self
    }

    /// Signs an `X-Amz-Security-Token` in, as temporary credentials do.
    pub(crate) fn with_session_token(mut self, token: &str) -> Self {
        self.session_token = Some(token.to_owned());
        self
    }

    pub(crate) fn with_region(mut self, region: &str) -> Self {
        region.clone_into(&mut self.region);
        self
    }

    pub(crate) fn with_service(mut self, service: &str) -> Self {
        service.clone_into(&mut self.service);
        self
    }

    /// Signs as if the clock read `time`.
    pub(crate) fn at(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Signs in presigned form: `X-Amz-*` query parameters, no
    /// `Authorization` header.
    pub(crate) fn presigned(mut self) -> Self {
        self.location = SignatureLocation::QueryParams;
        self
    }

    /// `request`, signed over its method, target, headers (all of them, so
    /// they must be UTF-8) and body.
    pub(crate) fn sign(&self, request: RawRequest) -> RawRequest {
        let host = request
            .header("host")
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .expect("a request to sign has a host header");
        let credentials = Credentials::new(
            &self.access_key,
            &self.secret,
            self.session_token.clone(),
            None,
            "custos-raw-tests",
        );
        let identity = credentials.into();
        let mut settings = SigningSettings::default();
        settings.signature_location = self.location;
        if self.location == SignatureLocation::QueryParams {
            settings.expires_in = Some(PRESIGNED_LIFETIME);
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(self.time.unwrap_or_else(SystemTime::now))
            .settings(settings)
            .build()
            .expect("signing parameters are complete")
            .into();
        let headers = request.headers.iter().map(|(name, value)| {
            let value = std::str::from_utf8(value).expect("headers to sign are UTF-8");
            (name.as_str(), value)
        });
        let signable = SignableRequest::new(
            &request.method,
            format!("https://{host}{}", request.target),
            headers,
            SignableBody::Bytes(&request.body),
        )
        .expect("a signable request");
        let (instructions, _signature) = sign(signable, &params)
            .expect("aws-sigv4 signs")
            .into_parts();
        let (new_headers, new_params) = instructions.into_parts();

        let mut signed = request.clone();
        for header in new_headers {
            signed = signed.with_header(header.name(), header.value());
        }
        for (name, value) in new_params {
            let separator = if signed.target.contains('?') {
                '&'
            } else {
                '?'
            };
            signed.target = format!(
                "{}{separator}{}={}",
                signed.target,
                query_escape(name),
                query_escape(&value)
            );
        }
        signed
    }
}

/// Percent-encodes everything but the RFC 3986 unreserved characters, as
/// SigV4 does.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response as received.
#[derive(Clone)]
pub(crate) struct RawResponse {
    pub(crate) status: u16,
    /// Names lowercased, in the order received.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
}

impl std::fmt::Debug for RawResponse {
    // Text rather than byte arrays, for readable assertion failures.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value)))
            .collect();
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("headers", &headers)
            .field("body", &String::from_utf8_lossy(&self.body))
            .finish()
    }
}

impl RawResponse {
    /// The first value of `name` (case-insensitive), if it is UTF-8.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The body as JSON; panics (with the body) if it is not.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// `(status, __type, message)` of an error response.
    pub(crate) fn error(&self) -> (u16, String, Option<String>) {
        let json = self.json();
        let field = |name: &str| json.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        (
            self.status,
            field("__type").unwrap_or_else(|| "<none>".into()),
            field("message"),
        )
    }
}

/// How an exchange ended.
#[derive(Debug)]
pub(crate) enum Outcome {
    Answered(RawResponse),
    /// The server closed the connection (or reset it) before sending a
    /// single byte of response.
    Closed,
}

impl Outcome {
    /// The response; panics if the connection was closed instead.
    pub(crate) fn response(self) -> RawResponse {
        match self {
            Outcome::Answered(response) => response,
            Outcome::Closed => panic!("expected a response, the server closed the connection"),
        }
    }
}

/// Sends arbitrary bytes to a running server over TLS.
#[derive(Clone)]
pub(crate) struct RawClient {
    addr: SocketAddr,
    server_name: ServerName<'static>,
    connector: TlsConnector,
}

impl std::fmt::Debug for RawClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawClient")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RawClient {
    /// A client of `running`, trusting only its generated CA.
    pub(crate) fn new(running: &Running) -> Self {
        let ca = running.ca_bundle.as_ref().expect("a generated CA");
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).expect("read the CA bundle") {
            roots
                .add(cert.expect("a PEM certificate"))
                .expect("a usable CA certificate");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("aws-lc-rs supports the default versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Self {
            addr: running.local_addr,
            server_name: ServerName::IpAddress(running.local_addr.ip().into()),
            connector: TlsConnector::from(Arc::new(config)),
        }
    }

    /// The `host` header value a client of this server sends.
    pub(crate) fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Sends `request` on a fresh connection and reads one response,
    /// keeping the connection open meanwhile. Panics if the server neither
    /// answers nor closes within [`EXCHANGE_TIMEOUT`], or answers with
    /// something that is not HTTP.
    pub(crate) async fn exchange(&self, request: Vec<u8>) -> Outcome {
        self.try_exchange(request, None)
            .await
            .unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// [`exchange`](Self::exchange), returning a failure instead of
    /// panicking. With `hang_up_after`, if no answer has come that long
    /// after the request was written, ends the sending side (TLS
    /// `close_notify`, then TCP FIN) as a client with nothing more to say:
    /// a server waiting for bytes that will never come must then answer or
    /// close.
    pub(crate) async fn try_exchange(
        &self,
        request: Vec<u8>,
        hang_up_after: Option<Duration>,
    ) -> Result<Outcome, Failure> {
        let exchange = async {
            let tcp = TcpStream::connect(self.addr).await.expect("TCP connect");
            let tls = self
                .connector
                .connect(self.server_name.clone(), tcp)
                .await
                .expect("TLS handshake");
            let (mut reader, mut writer) = tokio::io::split(tls);
            // Written concurrently with reading: the server may answer (and
            // close) before it has read everything, as it should for an
            // oversized body, so a failed write is no failure of the test.
            let write = tokio::spawn(async move {
                if writer.write_all(&request).await.is_err() || writer.flush().await.is_err() {
                    return;
                }
                if let Some(patience) = hang_up_after {
                    tokio::time::sleep(patience).await;
                    let _ = writer.shutdown().await;
                }
            });
            let outcome = read_outcome(&mut reader).await;
            write.abort();
            outcome
        };
        tokio::time::timeout(EXCHANGE_TIMEOUT, exchange)
            .await
            .map_err(|_| Failure::Hung)?
    }
}

/// How an exchange failed, by the server's fault.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Neither an answer nor a close within [`EXCHANGE_TIMEOUT`].
    Hung,
    /// An answer that is not a well-formed HTTP/1.1 response, or that stops
    /// half-way.
    Malformed(io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Hung => write!(
                f,
                "the server neither answered nor closed within {EXCHANGE_TIMEOUT:?}"
            ),
            Failure::Malformed(e) => write!(f, "malformed or truncated response: {e}"),
        }
    }
}

async fn read_outcome<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Outcome, Failure> {
    let mut incoming = Incoming {
        reader,
        buf: Vec::new(),
        received_any: false,
    };
    match read_response(&mut incoming).await {
        Ok(response) => Ok(Outcome::Answered(response)),
        Err(e) if !incoming.received_any && is_hang_up(&e) => Ok(Outcome::Closed),
        Err(e) => Err(Failure::Malformed(e)),
    }
}

/// Whether `e` is the peer going away (with or without TLS `close_notify`).
fn is_hang_up(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Parses one HTTP/1.1 response: status line, headers, and a body framed
/// by `content-length`, by chunks, or by the end of the connection.
async fn read_response<R: AsyncRead + Unpin>(
    incoming: &mut Incoming<'_, R>,
) -> io::Result<RawResponse> {
    let head = incoming.until(b"\r\n\r\n", MAX_HEAD_BYTES).await?;
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| malformed("bad status line"))?;
    let headers = lines
        .map(|line| {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| malformed("bad header"))?;
            Ok((name.to_ascii_lowercase(), value.trim().as_bytes().to_vec()))
        })
        .collect::<io::Result<Vec<_>>>()?;

    let chunked = find_header(&headers, "transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
    let length = find_header(&headers, "content-length")
        .map(|v| {
            std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|&n| n <= MAX_BODY_BYTES)
                .ok_or_else(|| malformed("bad content-length"))
        })
        .transpose()?;
    let body = if chunked {
        incoming.chunked_body().await?
    } else if let Some(length) = length {
        incoming.exactly(length).await?
    } else {
        incoming.until_close().await?
    };
    Ok(RawResponse {
        status,
        headers,
        body,
    })
}

/// A reader with a buffer, for parsing.
struct Incoming<'a, R> {
    reader: &'a mut R,
    buf: Vec<u8>,
    received_any: bool,
}

impl<R: AsyncRead + Unpin> Incoming<'_, R> {
    /// Reads more into the buffer; `false` at the end of the stream.
    async fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.reader.read(&mut chunk).await?;
        self.received_any |= n > 0;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    async fn fill_or_fail(&mut self) -> io::Result<()> {
        if self.fill().await? {
            Ok(())
        } else {
            Err(io::ErrorKind::UnexpectedEof.into())
        }
    }

    /// The bytes before `delimiter`, consuming both.
    async fn until(&mut self, delimiter: &[u8], limit: usize) -> io::Result<Vec<u8>> {
        loop {
            if let Some(at) = self
                .buf
                .windows(delimiter.len())
                .position(|w| w == delimiter)
            {
                let rest = self.buf.split_off(at + delimiter.len());
                let mut found = std::mem::replace(&mut self.buf, rest);
                found.truncate(at);
                return Ok(found);
            }
            if self.buf.len() > limit {
                return Err(malformed("line or head too long"));
            }
            self.fill_or_fail().await?;
        }
    }

    async fn exactly(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            self.fill_or_fail().await?;
        }
        let rest = self.buf.split_off(n);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// Everything until the peer closes (a close without `close_notify`
    /// counts: it cannot be told from a truncation, and does not matter
    /// here).
    async fn until_close(&mut self) -> io::Result<Vec<u8>> {
        loop {
            match self.fill().await {
                Ok(true) if self.buf.len() <= MAX_BODY_BYTES => {}
                Ok(true) => return Err(malformed("body too long")),
                Ok(false) => break,
                Err(e) if is_hang_up(&e) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(std::mem::take(&mut self.buf))
    }

    async fn chunked_body(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.until(b"\r\n", 1024).await?;
            let size = String::from_utf8_lossy(&line);
            let size = size.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| malformed("bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the blank line.
                while !self.until(b"\r\n", MAX_HEAD_BYTES).await?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > MAX_BODY_BYTES {
                return Err(malformed("body too long"));
            }
            body.extend(self.exactly(size).await?);
            if !self.until(b"\r\n", 2).await?.is_empty() {
                return Err(malformed("chunk not followed by CRLF"));
            }
        }
    }
}
