//! Authorization of IAM and STS requests.
//!
//! IAM has no resource policies (a role's trust policy is only read by
//! `AssumeRole`), so an IAM request is decided by the caller's policies
//! alone, in AWS's order: an explicit `Deny` in any of them refuses; then
//! an identity-based policy must allow, and, where they exist, a session
//! policy and the permissions boundary must allow too (they only narrow).
//! The refusal names which policy type decided, in AWS's words.
//!
//! The condition keys every request carries are built by
//! [`caller_context`], which the KMS domain uses as well.

use std::borrow::Cow;

use custos_policy::{AwsPrincipal, Context, Effect, Policy, Request};

use crate::IamError;
use crate::caller::Caller;

/// Which kind of policy decided a refusal, for AWS's message. The one
/// place those texts are written, for IAM's decisions and for KMS's
/// (which adds the resource-based policy, the key policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ExplicitDenyResource,
    ExplicitDenyIdentity,
    ExplicitDenySession,
    ExplicitDenyBoundary,
    NoResourceAllow,
    NoIdentityAllow,
    NoSessionAllow,
    NoBoundaryAllow,
}

impl Refusal {
    /// AWS's `AccessDenied` message for `caller` refused `action` on
    /// `resource`.
    pub fn message(self, caller: &Caller, action: &str, resource: &str) -> String {
        let why = match self {
            Refusal::ExplicitDenyResource => {
                "with an explicit deny in a resource-based policy".to_owned()
            }
            Refusal::NoResourceAllow => {
                format!("because no resource-based policy allows the {action} action")
            }
            Refusal::ExplicitDenyIdentity => {
                "with an explicit deny in an identity-based policy".to_owned()
            }
            Refusal::ExplicitDenySession => "with an explicit deny in a session policy".to_owned(),
            Refusal::ExplicitDenyBoundary => {
                "with an explicit deny in a permissions boundary".to_owned()
            }
            Refusal::NoIdentityAllow => {
                format!("because no identity-based policy allows the {action} action")
            }
            Refusal::NoSessionAllow => {
                format!("because no session policy allows the {action} action")
            }
            Refusal::NoBoundaryAllow => {
                format!("because no permissions boundary allows the {action} action")
            }
        };
        format!(
            "User: {} is not authorized to perform: {action} on resource: {resource} {why}",
            caller.principal_arn()
        )
    }
}

/// The caller as a policy principal.
pub fn policy_principal(caller: &Caller) -> AwsPrincipal<'_> {
    match caller.principal().role_arn() {
        Some(role) => {
            AwsPrincipal::session(caller.principal_arn(), caller.account().as_str(), role)
        }
        None => AwsPrincipal::new(caller.principal_arn(), caller.account().as_str()),
    }
}

/// The global condition keys of a request by `caller` at `now_ms`:
/// `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
/// `aws:userid`, `aws:username`, `aws:PrincipalTag/*`, `aws:SourceIp`,
/// `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime`,
/// `aws:RequestedRegion`, `aws:TokenIssueTime`, and for sessions
/// `aws:PrincipalTag/*` from the session tags.
pub fn caller_context(caller: &Caller, now_ms: i64) -> Context<'_> {
    let mut ctx = Context::with_capacity(16);
    // `aws:PrincipalArn` of a role session is the role's ARN, as on AWS.
    ctx.insert(
        "aws:PrincipalArn",
        caller
            .principal()
            .role_arn()
            .unwrap_or(caller.principal_arn()),
    );
    ctx.insert("aws:PrincipalAccount", caller.account().as_str());
    ctx.insert("aws:PrincipalType", caller.principal().principal_type());
    ctx.insert("aws:userid", Cow::Owned(caller.principal().user_id()));
    if let Some(name) = caller.principal().user_name() {
        ctx.insert("aws:username", name);
    }
    for (k, v) in caller.principal_tags() {
        ctx.insert(Cow::Owned(format!("aws:PrincipalTag/{k}")), v.as_str());
    }
    if let Some(ip) = caller.source_ip() {
        ctx.insert("aws:SourceIp", Cow::Owned(ip.to_string()));
    }
    ctx.insert_bool("aws:SecureTransport", caller.secure_transport());
    if let Ok(now) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
    {
        ctx.insert_time("aws:CurrentTime", now);
    }
    ctx.insert_number("aws:EpochTime", now_ms.div_euclid(1000));
    ctx.insert("aws:RequestedRegion", caller.region().as_str());
    if let Some(issued) = caller.token_issued_ms()
        && let Ok(t) =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(issued) * 1_000_000)
    {
        ctx.insert_time("aws:TokenIssueTime", t);
    }
    ctx
}

/// Evaluates the caller's identity, session and boundary policies for
/// one request.
pub fn decide(caller: &Caller, request: &Request<'_>) -> Result<(), Refusal> {
    let policies = caller.policies();
    let effects = |list: &mut dyn Iterator<Item = &Policy>| {
        let (mut allow, mut deny) = (false, false);
        for p in list {
            match p.evaluate(request) {
                // Identity, session and boundary policies name no principal:
                // an allow of theirs is an allow.
                Effect::Allow | Effect::AccountAllow => allow = true,
                Effect::Deny => deny = true,
                Effect::NotApplicable => {}
            }
        }
        (allow, deny)
    };
    let (identity_allow, identity_deny) =
        effects(&mut policies.identity.iter().map(|p| p.as_ref()));
    let (session_allow, session_deny) = effects(&mut policies.session.iter().map(|p| p.as_ref()));
    let (boundary_allow, boundary_deny) =
        effects(&mut policies.boundary.iter().map(|p| p.as_ref()));
    if identity_deny {
        return Err(Refusal::ExplicitDenyIdentity);
    }
    if session_deny {
        return Err(Refusal::ExplicitDenySession);
    }
    if boundary_deny {
        return Err(Refusal::ExplicitDenyBoundary);
    }
    if !identity_allow {
        return Err(Refusal::NoIdentityAllow);
    }
    if !policies.session.is_empty() && !session_allow {
        return Err(Refusal::NoSessionAllow);
    }
    if policies.boundary.is_some() && !boundary_allow {
        return Err(Refusal::NoBoundaryAllow);
    }
    Ok(())
}

/// Authorizes `caller` to perform `action` (`iam:CreateUser`,
/// `sts:GetSessionToken`…) on `resource`, or refuses with AWS's message.
pub fn authorize(
    caller: &Caller,
    action: &str,
    resource: &str,
    now_ms: i64,
) -> Result<(), IamError> {
    let context = caller_context(caller, now_ms);
    let request = Request::new(
        action,
        resource,
        custos_policy::Principal::Aws(policy_principal(caller)),
        &context,
    );
    decide(caller, &request)
        .map_err(|refusal| IamError::AccessDenied(refusal.message(caller, action, resource)))
}
