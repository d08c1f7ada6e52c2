//! The KMS operations, one module each, named after the operation.
//!
//! Every operation is an `impl` block on [`crate::Kms`] with one public
//! async method taking the [`crate::Caller`] and the request shape, and
//! reads in the same order:
//!
//! 1. **parameters**: model validation, then the operation's own rules,
//!    into domain types;
//! 2. **the authorization request**: a `KeyRequest` naming the key, the
//!    action (a type), the condition keys, the state and usage the
//!    operation needs and the dry-run flag, given to `Kms::access` (see
//!    `crate::authz::access`), which resolves, authorizes, checks state and
//!    usage, runs the operation's own checks and stops a dry run, always
//!    in that order; actions on no key call `Kms::authorize_account`;
//! 3. **apply**, with the proof `access` returned (key material and key
//!    record changes require it);
//! 4. **response**.
//!
//! This module holds the parsing helpers the operations share.

pub mod cancel_key_deletion;
pub mod create_alias;
pub mod create_grant;
pub mod create_key;
pub mod decapsulate;
pub mod decrypt;
pub mod delete_alias;
pub mod derive_shared_secret;
pub mod describe_key;
pub mod disable_key;
pub mod disable_key_rotation;
pub mod enable_key;
pub mod enable_key_rotation;
pub mod encapsulate;
pub mod encrypt;
pub mod generate_data_key;
pub mod generate_data_key_pair;
pub mod generate_data_key_pair_without_plaintext;
pub mod generate_data_key_without_plaintext;
pub mod generate_mac;
pub mod generate_random;
pub mod get_key_last_usage;
pub mod get_key_policy;
pub mod get_key_rotation_status;
pub mod get_public_key;
pub mod list_aliases;
pub mod list_grants;
pub mod list_key_policies;
pub mod list_key_rotations;
pub mod list_keys;
pub mod list_resource_tags;
pub mod list_retirable_grants;
pub mod put_key_policy;
pub mod re_encrypt;
pub mod retire_grant;
pub mod revoke_grant;
pub mod rotate_key_on_demand;
pub mod schedule_key_deletion;
pub mod sign;
pub mod tag_resource;
pub mod untag_resource;
pub mod update_alias;
pub mod update_key_description;
pub mod verify;
pub mod verify_mac;

use custos_wire::shapes::{self, KeyMetadata};
use custos_wire::validation::Violations;
use custos_wire::{SecretBlob, Timestamp};

use crate::KmsError;
use crate::context::EncryptionContext;
use crate::model::{DataKeySpec, EncryptionAlgorithm, KeyRecord, KeySpec, KeyState};

/// The `KeyId` member: 1 to 2048 characters.
pub(crate) fn check_key_id(v: &mut Violations, member: &'static str, key_id: &Option<String>) {
    v.length(member, key_id.as_deref(), 1, 2048);
}

/// The `GrantTokens` member: at most 10 tokens of 1 to 8192 characters.
pub(crate) fn check_grant_tokens(v: &mut Violations, tokens: &Option<Vec<String>>) {
    if let Some(tokens) = tokens {
        v.count("grantTokens", Some(tokens.len()), 0, 10);
        for t in tokens {
            v.length("grantTokens", Some(t), 1, 8192);
        }
    }
}

/// The `EncryptionAlgorithm` member.
pub(crate) fn check_encryption_algorithm(
    v: &mut Violations,
    member: &'static str,
    value: &Option<String>,
) {
    v.one_of(member, value.as_deref(), EncryptionAlgorithm::NAMES);
}

/// The `EncryptionContext` member: a missing context is the empty one.
pub(crate) fn context(raw: Option<shapes::EncryptionContext>) -> EncryptionContext {
    EncryptionContext::new(raw.unwrap_or_default())
}

/// The `Limit` member of list operations.
pub(crate) fn check_limit(v: &mut Violations, limit: Option<i64>) {
    v.range("limit", limit, 1, 1000);
}

/// The `Marker` member of list operations.
pub(crate) fn check_marker(v: &mut Violations, marker: &Option<String>) {
    v.length("marker", marker.as_deref(), 1, 1024);
    v.pattern(
        "marker",
        marker.as_deref(),
        |s| s.chars().all(|c| ('\u{20}'..='\u{ff}').contains(&c)),
        "[\\u0020-\\u00FF]*",
    );
}

/// The length of a data key, from exactly one of `NumberOfBytes` and
/// `KeySpec` (already validated against the model).
pub(crate) fn data_key_length(
    number_of_bytes: Option<i64>,
    key_spec: Option<&str>,
) -> Result<usize, KmsError> {
    match (number_of_bytes, key_spec.and_then(DataKeySpec::parse)) {
        (Some(n), None) => Ok(usize::try_from(n).unwrap_or(0)),
        (None, Some(DataKeySpec::Aes128)) => Ok(16),
        (None, Some(DataKeySpec::Aes256)) => Ok(32),
        _ => Err(KmsError::ValidationMessage(
            "Please specify either number of bytes or key spec.".into(),
        )),
    }
}

/// Fresh random bytes for a data key or `GenerateRandom`.
pub(crate) fn random_secret(len: usize) -> Result<SecretBlob, KmsError> {
    let mut bytes = SecretBlob::new(vec![0u8; len]);
    custos_crypto::rand::fill(&mut bytes.0)?;
    Ok(bytes)
}

/// Runs CPU-heavy cryptography (RSA private-key operations, key
/// generation) on the blocking pool, so that it never stalls the
/// runtime's workers.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, KmsError>
where
    F: FnOnce() -> Result<T, KmsError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| KmsError::Crypto(custos_crypto::Error))?
}

/// The symmetric-key algorithm check: only `SYMMETRIC_DEFAULT` applies.
pub(crate) fn require_symmetric_algorithm(
    key: &KeyRecord,
    algorithm: Option<&str>,
) -> Result<(), KmsError> {
    match algorithm {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(other) => Err(KmsError::InvalidKeyUsage(format!(
            "Algorithm {other} is incompatible with key spec {}.",
            key.key_spec.as_str()
        ))),
    }
}

pub(crate) fn key_arn(key: &KeyRecord) -> String {
    key.arn()
}

/// `KeyMetadata` as `CreateKey` and `DescribeKey` return it.
pub(crate) fn key_metadata(key: &KeyRecord) -> KeyMetadata {
    let symmetric = key.key_spec == KeySpec::SymmetricDefault;
    let algorithms = key.key_spec.algorithms(key.key_usage);
    KeyMetadata {
        aws_account_id: key.account_id.clone(),
        key_id: key.key_id.clone(),
        arn: key_arn(key),
        creation_date: Timestamp::from_millis(key.created_ms),
        enabled: key.state == KeyState::Enabled,
        description: key.description.clone(),
        key_usage: Some(key.key_usage.as_str().to_owned()),
        key_state: key.state.as_str().to_owned(),
        deletion_date: key.deletion_ms.map(Timestamp::from_millis),
        valid_to: None,
        origin: key.origin.as_str().to_owned(),
        expiration_model: None,
        key_manager: "CUSTOMER".to_owned(),
        customer_master_key_spec: key.key_spec.as_str().to_owned(),
        key_spec: key.key_spec.as_str().to_owned(),
        encryption_algorithms: names(&algorithms.encryption, |a| a.as_str()),
        signing_algorithms: names(&algorithms.signing, |a| a.as_str()),
        key_agreement_algorithms: names(&algorithms.key_agreement, |a| a.as_str()),
        encapsulation_algorithms: names(&algorithms.encapsulation, |a| a.as_str()),
        mac_algorithms: names(&algorithms.mac, |a| a.as_str()),
        multi_region: false,
        pending_deletion_window_in_days: key
            .pending_window_days
            .filter(|_| key.state == KeyState::PendingDeletion)
            .map(i64::from),
        // AWS reports material ids only for symmetric encryption keys, the
        // only keys whose material rotates.
        current_key_material_id: key
            .current_material()
            .filter(|_| symmetric)
            .map(|m| m.material_id.clone()),
    }
}

/// An algorithm list as the wire carries it: absent when empty.
pub(crate) fn names<T>(list: &[T], name: impl Fn(&T) -> &'static str) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.iter().map(|a| name(a).to_owned()).collect())
}

/// The `AliasName` member: 1 to 256 characters of the model's pattern.
pub(crate) fn check_alias_name(v: &mut Violations, name: &Option<String>) {
    v.required("aliasName", name);
    v.length("aliasName", name.as_deref(), 1, 256);
    v.pattern(
        "aliasName",
        name.as_deref(),
        crate::names::AliasName::matches_pattern,
        crate::names::ALIAS_NAME_PATTERN,
    );
}

/// An alias name a caller may create, move or delete: not under the
/// reserved `alias/aws/`.
pub(crate) fn customer_alias(name: &str) -> Result<crate::names::AliasName, KmsError> {
    let alias = crate::names::AliasName::parse(name)?;
    if alias.is_reserved() {
        return Err(KmsError::NotAuthorized);
    }
    Ok(alias)
}

/// Validates a required `KeyId` member and returns it.
pub(crate) fn required_key_id(key_id: Option<String>) -> Result<String, KmsError> {
    let mut v = Violations::new();
    v.required("keyId", &key_id);
    check_key_id(&mut v, "keyId", &key_id);
    v.into_result()?;
    Ok(key_id.unwrap_or_default())
}

/// Key specs whose material Custos rotates (AWS rotates only symmetric
/// encryption keys of origin `AWS_KMS`).
pub(crate) fn require_rotatable(key: &KeyRecord) -> Result<(), KmsError> {
    if key.key_spec == KeySpec::SymmetricDefault && key.origin == crate::model::Origin::AwsKms {
        Ok(())
    } else {
        Err(KmsError::UnsupportedOperation(format!(
            "{} is not a symmetric encryption key with key material from KMS; \
             it cannot be rotated.",
            key.arn()
        )))
    }
}

/// Days, in milliseconds.
pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The `PolicyName` member: 1 to 128 word characters.
pub(crate) fn check_policy_name(v: &mut Violations, name: &Option<String>) {
    v.length("policyName", name.as_deref(), 1, 128);
    v.pattern(
        "policyName",
        name.as_deref(),
        |s| s.chars().all(|c| c.is_alphanumeric() || c == '_'),
        "[\\w]+",
    );
}

/// The `Policy` member: 1 to 131072 characters of the model's pattern.
pub(crate) fn check_policy(v: &mut Violations, policy: &Option<String>) {
    v.length("policy", policy.as_deref(), 1, 131_072);
    v.pattern(
        "policy",
        policy.as_deref(),
        |s| {
            s.chars()
                .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
        },
        "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
    );
}

/// The members `CreateAlias` and `UpdateAlias` share: a customer alias
/// name and a target that is a key id or key ARN, never another alias.
pub(crate) fn parse_alias_target(
    alias_name: Option<String>,
    target_key_id: Option<String>,
) -> Result<(crate::names::AliasName, String), KmsError> {
    let mut v = Violations::new();
    check_alias_name(&mut v, &alias_name);
    v.required("targetKeyId", &target_key_id);
    check_key_id(&mut v, "targetKeyId", &target_key_id);
    v.into_result()?;
    let alias = customer_alias(&alias_name.unwrap_or_default())?;
    let target = target_key_id.unwrap_or_default();
    if crate::names::KeyRef::parse(&target).is_ok_and(|r| r.is_alias()) {
        return Err(KmsError::ValidationMessage(
            "Aliases must refer to keys. Not aliases".into(),
        ));
    }
    Ok((alias, target))
}
