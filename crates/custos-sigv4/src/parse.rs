//! From an untrusted request to a [`SignedRequest`], and from a
//! [`SignedRequest`] and a secret to a [`Verified`] one.
//!
//! [`parse`] only reads structure: which form the request uses, the
//! credential, the date, the signed headers. It needs no secret, so the
//! caller can look the access key id up in between. [`SignedRequest::verify`]
//! then checks the clock, the payload hash and the signature.

use std::fmt;

use custos_crypto::SecretBytes;
use custos_crypto::mac::sha256;
use http::HeaderMap;
use http::header::{AUTHORIZATION, DATE};
use time::{Duration, OffsetDateTime};

use crate::canonical;
use crate::error::{
    AuthError, AuthorizationComponent, CLOCK_SKEW, ExpiryRule, Incomplete, MAX_EXPIRES_SECS,
    QueryParameter,
};
use crate::signing::{self, ALGORITHM, AWS4_REQUEST, SigningKey};
use crate::timestamp;
use crate::{ParseOptions, RequestParts};

const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";
const X_AMZ_SECURITY_TOKEN: &str = "x-amz-security-token";

const Q_ALGORITHM: &[u8] = b"X-Amz-Algorithm";
const Q_CREDENTIAL: &[u8] = b"X-Amz-Credential";
const Q_DATE: &[u8] = b"X-Amz-Date";
const Q_EXPIRES: &[u8] = b"X-Amz-Expires";
const Q_SIGNED_HEADERS: &[u8] = b"X-Amz-SignedHeaders";
const Q_SECURITY_TOKEN: &[u8] = b"X-Amz-Security-Token";

/// A request whose SigV4 authentication information has been read but not
/// yet checked. Nothing in it is trustworthy until [`verify`] succeeds.
///
/// [`verify`]: SignedRequest::verify
pub struct SignedRequest<'a> {
    request: RequestParts<'a>,
    options: ParseOptions,
    presigned: bool,
    access_key_id: String,
    /// `yyyymmdd`, checked equal to the date of `signed_at`.
    scope_date: String,
    region: String,
    service: String,
    /// Validated: sorted, distinct, lowercase, includes `host`.
    signed_headers: String,
    /// As the client sent it. Never printed.
    signature: String,
    signed_at: OffsetDateTime,
    /// `X-Amz-Expires` of a presigned request.
    expires: Option<u32>,
    security_token: Option<String>,
}

/// A request whose signature has been checked against a secret. Only
/// [`SignedRequest::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    access_key_id: String,
    region: String,
    service: String,
    signed_at: OffsetDateTime,
}

/// Reads the SigV4 authentication information of `request`, from its
/// `Authorization` header or, for a presigned request, from its
/// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
/// `X-Amz-SignedHeaders` and `X-Amz-Signature` query parameters.
///
/// Checks the structure only: the credential is
/// `<key>/<yyyymmdd>/<region>/<service>/aws4_request` with the date of the
/// request date, `host` (and the date header, when the date comes from one)
/// is signed. Canonicalises as every AWS service but S3 does.
pub fn parse<'a>(request: &RequestParts<'a>) -> Result<SignedRequest<'a>, AuthError> {
    parse_with(request, ParseOptions::default())
}

/// [`parse`], with other canonicalisation choices.
pub fn parse_with<'a>(
    request: &RequestParts<'a>,
    options: ParseOptions,
) -> Result<SignedRequest<'a>, AuthError> {
    let mut authorizations = request.headers.get_all(AUTHORIZATION).iter();
    let authorization = authorizations.next();
    let parameters = canonical::query_parameters(request.query);
    let algorithm = single_parameter(&parameters, Q_ALGORITHM)?;
    match (authorization, algorithm) {
        (None, None) => Err(AuthError::MissingAuthenticationToken),
        (Some(_), Some(_)) => Err(Incomplete::Ambiguous.into()),
        (Some(authorization), None) => {
            if authorizations.next().is_some() {
                return Err(Incomplete::Ambiguous.into());
            }
            from_header(request, options, authorization.as_bytes())
        }
        (None, Some(algorithm)) => {
            if algorithm != ALGORITHM.as_bytes() {
                // AWS treats an unknown presigning algorithm as no
                // authentication at all.
                return Err(AuthError::MissingAuthenticationToken);
            }
            from_query(request, options, &parameters)
        }
    }
}

/// The header form: `Authorization: AWS4-HMAC-SHA256 Credential=…,
/// SignedHeaders=…, Signature=…`, dated by `X-Amz-Date` or `Date`.
fn from_header<'a>(
    request: &RequestParts<'a>,
    options: ParseOptions,
    authorization: &[u8],
) -> Result<SignedRequest<'a>, AuthError> {
    // Latin-1: every byte is one character, so nothing is lost or merged,
    // and what we echo back is exactly what was sent.
    let authorization: String = authorization.iter().map(|&b| char::from(b)).collect();
    let mut tokens = authorization
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|token| !token.is_empty());
    let scheme = tokens.next().unwrap_or("");

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    if scheme == ALGORITHM {
        for token in tokens {
            let Some((key, value)) = token.split_once('=') else {
                return Err(Incomplete::NotKeyValuePair {
                    pair: token.to_owned(),
                    authorization: authorization.clone(),
                }
                .into());
            };
            let slot = match key {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                // AWS ignores parameters it does not know.
                _ => continue,
            };
            if slot.replace(value).is_some() {
                return Err(Incomplete::Ambiguous.into());
            }
        }
    } else if scheme.starts_with("AWS4-") {
        return Err(Incomplete::UnsupportedAlgorithm {
            algorithm: scheme.to_owned(),
        }
        .into());
    }
    // Any other scheme (Bearer, SigV2's "AWS", none) has no SigV4 parameter.

    let date = header_date(request.headers)?;
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push(AuthorizationComponent::Credential);
    }
    if signature.is_none() {
        missing.push(AuthorizationComponent::Signature);
    }
    if signed_headers.is_none() {
        missing.push(AuthorizationComponent::SignedHeaders);
    }
    if date.is_none() {
        missing.push(AuthorizationComponent::Date);
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some((date_header, signed_at))) =
        (credential, signed_headers, signature, date)
    else {
        return Err(Incomplete::AuthorizationHeader {
            missing,
            authorization,
        }
        .into());
    };

    let credential = Credential::parse(credential, signed_at)?;
    let signed_headers = check_signed_headers(signed_headers)?;
    if !has_header(signed_headers, date_header.signed_name()) {
        return Err(AuthError::DateNotSigned {
            header: date_header.display_name(),
        });
    }
    Ok(SignedRequest {
        request: *request,
        options,
        presigned: false,
        access_key_id: credential.access_key_id,
        scope_date: credential.date,
        region: credential.region,
        service: credential.service,
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
        signed_at,
        expires: None,
        security_token: single_header(request.headers, X_AMZ_SECURITY_TOKEN),
    })
}

/// The presigned form: everything in `X-Amz-*` query parameters.
fn from_query<'a>(
    request: &RequestParts<'a>,
    options: ParseOptions,
    parameters: &[(Vec<u8>, Vec<u8>)],
) -> Result<SignedRequest<'a>, AuthError> {
    let credential = single_parameter(parameters, Q_CREDENTIAL)?;
    let signature = single_parameter(parameters, canonical::X_AMZ_SIGNATURE)?;
    let signed_headers = single_parameter(parameters, Q_SIGNED_HEADERS)?;
    let date = single_parameter(parameters, Q_DATE)?;
    let expires = single_parameter(parameters, Q_EXPIRES)?;
    let security_token = single_parameter(parameters, Q_SECURITY_TOKEN)?;

    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push(QueryParameter::Credential);
    }
    if signature.is_none() {
        missing.push(QueryParameter::Signature);
    }
    if signed_headers.is_none() {
        missing.push(QueryParameter::SignedHeaders);
    }
    if date.is_none() {
        missing.push(QueryParameter::Date);
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (credential, signature, signed_headers, date)
    else {
        return Err(Incomplete::QueryParameters { missing }.into());
    };

    // The raw bytes of these parameters are signed (they are part of the
    // canonical query), so a lossy conversion here cannot be exploited: it
    // can only make a forged request look like another forged request.
    let date = String::from_utf8_lossy(date);
    let signed_at = timestamp::parse_basic(&date).ok_or_else(|| Incomplete::MalformedDate {
        date: date.to_string(),
    })?;
    let expires = expires.map(parse_expires).transpose()?;
    let credential = Credential::parse(&String::from_utf8_lossy(credential), signed_at)?;
    let signed_headers = String::from_utf8_lossy(signed_headers);
    check_signed_headers(&signed_headers)?;
    Ok(SignedRequest {
        request: *request,
        options,
        presigned: true,
        access_key_id: credential.access_key_id,
        scope_date: credential.date,
        region: credential.region,
        service: credential.service,
        signed_headers: signed_headers.into_owned(),
        signature: String::from_utf8_lossy(signature).into_owned(),
        signed_at,
        expires,
        security_token: security_token.map(|token| String::from_utf8_lossy(token).into_owned()),
    })
}

impl SignedRequest<'_> {
    /// The access key id, to look the secret up with. Not authenticated.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The region of the credential scope. Not authenticated.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service of the credential scope. Not authenticated.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The request date (`X-Amz-Date` or `Date`). Not authenticated.
    pub fn signed_at(&self) -> OffsetDateTime {
        self.signed_at
    }

    /// Whether the request is presigned (authentication in the query string)
    /// rather than carrying an `Authorization` header.
    pub fn is_presigned(&self) -> bool {
        self.presigned
    }

    /// The `X-Amz-Security-Token` (header or, when presigned, query
    /// parameter), if any. This crate does not validate session tokens: a
    /// caller that issues none should refuse requests that carry one.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }

    /// Checks that the credential is scoped to the region and service this
    /// server answers for.
    /// Refuses the request if header `name` (matched case-insensitively) is
    /// present but not covered by the signature. A service calls this for
    /// every header it acts on (KMS: `X-Amz-Target`), so that a signature
    /// given out for one request cannot be replayed with another operation.
    pub fn require_signed(
        &self,
        headers: &http::HeaderMap,
        name: &'static str,
    ) -> Result<(), AuthError> {
        let lower = name.to_ascii_lowercase();
        if headers.contains_key(lower.as_str()) && !has_header(&self.signed_headers, &lower) {
            Err(AuthError::HeaderNotSigned { header: name })
        } else {
            Ok(())
        }
    }

    pub fn check_scope(&self, region: &str, service: &str) -> Result<(), AuthError> {
        let wrong_region = (self.region != region).then(|| self.region.clone());
        let wrong_service = (self.service != service).then(|| service.to_owned());
        if wrong_region.is_none() && wrong_service.is_none() {
            Ok(())
        } else {
            Err(AuthError::WrongScope {
                region: wrong_region,
                expected_service: wrong_service,
            })
        }
    }

    /// Checks the clock, the payload hash and the signature.
    ///
    /// The clock: for the header form, the request date must be within five
    /// minutes of `now`; for a presigned request, it must be no more than
    /// five minutes ahead of `now`, and `now` no later than the date plus
    /// `X-Amz-Expires` (five minutes when absent). Then an
    /// `x-amz-content-sha256` header, if any, must be the hash of the body.
    /// Finally the signature is recomputed with `secret` and compared in
    /// constant time.
    ///
    /// The region and service are whatever the client scoped its credential
    /// to: call [`check_scope`](Self::check_scope) as well, or a request
    /// signed with the same key for another region or service is accepted.
    pub fn verify(&self, secret: &SecretBytes, now: OffsetDateTime) -> Result<Verified, AuthError> {
        let key = SigningKey::derive(secret, &self.scope_date, &self.region, &self.service);
        self.verify_with_key(&key, now)
    }

    /// Checks only the clock (see [`verify`](Self::verify)): lets a server
    /// refuse a stale or future-dated request before reading its body.
    pub fn check_time(&self, now: OffsetDateTime) -> Result<(), AuthError> {
        self.check_clock(now)
    }

    /// The date (`yyyymmdd`) of the credential scope, to find a cached
    /// [`SigningKey`] for this request.
    pub fn scope_date(&self) -> &str {
        &self.scope_date
    }

    /// As [`verify`](Self::verify), with a signing key derived earlier for
    /// this request's scope. A key for another scope never verifies.
    pub fn verify_with_key(
        &self,
        key: &SigningKey,
        now: OffsetDateTime,
    ) -> Result<Verified, AuthError> {
        self.check_clock(now)?;
        let payload_hash = hex::encode(sha256(self.request.body));
        self.check_content_sha256(&payload_hash)?;
        if !key.is_for(&self.scope_date, &self.region, &self.service) {
            return Err(AuthError::InvalidSignature);
        }
        let string_to_sign = self.string_to_sign_with(&payload_hash);
        if !signing::signature_matches(key, string_to_sign.as_bytes(), self.signature.as_bytes()) {
            return Err(AuthError::InvalidSignature);
        }
        Ok(Verified {
            access_key_id: self.access_key_id.clone(),
            region: self.region.clone(),
            service: self.service.clone(),
            signed_at: self.signed_at,
        })
    }

    /// The canonical request this crate computes, for tests and diagnostics.
    /// It is what the signature must cover; never send it to a client (AWS
    /// services other than S3 do not either).
    pub fn canonical_request(&self) -> Vec<u8> {
        self.canonical_request_with(&hex::encode(sha256(self.request.body)))
    }

    /// Bounds a presigned request's lifetime for a service: `None` refuses
    /// presigned requests outright; `Some(secs)` caps `X-Amz-Expires` at
    /// `secs` (a request that asks for longer is valid for `secs`). A
    /// request signed in the `Authorization` header is not affected.
    pub fn limit_presigned(
        &mut self,
        service: &str,
        max_secs: Option<u32>,
    ) -> Result<(), AuthError> {
        if !self.is_presigned() {
            return Ok(());
        }
        let Some(max) = max_secs else {
            return Err(Incomplete::PresignedNotAccepted {
                service: service.to_owned(),
            }
            .into());
        };
        self.expires = Some(self.expires.map_or(max, |e| e.min(max)));
        Ok(())
    }

    /// The string to sign this crate computes, for tests and diagnostics.
    pub fn string_to_sign(&self) -> String {
        self.string_to_sign_with(&hex::encode(sha256(self.request.body)))
    }

    fn check_clock(&self, now: OffsetDateTime) -> Result<(), AuthError> {
        let signed_at = self.signed_at;
        if now
            .checked_add(CLOCK_SKEW)
            .is_some_and(|latest| signed_at > latest)
        {
            return Err(AuthError::SignatureNotYetCurrent { signed_at, now });
        }
        let (allowed, rule) = match self.expires {
            Some(secs) => (
                Duration::seconds(i64::from(secs)),
                ExpiryRule::Expires(secs),
            ),
            None => (CLOCK_SKEW, ExpiryRule::ClockSkew),
        };
        if now
            .checked_sub(allowed)
            .is_some_and(|earliest| signed_at < earliest)
        {
            return Err(AuthError::SignatureExpired {
                signed_at,
                now,
                rule,
            });
        }
        Ok(())
    }

    fn check_content_sha256(&self, payload_hash: &str) -> Result<(), AuthError> {
        let mut claimed = self.request.headers.get_all(X_AMZ_CONTENT_SHA256).iter();
        match (claimed.next(), claimed.next()) {
            (None, _) => Ok(()),
            (Some(claim), None) if claim.as_bytes() == payload_hash.as_bytes() => Ok(()),
            _ => Err(AuthError::PayloadHashMismatch),
        }
    }

    fn canonical_request_with(&self, payload_hash: &str) -> Vec<u8> {
        let request = &self.request;
        let mut out = Vec::with_capacity(512 + request.query.len() * 2);
        out.extend_from_slice(request.method.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(
            canonical::canonical_uri(request.path, self.options.normalize_uri_path).as_bytes(),
        );
        out.push(b'\n');
        out.extend_from_slice(canonical::canonical_query(request.query, self.presigned).as_bytes());
        out.push(b'\n');
        canonical::write_canonical_headers(&mut out, request.headers, &self.signed_headers);
        out.push(b'\n');
        out.extend_from_slice(self.signed_headers.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(payload_hash.as_bytes());
        out
    }

    fn string_to_sign_with(&self, payload_hash: &str) -> String {
        let canonical_request_hash =
            hex::encode(sha256(&self.canonical_request_with(payload_hash)));
        format!(
            "{ALGORITHM}\n{}\n{}/{}/{}/{AWS4_REQUEST}\n{canonical_request_hash}",
            timestamp::format_basic(self.signed_at),
            self.scope_date,
            self.region,
            self.service,
        )
    }
}

impl fmt::Debug for SignedRequest<'_> {
    // By hand: the signature the client sent is a working credential for
    // this request until it expires, so it is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("request", &self.request)
            .field("presigned", &self.presigned)
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("signed_at", &self.signed_at)
            .field("expires", &self.expires)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

impl Verified {
    /// The access key id whose secret signed the request.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The region of the credential scope.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The service of the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The request date the signature covers.
    pub fn signed_at(&self) -> OffsetDateTime {
        self.signed_at
    }
}

/// The parsed `<key>/<yyyymmdd>/<region>/<service>/aws4_request`.
struct Credential {
    access_key_id: String,
    date: String,
    region: String,
    service: String,
}

impl Credential {
    /// Parses `credential` and checks its terminator, and that its date is
    /// the day of `signed_at`.
    fn parse(credential: &str, signed_at: OffsetDateTime) -> Result<Self, AuthError> {
        let elements: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, terminator] = elements[..] else {
            return Err(Incomplete::MalformedCredential {
                credential: credential.to_owned(),
            }
            .into());
        };
        if terminator != AWS4_REQUEST {
            return Err(AuthError::InvalidTerminator {
                terminator: terminator.to_owned(),
            });
        }
        if date != timestamp::format_date(signed_at) {
            return Err(AuthError::CredentialDateMismatch {
                credential_date: date.to_owned(),
                request_date: signed_at,
            });
        }
        Ok(Self {
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        })
    }
}

/// Where the date of a header-form request comes from.
#[derive(Clone, Copy)]
enum DateHeader {
    AmzDate,
    Date,
}

impl DateHeader {
    fn signed_name(self) -> &'static str {
        match self {
            Self::AmzDate => X_AMZ_DATE,
            Self::Date => "date",
        }
    }

    fn display_name(self) -> &'static str {
        match self {
            Self::AmzDate => "X-Amz-Date",
            Self::Date => "Date",
        }
    }
}

/// The request date from `X-Amz-Date` or, failing that, `Date`; `None` if
/// neither is present. Repeated values are one malformed date.
fn header_date(headers: &HeaderMap) -> Result<Option<(DateHeader, OffsetDateTime)>, AuthError> {
    let (source, parse): (DateHeader, fn(&str) -> Option<OffsetDateTime>) =
        if headers.contains_key(X_AMZ_DATE) {
            (DateHeader::AmzDate, timestamp::parse_basic)
        } else if headers.contains_key(DATE) {
            (DateHeader::Date, timestamp::parse_http_date)
        } else {
            return Ok(None);
        };
    let values: Vec<String> = headers
        .get_all(source.signed_name())
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    let text = values.join(",");
    match parse(&text) {
        Some(at) if values.len() == 1 => Ok(Some((source, at))),
        _ => Err(Incomplete::MalformedDate { date: text }.into()),
    }
}

/// Checks that `signed_headers` is `;`-separated, non-empty lowercase header
/// names in strictly ascending order (which also rules out repeats, and so
/// bounds the canonical request by the size of the headers), and that `host`
/// is among them.
fn check_signed_headers(signed_headers: &str) -> Result<&str, AuthError> {
    let mut previous: Option<&str> = None;
    for name in signed_headers.split(';') {
        let well_formed = !name.is_empty() && name.bytes().all(is_lowercase_token_char);
        let ascending = previous.is_none_or(|previous| previous < name);
        if !(well_formed && ascending) {
            return Err(Incomplete::MalformedSignedHeaders {
                signed_headers: signed_headers.to_owned(),
            }
            .into());
        }
        previous = Some(name);
    }
    if !has_header(signed_headers, "host") {
        return Err(AuthError::HostNotSigned);
    }
    Ok(signed_headers)
}

fn has_header(signed_headers: &str, name: &str) -> bool {
    signed_headers.split(';').any(|signed| signed == name)
}

/// An RFC 9110 `tchar`, less the uppercase letters.
fn is_lowercase_token_char(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
        | b'`' | b'|' | b'~')
}

/// The value of the query parameter `name`, if present; an error if it is
/// repeated.
fn single_parameter<'p>(
    parameters: &'p [(Vec<u8>, Vec<u8>)],
    name: &[u8],
) -> Result<Option<&'p [u8]>, AuthError> {
    let mut values = parameters
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_slice());
    match (values.next(), values.next()) {
        (value, None) => Ok(value),
        (_, Some(_)) => Err(Incomplete::Ambiguous.into()),
    }
}

/// The first value of header `name`, if any.
fn single_header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

fn parse_expires(value: &[u8]) -> Result<u32, AuthError> {
    let parsed = std::str::from_utf8(value)
        .ok()
        .filter(|text| {
            let digits = text.strip_prefix('-').unwrap_or(text);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        })
        .ok_or(Incomplete::MalformedExpires)?;
    if parsed.starts_with('-') {
        // "-0" included: AWS reads it as a negative number too.
        return Err(Incomplete::NegativeExpires.into());
    }
    match parsed.parse::<u32>() {
        Ok(secs) if secs <= MAX_EXPIRES_SECS => Ok(secs),
        // All digits, so the only failure is overflow: too long as well.
        _ => Err(Incomplete::ExpiresTooLong.into()),
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use time::macros::datetime;

    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    const NOW: OffsetDateTime = datetime!(2015-08-30 12:36:00 UTC);
    const SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn header_map(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in pairs {
            map.append(name, HeaderValue::from_bytes(value).expect("valid value"));
        }
        map
    }

    fn vanilla(auth: &[u8]) -> HeaderMap {
        header_map(&[
            ("host", b"example.amazonaws.com"),
            ("x-amz-date", b"20150830T123600Z"),
            ("authorization", auth),
        ])
    }

    fn parts<'a>(headers: &'a HeaderMap, query: &'a str) -> RequestParts<'a> {
        RequestParts {
            method: "GET",
            path: "/",
            query,
            headers,
            body: b"",
        }
    }

    fn error_of(headers: &HeaderMap, query: &str) -> AuthError {
        parse(&parts(headers, query)).expect_err("must be rejected")
    }

    #[test]
    fn get_vanilla_verifies() {
        let headers = vanilla(AUTH.as_bytes());
        let signed = parse(&parts(&headers, "")).expect("parses");
        assert_eq!(signed.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(signed.region(), "us-east-1");
        assert_eq!(signed.service(), "service");
        assert!(!signed.is_presigned());
        let verified = signed
            .verify(&SecretBytes::from_slice(SECRET), NOW)
            .expect("verifies");
        assert_eq!(verified.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(verified.signed_at(), NOW);
        assert_eq!(signed.check_scope("us-east-1", "service"), Ok(()));
        assert_eq!(
            signed.check_scope("eu-west-1", "kms"),
            Err(AuthError::WrongScope {
                region: Some("us-east-1".to_owned()),
                expected_service: Some("kms".to_owned()),
            })
        );
    }

    #[test]
    fn debug_hides_the_signature() {
        let headers = vanilla(AUTH.as_bytes());
        let signed = parse(&parts(&headers, "")).expect("parses");
        let shown = format!("{signed:?}");
        assert!(!shown.contains("5fa00fa3"), "{shown}");
        assert!(!shown.contains("Signature="), "{shown}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        let presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d";
        let host = header_map(&[("host", b"example.amazonaws.com")]);
        let signed = parse(&parts(&host, presigned)).expect("parses");
        let shown = format!("{signed:?}");
        assert!(!shown.contains("e93c787e"), "{shown}");
    }

    #[test]
    fn no_authentication() {
        let headers = header_map(&[("host", b"example.amazonaws.com")]);
        assert_eq!(
            error_of(&headers, ""),
            AuthError::MissingAuthenticationToken
        );
        assert_eq!(
            error_of(&headers, "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256"),
            AuthError::MissingAuthenticationToken
        );
    }

    #[test]
    fn ambiguous_authentication() {
        let both = vanilla(AUTH.as_bytes());
        let ambiguous = AuthError::IncompleteSignature(Incomplete::Ambiguous);
        assert_eq!(
            error_of(&both, "X-Amz-Algorithm=AWS4-HMAC-SHA256"),
            ambiguous
        );
        let mut twice = vanilla(AUTH.as_bytes());
        twice.append(AUTHORIZATION, HeaderValue::from_static("AWS4-HMAC-SHA256"));
        assert_eq!(error_of(&twice, ""), ambiguous);
        let repeated = AUTH.replace(", Signature=", ", Signature=00, Signature=");
        assert_eq!(error_of(&vanilla(repeated.as_bytes()), ""), ambiguous);
        let host = header_map(&[("host", b"h")]);
        assert_eq!(
            error_of(
                &host,
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Algorithm=AWS4-HMAC-SHA256"
            ),
            ambiguous
        );
    }

    #[test]
    fn not_sigv4_at_all() {
        let headers = header_map(&[("host", b"h"), ("authorization", b"Bearer eyJ0eXAi")]);
        assert_eq!(
            error_of(&headers, "").message(),
            "Authorization header requires 'Credential' parameter. Authorization header \
             requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
             parameter. Authorization header requires existence of either a 'X-Amz-Date' or a \
             'Date' header. Authorization=Bearer eyJ0eXAi"
        );
    }

    #[test]
    fn incomplete_header() {
        let headers = vanilla(b"AWS4-HMAC-SHA256 Credential=ABCDEF");
        assert_eq!(
            error_of(&headers, "").message(),
            "Authorization header requires 'Signature' parameter. Authorization header \
             requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
        );
        let headers = vanilla(b"AWS4-HMAC-SHA256");
        assert!(matches!(
            error_of(&headers, ""),
            AuthError::IncompleteSignature(Incomplete::AuthorizationHeader { ref missing, .. })
                if missing.len() == 3
        ));
    }

    #[test]
    fn space_inside_the_credential() {
        let auth = AUTH.replace("AKIDEXAMPLE/", "AKIDEXAMPLE /");
        assert_eq!(
            error_of(&vanilla(auth.as_bytes()), ""),
            Incomplete::NotKeyValuePair {
                pair: "/20150830/us-east-1/service/aws4_request".to_owned(),
                authorization: auth.clone(),
            }
            .into()
        );
    }

    #[test]
    fn unsupported_algorithm() {
        let auth = AUTH.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512");
        assert_eq!(
            error_of(&vanilla(auth.as_bytes()), "").message(),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'."
        );
    }

    #[test]
    fn credential_shape() {
        let auth = AUTH.replace("/service/aws4_request", "/aws4_request");
        assert_eq!(
            error_of(&vanilla(auth.as_bytes()), ""),
            Incomplete::MalformedCredential {
                credential: "AKIDEXAMPLE/20150830/us-east-1/aws4_request".to_owned()
            }
            .into()
        );
        let auth = AUTH.replace("aws4_request", "aws4_requesT");
        assert_eq!(
            error_of(&vanilla(auth.as_bytes()), ""),
            AuthError::InvalidTerminator {
                terminator: "aws4_requesT".to_owned()
            }
        );
        let auth = AUTH.replace("/20150830/", "/20150831/");
        assert_eq!(
            error_of(&vanilla(auth.as_bytes()), "").message(),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '20150831' != '20150830', from '20150830T123600Z'. "
        );
    }

    #[test]
    fn signed_headers_rules() {
        let with = |list: &str| AUTH.replace("host;x-amz-date", list);
        for bad in [
            "x-amz-date;host",
            "host;host;x-amz-date",
            "Host;x-amz-date",
            "host;;x-amz-date",
            "",
            "host;x-amz-date;",
            "host;x amz",
        ] {
            assert!(
                matches!(
                    error_of(&vanilla(with(bad).as_bytes()), ""),
                    AuthError::IncompleteSignature(Incomplete::MalformedSignedHeaders { .. })
                        | AuthError::IncompleteSignature(Incomplete::NotKeyValuePair { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            error_of(&vanilla(with("x-amz-date").as_bytes()), ""),
            AuthError::HostNotSigned
        );
        assert_eq!(
            error_of(&vanilla(with("host").as_bytes()), ""),
            AuthError::DateNotSigned {
                header: "X-Amz-Date"
            }
        );
    }

    #[test]
    fn date_header_form() {
        // get-vanilla, dated by a `Date` header instead of `X-Amz-Date`.
        let headers = header_map(&[
            ("host", b"example.amazonaws.com"),
            ("date", b"Sun, 30 Aug 2015 12:36:00 GMT"),
            (
                "authorization",
                AUTH.replace("host;x-amz-date", "date;host").as_bytes(),
            ),
        ]);
        let signed = parse(&parts(&headers, "")).expect("parses");
        assert_eq!(signed.signed_at(), NOW);
        assert!(signed.string_to_sign().contains("\n20150830T123600Z\n"));
        let canonical = String::from_utf8(signed.canonical_request()).expect("utf-8");
        assert!(
            canonical.contains("\ndate:Sun, 30 Aug 2015 12:36:00 GMT\n"),
            "{canonical}"
        );
    }

    #[test]
    fn malformed_dates() {
        for (name, value) in [
            ("x-amz-date", &b"2015-08-30T12:36:00Z"[..]),
            ("x-amz-date", b"20150830T123600Z\xff"),
            ("date", b"20150830T123600Z"),
        ] {
            let headers = header_map(&[
                ("host", b"h"),
                (name, value),
                ("authorization", AUTH.as_bytes()),
            ]);
            assert!(
                matches!(
                    error_of(&headers, ""),
                    AuthError::IncompleteSignature(Incomplete::MalformedDate { .. })
                ),
                "{name}: {value:?}"
            );
        }
        let twice = header_map(&[
            ("host", b"h"),
            ("x-amz-date", b"20150830T123600Z"),
            ("x-amz-date", b"20150830T123600Z"),
            ("authorization", AUTH.as_bytes()),
        ]);
        assert_eq!(
            error_of(&twice, ""),
            Incomplete::MalformedDate {
                date: "20150830T123600Z,20150830T123600Z".to_owned()
            }
            .into()
        );
        let none = header_map(&[("host", b"h"), ("authorization", AUTH.as_bytes())]);
        assert!(error_of(&none, "").message().starts_with(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 "
        ));
    }

    #[test]
    fn presigned_parameters() {
        let host = header_map(&[("host", b"example.amazonaws.com")]);
        assert_eq!(
            error_of(
                &host,
                "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host"
            )
            .message(),
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string \
             parameters must include 'X-Amz-Signature'. AWS query-string parameters must \
             include 'X-Amz-Date'. Re-examine the query-string parameters."
        );
        let base = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        for (expires, error) in [
            ("abc", Incomplete::MalformedExpires),
            ("", Incomplete::MalformedExpires),
            ("1.5", Incomplete::MalformedExpires),
            ("+5", Incomplete::MalformedExpires),
            ("-", Incomplete::MalformedExpires),
            ("-5", Incomplete::NegativeExpires),
            ("-0", Incomplete::NegativeExpires),
            ("604801", Incomplete::ExpiresTooLong),
            ("99999999999999999999999", Incomplete::ExpiresTooLong),
        ] {
            let query = format!("{base}&X-Amz-Expires={expires}");
            assert_eq!(error_of(&host, &query), error.into(), "{expires:?}");
        }
        for expires in ["0", "604800", "0300"] {
            let query = format!("{base}&X-Amz-Expires={expires}");
            assert!(parse(&parts(&host, &query)).is_ok(), "{expires:?}");
        }
        let no_host = base.replace("SignedHeaders=host", "SignedHeaders=x-amz-date");
        assert_eq!(error_of(&host, &no_host), AuthError::HostNotSigned);
        let bad_credential = base.replace("AKIDEXAMPLE%2F", "AKIDEXAMPLE%FF%2F");
        let signed =
            parse(&parts(&host, &bad_credential)).expect("a strange key id is still a key id");
        assert_eq!(signed.access_key_id(), "AKIDEXAMPLE\u{FFFD}");
    }

    #[test]
    fn a_service_refuses_presigned_requests_or_caps_their_lifetime() {
        let host = header_map(&[("host", b"example.amazonaws.com")]);
        let base = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let signed_at = OffsetDateTime::from_unix_timestamp(1_440_938_160).expect("time");
        let week = format!("{base}&X-Amz-Expires=604800");
        let mut refused = parse(&parts(&host, &week)).expect("parses");
        assert_eq!(
            refused.limit_presigned("kms", None),
            Err(Incomplete::PresignedNotAccepted {
                service: "kms".into()
            }
            .into())
        );
        // Asked for a week, given five minutes: a day later it has expired,
        // which the clock check says before the signature is looked at.
        let mut capped = parse(&parts(&host, &week)).expect("parses");
        capped.limit_presigned("sts", Some(300)).expect("capped");
        assert!(
            capped
                .check_clock(signed_at + Duration::seconds(299))
                .is_ok()
        );
        assert_eq!(
            capped.check_clock(signed_at + Duration::seconds(301)),
            Err(AuthError::SignatureExpired {
                signed_at,
                now: signed_at + Duration::seconds(301),
                rule: ExpiryRule::Expires(300),
            })
        );
        // A shorter lifetime is kept; a header-signed request is untouched.
        let minute = format!("{base}&X-Amz-Expires=60");
        let mut short = parse(&parts(&host, &minute)).expect("parses");
        short.limit_presigned("sts", Some(300)).expect("kept");
        assert!(
            short
                .check_clock(signed_at + Duration::seconds(61))
                .is_err()
        );
        let headers = vanilla(AUTH.as_bytes());
        let mut header_form = parse(&parts(&headers, "")).expect("parses");
        assert!(header_form.limit_presigned("kms", None).is_ok());
    }

    #[test]
    fn clock_window_header_form() {
        let headers = vanilla(AUTH.as_bytes());
        let signed = parse(&parts(&headers, "")).expect("parses");
        let secret = SecretBytes::from_slice(SECRET);
        let five = Duration::minutes(5);
        let second = Duration::seconds(1);
        assert!(signed.verify(&secret, NOW + five).is_ok());
        assert!(signed.verify(&secret, NOW - five).is_ok());
        assert_eq!(
            signed
                .verify(&secret, NOW + five + second)
                .expect_err("expired")
                .message(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
             (20150830T124101Z - 5 min.)"
        );
        assert_eq!(
            signed
                .verify(&secret, NOW - five - second)
                .expect_err("future")
                .message(),
            "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z \
             (20150830T123059Z + 5 min.)"
        );
        // The clock in another offset is the same instant.
        let offset = NOW.to_offset(time::macros::offset!(+10));
        assert!(signed.verify(&secret, offset).is_ok());
        // The edges of time neither panic nor pass.
        let far = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MAX);
        assert!(signed.verify(&secret, far).is_err());
        let early = OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT);
        assert!(signed.verify(&secret, early).is_err());
    }

    #[test]
    fn content_sha256_must_match_the_body() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        for (claims, ok) in [
            (vec![empty], true),
            (vec!["UNSIGNED-PAYLOAD"], false),
            (vec![&empty.to_ascii_uppercase()[..]], false),
            (vec![empty, empty], false),
        ] {
            let mut headers = vanilla(AUTH.as_bytes());
            for claim in claims {
                headers.append(
                    X_AMZ_CONTENT_SHA256,
                    HeaderValue::from_str(claim).expect("ascii"),
                );
            }
            let signed = parse(&parts(&headers, "")).expect("parses");
            let result = signed.verify(&SecretBytes::from_slice(SECRET), NOW);
            // The header is not signed in get-vanilla, so a match verifies.
            assert_eq!(result.is_ok(), ok);
            if !ok {
                assert_eq!(result, Err(AuthError::PayloadHashMismatch));
            }
        }
    }

    #[test]
    fn hostile_authorization_headers_never_panic() {
        let samples: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b" ".to_vec(),
            b",,,".to_vec(),
            b"AWS4-HMAC-SHA256 ,,, = , Credential=, SignedHeaders=, Signature=".to_vec(),
            b"AWS4-HMAC-SHA256 Credential=////, SignedHeaders=host, Signature=".to_vec(),
            b"AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host;x-amz-date, Signature=\xff\xfe".to_vec(),
            b"AWS4-HMAC-SHA256 Credential=\xe9/20150830/\xe9/\xe9/aws4_request, SignedHeaders=host;x-amz-date, Signature=00".to_vec(),
            b"AWS4-".to_vec(),
            [b"AWS4-HMAC-SHA256 Credential=".to_vec(), vec![b'/'; 100_000]].concat(),
            [b"AWS4-HMAC-SHA256 SignedHeaders=".to_vec(), "a;".repeat(50_000).into_bytes(), b"host".to_vec()].concat(),
        ];
        let secret = SecretBytes::from_slice(SECRET);
        for sample in samples {
            let Ok(value) = HeaderValue::from_bytes(&sample) else {
                continue;
            };
            let mut headers = vanilla(b"x");
            headers.insert(AUTHORIZATION, value);
            match parse(&parts(&headers, "")) {
                Ok(signed) => assert!(signed.verify(&secret, NOW).is_err()),
                Err(error) => assert!(!error.message().is_empty()),
            }
        }
    }

    #[test]
    fn latin1_credentials_are_kept_apart() {
        // 0xE9 read as Latin-1 is 'é'; its UTF-8 encoding is two other bytes,
        // so a signer using the raw byte cannot collide with one using 'é'.
        let auth = b"AWS4-HMAC-SHA256 Credential=\xe9/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
        let headers = vanilla(auth);
        let signed = parse(&parts(&headers, "")).expect("parses");
        assert_eq!(signed.access_key_id(), "é");
    }
}
