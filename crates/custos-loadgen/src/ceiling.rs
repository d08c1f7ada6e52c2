//! `ceiling-server`: HTTPS on Custos' stack, with no KMS work behind it.
//!
//! Each request goes through what any server on this stack must do: accept,
//! TLS 1.3 handshake (once per keep-alive connection), HTTP/1.1 parsing,
//! reading the whole body, and writing a KMS-shaped JSON response with the
//! headers Custos sends (as large as the request, for large requests). Nothing more: no signature check, no JSON parsing,
//! no cryptography beyond TLS. What `run --op noop` measures against it is
//! therefore the most any KMS server on this machine could serve.

use std::convert::Infallible;
use std::future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, ensure};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio_rustls::TlsAcceptor;

use crate::cli::CeilingArgs;
use crate::kms;
use crate::tls::{self, ServerIdentity};

/// Largest request body read, as a KMS server would bound it.
const MAX_REQUEST_BODY: usize = 1 << 20;
/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after a failed `accept` (e.g. out of file descriptors).
const ACCEPT_PAUSE: Duration = Duration::from_millis(10);

/// The answer to every request: an Encrypt response of the size AWS KMS
/// gives for a 32-byte plaintext (a 184-byte blob, here all zeros).
const RESPONSE_BODY: &str = concat!(
    r#"{"CiphertextBlob":""#,
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "AAAAAA==",
    r#"","EncryptionAlgorithm":"SYMMETRIC_DEFAULT","#,
    r#""KeyId":"arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000"}"#,
);

/// Serves until SIGINT, SIGTERM or `--max-seconds`.
pub(crate) async fn serve(args: CeilingArgs) -> anyhow::Result<()> {
    // Before anything is announced, so that a signal sent as soon as the
    // address is printed stops the server cleanly.
    let mut interrupt = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("handling SIGTERM")?;

    let ceiling = Ceiling::start(args.listen, &args.cert_dir).await?;
    {
        let mut stdout = std::io::stdout().lock();
        // Whoever started the server may not read its output: serve anyway.
        let _ignored = writeln!(
            stdout,
            "listening on https://{} ca={}",
            ceiling.addr,
            ceiling.ca_path.display()
        )
        .and_then(|()| stdout.flush());
    }

    let max_time = async {
        match args.max_seconds {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => future::pending().await,
        }
    };
    let reason = ceiling
        .serve_until(async {
            tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
                () = max_time => "--max-seconds elapsed",
            }
        })
        .await;
    eprintln!(
        "ceiling-server: stopping ({reason}) after {} requests on {} connections",
        ceiling.counters.requests.load(Ordering::Relaxed),
        ceiling.counters.connections.load(Ordering::Relaxed),
    );
    Ok(())
}

/// A bound ceiling server, not yet accepting.
struct Ceiling {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    addr: SocketAddr,
    ca_path: PathBuf,
    counters: Arc<Counters>,
}

impl Ceiling {
    /// Generates the certificates, writes `cert_dir/ca.pem` and binds
    /// `listen`, which must be a loopback address.
    async fn start(listen: SocketAddr, cert_dir: &Path) -> anyhow::Result<Self> {
        ensure!(
            listen.ip().is_loopback(),
            "--listen {listen} is not a loopback address: the ceiling server is for this machine only"
        );
        let identity = ServerIdentity::generate()?;
        std::fs::create_dir_all(cert_dir)
            .with_context(|| format!("creating {}", cert_dir.display()))?;
        let ca_path = cert_dir.join("ca.pem");
        std::fs::write(&ca_path, &identity.ca_pem)
            .with_context(|| format!("writing {}", ca_path.display()))?;
        let acceptor = TlsAcceptor::from(tls::server_config(identity)?);
        let listener = TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr().context("listening address")?;
        Ok(Self {
            listener,
            acceptor,
            addr,
            ca_path,
            counters: Arc::default(),
        })
    }

    /// Accepts connections until `stop` completes; returns its output.
    /// Connections already open are served on until the runtime stops.
    async fn serve_until<T>(&self, stop: impl Future<Output = T>) -> T {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                reason = &mut stop => return reason,
                accepted = self.listener.accept() => match accepted {
                    Ok((tcp, _peer)) => {
                        let acceptor = self.acceptor.clone();
                        tokio::spawn(connection(acceptor, tcp, Arc::clone(&self.counters)));
                    }
                    Err(err) => {
                        eprintln!("ceiling-server: accept failed: {err}");
                        tokio::time::sleep(ACCEPT_PAUSE).await;
                    }
                },
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
}

/// One client connection: TLS, then HTTP/1.1 keep-alive until it closes.
async fn connection(acceptor: TlsAcceptor, tcp: TcpStream, counters: Arc<Counters>) {
    // As a server should: small responses must not wait for an ACK.
    if tcp.set_nodelay(true).is_err() {
        return;
    }
    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
        return;
    };
    counters.connections.fetch_add(1, Ordering::Relaxed);
    let service = service_fn(move |request| respond(request, Arc::clone(&counters)));
    // An error here is a client going away, as every client does at the end
    // of a run.
    let _closed = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

/// Reads the whole body, then answers the fixed response, or the request
/// body itself when that is larger: an `Encrypt` of n bytes answers about
/// as many bytes as it was sent, so the ceiling moves the same volume in
/// both directions as the server it bounds.
async fn respond(
    request: Request<Incoming>,
    counters: Arc<Counters>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let id = counters.requests.fetch_add(1, Ordering::Relaxed);
    let (status, body) = match Limited::new(request.into_body(), MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(body) => {
            let body = body.to_bytes();
            if body.len() > RESPONSE_BODY.len() {
                (StatusCode::OK, body)
            } else {
                (StatusCode::OK, Bytes::from_static(RESPONSE_BODY.as_bytes()))
            }
        }
        Err(_too_large_or_cut) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            Bytes::from_static(br#"{"__type":"ValidationException","message":"request body"}"#),
        ),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static(kms::CONTENT_TYPE),
    );
    // A UUID-shaped id from a counter: as long as a real one, no randomness.
    let request_id = format!("00000000-0000-4000-8000-{:012x}", id & 0xffff_ffff_ffff);
    if let Ok(value) = http::HeaderValue::try_from(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;

    use super::*;
    use crate::cli::{Op, RunArgs};
    use crate::run;

    #[test]
    fn the_fixed_response_is_a_valid_encrypt_response() {
        let blob = kms::ciphertext_blob(RESPONSE_BODY.as_bytes()).expect("valid");
        assert_eq!(BASE64.decode(blob).expect("base64").len(), 184);
    }

    #[test]
    fn refuses_to_listen_beyond_loopback() {
        let dir = tempfile::tempdir().expect("temp dir");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        for listen in ["0.0.0.0:0", "[::]:0", "10.1.2.3:0"] {
            let listen = listen.parse().expect("socket address");
            let started = runtime.block_on(Ceiling::start(listen, dir.path()));
            assert!(started.is_err(), "{listen}");
        }
    }

    fn args(endpoint: String, ca_bundle: PathBuf, op: Op) -> RunArgs {
        RunArgs {
            endpoint,
            ca_bundle,
            region: "us-east-1".to_owned(),
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "not-checked".to_owned(),
            op,
            size: 32,
            key_id: Some("alias/bench".to_owned()),
            key_spec: "ECC_NIST_P256".to_owned(),
            signing_algorithm: None,
            key_pair_spec: "ECC_NIST_P256".to_owned(),
            concurrency: 4,
            duration: 1,
            warmup: 0,
            timeout: 1,
            threads: None,
            json: false,
        }
    }

    /// The loop this tool exists for, in little: the ceiling server, and a
    /// short run against it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn run_against_the_ceiling() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ceiling = Ceiling::start("127.0.0.1:0".parse().expect("address"), dir.path())
            .await
            .expect("ceiling starts");
        let endpoint = format!("https://{}", ceiling.addr);
        let ca = ceiling.ca_path.clone();
        let server = tokio::spawn(async move {
            ceiling.serve_until(future::pending::<()>()).await;
        });

        for op in [Op::Noop, Op::Encrypt] {
            let report = run::run(args(endpoint.clone(), ca.clone(), op))
                .await
                .expect("run succeeds");
            assert!(report.ok > 0, "{op:?}");
            assert_eq!(report.transport_errors, 0, "{op:?}");
            assert!(report.http_errors.is_empty(), "{op:?}");
            assert_eq!(report.connections, 4, "{op:?}");
            assert_eq!(report.tls.version, "TLSv1_3");
            assert!(report.latency.is_some());
        }

        // The ceiling answers no Decrypt: the setup says so, without panicking.
        let decrypt = run::run(args(endpoint, ca, Op::Decrypt)).await;
        assert!(decrypt.is_err());
        server.abort();
    }

    /// A server that accepts and then says nothing cannot hold the run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_server_times_out() {
        let dir = tempfile::tempdir().expect("temp dir");
        let identity = ServerIdentity::generate().expect("identity");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &identity.ca_pem).expect("write ca");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let endpoint = format!("https://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((tcp, _)) = listener.accept().await {
                held.push(tcp);
            }
        });

        let started = tokio::time::Instant::now();
        let result = run::run(args(endpoint, ca, Op::Noop)).await;
        assert!(result.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        server.abort();
    }
}
