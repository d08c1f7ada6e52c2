//! The IAM policy language: parse and validate policy documents, and
//! evaluate them against a request.
//!
//! Custos uses it in three places: the IAM API validates identity, trust and
//! session policies with it (refusing them with IAM's
//! `MalformedPolicyDocument` messages); STS AssumeRole evaluates a role's
//! trust policy; KMS evaluates key policies together with the caller's
//! identity and session policies.
//!
//! ```
//! use custos_policy::{AwsPrincipal, Context, Decision, Policy, PolicyKind, PolicyRef, PolicyType, Principal, Request, evaluate};
//!
//! let key_policy = Policy::parse(
//!     r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
//!         "Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},
//!         "Action":"kms:Decrypt","Resource":"*",
//!         "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"acme"}}}]}"#,
//!     PolicyKind::Resource,
//! )?;
//! let mut context = Context::with_capacity(4);
//! context.insert("kms:EncryptionContext:tenant", "acme");
//! let alice = Principal::Aws(AwsPrincipal::new("arn:aws:iam::111122223333:user/alice", "111122223333"));
//! let request = Request::new("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k", alice, &context);
//! let decision = evaluate(&[PolicyRef::new(PolicyType::Resource, &key_policy)], &request);
//! assert_eq!(decision, Decision::Allow { by: PolicyType::Resource });
//! # Ok::<(), custos_policy::PolicyError>(())
//! ```
//!
//! # Design
//!
//! A document is parsed once into a compiled form: wildcard patterns split
//! into pieces, ARN condition values split into their six parts, numbers,
//! dates, CIDR blocks and base64 values decoded, policy variables parsed into
//! templates. Evaluating it against a request then only reads the request's
//! values, so a KMS server can keep parsed key policies and evaluate them on
//! every call. The original text is kept for GetKeyPolicy.
//!
//! Evaluation has two levels. [`Policy::evaluate`] says what one policy
//! says ([`Effect`]): deny, allow, allow only through the caller's account
//! (a key policy naming `arn:aws:iam::ACCT:root`, which delegates to IAM), or
//! nothing. [`evaluate`] combines policies tagged with their
//! [`PolicyType`] into a [`Decision`] that names which type decided, which
//! the AccessDenied message needs. A caller with its own combination rule
//! (KMS grants sit between the key policy and IAM policies) uses the first.
//!
//! Semantics follow the IAM User Guide: explicit deny wins; condition
//! operators AND'ed, values OR'ed (NOR'ed for negated operators); a key
//! absent from the request makes positive operators false and negated ones
//! true, `…IfExists` true, `ForAllValues` true and `ForAnyValue` false;
//! condition keys are case-insensitive, values case-sensitive unless the
//! operator says otherwise; actions match case-insensitively, resources
//! and ARNs case-sensitively. See `condition` for the details and the two
//! places where AWS is silent and a choice was made.
//!
//! `tests/differential.rs` checks these semantics against `iam-rs`, an
//! independent evaluator, on generated policies and requests, and lists
//! where the two differ by design and which AWS sentence decides it.
//!
//! # What it does not do
//!
//! - No I/O and no knowledge of users, roles, keys or grants: checking that
//!   the principals a policy names exist ([`Policy::principal_arns`]) and
//!   gathering the policies that apply are the caller's job.
//! - No size limits: each kind of policy has its own, checked by the caller.
//! - No validation of action names or condition keys against a service's
//!   list (IAM does not either, beyond the vendor prefix).
//! - No cross-account evaluation (both accounts allowing), no SCPs, and no
//!   exemption of a resource policy naming a role session from that
//!   session's policy: where this differs from AWS it denies.
//! - No `CanonicalUser` matching (S3 only) and no `aws:` keys filled in:
//!   the caller builds the [`Context`].
//!
//! # Layout
//!
//! - `parse`: the document grammar and IAM's validation, into [`Policy`].
//! - `principal`: `Principal`/`NotPrincipal` values and their matching.
//! - `condition`: the condition operators and their rules.
//! - `variables`: `${…}` policy variables.
//! - `wildcard`: `*`/`?` matching.
//! - `context`: the request side: [`Request`], [`Principal`], [`Context`].
//! - `evaluate`: per-policy and combined evaluation.
//! - `error`: [`PolicyError`], whose messages are IAM's.

mod condition;
mod context;
mod error;
mod evaluate;
mod parse;
mod principal;
mod variables;
mod wildcard;

pub use context::{AwsPrincipal, Context, Principal, Request};
pub use error::PolicyError;
pub use evaluate::{Decision, Effect, PolicyRef, PolicyType, evaluate};
pub use parse::{Policy, PolicyKind, Version};
