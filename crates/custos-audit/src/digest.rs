//! Signed digests: what lets verification notice records removed from the
//! end of the log, or a log rewritten whole with fresh hashes, which the
//! hash chain alone cannot show.
//!
//! A digest names a range of records (`firstSeq`..=`lastSeq`), the hash of
//! the last one (the chain's head at that point) and the previous digest's
//! signature, and is signed with the audit signing key (Ed25519), which
//! Custos generates and keeps sealed under its store key like every other
//! key. Digests are files `digest-<lastSeq, 20 digits>.json` beside the
//! segments; the public keys are files `keys/<key id>.json`, with the time
//! each key began to sign. The key id is the first 16 bytes of the SHA-256
//! of the public key, in hex.
//!
//! Keys kept beside the log prove nothing against someone who can rewrite
//! the whole directory, keys included: an operator keeps the key ids
//! (`custos audit keys`) somewhere else and checks them.

use std::path::{Path, PathBuf};

use custos_crypto::sign::{SignInput, SignatureScheme, SigningKey, SigningKeyKind, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The audit signing key.
pub struct DigestSigner {
    key: SigningKey,
    key_id: String,
    public_der: Vec<u8>,
}

impl std::fmt::Debug for DigestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl DigestSigner {
    /// A new signing key.
    pub fn generate() -> Result<Self, custos_crypto::Error> {
        Self::of(SigningKey::generate(SigningKeyKind::Ed25519)?)
    }

    /// The key [`DigestSigner::private_bytes`] returned (its 32-byte seed).
    pub fn from_private_bytes(bytes: &[u8]) -> Result<Self, custos_crypto::Error> {
        Self::of(SigningKey::from_private_bytes(
            SigningKeyKind::Ed25519,
            bytes,
        )?)
    }

    fn of(key: SigningKey) -> Result<Self, custos_crypto::Error> {
        let public_der = key.public_key_der()?;
        Ok(DigestSigner {
            key_id: key_id(&public_der),
            key,
            public_der,
        })
    }

    /// The private key, to be sealed by the caller.
    pub fn private_bytes(&self) -> Result<custos_crypto::SecretBytes, custos_crypto::Error> {
        self.key.private_bytes()
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, custos_crypto::Error> {
        self.key
            .sign(SignatureScheme::Ed25519, SignInput::Message(input))
    }
}

fn key_id(public_der: &[u8]) -> String {
    hex::encode(&custos_crypto::mac::sha256(public_der)[..16])
}

/// A public key of the audit log, as listed in `keys/`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub key_id: String,
    /// DER `SubjectPublicKeyInfo`, hex.
    pub public_key: String,
    /// When it began to sign (CloudTrail's time format).
    pub valid_from: String,
}

/// One digest file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub digest_version: u32,
    pub first_seq: u64,
    pub last_seq: u64,
    /// The hash of record `last_seq`, hex.
    pub head_hash: String,
    /// The signature of the digest before this one (none for the first).
    pub previous_signature: Option<String>,
    pub digest_time: String,
    pub key_id: String,
    /// Ed25519 over [`Digest::signed_bytes`], hex.
    pub signature: String,
}

impl Digest {
    /// What the signature covers: every field but the signature, in a
    /// fixed layout.
    pub fn signed_bytes(&self) -> Vec<u8> {
        format!(
            "custos.audit.digest.v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.digest_version,
            self.first_seq,
            self.last_seq,
            self.head_hash,
            self.previous_signature.as_deref().unwrap_or("-"),
            self.digest_time,
            self.key_id,
        )
        .into_bytes()
    }

    /// Whether `key` signed this digest.
    pub fn verify(&self, key: &PublicKey) -> bool {
        let (Ok(der), Ok(signature)) = (hex::decode(&key.public_key), hex::decode(&self.signature))
        else {
            return false;
        };
        VerifyingKey::from_der(SigningKeyKind::Ed25519, &der).is_ok_and(|k| {
            key_id(&der) == self.key_id
                && k.verify(
                    SignatureScheme::Ed25519,
                    SignInput::Message(&self.signed_bytes()),
                    &signature,
                )
                .is_ok()
        })
    }
}

/// The file name of the digest ending at `last_seq`.
pub fn digest_name(last_seq: u64) -> String {
    format!("digest-{last_seq:020}.json")
}

/// The digests of `dir`, in order.
pub fn digests(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let last = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("digest-"))
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse().ok());
        if let Some(last) = last {
            found.push((last, path));
        }
    }
    found.sort();
    Ok(found)
}

/// The public keys listed in `dir/keys`.
pub fn public_keys(dir: &Path) -> std::io::Result<Vec<PublicKey>> {
    let keys = dir.join("keys");
    let mut found = Vec::new();
    if !keys.exists() {
        return Ok(found);
    }
    for entry in std::fs::read_dir(keys)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json")
            && let Ok(key) = serde_json::from_slice::<PublicKey>(&std::fs::read(&path)?)
        {
            found.push(key);
        }
    }
    found.sort_by(|a, b| a.valid_from.cmp(&b.valid_from));
    Ok(found)
}

/// Lists `signer`'s public key in `dir/keys` if it is not there yet.
pub(crate) fn list_key(dir: &Path, signer: &DigestSigner, now_ms: i64) -> std::io::Result<()> {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys)?;
    let path = keys.join(format!("{}.json", signer.key_id));
    if path.exists() {
        return Ok(());
    }
    let key = PublicKey {
        key_id: signer.key_id.clone(),
        public_key: hex::encode(&signer.public_der),
        valid_from: crate::event::cloudtrail_time(now_ms),
    };
    let bytes = serde_json::to_vec_pretty(&key).map_err(std::io::Error::other)?;
    durable_write(&keys, &path, &bytes)
}

/// Signs and writes the digest of records `first..=last` ending with hash
/// `head`, after the digest whose signature is `previous`.
pub(crate) fn write_digest(
    dir: &Path,
    signer: &DigestSigner,
    first: u64,
    last: u64,
    head: &[u8; 32],
    previous: Option<&str>,
    now_ms: i64,
) -> std::io::Result<Digest> {
    let mut digest = Digest {
        digest_version: 1,
        first_seq: first,
        last_seq: last,
        head_hash: hex::encode(head),
        previous_signature: previous.map(str::to_owned),
        digest_time: crate::event::cloudtrail_time(now_ms),
        key_id: signer.key_id.clone(),
        signature: String::new(),
    };
    let signature = signer
        .sign(&digest.signed_bytes())
        .map_err(|_| std::io::Error::other("the audit digest could not be signed"))?;
    digest.signature = hex::encode(signature);
    let bytes = serde_json::to_vec_pretty(&digest).map_err(std::io::Error::other)?;
    durable_write(dir, &dir.join(digest_name(last)), &bytes)?;
    Ok(digest)
}

/// Writes a new file and makes it and its directory entry durable.
fn durable_write(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_signed_and_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let signer = DigestSigner::generate().expect("key");
        list_key(dir.path(), &signer, 0).expect("list");
        let keys = public_keys(dir.path()).expect("keys");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].key_id, signer.key_id());
        let d = write_digest(dir.path(), &signer, 1, 10, &[3; 32], None, 0).expect("digest");
        assert!(d.verify(&keys[0]));
        let mut forged = d.clone();
        forged.last_seq = 9;
        assert!(!forged.verify(&keys[0]));
        // The same key, reloaded from its sealed bytes.
        let again = DigestSigner::from_private_bytes(
            signer.private_bytes().expect("bytes").expose_secret(),
        )
        .expect("reload");
        assert_eq!(again.key_id(), signer.key_id());
        let other = DigestSigner::generate().expect("key");
        let mut wrong = keys[0].clone();
        wrong.public_key = hex::encode(&other.public_der);
        assert!(!d.verify(&wrong));
        assert_eq!(digests(dir.path()).expect("list").len(), 1);
    }
}
