//! The `kms` root-key provider: the store key is wrapped by a key in
//! another AWS-KMS-compatible service (AWS KMS itself, or another Custos)
//! through Encrypt and Decrypt, so the server unseals itself at start as
//! long as that service answers and lets it (auto-unseal). Nothing in the
//! data directory opens the store without it.
//!
//! Configured the way the AWS SDKs are (credentials, region,
//! `AWS_ENDPOINT_URL_KMS`, `AWS_CA_BUNDLE`); the key is `--root-key-id`.
//! The wrapped store key is `0x03 ‖ CiphertextBlob`, made with the
//! encryption context `{"custos:purpose": "store-key", "custos:binding":
//! hex(SHA-256(binding))}`, where the binding names the installation: a
//! ciphertext of another installation, or of another purpose, does not
//! decrypt as this one's store key.

use custos_crypto::Key256;
use custos_kms::root_key::{RootKeyError, RootKeyProvider};

use super::Kms;

const WRAP_FORMAT: u8 = 3;

/// A root key that is a KMS key of another service.
pub(crate) struct KmsRootKey {
    key_id: String,
}

impl std::fmt::Debug for KmsRootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsRootKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl KmsRootKey {
    pub(crate) fn new(key_id: String) -> Self {
        Self { key_id }
    }

    /// Runs one KMS call to completion on a thread of its own, with a
    /// client and runtime made and dropped there: the server calls
    /// providers from inside its own runtime, where another runtime can be
    /// neither entered nor dropped.
    fn call<T: Send>(
        &self,
        work: impl AsyncFnOnce(aws_sdk_kms::Client) -> Result<T, RootKeyError> + Send,
    ) -> Result<T, RootKeyError> {
        let region = super::arn::region_of(&self.key_id);
        std::thread::scope(|s| {
            s.spawn(|| {
                let kms = Kms::new().map_err(|e| unavailable(e.to_string()))?;
                let client = kms
                    .client(None, region.as_deref(), &self.key_id)
                    .map_err(|e| unavailable(e.to_string()))?;
                kms.block_on(work(client))
            })
            .join()
            .map_err(|_| unavailable("the KMS call panicked".into()))?
        })
    }
}

fn context(binding: &[u8]) -> std::collections::HashMap<String, String> {
    [
        ("custos:purpose".to_owned(), "store-key".to_owned()),
        (
            "custos:binding".to_owned(),
            hex::encode(custos_crypto::mac::sha256(binding)),
        ),
    ]
    .into()
}

fn unavailable(message: String) -> RootKeyError {
    RootKeyError::Unavailable {
        provider: "kms",
        message,
    }
}

/// An SDK error as a provider's: a ciphertext the root key does not open
/// is the wrong key; anything else is the service not answering as needed.
fn refused<E>(e: &aws_sdk_kms::error::SdkError<E>) -> RootKeyError
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_kms::error::ProvideErrorMetadata as _;
    match (e.code(), e.message()) {
        (Some("InvalidCiphertextException" | "IncorrectKeyException"), _) => RootKeyError::WrongKey,
        (Some(code), message) => unavailable(format!("{code}: {}", message.unwrap_or(""))),
        _ => unavailable(format!("{}", aws_sdk_kms::error::DisplayErrorContext(e))),
    }
}

impl RootKeyProvider for KmsRootKey {
    fn kind(&self) -> &'static str {
        "kms"
    }

    fn is_development(&self) -> bool {
        false
    }

    fn wrap(&self, store_key: &Key256, aad: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let plaintext = aws_sdk_kms::primitives::Blob::new(store_key.expose_secret().to_vec());
        let key_id = self.key_id.clone();
        let blob = self.call(async move |client| {
            let out = client
                .encrypt()
                .key_id(key_id)
                .plaintext(plaintext)
                .set_encryption_context(Some(context(aad)))
                .send()
                .await
                .map_err(|e| refused(&e))?;
            out.ciphertext_blob
                .map(|b| b.into_inner())
                .ok_or_else(|| unavailable("Encrypt returned no ciphertext".into()))
        })?;
        let mut out = vec![WRAP_FORMAT];
        out.extend_from_slice(&blob);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key256, RootKeyError> {
        let Some((&WRAP_FORMAT, blob)) = wrapped.split_first() else {
            return Err(RootKeyError::WrongKey);
        };
        let blob = aws_sdk_kms::primitives::Blob::new(blob.to_vec());
        let key_id = self.key_id.clone();
        let plaintext = self.call(async move |client| {
            let out = client
                .decrypt()
                .key_id(key_id)
                .ciphertext_blob(blob)
                .set_encryption_context(Some(context(aad)))
                .send()
                .await
                .map_err(|e| refused(&e))?;
            // Held in a zeroizing type from here on.
            Ok(custos_crypto::SecretBytes::new(
                out.plaintext.map(|b| b.into_inner()).unwrap_or_default(),
            ))
        })?;
        Key256::from_slice(plaintext.expose_secret()).map_err(|_| RootKeyError::WrongKey)
    }
}
