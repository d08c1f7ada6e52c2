//! Reading and validating a policy document.
//!
//! The document is read into `serde_json::Value` first and walked by hand,
//! rather than derived with serde, because IAM's grammar is loose in ways
//! derive handles badly (a member holds a string *or* a list, `Statement`
//! is an object *or* a list, condition values are strings, numbers or
//! booleans) and because the error must be IAM's message, not serde's.
//!
//! Checks run in passes, in the order moto (written against AWS) uses, so
//! that a document with several faults gets the message IAM would give:
//! grammar, then legacy parsing, then which members the kind of policy
//! allows, then SIDs, actions, resources, and finally the shape of resources
//! and actions.

use serde_json::{Map, Value};

use crate::condition::Condition;
use crate::error::PolicyError;
use crate::principal::Principals;
use crate::variables::Template;
use crate::wildcard::Pattern;

/// What a policy document is attached to, which decides the members it
/// must and must not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role: no `Principal`.
    Identity,
    /// Attached to a resource (a KMS key policy): `Principal` or
    /// `NotPrincipal` required.
    Resource,
    /// A role's trust policy: `Principal` required, no `Resource`.
    Trust,
    /// Passed to AssumeRole to narrow a session: as an identity policy.
    Session,
}

/// The policy language version (the `Version` member).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2008-10-17`, or no `Version`: `${…}` is literal text.
    V2008_10_17,
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
}

/// A parsed, valid policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    text: String,
    kind: PolicyKind,
    version: Option<Version>,
    id: Option<String>,
    pub(crate) statements: Vec<Statement>,
}

/// One statement, compiled for evaluation.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) allow: bool,
    pub(crate) principal: Option<PrincipalSpec>,
    pub(crate) actions: Negatable<Vec<Pattern>>,
    /// `None` in trust policies, which have no resource.
    pub(crate) resources: Option<Negatable<Vec<ResourcePattern>>>,
    pub(crate) condition: Option<Condition>,
}

/// An element and its `Not…` form.
#[derive(Clone, Debug)]
pub(crate) struct Negatable<T> {
    pub(crate) negated: bool,
    pub(crate) items: T,
}

#[derive(Clone, Debug)]
pub(crate) struct PrincipalSpec {
    pub(crate) negated: bool,
    pub(crate) principals: Principals,
}

#[derive(Clone, Debug)]
pub(crate) enum ResourcePattern {
    Compiled(Pattern),
    Template(Template),
}

const TOP_LEVEL: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_MEMBERS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// A statement after the grammar pass, before the semantic checks.
struct Draft<'v> {
    sid: Option<String>,
    effect: &'v str,
    principal: Option<PrincipalSpec>,
    actions: Option<Negatable<Vec<&'v str>>>,
    resources: Option<Negatable<Vec<&'v str>>>,
    resource_member: Option<&'static str>,
    condition: Option<Condition>,
}

impl Policy {
    /// Parses and validates `text` as a policy of `kind`.
    ///
    /// Sizes are not checked (each caller has its own limit), and neither is
    /// the existence of the principals named: see [`Policy::principal_arns`].
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        let json: Value = serde_json::from_str(text).map_err(|e| match kind {
            PolicyKind::Trust => PolicyError::InvalidJson,
            _ => PolicyError::syntax(format!("not JSON: {e}")),
        })?;
        let Value::Object(top) = &json else {
            return Err(PolicyError::syntax("the document is not a JSON object"));
        };
        if let Some(unknown) = top.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
            return Err(PolicyError::syntax(format!("unknown field {unknown}")));
        }
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" => Some(Version::V2012_10_17),
            Some(Value::String(v)) if v == "2008-10-17" => Some(Version::V2008_10_17),
            Some(other) => return Err(PolicyError::syntax(format!("unsupported Version {other}"))),
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return Err(PolicyError::syntax("Id is not a string")),
        };
        let statements: Vec<&Map<String, Value>> = match top.get("Statement") {
            Some(Value::Object(one)) => vec![one],
            Some(Value::Array(many)) if !many.is_empty() => many
                .iter()
                .map(|s| {
                    s.as_object()
                        .ok_or_else(|| PolicyError::syntax("a statement is not an object"))
                })
                .collect::<Result<_, _>>()?,
            Some(Value::Array(_)) => return Err(PolicyError::syntax("empty Statement list")),
            Some(_) => {
                return Err(PolicyError::syntax(
                    "Statement is neither an object nor a list",
                ));
            }
            None => return Err(PolicyError::syntax("missing Statement")),
        };
        let variables = version == Some(Version::V2012_10_17);

        // Pass 1: the grammar of every statement.
        let drafts = statements
            .iter()
            .map(|s| Draft::read(s, variables))
            .collect::<Result<Vec<_>, _>>()?;

        // Pass 2: legacy parsing. IAM's older parser wants `Allow`/`Deny`
        // spelt exactly; the grammar accepts any case.
        if let Some(d) = drafts
            .iter()
            .find(|d| d.effect != "Allow" && d.effect != "Deny")
        {
            return Err(PolicyError::legacy(format!(
                "Effect {} is not spelt Allow or Deny",
                d.effect
            )));
        }

        // Pass 3: members the kind of policy requires or forbids.
        for d in &drafts {
            match kind {
                PolicyKind::Identity | PolicyKind::Session if d.principal.is_some() => {
                    return Err(PolicyError::PrincipalNotAllowed);
                }
                PolicyKind::Resource | PolicyKind::Trust if d.principal.is_none() => {
                    return Err(PolicyError::MissingField("Principal"));
                }
                _ => {}
            }
            if kind == PolicyKind::Trust
                && let Some(member) = d.resource_member
            {
                return Err(PolicyError::ProhibitedField(member));
            }
            if d.effect == "Allow" && d.principal.as_ref().is_some_and(|p| p.negated) {
                return Err(PolicyError::NotPrincipalWithAllow);
            }
        }

        // Pass 4: statement ids.
        let mut seen = std::collections::HashSet::new();
        for sid in drafts
            .iter()
            .filter_map(|d| d.sid.as_deref())
            .filter(|s| !s.is_empty())
        {
            if !seen.insert(sid) {
                return Err(PolicyError::DuplicateSid);
            }
        }

        // Pass 5: actions and resources present.
        if drafts
            .iter()
            .any(|d| d.actions.as_ref().is_none_or(|a| a.items.is_empty()))
        {
            return Err(PolicyError::MissingActions);
        }
        if kind != PolicyKind::Trust
            && drafts
                .iter()
                .any(|d| d.resources.as_ref().is_none_or(|r| r.items.is_empty()))
        {
            return Err(PolicyError::MissingResources);
        }

        // Pass 6: the shape of each resource and action.
        for d in &drafts {
            for r in d.resources.iter().flat_map(|r| &r.items) {
                if *r != "*" && !r.contains(':') {
                    return Err(PolicyError::ResourceFormat((*r).to_owned()));
                }
            }
        }
        for d in &drafts {
            for a in d.actions.iter().flat_map(|a| &a.items) {
                check_action(a)?;
            }
        }

        let statements = drafts.into_iter().map(|d| d.compile(variables)).collect();
        Ok(Self {
            text: text.to_owned(),
            kind,
            version,
            id,
            statements,
        })
    }

    /// The document exactly as given, for GetKeyPolicy and GetRolePolicy.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The kind it was validated as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The `Version` member; `None` when absent (treated as 2008-10-17).
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The `Id` member.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// Whether a statement's `Condition` tests the key `name`: lets a caller
    /// skip computing a costly condition key no policy reads.
    pub fn mentions_condition_key(&self, name: &str) -> bool {
        self.statements
            .iter()
            .filter_map(|s| s.condition.as_ref())
            .any(|c| c.mentions(name))
    }

    /// Every `AWS` principal named in `Principal` or `NotPrincipal`, as
    /// written (`*` left out): account ids, root ARNs, user, role and session
    /// ARNs. AWS refuses a policy naming a principal that does not exist;
    /// the caller, which knows the users and roles, checks these.
    pub fn principal_arns(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter_map(|s| s.principal.as_ref())
            .flat_map(|p| p.principals.aws_names())
            .collect()
    }
}

impl<'v> Draft<'v> {
    fn read(s: &'v Map<String, Value>, variables: bool) -> Result<Self, PolicyError> {
        if let Some(unknown) = s.keys().find(|k| !STATEMENT_MEMBERS.contains(&k.as_str())) {
            return Err(PolicyError::syntax(format!("unknown field {unknown}")));
        }
        let sid = match s.get("Sid") {
            None => None,
            Some(Value::String(sid)) => Some(sid.clone()),
            Some(_) => return Err(PolicyError::syntax("Sid is not a string")),
        };
        let effect = match s.get("Effect") {
            Some(Value::String(e))
                if e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny") =>
            {
                e.as_str()
            }
            Some(_) => return Err(PolicyError::syntax("Effect is not Allow or Deny")),
            None => return Err(PolicyError::syntax("missing Effect")),
        };
        let principal = match either(s, "Principal", "NotPrincipal")? {
            None => None,
            Some((negated, value)) => Some(PrincipalSpec {
                negated,
                principals: Principals::parse(value)?,
            }),
        };
        let actions = either(s, "Action", "NotAction")?
            .map(|(negated, v)| strings(v, "Action").map(|items| Negatable { negated, items }))
            .transpose()?;
        let resource_member = if s.contains_key("Resource") {
            Some("Resource")
        } else if s.contains_key("NotResource") {
            Some("NotResource")
        } else {
            None
        };
        let resources = either(s, "Resource", "NotResource")?
            .map(|(negated, v)| strings(v, "Resource").map(|items| Negatable { negated, items }))
            .transpose()?;
        let condition = s
            .get("Condition")
            .map(|c| Condition::parse(c, variables))
            .transpose()?;
        Ok(Self {
            sid,
            effect,
            principal,
            actions,
            resources,
            resource_member,
            condition,
        })
    }

    fn compile(self, variables: bool) -> Statement {
        let actions = self.actions.map_or_else(
            || Negatable {
                negated: false,
                items: Vec::new(),
            },
            |a| Negatable {
                negated: a.negated,
                items: a.items.iter().map(|s| Pattern::new(s)).collect(),
            },
        );
        let resources = self.resources.map(|r| Negatable {
            negated: r.negated,
            items: r
                .items
                .iter()
                .map(|s| match variables.then(|| Template::parse(s)).flatten() {
                    Some(t) => ResourcePattern::Template(t),
                    None => ResourcePattern::Compiled(Pattern::new(s)),
                })
                .collect(),
        });
        Statement {
            allow: self.effect == "Allow",
            principal: self.principal,
            actions,
            resources,
            condition: self.condition,
        }
    }
}

/// The member `plain` or `not` (at most one of them), and which it was.
fn either<'v>(
    s: &'v Map<String, Value>,
    plain: &str,
    not: &str,
) -> Result<Option<(bool, &'v Value)>, PolicyError> {
    match (s.get(plain), s.get(not)) {
        (Some(_), Some(_)) => Err(PolicyError::syntax(format!("both {plain} and {not}"))),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

/// A string or a list of strings (possibly empty: the emptiness is reported
/// by a later pass, with its own message).
fn strings<'v>(value: &'v Value, member: &str) -> Result<Vec<&'v str>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .ok_or_else(|| PolicyError::syntax(format!("{member} holds a non-string")))
            })
            .collect(),
        _ => Err(PolicyError::syntax(format!(
            "{member} is neither a string nor a list"
        ))),
    }
}

/// `*`, or `service:Action` where the service is letters, digits, `-`, `.`
/// (or a lone `*`) and there is exactly one colon.
fn check_action(action: &str) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    let mut parts = action.split(':');
    let vendor = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (None, _) => return Err(PolicyError::ActionWithoutVendor),
        (Some(_), Some(_)) => return Err(PolicyError::ActionColons),
        (Some(_), None) => {}
    }
    let valid = vendor == "*"
        || (!vendor.is_empty()
            && vendor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    if valid {
        Ok(())
    } else {
        Err(PolicyError::InvalidVendor(vendor.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_DEFAULT: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

    #[test]
    fn parses_the_default_key_policy() {
        let p = Policy::parse(KEY_DEFAULT, PolicyKind::Resource).expect("valid");
        assert_eq!(p.text(), KEY_DEFAULT);
        assert_eq!(p.id(), Some("key-default-1"));
        assert_eq!(p.version(), Some(Version::V2012_10_17));
        assert_eq!(p.kind(), PolicyKind::Resource);
        assert_eq!(p.statement_count(), 1);
        assert_eq!(p.principal_arns(), ["arn:aws:iam::111122223333:root"]);
    }

    #[test]
    fn says_which_condition_keys_it_tests() {
        let p = Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"ForAnyValue:StringLike":{"KMS:ResourceAliases":"alias/app-*"}}}]}"#,
            PolicyKind::Identity,
        )
        .expect("valid");
        assert!(p.mentions_condition_key("kms:ResourceAliases"));
        assert!(!p.mentions_condition_key("kms:RequestAlias"));
        let plain = Policy::parse(KEY_DEFAULT, PolicyKind::Resource).expect("valid");
        assert!(!plain.mentions_condition_key("kms:ResourceAliases"));
    }

    #[test]
    fn statement_may_be_a_single_object_and_version_absent() {
        let p = Policy::parse(
            r#"{"Statement":{"Effect":"Deny","Action":["kms:*"],"Resource":["*"]}}"#,
            PolicyKind::Identity,
        )
        .expect("valid");
        assert_eq!(p.version(), None);
        assert_eq!(p.statement_count(), 1);
    }

    #[test]
    fn trust_policy() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/ci"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let p = Policy::parse(text, PolicyKind::Trust).expect("valid");
        assert_eq!(
            p.principal_arns(),
            ["111122223333", "arn:aws:iam::444455556666:role/ci"]
        );
    }

    /// (kind, document, expected message)
    const REFUSED: &[(PolicyKind, &str, &str)] = &[
        (PolicyKind::Identity, "not json", "Syntax errors in policy."),
        (PolicyKind::Trust, "{", "This policy contains invalid Json"),
        (PolicyKind::Identity, "[]", "Syntax errors in policy."),
        (PolicyKind::Identity, "null", "Syntax errors in policy."),
        (
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17"}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Foo":1,"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Foo":1}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","NotAction":"kms:Decrypt","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","NotResource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":7,"Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Maybe","Action":"kms:*","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Action":"kms:*","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"allow","Action":"kms:*","Resource":"*"}}"#,
            "The policy failed legacy parsing",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"soon"}}}}"#,
            "The policy failed legacy parsing",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}"#,
            "Policy document should not specify a principal.",
        ),
        (
            PolicyKind::Session,
            r#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#,
            "Policy document should not specify a principal.",
        ),
        (
            PolicyKind::Resource,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
            "Missing required field Principal",
        ),
        (
            PolicyKind::Trust,
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
            "Missing required field Principal",
        ),
        (
            PolicyKind::Trust,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
            "Has prohibited field Resource",
        ),
        (
            PolicyKind::Trust,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","NotResource":"*"}}"#,
            "Has prohibited field NotResource",
        ),
        (
            PolicyKind::Resource,
            r#"{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#,
            "NotPrincipal is supported only with the Deny effect.",
        ),
        (
            PolicyKind::Resource,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Principal2":1}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Resource,
            r#"{"Statement":{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"kms:*","Resource":"*"}}"#,
            "Syntax errors in policy.",
        ),
        (
            PolicyKind::Resource,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"kms:*","Resource":"*"}}"#,
            "Invalid principal in policy: \"AWS\":\"alice\"",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"kms:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"kms:*","Resource":"*"}]}"#,
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "Policy statement must contain actions.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}"#,
            "Policy statement must contain actions.",
        ),
        (
            PolicyKind::Trust,
            r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}}"#,
            "Policy statement must contain actions.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*"}}"#,
            "Policy statement must contain resources.",
        ),
        (
            PolicyKind::Resource,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":[]}}"#,
            "Policy statement must contain resources.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"my-key"}}"#,
            "Resource my-key must be in ARN format or \"*\".",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"Decrypt","Resource":"*"}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:a:b","Resource":"*"}}"#,
            "Actions/Condition can contain only one colon.",
        ),
        (
            PolicyKind::Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"k m s:Decrypt","Resource":"*"}}"#,
            "Vendor k m s is not valid",
        ),
    ];

    #[test]
    fn refusals_carry_iams_messages() {
        for (kind, text, message) in REFUSED {
            let err = Policy::parse(text, *kind).expect_err(text);
            assert_eq!(err.to_string(), *message, "{kind:?} {text}");
        }
    }

    #[test]
    fn syntax_errors_keep_a_detail_for_logs() {
        let err = Policy::parse(
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Foo":1}}"#,
            PolicyKind::Identity,
        )
        .expect_err("unknown member");
        assert_eq!(err.detail(), Some("unknown field Foo"));
        assert_eq!(PolicyError::MissingActions.detail(), None);
    }

    #[test]
    fn accepts_the_grammar_variants() {
        for (kind, text) in [
            (
                PolicyKind::Identity,
                r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":["arn:aws:iam::111122223333:user/x"]}]}"#,
            ),
            (
                PolicyKind::Identity,
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}]}"#,
            ),
            (
                PolicyKind::Identity,
                r#"{"Statement":[{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
            (
                PolicyKind::Resource,
                r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/a"]},"Action":"kms:*","Resource":"*"}]}"#,
            ),
            (
                PolicyKind::Resource,
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333","kms:ViaService":["a","b"]},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"kms:RotationPeriodInDays":100}}}]}"#,
            ),
            (
                PolicyKind::Session,
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*:Describe*","Resource":"*"}}"#,
            ),
        ] {
            Policy::parse(text, kind).unwrap_or_else(|e| panic!("{text}: {e} ({:?})", e.detail()));
        }
    }
}
