//! The `--endpoint` URL, and the rule that all traffic stays on this machine.
//!
//! The URL is parsed once into where to connect (always a loopback socket
//! address), the name the server certificate must carry, and the `Host` the
//! requests are sent and signed with. Anything else is refused before a
//! single packet is sent.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::{Context, bail, ensure};
use http::Uri;
use rustls::pki_types::ServerName;

/// A parsed HTTPS endpoint on this machine.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// Where to connect: always a loopback address.
    pub(crate) addr: SocketAddr,
    /// The name the server certificate must be valid for.
    pub(crate) server_name: ServerName<'static>,
    /// The authority as given (`127.0.0.1:8443`): the `Host` header.
    pub(crate) authority: String,
    /// `https://{authority}/`: the URL each request is signed for.
    pub(crate) url: String,
}

impl Endpoint {
    /// Parses `https://HOST[:PORT][/]`, where HOST is a loopback address
    /// (`127.0.0.0/8`, `[::1]`) or `localhost`, which means `127.0.0.1`.
    pub(crate) fn parse(text: &str) -> anyhow::Result<Self> {
        let uri: Uri = text
            .parse()
            .with_context(|| format!("endpoint {text:?} is not a URL"))?;
        ensure!(
            uri.scheme_str() == Some("https"),
            "endpoint {text:?} must start with https://"
        );
        ensure!(
            matches!(uri.path(), "" | "/") && uri.query().is_none(),
            "endpoint {text:?} must have no path or query"
        );
        let Some(authority) = uri.authority() else {
            bail!("endpoint {text:?} has no host");
        };
        ensure!(
            !authority.as_str().contains('@'),
            "endpoint {text:?} must not carry credentials"
        );
        let host = authority.host();
        let port = authority.port_u16().unwrap_or(443);

        let (ip, server_name) = if host.eq_ignore_ascii_case("localhost") {
            // No resolver involved: `localhost` can only mean this machine.
            let name = ServerName::try_from("localhost")
                .context("`localhost` is a valid DNS name")?
                .to_owned();
            (IpAddr::V4(Ipv4Addr::LOCALHOST), name)
        } else {
            // `http::Uri` keeps the brackets of an IPv6 literal.
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            let Ok(ip) = literal.parse::<IpAddr>() else {
                bail!(
                    "endpoint host {host:?} is neither a loopback address nor `localhost`; \
                     only this machine may be loaded"
                );
            };
            (ip, ServerName::IpAddress(ip.into()))
        };
        ensure!(
            ip.is_loopback(),
            "endpoint address {ip} is not a loopback address (127.0.0.0/8 or ::1); \
             only this machine may be loaded"
        );

        Ok(Self {
            addr: SocketAddr::new(ip, port),
            server_name,
            authority: authority.as_str().to_owned(),
            url: format!("https://{authority}/"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_loopback_endpoints() {
        for (text, addr, authority) in [
            ("https://127.0.0.1:8443", "127.0.0.1:8443", "127.0.0.1:8443"),
            (
                "https://127.0.0.1:8443/",
                "127.0.0.1:8443",
                "127.0.0.1:8443",
            ),
            ("https://127.1.2.3", "127.1.2.3:443", "127.1.2.3"),
            ("https://[::1]:9000", "[::1]:9000", "[::1]:9000"),
            ("https://localhost:8443", "127.0.0.1:8443", "localhost:8443"),
            ("https://LocalHost:8443", "127.0.0.1:8443", "LocalHost:8443"),
        ] {
            let endpoint = Endpoint::parse(text).expect(text);
            assert_eq!(endpoint.addr.to_string(), addr, "{text}");
            assert_eq!(endpoint.authority, authority, "{text}");
            assert_eq!(endpoint.url, format!("https://{authority}/"), "{text}");
        }
    }

    #[test]
    fn server_name_follows_the_host() {
        let by_ip = Endpoint::parse("https://127.0.0.1:1").expect("valid");
        assert!(matches!(by_ip.server_name, ServerName::IpAddress(_)));
        let by_name = Endpoint::parse("https://localhost:1").expect("valid");
        assert!(matches!(by_name.server_name, ServerName::DnsName(_)));
    }

    #[test]
    fn refuses_everything_else() {
        for text in [
            "https://10.0.0.1:8443",
            "https://192.168.1.1",
            "https://172.16.0.1",
            "https://8.8.8.8",
            "https://0.0.0.0:8443",
            "https://[::]:8443",
            "https://[::ffff:127.0.0.1]:8443",
            "https://kms.us-east-1.amazonaws.com",
            "https://localhost.example.com",
            "https://127.0.0.1.nip.io",
            "http://127.0.0.1:8443",
            "https://127.0.0.1:8443/kms",
            "https://127.0.0.1:8443/?a=b",
            "https://user:pass@127.0.0.1:8443",
            "127.0.0.1:8443",
            "",
        ] {
            assert!(Endpoint::parse(text).is_err(), "{text:?} was accepted");
        }
    }
}
