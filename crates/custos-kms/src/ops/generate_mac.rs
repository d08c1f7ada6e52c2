//! `GenerateMac`: the HMAC of a message under an HMAC key, with the hash of
//! its key spec.

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{GenerateMacRequest, GenerateMacResponse};
use custos_wire::validation::Violations;

use crate::algorithms::incompatible;
use crate::authz::Action;
use crate::authz::access::{Authorized, KeyRequest, KeySource};
use crate::material::{Material, hmac_algorithm};
use crate::model::{KeyRecord, KeyUsage, MacAlgorithm};
use crate::ops::{check_grant_tokens, check_key_id, key_arn};
use crate::{Caller, Kms, KmsError};

/// The members `GenerateMac` and `VerifyMac` share, validated.
pub(crate) struct MacParams {
    pub key_id: String,
    pub message: custos_wire::SecretBlob,
    pub algorithm: MacAlgorithm,
}

pub(crate) fn parse_mac_params(
    message: Option<custos_wire::SecretBlob>,
    key_id: Option<String>,
    algorithm: Option<String>,
    grant_tokens: &Option<Vec<String>>,
    extra: impl FnOnce(&mut Violations),
) -> Result<MacParams, KmsError> {
    let mut v = Violations::new();
    v.required("message", &message);
    v.blob_length("message", message.as_ref().map(|m| m.len()), 1, 4096, true);
    v.required("keyId", &key_id);
    check_key_id(&mut v, "keyId", &key_id);
    v.required("macAlgorithm", &algorithm);
    v.one_of("macAlgorithm", algorithm.as_deref(), MacAlgorithm::NAMES);
    extra(&mut v);
    check_grant_tokens(&mut v, grant_tokens);
    v.into_result()?;
    Ok(MacParams {
        key_id: key_id.unwrap_or_default(),
        message: message.unwrap_or_default(),
        // Validated above: the parse cannot fail.
        algorithm: algorithm
            .as_deref()
            .and_then(MacAlgorithm::parse)
            .unwrap_or(MacAlgorithm::HmacSha256),
    })
}

/// The algorithm check of the MAC operations: the one algorithm of the
/// key's spec.
pub(crate) fn require_mac_algorithm(
    key: &KeyRecord,
    algorithm: MacAlgorithm,
) -> Result<(), KmsError> {
    if key
        .key_spec
        .algorithms(key.key_usage)
        .mac
        .contains(&algorithm)
    {
        Ok(())
    } else {
        Err(incompatible(algorithm.as_str(), key.key_spec))
    }
}

impl<E: Engine> Kms<E> {
    pub async fn generate_mac(
        &self,
        caller: &Caller,
        req: GenerateMacRequest,
    ) -> Result<GenerateMacResponse, KmsError> {
        let params = parse_mac_params(
            req.message,
            req.key_id,
            req.mac_algorithm,
            &req.grant_tokens,
            |_| {},
        )?;
        self.check_grant_token_list(&req.grant_tokens)?;

        let request = KeyRequest::new(Action::GenerateMac, KeySource::Named(&params.key_id))
            .conditions(crate::authz::Conditions {
                mac_algorithm: Some(params.algorithm.as_str()),
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::GenerateVerifyMac)
            .dry_run(req.dry_run);
        let (authorized, ()) = self
            .access_checked(caller, request, async |a| {
                require_mac_algorithm(a.key(), params.algorithm)
            })
            .await?;
        let key = authorized.key();

        let (alg, mac_key) = self.hmac_key(&authorized).await?;
        let mac = custos_crypto::mac::hmac(alg, &mac_key, &params.message.0);
        Ok(GenerateMacResponse {
            mac: Blob(mac),
            mac_algorithm: params.algorithm.as_str().to_owned(),
            key_id: key_arn(key),
        })
    }

    /// The HMAC key of an HMAC KMS key, and its hash.
    pub(crate) async fn hmac_key(
        &self,
        authorized: &Authorized,
    ) -> Result<
        (
            custos_crypto::mac::HmacAlgorithm,
            custos_crypto::SecretBytes,
        ),
        KmsError,
    > {
        let key = authorized.key();
        match self.current_material(authorized).await? {
            Material::Hmac(alg, secret) if Some(alg) == hmac_algorithm(key.key_spec) => {
                Ok((alg, secret))
            }
            _ => Err(KmsError::Corrupt {
                what: format!("HMAC key {}", key.key_id),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use custos_store::redb::RedbEngine;
    use custos_wire::SecretBlob;
    use custos_wire::shapes::{CreateKeyRequest, GenerateMacRequest};

    use crate::root_key::file::FileProvider;
    use crate::{Caller, Kms, Region, Settings, SystemClock};

    fn python() -> PathBuf {
        for var in ["CUSTOS_PYTHON", "CUSTOS_ESDK_PYTHON"] {
            if let Ok(p) = std::env::var(var) {
                return PathBuf::from(p);
            }
        }
        let venv =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tools/venv/bin/python");
        assert!(
            venv.exists(),
            "set CUSTOS_PYTHON (scripts/test installs one)"
        );
        venv
    }

    /// `GenerateMac` tags equal Python's `hmac` module (OpenSSL's HMAC, not
    /// aws-lc's) under the key Custos generated and sealed, for every HMAC
    /// key spec and messages of several lengths.
    #[tokio::test]
    async fn tags_equal_pythons_hmac() {
        let dir = tempfile::tempdir().expect("tempdir");
        let region = Region::parse("us-east-1").expect("region");
        let root = FileProvider::open_or_create(&dir.path().join("root.key")).expect("root");
        let kms = Kms::open(
            RedbEngine::open(&dir.path().join("store.redb")).expect("store"),
            &root,
            Settings {
                account_id: None,
                regions: vec![region.clone()],
                clock: Arc::new(SystemClock::new()),
            },
        )
        .await
        .expect("open");
        let caller = Caller::for_tests(kms.account().clone(), region, "test");
        for (spec, alg, py_alg, key_len) in [
            ("HMAC_224", "HMAC_SHA_224", "sha224", 28),
            ("HMAC_256", "HMAC_SHA_256", "sha256", 32),
            ("HMAC_384", "HMAC_SHA_384", "sha384", 48),
            ("HMAC_512", "HMAC_SHA_512", "sha512", 64),
        ] {
            let created = kms
                .create_key(
                    &caller,
                    CreateKeyRequest {
                        key_spec: Some(spec.into()),
                        key_usage: Some("GENERATE_VERIFY_MAC".into()),
                        ..CreateKeyRequest::default()
                    },
                )
                .await
                .expect("create");
            let key = kms
                .resolve(&caller, &created.key_metadata.key_id)
                .await
                .expect("resolve");
            let key = crate::authz::access::Authorized::for_test(key);
            let (_, secret) = kms.hmac_key(&key).await.expect("key");
            assert_eq!(secret.len(), key_len);
            for len in [1usize, 63, 64, 65, 128, 4096] {
                let message: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let tag = kms
                    .generate_mac(
                        &caller,
                        GenerateMacRequest {
                            message: Some(SecretBlob::new(message.clone())),
                            key_id: Some(key.key().key_id.clone()),
                            mac_algorithm: Some(alg.into()),
                            ..GenerateMacRequest::default()
                        },
                    )
                    .await
                    .expect("GenerateMac")
                    .mac
                    .0;
                let msg_path = dir.path().join("message");
                std::fs::write(&msg_path, &message).expect("write");
                let script = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../custos-server/tests/interop/asymmetric.py");
                let out = std::process::Command::new(python())
                    .arg(script)
                    .args(["hmac", py_alg, &hex::encode(secret.expose_secret())])
                    .arg(&msg_path)
                    .output()
                    .expect("python");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let expected = String::from_utf8(out.stdout).expect("utf-8");
                assert_eq!(hex::encode(&tag), expected.trim(), "{spec} {len}");
            }
        }
    }
}
