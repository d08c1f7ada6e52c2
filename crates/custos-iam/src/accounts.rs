//! Accounts, and the first administrator of each.
//!
//! An account is created with one IAM user holding an administrator
//! policy (`Allow` `*` on `*`, inline, named `AdministratorAccess`) and
//! one access key, whose secret is shown once. The bootstrap
//! administrator of a new installation is exactly that, for the first
//! account: an ordinary user that policies can narrow, not a special
//! case in code.

use custos_crypto::SecretBytes;
use custos_crypto::seal;
use custos_store::{Batch, Engine, StoreError, Table};
use serde::Deserialize;

use crate::ids::{self, IdKind};
use crate::records::{self, AccessKeyRecord, AccountRecord, RECORD_FORMAT, UserRecord};
use crate::{AccountId, Iam, IamError};

/// The name of the first administrator of every account.
pub const ADMIN_USER: &str = "custos-admin";
/// The name of its inline policy.
pub const ADMIN_POLICY_NAME: &str = "AdministratorAccess";
/// Its document: everything, everywhere.
pub const ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The row of the installation's meta table naming the bootstrap access
/// key (kept from the first format, so that old data directories open).
const BOOTSTRAP: &[u8] = b"bootstrap-identity";

/// An account's first administrator, as made or found.
#[derive(Debug)]
pub struct Admin {
    pub account: AccountId,
    pub user_arn: String,
    pub access_key_id: String,
    /// The secret when it was just generated, or given and not stored
    /// before: to show once. `None` when an earlier start showed it.
    pub new_secret: Option<SecretBytes>,
}

/// A line of `custos account list`.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub account: AccountId,
    pub created_ms: i64,
    pub users: usize,
}

impl<E: Engine> Iam<E> {
    /// Creates `account` (a random id when `None`) with its administrator.
    pub async fn create_account(&self, account: Option<AccountId>) -> Result<Admin, IamError> {
        let account = match account {
            Some(a) => a,
            None => AccountId::generate()?,
        };
        let mut batch = Batch::new();
        let key = self.new_account(&account, None, &mut batch)?;
        match self.engine.commit(batch).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(IamError::EntityAlreadyExists(format!(
                    "Account {account} already exists."
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.invalidate();
        Ok(key)
    }

    /// The accounts, in order.
    pub async fn accounts(&self) -> Result<Vec<AccountSummary>, IamError> {
        let entries = self
            .engine
            .scan(Table::Iam, b"account/", None, 100_000)
            .await?;
        let mut out = Vec::with_capacity(entries.len());
        for (row, raw) in entries {
            let record: AccountRecord = records::open_record(&self.sealer, Table::Iam, &row, &raw)?;
            let account =
                AccountId::parse(&record.account_id).ok_or_else(|| IamError::Corrupt {
                    what: "account record".into(),
                })?;
            let users = records::scan_all::<_, UserRecord>(
                &self.engine,
                &self.sealer,
                records::Kind::User,
                account.as_str(),
            )
            .await?
            .len();
            out.push(AccountSummary {
                account,
                created_ms: record.created_ms,
                users,
            });
        }
        Ok(out)
    }

    /// Whether `account` exists.
    pub async fn account_exists(&self, account: &AccountId) -> Result<bool, IamError> {
        Ok(self
            .engine
            .get(Table::Iam, &records::account_row(account.as_str()))
            .await?
            .is_some())
    }

    /// Makes sure the installation's first account and its administrator
    /// (the bootstrap identity) exist. With `given` credentials, that
    /// access key is the administrator's (created, or its secret
    /// replaced); otherwise the first start generates one and later starts
    /// find it. A data directory of the first format (one identity, no
    /// IAM records) is upgraded in place, keeping its access key.
    pub async fn ensure_bootstrap(
        &self,
        account: &AccountId,
        given: Option<(String, SecretBytes)>,
    ) -> Result<Admin, IamError> {
        let recorded = self.engine.get(Table::Meta, BOOTSTRAP).await?;
        let exists = self.account_exists(account).await?;
        if let Some(id) = &recorded
            && !exists
        {
            let id = String::from_utf8(id.clone()).map_err(|_| IamError::Corrupt {
                what: "bootstrap identity".into(),
            })?;
            self.upgrade_format_1(account, &id).await?;
            return Box::pin(self.ensure_bootstrap(account, given)).await;
        }
        match (given, exists) {
            (None, true) => {
                let access_key_id = recorded
                    .and_then(|id| String::from_utf8(id).ok())
                    .ok_or_else(|| IamError::Corrupt {
                        what: "bootstrap identity".into(),
                    })?;
                Ok(Admin {
                    user_arn: crate::arn::user(account, "/", ADMIN_USER),
                    account: account.clone(),
                    access_key_id,
                    new_secret: None,
                })
            }
            (given, false) => {
                let mut batch = Batch::new();
                let admin = self.new_account(account, given, &mut batch)?;
                batch.require_absent(Table::Meta, BOOTSTRAP).put(
                    Table::Meta,
                    BOOTSTRAP,
                    admin.access_key_id.as_bytes(),
                );
                match self.engine.commit(batch).await {
                    Ok(()) => Ok(admin),
                    // Another node made it at the same moment; it showed
                    // the secret.
                    Err(StoreError::Conflict) => {
                        Box::pin(self.ensure_bootstrap(account, None)).await
                    }
                    Err(e) => Err(e.into()),
                }
            }
            (Some((access_key_id, secret)), true) => {
                self.set_bootstrap_key(account, access_key_id, secret).await
            }
        }
    }

    /// Test rigs and operators may give the bootstrap credentials: make
    /// that key the administrator's, with that secret.
    async fn set_bootstrap_key(
        &self,
        account: &AccountId,
        access_key_id: String,
        secret: SecretBytes,
    ) -> Result<Admin, IamError> {
        let Some(user) = self.user_record(account, ADMIN_USER).await? else {
            return Err(IamError::Corrupt {
                what: "bootstrap administrator".into(),
            });
        };
        let existing = self.access_key(&access_key_id).await?;
        let unchanged = existing.as_ref().is_some_and(|k| {
            k.user_id == user.record.user_id
                && custos_crypto::ct::eq(k.secret.as_bytes(), secret.expose_secret())
        });
        if unchanged {
            return Ok(Admin {
                user_arn: crate::arn::user(account, "/", ADMIN_USER),
                account: account.clone(),
                access_key_id,
                new_secret: None,
            });
        }
        let mut batch = Batch::new();
        let mut record = user.record;
        if !record.access_keys.contains(&access_key_id) {
            record.access_keys.push(access_key_id.clone());
        }
        let row = records::row(records::Kind::User, account.as_str(), ADMIN_USER);
        batch.require_equals(Table::Iam, row.clone(), user.raw).put(
            Table::Iam,
            row.clone(),
            records::seal_record(&self.sealer, Table::Iam, &row, &record)?,
        );
        self.put_access_key(
            &AccessKeyRecord {
                format: RECORD_FORMAT,
                access_key_id: access_key_id.clone(),
                account_id: account.to_string(),
                user_name: record.name.clone(),
                user_id: record.user_id.clone(),
                active: true,
                created_ms: self.now_ms(),
                secret: String::from_utf8_lossy(secret.expose_secret()).into_owned(),
            },
            &mut batch,
        )?;
        batch.put(Table::Meta, BOOTSTRAP, access_key_id.as_bytes());
        self.engine.commit(batch).await?;
        self.invalidate();
        Ok(Admin {
            user_arn: crate::arn::user(account, "/", ADMIN_USER),
            account: account.clone(),
            access_key_id,
            new_secret: Some(secret),
        })
    }

    /// Adds to `batch` the records of a new account: the account, its
    /// administrator and the administrator's access key.
    fn new_account(
        &self,
        account: &AccountId,
        given: Option<(String, SecretBytes)>,
        batch: &mut Batch,
    ) -> Result<Admin, IamError> {
        let now = self.now_ms();
        let account_row = records::account_row(account.as_str());
        let record = AccountRecord {
            format: RECORD_FORMAT,
            account_id: account.to_string(),
            created_ms: now,
        };
        batch.require_absent(Table::Iam, account_row.clone()).put(
            Table::Iam,
            account_row.clone(),
            records::seal_record(&self.sealer, Table::Iam, &account_row, &record)?,
        );
        let (access_key_id, secret) = match given {
            Some(g) => g,
            None => (ids::generate(IdKind::AccessKey)?, ids::generate_secret()?),
        };
        let user = UserRecord {
            format: RECORD_FORMAT,
            account_id: account.to_string(),
            name: ADMIN_USER.to_owned(),
            path: "/".to_owned(),
            user_id: ids::generate(IdKind::User)?,
            created_ms: now,
            tags: Vec::new(),
            inline_policies: [(ADMIN_POLICY_NAME.to_owned(), ADMIN_POLICY.to_owned())].into(),
            attached: Vec::new(),
            groups: Vec::new(),
            access_keys: vec![access_key_id.clone()],
            permissions_boundary: None,
        };
        let user_row = records::row(records::Kind::User, account.as_str(), ADMIN_USER);
        batch.require_absent(Table::Iam, user_row.clone()).put(
            Table::Iam,
            user_row.clone(),
            records::seal_record(&self.sealer, Table::Iam, &user_row, &user)?,
        );
        self.put_access_key(
            &AccessKeyRecord {
                format: RECORD_FORMAT,
                access_key_id: access_key_id.clone(),
                account_id: account.to_string(),
                user_name: ADMIN_USER.to_owned(),
                user_id: user.user_id.clone(),
                active: true,
                created_ms: now,
                secret: String::from_utf8_lossy(secret.expose_secret()).into_owned(),
            },
            batch,
        )?;
        Ok(Admin {
            user_arn: crate::arn::user(account, "/", ADMIN_USER),
            account: account.clone(),
            access_key_id,
            new_secret: Some(secret),
        })
    }

    /// Adds an access key record to `batch`, replacing any.
    pub(crate) fn put_access_key(
        &self,
        key: &AccessKeyRecord,
        batch: &mut Batch,
    ) -> Result<(), IamError> {
        let row = key.access_key_id.as_bytes();
        batch.put(
            Table::Identities,
            row.to_vec(),
            records::seal_record(&self.sealer, Table::Identities, row, key)?,
        );
        Ok(())
    }

    /// Upgrades a data directory of the first format, whose only identity
    /// was the bootstrap access key (a plain record with a sealed secret):
    /// the account and its administrator are made around that key, with
    /// its secret.
    async fn upgrade_format_1(
        &self,
        account: &AccountId,
        access_key_id: &str,
    ) -> Result<(), IamError> {
        #[derive(Deserialize)]
        struct Format1 {
            format: u32,
            access_key_id: String,
            sealed_secret: String,
        }
        let corrupt = || IamError::Corrupt {
            what: format!("identity {access_key_id}"),
        };
        let bytes = self
            .engine
            .get(Table::Identities, access_key_id.as_bytes())
            .await?
            .ok_or_else(corrupt)?;
        let old: Format1 = serde_json::from_slice(&bytes).map_err(|_| corrupt())?;
        if old.format != 1 || old.access_key_id != access_key_id {
            return Err(corrupt());
        }
        let sealed = hex::decode(&old.sealed_secret).map_err(|_| corrupt())?;
        let secret = self
            .sealer
            .open(
                &seal::aad("custos.identity-secret.v1", &[access_key_id.as_bytes()]),
                &sealed,
            )
            .map_err(|_| corrupt())?;
        let mut batch = Batch::new();
        self.new_account(
            account,
            Some((access_key_id.to_owned(), secret)),
            &mut batch,
        )?;
        self.engine.commit(batch).await?;
        tracing::info!(%account, "identities upgraded to IAM records");
        Ok(())
    }
}
