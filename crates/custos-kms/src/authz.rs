//! The authorization step: AWS KMS's decision, on every request.
//!
//! Every operation names what it asks with an [`Action`] (a type, not a
//! string). Operations on a key go through `access`, the one path that
//! resolves the key, decides here, and then checks the key's state, as AWS
//! does; actions on no key call `Kms::authorize_account`.
//! The decision follows AWS KMS's documented order:
//!
//! 1. An explicit `Deny` in any applicable policy — the key policy, the
//!    caller's identity policies, its session policies, its permissions
//!    boundary — refuses.
//! 2. The key policy allowing the caller itself (its ARN, its role's ARN,
//!    or `*`) allows, within the key's account.
//! 3. The key policy allowing the caller's *account*
//!    (`arn:aws:iam::<account>:root`) delegates to IAM: the caller's
//!    identity policies must allow as well. A caller of another account
//!    always needs both: the key policy naming it or its account, and its
//!    own identity policy.
//! 4. Session policies and permissions boundaries only narrow: where the
//!    caller has them, one of each must allow too.
//! 5. Otherwise the request is refused (implicit deny).
//!
//! Actions on no key (`CreateKey`, `ListKeys`, `ListAliases`,
//! `GenerateRandom`) are decided by identity policies alone, on resource
//! `*`. Refusals carry AWS's text, naming which kind of policy decided.
//!
//! The condition keys of a request are the caller's (`aws:` keys, built
//! by `custos_iam::authorize::caller_context`), the key's (`kms:KeySpec`,
//! `kms:KeyUsage`, `kms:KeyOrigin`, `kms:MultiRegion`,
//! `aws:ResourceTag/*`), `kms:CallerAccount`, and the request's
//! ([`Conditions`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use custos_iam::authorize::{Refusal, caller_context, policy_principal};
use custos_policy::{Context, Effect, Policy, PolicyKind, Request};

use crate::context::EncryptionContext;
use crate::model::KeyRecord;
use crate::{Kms, KmsError};

pub(crate) mod access;

pub use custos_iam::Caller;

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal, key: $on_key:literal, cross_account: $cross:literal;)*) => {
        /// What a request asks to do, as a policy names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The action as policies spell it: `kms:Decrypt`.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// Whether the action is on a key (so that the key policy
            /// takes part); if not, identity policies alone decide, on
            /// resource `*`.
            pub fn is_on_key(self) -> bool {
                match self { $(Action::$variant => $on_key,)* }
            }

            /// Whether a principal of another account may be allowed it.
            pub fn allows_cross_account(self) -> bool {
                match self { $(Action::$variant => $cross,)* }
            }
        }
    };
}

// The KMS permissions reference: which actions work on a key, and which a
// key policy can open to other accounts.
actions! {
    CancelKeyDeletion = "kms:CancelKeyDeletion", key: true, cross_account: false;
    CreateAlias = "kms:CreateAlias", key: true, cross_account: false;
    CreateGrant = "kms:CreateGrant", key: true, cross_account: true;
    CreateKey = "kms:CreateKey", key: false, cross_account: false;
    Decapsulate = "kms:Decapsulate", key: true, cross_account: true;
    Decrypt = "kms:Decrypt", key: true, cross_account: true;
    DeleteAlias = "kms:DeleteAlias", key: true, cross_account: false;
    DeriveSharedSecret = "kms:DeriveSharedSecret", key: true, cross_account: true;
    DescribeKey = "kms:DescribeKey", key: true, cross_account: true;
    DisableKey = "kms:DisableKey", key: true, cross_account: false;
    DisableKeyRotation = "kms:DisableKeyRotation", key: true, cross_account: false;
    EnableKey = "kms:EnableKey", key: true, cross_account: false;
    EnableKeyRotation = "kms:EnableKeyRotation", key: true, cross_account: false;
    Encapsulate = "kms:Encapsulate", key: true, cross_account: true;
    Encrypt = "kms:Encrypt", key: true, cross_account: true;
    GenerateDataKey = "kms:GenerateDataKey", key: true, cross_account: true;
    GenerateDataKeyPair = "kms:GenerateDataKeyPair", key: true, cross_account: true;
    GenerateDataKeyPairWithoutPlaintext = "kms:GenerateDataKeyPairWithoutPlaintext", key: true, cross_account: true;
    GenerateDataKeyWithoutPlaintext = "kms:GenerateDataKeyWithoutPlaintext", key: true, cross_account: true;
    GenerateMac = "kms:GenerateMac", key: true, cross_account: true;
    GenerateRandom = "kms:GenerateRandom", key: false, cross_account: false;
    GetKeyLastUsage = "kms:GetKeyLastUsage", key: true, cross_account: false;
    GetKeyPolicy = "kms:GetKeyPolicy", key: true, cross_account: false;
    GetKeyRotationStatus = "kms:GetKeyRotationStatus", key: true, cross_account: true;
    GetPublicKey = "kms:GetPublicKey", key: true, cross_account: true;
    ListAliases = "kms:ListAliases", key: false, cross_account: false;
    ListGrants = "kms:ListGrants", key: true, cross_account: true;
    ListKeyPolicies = "kms:ListKeyPolicies", key: true, cross_account: false;
    ListKeyRotations = "kms:ListKeyRotations", key: true, cross_account: false;
    ListKeys = "kms:ListKeys", key: false, cross_account: false;
    ListResourceTags = "kms:ListResourceTags", key: true, cross_account: false;
    ListRetirableGrants = "kms:ListRetirableGrants", key: false, cross_account: false;
    PutKeyPolicy = "kms:PutKeyPolicy", key: true, cross_account: false;
    ReEncryptFrom = "kms:ReEncryptFrom", key: true, cross_account: true;
    ReEncryptTo = "kms:ReEncryptTo", key: true, cross_account: true;
    RetireGrant = "kms:RetireGrant", key: true, cross_account: true;
    RevokeGrant = "kms:RevokeGrant", key: true, cross_account: true;
    RotateKeyOnDemand = "kms:RotateKeyOnDemand", key: true, cross_account: false;
    ScheduleKeyDeletion = "kms:ScheduleKeyDeletion", key: true, cross_account: false;
    Sign = "kms:Sign", key: true, cross_account: true;
    TagResource = "kms:TagResource", key: true, cross_account: false;
    UntagResource = "kms:UntagResource", key: true, cross_account: false;
    UpdateAlias = "kms:UpdateAlias", key: true, cross_account: false;
    UpdateKeyDescription = "kms:UpdateKeyDescription", key: true, cross_account: false;
    Verify = "kms:Verify", key: true, cross_account: true;
    VerifyMac = "kms:VerifyMac", key: true, cross_account: true;
}

/// The condition keys a request brings, beyond the caller's and the key's.
/// Each operation fills the members its request has, with AWS's defaults
/// for omitted parameters where AWS documents one.
#[derive(Debug, Default, Clone)]
pub struct Conditions<'a> {
    /// `kms:EncryptionContext:<key>` and `kms:EncryptionContextKeys`.
    pub encryption_context: Option<&'a EncryptionContext>,
    /// `kms:EncryptionAlgorithm`.
    pub encryption_algorithm: Option<&'a str>,
    /// `kms:SigningAlgorithm`.
    pub signing_algorithm: Option<&'a str>,
    /// `kms:MacAlgorithm`.
    pub mac_algorithm: Option<&'a str>,
    /// `kms:KeyAgreementAlgorithm`.
    pub key_agreement_algorithm: Option<&'a str>,
    /// `kms:MessageType`.
    pub message_type: Option<&'a str>,
    /// `kms:DataKeyPairSpec`.
    pub data_key_pair_spec: Option<&'a str>,
    /// `kms:RequestAlias`: the alias the request named the key by.
    pub request_alias: Option<&'a str>,
    /// `kms:ReEncryptOnSameKey`.
    pub re_encrypt_on_same_key: Option<bool>,
    /// `kms:BypassPolicyLockoutSafetyCheck`.
    pub bypass_policy_lockout_safety_check: Option<bool>,
    /// `kms:ScheduleKeyDeletionPendingWindowInDays`.
    pub pending_window_in_days: Option<i64>,
    /// `kms:RotationPeriodInDays`.
    pub rotation_period_in_days: Option<i64>,
    /// `kms:KeySpec`, `kms:KeyUsage`, `kms:KeyOrigin`, `kms:MultiRegion`
    /// of a key being created (`CreateKey`).
    pub new_key: Option<NewKey<'a>>,
    /// `aws:RequestTag/<key>` and `aws:TagKeys`.
    pub request_tags: &'a [(String, String)],
    /// `aws:TagKeys` of `UntagResource`.
    pub tag_keys: &'a [String],
    /// The grant a `CreateGrant` asks for: `kms:GrantOperations`,
    /// `kms:GranteePrincipal`, `kms:RetiringPrincipal`,
    /// `kms:GrantConstraintType`.
    pub grant: Option<GrantConditions<'a>>,
    /// `kms:GrantIsForAWSResource` (`CreateGrant`, `ListGrants`,
    /// `RevokeGrant`): always false here, as no AWS service calls Custos on
    /// a user's behalf.
    pub grant_is_for_aws_resource: Option<bool>,
    /// `kms:ResourceAliases`: the key's aliases. Filled in by the decision
    /// itself, and only when a policy tests the key (reading them costs a
    /// scan of the account's aliases).
    pub resource_aliases: &'a [String],
}

/// The condition keys of the grant a `CreateGrant` asks for.
#[derive(Debug, Clone, Copy)]
pub struct GrantConditions<'a> {
    pub operations: &'a [String],
    pub grantee_principal: &'a str,
    pub retiring_principal: Option<&'a str>,
    /// `EncryptionContextEquals` and/or `EncryptionContextSubset`.
    pub constraint_types: &'a [&'a str],
}

/// The properties of a key a request creates.
#[derive(Debug, Clone, Copy)]
pub struct NewKey<'a> {
    pub key_spec: &'a str,
    pub key_usage: &'a str,
    pub origin: &'a str,
    pub multi_region: bool,
}

/// What AWS answers when a request that names no key cannot use the key
/// the blob names: it does not exist here, or no policy lets the caller
/// use it. One text for all, so that it tells nothing about which.
pub(crate) fn unknown_key(caller: &Caller, action: Action) -> KmsError {
    KmsError::AccessDenied(format!(
        "User: {} is not authorized to perform: {} on the resource associated with this \
         ciphertext because the resource does not exist in this Region, no resource-based \
         policies allow access, or a resource-based policy explicitly denies access",
        caller.principal_arn(),
        action.name()
    ))
}

/// The alias in a `KeyId`, for `kms:RequestAlias`: `alias/x` as given, or
/// the alias name of an alias ARN.
pub fn request_alias(key_id: &str) -> Option<&str> {
    if key_id.starts_with("alias/") {
        return Some(key_id);
    }
    let rest = key_id.strip_prefix("arn:")?;
    let resource = rest.splitn(5, ':').nth(4)?;
    resource.starts_with("alias/").then_some(resource)
}

/// Parsed key policies, by key: evaluating a key policy does not parse it
/// again on every request. An entry is used only while the key's policy
/// text is byte for byte the one it was parsed from (a comparison, cheaper
/// than hashing the text on every request).
#[derive(Default)]
pub(crate) struct PolicyCache {
    // Read on every request, written once per new policy of a key.
    // The parsed policy keeps its text (`Policy::text`), which is what an
    // entry is compared against.
    parsed: RwLock<HashMap<String, Arc<Policy>>>,
    /// Lookups answered from the cache, and lookups that parsed.
    pub(crate) hits: std::sync::atomic::AtomicU64,
    pub(crate) misses: std::sync::atomic::AtomicU64,
}

/// Beyond this many keys the cache starts over.
const MAX_CACHED_POLICIES: usize = 10_000;

impl std::fmt::Debug for PolicyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyCache").finish_non_exhaustive()
    }
}

impl PolicyCache {
    fn get(&self, key_id: &str, text: &str) -> Result<Arc<Policy>, KmsError> {
        // Poisoning would mean a panic while holding the map; its entries
        // are still whole.
        if let Some(cached) = self
            .parsed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key_id)
            && cached.text() == text
        {
            self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(Arc::clone(cached));
        }
        self.misses
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Stored policies were checked when written: one that no longer
        // parses is refused, never ignored (ignoring it could ignore a Deny).
        let policy =
            Arc::new(
                Policy::parse(text, PolicyKind::Resource).map_err(|_| KmsError::Corrupt {
                    what: "key policy".into(),
                })?,
            );
        let mut map = self.parsed.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_POLICIES {
            map.clear();
        }
        map.insert(key_id.to_owned(), Arc::clone(&policy));
        Ok(policy)
    }
}

/// The combined effect of a list of policies on one request.
#[derive(Debug, Default, Clone, Copy)]
struct Effects {
    allow: bool,
    account_allow: bool,
    deny: bool,
}

fn effects<'p>(policies: impl Iterator<Item = &'p Policy>, request: &Request<'_>) -> Effects {
    let mut e = Effects::default();
    for p in policies {
        match p.evaluate(request) {
            Effect::Allow => e.allow = true,
            Effect::AccountAllow => e.account_allow = true,
            Effect::Deny => e.deny = true,
            Effect::NotApplicable => {}
        }
    }
    e
}

impl<E: custos_store::Engine> Kms<E> {
    /// Decides an action on no key (`CreateKey`, `ListKeys`,
    /// `ListAliases`, `GenerateRandom`, `ListRetirableGrants`): identity
    /// policies alone, on resource `*`. Actions on a key go through
    /// [`Kms::access`] instead.
    pub(crate) fn authorize_account(
        &self,
        caller: &Caller,
        action: Action,
        conditions: &Conditions<'_>,
    ) -> Result<(), KmsError> {
        debug_assert!(!action.is_on_key(), "{} is on a key", action.name());
        self.take_quota(caller, action, None, None)?;
        self.decide(caller, action, None, None, conditions)
            .map_err(|refusal| KmsError::AccessDenied(refusal.message(caller, action.name(), "*")))
    }

    /// Decides `action` on `key`: policies first; when they refuse without
    /// an explicit deny, a grant on the key may still allow. Says which
    /// grant allowed, when one did (`None`: the policies did): a grant that
    /// allows `CreateGrant` only lets its grantee create grants no wider
    /// than itself. Only [`Kms::access`] calls this, after resolving the
    /// key and before checking its state.
    async fn authorize_by(
        &self,
        caller: &Caller,
        action: Action,
        key: &KeyRecord,
        conditions: &Conditions<'_>,
    ) -> Result<Option<crate::grants::GrantRecord>, KmsError> {
        let key_policy = self.policy_cache.get(&key.key_id, &key.policy)?;
        // The key's aliases, only when a policy that takes part reads them.
        let aliases;
        let with_aliases;
        let conditions = if mentions(caller, &key_policy, "kms:ResourceAliases") {
            aliases = self.aliases_of(key).await?;
            with_aliases = Conditions {
                resource_aliases: &aliases,
                ..conditions.clone()
            };
            &with_aliases
        } else {
            conditions
        };
        let (decided, narrowed) =
            self.decide_narrowed(caller, action, Some(key), Some(&key_policy), conditions);
        let mut refusal = match decided {
            Ok(()) => return Ok(None),
            Err(refusal) => refusal,
        };
        let grantable = matches!(refusal, Refusal::NoResourceAllow | Refusal::NoIdentityAllow);
        if grantable
            && let Some(grant) = self
                .grant_allowing(caller, action, &key.key_id, conditions)
                .await?
        {
            // A session policy or boundary that does not allow the action
            // narrows a grant too.
            match narrowed {
                None => return Ok(Some(grant)),
                Some(r) => refusal = r,
            }
        }
        Err(KmsError::AccessDenied(refusal.message(
            caller,
            action.name(),
            &key.arn(),
        )))
    }

    /// The lockout safety check of `CreateKey` and `PutKeyPolicy`: with
    /// `policy` as its key policy, `caller` must still be allowed to change
    /// the key policy of `key`, by the same decision every request gets;
    /// unless the caller bypasses the check.
    pub(crate) fn check_lockout(
        &self,
        caller: &Caller,
        key: &KeyRecord,
        policy: &Policy,
        bypass: bool,
    ) -> Result<(), KmsError> {
        let allowed = self
            .decide(
                caller,
                Action::PutKeyPolicy,
                Some(key),
                Some(policy),
                &Conditions::default(),
            )
            .is_ok();
        if bypass || allowed {
            Ok(())
        } else {
            Err(KmsError::MalformedPolicyDocument(
                "The new key policy will not allow you to update the key policy in the future."
                    .into(),
            ))
        }
    }

    /// Authorizes `action` on a resource that has no policy of its own (an
    /// alias ARN, or `*`) by the caller's identity policies alone, as the
    /// alias half of `CreateAlias`, `UpdateAlias` and `DeleteAlias`, and the
    /// `kms:TagResource` a `CreateKey` with tags also needs.
    pub(crate) fn authorize_resource(
        &self,
        caller: &Caller,
        action: Action,
        resource: &str,
        conditions: &Conditions<'_>,
    ) -> Result<(), KmsError> {
        let mut context = caller_context(caller, self.now_ms());
        context.insert("kms:CallerAccount", caller.account().as_str());
        request_conditions(&mut context, conditions);
        let request = Request::new(
            action.name(),
            resource,
            custos_policy::Principal::Aws(policy_principal(caller)),
            &context,
        );
        custos_iam::authorize::decide(caller, &request).map_err(|refusal| {
            KmsError::AccessDenied(refusal.message(caller, action.name(), resource))
        })
    }

    fn decide(
        &self,
        caller: &Caller,
        action: Action,
        key: Option<&KeyRecord>,
        key_policy: Option<&Policy>,
        conditions: &Conditions<'_>,
    ) -> Result<(), Refusal> {
        self.decide_narrowed(caller, action, key, key_policy, conditions)
            .0
    }

    /// [`Kms::decide`], and what the caller's session policies and
    /// permissions boundary say on their own: a grant names the role or
    /// user, so they narrow what it allows as they narrow policies.
    fn decide_narrowed(
        &self,
        caller: &Caller,
        action: Action,
        key: Option<&KeyRecord>,
        key_policy: Option<&Policy>,
        conditions: &Conditions<'_>,
    ) -> (Result<(), Refusal>, Option<Refusal>) {
        let now_ms = self.now_ms();
        let mut context = caller_context(caller, now_ms);
        context.insert("kms:CallerAccount", caller.account().as_str());
        if let Some(k) = key {
            key_conditions(&mut context, k);
        }
        request_conditions(&mut context, conditions);
        let arn;
        let resource = match key {
            Some(k) if action.is_on_key() => {
                arn = k.arn();
                arn.as_str()
            }
            _ => "*",
        };
        let request = Request::new(
            action.name(),
            resource,
            custos_policy::Principal::Aws(policy_principal(caller)),
            &context,
        );
        let policies = caller.policies();
        let identity = effects(policies.identity.iter().map(AsRef::as_ref), &request);
        let session = effects(policies.session.iter().map(AsRef::as_ref), &request);
        let boundary = effects(policies.boundary.iter().map(AsRef::as_ref), &request);
        let on_key = key_policy.map(|p| effects(std::iter::once(p), &request));

        // Identity policies name no principal: any allow of theirs allows.
        let identity_allows = identity.allow || identity.account_allow;
        // 4. What only narrows (checked after the denies below).
        let session_allows = session.allow || session.account_allow;
        let narrowed = if !policies.session.is_empty() && !session_allows {
            Some(Refusal::NoSessionAllow)
        } else if policies.boundary.is_some() && !(boundary.allow || boundary.account_allow) {
            Some(Refusal::NoBoundaryAllow)
        } else {
            None
        };

        // 1. Explicit denies.
        if on_key.is_some_and(|e| e.deny) {
            return (Err(Refusal::ExplicitDenyResource), narrowed);
        }
        if identity.deny {
            return (Err(Refusal::ExplicitDenyIdentity), narrowed);
        }
        if session.deny {
            return (Err(Refusal::ExplicitDenySession), narrowed);
        }
        if boundary.deny {
            return (Err(Refusal::ExplicitDenyBoundary), narrowed);
        }

        let Some(key_effects) = on_key else {
            // Actions on no key: identity policies alone.
            let decided = match (identity_allows, narrowed) {
                (false, _) => Err(Refusal::NoIdentityAllow),
                (true, Some(r)) => Err(r),
                (true, None) => Ok(()),
            };
            return (decided, narrowed);
        };
        let same_account = key.is_some_and(|k| k.account_id == caller.account().as_str());
        if !same_account && !action.allows_cross_account() {
            return (Err(Refusal::NoResourceAllow), narrowed);
        }
        // 2. The key policy names the caller: enough within the account.
        if same_account && key_effects.allow {
            return (narrowed.map_or(Ok(()), Err), narrowed);
        }
        // 3. The key policy names the caller or its account, and IAM allows.
        if key_effects.allow || key_effects.account_allow {
            let decided = match (identity_allows, narrowed) {
                (false, _) => Err(Refusal::NoIdentityAllow),
                (true, Some(r)) => Err(r),
                (true, None) => Ok(()),
            };
            return (decided, narrowed);
        }
        (Err(Refusal::NoResourceAllow), narrowed)
    }
}

/// Whether the key policy or any policy of the caller tests `name`.
fn mentions(caller: &Caller, key_policy: &Policy, name: &str) -> bool {
    let policies = caller.policies();
    key_policy.mentions_condition_key(name)
        || policies
            .identity
            .iter()
            .chain(policies.session.iter())
            .chain(policies.boundary.iter())
            .any(|p| p.mentions_condition_key(name))
}

/// The key's condition keys.
fn key_conditions<'a>(context: &mut Context<'a>, key: &'a KeyRecord) {
    context.insert("kms:KeySpec", key.key_spec.as_str());
    // `CustomerMasterKeySpec` is the deprecated name of the same.
    context.insert("kms:CustomerMasterKeySpec", key.key_spec.as_str());
    context.insert("kms:KeyUsage", key.key_usage.as_str());
    context.insert("kms:KeyOrigin", key.origin.as_str());
    context.insert_bool("kms:MultiRegion", false);
    for (k, v) in &key.tags {
        context.insert(Cow::Owned(format!("aws:ResourceTag/{k}")), v.as_str());
    }
}

/// The request's condition keys.
fn request_conditions<'a>(context: &mut Context<'a>, c: &Conditions<'a>) {
    if let Some(ec) = c.encryption_context {
        for (k, v) in ec.iter() {
            context.insert(Cow::Owned(format!("kms:EncryptionContext:{k}")), v);
        }
        context.insert_many("kms:EncryptionContextKeys", ec.iter().map(|(k, _)| k));
    }
    let strings = [
        ("kms:EncryptionAlgorithm", c.encryption_algorithm),
        ("kms:SigningAlgorithm", c.signing_algorithm),
        ("kms:MacAlgorithm", c.mac_algorithm),
        ("kms:KeyAgreementAlgorithm", c.key_agreement_algorithm),
        ("kms:MessageType", c.message_type),
        ("kms:DataKeyPairSpec", c.data_key_pair_spec),
        ("kms:RequestAlias", c.request_alias),
    ];
    for (name, value) in strings {
        if let Some(v) = value {
            context.insert(name, v);
        }
    }
    let bools = [
        ("kms:ReEncryptOnSameKey", c.re_encrypt_on_same_key),
        (
            "kms:BypassPolicyLockoutSafetyCheck",
            c.bypass_policy_lockout_safety_check,
        ),
    ];
    for (name, value) in bools {
        if let Some(v) = value {
            context.insert_bool(name, v);
        }
    }
    let numbers = [
        (
            "kms:ScheduleKeyDeletionPendingWindowInDays",
            c.pending_window_in_days,
        ),
        ("kms:RotationPeriodInDays", c.rotation_period_in_days),
    ];
    for (name, value) in numbers {
        if let Some(v) = value {
            context.insert_number(name, v);
        }
    }
    if let Some(n) = c.new_key {
        context.insert("kms:KeySpec", n.key_spec);
        context.insert("kms:CustomerMasterKeySpec", n.key_spec);
        context.insert("kms:KeyUsage", n.key_usage);
        context.insert("kms:KeyOrigin", n.origin);
        context.insert_bool("kms:MultiRegion", n.multi_region);
    }
    for (k, v) in c.request_tags {
        context.insert(Cow::Owned(format!("aws:RequestTag/{k}")), v.as_str());
    }
    if let Some(g) = c.grant {
        context.insert_many(
            "kms:GrantOperations",
            g.operations.iter().map(String::as_str),
        );
        context.insert("kms:GranteePrincipal", g.grantee_principal);
        if let Some(r) = g.retiring_principal {
            context.insert("kms:RetiringPrincipal", r);
        }
        if !g.constraint_types.is_empty() {
            context.insert_many(
                "kms:GrantConstraintType",
                g.constraint_types.iter().copied(),
            );
        }
    }
    if let Some(v) = c.grant_is_for_aws_resource {
        context.insert_bool("kms:GrantIsForAWSResource", v);
    }
    if !c.resource_aliases.is_empty() {
        context.insert_many(
            "kms:ResourceAliases",
            c.resource_aliases.iter().map(String::as_str),
        );
    }
    if !c.request_tags.is_empty() {
        context.insert_many(
            "aws:TagKeys",
            c.request_tags.iter().map(|(k, _)| k.as_str()),
        );
    } else if !c.tag_keys.is_empty() {
        context.insert_many("aws:TagKeys", c.tag_keys.iter().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_alias_is_read_from_names_and_arns() {
        assert_eq!(request_alias("alias/app"), Some("alias/app"));
        assert_eq!(
            request_alias("arn:aws:kms:us-east-1:111122223333:alias/app"),
            Some("alias/app")
        );
        assert_eq!(
            request_alias("arn:aws:kms:us-east-1:111122223333:key/1234abcd"),
            None
        );
        assert_eq!(request_alias("1234abcd-12ab-34cd-56ef-1234567890ab"), None);
    }

    #[test]
    fn actions_are_spelled_as_policies_spell_them() {
        assert_eq!(Action::Decrypt.name(), "kms:Decrypt");
        assert!(!Action::CreateKey.is_on_key());
        assert!(Action::Decrypt.allows_cross_account());
        assert!(!Action::PutKeyPolicy.allows_cross_account());
    }
}
