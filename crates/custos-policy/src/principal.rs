//! `Principal` and `NotPrincipal`: who a resource or trust policy statement
//! is about.
//!
//! AWS principals are compiled to one of three forms: everyone (`"*"`), an
//! account (`"111122223333"` or `arn:aws:iam::111122223333:root`, the two
//! being the same principal), or one ARN (a user, a role, a role session, a
//! federated user). Naming an account is weaker than naming the caller: in a
//! KMS key policy it delegates to the account's IAM policies instead of
//! granting access itself, so a match reports which of the two it was.

use serde_json::Value;

use crate::context::{AwsPrincipal, Principal};
use crate::error::PolicyError;

/// A parsed `Principal` or `NotPrincipal` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Principals {
    /// `"Principal": "*"`.
    everyone: bool,
    aws: Vec<AwsEntry>,
    services: Vec<Box<str>>,
    federated: Vec<Box<str>>,
    /// S3 canonical user ids: kept so documents round-trip in validation,
    /// never matched (Custos has no canonical users).
    canonical: Vec<Box<str>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct AwsEntry {
    /// The text as written, for [`crate::Policy::principal_arns`].
    raw: Box<str>,
    kind: AwsKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum AwsKind {
    Everyone,
    Account(Box<str>),
    Arn(Box<str>),
}

/// How strongly a principal element names the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PrincipalMatch {
    No,
    /// Through the caller's account only.
    Account,
    /// By the caller's own ARN, its role's ARN, or `*`.
    Direct,
}

impl Principals {
    pub(crate) fn parse(value: &Value) -> Result<Self, PolicyError> {
        let mut out = Self {
            everyone: false,
            aws: Vec::new(),
            services: Vec::new(),
            federated: Vec::new(),
            canonical: Vec::new(),
        };
        match value {
            Value::String(s) if s == "*" => out.everyone = true,
            Value::Object(map) if !map.is_empty() => {
                for (kind, names) in map {
                    let names = string_list(names).ok_or_else(|| {
                        PolicyError::syntax(format!(
                            "principal {kind} is not a string or list of strings"
                        ))
                    })?;
                    for name in names {
                        match kind.as_str() {
                            "AWS" => out.aws.push(AwsEntry {
                                kind: parse_aws(name)?,
                                raw: name.into(),
                            }),
                            "Service" => out.services.push(non_empty(kind, name)?),
                            "Federated" => out.federated.push(non_empty(kind, name)?),
                            "CanonicalUser" => out.canonical.push(non_empty(kind, name)?),
                            _ => return Err(invalid(kind, name)),
                        }
                    }
                }
            }
            _ => {
                return Err(PolicyError::syntax(
                    "principal is neither \"*\" nor an object",
                ));
            }
        }
        Ok(out)
    }

    /// The `AWS` entries as written, `*` left out.
    pub(crate) fn aws_names(&self) -> impl Iterator<Item = &str> {
        self.aws
            .iter()
            .filter(|e| e.kind != AwsKind::Everyone)
            .map(|e| &*e.raw)
    }

    /// How this element, used as `Principal`, names `who`.
    pub(crate) fn matches(&self, who: &Principal<'_>) -> PrincipalMatch {
        if self.everyone {
            return PrincipalMatch::Direct;
        }
        match who {
            Principal::Aws(p) => self
                .aws
                .iter()
                .map(|e| e.matches(p))
                .max()
                .unwrap_or(PrincipalMatch::No),
            // `{"AWS": "*"}` is documented as the same as `"*"`.
            Principal::Service(s) => self.named(&self.services, s),
            Principal::Federated(f) => self.named(&self.federated, f),
        }
    }

    /// Whether this element, used as `NotPrincipal`, leaves `who` out of the
    /// statement. AWS evaluates a `NotPrincipal` against each identity a
    /// caller has and documents that all must be listed (a role session is
    /// excluded only if the session, its role and its account are named), so
    /// here every identity must be named; anything less keeps the caller in
    /// the (`Deny`) statement.
    pub(crate) fn excludes(&self, who: &Principal<'_>) -> bool {
        if self.everyone {
            return true;
        }
        match who {
            Principal::Aws(p) => {
                let any = self.aws.iter().any(|e| e.kind == AwsKind::Everyone);
                let arn_named = |arn: &str| {
                    any || self
                        .aws
                        .iter()
                        .any(|e| matches!(&e.kind, AwsKind::Arn(a) if **a == *arn))
                };
                let account_named = any
                    || self
                        .aws
                        .iter()
                        .any(|e| matches!(&e.kind, AwsKind::Account(a) if **a == *p.account));
                let self_named = if p.is_root() {
                    account_named
                } else {
                    arn_named(p.arn)
                };
                self_named && account_named && p.role_arn.is_none_or(arn_named)
            }
            Principal::Service(s) => self.named(&self.services, s) == PrincipalMatch::Direct,
            Principal::Federated(f) => self.named(&self.federated, f) == PrincipalMatch::Direct,
        }
    }

    fn named(&self, list: &[Box<str>], name: &str) -> PrincipalMatch {
        let any_aws = self.aws.iter().any(|e| e.kind == AwsKind::Everyone);
        if any_aws || list.iter().any(|n| n.eq_ignore_ascii_case(name)) {
            PrincipalMatch::Direct
        } else {
            PrincipalMatch::No
        }
    }
}

impl AwsEntry {
    fn matches(&self, p: &AwsPrincipal<'_>) -> PrincipalMatch {
        match &self.kind {
            AwsKind::Everyone => PrincipalMatch::Direct,
            // The account principal names the root user itself directly.
            AwsKind::Account(a) if **a == *p.account => {
                if p.is_root() {
                    PrincipalMatch::Direct
                } else {
                    PrincipalMatch::Account
                }
            }
            // A role ARN covers every session of the role.
            AwsKind::Arn(a) if **a == *p.arn || p.role_arn == Some(&**a) => PrincipalMatch::Direct,
            _ => PrincipalMatch::No,
        }
    }
}

fn string_list(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn invalid(kind: &str, name: &str) -> PolicyError {
    PolicyError::InvalidPrincipal(format!("\"{kind}\":\"{name}\""))
}

fn non_empty(kind: &str, name: &str) -> Result<Box<str>, PolicyError> {
    if name.is_empty() {
        Err(invalid(kind, name))
    } else {
        Ok(name.into())
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads one `AWS` principal: `*`, an account id, or an IAM or STS ARN of a
/// kind that can be a principal. Wildcards other than a lone `*` are not
/// allowed in principals.
fn parse_aws(name: &str) -> Result<AwsKind, PolicyError> {
    if name == "*" {
        return Ok(AwsKind::Everyone);
    }
    if is_account_id(name) {
        return Ok(AwsKind::Account(name.into()));
    }
    let bad = || invalid("AWS", name);
    if name.contains(['*', '?']) {
        return Err(bad());
    }
    let mut parts = name.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(service), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    if partition.is_empty() || !is_account_id(account) {
        return Err(bad());
    }
    let allowed = match service {
        "iam" if resource == "root" => return Ok(AwsKind::Account(account.into())),
        "iam" => ["user/", "role/", "federated-user/"]
            .iter()
            .any(|p| resource.len() > p.len() && resource.starts_with(p)),
        "sts" => ["assumed-role/", "federated-user/"]
            .iter()
            .any(|p| resource.len() > p.len() && resource.starts_with(p)),
        _ => false,
    };
    if allowed {
        Ok(AwsKind::Arn(name.into()))
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ACCT: &str = "111122223333";
    const USER: &str = "arn:aws:iam::111122223333:user/alice";
    const ROLE: &str = "arn:aws:iam::111122223333:role/ops/Admin";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Admin/s1";
    const ROOT: &str = "arn:aws:iam::111122223333:root";

    fn user() -> Principal<'static> {
        Principal::Aws(AwsPrincipal::new(USER, ACCT))
    }
    fn session() -> Principal<'static> {
        Principal::Aws(AwsPrincipal::session(SESSION, ACCT, ROLE))
    }
    fn root() -> Principal<'static> {
        Principal::Aws(AwsPrincipal::new(ROOT, ACCT))
    }
    fn stranger() -> Principal<'static> {
        Principal::Aws(AwsPrincipal::new(
            "arn:aws:iam::444455556666:user/eve",
            "444455556666",
        ))
    }

    fn parse(v: Value) -> Principals {
        Principals::parse(&v).expect("valid principal")
    }

    #[test]
    fn matching_table() {
        use PrincipalMatch::*;
        let cases: &[(Value, Principal<'static>, PrincipalMatch)] = &[
            (json!("*"), user(), Direct),
            (json!({"AWS": "*"}), stranger(), Direct),
            (json!({"AWS": ROOT}), user(), Account),
            (json!({"AWS": ACCT}), session(), Account),
            (json!({"AWS": ROOT}), root(), Direct),
            (json!({"AWS": ROOT}), stranger(), No),
            (json!({"AWS": USER}), user(), Direct),
            (json!({"AWS": [USER, ROOT]}), user(), Direct),
            (json!({"AWS": ROLE}), session(), Direct),
            (json!({"AWS": SESSION}), session(), Direct),
            (
                json!({"AWS": "arn:aws:sts::111122223333:assumed-role/Admin/other"}),
                session(),
                No,
            ),
            (json!({"AWS": ROLE}), user(), No),
            (
                json!({"Service": "ec2.amazonaws.com"}),
                Principal::Service("ec2.amazonaws.com"),
                Direct,
            ),
            (json!({"Service": "ec2.amazonaws.com"}), user(), No),
            (
                json!({"AWS": "*"}),
                Principal::Service("ec2.amazonaws.com"),
                Direct,
            ),
            (
                json!({"Federated": "cognito-identity.amazonaws.com"}),
                Principal::Federated("cognito-identity.amazonaws.com"),
                Direct,
            ),
        ];
        for (value, who, want) in cases {
            assert_eq!(
                parse(value.clone()).matches(who),
                *want,
                "{value} vs {who:?}"
            );
        }
    }

    #[test]
    fn not_principal_needs_every_identity() {
        assert!(parse(json!({"AWS": [USER, ROOT]})).excludes(&user()));
        assert!(!parse(json!({"AWS": USER})).excludes(&user()));
        assert!(!parse(json!({"AWS": [SESSION, ROOT]})).excludes(&session()));
        assert!(parse(json!({"AWS": [SESSION, ROLE, ACCT]})).excludes(&session()));
        assert!(parse(json!({"AWS": ROOT})).excludes(&root()));
        assert!(!parse(json!({"AWS": [USER, ROOT]})).excludes(&stranger()));
        assert!(
            parse(json!({"Service": "ec2.amazonaws.com"}))
                .excludes(&Principal::Service("ec2.amazonaws.com"))
        );
    }

    #[test]
    fn invalid_principals() {
        for (value, message) in [
            (
                json!({"AWS": "bob"}),
                Some("Invalid principal in policy: \"AWS\":\"bob\""),
            ),
            (
                json!({"AWS": "arn:aws:iam::111122223333:group/devs"}),
                Some(
                    "Invalid principal in policy: \"AWS\":\"arn:aws:iam::111122223333:group/devs\"",
                ),
            ),
            (json!({"AWS": "arn:aws:iam::*:root"}), None),
            (json!({"AWS": "arn:aws:iam::12345:root"}), None),
            (
                json!({"Alien": "x"}),
                Some("Invalid principal in policy: \"Alien\":\"x\""),
            ),
            (json!({"AWS": 12}), Some("Syntax errors in policy.")),
            (json!({"AWS": []}), Some("Syntax errors in policy.")),
            (
                json!("arn:aws:iam::111122223333:root"),
                Some("Syntax errors in policy."),
            ),
            (json!({}), Some("Syntax errors in policy.")),
        ] {
            let err = Principals::parse(&value).expect_err("refused");
            if let Some(message) = message {
                assert_eq!(err.to_string(), message, "{value}");
            }
        }
    }

    #[test]
    fn aws_names_skip_everyone() {
        let p = parse(json!({"AWS": ["*", ACCT, USER], "Service": "kms.amazonaws.com"}));
        assert_eq!(p.aws_names().collect::<Vec<_>>(), [ACCT, USER]);
    }
}
