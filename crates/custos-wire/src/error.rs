//! Error codes as they appear on the wire: the `__type` member of the error
//! body and the HTTP status.
//!
//! The statuses follow the AWS KMS service model: client errors are 400,
//! the three server faults (`DependencyTimeoutException`,
//! `KMSInternalException`, `KeyUnavailableException`) are 500, and
//! `DryRunOperationException` is 412 as the KMS API reference documents.

use serde::Serialize;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = $status:literal ),* $(,)?) => {
        /// Every error Custos can put on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $name, )*
        }

        impl ErrorCode {
            /// All codes, for exhaustive tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            /// The `__type` value, which the SDKs match on.
            pub fn type_name(self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name),)* }
            }

            /// The HTTP status code.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$name => $status,)* }
            }
        }
    };
}

error_codes! {
    // Errors of the KMS service model.
    AlreadyExistsException = 400,
    ConflictException = 400,
    DependencyTimeoutException = 500,
    DisabledException = 400,
    DryRunOperationException = 412,
    IncorrectKeyException = 400,
    InvalidAliasNameException = 400,
    InvalidArnException = 400,
    InvalidCiphertextException = 400,
    InvalidGrantIdException = 400,
    InvalidGrantTokenException = 400,
    InvalidKeyUsageException = 400,
    InvalidMarkerException = 400,
    KMSInternalException = 500,
    KMSInvalidMacException = 400,
    KMSInvalidSignatureException = 400,
    KMSInvalidStateException = 400,
    KeyUnavailableException = 500,
    LimitExceededException = 400,
    MalformedPolicyDocumentException = 400,
    NotFoundException = 400,
    TagException = 400,
    UnsupportedOperationException = 400,
    CustomKeyStoreNotFoundException = 400,
    // Errors common to AWS JSON services.
    AccessDeniedException = 400,
    /// Not in the KMS model; what AWS answers for the reserved `alias/aws/`.
    NotAuthorizedException = 400,
    /// The Authorization header or presigned query is present but incomplete.
    IncompleteSignatureException = 400,
    InvalidSignatureException = 400,
    MissingAuthenticationTokenException = 400,
    UnrecognizedClientException = 400,
    /// A session token past its expiry.
    ExpiredTokenException = 400,
    SerializationException = 400,
    UnknownOperationException = 400,
    ValidationException = 400,
    ThrottlingException = 400,
    /// The body exceeds what any KMS request can need.
    RequestEntityTooLargeException = 413,
    /// The body did not arrive within the server's time limit.
    RequestTimeoutException = 408,
}

/// The body of an error response.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody<'a> {
    #[serde(rename = "__type")]
    pub type_name: &'a str,
    /// Absent for the errors AWS sends without one
    /// (`InvalidCiphertextException`, `UnknownOperationException`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_statuses_valid() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.type_name()), "{code:?} twice");
            assert!((400..600).contains(&code.status()), "{code:?}");
        }
        assert_eq!(ErrorCode::KMSInternalException.status(), 500);
        assert_eq!(
            ErrorCode::NotFoundException.type_name(),
            "NotFoundException"
        );
    }
}
