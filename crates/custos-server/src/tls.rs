//! TLS: rustls on aws-lc-rs.
//!
//! TLS 1.3 only by default; TLS 1.2 when enabled, with ECDHE and AEAD
//! cipher suites only. Key exchange offers the hybrid post-quantum group
//! X25519MLKEM768 first (rustls' `prefer-post-quantum`), then X25519,
//! P-256 and P-384.
//!
//! Without operator-supplied certificates, Custos generates, once, a CA and
//! a server certificate for `localhost`, `127.0.0.1` and `::1` (and the
//! listen address): `tls/ca.pem` is what clients trust (`AWS_CA_BUNDLE`).
//! The CA's private key is discarded as soon as it has signed, so nobody —
//! including whoever later reads the data directory — can mint another
//! certificate clients would trust. The server's private key is stored
//! sealed under the store key (`tls/server-key.sealed`), never in
//! plaintext — except under the shares root-key provider, where the
//! server must speak TLS while sealed, before any store key exists in
//! memory: there the key is `tls/server-key.pem`, mode 0600, as a TLS key
//! is for any web server (see `docs/key-hierarchy.md`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use custos_crypto::SecretBytes;
use custos_kms::Kms;
use rustls::ServerConfig;
use rustls::crypto::aws_lc_rs as provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::config::TlsSource;

const SEAL_PURPOSE: &str = "tls-server-key";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no PEM certificate or key found")]
    NoPem { path: String },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("the sealed TLS key does not open with this store key")]
    Sealed(#[source] custos_kms::KmsError),
    #[error(
        "the generated TLS key is kept for another root-key provider ({path}); \
         `custos operator rekey` moves it"
    )]
    OtherCustody { path: String },
}

/// What the server needs for TLS, and what to tell clients.
#[derive(Debug)]
pub struct TlsSetup {
    pub config: Arc<ServerConfig>,
    /// The CA bundle clients should trust, when Custos generated it.
    pub ca_bundle: Option<PathBuf>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// How a generated server key is kept.
#[derive(Debug)]
pub enum KeyCustody<'a, E> {
    /// Sealed under this store key.
    Sealed(&'a Kms<E>),
    /// In a file only its owner reads, for a server that must serve TLS
    /// while sealed.
    OwnerOnlyFile,
}

// By hand: a derive would ask `E: Copy` of the engine.
impl<E> Clone for KeyCustody<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for KeyCustody<'_, E> {}

/// Builds the rustls configuration from `source`.
pub fn setup<E>(
    source: &TlsSource,
    data_dir: &Path,
    listen_ip: IpAddr,
    enable_tls12: bool,
    custody: KeyCustody<'_, E>,
) -> Result<Option<TlsSetup>, TlsError> {
    let (chain, key, ca_bundle) = match source {
        TlsSource::PlainHttp => return Ok(None),
        TlsSource::Files { cert, key } => {
            let chain = read_certs(cert)?;
            let key_der = read_key(key)?;
            (chain, key_der, None)
        }
        TlsSource::Generated => {
            let (chain, key) = generated(data_dir, listen_ip, custody)?;
            (chain, key, Some(data_dir.join("tls").join("ca.pem")))
        }
    };
    let versions: &[&rustls::SupportedProtocolVersion] = if enable_tls12 {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13]
    };
    let mut crypto = provider::default_provider();
    // Named explicitly rather than inherited: TLS 1.3's AEAD suites, and
    // for TLS 1.2 only ECDHE key exchange with AEAD ciphers.
    crypto.cipher_suites = {
        use provider::cipher_suite::*;
        vec![
            TLS13_AES_256_GCM_SHA384,
            TLS13_AES_128_GCM_SHA256,
            TLS13_CHACHA20_POLY1305_SHA256,
            TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ]
    };
    let mut config = ServerConfig::builder_with_provider(Arc::new(crypto))
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(TlsSetup {
        config: Arc::new(config),
        ca_bundle,
    }))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = std::fs::read(path).map_err(io(path))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsError::NoPem {
            path: path.display().to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoPem {
            path: path.display().to_string(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = zeroize::Zeroizing::new(std::fs::read(path).map_err(io(path))?);
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| TlsError::NoPem {
        path: path.display().to_string(),
    })
}

/// Loads the generated certificate and sealed key, generating them first
/// if this data directory has none.
fn generated<E>(
    data_dir: &Path,
    listen_ip: IpAddr,
    custody: KeyCustody<'_, E>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let dir = data_dir.join("tls");
    let cert_path = dir.join("server.pem");
    let key_path = dir.join(key_file(&custody));
    if cert_path.exists() && !key_path.exists() && other_key_file(&dir, &custody).exists() {
        // Kept for another provider: a new CA here would break every
        // client's bundle. `custos operator rekey` moves the key.
        return Err(TlsError::OtherCustody {
            path: other_key_file(&dir, &custody).display().to_string(),
        });
    }
    if !cert_path.exists() || !key_path.exists() {
        generate(&dir, listen_ip, custody)?;
    }
    let chain = read_certs(&cert_path)?;
    let key = match custody {
        KeyCustody::Sealed(kms) => {
            let sealed = std::fs::read(&key_path).map_err(io(&key_path))?;
            let key = kms
                .open_local(SEAL_PURPOSE, &sealed)
                .map_err(TlsError::Sealed)?;
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.expose_secret().to_vec()))
        }
        KeyCustody::OwnerOnlyFile => read_key(&key_path)?,
    };
    Ok((chain, key))
}

fn other_key_file<E>(dir: &Path, custody: &KeyCustody<'_, E>) -> PathBuf {
    dir.join(match custody {
        KeyCustody::Sealed(_) => "server-key.pem",
        KeyCustody::OwnerOnlyFile => "server-key.sealed",
    })
}

/// Moves a generated TLS key to `to`'s custody (sealed under `kms`'s
/// store key, or an owner-only file), keeping the certificate and CA:
/// what a rekey between the shares provider and the others does. Nothing
/// to do without a generated key, or when it is kept so already.
pub fn move_key<E>(data_dir: &Path, kms: &Kms<E>, to_sealed: bool) -> Result<(), TlsError> {
    let dir = data_dir.join("tls");
    let (sealed, file) = (dir.join("server-key.sealed"), dir.join("server-key.pem"));
    if to_sealed && file.exists() {
        let key = read_key(&file)?;
        let der = SecretBytes::from_slice(key.secret_der());
        let stored = kms
            .seal_local(SEAL_PURPOSE, der.expose_secret())
            .map_err(TlsError::Sealed)?;
        write_atomically(&sealed, &stored)?;
        std::fs::remove_file(&file).map_err(io(&file))?;
    } else if !to_sealed && sealed.exists() {
        let bytes = std::fs::read(&sealed).map_err(io(&sealed))?;
        let der = kms
            .open_local(SEAL_PURPOSE, &bytes)
            .map_err(TlsError::Sealed)?;
        // Sealed as PKCS#8 DER when generated; written back as PEM.
        let pair = rcgen::KeyPair::try_from(der.expose_secret())?;
        let pem = zeroize::Zeroizing::new(pair.serialize_pem());
        write_atomically(&file, pem.as_bytes())?;
        std::fs::remove_file(&sealed).map_err(io(&sealed))?;
    }
    Ok(())
}

fn key_file<E>(custody: &KeyCustody<'_, E>) -> &'static str {
    match custody {
        KeyCustody::Sealed(_) => "server-key.sealed",
        KeyCustody::OwnerOnlyFile => "server-key.pem",
    }
}

fn generate<E>(dir: &Path, listen_ip: IpAddr, custody: KeyCustody<'_, E>) -> Result<(), TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .map_err(io(dir))?;
    let now = time::OffsetDateTime::now_utc();
    let until = now + time::Duration::days(3650);

    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "Custos local CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = now - time::Duration::hours(1);
    ca.not_after = until;
    let ca_cert = ca.self_signed(&ca_key)?;

    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !listen_ip.is_unspecified() && !names.contains(&listen_ip.to_string()) {
        names.push(listen_ip.to_string());
    }
    let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut server = CertificateParams::new(names)?;
    server.distinguished_name.push(DnType::CommonName, "Custos");
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = now - time::Duration::hours(1);
    server.not_after = until;
    let issuer = Issuer::new(ca, ca_key);
    let server_cert = server.signed_by(&server_key, &issuer)?;
    // The CA key goes out of scope here and is never written anywhere.
    drop(issuer);

    let stored = match custody {
        KeyCustody::Sealed(kms) => {
            let key_der = SecretBytes::new(server_key.serialize_der());
            kms.seal_local(SEAL_PURPOSE, key_der.expose_secret())
                .map_err(TlsError::Sealed)?
        }
        KeyCustody::OwnerOnlyFile => zeroize::Zeroizing::new(server_key.serialize_pem())
            .as_bytes()
            .to_vec(),
    };
    let stored = zeroize::Zeroizing::new(stored);
    write_atomically(&dir.join(key_file(&custody)), &stored)?;
    write_atomically(
        &dir.join("server.pem"),
        format!("{}{}", server_cert.pem(), ca_cert.pem()).as_bytes(),
    )?;
    write_atomically(&dir.join("ca.pem"), ca_cert.pem().as_bytes())?;
    Ok(())
}

/// Writes `bytes` to `path` durably: a temporary file, fsync, rename,
/// fsync of the directory.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut f = std::os::unix::fs::OpenOptionsExt::mode(
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true),
        0o600,
    )
    .open(&tmp)
    .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}
