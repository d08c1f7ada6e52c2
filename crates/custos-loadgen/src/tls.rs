//! The rustls configurations, on aws-lc-rs like Custos, and the ceiling
//! server's throwaway certificates.
//!
//! Both sides use rustls' default aws-lc-rs provider: its cipher suites and,
//! with the `prefer-post-quantum` feature, its key-exchange groups with the
//! X25519MLKEM768 hybrid first, as a Custos server and an AWS SDK built on
//! rustls would negotiate.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, ensure};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

const ALPN_HTTP11: &[u8] = b"http/1.1";

/// A client configuration that trusts only the certificates in `ca_bundle`.
pub(crate) fn client_config(ca_bundle: &Path) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_bundle)
        .with_context(|| format!("reading CA bundle {}", ca_bundle.display()))?;
    for cert in certs {
        let cert = cert.with_context(|| format!("parsing CA bundle {}", ca_bundle.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("loading a certificate of {}", ca_bundle.display()))?;
    }
    ensure!(
        !roots.is_empty(),
        "CA bundle {} holds no certificate",
        ca_bundle.display()
    );
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("configuring TLS versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// A TLS 1.3 server configuration presenting `identity`.
pub(crate) fn server_config(identity: ServerIdentity) -> anyhow::Result<Arc<ServerConfig>> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .context("configuring TLS versions")?
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .context("loading the server certificate")?;
    config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// What the ceiling server presents, and the CA a client must trust for it.
pub(crate) struct ServerIdentity {
    /// The CA certificate, PEM, for the client's `--ca-bundle`.
    pub(crate) ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ServerIdentity {
    /// A fresh ECDSA P-256 CA and, signed by it, a server certificate for
    /// `127.0.0.1`, `::1` and `localhost`. Nothing is kept: each start has a
    /// new CA, whose key is dropped once the server certificate is signed.
    pub(crate) fn generate() -> anyhow::Result<Self> {
        let ca_key =
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).context("generating the CA key")?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).context("CA certificate parameters")?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "custos-loadgen ceiling CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params
            .self_signed(&ca_key)
            .context("self-signing the CA certificate")?;
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key =
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).context("generating the server key")?;
        let mut server_params = CertificateParams::new(vec![
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
            "localhost".to_owned(),
        ])
        .context("server certificate parameters")?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.use_authority_key_identifier_extension = true;
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .context("signing the server certificate")?;

        Ok(Self {
            ca_pem: ca_cert.pem(),
            chain: vec![server_cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ca_is_trusted_by_the_client_config() {
        let identity = ServerIdentity::generate().expect("generate");
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, &identity.ca_pem).expect("write ca");
        assert!(client_config(&ca).is_ok());
        assert!(server_config(identity).is_ok());
    }

    #[test]
    fn empty_ca_bundle_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate\n").expect("write ca");
        assert!(client_config(&ca).is_err());
    }
}
