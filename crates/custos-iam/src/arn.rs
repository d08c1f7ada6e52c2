//! The ARNs of IAM entities and STS sessions.
//!
//! IAM ARNs carry the entity's path: `arn:aws:iam::<account>:user/<path
//! without the leading slash><name>`, so `/` gives `user/alice` and
//! `/ops/` gives `user/ops/alice`.

use crate::names::AccountId;

fn with_path(account: &AccountId, kind: &str, path: &str, name: &str) -> String {
    let path = path.strip_prefix('/').unwrap_or(path);
    format!("arn:aws:iam::{account}:{kind}/{path}{name}")
}

pub fn user(account: &AccountId, path: &str, name: &str) -> String {
    with_path(account, "user", path, name)
}

pub fn group(account: &AccountId, path: &str, name: &str) -> String {
    with_path(account, "group", path, name)
}

pub fn role(account: &AccountId, path: &str, name: &str) -> String {
    with_path(account, "role", path, name)
}

pub fn policy(account: &AccountId, path: &str, name: &str) -> String {
    with_path(account, "policy", path, name)
}

pub fn root(account: &AccountId) -> String {
    format!("arn:aws:iam::{account}:root")
}

pub fn assumed_role(account: &AccountId, role: &str, session: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
}

/// Splits `arn:aws:iam::<account>:<kind>/<path…><name>` into the account,
/// the path (`/` or `/a/b/`) and the name.
pub fn parse<'a>(arn: &'a str, kind: &str) -> Option<(&'a str, String, &'a str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let resource = resource.strip_prefix(kind)?.strip_prefix('/')?;
    let (path, name) = match resource.rsplit_once('/') {
        Some((p, n)) => (format!("/{p}/"), n),
        None => ("/".to_owned(), resource),
    };
    (!name.is_empty()).then_some((account, path, name))
}

/// [`parse`] for a managed policy ARN.
pub fn parse_policy(arn: &str) -> Option<(&str, String, &str)> {
    parse(arn, "policy")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_appear_in_arns_and_parse_back() {
        let a = AccountId::parse("111122223333").expect("account");
        assert_eq!(
            user(&a, "/", "alice"),
            "arn:aws:iam::111122223333:user/alice"
        );
        let arn = role(&a, "/ops/batch/", "decryptor");
        assert_eq!(arn, "arn:aws:iam::111122223333:role/ops/batch/decryptor");
        assert_eq!(
            parse(&arn, "role"),
            Some(("111122223333", "/ops/batch/".to_owned(), "decryptor"))
        );
        assert_eq!(
            parse_policy("arn:aws:iam::111122223333:policy/p"),
            Some(("111122223333", "/".to_owned(), "p"))
        );
        assert_eq!(
            parse_policy("arn:aws:iam::aws:policy/AdministratorAccess"),
            None
        );
        assert_eq!(parse("arn:aws:iam::111122223333:user/", "user"), None);
    }
}
