//! Keys in the store: where each record lives, how a `KeyId` resolves to a
//! key, how material is sealed and unsealed, and the state checks every
//! cryptographic operation makes.
//!
//! # Layout in the store
//!
//! | table      | key                              | value                          |
//! |------------|----------------------------------|--------------------------------|
//! | `Keys`     | `{region}/{key id}`              | [`KeyRecord`] as JSON          |
//! | `Material` | `{region}/{key id}/{version:010}`| material sealed under store key|
//! | `Aliases`  | `{region}/{account}/{alias name}`| [`AliasRecord`] as JSON        |
//!
//! Key ids are random UUIDs, unique across accounts, so key rows need no
//! account; each key record names its account, and a key of another
//! account is "not found" to a caller, as on AWS.

use custos_crypto::Key256;
use custos_store::{Batch, Engine, Table};
use serde::{Deserialize, Serialize};

use crate::authz::Caller;
use crate::authz::access::Authorized;
use crate::material::Material;
use crate::model::{KEY_RECORD_FORMAT, KeyRecord};
use crate::names::AccountId;
use crate::names::{AliasName, KeyRef, KeyRefError, KeyUuid, Region, alias_arn, key_arn};
use crate::{Kms, KmsError, seal};

pub(crate) fn key_row(region: &str, id: &str) -> Vec<u8> {
    format!("{region}/{id}").into_bytes()
}

pub(crate) fn material_row(region: &str, id: &str, version: u32) -> Vec<u8> {
    format!("{region}/{id}/{version:010}").into_bytes()
}

pub(crate) fn alias_row(region: &Region, account: &AccountId, alias: &AliasName) -> Vec<u8> {
    format!("{region}/{account}/{alias}").into_bytes()
}

/// The prefix of every alias of `account` in `region`.
pub(crate) fn alias_prefix(region: &Region, account: &AccountId) -> Vec<u8> {
    format!("{region}/{account}/").into_bytes()
}

pub(crate) fn material_aad(region: &str, id: &str, version: u32) -> Vec<u8> {
    seal::aad(
        "custos.key-material.v1",
        &[region.as_bytes(), id.as_bytes(), &version.to_be_bytes()],
    )
}

/// The associated data of format-2 material (every key spec but
/// `SYMMETRIC_DEFAULT`): also binds the key spec and usage, so that
/// material can only ever be read as the kind of key it was made for.
pub(crate) fn material_aad_v2(
    region: &str,
    id: &str,
    version: u32,
    spec: crate::model::KeySpec,
    usage: crate::model::KeyUsage,
) -> Vec<u8> {
    seal::aad(
        "custos.key-material.v2",
        &[
            region.as_bytes(),
            id.as_bytes(),
            &version.to_be_bytes(),
            spec.as_str().as_bytes(),
            usage.as_str().as_bytes(),
        ],
    )
}

fn aad_for(key: &KeyRecord, version: u32) -> Vec<u8> {
    if key.key_spec == crate::model::KeySpec::SymmetricDefault {
        material_aad(&key.region, &key.key_id, version)
    } else {
        material_aad_v2(
            &key.region,
            &key.key_id,
            version,
            key.key_spec,
            key.key_usage,
        )
    }
}

/// An alias, persisted as JSON in the `Aliases` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasRecord {
    pub format: u32,
    pub alias_name: String,
    pub key_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

pub(crate) const ALIAS_RECORD_FORMAT: u32 = 1;

/// How a key or alias record is stored: its JSON with an HMAC-SHA256 tag
/// under a key derived from the store key, over the table, the row and the
/// record's bytes:
///
/// ```text
/// {"mac":"<64 hex digits>","record":<record JSON>}
/// ```
///
/// A record edited in the store file (a disabled key re-enabled, a key
/// policy widened, a deletion date moved) or moved to another row (one
/// key's record under another's id, an alias pointed elsewhere) fails the
/// tag and is refused as corrupt, never obeyed. What the tag cannot tell
/// is an older authentic copy of the same row put back (a replay): see
/// `docs/storage-format.md`.
#[derive(Deserialize)]
struct Authenticated<'a> {
    mac: &'a str,
    #[serde(borrow)]
    record: &'a serde_json::value::RawValue,
}

fn record_aad(table: Table, row: &[u8]) -> Vec<u8> {
    let name: &[u8] = match table {
        Table::Keys => b"keys",
        Table::Aliases => b"aliases",
        _ => b"other",
    };
    seal::aad("custos.record.v1", &[name, row])
}

/// The stored form of `record` (JSON) at `row` of `table`.
pub(crate) fn authenticate_record(
    sealer: &custos_crypto::seal::Sealer,
    table: Table,
    row: &[u8],
    record: &[u8],
) -> Result<Vec<u8>, KmsError> {
    let tag = sealer.authenticate(&record_aad(table, row), record)?;
    let mut out = Vec::with_capacity(record.len() + 90);
    out.extend_from_slice(b"{\"mac\":\"");
    out.extend_from_slice(hex::encode(tag).as_bytes());
    out.extend_from_slice(b"\",\"record\":");
    out.extend_from_slice(record);
    out.push(b'}');
    Ok(out)
}

/// The record JSON `stored` at `row` of `table` holds, if its tag is
/// right.
pub(crate) fn authentic_record<'b>(
    sealer: &custos_crypto::seal::Sealer,
    table: Table,
    row: &[u8],
    stored: &'b [u8],
) -> Result<&'b [u8], KmsError> {
    let refused = || {
        tracing::error!(
            row = %String::from_utf8_lossy(row),
            "a stored record failed its authentication: the store was edited"
        );
        KmsError::Corrupt {
            what: format!(
                "record {} (it fails authentication)",
                String::from_utf8_lossy(row)
            ),
        }
    };
    let wrapped: Authenticated<'b> = serde_json::from_slice(stored).map_err(|_| refused())?;
    let mut tag = [0u8; 32];
    hex::decode_to_slice(wrapped.mac, &mut tag).map_err(|_| refused())?;
    let record = wrapped.record.get().as_bytes();
    if sealer.is_authentic(&record_aad(table, row), record, &tag) {
        Ok(record)
    } else {
        Err(refused())
    }
}

pub(crate) fn decode_key(bytes: &[u8]) -> Result<KeyRecord, KmsError> {
    match serde_json::from_slice::<KeyRecord>(bytes) {
        Ok(r) if r.format == KEY_RECORD_FORMAT && !r.materials.is_empty() => Ok(r),
        _ => Err(KmsError::Corrupt {
            what: "key record".into(),
        }),
    }
}

/// Key records decoded before, with the bytes they were decoded from: a
/// record read again is decoded again only if its bytes changed. Every read
/// still goes to the store and the bytes are compared whole, so the cache
/// can never serve a stale record (nothing to invalidate, on one node or
/// many); it saves the JSON decoding of the record and its key policy,
/// which a profile showed costing more than the policy's evaluation.
#[derive(Default)]
pub(crate) struct DecodedKeys {
    cache: std::sync::RwLock<Decoded>,
}

/// Records by row, each with the bytes it was decoded from, and the bytes
/// held (twice a record's size: its bytes and its decoded form).
#[derive(Default)]
struct Decoded {
    records: std::collections::HashMap<Vec<u8>, (Vec<u8>, KeyRecord)>,
    bytes: usize,
}

/// Beyond this many bytes held the cache starts over: a key policy may be
/// 32 KiB, so a count of entries would not bound the memory.
const MAX_DECODED_BYTES: usize = 32 * 1024 * 1024;

impl std::fmt::Debug for DecodedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedKeys").finish_non_exhaustive()
    }
}

impl DecodedKeys {
    /// The record `bytes` (read from `row`) encode, read by `read` unless
    /// the same bytes were read before.
    fn decode(
        &self,
        row: &[u8],
        bytes: Vec<u8>,
        read: impl FnOnce(&[u8]) -> Result<KeyRecord, KmsError>,
    ) -> Result<KeyRecord, KmsError> {
        // A panic while holding the lock leaves whole entries behind.
        if let Some((seen, record)) = self
            .cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .records
            .get(row)
            && *seen == bytes
        {
            return Ok(record.clone());
        }
        let record = read(&bytes)?;
        let cost = 2 * bytes.len() + row.len();
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if cache.bytes + cost > MAX_DECODED_BYTES {
            cache.records.clear();
            cache.bytes = 0;
        }
        if let Some((old, _)) = cache.records.insert(row.to_vec(), (bytes, record.clone())) {
            cache.bytes = cache.bytes.saturating_sub(2 * old.len() + row.len());
        }
        cache.bytes += cost;
        Ok(record)
    }
}

/// Public keys known to belong to their key's private key, by key id: the
/// SHA-256 of the public key checked. A key record (its public key with
/// it) is not sealed, so an edit of the store could swap in a public key
/// whose private key an attacker holds, and Verify would accept the
/// attacker's signatures; the sealed private material cannot be swapped.
/// Each public key is checked against it once per process.
#[derive(Default)]
pub(crate) struct BoundPublicKeys {
    checked: std::sync::RwLock<std::collections::HashMap<String, [u8; 32]>>,
}

/// Beyond this many keys the set starts over (a recheck costs one unseal).
const MAX_BOUND_PUBLIC_KEYS: usize = 100_000;

impl std::fmt::Debug for BoundPublicKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundPublicKeys").finish_non_exhaustive()
    }
}

impl<E: Engine> Kms<E> {
    /// The public key (DER) of the asymmetric key `authorized` names, once
    /// it is known to be the public half of the key's sealed private key.
    /// A record whose public key is not is refused as corrupt.
    pub(crate) async fn bound_public_key(
        &self,
        authorized: &Authorized,
    ) -> Result<Vec<u8>, KmsError> {
        use base64::Engine as _;
        let key = authorized.key();
        let corrupt = || KmsError::Corrupt {
            what: format!("public key of {}", key.key_id),
        };
        let recorded = key
            .public_key
            .as_deref()
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .ok_or_else(corrupt)?;
        let digest = custos_crypto::mac::sha256(&recorded);
        let cache = &self.bound_public_keys().checked;
        if cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key.key_id)
            == Some(&digest)
        {
            return Ok(recorded);
        }
        let derived = self
            .current_material(authorized)
            .await?
            .public_key_der()?
            .ok_or_else(corrupt)?;
        if derived != recorded {
            tracing::error!(
                key = %key.key_id,
                "the key record's public key is not its private key's: the store was edited"
            );
            return Err(corrupt());
        }
        let mut checked = cache.write().unwrap_or_else(|p| p.into_inner());
        if checked.len() >= MAX_BOUND_PUBLIC_KEYS {
            checked.clear();
        }
        checked.insert(key.key_id.clone(), digest);
        Ok(recorded)
    }
}

pub(crate) fn encode_key(record: &KeyRecord) -> Result<Vec<u8>, KmsError> {
    serde_json::to_vec(record).map_err(|_| KmsError::Corrupt {
        what: "key record".into(),
    })
}

pub(crate) fn decode_alias(bytes: &[u8]) -> Result<AliasRecord, KmsError> {
    match serde_json::from_slice::<AliasRecord>(bytes) {
        Ok(r) if r.format == ALIAS_RECORD_FORMAT => Ok(r),
        _ => Err(KmsError::Corrupt {
            what: "alias record".into(),
        }),
    }
}

pub(crate) fn encode_alias(record: &AliasRecord) -> Result<Vec<u8>, KmsError> {
    serde_json::to_vec(record).map_err(|_| KmsError::Corrupt {
        what: "alias record".into(),
    })
}

impl<E: Engine> Kms<E> {
    /// The stored form of key record `record` at `row`.
    pub(crate) fn store_key_record(
        &self,
        row: &[u8],
        record: &KeyRecord,
    ) -> Result<Vec<u8>, KmsError> {
        authenticate_record(self.sealer(), Table::Keys, row, &encode_key(record)?)
    }

    /// The key record stored at `row`, if authentic.
    pub(crate) fn read_key_record(&self, row: &[u8], stored: &[u8]) -> Result<KeyRecord, KmsError> {
        decode_key(authentic_record(self.sealer(), Table::Keys, row, stored)?)
    }

    /// The stored form of alias record `record` at `row`.
    pub(crate) fn store_alias_record(
        &self,
        row: &[u8],
        record: &AliasRecord,
    ) -> Result<Vec<u8>, KmsError> {
        authenticate_record(self.sealer(), Table::Aliases, row, &encode_alias(record)?)
    }

    /// The alias record stored at `row`, if authentic.
    pub(crate) fn read_alias_record(
        &self,
        row: &[u8],
        stored: &[u8],
    ) -> Result<AliasRecord, KmsError> {
        decode_alias(authentic_record(
            self.sealer(),
            Table::Aliases,
            row,
            stored,
        )?)
    }

    /// The key record of key `id` in `region`, if it exists.
    pub(crate) async fn load_key(
        &self,
        region: &Region,
        id: &KeyUuid,
    ) -> Result<Option<KeyRecord>, KmsError> {
        let row = key_row(region.as_str(), &id.to_string());
        match self.engine().get(Table::Keys, &row).await? {
            Some(bytes) => self
                .decoded_keys()
                .decode(&row, bytes, |b| self.read_key_record(&row, b))
                .map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn load_alias(
        &self,
        region: &Region,
        account: &AccountId,
        alias: &AliasName,
    ) -> Result<Option<AliasRecord>, KmsError> {
        let row = alias_row(region, account, alias);
        match self.engine().get(Table::Aliases, &row).await? {
            Some(bytes) => self.read_alias_record(&row, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn key_not_found(region: &Region, account: &AccountId, id: &KeyUuid) -> KmsError {
        KmsError::NotFound(format!(
            "Key '{}' does not exist",
            key_arn(region, account, id)
        ))
    }

    /// Resolves a `KeyId` in any of its four forms to the key it names, in
    /// the caller's region. The one resolution every operation uses.
    ///
    /// A key id or alias name names the caller's own account's; a key ARN
    /// or alias ARN may name another account's key, which authorization
    /// then decides on (its key policy must allow the caller's account, and
    /// the action must be one AWS allows across accounts).
    pub async fn resolve(&self, caller: &Caller, raw: &str) -> Result<KeyRecord, KmsError> {
        let region = caller.region();
        let key_ref = KeyRef::parse(raw).map_err(|e| match e {
            KeyRefError::InvalidArn => KmsError::NotFound("Invalid arn".into()),
            KeyRefError::InvalidKeyId => KmsError::NotFound(format!("Invalid keyId '{raw}'")),
        })?;
        let (account, id) = match key_ref {
            KeyRef::Id(id) => (caller.account().clone(), id),
            KeyRef::KeyArn {
                region: r,
                account,
                id,
            } => {
                if r != region.as_str() {
                    // AWS names only the foreign region.
                    return Err(KmsError::NotFound(format!("Invalid arn {r}")));
                }
                let Some(account) = AccountId::parse(&account) else {
                    return Err(KmsError::NotFound(format!("Key '{raw}' does not exist")));
                };
                (account, id)
            }
            KeyRef::Alias(alias) => (
                caller.account().clone(),
                self.resolve_alias(region, caller.account(), &alias).await?,
            ),
            KeyRef::AliasArn {
                region: r,
                account,
                alias,
            } => {
                if r != region.as_str() {
                    return Err(KmsError::NotFound(format!("Invalid arn {r}")));
                }
                let Some(account) = AccountId::parse(&account) else {
                    return Err(KmsError::NotFound(format!("Alias {raw} is not found.")));
                };
                let id = self.resolve_alias(region, &account, &alias).await?;
                (account, id)
            }
        };
        self.load_key(region, &id)
            .await?
            // A key is found only in the account the request names.
            .filter(|k| k.account_id == account.as_str())
            .ok_or_else(|| Self::key_not_found(region, &account, &id))
    }

    /// The names of the aliases of `key` (`alias/…`), for
    /// `kms:ResourceAliases`: a scan of its account's aliases in its region.
    pub(crate) async fn aliases_of(&self, key: &KeyRecord) -> Result<Vec<String>, KmsError> {
        let (Some(region), Some(account)) = (
            self.served_region(&key.region).cloned(),
            AccountId::parse(&key.account_id),
        ) else {
            return Ok(Vec::new());
        };
        let prefix = alias_prefix(&region, &account);
        let mut names = Vec::new();
        let mut cursor: Option<Vec<u8>> = None;
        loop {
            let rows = self
                .engine()
                .scan(Table::Aliases, &prefix, cursor.as_deref(), 1000)
                .await?;
            let exhausted = rows.len() < 1000;
            for (row, bytes) in rows {
                let record = self.read_alias_record(&row, &bytes)?;
                if record.key_id == key.key_id {
                    names.push(record.alias_name);
                }
                cursor = Some(row);
            }
            if exhausted {
                return Ok(names);
            }
        }
    }

    async fn resolve_alias(
        &self,
        region: &Region,
        account: &AccountId,
        alias: &AliasName,
    ) -> Result<KeyUuid, KmsError> {
        let record = self
            .load_alias(region, account, alias)
            .await?
            .ok_or_else(|| {
                KmsError::NotFound(format!(
                    "Alias {} is not found.",
                    alias_arn(region, account, alias)
                ))
            })?;
        KeyUuid::parse(&record.key_id).ok_or_else(|| KmsError::Corrupt {
            what: "alias record".into(),
        })
    }

    /// Unseals version `version` of a symmetric key's material; only for
    /// a request authorized on the key.
    pub(crate) async fn material(
        &self,
        authorized: &Authorized,
        version: u32,
    ) -> Result<Key256, KmsError> {
        let key = authorized.key();
        match self.key_material(authorized, version).await? {
            Material::Symmetric(k) => Ok(k),
            _ => Err(KmsError::Corrupt {
                what: format!("material {}/{version}", key.key_id),
            }),
        }
    }

    /// Unseals and loads version `version` of any key's material; only for
    /// a request authorized on the key.
    pub(crate) async fn key_material(
        &self,
        authorized: &Authorized,
        version: u32,
    ) -> Result<Material, KmsError> {
        let key = authorized.key();
        let corrupt = || KmsError::Corrupt {
            what: format!("material {}/{version}", key.key_id),
        };
        let sealed = self
            .engine()
            .get(
                Table::Material,
                &material_row(&key.region, &key.key_id, version),
            )
            .await?
            .ok_or_else(corrupt)?;
        let secret = self
            .sealer()
            .open(&aad_for(key, version), &sealed)
            .map_err(|_| corrupt())?;
        Material::decode(key.key_spec, key.key_usage, secret.expose_secret()).map_err(|_| corrupt())
    }

    /// The current material of a key (asymmetric and HMAC keys have one
    /// version).
    pub(crate) async fn current_material(
        &self,
        authorized: &Authorized,
    ) -> Result<Material, KmsError> {
        let version = authorized
            .key()
            .current_material()
            .ok_or_else(|| KmsError::Corrupt {
                what: format!("key {}", authorized.key().key_id),
            })?
            .version;
        self.key_material(authorized, version).await
    }

    /// Adds a sealed symmetric material version to `batch`.
    pub(crate) fn seal_material(
        &self,
        key: &KeyRecord,
        version: u32,
        material: &Key256,
        batch: &mut Batch,
    ) -> Result<(), KmsError> {
        self.seal_key_material(
            key,
            version,
            &Material::Symmetric(Key256::from_slice(material.expose_secret())?),
            batch,
        )
    }

    /// Adds sealed material of any kind to `batch`, in the format its key
    /// spec calls for (see `crate::material`).
    pub(crate) fn seal_key_material(
        &self,
        key: &KeyRecord,
        version: u32,
        material: &Material,
        batch: &mut Batch,
    ) -> Result<(), KmsError> {
        let plaintext = material.encode()?;
        let sealed = self
            .sealer()
            .seal(&aad_for(key, version), plaintext.expose_secret())?;
        batch.put(
            Table::Material,
            material_row(&key.region, &key.key_id, version),
            sealed,
        );
        Ok(())
    }
}

impl<E: Engine> Kms<E> {
    /// Encrypts `plaintext` under the key's current material. Returns the
    /// blob and the `KeyMaterialId` used.
    pub(crate) async fn encrypt_with_current(
        &self,
        authorized: &Authorized,
        context: &crate::context::EncryptionContext,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, String), KmsError> {
        let key = authorized.key();
        let corrupt = || KmsError::Corrupt {
            what: format!("key {}", key.key_id),
        };
        let current = key.current_material().ok_or_else(corrupt)?;
        let id = KeyUuid::parse(&key.key_id).ok_or_else(corrupt)?;
        let material = self.material(authorized, current.version).await?;
        let blob = crate::ciphertext::encrypt(&material, &id, current.version, context, plaintext)?;
        Ok((blob, current.material_id.clone()))
    }
}

/// How many times a read-modify-write of a key record is retried when
/// another writer changed the record in between.
const MODIFY_ATTEMPTS: usize = 8;

impl<E: Engine> Kms<E> {
    /// Changes a key record atomically: reads it, applies `change` to the
    /// current record (which may differ from the caller's copy, so `change`
    /// re-checks whatever it depends on), writes it back only if nobody
    /// else wrote it meanwhile, and retries otherwise. `extra` adds writes
    /// to the same batch (new material, say). Returns the record written.
    pub(crate) async fn modify_key<F>(
        &self,
        key: &KeyRecord,
        mut change: F,
    ) -> Result<KeyRecord, KmsError>
    where
        F: FnMut(&mut KeyRecord, &mut Batch) -> Result<(), KmsError>,
    {
        let row = key_row(&key.region, &key.key_id);
        for _ in 0..MODIFY_ATTEMPTS {
            let bytes =
                self.engine().get(Table::Keys, &row).await?.ok_or_else(|| {
                    KmsError::NotFound(format!("Key '{}' does not exist", key.arn()))
                })?;
            let mut record = self.read_key_record(&row, &bytes)?;
            let mut batch = Batch::new();
            change(&mut record, &mut batch)?;
            let stored = self.store_key_record(&row, &record)?;
            batch.require_equals(Table::Keys, row.clone(), bytes).put(
                Table::Keys,
                row.clone(),
                stored,
            );
            match self.engine().commit(batch).await {
                Ok(()) => return Ok(record),
                Err(custos_store::StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(KmsError::Store(custos_store::StoreError::Conflict))
    }

    /// Adds a new material version to `record` (and its sealed material to
    /// `batch`): what rotation does.
    pub(crate) fn add_material_version(
        &self,
        record: &mut KeyRecord,
        rotation_type: crate::model::RotationType,
        now_ms: i64,
        batch: &mut Batch,
    ) -> Result<(), KmsError> {
        let version = record
            .materials
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| KmsError::LimitExceeded("Too many key material versions.".into()))?;
        let material = Key256::generate()?;
        self.seal_material(record, version, &material, batch)?;
        record.materials.push(crate::model::MaterialVersion {
            version,
            material_id: hex::encode(custos_crypto::rand::array::<32>()?),
            created_ms: now_ms,
            rotation_type: Some(rotation_type),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeySpec, KeyState, KeyUsage, Origin};

    // A store made before records were authenticated: its records are
    // given their tags once, at the next open; after that a record
    // without its tag, or with another row's, is refused.
    #[tokio::test]
    async fn records_of_an_older_store_are_authenticated_once_then_checked() {
        use std::sync::Arc;

        use custos_store::redb::RedbEngine;
        use custos_wire::shapes::CreateKeyRequest;

        use crate::root_key::file::FileProvider;
        use crate::{Settings, SystemClock};

        let dir = tempfile::tempdir().expect("tempdir");
        let root = FileProvider::open_or_create(&dir.path().join("root.key")).expect("root");
        let engine = RedbEngine::open(&dir.path().join("store.redb")).expect("store");
        let region = Region::parse("us-east-1").expect("region");
        let settings = || Settings {
            account_id: None,
            regions: vec![region.clone()],
            clock: Arc::new(SystemClock::new()),
        };
        let kms = Kms::open(engine.clone(), &root, settings())
            .await
            .expect("open");
        let caller = Caller::for_tests(kms.account().clone(), region.clone(), "test");
        let mut ids = Vec::new();
        for _ in 0..2 {
            let created = kms
                .create_key(&caller, CreateKeyRequest::default())
                .await
                .expect("create");
            ids.push(created.key_metadata.key_id);
        }
        drop(kms);

        // Back to the older layout: bare records, no marker.
        let stored = engine.scan(Table::Keys, b"", None, 10).await.expect("scan");
        let bare = |bytes: &[u8]| {
            let v: serde_json::Value = serde_json::from_slice(bytes).expect("json");
            serde_json::to_vec(&v["record"]).expect("json")
        };
        let mut batch = Batch::new();
        for (row, bytes) in &stored {
            batch.put(Table::Keys, row.clone(), bare(bytes));
        }
        batch.delete(Table::Meta, b"records-authenticated-v1".to_vec());
        engine.commit(batch).await.expect("commit");

        let kms = Kms::open(engine.clone(), &root, settings())
            .await
            .expect("reopen");
        for id in &ids {
            kms.resolve(&caller, id)
                .await
                .expect("an upgraded record reads");
        }
        // Now a bare record, or one moved to another row, is refused.
        let (row0, bytes0) = &stored[0];
        let (row1, _) = &stored[1];
        let mut batch = Batch::new();
        batch.put(Table::Keys, row0.clone(), bare(bytes0));
        batch.put(Table::Keys, row1.clone(), bytes0.clone());
        engine.commit(batch).await.expect("commit");
        for id in &ids {
            assert!(
                matches!(
                    kms.resolve(&caller, id).await,
                    Err(KmsError::Corrupt { .. })
                ),
                "{id}"
            );
        }
    }

    // Records written by earlier versions must keep reading.
    #[test]
    fn reads_records_of_format_1() {
        let key = decode_key(include_bytes!("../tests/fixtures/key-record-v1.json"))
            .expect("key record v1");
        assert_eq!(key.key_id, "1234abcd-12ab-44cd-96ef-1234567890ab");
        assert_eq!(key.key_spec, KeySpec::SymmetricDefault);
        assert_eq!(key.key_usage, KeyUsage::EncryptDecrypt);
        assert_eq!(key.origin, Origin::AwsKms);
        assert_eq!(key.state, KeyState::Enabled);
        assert_eq!(key.tags, vec![("team".to_owned(), "core".to_owned())]);
        assert_eq!(key.materials.len(), 1);
        assert_eq!(key.materials[0].rotation_type, None);
        assert_eq!(key.rotation, None);
        let alias = decode_alias(include_bytes!("../tests/fixtures/alias-record-v1.json"))
            .expect("alias record v1");
        assert_eq!(alias.alias_name, "alias/test");
    }

    #[test]
    fn refuses_unknown_formats() {
        let text = include_str!("../tests/fixtures/key-record-v1.json")
            .replace("\"format\":1", "\"format\":2");
        assert!(decode_key(text.as_bytes()).is_err());
        assert!(decode_key(b"{}").is_err());
        assert!(decode_alias(b"not json").is_err());
    }
}
