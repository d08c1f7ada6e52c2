//! `CreateKey`: a new KMS key with fresh material.

use base64::Engine as _;
use custos_store::{Batch, Engine, Table};
use custos_wire::shapes::{CreateKeyRequest, CreateKeyResponse, Tag};
use custos_wire::validation::Violations;

use crate::authz::Action;
use crate::keys::key_row;
use crate::material::Material;
use crate::model::{
    KEY_RECORD_FORMAT, KeyRecord, KeySpec, KeyState, KeyUsage, MaterialVersion, Origin,
};
use crate::names::KeyUuid;
use crate::ops::key_metadata;
use crate::{Caller, Kms, KmsError};

/// A `CreateKey` request, parsed.
struct Params {
    spec: KeySpec,
    usage: KeyUsage,
    description: String,
    policy: Option<String>,
    bypass_lockout_check: bool,
    tags: Vec<(String, String)>,
    /// As requested, for the condition keys; what Custos cannot make yet is
    /// refused after authorization, as AWS decides authorization first.
    origin: String,
    multi_region: bool,
}

fn parse(req: CreateKeyRequest) -> Result<Params, KmsError> {
    let mut v = Violations::new();
    super::check_policy(&mut v, &req.policy);
    v.length("description", req.description.as_deref(), 0, 8192);
    v.one_of("keyUsage", req.key_usage.as_deref(), KeyUsage::NAMES);
    v.one_of(
        "customerMasterKeySpec",
        req.customer_master_key_spec.as_deref(),
        CUSTOMER_MASTER_KEY_SPECS,
    );
    v.one_of("keySpec", req.key_spec.as_deref(), KeySpec::NAMES);
    v.one_of("origin", req.origin.as_deref(), Origin::NAMES);
    v.length(
        "customKeyStoreId",
        req.custom_key_store_id.as_deref(),
        1,
        64,
    );
    v.length("xksKeyId", req.xks_key_id.as_deref(), 1, 128);
    if let Some(tags) = &req.tags {
        check_tags(&mut v, tags);
    }
    v.into_result()?;

    if req.key_spec.is_some() && req.customer_master_key_spec.is_some() {
        return Err(KmsError::ValidationMessage(
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. \
             CustomerMasterKeySpec is deprecated."
                .into(),
        ));
    }
    // Validated above: parse cannot fail.
    let spec = req
        .key_spec
        .or(req.customer_master_key_spec)
        .and_then(|s| KeySpec::parse(&s))
        .unwrap_or(KeySpec::SymmetricDefault);
    let usage = match req.key_usage.as_deref().and_then(KeyUsage::parse) {
        Some(u) => u,
        None if spec == KeySpec::SymmetricDefault => KeyUsage::EncryptDecrypt,
        None => {
            return Err(KmsError::ValidationMessage(
                "You must specify a KeyUsage value for all KMS keys except for symmetric \
                 encryption keys."
                    .into(),
            ));
        }
    };
    if !compatible(spec, usage) {
        return Err(KmsError::ValidationMessage(format!(
            "KeyUsage {} is not compatible with KeySpec {}",
            usage.as_str(),
            spec.as_str()
        )));
    }
    if let Some(id) = req.custom_key_store_id {
        return Err(KmsError::CustomKeyStoreNotFound(format!(
            "Custom key store {id} does not exist; Custos has no custom key stores."
        )));
    }
    if spec == KeySpec::Sm2 {
        // SM2 exists only in AWS's China regions; elsewhere AWS answers so.
        return Err(KmsError::UnsupportedOperation(
            "KeySpec SM2 is not supported in this Region".into(),
        ));
    }
    if let Some(policy) = &req.policy {
        crate::policy::check_document(policy)?;
    }
    let tags = req
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            (
                t.tag_key.unwrap_or_default(),
                t.tag_value.unwrap_or_default(),
            )
        })
        .collect::<Vec<_>>();
    check_tag_rules(&tags)?;
    Ok(Params {
        spec,
        usage,
        description: req.description.unwrap_or_default(),
        policy: req.policy,
        bypass_lockout_check: req.bypass_policy_lockout_safety_check == Some(true),
        tags,
        origin: req
            .origin
            .unwrap_or_else(|| Origin::AwsKms.as_str().to_owned()),
        multi_region: req.multi_region == Some(true),
    })
}

/// The deprecated `CustomerMasterKeySpec` member's enumeration: the specs
/// that existed when it was replaced by `KeySpec`.
const CUSTOMER_MASTER_KEY_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
];

/// Which usages AWS allows for each key spec.
fn compatible(spec: KeySpec, usage: KeyUsage) -> bool {
    use KeySpec::*;
    use KeyUsage::*;
    match spec {
        SymmetricDefault => usage == EncryptDecrypt,
        Rsa2048 | Rsa3072 | Rsa4096 => matches!(usage, EncryptDecrypt | SignVerify),
        EccNistP256 | EccNistP384 | EccNistP521 => matches!(usage, SignVerify | KeyAgreement),
        EccSecgP256k1 | EccNistEdwards25519 | MlDsa44 | MlDsa65 | MlDsa87 => usage == SignVerify,
        Hmac224 | Hmac256 | Hmac384 | Hmac512 => usage == GenerateVerifyMac,
        Sm2 => matches!(usage, EncryptDecrypt | SignVerify | KeyAgreement),
        MlKem512 | MlKem768 | MlKem1024 => usage == EncapsulateDecapsulate,
    }
}

/// Model constraints of `Tags`: keys 1–128, values 0–256 characters.
pub(crate) fn check_tags(v: &mut Violations, tags: &[Tag]) {
    for t in tags {
        v.required("tags.member.tagKey", &t.tag_key);
        v.required("tags.member.tagValue", &t.tag_value);
        v.length("tags.member.tagKey", t.tag_key.as_deref(), 1, 128);
        v.length("tags.member.tagValue", t.tag_value.as_deref(), 0, 256);
    }
}

/// Rules of tags beyond the model: at most 50, unique keys, no `aws:`.
pub(crate) fn check_tag_rules(tags: &[(String, String)]) -> Result<(), KmsError> {
    if tags.len() > 50 {
        return Err(KmsError::Tag("Tag count exceeds the maximum of 50.".into()));
    }
    let mut keys = std::collections::HashSet::new();
    for (k, _) in tags {
        if k.starts_with("aws:") {
            return Err(KmsError::Tag(
                "Tags beginning with aws: are reserved".into(),
            ));
        }
        if !keys.insert(k) {
            return Err(KmsError::Tag(format!("Duplicate tag key {k}")));
        }
    }
    Ok(())
}

impl<E: Engine> Kms<E> {
    pub async fn create_key(
        &self,
        caller: &Caller,
        req: CreateKeyRequest,
    ) -> Result<CreateKeyResponse, KmsError> {
        let params = parse(req)?;
        let new_key = crate::authz::NewKey {
            key_spec: params.spec.as_str(),
            key_usage: params.usage.as_str(),
            origin: &params.origin,
            multi_region: params.multi_region,
        };
        self.authorize_account(
            caller,
            Action::CreateKey,
            &crate::authz::Conditions {
                new_key: Some(new_key),
                request_tags: &params.tags,
                // AWS sets the key only when the parameter is given.
                bypass_policy_lockout_safety_check: params.bypass_lockout_check.then_some(true),
                ..crate::authz::Conditions::default()
            },
        )?;
        let id = KeyUuid::generate()?;
        if !params.tags.is_empty() {
            // Tagging at creation needs `kms:TagResource` too, on the new
            // key's ARN, by identity policies (the key has no policy yet).
            self.authorize_resource(
                caller,
                Action::TagResource,
                &crate::names::key_arn(caller.region(), caller.account(), &id),
                &crate::authz::Conditions {
                    request_tags: &params.tags,
                    ..crate::authz::Conditions::default()
                },
            )?;
        }
        if params.origin != Origin::AwsKms.as_str() {
            return Err(KmsError::UnsupportedOperation(format!(
                "Origin {} is not supported by Custos yet.",
                params.origin
            )));
        }
        if params.multi_region {
            return Err(KmsError::UnsupportedOperation(
                "Multi-Region keys are not supported by Custos.".into(),
            ));
        }

        let given_policy = params.policy.is_some();
        let id = id.to_string();
        let now = self.now_ms();
        let record = KeyRecord {
            format: KEY_RECORD_FORMAT,
            key_id: id.clone(),
            region: caller.region().as_str().to_owned(),
            account_id: caller.account().as_str().to_owned(),
            created_ms: now,
            description: params.description,
            key_spec: params.spec,
            key_usage: params.usage,
            origin: Origin::AwsKms,
            state: KeyState::Enabled,
            deletion_ms: None,
            pending_window_days: None,
            policy: params
                .policy
                .unwrap_or_else(|| crate::policy::default_policy(caller.account())),
            tags: params.tags,
            materials: vec![MaterialVersion {
                version: 1,
                material_id: hex::encode(custos_crypto::rand::array::<32>()?),
                created_ms: now,
                rotation_type: None,
            }],
            rotation: None,
            on_demand_rotation_ms: None,
            public_key: None,
        };
        if given_policy {
            let policy = crate::policy::check_document(&record.policy)?;
            self.check_principals(&policy).await?;
            self.check_lockout(caller, &record, &policy, params.bypass_lockout_check)?;
        }
        // Private keys are generated on the blocking pool: an RSA-4096 key
        // takes a large part of a second and must not stall the runtime.
        let (spec, usage) = (record.key_spec, record.key_usage);
        let material = tokio::task::spawn_blocking(move || Material::generate(spec, usage))
            .await
            .map_err(|_| KmsError::Crypto(custos_crypto::Error))??;
        let mut record = record;
        record.public_key = material
            .public_key_der()?
            .map(|der| base64::engine::general_purpose::STANDARD.encode(der));
        let row = key_row(&record.region, &id);
        let mut batch = Batch::new();
        self.seal_key_material(&record, 1, &material, &mut batch)?;
        let stored = self.store_key_record(&row, &record)?;
        batch
            .require_absent(Table::Keys, row.clone())
            .put(Table::Keys, row, stored);
        self.engine().commit(batch).await?;
        Ok(CreateKeyResponse {
            key_metadata: key_metadata(&record),
        })
    }
}
