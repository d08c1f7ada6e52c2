//! Deciding a request: one policy at a time ([`Policy::evaluate`]), and a
//! set of policies of different types combined ([`evaluate`]).

use crate::context::Request;
use crate::parse::{Policy, ResourcePattern, Statement};
use crate::principal::PrincipalMatch;
use crate::wildcard::{Case, matches_pieces};

/// What one policy says about a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// A statement allows it, naming the caller (or `*`, or for identity
    /// policies, implicitly the identity the policy is attached to).
    Allow,
    /// A statement allows it only by naming the caller's account
    /// (`arn:aws:iam::ACCT:root` or `ACCT`). In a KMS key policy this does
    /// not grant access by itself: it lets the account's IAM policies
    /// decide.
    AccountAllow,
    /// A statement denies it. Deny wins over every allow.
    Deny,
    /// No statement applies.
    NotApplicable,
}

/// Which kind of policy a decision came from; the AccessDenied message
/// names it ("…with an explicit deny in a resource-based policy").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// Resource-based: a KMS key policy, or a role's trust policy for
    /// AssumeRole.
    Resource,
    /// Attached to the caller (its user, groups or role).
    Identity,
    /// Passed when the session was created; only narrows.
    Session,
    /// A permissions boundary on the caller; only narrows.
    PermissionsBoundary,
    /// A KMS grant. Grants are not policy documents, so [`evaluate`] never
    /// returns this; it is here so that the KMS layer, which checks grants,
    /// reports its decisions in the same type.
    Grant,
}

/// A policy and the role it plays in a decision.
#[derive(Clone, Copy, Debug)]
pub struct PolicyRef<'a> {
    /// The role.
    pub kind: PolicyType,
    /// The policy.
    pub policy: &'a Policy,
}

impl<'a> PolicyRef<'a> {
    /// Tags `policy` as `kind`.
    pub fn new(kind: PolicyType, policy: &'a Policy) -> Self {
        Self { kind, policy }
    }
}

/// The outcome of [`evaluate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Allowed; `by` is the kind of policy whose allow decided.
    Allow {
        /// The deciding policy's type.
        by: PolicyType,
    },
    /// A statement of a `by` policy denies it.
    ExplicitDeny {
        /// The first denying policy's type.
        by: PolicyType,
    },
    /// Nothing allows it.
    ImplicitDeny,
}

impl Decision {
    /// Whether the request may proceed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow { .. })
    }
}

impl Policy {
    /// What this policy alone says about `request`: `Deny` if any statement
    /// denies, else the strongest allow, else `NotApplicable`.
    pub fn evaluate(&self, request: &Request<'_>) -> Effect {
        let mut best = Effect::NotApplicable;
        for statement in &self.statements {
            let strength = statement.applies(request);
            if strength == PrincipalMatch::No {
                continue;
            }
            if !statement.allow {
                return Effect::Deny;
            }
            match strength {
                PrincipalMatch::Direct => best = Effect::Allow,
                PrincipalMatch::Account if best == Effect::NotApplicable => {
                    best = Effect::AccountAllow
                }
                _ => {}
            }
        }
        best
    }
}

impl Statement {
    /// Whether the statement applies to `request`, and how strongly it names
    /// the caller (`No` when it does not apply).
    fn applies(&self, request: &Request<'_>) -> PrincipalMatch {
        let strength = match &self.principal {
            None => PrincipalMatch::Direct,
            Some(spec) if spec.negated => {
                if spec.principals.excludes(&request.principal) {
                    return PrincipalMatch::No;
                }
                PrincipalMatch::Direct
            }
            Some(spec) => spec.principals.matches(&request.principal),
        };
        if strength == PrincipalMatch::No {
            return strength;
        }
        let action_listed = self
            .actions
            .items
            .iter()
            .any(|p| p.matches(request.action, Case::Insensitive));
        if action_listed == self.actions.negated {
            return PrincipalMatch::No;
        }
        if let Some(resources) = &self.resources {
            // Every variable in the list is resolved before the list is
            // read, rather than stopping at the first match: an
            // unresolvable variable makes the statement not apply (IAM User
            // Guide, "Variables and tags": a key that is not present means
            // "any attempt to match it fails and causes the statement to be
            // invalid"), whatever else the list holds and in whatever order.
            // Stopping early let `["*", "…/${aws:username}"]` apply to a
            // caller without a user name while the same list in the other
            // order did not.
            let mut listed = false;
            for pattern in &resources.items {
                let hit = match pattern {
                    ResourcePattern::Compiled(_) if listed => continue,
                    ResourcePattern::Compiled(p) => p.matches(request.resource, Case::Sensitive),
                    ResourcePattern::Template(t) => match t.resolve_pattern(request.context) {
                        Some(pieces) => matches_pieces(&pieces, request.resource, Case::Sensitive),
                        // Not applying, rather than letting `NotResource`
                        // match.
                        None => return PrincipalMatch::No,
                    },
                };
                listed |= hit;
            }
            if listed == resources.negated {
                return PrincipalMatch::No;
            }
        }
        if self
            .condition
            .as_ref()
            .is_some_and(|c| !c.holds(request.context))
        {
            return PrincipalMatch::No;
        }
        strength
    }
}

/// Combines the policies that bear on `request`, in AWS's order:
///
/// 1. an explicit deny in any policy denies;
/// 2. session policies and permissions boundaries, when any are given, only
///    narrow: unless one of each given type allows, nothing is allowed;
/// 3. a resource policy that allows the caller by name (or `*`) allows;
/// 4. an identity policy's allow counts when no resource policy is given
///    (IAM, STS GetCallerIdentity) or when a resource policy allows the
///    caller's account (the KMS key policy delegating to IAM);
/// 5. otherwise the request is implicitly denied.
///
/// KMS grants are checked by the KMS layer between steps 3 and 4 (a grant
/// allows without the key policy delegating). Cross-account rules (both
/// accounts must allow) and the special case where a resource policy naming
/// a role session directly escapes the session policy are not modelled: the
/// result is at worst stricter than AWS.
pub fn evaluate(policies: &[PolicyRef<'_>], request: &Request<'_>) -> Decision {
    let mut resource_direct = false;
    let mut resource_account = false;
    let mut any_resource = false;
    let mut identity_allows = false;
    // (given, allows) for the narrowing types.
    let mut session = (false, false);
    let mut boundary = (false, false);
    for p in policies {
        let effect = p.policy.evaluate(request);
        if effect == Effect::Deny {
            return Decision::ExplicitDeny { by: p.kind };
        }
        let allows = matches!(effect, Effect::Allow | Effect::AccountAllow);
        match p.kind {
            PolicyType::Resource => {
                any_resource = true;
                resource_direct |= effect == Effect::Allow;
                resource_account |= effect == Effect::AccountAllow;
            }
            PolicyType::Identity => identity_allows |= allows,
            PolicyType::Session => session = (true, session.1 || allows),
            PolicyType::PermissionsBoundary => boundary = (true, boundary.1 || allows),
            // Grants are not policy documents; a `Grant`-tagged policy is
            // treated like an identity policy would be, never more.
            PolicyType::Grant => identity_allows |= allows,
        }
    }
    let narrowed_out = (session.0 && !session.1) || (boundary.0 && !boundary.1);
    if narrowed_out {
        return Decision::ImplicitDeny;
    }
    if resource_direct {
        return Decision::Allow {
            by: PolicyType::Resource,
        };
    }
    if identity_allows && (!any_resource || resource_account) {
        return Decision::Allow {
            by: PolicyType::Identity,
        };
    }
    Decision::ImplicitDeny
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{AwsPrincipal, Context, Principal};
    use crate::parse::PolicyKind;

    const ACCT: &str = "111122223333";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const ROLE: &str = "arn:aws:iam::111122223333:role/KeyUsers";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/KeyUsers/app";

    /// The default key policy (KMS Developer Guide, "Default key policy").
    const KEY_DEFAULT: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

    fn policy(kind: PolicyKind, text: &str) -> Policy {
        Policy::parse(text, kind).unwrap_or_else(|e| panic!("{text}: {e} {:?}", e.detail()))
    }

    fn alice() -> Principal<'static> {
        Principal::Aws(AwsPrincipal::new(ALICE, ACCT))
    }

    fn app_session() -> Principal<'static> {
        Principal::Aws(AwsPrincipal::session(SESSION, ACCT, ROLE))
    }

    fn decide(
        policies: &[PolicyRef<'_>],
        action: &str,
        who: Principal<'_>,
        ctx: &Context<'_>,
    ) -> Decision {
        evaluate(policies, &Request::new(action, KEY, who, ctx))
    }

    fn identity_allowing(action: &str) -> Policy {
        policy(
            PolicyKind::Identity,
            &format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"arn:aws:kms:*:111122223333:key/*"}}}}"#
            ),
        )
    }

    #[test]
    fn default_key_policy_delegates_to_iam() {
        let key = policy(PolicyKind::Resource, KEY_DEFAULT);
        let ctx = Context::new();
        let req = Request::new("kms:Decrypt", KEY, alice(), &ctx);
        assert_eq!(key.evaluate(&req), Effect::AccountAllow);

        // Key policy alone: the account is named, not alice.
        assert_eq!(
            decide(
                &[PolicyRef::new(PolicyType::Resource, &key)],
                "kms:Decrypt",
                alice(),
                &ctx
            ),
            Decision::ImplicitDeny
        );
        // With an IAM policy allowing it: allowed, by the identity policy.
        let iam = identity_allowing("kms:Decrypt");
        let both = [
            PolicyRef::new(PolicyType::Resource, &key),
            PolicyRef::new(PolicyType::Identity, &iam),
        ];
        assert_eq!(
            decide(&both, "kms:Decrypt", alice(), &ctx),
            Decision::Allow {
                by: PolicyType::Identity
            }
        );
        // The IAM policy does not cover Encrypt.
        assert_eq!(
            decide(&both, "kms:Encrypt", alice(), &ctx),
            Decision::ImplicitDeny
        );
        // The root user is named directly.
        let root = Principal::Aws(AwsPrincipal::new("arn:aws:iam::111122223333:root", ACCT));
        assert_eq!(
            decide(
                &[PolicyRef::new(PolicyType::Resource, &key)],
                "kms:ScheduleKeyDeletion",
                root,
                &ctx
            ),
            Decision::Allow {
                by: PolicyType::Resource
            }
        );
        // Another account gets nothing, whatever its IAM policies say.
        let eve = Principal::Aws(AwsPrincipal::new(
            "arn:aws:iam::444455556666:user/eve",
            "444455556666",
        ));
        assert_eq!(
            decide(&both, "kms:Decrypt", eve, &ctx),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn identity_policy_without_delegation_does_not_allow() {
        let key = policy(
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/admin"},"Action":"kms:*","Resource":"*"}]}"#,
        );
        let iam = identity_allowing("kms:*");
        let ctx = Context::new();
        let set = [
            PolicyRef::new(PolicyType::Resource, &key),
            PolicyRef::new(PolicyType::Identity, &iam),
        ];
        assert_eq!(
            decide(&set, "kms:Decrypt", alice(), &ctx),
            Decision::ImplicitDeny
        );
        // No resource policy at all (an IAM action): the identity policy decides.
        assert_eq!(
            decide(
                &[PolicyRef::new(PolicyType::Identity, &iam)],
                "kms:Decrypt",
                alice(),
                &ctx
            ),
            Decision::Allow {
                by: PolicyType::Identity
            }
        );
    }

    #[test]
    fn key_policy_naming_a_role_allows_its_sessions() {
        // KMS Developer Guide: allowing key users to use the key.
        let key = policy(
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Allow use of the key","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KeyUsers"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"}]}"#,
        );
        let ctx = Context::new();
        let set = [PolicyRef::new(PolicyType::Resource, &key)];
        for action in [
            "kms:Encrypt",
            "kms:ReEncryptFrom",
            "kms:GenerateDataKeyWithoutPlaintext",
            "KMS:describekey",
        ] {
            assert_eq!(
                decide(&set, action, app_session(), &ctx),
                Decision::Allow {
                    by: PolicyType::Resource
                },
                "{action}"
            );
        }
        assert_eq!(
            decide(&set, "kms:ScheduleKeyDeletion", app_session(), &ctx),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&set, "kms:Encrypt", alice(), &ctx),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn encryption_context_condition() {
        let key = policy(
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"acme"}}}]}"#,
        );
        let set = [PolicyRef::new(PolicyType::Resource, &key)];
        let mut acme = Context::new();
        acme.insert("kms:EncryptionContext:tenant", "acme");
        let mut other = Context::new();
        other.insert("kms:EncryptionContext:tenant", "globex");
        assert_eq!(
            decide(&set, "kms:Decrypt", alice(), &acme),
            Decision::Allow {
                by: PolicyType::Resource
            }
        );
        assert_eq!(
            decide(&set, "kms:Decrypt", alice(), &other),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide(&set, "kms:Decrypt", alice(), &Context::new()),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn encryption_context_keys_with_set_operator() {
        // KMS Developer Guide (kms:EncryptionContextKeys): require only
        // listed keys with ForAllValues, and at least one with ForAnyValue.
        let key = policy(
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"kms:EncryptionContextKeys":["Department","Project"]}}}]}"#,
        );
        let iam = identity_allowing("kms:*");
        let set = [
            PolicyRef::new(PolicyType::Resource, &key),
            PolicyRef::new(PolicyType::Identity, &iam),
        ];
        let mut good = Context::new();
        good.insert_many("kms:EncryptionContextKeys", ["Project"]);
        let mut bad = Context::new();
        bad.insert_many("kms:EncryptionContextKeys", ["Project", "Owner"]);
        assert_eq!(
            decide(&set, "kms:Encrypt", alice(), &good),
            Decision::Allow {
                by: PolicyType::Identity
            }
        );
        assert_eq!(
            decide(&set, "kms:Encrypt", alice(), &bad),
            Decision::ExplicitDeny {
                by: PolicyType::Resource
            }
        );
        assert_eq!(
            decide(&set, "kms:Encrypt", alice(), &Context::new()),
            Decision::Allow {
                by: PolicyType::Identity
            }
        );
    }

    #[test]
    fn explicit_deny_wins_and_names_its_source() {
        let key = policy(PolicyKind::Resource, KEY_DEFAULT);
        let allow = identity_allowing("kms:*");
        let deny = policy(
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kms:ScheduleKeyDeletion","Resource":"*"}}"#,
        );
        let ctx = Context::new();
        let set = [
            PolicyRef::new(PolicyType::Resource, &key),
            PolicyRef::new(PolicyType::Identity, &allow),
            PolicyRef::new(PolicyType::Identity, &deny),
        ];
        assert_eq!(
            decide(&set, "kms:ScheduleKeyDeletion", alice(), &ctx),
            Decision::ExplicitDeny {
                by: PolicyType::Identity
            }
        );
        assert_eq!(
            decide(&set, "kms:Decrypt", alice(), &ctx),
            Decision::Allow {
                by: PolicyType::Identity
            }
        );

        // A key-policy deny on everyone but the admins (NotPrincipal).
        let guarded = policy(
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/admin","arn:aws:iam::111122223333:root"]},"Action":"kms:ScheduleKeyDeletion","Resource":"*"}]}"#,
        );
        let set = [PolicyRef::new(PolicyType::Resource, &guarded)];
        let admin = Principal::Aws(AwsPrincipal::new(
            "arn:aws:iam::111122223333:user/admin",
            ACCT,
        ));
        assert_eq!(
            decide(&set, "kms:ScheduleKeyDeletion", admin, &ctx),
            Decision::Allow {
                by: PolicyType::Resource
            }
        );
        assert_eq!(
            decide(&set, "kms:ScheduleKeyDeletion", alice(), &ctx),
            Decision::ExplicitDeny {
                by: PolicyType::Resource
            }
        );
        assert!(!decide(&set, "kms:ScheduleKeyDeletion", alice(), &ctx).is_allowed());
    }

    #[test]
    fn session_policies_and_boundaries_only_narrow() {
        let key = policy(PolicyKind::Resource, KEY_DEFAULT);
        let iam = identity_allowing("kms:*");
        let session = policy(
            PolicyKind::Session,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}}"#,
        );
        let boundary = policy(
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}}"#,
        );
        let ctx = Context::new();
        let with_session = [
            PolicyRef::new(PolicyType::Resource, &key),
            PolicyRef::new(PolicyType::Identity, &iam),
            PolicyRef::new(PolicyType::Session, &session),
        ];
        assert_eq!(
            decide(&with_session, "kms:Encrypt", app_session(), &ctx),
            Decision::Allow {
                by: PolicyType::Identity
            }
        );
        assert_eq!(
            decide(&with_session, "kms:CreateGrant", app_session(), &ctx),
            Decision::ImplicitDeny
        );
        // A session policy never grants on its own.
        assert_eq!(
            decide(
                &[
                    PolicyRef::new(PolicyType::Resource, &key),
                    PolicyRef::new(PolicyType::Session, &session)
                ],
                "kms:Encrypt",
                app_session(),
                &ctx
            ),
            Decision::ImplicitDeny
        );
        let with_boundary = [
            PolicyRef::new(PolicyType::Resource, &key),
            PolicyRef::new(PolicyType::Identity, &iam),
            PolicyRef::new(PolicyType::Session, &session),
            PolicyRef::new(PolicyType::PermissionsBoundary, &boundary),
        ];
        assert_eq!(
            decide(&with_boundary, "kms:Decrypt", app_session(), &ctx),
            Decision::Allow {
                by: PolicyType::Identity
            }
        );
        assert_eq!(
            decide(&with_boundary, "kms:Encrypt", app_session(), &ctx),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn trust_policy_for_assume_role() {
        let trust = policy(
            PolicyKind::Trust,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#,
        );
        let role = "arn:aws:iam::111122223333:role/KeyUsers";
        let mut mfa = Context::new();
        mfa.insert_bool("aws:MultiFactorAuthPresent", true);
        let set = [PolicyRef::new(PolicyType::Resource, &trust)];
        assert_eq!(
            evaluate(&set, &Request::new("sts:AssumeRole", role, alice(), &mfa)),
            Decision::Allow {
                by: PolicyType::Resource
            }
        );
        assert_eq!(
            evaluate(
                &set,
                &Request::new("sts:AssumeRole", role, alice(), &Context::new())
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(&set, &Request::new("sts:TagSession", role, alice(), &mfa)),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn not_action_and_not_resource() {
        let p = policy(
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"kms:Schedule*","NotResource":"arn:aws:kms:*:111122223333:key/secret-*"}]}"#,
        );
        let ctx = Context::new();
        let check = |action: &str, resource: &str| {
            p.evaluate(&Request::new(action, resource, alice(), &ctx))
        };
        assert_eq!(check("kms:Decrypt", KEY), Effect::Allow);
        assert_eq!(check("kms:ScheduleKeyDeletion", KEY), Effect::NotApplicable);
        assert_eq!(
            check(
                "kms:Decrypt",
                "arn:aws:kms:eu-west-1:111122223333:key/secret-1"
            ),
            Effect::NotApplicable
        );
    }

    #[test]
    fn resource_variables() {
        let v2012 = policy(
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}}"#,
        );
        let v2008 = policy(
            PolicyKind::Identity,
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}}"#,
        );
        let mut ctx = Context::new();
        ctx.insert("aws:username", "alice");
        let req = Request::new("iam:CreateAccessKey", ALICE, alice(), &ctx);
        assert_eq!(v2012.evaluate(&req), Effect::Allow);
        assert_eq!(v2008.evaluate(&req), Effect::NotApplicable);
        let bob = Request::new(
            "iam:CreateAccessKey",
            "arn:aws:iam::111122223333:user/bob",
            alice(),
            &ctx,
        );
        assert_eq!(v2012.evaluate(&bob), Effect::NotApplicable);
        // No aws:username (a role session): the statement does not apply,
        // even as a NotResource.
        let empty = Context::new();
        assert_eq!(
            v2012.evaluate(&Request::new(
                "iam:CreateAccessKey",
                ALICE,
                app_session(),
                &empty
            )),
            Effect::NotApplicable
        );
        let not = policy(
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","NotResource":"arn:aws:iam::111122223333:user/${aws:username}"}}"#,
        );
        assert_eq!(
            not.evaluate(&Request::new("iam:GetUser", ALICE, app_session(), &empty)),
            Effect::NotApplicable
        );
        assert_eq!(
            not.evaluate(&Request::new(
                "iam:GetUser",
                "arn:aws:iam::111122223333:user/bob",
                alice(),
                &ctx
            )),
            Effect::Allow
        );
    }

    #[test]
    fn unresolvable_resource_variable_voids_the_statement_in_any_order() {
        // IAM User Guide, "Variables and tags": for a key that is not
        // present, "any attempt to match it fails and causes the statement
        // to be invalid". A role session has no aws:username.
        let empty = Context::new();
        let mut named = Context::new();
        named.insert("aws:username", "alice");
        let var = "arn:aws:iam::111122223333:user/${aws:username}";
        // (member, resource list, context has aws:username, expected)
        let cases: &[(&str, &[&str], bool, Effect)] = &[
            ("Resource", &[var, "*"], false, Effect::NotApplicable),
            ("Resource", &["*", var], false, Effect::NotApplicable),
            ("NotResource", &[var], false, Effect::NotApplicable),
            (
                "NotResource",
                &["arn:aws:s3:::x", var],
                false,
                Effect::NotApplicable,
            ),
            ("Resource", &[var, "*"], true, Effect::Allow),
            ("Resource", &["*", var], true, Effect::Allow),
            ("Resource", &["arn:aws:s3:::x", var], true, Effect::Allow),
            ("NotResource", &[var], true, Effect::NotApplicable),
        ];
        for &(member, resources, has_name, want) in cases {
            let text = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": {"Effect": "Allow", "Action": "iam:GetUser", member: resources},
            })
            .to_string();
            let p = policy(PolicyKind::Identity, &text);
            let ctx = if has_name { &named } else { &empty };
            assert_eq!(
                p.evaluate(&Request::new("iam:GetUser", ALICE, alice(), ctx)),
                want,
                "{text} with aws:username: {has_name}"
            );
        }
    }

    #[test]
    fn parsed_policies_can_be_cached_and_shared() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Policy>();
        shareable::<Decision>();
    }

    #[test]
    fn deny_by_account_principal_is_a_deny() {
        let key = policy(
            PolicyKind::Resource,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
        );
        let mut insecure = Context::new();
        insecure.insert_bool("aws:SecureTransport", false);
        let set = [PolicyRef::new(PolicyType::Resource, &key)];
        assert_eq!(
            decide(&set, "kms:Decrypt", alice(), &insecure),
            Decision::ExplicitDeny {
                by: PolicyType::Resource
            }
        );
        let mut secure = Context::new();
        secure.insert_bool("aws:SecureTransport", true);
        assert_eq!(
            decide(&set, "kms:Decrypt", alice(), &secure),
            Decision::Allow {
                by: PolicyType::Resource
            }
        );
    }
}
