//! SigV4 signing of one request, as an AWS SDK does it.
//!
//! Every send is signed afresh, with the current time, so that the server
//! under test verifies a real signature each time (two requests signed in
//! the same second with the same body do carry the same signature, as they
//! would from an SDK).

use std::time::SystemTime;

use anyhow::Context;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request};
use http_body_util::Full;

use crate::endpoint::Endpoint;
use crate::kms::{self, Call};

/// The signing name of AWS KMS.
const SERVICE: &str = "kms";
const X_AMZ_TARGET: &str = "x-amz-target";

/// Signs requests for one endpoint, region and set of credentials.
// No `Debug`: it holds the secret access key (whose own `Debug` redacts it,
// but there is nothing here worth printing).
pub(crate) struct Signer {
    identity: Identity,
    region: String,
    url: String,
    host: HeaderValue,
}

impl Signer {
    pub(crate) fn new(
        endpoint: &Endpoint,
        region: String,
        access_key_id: String,
        secret_access_key: String,
    ) -> anyhow::Result<Self> {
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "custos-loadgen",
        );
        Ok(Self {
            identity: credentials.into(),
            region,
            url: endpoint.url.clone(),
            host: HeaderValue::from_str(&endpoint.authority)
                .context("endpoint authority is not a valid Host header")?,
        })
    }

    /// A signed `POST /` carrying `call`, to send on a connection to the
    /// endpoint.
    pub(crate) fn sign(&self, call: &Call) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut request = Request::builder()
            .method(Method::POST)
            // Origin form: the connection already goes to the endpoint.
            .uri("/")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, kms::CONTENT_TYPE)
            .header(X_AMZ_TARGET, call.target.clone())
            .body(Full::new(call.body.clone()))
            .context("building the request")?;

        let mut headers = Vec::with_capacity(request.headers().len());
        for (name, value) in request.headers() {
            let value = value.to_str().context("request header values are ASCII")?;
            headers.push((name.as_str(), value));
        }
        let signable = SignableRequest::new(
            "POST",
            self.url.as_str(),
            headers.into_iter(),
            SignableBody::Bytes(&call.body),
        )
        .context("preparing the request for signing")?;
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .context("SigV4 signing parameters")?
            .into();
        let (instructions, _signature) = sign(signable, &params)
            .context("signing the request")?
            .into_parts();
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_a_sigv4_authorization() {
        let endpoint = Endpoint::parse("https://127.0.0.1:8443").expect("valid endpoint");
        let signer = Signer::new(
            &endpoint,
            "us-east-1".to_owned(),
            "AKIDEXAMPLE".to_owned(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
        )
        .expect("signer");
        let request = signer
            .sign(&Call::encrypt("alias/a", b"hi"))
            .expect("signed");

        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(request.uri(), "/");
        assert_eq!(header("host"), "127.0.0.1:8443");
        assert_eq!(header("x-amz-target"), "TrentService.Encrypt");
        assert_eq!(header("content-type"), "application/x-amz-json-1.1");
        assert_eq!(header("x-amz-date").len(), "20250101T000000Z".len());
        let authorization = header("authorization");
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{authorization}"
        );
        assert!(authorization.contains("/us-east-1/kms/aws4_request"));
        assert!(
            authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"),
            "{authorization}"
        );
        assert!(!authorization.contains("wJalrXUtnFEMI"));
    }
}
