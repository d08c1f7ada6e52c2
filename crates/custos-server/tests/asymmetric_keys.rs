//! Asymmetric, HMAC and post-quantum keys through the official
//! `aws-sdk-kms` client against the real server, every result checked by
//! another implementation:
//!
//! - signatures: the `openssl` command (RSA PSS and PKCS #1 v1.5 with an
//!   explicit salt length and DigestInfo, ECDSA on P-256/384/521 and
//!   secp256k1, Ed25519), Python `cryptography` (ML-DSA, RAW and external
//!   μ) and a from-scratch RFC 8032 verifier (Ed25519ph), for RAW and
//!   DIGEST messages;
//! - RSA-OAEP: ciphertexts made by `openssl pkeyutl` with the
//!   `GetPublicKey` output decrypt in Custos;
//! - ECDH: `DeriveSharedSecret` equals `openssl pkeyutl -derive`;
//! - `GenerateDataKeyPair`: the private key parses in OpenSSL (Python for
//!   ML-KEM), matches the public key, and equals the decrypted
//!   `PrivateKeyCiphertextBlob`;
//! - ML-KEM: a ciphertext made by Python with the `GetPublicKey` output
//!   decapsulates to Python's secret. `Encapsulate` and `Decapsulate` go
//!   through the raw SigV4 rig: the pinned `aws-sdk-kms` predates them.
//!
//! Python is the one `scripts/test` installs (`CUSTOS_PYTHON`); without it
//! the tests fail rather than pass without checking.

mod common;

use std::path::Path;
use std::process::Command;

use custos_test_support::python;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeyPairSpec, EncryptionAlgorithmSpec, KeyAgreementAlgorithmSpec, KeySpec, KeyUsageType,
    MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};
use common::raw::{RawClient, RawRequest, Signer};
use common::{ACCOUNT, REGION, client, error_of, start};

fn arn(id: &str) -> String {
    format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
}

/// Runs the interop script; returns stdout, panics with stderr on failure.
fn py(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/asymmetric.py");
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// Runs `openssl` with `args`; returns stdout, panics with stderr on failure.
fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

fn sha(alg: &str, data: &[u8]) -> Vec<u8> {
    use custos_crypto::sign::Sha2;
    match alg {
        "sha256" => Sha2::Sha256.digest(data),
        "sha384" => Sha2::Sha384.digest(data),
        _ => Sha2::Sha512.digest(data),
    }
}

async fn create(kms: &aws_sdk_kms::Client, spec: KeySpec, usage: KeyUsageType) -> String {
    kms.create_key()
        .key_spec(spec.clone())
        .key_usage(usage)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateKey {spec:?}: {e:?}"))
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_owned()
}

/// The public key of `id`, written as DER and (for the key types OpenSSL
/// 3.0 knows) PEM; returns the DER, its path and the PEM path.
async fn public_key(kms: &aws_sdk_kms::Client, id: &str, dir: &Path) -> (Vec<u8>, String, String) {
    let out = kms
        .get_public_key()
        .key_id(id)
        .send()
        .await
        .expect("GetPublicKey");
    assert_eq!(out.key_id(), Some(arn(id).as_str()));
    let der = out.public_key().expect("public key").as_ref().to_vec();
    let der_path = write(dir, &format!("{id}.der"), &der);
    let pem_path = dir.join(format!("{id}.pem"));
    let pem_path = pem_path.to_str().expect("utf-8").to_owned();
    let post_quantum = out
        .key_spec()
        .is_some_and(|s| s.as_str().starts_with("ML_"));
    if !post_quantum {
        openssl(&[
            "pkey", "-pubin", "-inform", "DER", "-in", &der_path, "-out", &pem_path,
        ]);
    }
    (der, der_path, pem_path)
}

async fn sign(
    kms: &aws_sdk_kms::Client,
    id: &str,
    alg: SigningAlgorithmSpec,
    message_type: MessageType,
    message: &[u8],
) -> Vec<u8> {
    let out = kms
        .sign()
        .key_id(id)
        .signing_algorithm(alg.clone())
        .message_type(message_type.clone())
        .message(Blob::new(message.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("Sign {alg:?} {message_type:?}: {e:?}"));
    assert_eq!(out.key_id(), Some(arn(id).as_str()));
    assert_eq!(out.signing_algorithm(), Some(&alg));
    let signature = out.signature().expect("signature").as_ref().to_vec();
    // Custos' own Verify agrees, and refuses any other message.
    let ok = kms
        .verify()
        .key_id(id)
        .signing_algorithm(alg.clone())
        .message_type(message_type.clone())
        .message(Blob::new(message.to_vec()))
        .signature(Blob::new(signature.clone()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("Verify {alg:?}: {e:?}"));
    assert!(ok.signature_valid());
    let mut other = message.to_vec();
    other[0] ^= 1;
    let e = kms
        .verify()
        .key_id(id)
        .signing_algorithm(alg)
        .message_type(message_type)
        .message(Blob::new(other))
        .signature(Blob::new(signature.clone()))
        .send()
        .await
        .expect_err("another message");
    assert_eq!(
        error_of(&e),
        ("KMSInvalidSignatureException".into(), String::new(), 400)
    );
    signature
}

const MESSAGE: &[u8] = b"Custos signs this for OpenSSL, Python and RFC 8032 to check.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_and_ecdsa_signatures_verify_in_openssl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let work = tempfile::tempdir().expect("work dir");
    let w = work.path();
    let msg = write(w, "message", MESSAGE);

    for (spec, bits) in [
        (KeySpec::Rsa2048, 2048),
        (KeySpec::Rsa3072, 3072),
        (KeySpec::Rsa4096, 4096),
    ] {
        let id = create(&kms, spec.clone(), KeyUsageType::SignVerify).await;
        let described = kms
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .expect("describe");
        let meta = described.key_metadata().expect("meta");
        assert_eq!(
            meta.signing_algorithms()
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>(),
            [
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512"
            ]
        );
        assert!(meta.encryption_algorithms().is_empty());
        assert_eq!(meta.current_key_material_id(), None);
        let (_, _, pem) = public_key(&kms, &id, w).await;
        let text = String::from_utf8(openssl(&["pkey", "-pubin", "-in", &pem, "-text", "-noout"]))
            .expect("text");
        assert!(text.contains(&format!("({bits} bit)")), "{text}");

        for (alg, hash, hash_len) in [
            (SigningAlgorithmSpec::RsassaPkcs1V15Sha256, "sha256", 32),
            (SigningAlgorithmSpec::RsassaPkcs1V15Sha384, "sha384", 48),
            (SigningAlgorithmSpec::RsassaPkcs1V15Sha512, "sha512", 64),
            (SigningAlgorithmSpec::RsassaPssSha256, "sha256", 32),
            (SigningAlgorithmSpec::RsassaPssSha384, "sha384", 48),
            (SigningAlgorithmSpec::RsassaPssSha512, "sha512", 64),
        ] {
            let pss = alg.as_str().contains("PSS");
            let saltlen = format!("rsa_pss_saltlen:{hash_len}");
            let mut opts: Vec<&str> = Vec::new();
            if pss {
                opts.extend(["-sigopt", "rsa_padding_mode:pss", "-sigopt", &saltlen]);
            }
            // RAW: KMS hashes the message.
            let s = sign(&kms, &id, alg.clone(), MessageType::Raw, MESSAGE).await;
            assert_eq!(s.len(), bits / 8);
            let sig = write(w, "sig", &s);
            let mut args = vec!["dgst", &format!("-{hash}")[..]]
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>();
            args.extend(opts.iter().map(|s| s.to_string()));
            args.extend(["-verify", &pem, "-signature", &sig, &msg].map(str::to_owned));
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            assert!(String::from_utf8_lossy(&openssl(&argv)).contains("Verified OK"));
            // DIGEST: the caller's hash, signed as is (PKCS #1 v1.5 inside a
            // DigestInfo): it verifies over the original message.
            let digest = sha(hash, MESSAGE);
            let s = sign(&kms, &id, alg.clone(), MessageType::Digest, &digest).await;
            let sig = write(w, "sig", &s);
            args.truncate(args.len() - 5);
            args.extend(["-verify", &pem, "-signature", &sig, &msg].map(str::to_owned));
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            assert!(String::from_utf8_lossy(&openssl(&argv)).contains("Verified OK"));
            // The same digest through pkeyutl, which checks the DigestInfo.
            let dg = write(w, "digest", &digest);
            let md = format!("digest:{hash}");
            let salt = format!("rsa_pss_saltlen:{hash_len}");
            let mut pk = vec![
                "pkeyutl", "-verify", "-pubin", "-inkey", &pem, "-in", &dg, "-sigfile", &sig,
                "-pkeyopt", &md,
            ];
            if pss {
                pk.extend(["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", &salt]);
            }
            assert!(
                String::from_utf8_lossy(&openssl(&pk)).contains("Signature Verified Successfully")
            );
            // A digest of the wrong length, with AWS's message.
            let e = kms
                .sign()
                .key_id(&id)
                .signing_algorithm(alg.clone())
                .message_type(MessageType::Digest)
                .message(Blob::new(vec![0; hash_len + 1]))
                .send()
                .await
                .expect_err("digest length");
            assert_eq!(
                error_of(&e),
                (
                    "ValidationException".into(),
                    format!("Digest is invalid length for algorithm {}.", alg.as_str()),
                    400
                )
            );
        }
        let e = kms
            .sign()
            .key_id(&id)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .message(Blob::new(MESSAGE.to_vec()))
            .send()
            .await
            .expect_err("ECDSA on RSA");
        assert_eq!(
            error_of(&e),
            (
                "InvalidKeyUsageException".into(),
                format!(
                    "Algorithm ECDSA_SHA_256 is incompatible with key spec {}.",
                    spec.as_str()
                ),
                400
            )
        );
    }

    for (spec, alg, hash, curve) in [
        (
            KeySpec::EccNistP256,
            SigningAlgorithmSpec::EcdsaSha256,
            "sha256",
            "prime256v1",
        ),
        (
            KeySpec::EccNistP384,
            SigningAlgorithmSpec::EcdsaSha384,
            "sha384",
            "secp384r1",
        ),
        (
            KeySpec::EccNistP521,
            SigningAlgorithmSpec::EcdsaSha512,
            "sha512",
            "secp521r1",
        ),
        (
            KeySpec::EccSecgP256K1,
            SigningAlgorithmSpec::EcdsaSha256,
            "sha256",
            "secp256k1",
        ),
    ] {
        let id = create(&kms, spec.clone(), KeyUsageType::SignVerify).await;
        let described = kms
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .expect("describe");
        let meta = described.key_metadata().expect("meta");
        assert_eq!(meta.signing_algorithms(), std::slice::from_ref(&alg));
        assert_eq!(meta.key_spec(), Some(&spec));
        assert!(meta.key_agreement_algorithms().is_empty());
        let (_, _, pem) = public_key(&kms, &id, w).await;
        let text = String::from_utf8(openssl(&["pkey", "-pubin", "-in", &pem, "-text", "-noout"]))
            .expect("text");
        assert!(text.contains(curve), "{text}");
        let dgst = format!("-{hash}");
        for (message_type, input) in [
            (MessageType::Raw, MESSAGE.to_vec()),
            (MessageType::Digest, sha(hash, MESSAGE)),
        ] {
            let s = sign(&kms, &id, alg.clone(), message_type, &input).await;
            assert_eq!(s[0], 0x30, "a DER SEQUENCE");
            let sig = write(w, "sig", &s);
            assert!(
                String::from_utf8_lossy(&openssl(&[
                    "dgst",
                    &dgst,
                    "-verify",
                    &pem,
                    "-signature",
                    &sig,
                    &msg
                ]))
                .contains("Verified OK")
            );
        }
        let e = kms
            .sign()
            .key_id(&id)
            .signing_algorithm(alg)
            .message_type(MessageType::ExternalMu)
            .message(Blob::new(vec![0; 64]))
            .send()
            .await
            .expect_err("external mu on ECDSA");
        assert_eq!(
            error_of(&e).1,
            format!(
                "Message type EXTERNAL_MU is incompatible with key spec {}.",
                spec.as_str()
            )
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_and_ml_dsa_signatures_verify_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let work = tempfile::tempdir().expect("work dir");
    let w = work.path();
    let msg = write(w, "message", MESSAGE);

    // Ed25519: PureEdDSA over the message (OpenSSL), Ed25519ph over a
    // SHA-512 digest that KMS hashes once more (RFC 8032 verifier).
    let id = create(&kms, KeySpec::EccNistEdwards25519, KeyUsageType::SignVerify).await;
    let meta = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        meta.key_metadata().expect("meta").signing_algorithms(),
        [
            SigningAlgorithmSpec::Ed25519Sha512,
            SigningAlgorithmSpec::Ed25519PhSha512
        ]
    );
    let (der, der_path, pem) = public_key(&kms, &id, w).await;
    assert_eq!(der.len(), 44);
    let s = sign(
        &kms,
        &id,
        SigningAlgorithmSpec::Ed25519Sha512,
        MessageType::Raw,
        MESSAGE,
    )
    .await;
    assert_eq!(s.len(), 64);
    let sig = write(w, "sig", &s);
    assert!(
        String::from_utf8_lossy(&openssl(&[
            "pkeyutl", "-verify", "-pubin", "-inkey", &pem, "-rawin", "-in", &msg, "-sigfile", &sig
        ]))
        .contains("Signature Verified Successfully")
    );
    let digest = sha("sha512", MESSAGE);
    let s = sign(
        &kms,
        &id,
        SigningAlgorithmSpec::Ed25519PhSha512,
        MessageType::Digest,
        &digest,
    )
    .await;
    let sig = write(w, "sig", &s);
    let dg = write(w, "digest", &digest);
    py(&["ed25519ph-verify", &der_path, &dg, &sig]);
    for (alg, message_type, input) in [
        (
            SigningAlgorithmSpec::Ed25519Sha512,
            MessageType::Digest,
            digest.clone(),
        ),
        (
            SigningAlgorithmSpec::Ed25519PhSha512,
            MessageType::Raw,
            MESSAGE.to_vec(),
        ),
    ] {
        let e = kms
            .sign()
            .key_id(&id)
            .signing_algorithm(alg.clone())
            .message_type(message_type.clone())
            .message(Blob::new(input))
            .send()
            .await
            .expect_err("wrong message type");
        assert_eq!(
            error_of(&e),
            (
                "ValidationException".into(),
                format!(
                    "Message type {} is incompatible with algorithm {}.",
                    message_type.as_str(),
                    alg.as_str()
                ),
                400
            )
        );
    }
    let e = kms
        .sign()
        .key_id(&id)
        .signing_algorithm(SigningAlgorithmSpec::Ed25519PhSha512)
        .message_type(MessageType::Digest)
        .message(Blob::new(vec![1; 32]))
        .send()
        .await
        .expect_err("short digest");
    assert_eq!(
        error_of(&e).1,
        "Digest is invalid length for algorithm ED25519_PH_SHA_512."
    );

    // ML-DSA: RAW and external μ, checked by Python `cryptography`.
    for (spec, len) in [
        (KeySpec::MlDsa44, 2420),
        (KeySpec::MlDsa65, 3309),
        (KeySpec::MlDsa87, 4627),
    ] {
        let id = create(&kms, spec.clone(), KeyUsageType::SignVerify).await;
        let meta = kms
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .expect("describe");
        let meta = meta.key_metadata().expect("meta");
        assert_eq!(
            meta.signing_algorithms(),
            [SigningAlgorithmSpec::MlDsaShake256]
        );
        #[allow(
            deprecated,
            reason = "AWS still returns the deprecated member, and so must we"
        )]
        let cmk_spec = meta.customer_master_key_spec().map(|s| s.as_str());
        assert_eq!(cmk_spec, Some(spec.as_str()));
        let (_, der_path, _) = public_key(&kms, &id, w).await;
        let s = sign(
            &kms,
            &id,
            SigningAlgorithmSpec::MlDsaShake256,
            MessageType::Raw,
            MESSAGE,
        )
        .await;
        assert_eq!(s.len(), len);
        let sig = write(w, "sig", &s);
        py(&["mldsa-verify", &der_path, &msg, &sig]);
        let mu = hex::decode(py(&["mldsa-mu", &der_path, &msg])).expect("hex");
        let s = sign(
            &kms,
            &id,
            SigningAlgorithmSpec::MlDsaShake256,
            MessageType::ExternalMu,
            &mu,
        )
        .await;
        let sig = write(w, "sig", &s);
        // A signature of μ is a signature of the message.
        py(&["mldsa-verify", &der_path, &msg, &sig]);
        let e = kms
            .sign()
            .key_id(&id)
            .signing_algorithm(SigningAlgorithmSpec::MlDsaShake256)
            .message_type(MessageType::Digest)
            .message(Blob::new(vec![0; 32]))
            .send()
            .await
            .expect_err("digest");
        assert_eq!(
            error_of(&e),
            (
                "ValidationException".into(),
                format!(
                    "Message type DIGEST is incompatible with key spec {}.",
                    spec.as_str()
                ),
                400
            )
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_oaep_ciphertexts_from_openssl_decrypt_here() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let work = tempfile::tempdir().expect("work dir");
    let w = work.path();

    for (spec, bits, limits) in [
        (KeySpec::Rsa2048, 2048, [214, 190]),
        (KeySpec::Rsa3072, 3072, [342, 318]),
        (KeySpec::Rsa4096, 4096, [470, 446]),
    ] {
        let id = create(&kms, spec.clone(), KeyUsageType::EncryptDecrypt).await;
        let out = kms
            .get_public_key()
            .key_id(&id)
            .send()
            .await
            .expect("GetPublicKey");
        assert_eq!(
            out.encryption_algorithms(),
            [
                EncryptionAlgorithmSpec::RsaesOaepSha1,
                EncryptionAlgorithmSpec::RsaesOaepSha256
            ]
        );
        assert_eq!(out.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
        assert!(out.signing_algorithms().is_empty());
        let (_, _, pem) = public_key(&kms, &id, w).await;
        for ((alg, md), limit) in [
            (EncryptionAlgorithmSpec::RsaesOaepSha1, "sha1"),
            (EncryptionAlgorithmSpec::RsaesOaepSha256, "sha256"),
        ]
        .into_iter()
        .zip(limits)
        {
            // OpenSSL encrypts with the public key; Custos decrypts.
            let plaintext: Vec<u8> = (0..limit).map(|i| i as u8).collect();
            let pt = write(w, "pt", &plaintext);
            let oaep_md = format!("rsa_oaep_md:{md}");
            let mgf_md = format!("rsa_mgf1_md:{md}");
            let ct = openssl(&[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-inkey",
                &pem,
                "-in",
                &pt,
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                &oaep_md,
                "-pkeyopt",
                &mgf_md,
            ]);
            assert_eq!(ct.len(), bits / 8);
            let out = kms
                .decrypt()
                .key_id(&id)
                .encryption_algorithm(alg.clone())
                .ciphertext_blob(Blob::new(ct.clone()))
                .send()
                .await
                .expect("Decrypt OpenSSL ciphertext");
            assert_eq!(out.plaintext().map(|p| p.as_ref()), Some(&plaintext[..]));
            assert_eq!(out.encryption_algorithm(), Some(&alg));
            assert_eq!(out.key_id(), Some(arn(&id).as_str()));
            // Custos encrypts: a modulus-sized OAEP block that decrypts.
            let own = kms
                .encrypt()
                .key_id(&id)
                .encryption_algorithm(alg.clone())
                .plaintext(Blob::new(plaintext.clone()))
                .send()
                .await
                .expect("Encrypt");
            let own_ct = own.ciphertext_blob().expect("blob").as_ref().to_vec();
            assert_eq!(own_ct.len(), bits / 8);
            assert_eq!(own.encryption_algorithm(), Some(&alg));
            let back = kms
                .decrypt()
                .key_id(&id)
                .encryption_algorithm(alg.clone())
                .ciphertext_blob(Blob::new(own_ct))
                .send()
                .await
                .expect("Decrypt");
            assert_eq!(back.plaintext().map(|p| p.as_ref()), Some(&plaintext[..]));
            // One byte over AWS's limit.
            let e = kms
                .encrypt()
                .key_id(&id)
                .encryption_algorithm(alg.clone())
                .plaintext(Blob::new(vec![0; limit + 1]))
                .send()
                .await
                .expect_err("too long");
            assert_eq!(
                error_of(&e),
                (
                    "ValidationException".into(),
                    format!(
                        "Algorithm {} and key spec {} cannot encrypt data larger than {limit} bytes.",
                        alg.as_str(),
                        spec.as_str()
                    ),
                    400
                )
            );
            // A changed ciphertext, or no KeyId, says nothing more.
            let mut bad = ct.clone();
            bad[7] ^= 1;
            for request in [
                kms.decrypt()
                    .key_id(&id)
                    .encryption_algorithm(alg.clone())
                    .ciphertext_blob(Blob::new(bad)),
                kms.decrypt()
                    .encryption_algorithm(alg.clone())
                    .ciphertext_blob(Blob::new(ct.clone())),
            ] {
                let e = request.send().await.expect_err("bad");
                assert_eq!(
                    error_of(&e),
                    ("InvalidCiphertextException".into(), String::new(), 400)
                );
            }
        }
        // ReEncrypt from RSA to a symmetric key and back, without the
        // plaintext leaving Custos.
        let symmetric = kms.create_key().send().await.expect("CreateKey");
        let symmetric = symmetric.key_metadata().expect("meta").key_id().to_owned();
        let secret = b"re-encrypted across key types".to_vec();
        let rsa_ct = kms
            .encrypt()
            .key_id(&id)
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .plaintext(Blob::new(secret.clone()))
            .send()
            .await
            .expect("Encrypt")
            .ciphertext_blob()
            .expect("blob")
            .clone();
        let to_symmetric = kms
            .re_encrypt()
            .ciphertext_blob(rsa_ct)
            .source_key_id(&id)
            .source_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .destination_key_id(&symmetric)
            .destination_encryption_context("k", "v")
            .send()
            .await
            .expect("ReEncrypt RSA -> symmetric");
        assert_eq!(
            to_symmetric.source_encryption_algorithm(),
            Some(&EncryptionAlgorithmSpec::RsaesOaepSha256)
        );
        let back_to_rsa = kms
            .re_encrypt()
            .ciphertext_blob(to_symmetric.ciphertext_blob().expect("blob").clone())
            .source_encryption_context("k", "v")
            .destination_key_id(&id)
            .destination_encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
            .send()
            .await
            .expect("ReEncrypt symmetric -> RSA");
        assert_eq!(
            back_to_rsa.destination_encryption_algorithm(),
            Some(&EncryptionAlgorithmSpec::RsaesOaepSha1)
        );
        let plain = kms
            .decrypt()
            .key_id(&id)
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
            .ciphertext_blob(back_to_rsa.ciphertext_blob().expect("blob").clone())
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(plain.plaintext().map(|p| p.as_ref()), Some(&secret[..]));
        let e = kms
            .encrypt()
            .key_id(&id)
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .encryption_context("k", "v")
            .plaintext(Blob::new(secret.clone()))
            .send()
            .await
            .expect_err("context with RSA");
        assert_eq!(error_of(&e).0, "ValidationException");

        let e = kms
            .decrypt()
            .key_id(&id)
            .ciphertext_blob(Blob::new(vec![1; bits / 8]))
            .send()
            .await
            .expect_err("no algorithm");
        assert_eq!(
            error_of(&e).1,
            format!(
                "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec {}.",
                spec.as_str()
            )
        );
        let e = kms
            .generate_data_key()
            .key_id(&id)
            .number_of_bytes(32)
            .send()
            .await
            .expect_err("RSA key");
        assert_eq!(error_of(&e).0, "InvalidKeyUsageException");
        let e = kms
            .sign()
            .key_id(&id)
            .signing_algorithm(SigningAlgorithmSpec::RsassaPssSha256)
            .message(Blob::new(b"x".to_vec()))
            .send()
            .await
            .expect_err("encryption key");
        assert_eq!(
            error_of(&e),
            (
                "InvalidKeyUsageException".into(),
                format!(
                    "{} key usage is ENCRYPT_DECRYPT which is not valid for Sign.",
                    arn(&id)
                ),
                400
            )
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_key_pairs_check_out_in_openssl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let work = tempfile::tempdir().expect("work dir");
    let w = work.path();
    let wrapping = kms.create_key().send().await.expect("CreateKey");
    let wrapping = wrapping.key_metadata().expect("meta").key_id().to_owned();

    let specs = [
        DataKeyPairSpec::Rsa2048,
        DataKeyPairSpec::Rsa3072,
        DataKeyPairSpec::Rsa4096,
        DataKeyPairSpec::EccNistP256,
        DataKeyPairSpec::EccNistP384,
        DataKeyPairSpec::EccNistP521,
        DataKeyPairSpec::EccSecgP256K1,
        DataKeyPairSpec::EccNistEdwards25519,
        DataKeyPairSpec::from("ML_KEM_768"),
        DataKeyPairSpec::from("ML_KEM_1024"),
    ];
    for spec in specs {
        let out = kms
            .generate_data_key_pair()
            .key_id(&wrapping)
            .key_pair_spec(spec.clone())
            .encryption_context("purpose", "pairs")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GenerateDataKeyPair {spec:?}: {e:?}"));
        assert_eq!(out.key_id(), Some(arn(&wrapping).as_str()));
        assert_eq!(out.key_pair_spec(), Some(&spec));
        let private = out
            .private_key_plaintext()
            .expect("plaintext")
            .as_ref()
            .to_vec();
        let public = out.public_key().expect("public").as_ref().to_vec();
        let blob = out.private_key_ciphertext_blob().expect("blob").clone();
        let priv_path = write(w, "private.der", &private);
        let derived = if spec.as_str().starts_with("ML_KEM") {
            hex::decode(py(&["public-of", &priv_path])).expect("hex")
        } else {
            // OpenSSL parses the PKCS #8 key and derives its public key.
            openssl(&[
                "pkey", "-inform", "DER", "-in", &priv_path, "-pubout", "-outform", "DER",
            ])
        };
        assert_eq!(
            derived, public,
            "{spec:?}: private key matches the public key"
        );
        let decrypted = kms
            .decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("purpose", "pairs")
            .send()
            .await
            .expect("Decrypt the private key");
        assert_eq!(
            decrypted.plaintext().map(|p| p.as_ref()),
            Some(&private[..])
        );
        let e = kms
            .decrypt()
            .ciphertext_blob(blob)
            .send()
            .await
            .expect_err("context required");
        assert_eq!(error_of(&e).0, "InvalidCiphertextException");
    }

    // Without plaintext: the blob decrypts to a key of the public key.
    let out = kms
        .generate_data_key_pair_without_plaintext()
        .key_id(&wrapping)
        .key_pair_spec(DataKeyPairSpec::EccNistP384)
        .send()
        .await
        .expect("GenerateDataKeyPairWithoutPlaintext");
    let private = kms
        .decrypt()
        .ciphertext_blob(out.private_key_ciphertext_blob().expect("blob").clone())
        .send()
        .await
        .expect("Decrypt");
    let priv_path = write(w, "private.der", private.plaintext().expect("pt").as_ref());
    let derived = openssl(&[
        "pkey", "-inform", "DER", "-in", &priv_path, "-pubout", "-outform", "DER",
    ]);
    assert_eq!(derived, out.public_key().expect("public").as_ref());

    let e = kms
        .generate_data_key_pair()
        .key_id(&wrapping)
        .key_pair_spec(DataKeyPairSpec::Sm2)
        .send()
        .await
        .expect_err("SM2");
    assert_eq!(error_of(&e).0, "UnsupportedOperationException");
    let signing = create(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let e = kms
        .generate_data_key_pair()
        .key_id(&signing)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .expect_err("signing key");
    assert_eq!(
        error_of(&e),
        (
            "InvalidKeyUsageException".into(),
            format!(
                "{} key usage is SIGN_VERIFY which is not valid for GenerateDataKeyPair.",
                arn(&signing)
            ),
            400
        )
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecdh_and_hmac_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let work = tempfile::tempdir().expect("work dir");
    let w = work.path();

    for (spec, curve) in [
        (KeySpec::EccNistP256, "P-256"),
        (KeySpec::EccNistP384, "P-384"),
        (KeySpec::EccNistP521, "P-521"),
    ] {
        let id = create(&kms, spec.clone(), KeyUsageType::KeyAgreement).await;
        let meta = kms
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .expect("describe");
        let meta = meta.key_metadata().expect("meta");
        assert_eq!(
            meta.key_agreement_algorithms(),
            [KeyAgreementAlgorithmSpec::Ecdh]
        );
        assert!(meta.signing_algorithms().is_empty());
        let (_, _, kms_pem) = public_key(&kms, &id, w).await;
        // The peer: a key OpenSSL generates.
        let peer = w.join("peer.pem");
        let peer = peer.to_str().expect("utf-8");
        let curve_opt = format!("ec_paramgen_curve:{curve}");
        openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &curve_opt,
            "-out",
            peer,
        ]);
        let peer_pub = openssl(&["pkey", "-in", peer, "-pubout", "-outform", "DER"]);
        let expected = openssl(&["pkeyutl", "-derive", "-inkey", peer, "-peerkey", &kms_pem]);
        let out = kms
            .derive_shared_secret()
            .key_id(&id)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new(peer_pub))
            .send()
            .await
            .expect("DeriveSharedSecret");
        assert_eq!(out.shared_secret().map(|s| s.as_ref()), Some(&expected[..]));
        assert_eq!(out.key_origin().map(|o| o.as_str()), Some("AWS_KMS"));
        // A key on another curve is refused.
        let other = openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            if curve == "P-256" {
                "ec_paramgen_curve:P-384"
            } else {
                "ec_paramgen_curve:P-256"
            },
        ]);
        let other_path = write(w, "other.pem", &other);
        let other_pub = openssl(&["pkey", "-in", &other_path, "-pubout", "-outform", "DER"]);
        let e = kms
            .derive_shared_secret()
            .key_id(&id)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new(other_pub))
            .send()
            .await
            .expect_err("other curve");
        assert_eq!(error_of(&e).0, "ValidationException");
        let e = kms
            .sign()
            .key_id(&id)
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .message(Blob::new(b"x".to_vec()))
            .send()
            .await
            .expect_err("agreement key");
        assert_eq!(
            error_of(&e).1,
            format!(
                "{} key usage is KEY_AGREEMENT which is not valid for Sign.",
                arn(&id)
            )
        );
    }

    for (spec, alg, len) in [
        (KeySpec::Hmac224, MacAlgorithmSpec::HmacSha224, 28),
        (KeySpec::Hmac256, MacAlgorithmSpec::HmacSha256, 32),
        (KeySpec::Hmac384, MacAlgorithmSpec::HmacSha384, 48),
        (KeySpec::Hmac512, MacAlgorithmSpec::HmacSha512, 64),
    ] {
        let id = create(&kms, spec.clone(), KeyUsageType::GenerateVerifyMac).await;
        let meta = kms
            .describe_key()
            .key_id(&id)
            .send()
            .await
            .expect("describe");
        let meta = meta.key_metadata().expect("meta");
        assert_eq!(meta.mac_algorithms(), std::slice::from_ref(&alg));
        assert!(meta.encryption_algorithms().is_empty());
        let mac = kms
            .generate_mac()
            .key_id(&id)
            .mac_algorithm(alg.clone())
            .message(Blob::new(MESSAGE.to_vec()))
            .send()
            .await
            .expect("GenerateMac");
        let tag = mac.mac().expect("mac").as_ref().to_vec();
        assert_eq!(tag.len(), len);
        let ok = kms
            .verify_mac()
            .key_id(&id)
            .mac_algorithm(alg.clone())
            .message(Blob::new(MESSAGE.to_vec()))
            .mac(Blob::new(tag.clone()))
            .send()
            .await
            .expect("VerifyMac");
        assert!(ok.mac_valid());
        for bad in [
            {
                let mut t = tag.clone();
                t[len - 1] ^= 1;
                t
            },
            tag[..len - 1].to_vec(),
        ] {
            let e = kms
                .verify_mac()
                .key_id(&id)
                .mac_algorithm(alg.clone())
                .message(Blob::new(MESSAGE.to_vec()))
                .mac(Blob::new(bad))
                .send()
                .await
                .expect_err("bad mac");
            assert_eq!(
                error_of(&e),
                ("KMSInvalidMacException".into(), String::new(), 400)
            );
        }
        let other = if alg == MacAlgorithmSpec::HmacSha256 {
            MacAlgorithmSpec::HmacSha224
        } else {
            MacAlgorithmSpec::HmacSha256
        };
        let e = kms
            .generate_mac()
            .key_id(&id)
            .mac_algorithm(other.clone())
            .message(Blob::new(MESSAGE.to_vec()))
            .send()
            .await
            .expect_err("other algorithm");
        assert_eq!(
            error_of(&e),
            (
                "InvalidKeyUsageException".into(),
                format!(
                    "Algorithm {} is incompatible with key spec {}.",
                    other.as_str(),
                    spec.as_str()
                ),
                400
            )
        );
        let e = kms
            .get_public_key()
            .key_id(&id)
            .send()
            .await
            .expect_err("no public key");
        assert_eq!(error_of(&e).0, "UnsupportedOperationException");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_key_takes_every_spec_with_awss_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);

    for (spec, usage) in [
        (KeySpec::Rsa2048, KeyUsageType::KeyAgreement),
        (KeySpec::Rsa2048, KeyUsageType::GenerateVerifyMac),
        (KeySpec::EccNistP256, KeyUsageType::EncryptDecrypt),
        (KeySpec::EccSecgP256K1, KeyUsageType::KeyAgreement),
        (KeySpec::EccNistEdwards25519, KeyUsageType::KeyAgreement),
        (KeySpec::MlDsa65, KeyUsageType::EncryptDecrypt),
        (KeySpec::Hmac256, KeyUsageType::SignVerify),
        (KeySpec::from("ML_KEM_768"), KeyUsageType::SignVerify),
    ] {
        let e = kms
            .create_key()
            .key_spec(spec.clone())
            .key_usage(usage.clone())
            .send()
            .await
            .expect_err("incompatible");
        assert_eq!(
            error_of(&e),
            (
                "ValidationException".into(),
                format!(
                    "KeyUsage {} is not compatible with KeySpec {}",
                    usage.as_str(),
                    spec.as_str()
                ),
                400
            )
        );
    }
    let e = kms
        .create_key()
        .key_spec(KeySpec::Sm2)
        .key_usage(KeyUsageType::EncryptDecrypt)
        .send()
        .await
        .expect_err("SM2");
    assert_eq!(
        error_of(&e),
        (
            "UnsupportedOperationException".into(),
            "KeySpec SM2 is not supported in this Region".into(),
            400
        )
    );
    let e = kms
        .create_key()
        .key_spec(KeySpec::MlDsa44)
        .send()
        .await
        .expect_err("no usage");
    assert_eq!(
        error_of(&e).1,
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    );
    // Symmetric keys refuse the asymmetric operations with AWS's messages.
    let sym = kms.create_key().send().await.expect("CreateKey");
    let sym = sym.key_metadata().expect("meta").key_id().to_owned();
    let e = kms
        .sign()
        .key_id(&sym)
        .signing_algorithm(SigningAlgorithmSpec::RsassaPssSha256)
        .message(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("sign");
    assert_eq!(
        error_of(&e).1,
        format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for Sign.",
            arn(&sym)
        )
    );
    let e = kms
        .generate_mac()
        .key_id(&sym)
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .message(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("mac");
    assert_eq!(
        error_of(&e).1,
        format!(
            "{} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.",
            arn(&sym)
        )
    );
    let e = kms
        .get_public_key()
        .key_id(&sym)
        .send()
        .await
        .expect_err("public");
    assert_eq!(error_of(&e).0, "UnsupportedOperationException");
    // A disabled signing key signs nothing.
    let id = create(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    kms.disable_key()
        .key_id(&id)
        .send()
        .await
        .expect("DisableKey");
    let e = kms
        .sign()
        .key_id(&id)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .message(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(
        error_of(&e),
        (
            "DisabledException".into(),
            format!("{} is disabled.", arn(&id)),
            400
        )
    );
    server.shutdown().await;
}

/// A signed JSON call through the raw rig; returns (status, body).
async fn raw_call(
    rig: &RawClient,
    operation: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let request = Signer::default().sign(RawRequest::kms(
        &rig.host(),
        operation,
        body.to_string().as_bytes(),
    ));
    let response = rig.exchange(request.to_bytes()).await.response();
    (response.status, response.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ml_kem_keys_encapsulate_with_python() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let rig = RawClient::new(&server);
    let work = tempfile::tempdir().expect("work dir");
    let w = work.path();

    for (spec, ct_len, python_can) in [
        ("ML_KEM_512", 768, false),
        ("ML_KEM_768", 1088, true),
        ("ML_KEM_1024", 1568, true),
    ] {
        let id = create(
            &kms,
            KeySpec::from(spec),
            KeyUsageType::from("ENCAPSULATE_DECAPSULATE"),
        )
        .await;
        let (status, described) =
            raw_call(&rig, "DescribeKey", serde_json::json!({"KeyId": id})).await;
        assert_eq!(status, 200);
        let meta = &described["KeyMetadata"];
        assert_eq!(meta["KeySpec"], spec);
        assert_eq!(meta["KeyUsage"], "ENCAPSULATE_DECAPSULATE");
        assert_eq!(
            meta["EncapsulationAlgorithms"],
            serde_json::json!(["ML_KEM"])
        );
        let (status, public) =
            raw_call(&rig, "GetPublicKey", serde_json::json!({"KeyId": id})).await;
        assert_eq!(status, 200);
        assert_eq!(
            public["EncapsulationAlgorithms"],
            serde_json::json!(["ML_KEM"])
        );
        let der = b64
            .decode(public["PublicKey"].as_str().expect("b64"))
            .expect("b64");
        let der_path = write(w, "mlkem.der", &der);

        // Custos encapsulates, Custos decapsulates.
        let (status, enc) = raw_call(
            &rig,
            "Encapsulate",
            serde_json::json!({"KeyId": id, "EncapsulationAlgorithm": "ML_KEM"}),
        )
        .await;
        assert_eq!(status, 200, "{enc}");
        assert_eq!(enc["KeyId"], arn(&id));
        let ct = enc["SharedSecretCiphertextBlob"]
            .as_str()
            .expect("ct")
            .to_owned();
        assert_eq!(b64.decode(&ct).expect("b64").len(), ct_len);
        let (status, dec) = raw_call(
            &rig,
            "Decapsulate",
            serde_json::json!({"KeyId": id, "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": ct}),
        )
        .await;
        assert_eq!(status, 200, "{dec}");
        assert_eq!(dec["SharedSecret"], enc["SharedSecret"]);
        assert_eq!(
            b64.decode(dec["SharedSecret"].as_str().expect("ss"))
                .expect("b64")
                .len(),
            32
        );

        // Python encapsulates to the GetPublicKey output; Custos recovers
        // Python's secret.
        if python_can {
            let ct_path = w.join("ct.bin");
            let ss_path = w.join("ss.bin");
            py(&[
                "mlkem-encaps",
                &der_path,
                ct_path.to_str().expect("utf-8"),
                ss_path.to_str().expect("utf-8"),
            ]);
            let (status, dec) = raw_call(
                &rig,
                "Decapsulate",
                serde_json::json!({
                    "KeyId": id,
                    "EncapsulationAlgorithm": "ML_KEM",
                    "SharedSecretCiphertextBlob": b64.encode(std::fs::read(&ct_path).expect("ct")),
                }),
            )
            .await;
            assert_eq!(status, 200, "{dec}");
            assert_eq!(
                b64.decode(dec["SharedSecret"].as_str().expect("ss"))
                    .expect("b64"),
                std::fs::read(&ss_path).expect("ss")
            );
        }
        // A ciphertext of the wrong length is InvalidCiphertextException.
        let (status, err) = raw_call(
            &rig,
            "Decapsulate",
            serde_json::json!({"KeyId": id, "EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": b64.encode([0u8; 100])}),
        )
        .await;
        assert_eq!(
            (status, err["__type"].as_str()),
            (400, Some("InvalidCiphertextException"))
        );
    }
    server.shutdown().await;
}
