//! STS session credentials, stateless to verify on any node.
//!
//! A session token is the session's claims (the `ASIA…` access key id,
//! its secret, the principal, the issue and expiry times, session
//! policies and tags) as JSON, sealed under the store key with associated
//! data naming the access key id:
//!
//! ```text
//! token = base64( "CS1" || sealed )
//! sealed = Sealer::seal_derived(label "custos.sts-session.v1",
//!                               aad = ("custos.sts-session.v1", access key id), claims)
//! ```
//!
//! Each token is sealed under its own key, derived from the store key
//! with a random salt, so that the rate at which sessions are made never
//! brings random nonces under one key near their collision bound.
//!
//! Any node holding the store key can therefore verify a session without
//! a store read or write per session; a token presented with another
//! access key id, or changed by one bit, fails to open. Sessions are revoked by
//! policy, as on AWS: a `Deny` conditioned on `aws:TokenIssueTime`.

use base64::Engine as _;
use custos_crypto::SecretBytes;
use custos_crypto::seal::{self, Sealer};
use serde::{Deserialize, Serialize};

const TOKEN_MAGIC: &[u8; 3] = b"CS1";

/// Who a session acts as.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind")]
pub(crate) enum SessionPrincipal {
    /// `AssumeRole`.
    Role {
        role_name: String,
        role_id: String,
        role_path: String,
        session_name: String,
    },
    /// `GetSessionToken`: the user itself.
    User {
        user_name: String,
        user_id: String,
        user_path: String,
    },
}

/// What a session token carries.
#[derive(Serialize, Deserialize)]
pub(crate) struct SessionClaims {
    pub(crate) access_key_id: String,
    pub(crate) secret: String,
    pub(crate) account_id: String,
    pub(crate) principal: SessionPrincipal,
    pub(crate) issued_ms: i64,
    pub(crate) expires_ms: i64,
    /// The inline session policy, as given.
    #[serde(default)]
    pub(crate) policy: Option<String>,
    /// Managed policies passed as session policies.
    #[serde(default)]
    pub(crate) policy_arns: Vec<String>,
    #[serde(default)]
    pub(crate) tags: Vec<(String, String)>,
    #[serde(default)]
    pub(crate) source_identity: Option<String>,
}

impl Drop for SessionClaims {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

impl std::fmt::Debug for SessionClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionClaims")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("principal", &self.principal)
            .field("expires_ms", &self.expires_ms)
            .finish_non_exhaustive()
    }
}

const LABEL: &str = "custos.sts-session.v1";

fn aad(access_key_id: &str) -> Vec<u8> {
    seal::aad(LABEL, &[access_key_id.as_bytes()])
}

/// Seals `claims` into a session token.
pub(crate) fn mint(sealer: &Sealer, claims: &SessionClaims) -> Result<String, crate::IamError> {
    let json = zeroize::Zeroizing::new(serde_json::to_vec(claims).map_err(|_| {
        crate::IamError::Corrupt {
            what: "session claims".into(),
        }
    })?);
    let sealed = sealer.seal_derived(LABEL, &aad(&claims.access_key_id), &json)?;
    let mut bytes = Vec::with_capacity(TOKEN_MAGIC.len() + sealed.len());
    bytes.extend_from_slice(TOKEN_MAGIC);
    bytes.extend_from_slice(&sealed);
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Opens a session token presented with `access_key_id`. `None` for
/// anything that is not a token Custos minted for that key id.
pub(crate) fn open(sealer: &Sealer, access_key_id: &str, token: &str) -> Option<SessionClaims> {
    // A token is a few kilobytes at most; refuse to decode more.
    if token.len() > 16 * 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let sealed = bytes.strip_prefix(TOKEN_MAGIC)?;
    let json: SecretBytes = sealer
        .open_derived(LABEL, &aad(access_key_id), sealed)
        .ok()?;
    let claims: SessionClaims = serde_json::from_slice(json.expose_secret()).ok()?;
    (claims.access_key_id == access_key_id).then_some(claims)
}

#[cfg(test)]
mod tests {
    use custos_crypto::Key256;

    use super::*;

    fn claims() -> SessionClaims {
        SessionClaims {
            access_key_id: "ASIAAAAAAAAAAAAAAAAA".into(),
            secret: "s".repeat(40),
            account_id: "111122223333".into(),
            principal: SessionPrincipal::Role {
                role_name: "r".into(),
                role_id: "AROAX".into(),
                role_path: "/".into(),
                session_name: "s".into(),
            },
            issued_ms: 1,
            expires_ms: 2,
            policy: None,
            policy_arns: vec![],
            tags: vec![],
            source_identity: None,
        }
    }

    #[test]
    fn a_token_opens_only_with_its_key_id_and_unchanged() {
        let sealer = Sealer::new(Key256::generate().expect("rng"));
        let token = mint(&sealer, &claims()).expect("mint");
        let opened = open(&sealer, "ASIAAAAAAAAAAAAAAAAA", &token).expect("opens");
        assert_eq!(opened.account_id, "111122223333");
        assert!(open(&sealer, "ASIABBBBBBBBBBBBBBBB", &token).is_none());
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&token)
            .expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert!(open(&sealer, "ASIAAAAAAAAAAAAAAAAA", &tampered).is_none());
        let other = Sealer::new(Key256::generate().expect("rng"));
        assert!(open(&other, "ASIAAAAAAAAAAAAAAAAA", &token).is_none());
        assert!(open(&sealer, "ASIAAAAAAAAAAAAAAAAA", "not a token").is_none());
    }
}
