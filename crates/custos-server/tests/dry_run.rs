//! `DryRun` on every operation that has it, through `aws-sdk-kms`: a dry
//! run that would succeed answers `DryRunOperationException` (HTTP 412);
//! one that would fail answers the real error (refused, disabled key,
//! unknown grant); and nothing changes either way.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    GrantOperation, KeyAgreementAlgorithmSpec, KeySpec, KeyUsageType, MacAlgorithmSpec,
    SigningAlgorithmSpec,
};
use base64::Engine as _;
use common::iam::{iam, kms_as, user_with_key};
use common::{client, error_of, start};

/// Asserts the error code (and, for a dry run, the status 412).
macro_rules! fails_with {
    ($call:expr, $code:expr) => {{
        let e = $call.send().await.expect_err($code);
        let (code, message, status) = error_of(&e);
        assert_eq!(code, $code, "{message}");
        if $code == "DryRunOperationException" {
            assert_eq!(status, 412);
            assert!(message.contains("DryRun"), "{message}");
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dry_run_answers_as_the_real_request_would_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path()).await;
    let kms = client(&server);
    let sym = common::new_key_of(
        &kms,
        KeySpec::SymmetricDefault,
        KeyUsageType::EncryptDecrypt,
    )
    .await;
    let hmac = common::new_key_of(&kms, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let signing = common::new_key_of(&kms, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let agreement =
        common::new_key_of(&kms, KeySpec::EccNistP256, KeyUsageType::KeyAgreement).await;

    let ciphertext = kms
        .encrypt()
        .key_id(&sym)
        .plaintext(Blob::new(b"secret".to_vec()))
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("blob")
        .clone();
    let signature = kms
        .sign()
        .key_id(&signing)
        .message(Blob::new(b"m".to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .expect("Sign")
        .signature()
        .expect("signature")
        .clone();
    let mac = kms
        .generate_mac()
        .key_id(&hmac)
        .message(Blob::new(b"m".to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .expect("GenerateMac")
        .mac()
        .expect("mac")
        .clone();
    let peer = kms
        .get_public_key()
        .key_id(&agreement)
        .send()
        .await
        .expect("GetPublicKey")
        .public_key()
        .expect("public key")
        .clone();
    let grant_id = kms
        .create_grant()
        .key_id(&sym)
        .grantee_principal(common::iam::user_arn("someone"))
        .retiring_principal(common::iam::user_arn("custos-admin"))
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .expect("CreateGrant")
        .grant_id()
        .expect("grant id")
        .to_owned();
    let grants = |kms: aws_sdk_kms::Client, key: String| async move {
        kms.list_grants()
            .key_id(key)
            .send()
            .await
            .expect("ListGrants")
            .grants()
            .len()
    };

    // Would succeed: 412, every operation that has the member.
    let dry = "DryRunOperationException";
    fails_with!(
        kms.encrypt()
            .key_id(&sym)
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.decrypt()
            .ciphertext_blob(ciphertext.clone())
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.re_encrypt()
            .ciphertext_blob(ciphertext.clone())
            .destination_key_id(&sym)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.generate_data_key()
            .key_id(&sym)
            .number_of_bytes(32)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.generate_data_key_without_plaintext()
            .key_id(&sym)
            .number_of_bytes(32)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.generate_data_key_pair()
            .key_id(&sym)
            .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.generate_data_key_pair_without_plaintext()
            .key_id(&sym)
            .key_pair_spec(aws_sdk_kms::types::DataKeyPairSpec::EccNistP256)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.sign()
            .key_id(&signing)
            .message(Blob::new(b"m".to_vec()))
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.verify()
            .key_id(&signing)
            .message(Blob::new(b"m".to_vec()))
            .signature(signature.clone())
            .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.generate_mac()
            .key_id(&hmac)
            .message(Blob::new(b"m".to_vec()))
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.verify_mac()
            .key_id(&hmac)
            .message(Blob::new(b"m".to_vec()))
            .mac(mac.clone())
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.derive_shared_secret()
            .key_id(&agreement)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(peer.clone())
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.create_grant()
            .key_id(&sym)
            .grantee_principal(common::iam::user_arn("other"))
            .operations(GrantOperation::Encrypt)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.revoke_grant()
            .key_id(&sym)
            .grant_id(&grant_id)
            .dry_run(true),
        dry
    );
    fails_with!(
        kms.retire_grant()
            .key_id(&sym)
            .grant_id(&grant_id)
            .dry_run(true),
        dry
    );
    // Nothing changed: one grant still, and it still works to retire.
    assert_eq!(grants(kms.clone(), sym.clone()).await, 1);

    // Would fail: the real error, not the dry-run answer.
    fails_with!(
        kms.revoke_grant()
            .key_id(&sym)
            .grant_id("0".repeat(64))
            .dry_run(true),
        "NotFoundException"
    );
    fails_with!(
        kms.sign()
            .key_id(&signing)
            .message(Blob::new(b"m".to_vec()))
            .signing_algorithm(SigningAlgorithmSpec::RsassaPssSha256)
            .dry_run(true),
        "InvalidKeyUsageException"
    );
    fails_with!(
        kms.verify_mac()
            .key_id(&sym)
            .message(Blob::new(b"m".to_vec()))
            .mac(mac.clone())
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .dry_run(true),
        "InvalidKeyUsageException"
    );
    fails_with!(
        kms.create_grant()
            .key_id(&signing)
            .grantee_principal(common::iam::user_arn("other"))
            .operations(GrantOperation::Encrypt)
            .dry_run(true),
        "ValidationException"
    );
    // The ciphertext itself is checked: a wrong context or a damaged blob
    // fails a dry run as it fails the request, unless the dry run says to
    // ignore the ciphertext (DryRunModifiers IGNORE_CIPHERTEXT).
    fails_with!(
        kms.decrypt()
            .ciphertext_blob(ciphertext.clone())
            .encryption_context("tenant", "other")
            .dry_run(true),
        "InvalidCiphertextException"
    );
    let mut damaged = ciphertext.clone().into_inner();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    fails_with!(
        kms.decrypt()
            .ciphertext_blob(Blob::new(damaged.clone()))
            .dry_run(true),
        "InvalidCiphertextException"
    );
    // (The SDK in use predates DryRunModifiers: sent as the wire has it.)
    let client = common::raw::RawClient::new(&server);
    let body = serde_json::json!({
        "CiphertextBlob": base64::engine::general_purpose::STANDARD.encode(&damaged),
        "DryRun": true,
        "DryRunModifiers": ["IGNORE_CIPHERTEXT"],
    })
    .to_string();
    let request = common::raw::Signer::default().sign(common::raw::RawRequest::kms(
        &client.host(),
        "Decrypt",
        body.as_bytes(),
    ));
    let answer = client.exchange(request.to_bytes()).await.response();
    assert_eq!(answer.status, 412, "{answer:?}");
    assert!(
        String::from_utf8_lossy(&answer.body).contains("DryRunOperationException"),
        "{answer:?}"
    );
    fails_with!(
        kms.re_encrypt()
            .ciphertext_blob(Blob::new(damaged))
            .destination_key_id(&sym)
            .dry_run(true),
        "InvalidCiphertextException"
    );
    // A peer key that is not a point of the curve.
    fails_with!(
        kms.derive_shared_secret()
            .key_id(&agreement)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .public_key(Blob::new(vec![0x30, 0x03, 0x02, 0x01, 0x00]))
            .dry_run(true),
        "ValidationException"
    );
    // A caller no policy allows is refused, dry run or not.
    let user = user_with_key(&iam(&server), "nobody").await;
    let nobody = kms_as(&server, &user);
    fails_with!(
        nobody
            .encrypt()
            .key_id(common::arn(&sym))
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true),
        "AccessDeniedException"
    );
    fails_with!(
        nobody
            .decrypt()
            .ciphertext_blob(ciphertext.clone())
            .dry_run(true),
        "AccessDeniedException"
    );
    // Naming a key it may not use, a caller learns nothing of the
    // ciphertext's key: refused, not told the keys differ.
    fails_with!(
        nobody
            .decrypt()
            .key_id(common::arn(&hmac))
            .ciphertext_blob(ciphertext.clone()),
        "AccessDeniedException"
    );
    // A disabled key: the state's error.
    kms.disable_key()
        .key_id(&sym)
        .send()
        .await
        .expect("disable");
    fails_with!(
        kms.encrypt()
            .key_id(&sym)
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true),
        "DisabledException"
    );
    fails_with!(
        kms.decrypt()
            .ciphertext_blob(ciphertext.clone())
            .dry_run(true),
        "DisabledException"
    );
    fails_with!(
        kms.generate_data_key()
            .key_id(&sym)
            .number_of_bytes(32)
            .dry_run(true),
        "DisabledException"
    );
    fails_with!(
        kms.create_grant()
            .key_id(&sym)
            .grantee_principal(common::iam::user_arn("other"))
            .operations(GrantOperation::Encrypt)
            .dry_run(true),
        "DisabledException"
    );
    kms.enable_key().key_id(&sym).send().await.expect("enable");
    assert_eq!(grants(kms.clone(), sym.clone()).await, 1);
    kms.retire_grant()
        .key_id(&sym)
        .grant_id(&grant_id)
        .send()
        .await
        .expect("the grant was left in place by the dry runs");
    assert_eq!(grants(kms.clone(), sym.clone()).await, 0);
    server.shutdown().await;
}
