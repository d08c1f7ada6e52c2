//! Identities: access key ids with their secret access keys, sealed.
//!
//! The server looks an identity up by the access key id of a SigV4
//! signature, and verifies the signature with the secret. The secret is
//! stored sealed under the store key, bound to its access key id.

use custos_crypto::SecretBytes;
use custos_store::{Batch, Engine, StoreError, Table};
use serde::{Deserialize, Serialize};

use crate::names::AccountId;
use crate::{Kms, KmsError, seal};

const IDENTITY_FORMAT: u32 = 1;
const BOOTSTRAP: &[u8] = b"bootstrap-identity";
/// The name of the bootstrap administrator.
pub const BOOTSTRAP_USER: &str = "custos-admin";

#[derive(Debug, Serialize, Deserialize)]
struct IdentityRecord {
    format: u32,
    access_key_id: String,
    principal_arn: String,
    created_ms: i64,
    /// The secret access key, sealed (hex).
    sealed_secret: String,
}

/// A verified-to-exist identity and its secret, for SigV4 verification.
#[derive(Debug)]
pub struct Identity {
    pub access_key_id: String,
    pub principal_arn: String,
    pub account_id: AccountId,
    pub secret: SecretBytes,
}

/// Access keys look like AWS's: `AKIA` and 16 characters of base32.
pub fn valid_access_key_id(s: &str) -> bool {
    (16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn secret_aad(access_key_id: &str) -> Vec<u8> {
    seal::aad("custos.identity-secret.v1", &[access_key_id.as_bytes()])
}

/// The bootstrap identity, as [`Kms::ensure_bootstrap_identity`] found or
/// made it.
#[derive(Debug)]
pub struct Bootstrap {
    pub access_key_id: String,
    pub principal_arn: String,
    /// The secret, when it was just generated (to print once) or given.
    /// `None` when an earlier start generated and printed it.
    pub new_secret: Option<SecretBytes>,
}

impl<E: Engine> Kms<E> {
    /// Looks up the identity that owns `access_key_id`.
    pub async fn identity(&self, access_key_id: &str) -> Result<Option<Identity>, KmsError> {
        let Some(bytes) = self
            .engine()
            .get(Table::Identities, access_key_id.as_bytes())
            .await?
        else {
            return Ok(None);
        };
        let corrupt = || KmsError::Corrupt {
            what: format!("identity {access_key_id}"),
        };
        let record: IdentityRecord = serde_json::from_slice(&bytes).map_err(|_| corrupt())?;
        if record.format != IDENTITY_FORMAT || record.access_key_id != access_key_id {
            return Err(corrupt());
        }
        let sealed = hex::decode(&record.sealed_secret).map_err(|_| corrupt())?;
        let secret = self
            .sealer()
            .open(&secret_aad(access_key_id), &sealed)
            .map_err(|_| corrupt())?;
        Ok(Some(Identity {
            access_key_id: record.access_key_id,
            principal_arn: record.principal_arn,
            account_id: self.account().clone(),
            secret,
        }))
    }

    async fn put_identity(
        &self,
        access_key_id: &str,
        principal_arn: &str,
        secret: &SecretBytes,
        batch: &mut Batch,
    ) -> Result<(), KmsError> {
        let sealed = self
            .sealer()
            .seal(&secret_aad(access_key_id), secret.expose_secret())?;
        let record = IdentityRecord {
            format: IDENTITY_FORMAT,
            access_key_id: access_key_id.to_owned(),
            principal_arn: principal_arn.to_owned(),
            created_ms: self.now_ms(),
            sealed_secret: hex::encode(sealed),
        };
        let bytes = serde_json::to_vec(&record).map_err(|_| KmsError::Corrupt {
            what: "identity record".into(),
        })?;
        batch.put(Table::Identities, access_key_id.as_bytes(), bytes);
        Ok(())
    }

    /// Makes sure the bootstrap administrator exists. With `given`
    /// credentials (for test rigs), that access key is created or its
    /// secret replaced; otherwise the first start generates one and later
    /// starts find it.
    pub async fn ensure_bootstrap_identity(
        &self,
        given: Option<(String, SecretBytes)>,
    ) -> Result<Bootstrap, KmsError> {
        let principal_arn = format!("arn:aws:iam::{}:user/{BOOTSTRAP_USER}", self.account());
        if let Some((access_key_id, secret)) = given {
            let mut batch = Batch::new();
            self.put_identity(&access_key_id, &principal_arn, &secret, &mut batch)
                .await?;
            batch.put(Table::Meta, BOOTSTRAP, access_key_id.as_bytes());
            self.engine().commit(batch).await?;
            return Ok(Bootstrap {
                access_key_id,
                principal_arn,
                new_secret: Some(secret),
            });
        }
        if let Some(id) = self.engine().get(Table::Meta, BOOTSTRAP).await? {
            let access_key_id = String::from_utf8(id).map_err(|_| KmsError::Corrupt {
                what: "bootstrap identity".into(),
            })?;
            return Ok(Bootstrap {
                access_key_id,
                principal_arn,
                new_secret: None,
            });
        }
        let (access_key_id, secret) = generate_credentials()?;
        let mut batch = Batch::new();
        self.put_identity(&access_key_id, &principal_arn, &secret, &mut batch)
            .await?;
        batch.require_absent(Table::Meta, BOOTSTRAP).put(
            Table::Meta,
            BOOTSTRAP,
            access_key_id.as_bytes(),
        );
        match self.engine().commit(batch).await {
            Ok(()) => Ok(Bootstrap {
                access_key_id,
                principal_arn,
                new_secret: Some(secret),
            }),
            // Another node made it at the same moment; it printed the secret.
            Err(StoreError::Conflict) => Box::pin(self.ensure_bootstrap_identity(None)).await,
            Err(e) => Err(e.into()),
        }
    }
}

/// A fresh access key id (`AKIA` + 16 base32 characters) and a 40-character
/// secret, shaped like AWS's so that every client accepts them.
fn generate_credentials() -> Result<(String, SecretBytes), custos_crypto::Error> {
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const BASE62: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let id_bytes: [u8; 16] = custos_crypto::rand::array()?;
    let access_key_id: String = std::iter::once("AKIA".to_owned())
        .chain(
            id_bytes
                .iter()
                .map(|b| char::from(BASE32[usize::from(b % 32)]).to_string()),
        )
        .collect();
    // 40 characters from a 62-letter alphabet by rejection sampling: 238 bits.
    let mut secret = Vec::with_capacity(40);
    while secret.len() < 40 {
        let bytes = zeroize::Zeroizing::new(custos_crypto::rand::array::<64>()?);
        for &b in bytes.iter() {
            if secret.len() < 40 && usize::from(b) < 62 * 4 {
                secret.push(BASE62[usize::from(b) % 62]);
            }
        }
    }
    Ok((access_key_id, SecretBytes::new(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_look_like_aws_ones() {
        let (id, secret) = generate_credentials().expect("rng");
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIA"));
        assert!(valid_access_key_id(&id));
        assert_eq!(secret.len(), 40);
        assert!(secret.expose_secret().iter().all(u8::is_ascii_alphanumeric));
        let (id2, secret2) = generate_credentials().expect("rng");
        assert_ne!(id, id2);
        assert_ne!(secret.expose_secret(), secret2.expose_secret());
    }
}
