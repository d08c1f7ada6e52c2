//! TLS as configured: 1.3 only by default, the hybrid post-quantum group
//! X25519MLKEM768 offered, TLS 1.2 (ECDHE + AEAD only) when enabled, and
//! plain HTTP only on loopback when asked for.

mod common;

use std::sync::Arc;

use custos_crypto::SecretBytes;
use custos_server::config::{Config, ConfigFile, Overrides};
use rustls::crypto::aws_lc_rs as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

fn config(dir: &std::path::Path, over: Overrides) -> Config {
    Config::resolve(
        ConfigFile::default(),
        Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(dir.to_owned()),
            bootstrap_access_key_id: Some(common::ACCESS_KEY.into()),
            bootstrap_secret_access_key: Some(SecretBytes::from_slice(
                common::SECRET_KEY.as_bytes(),
            )),
            ..over
        },
    )
    .expect("valid configuration")
}

/// Connects with a client limited to `versions` and `groups`, and returns
/// the negotiated version and group, or the handshake error.
async fn handshake(
    running: &custos_server::Running,
    versions: &[&'static rustls::SupportedProtocolVersion],
    groups: Option<Vec<&'static dyn rustls::crypto::SupportedKxGroup>>,
) -> Result<(rustls::ProtocolVersion, rustls::NamedGroup), String> {
    let mut roots = RootCertStore::empty();
    let pem = std::fs::read(running.ca_bundle.as_ref().expect("CA")).expect("read CA");
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.expect("PEM")).expect("add");
    }
    let mut crypto = provider::default_provider();
    if let Some(groups) = groups {
        crypto.kx_groups = groups;
    }
    let client = ClientConfig::builder_with_provider(Arc::new(crypto))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(running.local_addr)
        .await
        .expect("connect");
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let (_, session) = tls.get_ref();
    Ok((
        session.protocol_version().expect("version"),
        session
            .negotiated_key_exchange_group()
            .expect("group")
            .name(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_with_hybrid_post_quantum_key_exchange_by_default() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = custos_server::start(config(dir.path(), Overrides::default()))
        .await
        .expect("start");
    assert!(running.endpoint().starts_with("https://"));

    // A default client (rustls with aws-lc, post-quantum preferred).
    let (version, group) = handshake(&running, &[&rustls::version::TLS13], None)
        .await
        .expect("TLS 1.3");
    assert_eq!(version, rustls::ProtocolVersion::TLSv1_3);
    assert_eq!(group, rustls::NamedGroup::X25519MLKEM768);

    // A client that offers only the hybrid group still connects.
    let only_pq = vec![provider::kx_group::X25519MLKEM768];
    let (_, group) = handshake(&running, &[&rustls::version::TLS13], Some(only_pq))
        .await
        .expect("X25519MLKEM768 only");
    assert_eq!(group, rustls::NamedGroup::X25519MLKEM768);

    // TLS 1.2 is refused unless enabled.
    let refused = handshake(&running, &[&rustls::version::TLS12], None).await;
    assert!(refused.is_err(), "{refused:?}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls12_when_enabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = custos_server::start(config(
        dir.path(),
        Overrides {
            enable_tls12: Some(true),
            ..Overrides::default()
        },
    ))
    .await
    .expect("start");
    let (version, _) = handshake(&running, &[&rustls::version::TLS12], None)
        .await
        .expect("TLS 1.2");
    assert_eq!(version, rustls::ProtocolVersion::TLSv1_2);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_only_when_asked_and_only_on_loopback() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = custos_server::start(config(
        dir.path(),
        Overrides {
            insecure_plain_http: Some(true),
            ..Overrides::default()
        },
    ))
    .await
    .expect("start");
    assert!(running.endpoint().starts_with("http://127.0.0.1:"));
    assert!(running.ca_bundle.is_none());
    running.shutdown().await;

    let refused = Config::resolve(
        ConfigFile::default(),
        Overrides {
            listen: Some("0.0.0.0:0".into()),
            insecure_plain_http: Some(true),
            ..Overrides::default()
        },
    );
    assert!(
        matches!(
            refused,
            Err(custos_server::config::ConfigError::Invalid {
                field: "insecure_plain_http",
                ..
            })
        ),
        "{refused:?}"
    );
}

/// A self-signed certificate for 127.0.0.1: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    (cert.pem(), key.serialize_pem())
}

fn write_pair(dir: &std::path::Path, (cert, key): &(String, String)) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(dir.join("cert.pem"), cert).expect("cert");
    std::fs::write(dir.join("key.pem"), key).expect("key");
    std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o600))
        .expect("chmod");
}

/// A TLS connection trusting only `cert_pem`, or the handshake error.
async fn connect_trusting(
    running: &custos_server::Running,
    cert_pem: &str,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem.as_bytes()) {
        roots.add(cert.expect("PEM")).expect("add");
    }
    let client = ClientConfig::builder_with_provider(Arc::new(provider::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(running.local_addr)
        .await
        .expect("connect");
    tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(ServerName::try_from("127.0.0.1").expect("name"), tcp)
        .await
        .map_err(|e| e.to_string())
}

/// `GET /healthz` on an open connection; the status line.
async fn health_on(tls: &mut tokio_rustls::client::TlsStream<tokio::net::TcpStream>) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    tls.write_all(b"GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tls.read(&mut buf).await.expect("read");
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_certificates_are_reloaded_without_dropping_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = tempfile::tempdir().expect("tls files");
    let first = self_signed();
    write_pair(files.path(), &first);
    let running = custos_server::start(config(
        dir.path(),
        Overrides {
            tls_cert_file: Some(files.path().join("cert.pem")),
            tls_key_file: Some(files.path().join("key.pem")),
            ..Overrides::default()
        },
    ))
    .await
    .expect("start");
    let mut open = connect_trusting(&running, &first.0)
        .await
        .expect("the first certificate is served");
    assert_eq!(health_on(&mut open).await, "HTTP/1.1 200 OK");

    // Renewed in place, then reloaded (SIGHUP, in the binary).
    let second = self_signed();
    write_pair(files.path(), &second);
    running.reload_tls().expect("reload");
    connect_trusting(&running, &second.0)
        .await
        .expect("new connections get the new certificate");
    assert!(
        connect_trusting(&running, &first.0).await.is_err(),
        "the old certificate is no longer served"
    );
    assert_eq!(
        health_on(&mut open).await,
        "HTTP/1.1 200 OK",
        "a connection opened before the reload still serves"
    );

    // A broken renewal changes nothing: a key that is not the
    // certificate's, then a file that is not PEM.
    let third = self_signed();
    std::fs::write(files.path().join("key.pem"), &third.1).expect("key");
    assert!(running.reload_tls().is_err(), "a mismatched key is refused");
    std::fs::write(files.path().join("cert.pem"), "not a certificate").expect("cert");
    assert!(
        running.reload_tls().is_err(),
        "a file that is not PEM is refused"
    );
    connect_trusting(&running, &second.0)
        .await
        .expect("still the second certificate");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_certificate_is_not_reloaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = custos_server::start(config(dir.path(), Overrides::default()))
        .await
        .expect("start");
    assert!(matches!(
        running.reload_tls(),
        Err(custos_server::tls::TlsError::NotReloadable)
    ));
    running.shutdown().await;
}
