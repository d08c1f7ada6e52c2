//! The Custos audit trail.
//!
//! Every request Custos answers, and everything it does on its own, is an
//! [`Event`] in CloudTrail's record format, appended to an [`AuditLog`]:
//! a hash chain of records ([`chain`]) in segment files, written by one
//! thread with group commit, acknowledged only once durable, and failing
//! closed when the disk cannot take it. [`verify`] checks a log offline
//! and names the first break: an edited, deleted, inserted or reordered
//! record, a torn line, a missing segment.
//!
//! What this crate does not do: HTTP, or knowing KMS and IAM. The server
//! builds events at its edge from what it saw and what the domains
//! returned (`custos-server`'s `audit` module).

pub mod chain;
pub mod digest;
pub mod event;
pub mod export;
pub mod log;
pub mod verify;

pub use digest::DigestSigner;
pub use event::{Event, Resource, SessionAttributes, SessionContext, SessionIssuer, UserIdentity};
pub use log::{AuditError, AuditLog};
