//! The one mapping from every error Custos can meet while answering a
//! request to what goes on the wire: `__type`, HTTP status and message.
//!
//! The match is exhaustive, so a new error variant does not compile until
//! it is given its wire form here. Internal failures are logged with their
//! sources and sent as an opaque `KMSInternalException`: no detail of the
//! store, the crypto or the filesystem reaches a client.

use custos_kms::KmsError;
use custos_sigv4::AuthError;
use custos_wire::ErrorCode;

/// Everything that can go wrong while answering one request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication failed: {0:?}")]
    Auth(AuthError),
    #[error("no such operation")]
    UnknownOperation,
    #[error("body is not a valid request: {0}")]
    Serialization(String),
    #[error("body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    #[error(transparent)]
    Kms(#[from] KmsError),
    /// The body did not arrive in time.
    #[error("request body timed out")]
    Timeout,
    /// The audit record could not be written: the request fails closed.
    #[error("audit failure")]
    Audit(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other failure of the server itself.
    #[error("internal failure")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

/// The generic message of internal errors.
pub const INTERNAL_MESSAGE: &str = "An internal error occurred. Try the request again.";

impl ApiError {
    /// The code and message sent to the client.
    pub fn to_wire(&self) -> (ErrorCode, Option<String>) {
        use ErrorCode as C;
        match self {
            ApiError::Auth(e) => (auth_code(e), Some(e.message())),
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
            ApiError::Audit(_) | ApiError::Internal(_) => {
                (C::KMSInternalException, Some(INTERNAL_MESSAGE.into()))
            }
            ApiError::Kms(e) => kms_to_wire(e),
        }
    }

    /// Whether this is the server's fault (logged as an error, not a
    /// client mistake).
    pub fn is_internal(&self) -> bool {
        self.to_wire().0.status() >= 500
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
        KmsError::NotAuthorized => (C::NotAuthorizedException, None),
        KmsError::DryRun => (C::DryRunOperationException, Some(e.to_string())),
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
                ApiError::Auth(AuthError::MissingAuthenticationToken),
                "MissingAuthenticationTokenException",
                400,
                Some("Missing Authentication Token"),
            ),
            (
                ApiError::Auth(AuthError::InvalidSignature),
                "InvalidSignatureException",
                400,
                Some(
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
                ),
            ),
            (
                ApiError::Auth(AuthError::UnrecognizedClient),
                "UnrecognizedClientException",
                400,
                Some("The security token included in the request is invalid."),
            ),
            (
                ApiError::Auth(AuthError::PayloadHashMismatch),
                "InvalidSignatureException",
                400,
                None,
            ),
            (
                ApiError::Auth(AuthError::HostNotSigned),
                "InvalidSignatureException",
                400,
                None,
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
