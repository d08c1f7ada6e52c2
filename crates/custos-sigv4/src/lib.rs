//! AWS Signature Version 4 verification: the step that turns an untrusted
//! HTTP request into an authenticated one.
//!
//! The server hands over the request exactly as received ([`RequestParts`]).
//! Verification is two steps, so that the credential lookup sits between them
//! and stays outside this crate:
//!
//! ```no_run
//! # use custos_sigv4::{AuthError, RequestParts, Verified};
//! # use custos_crypto::SecretBytes;
//! # fn lookup(_: &str) -> Option<SecretBytes> { None }
//! # fn authenticate(req: &RequestParts<'_>) -> Result<Verified, AuthError> {
//! let signed = custos_sigv4::parse(req)?; // structure only; no secret involved
//! let secret = lookup(signed.access_key_id()).ok_or(AuthError::UnrecognizedClient)?;
//! signed.check_scope("eu-west-1", "kms")?; // the region and service we serve
//! let verified = signed.verify(&secret, time::OffsetDateTime::now_utc())?;
//! # Ok(verified) }
//! ```
//!
//! A [`Verified`] can only be made by [`SignedRequest::verify`], so code that
//! takes one can only ever see an authenticated request.
//!
//! # Design
//!
//! - **Canonicalisation is the AWS one for services other than S3**, checked
//!   against the official test suite: the URI path has its `.`/`..` segments
//!   removed and empty segments collapsed, then is percent-encoded once more as
//!   received (so a path sent as `%3A` is signed as `%253A`: the "double
//!   encoding" of the AWS documentation); query parameters are decoded
//!   (form-style, `+` is a space), re-encoded with the AWS unreserved set and
//!   sorted by encoded name then value; signed headers are looked up by name,
//!   their values trimmed of spaces with inner runs of spaces collapsed, and
//!   repeated headers joined with `,`; the `Host` header is used exactly as
//!   received. The payload hash is always the SHA-256 of the body we were
//!   given; an `x-amz-content-sha256` header, when present, must equal it.
//! - **Every byte counts.** Canonicalisation works on bytes, not on strings
//!   decoded lossily, so two different requests never canonicalise alike
//!   except where AWS itself says they are equal (the case of a
//!   percent-escape's hex digits in the query, `+` and `%20`).
//! - **Strict where AWS is lenient, when leniency only helps an attacker.**
//!   `SignedHeaders` must be sorted, lowercase and without repeats (otherwise a
//!   short header naming one large header many times would make us hash
//!   gigabytes), an `Authorization` header and presigned parameters may not
//!   both be present, and no authentication parameter may be repeated.
//! - **Secrets stay put.** The `"AWS4" + secret` buffer is a
//!   [`custos_crypto::SecretBytes`], the derived keys are wiped after use, the
//!   signatures are compared with [`custos_crypto::ct::eq`], and nothing
//!   secret (secret key, signing key, expected signature) reaches an error
//!   message or a `Debug` output. The signature the client sent is not printed
//!   by `Debug` either. All cryptography goes through `custos-crypto`.
//! - **Errors speak AWS.** Each [`AuthError`] knows the `__type` and the
//!   message AWS KMS sends for it (see [`AuthError::aws_type`] and
//!   [`AuthError::message`]); the server only has to put them on the wire.
//! - **No panics on any input**: non-UTF-8 header values, absurd dates,
//!   missing or repeated pieces all end in an [`AuthError`].
//!
//! # Layout
//!
//! - `parse`: reads the `Authorization` header or the presigned query
//!   parameters into a [`SignedRequest`] (validating the credential scope and
//!   the date), and verifies it into a [`Verified`].
//! - `canonical`: the canonical request (URI path, query string, headers).
//! - `signing`: the signing-key derivation and the signature; the only module
//!   that touches the secret.
//! - `timestamp`: the `X-Amz-Date` and `Date` formats.
//! - [`error`]: [`AuthError`] and its AWS `__type` and message.
//!
//! # What this crate deliberately does not do
//!
//! - **No SigV4a** (the ECDSA, multi-region variant), and no SigV2.
//! - **No chunked or streaming payloads** (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`,
//!   `UNSIGNED-PAYLOAD`, trailers): the whole body is hashed, as AWS KMS
//!   requires. A request claiming such a payload is rejected because its
//!   `x-amz-content-sha256` does not match the body.
//! - **No S3 rules**: no single-encoded paths, no unnormalised paths by
//!   default (the option exists, [`ParseOptions::normalize_uri_path`], to run
//!   the test suite's `normalize: false` cases).
//! - **No credential lookup and no session tokens**: the caller maps the
//!   access key id to a secret, and decides what to do with an
//!   `X-Amz-Security-Token` ([`SignedRequest::security_token`]); this crate
//!   only checks that the request was signed with the secret it is given.
//! - **No replay protection** beyond the clock window: a captured request can
//!   be replayed for as long as its timestamp is within five minutes of the
//!   server clock (or its presigned lifetime), as with AWS.
//! - **No HTTP/2 `:authority`**: the caller must present the authority as a
//!   `host` header.
//! - **No `Date` header in the obsolete RFC 850 or asctime formats**; only the
//!   IMF-fixdate form (`Sun, 06 Nov 1994 08:49:37 GMT`) is accepted.

mod canonical;
pub mod error;
mod parse;
mod signing;
mod timestamp;

use std::fmt;

pub use error::{AuthError, AuthorizationComponent, ExpiryRule, Incomplete, QueryParameter};
pub use parse::{SignedRequest, Verified, parse, parse_with};
pub use signing::SigningKey;

/// An HTTP request exactly as it arrived, before anything trusted it.
#[derive(Clone, Copy)]
pub struct RequestParts<'a> {
    /// The request method, e.g. `"POST"`.
    pub method: &'a str,
    /// The raw request path as received, still percent-encoded, e.g. `"/"`.
    pub path: &'a str,
    /// The raw query string without the `?`; `""` if there is none.
    pub query: &'a str,
    /// All request headers, including `host` (for HTTP/2, the caller inserts
    /// the `:authority` as `host`).
    pub headers: &'a http::HeaderMap,
    /// The complete request body.
    pub body: &'a [u8],
}

impl fmt::Debug for RequestParts<'_> {
    // By hand: the query may carry an `X-Amz-Signature` and the headers an
    // `Authorization`, so only their shape is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.keys().map(|name| name.as_str()).collect();
        f.debug_struct("RequestParts")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.len())
            .field("header_names", &header_names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Choices that change how a request is canonicalised.
///
/// The default is what every AWS service other than S3 does, and what Custos
/// uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Remove `.` and `..` segments and collapse empty segments in the URI
    /// path before encoding it. `true` for every service but S3; `false`
    /// exists to run the test suite's `normalize: false` cases.
    pub normalize_uri_path: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            normalize_uri_path: true,
        }
    }
}
