//! Generated identifiers and secrets, shaped like AWS's so that every
//! client accepts them: unique ids (`AIDA…`, `AROA…`, `AGPA…`, `ANPA…`),
//! access key ids (`AKIA…` for long-term keys, `ASIA…` for sessions) and
//! 40-character secret access keys.

use custos_crypto::SecretBytes;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE62: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// What an id names; its four-letter prefix is AWS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    User,
    Role,
    Group,
    Policy,
    AccessKey,
    SessionKey,
}

impl IdKind {
    fn prefix(self) -> &'static str {
        match self {
            IdKind::User => "AIDA",
            IdKind::Role => "AROA",
            IdKind::Group => "AGPA",
            IdKind::Policy => "ANPA",
            IdKind::AccessKey => "AKIA",
            IdKind::SessionKey => "ASIA",
        }
    }

    /// Characters after the prefix: access key ids are 20 characters long,
    /// unique ids 21.
    fn random_len(self) -> usize {
        match self {
            IdKind::AccessKey | IdKind::SessionKey => 16,
            _ => 17,
        }
    }
}

/// A fresh identifier of `kind`.
pub(crate) fn generate(kind: IdKind) -> Result<String, custos_crypto::Error> {
    let bytes: [u8; 17] = custos_crypto::rand::array()?;
    let mut out = String::with_capacity(21);
    out.push_str(kind.prefix());
    out.extend(
        bytes[..kind.random_len()]
            .iter()
            .map(|b| char::from(BASE32[usize::from(b % 32)])),
    );
    Ok(out)
}

/// A fresh 40-character secret access key: 238 bits from a 62-letter
/// alphabet by rejection sampling.
pub(crate) fn generate_secret() -> Result<SecretBytes, custos_crypto::Error> {
    let mut secret = Vec::with_capacity(40);
    while secret.len() < 40 {
        let bytes = zeroize::Zeroizing::new(custos_crypto::rand::array::<64>()?);
        for &b in bytes.iter() {
            if secret.len() < 40 && usize::from(b) < 62 * 4 {
                secret.push(BASE62[usize::from(b) % 62]);
            }
        }
    }
    Ok(SecretBytes::new(secret))
}

/// Whether `s` has the shape of an access key id (ours or one given to the
/// bootstrap by configuration).
pub fn valid_access_key_id(s: &str) -> bool {
    (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_aws_ones() {
        let user = generate(IdKind::User).expect("rng");
        assert_eq!(user.len(), 21);
        assert!(user.starts_with("AIDA"));
        let key = generate(IdKind::AccessKey).expect("rng");
        assert_eq!(key.len(), 20);
        assert!(key.starts_with("AKIA") && valid_access_key_id(&key));
        assert!(
            generate(IdKind::SessionKey)
                .expect("rng")
                .starts_with("ASIA")
        );
        assert_ne!(
            generate(IdKind::Role).expect("rng"),
            generate(IdKind::Role).expect("rng")
        );
        let secret = generate_secret().expect("rng");
        assert_eq!(secret.expose_secret().len(), 40);
        assert!(secret.expose_secret().iter().all(u8::is_ascii_alphanumeric));
    }
}
