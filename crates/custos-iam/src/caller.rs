//! The caller: who signed a request, as SigV4 verification established it.
//!
//! A [`Caller`] is made in exactly one place, [`crate::Iam::authenticate`],
//! after the signature has been verified with the secret of the access key
//! (or session) it names. Its fields are private and it has no public
//! constructor, so every layer above (the KMS domain, the IAM operations,
//! the audit step) can trust that a `Caller` in hand is an authenticated
//! one. Tests of other crates get one through the `test-util` feature.

use std::net::IpAddr;
use std::sync::Arc;

use custos_policy::Policy;

use crate::names::{AccountId, Region};

/// What kind of principal signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM user with a long-term access key (`AKIA…`).
    User {
        name: String,
        user_id: String,
        arn: String,
    },
    /// An IAM user with a session from `GetSessionToken` (`ASIA…`): it acts
    /// as the user, with the user's permissions.
    UserSession {
        name: String,
        user_id: String,
        arn: String,
    },
    /// A session of a role, from `AssumeRole`.
    AssumedRole {
        role_name: String,
        role_id: String,
        role_arn: String,
        session_name: String,
        /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
        arn: String,
    },
}

impl Principal {
    /// The ARN the principal is known by in policies and error messages.
    pub fn arn(&self) -> &str {
        match self {
            Principal::User { arn, .. }
            | Principal::UserSession { arn, .. }
            | Principal::AssumedRole { arn, .. } => arn,
        }
    }

    /// `aws:userid`: the user's unique id, or `<role id>:<session name>`.
    pub fn user_id(&self) -> String {
        match self {
            Principal::User { user_id, .. } | Principal::UserSession { user_id, .. } => {
                user_id.clone()
            }
            Principal::AssumedRole {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
        }
    }

    /// `aws:username`, which only users have.
    pub fn user_name(&self) -> Option<&str> {
        match self {
            Principal::User { name, .. } | Principal::UserSession { name, .. } => Some(name),
            Principal::AssumedRole { .. } => None,
        }
    }

    /// `aws:PrincipalType` as AWS spells it.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Principal::User { .. } | Principal::UserSession { .. } => "User",
            Principal::AssumedRole { .. } => "AssumedRole",
        }
    }

    /// The role a session came from, for policies that name the role.
    pub fn role_arn(&self) -> Option<&str> {
        match self {
            Principal::AssumedRole { role_arn, .. } => Some(role_arn),
            _ => None,
        }
    }
}

/// The policies that apply to a caller, parsed once per credential.
#[derive(Debug, Default)]
pub struct IdentityPolicies {
    /// Inline and managed policies of the user, its groups, or the role.
    pub identity: Vec<Arc<Policy>>,
    /// Session policies of an `AssumeRole` session: they only narrow.
    pub session: Vec<Arc<Policy>>,
    /// A permissions boundary: it only narrows.
    pub boundary: Option<Arc<Policy>>,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub(crate) account: AccountId,
    pub(crate) region: Region,
    pub(crate) access_key_id: String,
    pub(crate) principal: Principal,
    pub(crate) source_ip: Option<IpAddr>,
    pub(crate) secure_transport: bool,
    /// When the session was issued (`aws:TokenIssueTime`), for sessions.
    pub(crate) token_issued_ms: Option<i64>,
    pub(crate) session_tags: Vec<(String, String)>,
    /// `aws:PrincipalTag/*`: the user's or role's tags, then session tags.
    pub(crate) principal_tags: Vec<(String, String)>,
    pub(crate) policies: Arc<IdentityPolicies>,
}

impl Caller {
    /// The account of the caller's credential: every resource it names
    /// belongs to this account unless an ARN says otherwise.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The region of the request's credential scope.
    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn principal_arn(&self) -> &str {
        self.principal.arn()
    }

    pub fn source_ip(&self) -> Option<IpAddr> {
        self.source_ip
    }

    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub fn secure_transport(&self) -> bool {
        self.secure_transport
    }

    pub fn token_issued_ms(&self) -> Option<i64> {
        self.token_issued_ms
    }

    pub fn session_tags(&self) -> &[(String, String)] {
        &self.session_tags
    }

    pub fn principal_tags(&self) -> &[(String, String)] {
        &self.principal_tags
    }

    pub fn policies(&self) -> &IdentityPolicies {
        &self.policies
    }

    /// A caller for tests of other crates, which have no signed request to
    /// verify: user `user` of `account` with the administrator's policy.
    /// Only with the `test-util` feature, which only dev-dependencies
    /// enable.
    #[cfg(feature = "test-util")]
    #[doc(hidden)]
    pub fn for_tests(account: AccountId, region: Region, user: &str) -> Caller {
        let admin = Policy::parse(
            crate::accounts::ADMIN_POLICY,
            custos_policy::PolicyKind::Identity,
        )
        .map(Arc::new)
        .ok();
        Caller {
            principal: Principal::User {
                name: user.to_owned(),
                user_id: "AIDATESTTESTTESTTEST1".to_owned(),
                arn: format!("arn:aws:iam::{account}:user/{user}"),
            },
            account,
            region,
            access_key_id: "AKIATESTTESTTESTTEST".to_owned(),
            source_ip: None,
            secure_transport: true,
            token_issued_ms: None,
            session_tags: Vec::new(),
            principal_tags: Vec::new(),
            policies: Arc::new(IdentityPolicies {
                identity: admin.into_iter().collect(),
                ..IdentityPolicies::default()
            }),
        }
    }
}
