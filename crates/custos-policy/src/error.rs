//! Why a policy document was refused.
//!
//! Each variant's `Display` is the message IAM returns with
//! `MalformedPolicyDocument`, so the IAM API can send it as is. Where IAM's
//! message is a catch-all ("Syntax errors in policy.") the variant also
//! carries a `detail` for logs, which is never part of the message.
//!
//! Provenance of the messages (checked against public AWS error reports,
//! issue threads quoting real AWS responses, and moto's validator, which was
//! written against AWS):
//! - seen verbatim in AWS responses: "Syntax errors in policy.", "The policy
//!   failed legacy parsing", "Policy document should not specify a
//!   principal.", "Has prohibited field Resource", "Policy statement must
//!   contain actions.", "Policy statement must contain resources.",
//!   "Actions/Condition can contain only one colon.", "This policy contains
//!   invalid Json", "Invalid principal in policy: \"AWS\":\"…\"",
//!   "Missing required field Principal" (S3 and the IAM console);
//! - from moto only: "Statement IDs (SID) in a single policy must be
//!   unique.", "Actions/Conditions must be prefaced by a vendor, e.g., iam,
//!   sdb, ec2, etc.", "Vendor X is not valid", "Resource X must be in ARN
//!   format or \"*\".";
//! - best guess, not seen anywhere: the `NotPrincipal` with `Allow` message.
//!
//! Which check IAM applies first when a document has several faults is not
//! documented; [`crate::Policy::parse`] follows moto's order (syntax, legacy
//! parsing, SIDs, actions, resources).

/// A policy document IAM would refuse with `MalformedPolicyDocument`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON at all, for a role trust policy (CreateRole and
    /// UpdateAssumeRolePolicy say this rather than "Syntax errors").
    #[error("This policy contains invalid Json")]
    InvalidJson,
    /// Not the policy grammar: not JSON, unknown member, wrong type, both
    /// `Action` and `NotAction`, unknown condition operator, empty
    /// statement list…
    #[error("Syntax errors in policy.")]
    Syntax {
        /// What was wrong, for logs.
        detail: String,
    },
    /// Parses as the grammar but not as IAM's older parser accepts it: an
    /// `Effect` not spelt `Allow`/`Deny`, an unreadable date, a malformed
    /// resource.
    #[error("The policy failed legacy parsing")]
    LegacyParsing {
        /// What was wrong, for logs.
        detail: String,
    },
    /// `Principal` or `NotPrincipal` in an identity or session policy.
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    /// A required member is absent (`Principal` in a trust or key policy).
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    /// A member the kind of policy does not allow (`Resource` in a trust
    /// policy).
    #[error("Has prohibited field {0}")]
    ProhibitedField(&'static str),
    /// Two statements with the same non-empty `Sid`.
    #[error("Statement IDs (SID) in a single policy must be unique.")]
    DuplicateSid,
    /// A statement with neither `Action` nor `NotAction`, or an empty list.
    #[error("Policy statement must contain actions.")]
    MissingActions,
    /// A statement with neither `Resource` nor `NotResource` where one is
    /// required, or an empty list.
    #[error("Policy statement must contain resources.")]
    MissingResources,
    /// A resource that is neither `*` nor ARN-shaped.
    #[error("Resource {0} must be in ARN format or \"*\".")]
    ResourceFormat(String),
    /// An action without `service:`.
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    ActionWithoutVendor,
    /// An action with more than one colon.
    #[error("Actions/Condition can contain only one colon.")]
    ActionColons,
    /// An action whose service prefix has characters no service uses.
    #[error("Vendor {0} is not valid")]
    InvalidVendor(String),
    /// A principal value IAM cannot read, e.g. `"AWS":"bob"`; the field is
    /// the `"TYPE":"value"` text IAM quotes.
    #[error("Invalid principal in policy: {0}")]
    InvalidPrincipal(String),
    /// `NotPrincipal` in an `Allow` statement, which AWS does not support.
    // Best guess at the wording: no public source quotes IAM's message.
    #[error("NotPrincipal is supported only with the Deny effect.")]
    NotPrincipalWithAllow,
}

impl PolicyError {
    pub(crate) fn syntax(detail: impl Into<String>) -> Self {
        Self::Syntax {
            detail: detail.into(),
        }
    }

    pub(crate) fn legacy(detail: impl Into<String>) -> Self {
        Self::LegacyParsing {
            detail: detail.into(),
        }
    }

    /// The detail behind a catch-all message, for logs; `None` when the
    /// message already says everything.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Syntax { detail } | Self::LegacyParsing { detail } => Some(detail),
            _ => None,
        }
    }
}
