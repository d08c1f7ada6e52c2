//! Key policies: the default policy AWS writes, and the check a policy
//! document must pass before it is stored.
//!
//! The grammar is `custos-policy`'s, the one authorization evaluates
//! (`crate::authz`), so that a stored policy always means what it says.
//! The lockout safety check runs through the real evaluator
//! (`Kms::check_lockout`).

use std::future::Future;
use std::pin::Pin;

use custos_policy::{Policy, PolicyKind};

use crate::KmsError;
use crate::names::AccountId;

/// Who exists: the principals a key policy may name. AWS refuses a key
/// policy naming a user, role or account it does not know; the identities
/// live in the IAM domain, which implements this.
pub trait PrincipalDirectory: Send + Sync {
    /// Whether `principal` (an account id, or an account root, user, role
    /// or role session ARN) names an existing principal.
    fn exists<'a>(
        &'a self,
        principal: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, KmsError>> + Send + 'a>>;
}

impl<E: custos_store::Engine> PrincipalDirectory for custos_iam::Iam<E> {
    fn exists<'a>(
        &'a self,
        principal: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<bool, KmsError>> + Send + 'a>> {
        Box::pin(async move {
            self.principal_exists(principal).await.map_err(|e| match e {
                custos_iam::IamError::Store(s) => KmsError::Store(s),
                _ => KmsError::Corrupt {
                    what: "identity records".into(),
                },
            })
        })
    }
}

/// AWS's refusal of a key policy naming a principal that does not exist.
pub(crate) const INVALID_PRINCIPALS: &str =
    "Policy contains a statement with one or more invalid principals.";

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

/// Checks that `policy` is a key policy document: at most 32 KiB, and
/// valid in IAM's grammar for resource policies. Returns it parsed.
pub fn check_document(policy: &str) -> Result<Policy, KmsError> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(malformed(format!(
            "The key policy is {} bytes; the limit is {MAX_POLICY_BYTES}.",
            policy.len()
        )));
    }
    Policy::parse(policy, PolicyKind::Resource).map_err(|e| malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

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
}
