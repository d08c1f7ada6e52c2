//! The AWS KMS wire protocol, as Custos speaks it: JSON 1.1 over `POST /`
//! with `X-Amz-Target: TrentService.<Operation>`.
//!
//! This crate is data only: request and response shapes with the member
//! names of the AWS KMS service model, the [`Operation`] names, the
//! [`ErrorCode`]s with their `__type` and HTTP status, and AWS-style
//! validation messages ([`validation`]). It performs no I/O and no
//! cryptography and makes no decisions; the domain gives the shapes their
//! meaning.
//!
//! # Layout
//!
//! - [`blob`]: base64 blobs, plain ([`Blob`]) and sensitive ([`SecretBlob`]).
//! - [`shapes`]: request and response structures.
//! - [`operation`]: the operations Custos recognises.
//! - [`error`]: error codes and the error body.
//! - [`validation`]: `ValidationException` messages worded as AWS words them.
//! - [`timestamp`]: epoch-second timestamps.

pub mod blob;
pub mod error;
pub mod operation;
pub mod shapes;
pub mod timestamp;
pub mod validation;

pub use blob::{Blob, SecretBlob};
pub use error::{ErrorBody, ErrorCode};
pub use operation::Operation;
pub use timestamp::Timestamp;

/// The media type of every KMS request and response body.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The prefix of the `X-Amz-Target` header value.
pub const TARGET_PREFIX: &str = "TrentService.";
