//! The one mapping from every error Custos can meet while answering a
//! request to what goes on the wire: `__type`, HTTP status and message
//! for the KMS JSON protocol ([`ApiError::to_wire`]); code, status and
//! message for the IAM and STS Query protocol ([`ApiError::to_query_wire`]).
//!
//! The match is exhaustive, so a new error variant does not compile until
//! it is given its wire form here. Internal failures are logged with their
//! sources and sent as an opaque `KMSInternalException`: no detail of the
//! store, the crypto or the filesystem reaches a client.

use custos_iam::AuthFailure;
use custos_kms::KmsError;
use custos_sigv4::AuthError;
use custos_wire::ErrorCode;

/// Everything that can go wrong while answering one request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication failed: {0:?}")]
    Auth(AuthFailure),
    #[error("no such operation")]
    UnknownOperation,
    #[error("body is not a valid request: {0}")]
    Serialization(String),
    #[error("body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error(transparent)]
    Kms(#[from] KmsError),
    /// An IAM or STS request that did not parse (wire-level error).
    #[error("{}: {}", .0.code.code(), .0.message)]
    Query(custos_iam_wire::IamError),
    /// The IAM domain refused or failed.
    #[error(transparent)]
    Iam(custos_iam::IamError),
    /// The body did not arrive in time.
    #[error("request body timed out")]
    Timeout,
    /// Too many request bodies are being read at once (the body budget,
    /// see `limits`): the client should retry.
    #[error("body budget exhausted")]
    Busy,
    /// The audit record could not be written: the request fails closed.
    #[error("audit failure")]
    Audit(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server is sealed: no store key, so no key is usable and no
    /// caller can be authenticated, until operators unseal it.
    #[error("sealed")]
    Sealed,
    /// Any other failure of the server itself.
    #[error("internal failure")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(AuthFailure::Signature(e))
    }
}

impl From<AuthFailure> for ApiError {
    fn from(e: AuthFailure) -> Self {
        ApiError::Auth(e)
    }
}

/// What AWS says of a session token it did not issue.
pub const INVALID_TOKEN_MESSAGE: &str = "The security token included in the request is invalid.";
/// What AWS says of a session token past its expiry.
pub const EXPIRED_TOKEN_MESSAGE: &str = "The security token included in the request is expired";

/// What a sealed server says to every KMS, IAM and STS request.
pub const SEALED_MESSAGE: &str = "This Custos server is sealed: no key can be used until \
     operators unseal it (custos operator unseal). Try the request again later.";

/// The generic message of internal errors.
/// Said when the body budget is exhausted.
pub const BUSY_MESSAGE: &str =
    "Too many requests are being received at once. Try the request again.";
pub const INTERNAL_MESSAGE: &str = "An internal error occurred. Try the request again.";

impl ApiError {
    /// The code and message sent to the client.
    pub fn to_wire(&self) -> (ErrorCode, Option<String>) {
        use ErrorCode as C;
        match self {
            ApiError::Auth(AuthFailure::Signature(e)) => (auth_code(e), Some(e.message())),
            ApiError::Auth(AuthFailure::InvalidToken) => (
                C::UnrecognizedClientException,
                Some(INVALID_TOKEN_MESSAGE.into()),
            ),
            ApiError::Auth(AuthFailure::ExpiredToken) => {
                (C::ExpiredTokenException, Some(EXPIRED_TOKEN_MESSAGE.into()))
            }
            ApiError::Auth(AuthFailure::Internal(_)) => {
                (C::KMSInternalException, Some(INTERNAL_MESSAGE.into()))
            }
            ApiError::UnknownOperation => (C::UnknownOperationException, None),
            ApiError::Serialization(m) => (C::SerializationException, Some(m.clone())),
            ApiError::BodyTooLarge { limit } => (
                C::RequestEntityTooLargeException,
                Some(format!("Request body must not exceed {limit} bytes.")),
            ),
            ApiError::Timeout => (
                C::RequestTimeoutException,
                Some("The request body was not received in time.".into()),
            ),
            ApiError::Busy => (C::ThrottlingException, Some(BUSY_MESSAGE.into())),
            ApiError::Audit(_) | ApiError::Internal(_) => {
                (C::KMSInternalException, Some(INTERNAL_MESSAGE.into()))
            }
            // AWS's word for "this key cannot be used now; retry", which
            // SDKs retry as a server fault, as they should here.
            ApiError::Sealed => (C::KeyUnavailableException, Some(SEALED_MESSAGE.into())),
            ApiError::Kms(e) => kms_to_wire(e),
            // Never on the KMS path; were one to arrive there, it says
            // nothing.
            ApiError::Query(_) | ApiError::Iam(_) => {
                (C::KMSInternalException, Some(INTERNAL_MESSAGE.into()))
            }
        }
    }

    /// The error as IAM and STS put it on the wire.
    pub fn to_query_wire(&self) -> custos_iam_wire::IamError {
        use custos_iam_wire::IamErrorCode as Q;
        let err = |code, message: &str| custos_iam_wire::IamError::new(code, message);
        match self {
            ApiError::Auth(AuthFailure::Signature(e)) => err(query_auth_code(e), &e.message()),
            ApiError::Auth(AuthFailure::InvalidToken) => {
                err(Q::InvalidClientTokenId, INVALID_TOKEN_MESSAGE)
            }
            ApiError::Auth(AuthFailure::ExpiredToken) => {
                err(Q::ExpiredToken, EXPIRED_TOKEN_MESSAGE)
            }
            ApiError::Auth(AuthFailure::Internal(_))
            | ApiError::Audit(_)
            | ApiError::Internal(_)
            | ApiError::Kms(_) => custos_iam_wire::IamError::service_failure(),
            ApiError::Sealed => err(Q::ServiceFailure, SEALED_MESSAGE),
            ApiError::UnknownOperation => err(
                Q::InvalidAction,
                "The action is not valid for this web service.",
            ),
            ApiError::Serialization(m) => err(Q::MalformedQueryString, m),
            ApiError::BodyTooLarge { limit } => err(
                Q::InvalidParameterValue,
                &format!("Request body must not exceed {limit} bytes."),
            ),
            ApiError::Timeout => err(
                Q::RequestExpired,
                "The request body was not received in time.",
            ),
            ApiError::Busy => err(Q::Throttling, BUSY_MESSAGE),
            ApiError::Query(e) => e.clone(),
            ApiError::Iam(e) => iam_to_query(e),
        }
    }

    /// Whether this is the server's fault (logged as an error, not a
    /// client mistake).
    pub fn is_internal(&self) -> bool {
        !matches!(self, ApiError::Sealed) && self.to_wire().0.status() >= 500
    }
}

fn auth_code(e: &AuthError) -> ErrorCode {
    match e {
        AuthError::MissingAuthenticationToken => ErrorCode::MissingAuthenticationTokenException,
        AuthError::IncompleteSignature(_) => ErrorCode::IncompleteSignatureException,
        AuthError::HostNotSigned
        | AuthError::DateNotSigned { .. }
        | AuthError::HeaderNotSigned { .. }
        | AuthError::InvalidTerminator { .. }
        | AuthError::CredentialDateMismatch { .. }
        | AuthError::WrongScope { .. }
        | AuthError::SignatureExpired { .. }
        | AuthError::SignatureNotYetCurrent { .. }
        | AuthError::PayloadHashMismatch
        | AuthError::InvalidSignature => ErrorCode::InvalidSignatureException,
        AuthError::UnrecognizedClient => ErrorCode::UnrecognizedClientException,
    }
}

fn query_auth_code(e: &AuthError) -> custos_iam_wire::IamErrorCode {
    use custos_iam_wire::IamErrorCode as Q;
    match e {
        AuthError::MissingAuthenticationToken => Q::MissingAuthenticationToken,
        AuthError::IncompleteSignature(_) => Q::IncompleteSignature,
        AuthError::HostNotSigned
        | AuthError::DateNotSigned { .. }
        | AuthError::HeaderNotSigned { .. }
        | AuthError::InvalidTerminator { .. }
        | AuthError::CredentialDateMismatch { .. }
        | AuthError::WrongScope { .. }
        | AuthError::SignatureExpired { .. }
        | AuthError::SignatureNotYetCurrent { .. }
        | AuthError::PayloadHashMismatch
        | AuthError::InvalidSignature => Q::SignatureDoesNotMatch,
        AuthError::UnrecognizedClient => Q::InvalidClientTokenId,
    }
}

fn iam_to_query(e: &custos_iam::IamError) -> custos_iam_wire::IamError {
    use custos_iam::IamError as I;
    use custos_iam_wire::IamErrorCode as Q;
    let with = |code, m: &String| custos_iam_wire::IamError::new(code, m.clone());
    match e {
        I::NoSuchEntity(m) => with(Q::NoSuchEntity, m),
        I::EntityAlreadyExists(m) => with(Q::EntityAlreadyExists, m),
        I::DeleteConflict(m) => with(Q::DeleteConflict, m),
        I::LimitExceeded(m) => with(Q::LimitExceeded, m),
        I::MalformedPolicyDocument(m) => with(Q::MalformedPolicyDocument, m),
        I::InvalidInput(m) => with(Q::InvalidInput, m),
        I::Validation(m) => with(Q::ValidationError, m),
        I::AccessDenied(m) => with(Q::AccessDenied, m),
        I::ConcurrentModification(m) => with(Q::ConcurrentModification, m),
        I::PackedPolicyTooLarge(m) => with(Q::PackedPolicyTooLarge, m),
        I::Store(_) | I::Crypto(_) | I::Corrupt { .. } => {
            custos_iam_wire::IamError::service_failure()
        }
    }
}

fn kms_to_wire(e: &KmsError) -> (ErrorCode, Option<String>) {
    use ErrorCode as C;
    let with = |code: ErrorCode, m: &String| (code, Some(m.clone()));
    match e {
        KmsError::Validation(v) => (C::ValidationException, Some(v.to_string())),
        KmsError::ValidationMessage(m) => with(C::ValidationException, m),
        KmsError::NotFound(m) => with(C::NotFoundException, m),
        KmsError::AlreadyExists(m) => with(C::AlreadyExistsException, m),
        KmsError::InvalidAliasName(m) => with(C::InvalidAliasNameException, m),
        KmsError::InvalidArn(m) => with(C::InvalidArnException, m),
        KmsError::Disabled(m) => with(C::DisabledException, m),
        KmsError::InvalidState(m) => with(C::KMSInvalidStateException, m),
        KmsError::InvalidCiphertext => (C::InvalidCiphertextException, None),
        KmsError::IncorrectKey(m) => with(C::IncorrectKeyException, m),
        KmsError::InvalidSignature => (C::KMSInvalidSignatureException, None),
        KmsError::InvalidMac => (C::KMSInvalidMacException, None),
        KmsError::InvalidKeyUsage(m) => with(C::InvalidKeyUsageException, m),
        KmsError::InvalidMarker(m) => with(C::InvalidMarkerException, m),
        KmsError::UnsupportedOperation(m) => with(C::UnsupportedOperationException, m),
        KmsError::CustomKeyStoreNotFound(m) => with(C::CustomKeyStoreNotFoundException, m),
        KmsError::MalformedPolicyDocument(m) => with(C::MalformedPolicyDocumentException, m),
        KmsError::Tag(m) => with(C::TagException, m),
        KmsError::LimitExceeded(m) => with(C::LimitExceededException, m),
        KmsError::AccessDenied(m) => with(C::AccessDeniedException, m),
        KmsError::InvalidGrantToken(m) => with(C::InvalidGrantTokenException, m),
        KmsError::InvalidGrantId(m) => with(C::InvalidGrantIdException, m),
        KmsError::NotAuthorized => (C::NotAuthorizedException, None),
        KmsError::DryRun => (C::DryRunOperationException, Some(e.to_string())),
        KmsError::Throttled => (C::ThrottlingException, Some(e.to_string())),
        KmsError::Store(_) | KmsError::Crypto(_) | KmsError::Corrupt { .. } => {
            (C::KMSInternalException, Some(INTERNAL_MESSAGE.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use custos_sigv4::Incomplete;
    use custos_store::StoreError;
    use custos_wire::validation::Violations;

    use super::*;

    fn s(x: &str) -> String {
        x.to_owned()
    }

    /// One row per error: what the client must see.
    #[test]
    fn wire_table() {
        let mut violations = Violations::new();
        violations.required::<String>("keyId", &None);
        let rows: Vec<(ApiError, &str, u16, Option<&str>)> = vec![
            (
                ApiError::from(AuthError::MissingAuthenticationToken),
                "MissingAuthenticationTokenException",
                400,
                Some("Missing Authentication Token"),
            ),
            (
                ApiError::from(AuthError::InvalidSignature),
                "InvalidSignatureException",
                400,
                Some(
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
                ),
            ),
            (
                ApiError::from(AuthError::UnrecognizedClient),
                "UnrecognizedClientException",
                400,
                Some("The security token included in the request is invalid."),
            ),
            (
                ApiError::from(AuthError::PayloadHashMismatch),
                "InvalidSignatureException",
                400,
                None,
            ),
            (
                ApiError::from(AuthError::HostNotSigned),
                "InvalidSignatureException",
                400,
                None,
            ),
            (
                ApiError::Auth(AuthFailure::InvalidToken),
                "UnrecognizedClientException",
                400,
                Some("The security token included in the request is invalid."),
            ),
            (
                ApiError::Auth(AuthFailure::ExpiredToken),
                "ExpiredTokenException",
                400,
                Some("The security token included in the request is expired"),
            ),
            (
                ApiError::UnknownOperation,
                "UnknownOperationException",
                400,
                None,
            ),
            (
                ApiError::Serialization(s("Unexpected end of input")),
                "SerializationException",
                400,
                Some("Unexpected end of input"),
            ),
            (
                ApiError::BodyTooLarge { limit: 10 },
                "RequestEntityTooLargeException",
                413,
                Some("Request body must not exceed 10 bytes."),
            ),
            (
                KmsError::Validation(violations).into(),
                "ValidationException",
                400,
                Some(
                    "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
                ),
            ),
            (
                KmsError::ValidationMessage(s("m")).into(),
                "ValidationException",
                400,
                Some("m"),
            ),
            (
                KmsError::NotFound(s("m")).into(),
                "NotFoundException",
                400,
                Some("m"),
            ),
            (
                KmsError::AlreadyExists(s("m")).into(),
                "AlreadyExistsException",
                400,
                Some("m"),
            ),
            (
                KmsError::InvalidAliasName(s("m")).into(),
                "InvalidAliasNameException",
                400,
                Some("m"),
            ),
            (
                KmsError::InvalidArn(s("m")).into(),
                "InvalidArnException",
                400,
                Some("m"),
            ),
            (
                KmsError::Disabled(s("m")).into(),
                "DisabledException",
                400,
                Some("m"),
            ),
            (
                KmsError::InvalidState(s("m")).into(),
                "KMSInvalidStateException",
                400,
                Some("m"),
            ),
            (
                KmsError::InvalidCiphertext.into(),
                "InvalidCiphertextException",
                400,
                None,
            ),
            (
                KmsError::IncorrectKey(s("m")).into(),
                "IncorrectKeyException",
                400,
                Some("m"),
            ),
            (
                KmsError::InvalidSignature.into(),
                "KMSInvalidSignatureException",
                400,
                None,
            ),
            (
                KmsError::InvalidMac.into(),
                "KMSInvalidMacException",
                400,
                None,
            ),
            (
                KmsError::InvalidKeyUsage(s("m")).into(),
                "InvalidKeyUsageException",
                400,
                Some("m"),
            ),
            (
                KmsError::InvalidMarker(s("m")).into(),
                "InvalidMarkerException",
                400,
                Some("m"),
            ),
            (
                KmsError::UnsupportedOperation(s("m")).into(),
                "UnsupportedOperationException",
                400,
                Some("m"),
            ),
            (
                KmsError::CustomKeyStoreNotFound(s("m")).into(),
                "CustomKeyStoreNotFoundException",
                400,
                Some("m"),
            ),
            (
                KmsError::MalformedPolicyDocument(s("m")).into(),
                "MalformedPolicyDocumentException",
                400,
                Some("m"),
            ),
            (KmsError::Tag(s("m")).into(), "TagException", 400, Some("m")),
            (
                KmsError::LimitExceeded(s("m")).into(),
                "LimitExceededException",
                400,
                Some("m"),
            ),
            (
                KmsError::AccessDenied(s("m")).into(),
                "AccessDeniedException",
                400,
                Some("m"),
            ),
            (
                KmsError::NotAuthorized.into(),
                "NotAuthorizedException",
                400,
                None,
            ),
            (
                KmsError::Throttled.into(),
                "ThrottlingException",
                400,
                Some(
                    "You have exceeded the rate at which you may call KMS. Reduce the frequency \
                     of your calls.",
                ),
            ),
            (
                KmsError::DryRun.into(),
                "DryRunOperationException",
                412,
                Some("The request would succeed if DryRun wasn\u{2019}t specified."),
            ),
            (
                KmsError::Store(StoreError::Conflict).into(),
                "KMSInternalException",
                500,
                Some(INTERNAL_MESSAGE),
            ),
            (
                KmsError::Crypto(custos_crypto::Error).into(),
                "KMSInternalException",
                500,
                Some(INTERNAL_MESSAGE),
            ),
            (
                KmsError::Corrupt {
                    what: s("key record"),
                }
                .into(),
                "KMSInternalException",
                500,
                Some(INTERNAL_MESSAGE),
            ),
            (
                ApiError::Audit("disk full".into()),
                "KMSInternalException",
                500,
                Some(INTERNAL_MESSAGE),
            ),
            (
                ApiError::Internal("oops".into()),
                "KMSInternalException",
                500,
                Some(INTERNAL_MESSAGE),
            ),
            (
                ApiError::Timeout,
                "RequestTimeoutException",
                408,
                Some("The request body was not received in time."),
            ),
            (
                ApiError::Busy,
                "ThrottlingException",
                400,
                Some(BUSY_MESSAGE),
            ),
            (
                ApiError::Sealed,
                "KeyUnavailableException",
                500,
                Some(SEALED_MESSAGE),
            ),
        ];
        for (error, type_name, status, message) in rows {
            let (code, sent) = error.to_wire();
            assert_eq!(code.type_name(), type_name, "{error:?}");
            assert_eq!(code.status(), status, "{error:?}");
            if let Some(m) = message {
                assert_eq!(sent.as_deref(), Some(m), "{error:?}");
            } else if type_name != "InvalidSignatureException" {
                assert_eq!(sent, None, "{error:?}");
            }
        }
    }

    #[test]
    fn auth_codes_agree_with_the_sigv4_crate() {
        let samples = [
            AuthError::MissingAuthenticationToken,
            AuthError::IncompleteSignature(Incomplete::Ambiguous),
            AuthError::HostNotSigned,
            AuthError::PayloadHashMismatch,
            AuthError::InvalidSignature,
            AuthError::UnrecognizedClient,
        ];
        for e in samples {
            assert_eq!(auth_code(&e).type_name(), e.aws_type(), "{e:?}");
        }
    }

    #[test]
    fn internal_errors_leak_nothing() {
        let e: ApiError = KmsError::Corrupt {
            what: s("material 1234/1"),
        }
        .into();
        let (_, message) = e.to_wire();
        assert!(!message.unwrap_or_default().contains("1234"));
        assert!(e.is_internal());
    }
}
