//! The crate's errors.
//!
//! Structural problems with a message ([`FormatError`]) are reported in
//! detail: they concern bytes anyone can read. Everything cryptographic —
//! a header or frame tag, the key commitment, the signature — fails as one
//! opaque [`Error::AuthenticationFailed`], so that a decryptor is not an
//! oracle for which check an attacker's edit tripped.

use crate::keyring::KeyringError;
use crate::suite::{AlgorithmSuite, CommitmentPolicy};

/// Why encryption or decryption failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The message is not well formed.
    #[error("malformed message: {0}")]
    Malformed(#[from] FormatError),
    /// The message ended before its final frame (or its signature).
    #[error("the message is truncated")]
    Truncated,
    /// Bytes follow the end of the message.
    #[error("unexpected data after the end of the message")]
    TrailingBytes,
    /// The input starts like the base64 encoding of a message.
    #[error("the input looks base64-encoded; decode it before decrypting")]
    Base64Input,
    /// A tag, the key commitment or the signature did not verify. Opaque
    /// on purpose.
    #[error("the message failed authentication")]
    AuthenticationFailed,
    /// The suite is not allowed by the configured commitment policy.
    #[error("algorithm suite {suite} is not allowed by the commitment policy {policy:?}")]
    CommitmentPolicy {
        suite: AlgorithmSuite,
        policy: CommitmentPolicy,
    },
    /// The message is signed and the caller asked for unsigned messages only.
    #[error("the message is signed, and only unsigned messages were allowed")]
    SignedMessageRefused,
    /// More encrypted data keys than the configured limit.
    #[error("the message has more than the allowed {limit} encrypted data keys")]
    TooManyEncryptedDataKeys { limit: usize },
    /// A frame (or non-framed body) longer than the configured limit.
    #[error("frame length {length} exceeds the configured limit of {limit} bytes")]
    FrameTooLarge { length: u64, limit: u64 },
    /// An encryption frame length of 0.
    #[error("the frame length must be between 1 and 2^32 - 1 bytes")]
    InvalidFrameLength,
    /// A caller-supplied encryption context key uses the reserved prefix.
    #[error("encryption context key {0:?} uses the reserved prefix \"aws-crypto-\"")]
    ReservedContextKey(String),
    /// A key marked "authenticate only" is not in the encryption context.
    #[error("required encryption context key {0:?} is not in the encryption context")]
    MissingRequiredContextKey(String),
    /// The encryption context does not fit the format's 16-bit lengths.
    #[error("the encryption context is too large to serialize")]
    ContextTooLarge,
    /// The encryption context given for decryption conflicts with the
    /// message's.
    #[error("the encryption context supplied does not match the message's")]
    ContextMismatch,
    /// The plaintext needs more frames than a message can hold.
    #[error("the plaintext is too long for one message")]
    PlaintextTooLong,
    /// Encryption or decryption materials that cannot be used.
    #[error("invalid cryptographic materials: {0}")]
    InvalidMaterials(&'static str),
    /// The keyring failed (on decryption: it could not decrypt any
    /// encrypted data key).
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// A previous call failed; the encryptor or decryptor cannot continue.
    #[error("a previous error ended this operation")]
    Poisoned,
    /// A cryptographic primitive failed for a reason other than
    /// authentication (randomness, key generation).
    #[error("cryptographic operation failed")]
    Crypto(#[source] custos_crypto::Error),
    /// Reading the input failed.
    #[error("I/O error")]
    Io(#[from] std::io::Error),
}

/// A structural defect in a message, reported before or without any
/// cryptographic check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("unsupported message format version 0x{0:02X}")]
    UnsupportedVersion(u8),
    #[error("unsupported message type 0x{0:02X}")]
    UnsupportedType(u8),
    #[error("unknown algorithm suite 0x{0:04X}")]
    UnknownSuite(u16),
    #[error("algorithm suite {suite} cannot be used with message format version {version}")]
    SuiteVersionMismatch { suite: AlgorithmSuite, version: u8 },
    #[error("reserved header bytes are not zero")]
    Reserved,
    #[error("header IV length {0}, expected 12")]
    IvLength(u8),
    #[error("unknown content type 0x{0:02X}")]
    ContentType(u8),
    #[error("frame length {0} is not valid for the content type")]
    FrameLength(u32),
    #[error("the encryption context length does not match its contents")]
    ContextLength,
    #[error("the encryption context has a key-value pair count of zero")]
    EmptyContext,
    #[error("the encryption context has duplicate key {0:?}")]
    DuplicateContextKey(String),
    #[error("a header string is not valid UTF-8")]
    InvalidUtf8,
    #[error("the header has no encrypted data keys")]
    NoEncryptedDataKeys,
    #[error("frame sequence number {found}, expected {expected}")]
    SequenceNumber { expected: u32, found: u32 },
    #[error("the IV of frame {0} is not its sequence number")]
    FrameIv(u32),
    #[error("final frame content length {length} exceeds the frame length {frame_length}")]
    FinalFrameTooLong { length: u32, frame_length: u32 },
    #[error("non-framed content length {0} exceeds 2^36 - 32")]
    NonFramedTooLong(u64),
    #[error("signed message without the aws-crypto-public-key encryption context entry")]
    MissingPublicKey,
    #[error("unsigned message with an aws-crypto-public-key encryption context entry")]
    UnexpectedPublicKey,
    #[error("the aws-crypto-public-key encryption context value is not a valid public key")]
    InvalidPublicKey,
}
