//! Names every domain shares: regions and account ids.

use std::fmt;

/// An AWS region name such as `us-east-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

impl Region {
    /// Accepts names of the shape AWS uses: lowercase letters and digits in
    /// dash-separated parts, e.g. `eu-west-3`, `us-gov-east-1`.
    pub fn parse(s: &str) -> Option<Region> {
        let ok = (4..=32).contains(&s.len())
            && s.split('-').count() >= 3
            && s.split('-').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        ok.then(|| Region(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(s: &str) -> Option<AccountId> {
        (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())).then(|| AccountId(s.to_owned()))
    }

    /// A random account id, for a new installation that was given none.
    pub fn generate() -> Result<AccountId, custos_crypto::Error> {
        let bytes: [u8; 12] = custos_crypto::rand::array()?;
        // Modulo bias is irrelevant for an identifier that is not secret.
        let mut s: String = bytes.iter().map(|b| char::from(b'0' + b % 10)).collect();
        // Never start with 0, so that tools that parse it as a number keep
        // all twelve digits.
        s.replace_range(0..1, "1");
        Ok(AccountId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
