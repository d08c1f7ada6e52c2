//! The IAM domain's error type.
//!
//! Variants carry the message the client will see, worded as IAM words
//! it; the server maps each variant to IAM's (or STS's) error code and
//! status in one place. Internal failures keep their source for the log
//! and reach the client as an opaque `ServiceFailure`.

use custos_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    AccessDenied(String),
    /// Two writers raced on one record; the client should retry.
    #[error("{0}")]
    ConcurrentModification(String),
    /// STS: the session policies, packed, are too large.
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// The store failed.
    #[error("storage failure")]
    Store(#[from] StoreError),
    /// A primitive failed where it cannot fail on valid input.
    #[error("cryptographic failure")]
    Crypto(#[from] custos_crypto::Error),
    /// A stored record failed to open or parse: corruption, tampering, or
    /// a record written by a newer Custos. Refused, never obeyed.
    #[error("stored record {what} is unreadable or has been tampered with")]
    Corrupt { what: String },
}

impl IamError {
    /// Whether this is Custos' fault rather than the client's.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            IamError::Store(_) | IamError::Crypto(_) | IamError::Corrupt { .. }
        )
    }
}
