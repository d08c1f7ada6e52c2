//! Request quotas, as AWS KMS applies them: a rate per second for each
//! quota class, per account and region, and `ThrottlingException` beyond it.
//!
//! The classes are AWS's ("Request quotas" in the KMS Developer Guide):
//!
//! - the cryptographic operations share one quota per kind of key:
//!   `symmetric` (Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//!   GenerateDataKeyWithoutPlaintext, GenerateMac and VerifyMac on HMAC
//!   keys, and GenerateRandom, which uses no key), `rsa`, `ecc` (SM2 too),
//!   `ml-dsa`, `ml-kem`;
//! - `GenerateDataKeyPair` and `GenerateDataKeyPairWithoutPlaintext` share
//!   one quota per key pair spec: `data-key-pair/RSA_2048`, …;
//! - every other operation has its own: `CreateKey`, `DescribeKey`, ….
//!
//! A request counts against its caller's account, in the caller's region,
//! also when it uses another account's key (AWS: "AWS KMS throttles the
//! account that makes the requests, not the account that owns the KMS
//! key"). Each class is a token bucket holding at most one second of its
//! rate, refilled continuously on the monotonic clock (the injected one, so
//! tests are deterministic).
//!
//! Quotas are off unless configured: a self-hosted KMS is usually
//! limited by its hardware, not by a share of a fleet. The `aws` preset
//! applies the figures AWS documents (see [`Quotas::aws`]).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::authz::Action;
use crate::model::{KeySpec, KeyUsage};
use crate::{AccountId, KmsError, Region};

/// The rates of the quota classes, in requests per second. A class not
/// listed is not limited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quotas {
    rates: HashMap<String, f64>,
}

/// The error of an unknown class or a rate that is not a positive number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuotaError {
    #[error("unknown quota class `{0}` (see docs/authorization.md for the classes)")]
    UnknownClass(String),
    #[error("the rate of quota class `{0}` must be a positive number of requests per second")]
    BadRate(String),
    #[error("unknown quota preset `{0}`: `none` or `aws`")]
    UnknownPreset(String),
}

/// Shared cryptographic classes, by kind of key.
const CRYPTO_CLASSES: [&str; 5] = ["symmetric", "rsa", "ecc", "ml-dsa", "ml-kem"];

/// Key pair specs of `GenerateDataKeyPair*`.
const PAIR_SPECS: [&str; 8] = [
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SM2",
];

impl Quotas {
    /// No quota: nothing is throttled.
    pub fn none() -> Self {
        Quotas::default()
    }

    /// The figures of AWS's published table of request quotas (KMS
    /// Developer Guide, "Request quotas", as archived in
    /// `awsdocs/aws-kms-developer-guide`): the shared symmetric quota of
    /// most regions (10,000; AWS's varies from 5,500 to 50,000 by region),
    /// RSA 500, ECC 300, the data key pair specs and every operation's own.
    /// That table gives no figure for ML-DSA and ML-KEM keys, so those
    /// classes stay unlimited here rather than carry a made-up one.
    pub fn aws() -> Self {
        let mut rates: HashMap<String, f64> = [
            ("symmetric", 10_000.0),
            ("rsa", 500.0),
            ("ecc", 300.0),
            ("data-key-pair/RSA_2048", 1.0),
            ("data-key-pair/RSA_3072", 0.5),
            ("data-key-pair/RSA_4096", 0.1),
            ("data-key-pair/ECC_NIST_P256", 25.0),
            ("data-key-pair/ECC_NIST_P384", 10.0),
            ("data-key-pair/ECC_NIST_P521", 5.0),
            ("data-key-pair/ECC_SECG_P256K1", 25.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (op, rate) in [
            ("CancelKeyDeletion", 5.0),
            ("CreateAlias", 5.0),
            ("CreateGrant", 50.0),
            ("CreateKey", 5.0),
            ("DeleteAlias", 5.0),
            ("DescribeKey", 100.0),
            ("DisableKey", 5.0),
            ("DisableKeyRotation", 5.0),
            ("EnableKey", 5.0),
            ("EnableKeyRotation", 5.0),
            ("GetKeyPolicy", 30.0),
            ("GetKeyRotationStatus", 30.0),
            ("GetPublicKey", 5.0),
            ("ListAliases", 100.0),
            ("ListGrants", 100.0),
            ("ListKeyPolicies", 100.0),
            ("ListKeys", 100.0),
            ("ListResourceTags", 100.0),
            ("ListRetirableGrants", 5.0),
            ("PutKeyPolicy", 5.0),
            ("RetireGrant", 15.0),
            ("RevokeGrant", 15.0),
            ("ScheduleKeyDeletion", 5.0),
            ("TagResource", 5.0),
            ("UntagResource", 5.0),
            ("UpdateAlias", 5.0),
            ("UpdateKeyDescription", 5.0),
        ] {
            rates.insert(op.to_owned(), rate);
        }
        Quotas { rates }
    }

    /// A preset by name: `none` (the default) or `aws`.
    pub fn preset(name: &str) -> Result<Self, QuotaError> {
        match name {
            "none" => Ok(Quotas::none()),
            "aws" => Ok(Quotas::aws()),
            other => Err(QuotaError::UnknownPreset(other.to_owned())),
        }
    }

    /// Sets the rate of `class`, replacing the preset's.
    pub fn set(&mut self, class: &str, rate: f64) -> Result<(), QuotaError> {
        if !is_class(class) {
            return Err(QuotaError::UnknownClass(class.to_owned()));
        }
        if !(rate.is_finite() && rate > 0.0) {
            return Err(QuotaError::BadRate(class.to_owned()));
        }
        self.rates.insert(class.to_owned(), rate);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    fn rate(&self, class: &str) -> Option<f64> {
        self.rates.get(class).copied()
    }
}

/// Whether `class` names a quota class.
fn is_class(class: &str) -> bool {
    CRYPTO_CLASSES.contains(&class)
        || class
            .strip_prefix("data-key-pair/")
            .is_some_and(|s| PAIR_SPECS.contains(&s))
        || Action::ALL
            .iter()
            .any(|a| !is_cryptographic(*a) && a.name().trim_start_matches("kms:") == class)
}

/// The actions that count against the shared quota of their key's kind.
fn is_cryptographic(action: Action) -> bool {
    use Action as A;
    matches!(
        action,
        A::Encrypt
            | A::Decrypt
            | A::ReEncryptFrom
            | A::ReEncryptTo
            | A::GenerateDataKey
            | A::GenerateDataKeyWithoutPlaintext
            | A::GenerateDataKeyPair
            | A::GenerateDataKeyPairWithoutPlaintext
            | A::GenerateRandom
            | A::Sign
            | A::Verify
            | A::GenerateMac
            | A::VerifyMac
            | A::DeriveSharedSecret
            | A::Encapsulate
            | A::Decapsulate
    )
}

/// The shared class of a key's cryptographic operations.
fn crypto_class(spec: KeySpec, usage: KeyUsage) -> &'static str {
    use KeySpec as S;
    match spec {
        S::SymmetricDefault => "symmetric",
        S::Rsa2048 | S::Rsa3072 | S::Rsa4096 => "rsa",
        // AWS counts HMAC operations in the symmetric quota.
        S::Hmac224 | S::Hmac256 | S::Hmac384 | S::Hmac512 => "symmetric",
        S::MlDsa44 | S::MlDsa65 | S::MlDsa87 => "ml-dsa",
        S::MlKem512 | S::MlKem768 | S::MlKem1024 => "ml-kem",
        _ if usage == KeyUsage::EncapsulateDecapsulate => "ml-kem",
        _ => "ecc",
    }
}

/// The quota class of `action`: on `key` (its spec and usage) where the
/// action is on a key, with `pair_spec` for the data key pair operations.
pub(crate) fn class_of(
    action: Action,
    key: Option<(KeySpec, KeyUsage)>,
    pair_spec: Option<&str>,
) -> String {
    match (action, key) {
        (Action::GenerateDataKeyPair | Action::GenerateDataKeyPairWithoutPlaintext, _) => {
            format!("data-key-pair/{}", pair_spec.unwrap_or_default())
        }
        (Action::GenerateRandom, _) => "symmetric".to_owned(),
        (a, Some((spec, usage))) if is_cryptographic(a) => crypto_class(spec, usage).to_owned(),
        (a, _) => a.name().trim_start_matches("kms:").to_owned(),
    }
}

/// A token bucket: at most one second of the rate, refilled continuously.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// The buckets of every account, region and class that has been used.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    quotas: Quotas,
    buckets: Mutex<HashMap<(String, String, String), Bucket>>,
}

impl Limiter {
    pub(crate) fn new(quotas: Quotas) -> Self {
        Limiter {
            quotas,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn is_off(&self) -> bool {
        self.quotas.is_empty()
    }

    /// Takes one request of `class` for `account` in `region` at
    /// monotonic time `now_ms`, or refuses with `ThrottlingException`.
    pub(crate) fn take(
        &self,
        account: &AccountId,
        region: &Region,
        class: &str,
        now_ms: i64,
    ) -> Result<(), KmsError> {
        let Some(rate) = self.quotas.rate(class) else {
            return Ok(());
        };
        // At least one request fits, whatever the rate (0.1 per second:
        // one every ten seconds).
        let capacity = rate.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets
            .entry((
                account.as_str().to_owned(),
                region.as_str().to_owned(),
                class.to_owned(),
            ))
            .or_insert(Bucket {
                tokens: capacity,
                at_ms: now_ms,
            });
        let elapsed_s = (now_ms - bucket.at_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed_s * rate).min(capacity);
        bucket.at_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(KmsError::Throttled)
        }
    }
}

impl<E: custos_store::Engine> crate::Kms<E> {
    /// Counts a request of `action` (on a key of `key`'s kind, or a data
    /// key pair of `pair_spec`) against the caller's quota.
    pub(crate) fn take_quota(
        &self,
        caller: &crate::Caller,
        action: Action,
        key: Option<(KeySpec, KeyUsage)>,
        pair_spec: Option<&str>,
    ) -> Result<(), KmsError> {
        if self.limiter.is_off() {
            return Ok(());
        }
        let class = class_of(action, key, pair_spec);
        self.limiter.take(
            caller.account(),
            caller.region(),
            &class,
            self.clock().monotonic_ms(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (AccountId, AccountId, Region) {
        (
            AccountId::parse("111122223333").expect("account"),
            AccountId::parse("444455556666").expect("account"),
            Region::parse("us-east-1").expect("region"),
        )
    }

    #[test]
    fn a_bucket_holds_one_second_and_refills_at_the_rate() {
        let (a, b, region) = ids();
        let mut quotas = Quotas::none();
        quotas.set("CreateKey", 5.0).expect("class");
        let limiter = Limiter::new(quotas);
        for _ in 0..5 {
            limiter.take(&a, &region, "CreateKey", 0).expect("within");
        }
        assert!(matches!(
            limiter.take(&a, &region, "CreateKey", 0),
            Err(KmsError::Throttled)
        ));
        // Another account, another class: their own quotas.
        limiter.take(&b, &region, "CreateKey", 0).expect("B");
        limiter
            .take(&a, &region, "DescribeKey", 0)
            .expect("unlimited");
        // 200 ms later, one more request (5 per second).
        assert!(limiter.take(&a, &region, "CreateKey", 199).is_err());
        limiter
            .take(&a, &region, "CreateKey", 400)
            .expect("refilled");
        // A long pause refills one second's worth, no more.
        for _ in 0..5 {
            limiter
                .take(&a, &region, "CreateKey", 60_000)
                .expect("full");
        }
        assert!(limiter.take(&a, &region, "CreateKey", 60_000).is_err());
    }

    #[test]
    fn slow_rates_allow_one_request_per_period() {
        let (a, _, region) = ids();
        let limiter = Limiter::new(Quotas::aws());
        let class = "data-key-pair/RSA_4096";
        limiter.take(&a, &region, class, 0).expect("first");
        assert!(limiter.take(&a, &region, class, 9_000).is_err());
        limiter
            .take(&a, &region, class, 10_000)
            .expect("ten seconds later");
    }

    #[test]
    fn operations_map_to_aws_classes() {
        use KeySpec as S;
        use KeyUsage as U;
        let on = |spec, usage| Some((spec, usage));
        let cases = [
            (
                Action::Encrypt,
                on(S::SymmetricDefault, U::EncryptDecrypt),
                None,
                "symmetric",
            ),
            (
                Action::Decrypt,
                on(S::Rsa2048, U::EncryptDecrypt),
                None,
                "rsa",
            ),
            (Action::Sign, on(S::EccNistP256, U::SignVerify), None, "ecc"),
            (
                Action::DeriveSharedSecret,
                on(S::EccNistP384, U::KeyAgreement),
                None,
                "ecc",
            ),
            (
                Action::GenerateMac,
                on(S::Hmac256, U::GenerateVerifyMac),
                None,
                "symmetric",
            ),
            (Action::Sign, on(S::MlDsa65, U::SignVerify), None, "ml-dsa"),
            (
                Action::Decapsulate,
                on(S::MlKem768, U::EncapsulateDecapsulate),
                None,
                "ml-kem",
            ),
            (Action::GenerateRandom, None, None, "symmetric"),
            (
                Action::GenerateDataKeyPair,
                on(S::SymmetricDefault, U::EncryptDecrypt),
                Some("RSA_2048"),
                "data-key-pair/RSA_2048",
            ),
            (Action::CreateKey, None, None, "CreateKey"),
            (
                Action::DescribeKey,
                on(S::Rsa2048, U::SignVerify),
                None,
                "DescribeKey",
            ),
        ];
        for (action, key, pair, want) in cases {
            assert_eq!(class_of(action, key, pair), want, "{action:?}");
        }
    }

    #[test]
    fn configuration_names_known_classes_and_positive_rates() {
        let mut q = Quotas::none();
        assert!(q.set("symmetric", 20_000.0).is_ok());
        assert!(q.set("data-key-pair/ECC_NIST_P256", 50.0).is_ok());
        assert!(q.set("ListKeys", 1.5).is_ok());
        assert_eq!(
            q.set("Encrypt", 1.0),
            Err(QuotaError::UnknownClass("Encrypt".into())),
            "Encrypt counts against `symmetric`, not a quota of its own"
        );
        assert!(q.set("data-key-pair/AES_256", 1.0).is_err());
        assert_eq!(
            q.set("CreateKey", 0.0),
            Err(QuotaError::BadRate("CreateKey".into()))
        );
        assert!(q.set("CreateKey", f64::NAN).is_err());
        assert!(Quotas::preset("aws").is_ok_and(|q| !q.is_empty()));
        assert!(Quotas::preset("none").is_ok_and(|q| q.is_empty()));
        assert!(Quotas::preset("fast").is_err());
    }
}
