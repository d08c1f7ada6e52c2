//! Request quotas through `aws-sdk-kms` (with the SDK's retries off, so
//! that the test sees the server's first answer): `ThrottlingException`
//! beyond a class's rate, the shared cryptographic quota, quotas per
//! account, and refill as time passes (on a clock the test moves).

mod common;

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use common::iam::{Keys, kms_as};
use common::{client, config, error_of};
use custos_kms::ManualClock;
use custos_kms::quotas::Quotas;
use custos_server::Running;

const THROTTLED: &str =
    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.";

/// Asserts the answer is AWS's throttling error.
macro_rules! throttled {
    ($call:expr) => {{
        let e = $call.send().await.expect_err("throttled");
        assert_eq!(
            error_of(&e),
            ("ThrottlingException".to_owned(), THROTTLED.to_owned(), 400)
        );
    }};
}

async fn start_with(dir: &std::path::Path, quotas: Quotas) -> (Running, Arc<ManualClock>) {
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis(),
    )
    .expect("milliseconds fit");
    let clock = Arc::new(ManualClock::new(now_ms));
    let mut config = config(dir);
    config.quotas = quotas;
    let server = custos_server::start_with_clock(config, clock.clone())
        .await
        .expect("server starts");
    (server, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_a_quota_are_throttled_per_account_until_it_refills() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut quotas = Quotas::none();
    quotas.set("CreateKey", 2.0).expect("class");
    quotas.set("symmetric", 3.0).expect("class");
    let (server, clock) = start_with(dir.path(), quotas).await;
    let kms = common::without_retries(&client(&server));

    // CreateKey: its own quota.
    let key = kms
        .create_key()
        .send()
        .await
        .expect("first CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_owned();
    kms.create_key().send().await.expect("second CreateKey");
    throttled!(kms.create_key());

    // The shared symmetric quota: Encrypt, GenerateDataKey, Decrypt and
    // GenerateRandom draw on one bucket.
    let blob = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("Encrypt")
        .ciphertext_blob()
        .expect("blob")
        .clone();
    kms.generate_data_key()
        .key_id(&key)
        .number_of_bytes(32)
        .send()
        .await
        .expect("GenerateDataKey");
    kms.decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .expect("Decrypt");
    throttled!(kms.generate_random().number_of_bytes(16));
    throttled!(kms.decrypt().ciphertext_blob(blob.clone()));
    // A class with no rate configured is not limited.
    for _ in 0..20 {
        kms.describe_key()
            .key_id(&key)
            .send()
            .await
            .expect("DescribeKey is not limited");
    }

    // Another account has quotas of its own.
    let other = server.create_account(None).await.expect("second account");
    let b = common::without_retries(&kms_as(
        &server,
        &Keys::of_account(&other.access_key_id, other.secret.expose_secret()),
    ));
    let b_key = b
        .create_key()
        .send()
        .await
        .expect("B's CreateKey")
        .key_metadata()
        .expect("metadata")
        .key_id()
        .to_owned();
    b.encrypt()
        .key_id(&b_key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect("B's Encrypt");

    // A third of a second refills one symmetric request, no more.
    clock.advance_ms(334);
    kms.decrypt()
        .ciphertext_blob(blob.clone())
        .send()
        .await
        .expect("refilled");
    throttled!(kms.decrypt().ciphertext_blob(blob.clone()));
    // A second refills the whole bucket.
    clock.advance_ms(1_000);
    for _ in 0..3 {
        kms.decrypt()
            .ciphertext_blob(blob.clone())
            .send()
            .await
            .expect("within the quota again");
    }
    kms.create_key().send().await.expect("CreateKey again");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_configuration_nothing_is_throttled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _clock) = start_with(dir.path(), Quotas::none()).await;
    let kms = common::without_retries(&client(&server));
    for _ in 0..60 {
        kms.create_key().send().await.expect("CreateKey");
    }
    server.shutdown().await;
}
