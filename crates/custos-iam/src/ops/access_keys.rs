//! Access keys: `CreateAccessKey`, `ListAccessKeys`, `UpdateAccessKey`,
//! `DeleteAccessKey`, `GetAccessKeyLastUsed`.
//!
//! A user has at most two keys. The secret is generated here, sealed with
//! its record, and returned once, by `CreateAccessKey`; nothing lists or
//! logs it afterwards. Deactivating or deleting a key empties this node's
//! credential cache at once; other nodes stop honouring it within
//! [`crate::auth::CREDENTIAL_TTL`].

use custos_iam_wire::shapes::{AccessKey, AccessKeyLastUsed, AccessKeyMetadata, StatusType};
use custos_iam_wire::{
    CreateAccessKeyRequest, CreateAccessKeyResponse, DeleteAccessKeyRequest,
    GetAccessKeyLastUsedRequest, GetAccessKeyLastUsedResponse, IamResponse, ListAccessKeysRequest,
    ListAccessKeysResponse, UpdateAccessKeyRequest,
};
use custos_store::{Batch, Engine, Table};

use super::{date, page};
use crate::caller::{Caller, Principal};
use crate::ids::{self, IdKind};
use crate::records::{self, AccessKeyRecord, Kind, LastUsedRecord, RECORD_FORMAT, UserRecord};
use crate::{Iam, IamError, arn};

const MAX_KEYS_PER_USER: usize = 2;

fn no_such_key(id: &str) -> IamError {
    IamError::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

/// The user a request names, or the caller when it names none (which only
/// a user can be).
fn user_or_caller(caller: &Caller, name: Option<String>) -> Result<String, IamError> {
    match (name, caller.principal()) {
        (Some(n), _) => Ok(n),
        (None, Principal::User { name, .. } | Principal::UserSession { name, .. }) => {
            Ok(name.clone())
        }
        (None, Principal::AssumedRole { .. }) => Err(IamError::Validation(
            "Must specify userName when calling with non-User credentials".into(),
        )),
    }
}

fn status(active: bool) -> StatusType {
    if active {
        StatusType::Active
    } else {
        StatusType::Inactive
    }
}

impl<E: Engine> Iam<E> {
    pub(crate) async fn create_access_key(
        &self,
        caller: &Caller,
        r: CreateAccessKeyRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let name = user_or_caller(caller, r.user_name)?;
        let user = self
            .authorized::<UserRecord>(caller, "CreateAccessKey", &name)
            .await?;
        if user.record.access_keys.len() >= MAX_KEYS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
            )));
        }
        let access_key_id = ids::generate(IdKind::AccessKey)?;
        let secret = ids::generate_secret()?;
        let now = self.now_ms();
        let mut record = user.record.clone();
        record.access_keys.push(access_key_id.clone());
        let key = AccessKeyRecord {
            format: RECORD_FORMAT,
            access_key_id: access_key_id.clone(),
            account_id: account.to_string(),
            user_name: record.name.clone(),
            user_id: record.user_id.clone(),
            active: true,
            created_ms: now,
            secret: String::from_utf8_lossy(secret.expose_secret()).into_owned(),
        };
        let mut batch = Batch::new();
        batch.require_absent(Table::Identities, access_key_id.as_bytes().to_vec());
        self.put_access_key(&key, &mut batch)?;
        let user_name = record.name.clone();
        self.stage(
            &mut batch,
            Kind::User,
            account,
            &user_name,
            Some(user.raw),
            &record,
        )?;
        self.commit(batch).await?;
        Ok(IamResponse::CreateAccessKey(CreateAccessKeyResponse {
            access_key: AccessKey {
                user_name,
                access_key_id,
                status: StatusType::Active,
                secret_access_key: secret,
                create_date: date(now),
            },
        }))
    }

    /// The access key `id` of user `name` (as the request names them), or
    /// `NoSuchEntity`.
    async fn key_of_user(
        &self,
        caller: &Caller,
        action: &str,
        name: Option<String>,
        id: &str,
    ) -> Result<
        (
            crate::records::Loaded<crate::records::UserRecord>,
            AccessKeyRecord,
        ),
        IamError,
    > {
        let name = user_or_caller(caller, name)?;
        let user = self.authorized::<UserRecord>(caller, action, &name).await?;
        if !user.record.access_keys.iter().any(|k| k == id) {
            return Err(no_such_key(id));
        }
        let key = self.access_key(id).await?.ok_or_else(|| no_such_key(id))?;
        Ok((user, key))
    }

    pub(crate) async fn list_access_keys(
        &self,
        caller: &Caller,
        r: ListAccessKeysRequest,
    ) -> Result<IamResponse, IamError> {
        let name = user_or_caller(caller, r.user_name)?;
        let user = self
            .authorized::<UserRecord>(caller, "ListAccessKeys", &name)
            .await?;
        let mut keys = Vec::new();
        for id in &user.record.access_keys {
            if let Some(k) = self.access_key(id).await? {
                keys.push(AccessKeyMetadata {
                    user_name: user.record.name.clone(),
                    access_key_id: k.access_key_id.clone(),
                    status: status(k.active),
                    create_date: date(k.created_ms),
                });
            }
        }
        let (access_key_metadata, is_truncated, marker) = page(
            keys,
            |k| k.access_key_id.clone(),
            r.marker.as_deref(),
            r.max_items,
        );
        Ok(IamResponse::ListAccessKeys(ListAccessKeysResponse {
            access_key_metadata,
            is_truncated,
            marker,
        }))
    }

    pub(crate) async fn update_access_key(
        &self,
        caller: &Caller,
        r: UpdateAccessKeyRequest,
    ) -> Result<IamResponse, IamError> {
        let active = match r.status {
            StatusType::Active => true,
            StatusType::Inactive => false,
            StatusType::Expired => {
                return Err(IamError::Validation(
                    "1 validation error detected: Value 'Expired' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]".into(),
                ));
            }
        };
        let (_, mut key) = self
            .key_of_user(caller, "UpdateAccessKey", r.user_name, &r.access_key_id)
            .await?;
        key.active = active;
        let mut batch = Batch::new();
        self.put_access_key(&key, &mut batch)?;
        self.commit(batch).await?;
        Ok(IamResponse::UpdateAccessKey)
    }

    pub(crate) async fn delete_access_key(
        &self,
        caller: &Caller,
        r: DeleteAccessKeyRequest,
    ) -> Result<IamResponse, IamError> {
        let (user, key) = self
            .key_of_user(caller, "DeleteAccessKey", r.user_name, &r.access_key_id)
            .await?;
        let mut record = user.record.clone();
        record.access_keys.retain(|k| k != &key.access_key_id);
        let mut batch = Batch::new();
        batch
            .delete(Table::Identities, key.access_key_id.as_bytes().to_vec())
            .delete(Table::Iam, records::last_used_row(&key.access_key_id));
        let name = record.name.clone();
        self.stage(
            &mut batch,
            Kind::User,
            caller.account(),
            &name,
            Some(user.raw),
            &record,
        )?;
        self.commit(batch).await?;
        Ok(IamResponse::DeleteAccessKey)
    }

    pub(crate) async fn get_access_key_last_used(
        &self,
        caller: &Caller,
        r: GetAccessKeyLastUsedRequest,
    ) -> Result<IamResponse, IamError> {
        let account = caller.account();
        let key = self.access_key(&r.access_key_id).await?;
        // A key of another account is as unknown as one that never was.
        let key = key.filter(|k| k.account_id == account.as_str());
        let resource = match &key {
            Some(k) => arn::user(account, "/", &k.user_name),
            None => arn::user(account, "/", "*"),
        };
        self.authorize_iam(caller, "GetAccessKeyLastUsed", &resource)?;
        let key = key.ok_or_else(|| no_such_key(&r.access_key_id))?;
        let row = records::last_used_row(&key.access_key_id);
        let used: Option<LastUsedRecord> =
            records::load(&self.engine, &self.sealer, Table::Iam, &row)
                .await?
                .map(|l| l.record);
        Ok(IamResponse::GetAccessKeyLastUsed(
            GetAccessKeyLastUsedResponse {
                user_name: Some(key.user_name.clone()),
                access_key_last_used: match used {
                    Some(u) => AccessKeyLastUsed {
                        last_used_date: Some(date(u.used_ms)),
                        service_name: u.service,
                        region: u.region,
                    },
                    // IAM's answer for a key never used.
                    None => AccessKeyLastUsed {
                        last_used_date: None,
                        service_name: "N/A".into(),
                        region: "N/A".into(),
                    },
                },
            },
        ))
    }
}
