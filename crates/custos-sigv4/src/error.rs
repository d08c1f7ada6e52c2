//! Why a request failed authentication, and what AWS says when it does.
//!
//! Every variant documents the `__type` AWS KMS (JSON 1.1 protocol) returns
//! for it; [`AuthError::aws_type`] and [`AuthError::message`] give the two
//! strings, so that the server's single error mapping only has to add the
//! HTTP status (AWS KMS answers all of these with 400).
//!
//! Where the message text is AWS's own, it is reproduced byte for byte,
//! including AWS's trailing space after credential-scope messages. The
//! sources: error bodies quoted in public bug reports against the AWS SDKs
//! and services (for the messages marked *AWS* below), and the AWS-compatible
//! verifiers that replicate them (`dacut/scratchstack-aws-signature`, for
//! those marked *replicated*). A few situations have no public AWS text, or
//! are stricter here than at AWS; their messages are marked *Custos*.
//!
//! No message ever contains a secret, the expected signature, the signing key
//! or the canonical request. Some echo what the client sent (its own
//! `Authorization` header, its credential, its date), as AWS does.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::timestamp;

/// `__type` for a request with no authentication at all.
pub const MISSING_AUTHENTICATION_TOKEN: &str = "MissingAuthenticationTokenException";
/// `__type` for authentication information that is present but unusable.
pub const INCOMPLETE_SIGNATURE: &str = "IncompleteSignatureException";
/// `__type` for a signature that does not check out (including the clock).
pub const INVALID_SIGNATURE: &str = "InvalidSignatureException";
/// `__type` for an access key id nobody knows.
pub const UNRECOGNIZED_CLIENT: &str = "UnrecognizedClientException";

/// The largest `X-Amz-Expires` AWS accepts: seven days, in seconds.
pub const MAX_EXPIRES_SECS: u32 = 604_800;

/// The clock skew tolerated between the client and the server.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// Why a request failed SigV4 authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Neither an `Authorization` header nor an `X-Amz-Algorithm` query
    /// parameter (or one naming another algorithm than `AWS4-HMAC-SHA256`).
    ///
    /// `MissingAuthenticationTokenException`: "Missing Authentication Token"
    /// (*AWS*).
    MissingAuthenticationToken,

    /// Authentication information is present but malformed or incomplete.
    ///
    /// `IncompleteSignatureException`; the message depends on the
    /// [`Incomplete`] reason.
    IncompleteSignature(Incomplete),

    /// `host` is not among the signed headers.
    ///
    /// `InvalidSignatureException`: "'Host' or ':authority' must be a
    /// 'SignedHeader' in the AWS Authorization." (*replicated*)
    HostNotSigned,

    /// The header that carries the request date (`X-Amz-Date`, or `Date`)
    /// is not among the signed headers.
    ///
    /// `InvalidSignatureException`: "'X-Amz-Date' must be a 'SignedHeader' in
    /// the AWS Authorization." (*replicated*)
    DateNotSigned {
        /// `"X-Amz-Date"` or `"Date"`.
        header: &'static str,
    },

    /// A header the service acts on is present but not among the signed
    /// headers (see [`SignedRequest::require_signed`]): whoever holds the
    /// signature could change it.
    ///
    /// `InvalidSignatureException`: "'X-Amz-Target' must be a
    /// 'SignedHeader' in the AWS Authorization." (*Custos*, in the shape of
    /// the `Host` and date rules)
    ///
    /// [`SignedRequest::require_signed`]: crate::SignedRequest::require_signed
    HeaderNotSigned {
        /// The header's name as AWS documents it, e.g. `"X-Amz-Target"`.
        header: &'static str,
    },

    /// The credential scope does not end in `aws4_request`.
    ///
    /// `InvalidSignatureException`: "Credential should be scoped with a valid
    /// terminator: 'aws4_request', not 'xyz'. " (*replicated*)
    InvalidTerminator {
        /// The last element of the credential, as sent.
        terminator: String,
    },

    /// The date in the credential scope is not the day of the request date.
    ///
    /// `InvalidSignatureException`: "Date in Credential scope does not match
    /// YYYYMMDD from ISO-8601 version of date from HTTP: '20240102' !=
    /// '20240101', from '20240101T000000Z'. " (*replicated*)
    CredentialDateMismatch {
        /// The date element of the credential, as sent.
        credential_date: String,
        /// The request date (`X-Amz-Date` or `Date`).
        request_date: OffsetDateTime,
    },

    /// The credential is scoped to another region or service than the one
    /// this server answers for (see [`SignedRequest::check_scope`]).
    ///
    /// `InvalidSignatureException`: "Credential should be scoped to a valid
    /// region, not 'us-west-1'. " and/or "Credential should be scoped to
    /// correct service: 'kms'. " (*AWS*), in that order.
    ///
    /// [`SignedRequest::check_scope`]: crate::SignedRequest::check_scope
    WrongScope {
        /// The region the client used, if it is not ours.
        region: Option<String>,
        /// Our service name, if the client used another.
        expected_service: Option<String>,
    },

    /// The request date is too far in the past: more than five minutes
    /// before the server clock, or, for a presigned request, older than its
    /// `X-Amz-Expires`.
    ///
    /// `InvalidSignatureException`: "Signature expired: 20240101T000000Z is
    /// now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)"
    /// (*AWS*). For an expired presigned request: "Signature expired:
    /// 20240101T000000Z is now earlier than 20240101T000500Z
    /// (20240101T001000Z - 300 sec.)" (*Custos*, in the same shape).
    SignatureExpired {
        /// The request date.
        signed_at: OffsetDateTime,
        /// The server clock.
        now: OffsetDateTime,
        /// Which limit was exceeded.
        rule: ExpiryRule,
    },

    /// The request date is more than five minutes after the server clock.
    ///
    /// `InvalidSignatureException`: "Signature not yet current:
    /// 20240101T002000Z is still later than 20240101T001500Z
    /// (20240101T001000Z + 5 min.)" (*AWS*)
    SignatureNotYetCurrent {
        /// The request date.
        signed_at: OffsetDateTime,
        /// The server clock.
        now: OffsetDateTime,
    },

    /// An `x-amz-content-sha256` header does not match the SHA-256 of the
    /// body (this includes `UNSIGNED-PAYLOAD` and the streaming values, which
    /// this crate does not support).
    ///
    /// `InvalidSignatureException`: "The provided 'x-amz-content-sha256'
    /// header does not match what was computed." (S3's text for this check;
    /// the `__type` is the one KMS uses for signature failures.)
    PayloadHashMismatch,

    /// The signature does not match the one computed with the secret.
    ///
    /// `InvalidSignatureException`: "The request signature we calculated does
    /// not match the signature you provided. Check your AWS Secret Access Key
    /// and signing method. Consult the service documentation for details."
    /// (*AWS*)
    InvalidSignature,

    /// The access key id is unknown. Never produced by this crate: the caller
    /// returns it when its credential lookup fails, so that the wire mapping
    /// stays in one type.
    ///
    /// `UnrecognizedClientException`: "The security token included in the
    /// request is invalid." (*AWS*)
    UnrecognizedClient,
}

/// Why authentication information is unusable (all map to
/// `IncompleteSignatureException`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incomplete {
    /// The `Authorization` header lacks parameters, or the request lacks a
    /// date header. A header that is not SigV4 at all (`Bearer …`, SigV2)
    /// lands here too, lacking all three parameters.
    ///
    /// "Authorization header requires 'Credential' parameter. Authorization
    /// header requires 'Signature' parameter. Authorization header requires
    /// 'SignedHeaders' parameter. Authorization header requires existence of
    /// either a 'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc"
    /// (*AWS*; only the sentences for what is missing)
    AuthorizationHeader {
        /// What is missing, in AWS's order.
        missing: Vec<AuthorizationComponent>,
        /// The `Authorization` header as received (bytes read as Latin-1).
        authorization: String,
    },

    /// An element of the `Authorization` header is not `key=value`.
    ///
    /// "'AKIDEXAMPLE' not a valid key=value pair (missing equal-sign) in
    /// Authorization header: 'AWS4-HMAC-SHA256 Credential= AKIDEXAMPLE/…'."
    /// (*AWS*)
    NotKeyValuePair {
        /// The offending element.
        pair: String,
        /// The `Authorization` header as received (bytes read as Latin-1).
        authorization: String,
    },

    /// An `AWS4-…` algorithm other than `AWS4-HMAC-SHA256` (SigV4a, say).
    ///
    /// "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'." (*replicated*)
    UnsupportedAlgorithm {
        /// The algorithm as sent.
        algorithm: String,
    },

    /// A presigned request lacks query parameters.
    ///
    /// "AWS query-string parameters must include 'X-Amz-Credential'. AWS
    /// query-string parameters must include 'X-Amz-Signature'. Re-examine the
    /// query-string parameters." (*replicated*; only the sentences for what is
    /// missing)
    QueryParameters {
        /// What is missing, in AWS's order.
        missing: Vec<QueryParameter>,
    },

    /// More than one set of authentication information: an `Authorization`
    /// header together with presigned query parameters, several
    /// `Authorization` headers, or a repeated authentication parameter. AWS
    /// picks one; we refuse to guess.
    ///
    /// "The request carries more than one Authorization header, Authorization
    /// parameter or X-Amz-* authentication query parameter. Send exactly one
    /// of each." (*Custos*)
    Ambiguous,

    /// A presigned request (authentication in the query string) for a
    /// service that takes none: no KMS client presigns, and a presigned
    /// URL is a bearer credential that leaks through logs and histories.
    ///
    /// "Presigned requests (authentication in the query string) are not
    /// accepted by kms; sign the Authorization header." (*Custos*)
    PresignedNotAccepted {
        /// The service refusing it.
        service: String,
    },

    /// The credential is not five `/`-separated elements.
    ///
    /// "Credential must have exactly 5 slash-delimited elements, e.g.
    /// keyid/date/region/service/term, got 'AKIDEXAMPLE/20240101'"
    /// (*replicated*)
    MalformedCredential {
        /// The credential as sent.
        credential: String,
    },

    /// The request date is not a valid ISO 8601 basic-format UTC timestamp
    /// (`20240101T000000Z`), or a `Date` header is not an IMF-fixdate.
    ///
    /// `Date must be in ISO-8601 'basic format'. Got '2024-01-01'. See
    /// http://en.wikipedia.org/wiki/ISO_8601` (*replicated*)
    MalformedDate {
        /// The date as sent.
        date: String,
    },

    /// `X-Amz-Expires` is not a number.
    ///
    /// "X-Amz-Expires should be a number" (S3's text)
    MalformedExpires,

    /// `X-Amz-Expires` is negative.
    ///
    /// "X-Amz-Expires must be non-negative" (S3's text)
    NegativeExpires,

    /// `X-Amz-Expires` is more than a week.
    ///
    /// "X-Amz-Expires must be less than a week (in seconds); that is, the
    /// given X-Amz-Expires must be less than 604800 seconds" (S3's text)
    ExpiresTooLong,

    /// `SignedHeaders` is not a `;`-separated list of distinct lowercase
    /// header names in ascending order.
    ///
    /// "SignedHeaders must be a ';'-separated list of distinct lowercase
    /// header names in alphabetical order, got 'x-amz-date;host'." (*Custos*)
    MalformedSignedHeaders {
        /// The list as sent.
        signed_headers: String,
    },
}

/// A required piece of the header form, in the order AWS reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthorizationComponent {
    /// The `Credential=` parameter.
    Credential,
    /// The `Signature=` parameter.
    Signature,
    /// The `SignedHeaders=` parameter.
    SignedHeaders,
    /// An `X-Amz-Date` or `Date` header.
    Date,
}

/// A required presigned query parameter, in the order AWS reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QueryParameter {
    /// `X-Amz-Credential`.
    Credential,
    /// `X-Amz-Signature`.
    Signature,
    /// `X-Amz-SignedHeaders`.
    SignedHeaders,
    /// `X-Amz-Date`.
    Date,
}

/// Which limit an expired request exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryRule {
    /// The five-minute clock-skew window of the header form (and of a
    /// presigned request without `X-Amz-Expires`).
    ClockSkew,
    /// The `X-Amz-Expires` of a presigned request, in seconds.
    Expires(u32),
}

const MSG_MISSING_AUTHENTICATION_TOKEN: &str = "Missing Authentication Token";
const MSG_INVALID_SIGNATURE: &str = "The request signature we calculated does not match the \
     signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
     service documentation for details.";
const MSG_UNRECOGNIZED_CLIENT: &str = "The security token included in the request is invalid.";
const MSG_HOST_NOT_SIGNED: &str =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
const MSG_PAYLOAD_HASH_MISMATCH: &str =
    "The provided 'x-amz-content-sha256' header does not match what was computed.";

impl AuthError {
    /// The `__type` AWS KMS returns for this error.
    pub fn aws_type(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => MISSING_AUTHENTICATION_TOKEN,
            Self::IncompleteSignature(_) => INCOMPLETE_SIGNATURE,
            Self::HostNotSigned
            | Self::DateNotSigned { .. }
            | Self::HeaderNotSigned { .. }
            | Self::InvalidTerminator { .. }
            | Self::CredentialDateMismatch { .. }
            | Self::WrongScope { .. }
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. }
            | Self::PayloadHashMismatch
            | Self::InvalidSignature => INVALID_SIGNATURE,
            Self::UnrecognizedClient => UNRECOGNIZED_CLIENT,
        }
    }

    /// The message AWS KMS returns for this error.
    pub fn message(&self) -> String {
        match self {
            Self::MissingAuthenticationToken => MSG_MISSING_AUTHENTICATION_TOKEN.to_owned(),
            Self::IncompleteSignature(reason) => reason.message(),
            Self::HostNotSigned => MSG_HOST_NOT_SIGNED.to_owned(),
            Self::HeaderNotSigned { header } => {
                format!("'{header}' must be a 'SignedHeader' in the AWS Authorization.")
            }
            Self::DateNotSigned { header } => {
                format!("'{header}' must be a 'SignedHeader' in the AWS Authorization.")
            }
            Self::InvalidTerminator { terminator } => format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not \
                 '{terminator}'. "
            ),
            Self::CredentialDateMismatch {
                credential_date,
                request_date,
            } => format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{credential_date}' != '{}', from '{}'. ",
                timestamp::format_date(*request_date),
                timestamp::format_basic(*request_date),
            ),
            Self::WrongScope {
                region,
                expected_service,
            } => {
                let mut message = String::new();
                if let Some(region) = region {
                    message.push_str(&format!(
                        "Credential should be scoped to a valid region, not '{region}'. "
                    ));
                }
                if let Some(service) = expected_service {
                    message.push_str(&format!(
                        "Credential should be scoped to correct service: '{service}'. "
                    ));
                }
                message
            }
            Self::SignatureExpired {
                signed_at,
                now,
                rule,
            } => {
                let (allowed, shown) = match rule {
                    ExpiryRule::ClockSkew => (CLOCK_SKEW, "5 min.".to_owned()),
                    ExpiryRule::Expires(secs) => {
                        (Duration::seconds(i64::from(*secs)), format!("{secs} sec."))
                    }
                };
                format!(
                    "Signature expired: {} is now earlier than {} ({} - {shown})",
                    timestamp::format_basic(*signed_at),
                    format_shifted(*now, -allowed),
                    timestamp::format_basic(*now),
                )
            }
            Self::SignatureNotYetCurrent { signed_at, now } => format!(
                "Signature not yet current: {} is still later than {} ({} + 5 min.)",
                timestamp::format_basic(*signed_at),
                format_shifted(*now, CLOCK_SKEW),
                timestamp::format_basic(*now),
            ),
            Self::PayloadHashMismatch => MSG_PAYLOAD_HASH_MISMATCH.to_owned(),
            Self::InvalidSignature => MSG_INVALID_SIGNATURE.to_owned(),
            Self::UnrecognizedClient => MSG_UNRECOGNIZED_CLIENT.to_owned(),
        }
    }
}

/// `at + by` in the basic format, or `at` itself at the edge of time.
fn format_shifted(at: OffsetDateTime, by: Duration) -> String {
    timestamp::format_basic(at.checked_add(by).unwrap_or(at))
}

impl Incomplete {
    fn message(&self) -> String {
        match self {
            Self::AuthorizationHeader {
                missing,
                authorization,
            } => {
                let mut message = String::new();
                for component in missing {
                    message.push_str(match component {
                        AuthorizationComponent::Credential => {
                            "Authorization header requires 'Credential' parameter. "
                        }
                        AuthorizationComponent::Signature => {
                            "Authorization header requires 'Signature' parameter. "
                        }
                        AuthorizationComponent::SignedHeaders => {
                            "Authorization header requires 'SignedHeaders' parameter. "
                        }
                        AuthorizationComponent::Date => {
                            "Authorization header requires existence of either a 'X-Amz-Date' \
                             or a 'Date' header. "
                        }
                    });
                }
                message.push_str("Authorization=");
                message.push_str(authorization);
                message
            }
            Self::NotKeyValuePair {
                pair,
                authorization,
            } => format!(
                "'{pair}' not a valid key=value pair (missing equal-sign) in Authorization \
                 header: '{authorization}'."
            ),
            Self::UnsupportedAlgorithm { algorithm } => {
                format!("Unsupported AWS 'algorithm': '{algorithm}'.")
            }
            Self::QueryParameters { missing } => {
                let mut message = String::new();
                for parameter in missing {
                    message.push_str(match parameter {
                        QueryParameter::Credential => {
                            "AWS query-string parameters must include 'X-Amz-Credential'. "
                        }
                        QueryParameter::Signature => {
                            "AWS query-string parameters must include 'X-Amz-Signature'. "
                        }
                        QueryParameter::SignedHeaders => {
                            "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
                        }
                        QueryParameter::Date => {
                            "AWS query-string parameters must include 'X-Amz-Date'. "
                        }
                    });
                }
                message.push_str("Re-examine the query-string parameters.");
                message
            }
            Self::PresignedNotAccepted { service } => format!(
                "Presigned requests (authentication in the query string) are not accepted by \
                 {service}; sign the Authorization header."
            ),
            Self::Ambiguous => "The request carries more than one Authorization header, \
                 Authorization parameter or X-Amz-* authentication query parameter. Send \
                 exactly one of each."
                .to_owned(),
            Self::MalformedCredential { credential } => format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. \
                 keyid/date/region/service/term, got '{credential}'"
            ),
            Self::MalformedDate { date } => format!(
                "Date must be in ISO-8601 'basic format'. Got '{date}'. See \
                 http://en.wikipedia.org/wiki/ISO_8601"
            ),
            Self::MalformedExpires => "X-Amz-Expires should be a number".to_owned(),
            Self::NegativeExpires => "X-Amz-Expires must be non-negative".to_owned(),
            Self::ExpiresTooLong => format!(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                 X-Amz-Expires must be less than {MAX_EXPIRES_SECS} seconds"
            ),
            Self::MalformedSignedHeaders { signed_headers } => format!(
                "SignedHeaders must be a ';'-separated list of distinct lowercase header names \
                 in alphabetical order, got '{signed_headers}'."
            ),
        }
    }
}

impl From<Incomplete> for AuthError {
    fn from(reason: Incomplete) -> Self {
        Self::IncompleteSignature(reason)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.aws_type(), self.message())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    /// Every variant, its `__type` and its exact message.
    #[test]
    fn wire_table() {
        let t0 = datetime!(2024-01-01 00:00:00 UTC);
        let now = datetime!(2024-01-01 00:10:00 UTC);
        let auth =
            "AWS4-HMAC-SHA256 Credential= AKID/20240101/us-east-1/kms/aws4_request".to_owned();
        let table: Vec<(AuthError, &str, &str)> = vec![
            (
                AuthError::MissingAuthenticationToken,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            (
                Incomplete::AuthorizationHeader {
                    missing: vec![
                        AuthorizationComponent::Credential,
                        AuthorizationComponent::Signature,
                        AuthorizationComponent::SignedHeaders,
                        AuthorizationComponent::Date,
                    ],
                    authorization: "Bearer abc".to_owned(),
                }
                .into(),
                "IncompleteSignatureException",
                "Authorization header requires 'Credential' parameter. Authorization header \
                 requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
                 parameter. Authorization header requires existence of either a 'X-Amz-Date' or \
                 a 'Date' header. Authorization=Bearer abc",
            ),
            (
                Incomplete::AuthorizationHeader {
                    missing: vec![
                        AuthorizationComponent::Signature,
                        AuthorizationComponent::SignedHeaders,
                    ],
                    authorization: "AWS4-HMAC-SHA256 Credential=ABCDEF".to_owned(),
                }
                .into(),
                "IncompleteSignatureException",
                "Authorization header requires 'Signature' parameter. Authorization header \
                 requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 \
                 Credential=ABCDEF",
            ),
            (
                Incomplete::NotKeyValuePair {
                    pair: "AKID/20240101/us-east-1/kms/aws4_request".to_owned(),
                    authorization: auth.clone(),
                }
                .into(),
                "IncompleteSignatureException",
                "'AKID/20240101/us-east-1/kms/aws4_request' not a valid key=value pair (missing \
                 equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= \
                 AKID/20240101/us-east-1/kms/aws4_request'.",
            ),
            (
                Incomplete::UnsupportedAlgorithm {
                    algorithm: "AWS4-ECDSA-P256-SHA256".to_owned(),
                }
                .into(),
                "IncompleteSignatureException",
                "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'.",
            ),
            (
                Incomplete::QueryParameters {
                    missing: vec![QueryParameter::Credential, QueryParameter::Date],
                }
                .into(),
                "IncompleteSignatureException",
                "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string \
                 parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.",
            ),
            (
                Incomplete::Ambiguous.into(),
                "IncompleteSignatureException",
                "The request carries more than one Authorization header, Authorization \
                 parameter or X-Amz-* authentication query parameter. Send exactly one of each.",
            ),
            (
                Incomplete::MalformedCredential {
                    credential: "AKID/20240101".to_owned(),
                }
                .into(),
                "IncompleteSignatureException",
                "Credential must have exactly 5 slash-delimited elements, e.g. \
                 keyid/date/region/service/term, got 'AKID/20240101'",
            ),
            (
                Incomplete::MalformedDate {
                    date: "2024-01-01".to_owned(),
                }
                .into(),
                "IncompleteSignatureException",
                "Date must be in ISO-8601 'basic format'. Got '2024-01-01'. See \
                 http://en.wikipedia.org/wiki/ISO_8601",
            ),
            (
                Incomplete::MalformedExpires.into(),
                "IncompleteSignatureException",
                "X-Amz-Expires should be a number",
            ),
            (
                Incomplete::NegativeExpires.into(),
                "IncompleteSignatureException",
                "X-Amz-Expires must be non-negative",
            ),
            (
                Incomplete::ExpiresTooLong.into(),
                "IncompleteSignatureException",
                "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                 X-Amz-Expires must be less than 604800 seconds",
            ),
            (
                Incomplete::MalformedSignedHeaders {
                    signed_headers: "x-amz-date;host".to_owned(),
                }
                .into(),
                "IncompleteSignatureException",
                "SignedHeaders must be a ';'-separated list of distinct lowercase header names \
                 in alphabetical order, got 'x-amz-date;host'.",
            ),
            (
                AuthError::HostNotSigned,
                "InvalidSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ),
            (
                AuthError::DateNotSigned {
                    header: "X-Amz-Date",
                },
                "InvalidSignatureException",
                "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
            ),
            (
                AuthError::HeaderNotSigned {
                    header: "X-Amz-Target",
                },
                "InvalidSignatureException",
                "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
            ),
            (
                AuthError::InvalidTerminator {
                    terminator: "aws5_request".to_owned(),
                },
                "InvalidSignatureException",
                "Credential should be scoped with a valid terminator: 'aws4_request', not \
                 'aws5_request'. ",
            ),
            (
                AuthError::CredentialDateMismatch {
                    credential_date: "20240102".to_owned(),
                    request_date: t0,
                },
                "InvalidSignatureException",
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '20240102' != '20240101', from '20240101T000000Z'. ",
            ),
            (
                AuthError::WrongScope {
                    region: Some("us-west-1".to_owned()),
                    expected_service: None,
                },
                "InvalidSignatureException",
                "Credential should be scoped to a valid region, not 'us-west-1'. ",
            ),
            (
                AuthError::WrongScope {
                    region: Some(String::new()),
                    expected_service: Some("kms".to_owned()),
                },
                "InvalidSignatureException",
                "Credential should be scoped to a valid region, not ''. Credential should be \
                 scoped to correct service: 'kms'. ",
            ),
            (
                AuthError::SignatureExpired {
                    signed_at: t0,
                    now,
                    rule: ExpiryRule::ClockSkew,
                },
                "InvalidSignatureException",
                "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z \
                 (20240101T001000Z - 5 min.)",
            ),
            (
                AuthError::SignatureExpired {
                    signed_at: t0,
                    now,
                    rule: ExpiryRule::Expires(300),
                },
                "InvalidSignatureException",
                "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z \
                 (20240101T001000Z - 300 sec.)",
            ),
            (
                AuthError::SignatureNotYetCurrent {
                    signed_at: datetime!(2024-01-01 00:20:00 UTC),
                    now,
                },
                "InvalidSignatureException",
                "Signature not yet current: 20240101T002000Z is still later than \
                 20240101T001500Z (20240101T001000Z + 5 min.)",
            ),
            (
                AuthError::PayloadHashMismatch,
                "InvalidSignatureException",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ),
            (
                AuthError::InvalidSignature,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.",
            ),
            (
                AuthError::UnrecognizedClient,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
        ];
        for (error, aws_type, message) in table {
            assert_eq!(error.aws_type(), aws_type, "{error:?}");
            assert_eq!(error.message(), message, "{error:?}");
            assert_eq!(error.to_string(), format!("{aws_type}: {message}"));
        }
    }

    #[test]
    fn messages_survive_the_edges_of_time() {
        let error = AuthError::SignatureNotYetCurrent {
            signed_at: OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT),
            now: OffsetDateTime::new_utc(time::Date::MAX, time::Time::MAX),
        };
        assert!(error.message().starts_with("Signature not yet current: "));
        let error = AuthError::SignatureExpired {
            signed_at: OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT),
            now: OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT),
            rule: ExpiryRule::Expires(MAX_EXPIRES_SECS),
        };
        assert!(error.message().starts_with("Signature expired: "));
    }
}
