//! The AWS IAM and STS wire protocol, as Custos speaks it: the AWS Query
//! protocol (`Action=…&Version=…` form bodies or query strings) in, XML
//! out, on the same HTTPS endpoint as KMS.
//!
//! This crate is data only, the IAM analogue of `custos-wire`: typed
//! requests parsed from the form and checked against the constraints of
//! the botocore service models (`iam/2010-05-08`, `sts/2011-06-15`), typed
//! responses encoded as the XML documents IAM and STS send, and the error
//! codes with their HTTP status, fault and XML body.
//!
//! It deliberately does **not**: authenticate (SigV4 is `custos-sigv4`'s),
//! authorize, store anything, parse or evaluate policy documents (only
//! their length and character set are checked here; the grammar is
//! `custos-policy`'s), resolve ARNs, or decide any outcome. It performs
//! no I/O.
//!
//! Secrets (a new access key's secret, temporary credentials) live in
//! [`custos_crypto::SecretBytes`], are never shown by `Debug`, and the
//! documents that carry them are built in buffers wiped on drop
//! ([`zeroize::Zeroizing`]).
//!
//! # Layout
//!
//! - [`form`]: decoding `application/x-www-form-urlencoded` into [`Params`].
//! - [`iam_request`]: one `<Action>Request` per IAM action and [`IamRequest`].
//! - [`iam_response`]: one `<Action>Response` per IAM result and [`IamResponse`].
//! - [`sts`]: STS's requests, responses and credentials.
//! - [`shapes`]: the entities both return (`User`, `Role`, `Policy`, …).
//! - [`error`]: [`IamErrorCode`] with status and fault, [`IamError`] and
//!   its XML body, [`Service`].
//! - `validate` (private): member constraints and `ValidationError`
//!   messages worded as AWS words them.
//! - `xml` (private): the escaping, wiping XML writer.

pub mod error;
pub mod form;
pub mod iam_request;
pub mod iam_response;
pub mod shapes;
pub mod sts;
mod validate;
mod xml;

pub use error::{Fault, IamError, IamErrorCode, Service};
pub use form::{Params, WireError, parse_form};
pub use iam_request::*;
pub use iam_response::*;
pub use shapes::*;
pub use sts::*;
pub use xml::{escape, format_timestamp, url_encode_policy};

/// IAM's API version, the `Version` every IAM request carries.
pub const IAM_VERSION: &str = "2010-05-08";
/// STS's API version.
pub const STS_VERSION: &str = "2011-06-15";
/// The namespace of IAM's response and error documents.
pub const IAM_XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The namespace of STS's response and error documents.
pub const STS_XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The media type of every response and error body.
pub const CONTENT_TYPE: &str = "text/xml";
