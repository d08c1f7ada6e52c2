//! Names and identifiers: regions, accounts, key ids, alias names, ARNs,
//! and the four forms in which a request may name a key.
//!
//! Every operation parses its `KeyId` once, into a [`KeyRef`], and resolves
//! it through the same function ([`crate::Kms::resolve`]), so that an alias
//! or an ARN means the same thing to every operation.

use std::fmt;

use crate::KmsError;

pub use custos_iam::names::{AccountId, Region};

/// A KMS key id: a random (version 4) UUID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyUuid([u8; 16]);

impl KeyUuid {
    pub fn generate() -> Result<KeyUuid, custos_crypto::Error> {
        let mut b: [u8; 16] = custos_crypto::rand::array()?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Ok(KeyUuid(b))
    }

    pub fn from_bytes(b: [u8; 16]) -> KeyUuid {
        KeyUuid(b)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the canonical lowercase or uppercase 8-4-4-4-12 form.
    pub fn parse(s: &str) -> Option<KeyUuid> {
        let b = s.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return None;
        }
        let hex: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Some(KeyUuid(out))
    }
}

impl fmt::Display for KeyUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for KeyUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyUuid({self})")
    }
}

/// An alias name, `alias/` followed by letters, digits, `/`, `_`, `-`, `:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AliasName(String);

/// The alias-name pattern of the service model.
pub const ALIAS_NAME_PATTERN: &str = "^[a-zA-Z0-9:/_-]+$";

impl AliasName {
    /// Whether `s` satisfies the model's pattern (checked by validation
    /// before anything else).
    pub fn matches_pattern(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'))
    }

    /// Parses a name that passed validation; a name without the `alias/`
    /// prefix or with nothing after it is refused as AWS refuses it.
    pub fn parse(s: &str) -> Result<AliasName, KmsError> {
        match s.strip_prefix("alias/") {
            Some(rest) if !rest.is_empty() && Self::matches_pattern(s) => {
                Ok(AliasName(s.to_owned()))
            }
            _ => Err(KmsError::ValidationMessage(
                "Alias must start with the prefix \"alias/\". Please see \
                 https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                    .into(),
            )),
        }
    }

    /// Aliases under `alias/aws/` are reserved for AWS managed keys.
    pub fn is_reserved(&self) -> bool {
        self.0.starts_with("alias/aws/")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AliasName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ARN of a key.
pub fn key_arn(region: &Region, account: &AccountId, id: &KeyUuid) -> String {
    format!("arn:aws:kms:{region}:{account}:key/{id}")
}

/// The ARN of an alias.
pub fn alias_arn(region: &Region, account: &AccountId, alias: &AliasName) -> String {
    format!("arn:aws:kms:{region}:{account}:{alias}")
}

/// A key as a request names it, in any of the four forms AWS accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// `1234abcd-12ab-34cd-56ef-1234567890ab`
    Id(KeyUuid),
    /// `arn:aws:kms:us-east-1:111122223333:key/1234abcd-…`
    KeyArn {
        region: String,
        account: String,
        id: KeyUuid,
    },
    /// `alias/name`
    Alias(AliasName),
    /// `arn:aws:kms:us-east-1:111122223333:alias/name`
    AliasArn {
        region: String,
        account: String,
        alias: AliasName,
    },
}

/// Why a `KeyId` string names no key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRefError {
    /// Looks like an ARN but is not a valid KMS key or alias ARN.
    InvalidArn,
    /// Neither an ARN, an alias, nor a key id.
    InvalidKeyId,
}

impl KeyRef {
    pub fn parse(s: &str) -> Result<KeyRef, KeyRefError> {
        if let Some(rest) = s.strip_prefix("arn:") {
            let mut parts = rest.splitn(5, ':');
            let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return Err(KeyRefError::InvalidArn);
            };
            if partition != "aws" || service != "kms" || region.is_empty() || account.is_empty() {
                return Err(KeyRefError::InvalidArn);
            }
            let (region, account) = (region.to_owned(), account.to_owned());
            if let Some(id) = resource.strip_prefix("key/") {
                let id = KeyUuid::parse(id).ok_or(KeyRefError::InvalidArn)?;
                return Ok(KeyRef::KeyArn {
                    region,
                    account,
                    id,
                });
            }
            if resource.starts_with("alias/") {
                let alias = AliasName::parse(resource).map_err(|_| KeyRefError::InvalidArn)?;
                return Ok(KeyRef::AliasArn {
                    region,
                    account,
                    alias,
                });
            }
            return Err(KeyRefError::InvalidArn);
        }
        if s.starts_with("alias/") {
            return AliasName::parse(s)
                .map(KeyRef::Alias)
                .map_err(|_| KeyRefError::InvalidKeyId);
        }
        KeyUuid::parse(s)
            .map(KeyRef::Id)
            .ok_or(KeyRefError::InvalidKeyId)
    }

    pub fn is_alias(&self) -> bool {
        matches!(self, KeyRef::Alias(_) | KeyRef::AliasArn { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn parses_the_four_forms() {
        let id = KeyUuid::parse(ID).expect("uuid");
        assert_eq!(id.to_string(), ID);
        assert_eq!(KeyRef::parse(ID), Ok(KeyRef::Id(id)));
        assert_eq!(
            KeyRef::parse(&format!("arn:aws:kms:us-east-1:111122223333:key/{ID}")),
            Ok(KeyRef::KeyArn {
                region: "us-east-1".into(),
                account: "111122223333".into(),
                id
            })
        );
        assert_eq!(
            KeyRef::parse("alias/my-key"),
            Ok(KeyRef::Alias(AliasName("alias/my-key".into())))
        );
        assert_eq!(
            KeyRef::parse("arn:aws:kms:eu-west-3:111122223333:alias/a/b"),
            Ok(KeyRef::AliasArn {
                region: "eu-west-3".into(),
                account: "111122223333".into(),
                alias: AliasName("alias/a/b".into())
            })
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "foo", "1234abcd", &ID[1..], "alias/", "alias/sp ace"] {
            assert_eq!(KeyRef::parse(bad), Err(KeyRefError::InvalidKeyId), "{bad}");
        }
        for bad in [
            "arn:aws:kms:us-east-1:111122223333:key/nope",
            "arn:aws:s3:us-east-1:111122223333:key/x",
            "arn:aws:kms:us-east-1:111122223333",
            "arn:aws:kms:us-east-1:111122223333:grant/x",
            "arn:",
        ] {
            assert_eq!(KeyRef::parse(bad), Err(KeyRefError::InvalidArn), "{bad}");
        }
    }

    #[test]
    fn generated_ids_are_v4_and_round_trip() {
        let id = KeyUuid::generate().expect("rng");
        let s = id.to_string();
        assert_eq!(s.as_bytes()[14], b'4');
        assert_eq!(KeyUuid::parse(&s), Some(id));
        assert_eq!(KeyUuid::parse(&s.to_uppercase()), Some(id));
    }

    #[test]
    fn regions_and_accounts() {
        assert!(Region::parse("us-east-1").is_some());
        assert!(Region::parse("us-gov-west-1").is_some());
        for bad in ["", "useast1", "US-EAST-1", "us-east-", "us--east-1"] {
            assert!(Region::parse(bad).is_none(), "{bad}");
        }
        assert!(AccountId::parse("111122223333").is_some());
        assert!(AccountId::parse("11112222333").is_none());
        let a = AccountId::generate().expect("rng");
        assert!(AccountId::parse(a.as_str()).is_some());
    }
}
