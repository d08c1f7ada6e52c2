//! What a policy is evaluated against: the request (action, resource,
//! principal) and its condition keys.
//!
//! The KMS request path builds one [`Context`] per call, so it borrows
//! wherever it can: keys and values are `Cow`s, a single value is stored
//! inline rather than in a one-element `Vec`, and lookups scan a short list
//! with ASCII case folding instead of lowercasing keys into a map.

use std::borrow::Cow;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The condition keys of one request, looked up case-insensitively
/// (`aws:username` and `AWS:UserName` are the same key, as in IAM). Values
/// are strings, compared by each condition operator in its own type;
/// multi-valued keys (`aws:TagKeys`, `kms:EncryptionContextKeys`) hold a
/// list.
///
/// Inserting a key again replaces the earlier value (the last insert wins).
#[derive(Clone, Debug, Default)]
pub struct Context<'a> {
    entries: Vec<Entry<'a>>,
}

#[derive(Clone, Debug)]
struct Entry<'a> {
    key: Cow<'a, str>,
    values: Values<'a>,
}

#[derive(Clone, Debug)]
enum Values<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'a> Context<'a> {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context with room for `n` keys, so the hot path does not
    /// reallocate while filling it.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
        }
    }

    /// Sets a single-valued key.
    pub fn insert(
        &mut self,
        key: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> &mut Self {
        self.entries.push(Entry {
            key: key.into(),
            values: Values::One(value.into()),
        });
        self
    }

    /// Sets a multi-valued key. An empty list is kept: it is present for
    /// `Null` but behaves as absent for the other operators (see the crate
    /// docs).
    pub fn insert_many<I, V>(&mut self, key: impl Into<Cow<'a, str>>, values: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Cow<'a, str>>,
    {
        let values = values.into_iter().map(Into::into).collect();
        self.entries.push(Entry {
            key: key.into(),
            values: Values::Many(values),
        });
        self
    }

    /// Sets a boolean key (`aws:SecureTransport`), without allocating.
    pub fn insert_bool(&mut self, key: impl Into<Cow<'a, str>>, value: bool) -> &mut Self {
        self.insert(key, if value { "true" } else { "false" })
    }

    /// Sets a numeric key (`kms:RotationPeriodInDays`).
    pub fn insert_number(&mut self, key: impl Into<Cow<'a, str>>, value: i64) -> &mut Self {
        self.insert(key, value.to_string())
    }

    /// Sets a date key (`aws:CurrentTime`) in the ISO 8601 form AWS uses.
    pub fn insert_time(
        &mut self,
        key: impl Into<Cow<'a, str>>,
        value: OffsetDateTime,
    ) -> &mut Self {
        // Formatting an `OffsetDateTime` as RFC 3339 fails only for years
        // outside 0..=9999, which no clock reading reaches; fall back to the
        // epoch form, which every Date operator also accepts.
        let text = value
            .format(&Rfc3339)
            .unwrap_or_else(|_| value.unix_timestamp().to_string());
        self.insert(key, text)
    }

    /// Whether `key` is present (even as an empty list).
    pub fn contains(&self, key: &str) -> bool {
        self.find(key).is_some()
    }

    /// The values of `key`: one for a single-valued key, any number for a
    /// multi-valued one; `None` when absent.
    pub fn values(&self, key: &str) -> Option<&[Cow<'a, str>]> {
        self.find(key).map(|entry| match &entry.values {
            Values::One(v) => std::slice::from_ref(v),
            Values::Many(vs) => vs.as_slice(),
        })
    }

    /// The value of a single-valued key. `None` when absent or multi-valued:
    /// policy variables can only name single-valued keys.
    pub fn single(&self, key: &str) -> Option<&str> {
        match &self.find(key)?.values {
            Values::One(v) => Some(v),
            Values::Many(_) => None,
        }
    }

    /// Number of keys set (a replaced key counts twice).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, key: &str) -> Option<&Entry<'a>> {
        // From the end, so that the last insert of a key wins.
        self.entries
            .iter()
            .rev()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }
}

/// Who makes the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal<'a> {
    /// An IAM user, a role session or an account's root user.
    Aws(AwsPrincipal<'a>),
    /// A service principal such as `ec2.amazonaws.com`, matched by trust
    /// policies' `"Service"` entries.
    Service(&'a str),
    /// A federated identity provider, matched by `"Federated"` entries.
    Federated(&'a str),
}

/// An authenticated AWS principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AwsPrincipal<'a> {
    /// `arn:aws:iam::ACCT:user/NAME`, `arn:aws:iam::ACCT:root` or, for a role
    /// session, `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`.
    pub arn: &'a str,
    /// The 12-digit account id.
    pub account: &'a str,
    /// For a role session, the role's own ARN (`arn:aws:iam::ACCT:role/PATH/ROLE`):
    /// a policy naming the role applies to all its sessions.
    pub role_arn: Option<&'a str>,
}

impl<'a> AwsPrincipal<'a> {
    /// A user or root principal.
    pub fn new(arn: &'a str, account: &'a str) -> Self {
        Self {
            arn,
            account,
            role_arn: None,
        }
    }

    /// A session of the role `role_arn`; `arn` is the session's
    /// `assumed-role` ARN.
    pub fn session(arn: &'a str, account: &'a str, role_arn: &'a str) -> Self {
        Self {
            arn,
            account,
            role_arn: Some(role_arn),
        }
    }

    /// Whether this is the account's root user, which the account principal
    /// (`arn:aws:iam::ACCT:root` or `ACCT`) names directly.
    pub(crate) fn is_root(&self) -> bool {
        self.arn
            .strip_suffix(":root")
            .is_some_and(|head| head.ends_with(self.account))
            && self.role_arn.is_none()
    }
}

/// One authorization question: may `principal` perform `action` on
/// `resource`, given `context`?
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `service:Action`, e.g. `kms:Decrypt`.
    pub action: &'a str,
    /// The resource ARN, or `*` for actions on no particular resource
    /// (`kms:CreateKey`).
    pub resource: &'a str,
    /// The caller.
    pub principal: Principal<'a>,
    /// The condition keys.
    pub context: &'a Context<'a>,
}

impl<'a> Request<'a> {
    /// A request.
    pub fn new(
        action: &'a str,
        resource: &'a str,
        principal: Principal<'a>,
        context: &'a Context<'a>,
    ) -> Self {
        Self {
            action,
            resource,
            principal,
            context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_last_insert_wins() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "alice")
            .insert("AWS:UserName", "bob");
        assert_eq!(ctx.single("Aws:Username"), Some("bob"));
        assert!(ctx.contains("AWS:USERNAME"));
        assert_eq!(ctx.values("aws:nothing"), None);
    }

    #[test]
    fn multi_valued_keys_are_not_single() {
        let mut ctx = Context::new();
        ctx.insert_many("aws:TagKeys", ["a", "b"]);
        assert_eq!(ctx.single("aws:TagKeys"), None);
        assert_eq!(ctx.values("aws:tagkeys").map(<[_]>::len), Some(2));
    }

    #[test]
    fn typed_inserts() {
        let mut ctx = Context::new();
        ctx.insert_bool("aws:SecureTransport", true)
            .insert_number("kms:RotationPeriodInDays", 90)
            .insert_time("aws:CurrentTime", OffsetDateTime::UNIX_EPOCH);
        assert_eq!(ctx.single("aws:SecureTransport"), Some("true"));
        assert_eq!(ctx.single("kms:RotationPeriodInDays"), Some("90"));
        assert_eq!(ctx.single("aws:CurrentTime"), Some("1970-01-01T00:00:00Z"));
    }

    #[test]
    fn root_detection() {
        assert!(AwsPrincipal::new("arn:aws:iam::111122223333:root", "111122223333").is_root());
        assert!(
            !AwsPrincipal::new("arn:aws:iam::111122223333:user/root", "111122223333").is_root()
        );
        assert!(!AwsPrincipal::new("arn:aws:iam::111122223333:root", "444455556666").is_root());
    }
}
