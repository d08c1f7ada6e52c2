//! The domain's error type.
//!
//! Variants carry the message the client will see, already worded as AWS
//! words it. Internal failures carry their source for the log, and map to
//! an opaque `KMSInternalException` on the wire (see the server's error
//! mapping, the one place that turns these into `__type` and status).

use custos_store::StoreError;
use custos_wire::validation::Violations;

#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    #[error("{0}")]
    Validation(Violations),
    /// A rule AWS reports as `ValidationException` with a free-form message.
    #[error("{0}")]
    ValidationMessage(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    InvalidAliasName(String),
    #[error("{0}")]
    InvalidArn(String),
    #[error("{0}")]
    Disabled(String),
    #[error("{0}")]
    InvalidState(String),
    /// Decryption failed. Says nothing about why, on purpose.
    #[error("")]
    InvalidCiphertext,
    #[error("{0}")]
    IncorrectKey(String),
    /// `Verify` found the signature invalid. No detail, as on AWS.
    #[error("")]
    InvalidSignature,
    /// `VerifyMac` found the MAC invalid. No detail, as on AWS.
    #[error("")]
    InvalidMac,
    #[error("{0}")]
    InvalidKeyUsage(String),
    #[error("{0}")]
    InvalidMarker(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    CustomKeyStoreNotFound(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    Tag(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    InvalidGrantToken(String),
    #[error("{0}")]
    InvalidGrantId(String),
    /// An action on a name AWS reserves (aliases under `alias/aws/`).
    #[error("")]
    NotAuthorized,
    /// A request quota is used up (`crate::quotas`).
    #[error(
        "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
    )]
    Throttled,
    /// `DryRun` was set and the request would have succeeded.
    #[error("The request would succeed if DryRun wasn\u{2019}t specified.")]
    DryRun,
    /// The store failed; the client sees an internal error.
    #[error("storage failure")]
    Store(#[from] StoreError),
    /// A cryptographic primitive failed where it cannot fail on valid input
    /// (randomness, sealing); the client sees an internal error.
    #[error("cryptographic failure")]
    Crypto(#[from] custos_crypto::Error),
    /// A stored record could not be read: corruption, tampering, or a
    /// record written by a newer Custos.
    #[error("stored record {what} is unreadable")]
    Corrupt { what: String },
}

impl From<Violations> for KmsError {
    fn from(v: Violations) -> Self {
        KmsError::Validation(v)
    }
}
