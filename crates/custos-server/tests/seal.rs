//! Sealed and unsealed, as operators and clients see it: a store opened by
//! shares starts sealed, answers health checks and refuses every API
//! request the AWS way until enough shares come in through the operator
//! socket; a seal takes every key away again; a server whose provider
//! needs no shares reopens by itself when asked.

mod common;

use common::iam::{Keys, expect_error, iam_as, kms_as, sts_as};
use common::raw::{RawClient, RawRequest, RawResponse};
use custos_server::config::RootKeySource;
use custos_server::error::SEALED_MESSAGE;
use custos_server::operator::{Reply, request};

async fn probe(server: &custos_server::Running, path: &str) -> RawResponse {
    let client = RawClient::new(server);
    let mut get = RawRequest::post(&client.host(), b"").with_method("GET");
    get.target = path.to_owned();
    client.exchange(get.to_bytes()).await.response()
}

async fn operator(server: &custos_server::Running, command: &str) -> Reply {
    request(&server.operator_socket, command.as_bytes())
        .await
        .expect("the operator socket answers")
}

fn json(r: &RawResponse) -> serde_json::Value {
    serde_json::from_slice(&r.body).expect("JSON")
}

/// Every API the server speaks refuses the same way while sealed.
async fn refused_everywhere(server: &custos_server::Running) {
    let kms = kms_as(server, &Keys::admin());
    let message = expect_error(kms.list_keys().send().await, "KeyUnavailableException", 500);
    assert_eq!(message, SEALED_MESSAGE);
    let iam = iam_as(server, &Keys::admin());
    expect_error(iam.list_users().send().await, "ServiceFailure", 500);
    let sts = sts_as(server, &Keys::admin());
    expect_error(
        sts.get_caller_identity().send().await,
        "ServiceFailure",
        500,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shares_store_is_sealed_until_its_threshold_of_shares_is_entered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = common::config(dir.path());
    let made = custos_server::init_shares(&config, 2, 3)
        .await
        .expect("init");
    assert_eq!(made.shares.len(), 3);
    assert_eq!(made.bootstrap_access_key_id, common::ACCESS_KEY);
    // Once only.
    assert!(matches!(
        custos_server::init_shares(&config, 2, 3).await,
        Err(custos_server::StartError::AlreadyInitialised)
    ));
    let mut config = common::config(dir.path());
    config.root_key = RootKeySource::Shares;
    let server = custos_server::start(config).await.expect("starts sealed");
    assert!(server.is_sealed());
    assert_eq!(server.bootstrap_access_key_id, None);
    assert_eq!(server.account_id, common::ACCOUNT);

    let health = probe(&server, "/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(json(&health)["sealed"], true);
    let ready = probe(&server, "/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(json(&ready)["sealed"], true);
    let metrics = String::from_utf8(probe(&server, "/metrics").await.body).expect("utf-8");
    assert!(metrics.contains("\ncustos_sealed 1\n"), "{metrics}");
    refused_everywhere(&server).await;

    let status = operator(&server, "status").await.status;
    assert_eq!(
        (
            status.sealed,
            status.progress,
            status.threshold,
            status.shares
        ),
        (true, Some(0), Some(2), Some(3))
    );
    let no_share = operator(&server, "unseal").await;
    assert!(no_share.error.expect("refused").contains("needs a share"));
    let share =
        |i: usize| String::from_utf8(made.shares[i].expose_secret().to_vec()).expect("utf-8");
    let first = operator(&server, &format!("unseal {}", share(2))).await;
    assert_eq!((first.error, first.status.progress), (None, Some(1)));
    refused_everywhere(&server).await;
    let second = operator(&server, &format!("unseal {}", share(0))).await;
    assert_eq!(second.error, None);
    assert!(!second.status.sealed);
    assert!(!server.is_sealed());

    assert_eq!(probe(&server, "/readyz").await.status, 200);
    let metrics = String::from_utf8(probe(&server, "/metrics").await.body).expect("utf-8");
    assert!(metrics.contains("\ncustos_sealed 0\n"), "{metrics}");
    let kms = common::client(&server);
    let key = common::new_key(&kms).await;
    let blob = common::encrypt(&kms, &key, b"opened by two of three").await;
    let back = kms
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob.clone()))
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(
        back.plaintext.expect("plaintext").as_ref(),
        b"opened by two of three"
    );

    // Sealed again: refused at once, progress starts over.
    let sealed = operator(&server, "seal").await;
    assert!(sealed.status.sealed);
    assert_eq!(sealed.status.progress, Some(0));
    refused_everywhere(&server).await;
    for i in [1, 2] {
        assert_eq!(
            operator(&server, &format!("unseal {}", share(i)))
                .await
                .error,
            None
        );
    }
    let back = kms
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
        .send()
        .await
        .expect("Decrypt after a seal and an unseal");
    assert_eq!(
        back.plaintext.expect("plaintext").as_ref(),
        b"opened by two of three"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_unseals_itself_can_be_sealed_and_reopened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = common::start(dir.path()).await;
    assert!(!server.is_sealed());
    let kms = common::client(&server);
    let key = common::new_key(&kms).await;
    let blob = common::encrypt(&kms, &key, b"auto").await;

    let sealed = operator(&server, "seal").await;
    assert!(sealed.status.sealed && sealed.status.progress.is_none());
    assert_eq!(sealed.status.provider, "file");
    refused_everywhere(&server).await;
    assert_eq!(probe(&server, "/readyz").await.status, 503);

    let opened = operator(&server, "unseal").await;
    assert_eq!(opened.error, None);
    assert!(!opened.status.sealed);
    let back = kms
        .decrypt()
        .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(blob))
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(back.plaintext.expect("plaintext").as_ref(), b"auto");
    let unknown = operator(&server, "open sesame").await;
    assert!(unknown.error.expect("refused").contains("unknown command"));
    server.shutdown().await;
}
