//! Key policies: the default policy AWS writes, the checks a policy
//! document must pass, and the evaluation the lockout safety check needs.
//!
//! Full evaluation (conditions, grants, IAM policies) belongs to the
//! authorization step, `crate::authz`, in a later stage; the evaluator here
//! is deliberately conservative: a statement with a `Condition` never
//! counts as allowing, so the lockout check can only err on the side of
//! refusing a policy.

use serde_json::Value;

use crate::KmsError;
use crate::names::AccountId;

/// The name of the only key policy a key has.
pub const DEFAULT_POLICY_NAME: &str = "default";
/// AWS's quota on the size of a key policy.
pub const MAX_POLICY_BYTES: usize = 32 * 1024;

/// The default key policy, byte for byte as AWS writes it (two-space
/// indent, `" : "` separators), for `account`.
pub fn default_policy(account: &AccountId) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{account}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}

fn malformed(message: impl Into<String>) -> KmsError {
    KmsError::MalformedPolicyDocument(message.into())
}

/// Checks that `policy` is a key policy document: at most 32 KiB, a JSON
/// object whose statements each have an effect, a principal and actions.
pub fn check_document(policy: &str) -> Result<(), KmsError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(malformed(format!(
            "The key policy is {} bytes; the limit is {MAX_POLICY_BYTES}.",
            policy.len()
        )));
    }
    let value: Value = serde_json::from_str(policy)
        .map_err(|_| malformed("The key policy is not a valid JSON document."))?;
    let Some(doc) = value.as_object() else {
        return Err(malformed("The key policy must be a JSON object."));
    };
    match doc.get("Version").map(|v| v.as_str()) {
        None | Some(Some("2012-10-17" | "2008-10-17")) => {}
        _ => {
            return Err(malformed(
                "The policy Version must be 2012-10-17 or 2008-10-17.",
            ));
        }
    }
    let statements =
        statements(&value).ok_or_else(|| malformed("The key policy has no Statement."))?;
    if statements.is_empty() {
        return Err(malformed("The key policy has no Statement."));
    }
    for s in statements {
        let Some(s) = s.as_object() else {
            return Err(malformed("Each policy statement must be a JSON object."));
        };
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow" | "Deny") => {}
            _ => {
                return Err(malformed(
                    "Each policy statement needs an Effect of Allow or Deny.",
                ));
            }
        }
        if !s.contains_key("Principal") && !s.contains_key("NotPrincipal") {
            return Err(malformed(
                "Policy statements in a key policy must name a Principal.",
            ));
        }
        if !s.contains_key("Action") && !s.contains_key("NotAction") {
            return Err(malformed("Each policy statement needs an Action."));
        }
    }
    Ok(())
}

fn statements(policy: &Value) -> Option<Vec<&Value>> {
    match policy.get("Statement")? {
        Value::Array(items) => Some(items.iter().collect()),
        one @ Value::Object(_) => Some(vec![one]),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `*` and `?` wildcards, ASCII case-insensitive (IAM action matching).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

fn principal_matches(statement: &Value, principal_arn: &str, account: &AccountId) -> bool {
    let Some(p) = statement.get("Principal") else {
        return false;
    };
    if p.as_str() == Some("*") {
        return true;
    }
    let root = format!("arn:aws:iam::{account}:root");
    strings(p.get("AWS"))
        .into_iter()
        .any(|a| a == "*" || a == root || a == account.as_str() || a == principal_arn)
}

/// Whether `policy` allows `principal_arn` of `account` to perform
/// `action` on the key, as far as a conservative reading can tell.
pub fn allows(policy: &str, principal_arn: &str, account: &AccountId, action: &str) -> bool {
    let Ok(value) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let Some(statements) = statements(&value) else {
        return false;
    };
    let mut allowed = false;
    for s in statements {
        let actions = strings(s.get("Action"));
        let acts = actions.iter().any(|a| glob(a, action))
            && s.get("NotAction").is_none()
            && s.get("NotPrincipal").is_none();
        let resource_ok = strings(s.get("Resource")).contains(&"*");
        if !acts || !principal_matches(s, principal_arn, account) {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            // A Deny counts even under a condition: refusing is the safe side.
            Some("Deny") => return false,
            Some("Allow") if resource_ok && s.get("Condition").is_none() => allowed = true,
            _ => {}
        }
    }
    allowed
}

/// The lockout safety check: a new policy must let the caller change the
/// policy again, unless the caller bypasses the check.
pub fn check_lockout(
    policy: &str,
    principal_arn: &str,
    account: &AccountId,
    bypass: bool,
) -> Result<(), KmsError> {
    if bypass || allows(policy, principal_arn, account, "kms:PutKeyPolicy") {
        Ok(())
    } else {
        Err(malformed(
            "The new key policy will not allow you to update the key policy in the future.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::parse("111122223333").expect("account")
    }

    #[test]
    fn default_policy_is_valid_json_naming_the_account() {
        let p = default_policy(&account());
        let v: Value = serde_json::from_str(&p).expect("json");
        assert_eq!(v["Id"], "key-default-1");
        assert_eq!(
            v["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::111122223333:root"
        );
        assert!(p.contains("\"Version\" : \"2012-10-17\""));
        check_document(&p).expect("default policy passes");
        assert!(allows(
            &p,
            "arn:aws:iam::111122223333:user/x",
            &account(),
            "kms:PutKeyPolicy"
        ));
    }

    #[test]
    fn refuses_non_policies() {
        for bad in [
            "nope",
            "[]",
            "{}",
            "{\"Statement\": 5}",
            "{\"Statement\": []}",
            "{\"Statement\": [{\"Effect\": \"Maybe\", \"Principal\": \"*\", \"Action\": \"kms:*\"}]}",
            "{\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"kms:*\"}]}",
            "{\"Version\": \"2020-01-01\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"kms:*\"}]}",
        ] {
            assert!(
                matches!(
                    check_document(bad),
                    Err(KmsError::MalformedPolicyDocument(_))
                ),
                "{bad}"
            );
        }
        let big = format!(
            "{{\"Statement\": [], \"Pad\": \"{}\"}}",
            "x".repeat(MAX_POLICY_BYTES)
        );
        assert!(matches!(
            check_document(&big),
            Err(KmsError::MalformedPolicyDocument(_))
        ));
    }

    #[test]
    fn lockout_check() {
        let me = "arn:aws:iam::111122223333:user/admin";
        let allow = |principal: &str, action: &str| {
            format!(
                "{{\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"{principal}\"}},\"Action\":\"{action}\",\"Resource\":\"*\"}}]}}"
            )
        };
        assert!(check_lockout(&allow(me, "kms:PutKeyPolicy"), me, &account(), false).is_ok());
        assert!(check_lockout(&allow(me, "kms:Put*"), me, &account(), false).is_ok());
        assert!(check_lockout(&allow("111122223333", "*"), me, &account(), false).is_ok());
        assert!(check_lockout(&allow(me, "kms:Encrypt"), me, &account(), false).is_err());
        assert!(
            check_lockout(
                &allow("arn:aws:iam::111122223333:user/other", "kms:*"),
                me,
                &account(),
                false
            )
            .is_err()
        );
        assert!(check_lockout(&allow(me, "kms:Encrypt"), me, &account(), true).is_ok());
        let denied = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:*\",\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"kms:PutKeyPolicy\",\"Resource\":\"*\"}]}";
        assert!(check_lockout(denied, me, &account(), false).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob("kms:*", "kms:PutKeyPolicy"));
        assert!(glob("KMS:putkeypolicy", "kms:PutKeyPolicy"));
        assert!(glob("kms:Put*Policy", "kms:PutKeyPolicy"));
        assert!(glob("*", "kms:PutKeyPolicy"));
        assert!(!glob("kms:Get*", "kms:PutKeyPolicy"));
        assert!(glob("kms:PutKeyPolic?", "kms:PutKeyPolicy"));
    }
}
