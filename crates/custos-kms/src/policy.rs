//! Key policies: the default policy AWS writes, and the document checks
//! made when a policy is given. Evaluation belongs to [`crate::authz`].

use crate::KmsError;
use crate::names::AccountId;

/// The default key policy, byte for byte as AWS writes it (two-space
/// indent, `" : "` separators), for `account`.
pub fn default_policy(account: &AccountId) -> String {
    format!(
        "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{account}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}"
    )
}

/// A policy must be a JSON object with a `Statement`.
pub fn check_document(policy: &str) -> Result<(), KmsError> {
    let malformed = || KmsError::MalformedPolicyDocument("The key policy has no Statement.".into());
    let value: serde_json::Value = serde_json::from_str(policy).map_err(|_| {
        KmsError::MalformedPolicyDocument("The key policy is not a valid JSON document.".into())
    })?;
    let statement = value.get("Statement").ok_or_else(malformed)?;
    if !(statement.is_array() || statement.is_object()) {
        return Err(malformed());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid_json_naming_the_account() {
        let account = AccountId::parse("111122223333").expect("account");
        let p = default_policy(&account);
        let v: serde_json::Value = serde_json::from_str(&p).expect("json");
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
        for bad in ["nope", "[]", "{}", "{\"Statement\": 5}"] {
            assert!(
                matches!(
                    check_document(bad),
                    Err(KmsError::MalformedPolicyDocument(_))
                ),
                "{bad}"
            );
        }
    }
}
