//! `CreateGrant`: allow one principal some operations on one key.
//!
//! The operations must suit the key (no `Sign` on an encryption key, no
//! data keys from an asymmetric one), constraints only go with symmetric
//! encryption keys, and a key holds at most 50,000 grants. A name reused
//! with the same grant returns the same grant id, so that retries do not
//! pile up grants.

use custos_store::{Batch, Engine, Table};
use custos_wire::shapes::{CreateGrantRequest, CreateGrantResponse, GrantConstraints};
use custos_wire::validation::Violations;

use crate::authz::access::{Authorized, KeyRequest, KeySource};
use crate::authz::{Action, Conditions, GrantConditions};
use crate::grants::{GRANT_FORMAT, GrantRecord, MAX_GRANTS_PER_KEY, grant_row};
use crate::model::{KeyRecord, KeySpec, KeyUsage};
use crate::ops::{check_grant_tokens, check_key_id, key_arn};
use crate::{Caller, Kms, KmsError};

/// `GrantOperation` of the service model.
pub(crate) const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

/// The grant operations that make sense for `key`, by its usage and spec.
fn operations_for(key: &KeyRecord) -> &'static [&'static str] {
    const ANY: [&str; 3] = ["CreateGrant", "RetireGrant", "DescribeKey"];
    match (key.key_usage, key.key_spec) {
        (KeyUsage::EncryptDecrypt, KeySpec::SymmetricDefault) => &[
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
            "Decrypt",
            "Encrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GenerateDataKeyPair",
            "GenerateDataKeyPairWithoutPlaintext",
        ],
        (KeyUsage::EncryptDecrypt, _) => &[
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
            "Decrypt",
            "Encrypt",
            "ReEncryptFrom",
            "ReEncryptTo",
            "GetPublicKey",
        ],
        (KeyUsage::SignVerify, _) => &[
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
            "Sign",
            "Verify",
            "GetPublicKey",
        ],
        (KeyUsage::GenerateVerifyMac, _) => &[
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
            "GenerateMac",
            "VerifyMac",
        ],
        (KeyUsage::KeyAgreement, _) => &[
            "CreateGrant",
            "RetireGrant",
            "DescribeKey",
            "DeriveSharedSecret",
            "GetPublicKey",
        ],
        _ => &ANY,
    }
}

/// A principal ARN or account id, as the model's pattern allows.
fn principal_pattern(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || "_+=,.@:/-".contains(c))
}

fn check_constraints(v: &mut Violations, c: &Option<GrantConstraints>) {
    let Some(c) = c else { return };
    for map in [&c.encryption_context_subset, &c.encryption_context_equals]
        .into_iter()
        .flatten()
    {
        for (k, val) in map {
            v.length("constraints.encryptionContext.key", Some(k), 1, 384);
            v.length("constraints.encryptionContext.value", Some(val), 0, 384);
        }
    }
}

impl<E: Engine> Kms<E> {
    pub async fn create_grant(
        &self,
        caller: &Caller,
        req: CreateGrantRequest,
    ) -> Result<CreateGrantResponse, KmsError> {
        let mut v = Violations::new();
        v.required("keyId", &req.key_id);
        check_key_id(&mut v, "keyId", &req.key_id);
        v.required("granteePrincipal", &req.grantee_principal);
        v.length("granteePrincipal", req.grantee_principal.as_deref(), 1, 256);
        v.pattern(
            "granteePrincipal",
            req.grantee_principal.as_deref(),
            principal_pattern,
            "^[\\w+=,.@:/-]+$",
        );
        v.length(
            "retiringPrincipal",
            req.retiring_principal.as_deref(),
            1,
            256,
        );
        v.pattern(
            "retiringPrincipal",
            req.retiring_principal.as_deref(),
            principal_pattern,
            "^[\\w+=,.@:/-]+$",
        );
        v.required("operations", &req.operations);
        if let Some(ops) = &req.operations {
            for op in ops {
                v.one_of("operations.member", Some(op), GRANT_OPERATIONS);
            }
        }
        v.length("name", req.name.as_deref(), 1, 256);
        v.pattern(
            "name",
            req.name.as_deref(),
            |s| {
                s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ":/_-".contains(c))
            },
            "^[a-zA-Z0-9:/_-]+$",
        );
        check_constraints(&mut v, &req.constraints);
        check_grant_tokens(&mut v, &req.grant_tokens);
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        let raw = req.key_id.unwrap_or_default();
        let mut operations = req.operations.unwrap_or_default();
        operations.sort();
        operations.dedup();
        if operations.is_empty() {
            return Err(KmsError::ValidationMessage(
                "Grant operations cannot be empty.".into(),
            ));
        }
        let constraints = req.constraints.filter(|c| {
            c.encryption_context_subset.is_some() || c.encryption_context_equals.is_some()
        });

        let constraint_types: Vec<&str> = constraints
            .iter()
            .flat_map(|c| {
                [
                    c.encryption_context_equals
                        .as_ref()
                        .map(|_| "EncryptionContextEquals"),
                    c.encryption_context_subset
                        .as_ref()
                        .map(|_| "EncryptionContextSubset"),
                ]
            })
            .flatten()
            .collect();
        // `kms:EncryptionContext:*` of a CreateGrant are its constraint's.
        let constrained = constraints
            .as_ref()
            .and_then(|c| {
                c.encryption_context_equals
                    .clone()
                    .or_else(|| c.encryption_context_subset.clone())
            })
            .map(crate::context::EncryptionContext::new);
        let request = KeyRequest::new(Action::CreateGrant, KeySource::Named(&raw))
            .conditions(Conditions {
                encryption_context: constrained.as_ref(),
                grant: Some(GrantConditions {
                    operations: &operations,
                    grantee_principal: req.grantee_principal.as_deref().unwrap_or_default(),
                    retiring_principal: req.retiring_principal.as_deref(),
                    constraint_types: &constraint_types,
                }),
                grant_is_for_aws_resource: Some(false),
                ..Conditions::default()
            })
            .dry_run(req.dry_run);
        // A retry of the same named grant returns it again; otherwise the
        // key's grant quota must have room: both known before a dry run ends.
        let same_grant = |g: &GrantRecord| {
            req.name.is_some()
                && g.name == req.name
                && g.grantee_principal == req.grantee_principal.as_deref().unwrap_or_default()
                && g.retiring_principal == req.retiring_principal
                && g.operations == operations
                && g.constraints == constraints
        };
        let (authorized, retry) = self
            .access_checked(caller, request, async |a| {
                check_grant_fits(a, &operations, &constraints, caller)?;
                let existing = self.grants_of(&a.key().key_id).await?;
                if let Some((same, _)) = existing.iter().find(|(g, _)| same_grant(g)) {
                    return Ok(Some(same.clone()));
                }
                if existing.len() >= MAX_GRANTS_PER_KEY {
                    return Err(KmsError::LimitExceeded(format!(
                        "The request was rejected because a quota was exceeded: {} already has \
                         {MAX_GRANTS_PER_KEY} grants.",
                        key_arn(a.key())
                    )));
                }
                Ok(None)
            })
            .await?;
        let key = authorized.key();
        if let Some(same) = retry {
            // A retry: the same grant, a fresh token.
            return Ok(CreateGrantResponse {
                grant_token: self.grant_token(&same)?,
                grant_id: same.grant_id,
            });
        }
        let issuing_account = format!("arn:aws:iam::{}:root", caller.account());
        let grant = GrantRecord {
            format: GRANT_FORMAT,
            grant_id: hex::encode(custos_crypto::rand::array::<32>()?),
            key_id: key.key_id.clone(),
            key_arn: key_arn(key),
            name: req.name,
            grantee_principal: req.grantee_principal.unwrap_or_default(),
            retiring_principal: req.retiring_principal,
            operations,
            constraints,
            issuing_account,
            created_ms: self.now_ms(),
        };
        let row = grant_row(&grant.key_id, &grant.grant_id);
        let mut batch = Batch::new();
        batch.require_absent(Table::Grants, row.clone()).put(
            Table::Grants,
            row,
            self.seal_grant(&grant)?,
        );
        self.engine().commit(batch).await?;
        Ok(CreateGrantResponse {
            grant_token: self.grant_token(&grant)?,
            grant_id: grant.grant_id,
        })
    }
}

/// What `CreateGrant` checks once the caller may create grants on the key:
/// the operations suit the key, constraints only on symmetric encryption
/// keys, and a grantee creating grants under a grant of its own asks for
/// no more than that grant gives.
fn check_grant_fits(
    authorized: &Authorized,
    operations: &[String],
    constraints: &Option<GrantConstraints>,
    caller: &Caller,
) -> Result<(), KmsError> {
    let key = authorized.key();
    let allowed = operations_for(key);
    let unsuitable: Vec<&str> = operations
        .iter()
        .map(String::as_str)
        .filter(|o| !allowed.contains(o))
        .collect();
    if !unsuitable.is_empty() {
        return Err(KmsError::ValidationMessage(format!(
            "Grant operations [{}] are not valid for a KMS key with KeySpec {} and KeyUsage {}.",
            unsuitable.join(", "),
            key.key_spec.as_str(),
            key.key_usage.as_str()
        )));
    }
    if constraints.is_some()
        && !(key.key_spec == KeySpec::SymmetricDefault && key.key_usage == KeyUsage::EncryptDecrypt)
    {
        return Err(KmsError::ValidationMessage(
            "Grant constraints are valid only for symmetric encryption KMS keys.".into(),
        ));
    }
    if let Some(parent) = authorized.grant()
        && !parent.covers(operations, constraints)
    {
        return Err(KmsError::AccessDenied(format!(
            "User: {} is not authorized to perform: kms:CreateGrant on resource: {} \
             because the grant that allows it is narrower than the grant requested",
            caller.principal_arn(),
            key_arn(key)
        )));
    }
    Ok(())
}
