//! `Decrypt`: a ciphertext blob back to its plaintext. The key comes from
//! the blob; a `KeyId`, when given, must name the same key. A `KeyId` that
//! names an RSA `ENCRYPT_DECRYPT` key decrypts an RSA-OAEP ciphertext made
//! with its public key, by Custos or by anyone else.

use custos_crypto::SecretBytes;
use custos_store::Engine;
use custos_wire::SecretBlob;
use custos_wire::shapes::{DecryptRequest, DecryptResponse};
use custos_wire::validation::Violations;

use crate::algorithms::rsa_padding;
use crate::authz::access::{KeyRequest, KeySource};
use crate::authz::{Action, Conditions, unknown_key};
use crate::ciphertext;
use crate::context::EncryptionContext;
use crate::material::Material;
use crate::model::{EncryptionAlgorithm, KeyRecord, KeySpec, KeyUsage};
use crate::ops::encrypt::refuse_asymmetric_context;
use crate::ops::{
    blocking, check_encryption_algorithm, check_grant_tokens, check_key_id, context,
    require_symmetric_algorithm,
};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn decrypt(
        &self,
        caller: &Caller,
        req: DecryptRequest,
    ) -> Result<DecryptResponse, KmsError> {
        let mut v = Violations::new();
        v.required("ciphertextBlob", &req.ciphertext_blob);
        v.blob_length(
            "ciphertextBlob",
            req.ciphertext_blob.as_ref().map(|b| b.0.len()),
            1,
            6144,
            false,
        );
        check_key_id(&mut v, "keyId", &req.key_id);
        check_grant_tokens(&mut v, &req.grant_tokens);
        check_encryption_algorithm(&mut v, "encryptionAlgorithm", &req.encryption_algorithm);
        if let Some(mods) = &req.dry_run_modifiers {
            for m in mods {
                v.one_of("dryRunModifiers", Some(m), &["IGNORE_CIPHERTEXT"]);
            }
        }
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        if req.recipient.is_some() {
            return Err(KmsError::UnsupportedOperation(
                "Recipient (Nitro Enclaves attestation) is not supported by Custos.".into(),
            ));
        }
        let blob = req.ciphertext_blob.unwrap_or_default().0;
        let context = context(req.encryption_context);

        let opened = self
            .open_blob(
                caller,
                Action::Decrypt,
                &blob,
                req.key_id.as_deref(),
                &context,
                req.encryption_algorithm.as_deref(),
                req.dry_run,
                None,
            )
            .await?;
        let mut plaintext = opened.plaintext;
        Ok(DecryptResponse {
            key_id: opened.key.arn(),
            plaintext: SecretBlob::new(std::mem::take(plaintext.expose_secret_mut())),
            encryption_algorithm: opened.algorithm.as_str().to_owned(),
            key_material_id: opened.material_id,
        })
    }

    /// Decrypts a ciphertext blob with the checks `Decrypt` and `ReEncrypt`
    /// share: a named key is resolved first and must be the blob's key;
    /// then access for `action` (authorization, state, usage, algorithm,
    /// dry run).
    #[allow(clippy::too_many_arguments, reason = "the members of the two requests")]
    pub(crate) async fn open_blob(
        &self,
        caller: &Caller,
        action: Action,
        blob: &[u8],
        named: Option<&str>,
        context: &EncryptionContext,
        algorithm: Option<&str>,
        dry_run: Option<bool>,
        same_key_as: Option<&str>,
    ) -> Result<OpenedBlob, KmsError> {
        let raw = named;
        // A named key is resolved first, as AWS does: a bad KeyId is a
        // NotFoundException whatever the blob.
        let named = match named {
            Some(raw) => Some(self.resolve(caller, raw).await?),
            None => None,
        };
        if let Some(key) = named
            .as_ref()
            .filter(|k| k.key_spec != KeySpec::SymmetricDefault)
        {
            return self
                .open_rsa(
                    caller,
                    action,
                    blob,
                    key.clone(),
                    raw,
                    context,
                    algorithm,
                    dry_run,
                    same_key_as,
                )
                .await;
        }
        let header = ciphertext::parse_header(blob).map_err(|_| KmsError::InvalidCiphertext)?;
        let key = self
            .load_key(caller.region(), &header.key_id)
            .await?
            .ok_or_else(|| unknown_key(caller, action))?;
        if let Some(named) = &named
            && named.key_id != key.key_id
        {
            return Err(KmsError::IncorrectKey(
                "The key ID in the request does not identify a CMK that can perform this \
                 operation."
                    .into(),
            ));
        }
        let same_key = same_key_as.map(|d| d == key.key_id);
        let source = KeySource::Found {
            key: Box::new(key),
            named: raw,
            from_ciphertext: true,
        };
        let request = KeyRequest::new(action, source)
            .conditions(Conditions {
                encryption_context: Some(context),
                encryption_algorithm: Some(algorithm.unwrap_or("SYMMETRIC_DEFAULT")),
                re_encrypt_on_same_key: same_key,
                ..Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt)
            .dry_run(dry_run);
        let (authorized, ()) = self
            .access_checked(caller, request, |a| {
                require_symmetric_algorithm(a.key(), algorithm)
            })
            .await?;
        let version = authorized
            .key()
            .material(header.material_version)
            .ok_or(KmsError::InvalidCiphertext)?;
        let material_id = version.material_id.clone();
        let material = self.material(&authorized, version.version).await?;
        let plaintext = ciphertext::decrypt(&material, context, blob)
            .map_err(|_| KmsError::InvalidCiphertext)?;
        Ok(OpenedBlob {
            key: authorized.into_key(),
            plaintext,
            material_id: Some(material_id),
            algorithm: EncryptionAlgorithm::SymmetricDefault,
        })
    }

    /// Decrypts an RSA-OAEP ciphertext with the private key of `key`, an
    /// asymmetric key the request named (as `raw`), after the same checks
    /// as `open_blob`. Fails as opaquely as symmetric decryption.
    #[allow(clippy::too_many_arguments, reason = "the members of the two requests")]
    async fn open_rsa(
        &self,
        caller: &Caller,
        action: Action,
        ciphertext: &[u8],
        key: KeyRecord,
        raw: Option<&str>,
        context: &EncryptionContext,
        algorithm: Option<&str>,
        dry_run: Option<bool>,
        same_key_as: Option<&str>,
    ) -> Result<OpenedBlob, KmsError> {
        let same_key = same_key_as.map(|d| d == key.key_id);
        let source = KeySource::Found {
            key: Box::new(key),
            named: raw,
            from_ciphertext: false,
        };
        let request = KeyRequest::new(action, source)
            .conditions(Conditions {
                encryption_algorithm: algorithm,
                re_encrypt_on_same_key: same_key,
                ..Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt)
            .dry_run(dry_run);
        let (authorized, (algorithm, padding)) = self
            .access_checked(caller, request, |a| {
                let chosen = rsa_padding(a.key(), algorithm)?;
                refuse_asymmetric_context(context)?;
                Ok(chosen)
            })
            .await?;
        let Material::RsaDecrypting(private) = self.current_material(&authorized).await? else {
            return Err(KmsError::Corrupt {
                what: format!("RSA key {}", authorized.key().key_id),
            });
        };
        let ciphertext = ciphertext.to_vec();
        let plaintext = blocking(move || {
            private
                .decrypt(padding, &ciphertext)
                .map_err(|_| KmsError::InvalidCiphertext)
        })
        .await?;
        Ok(OpenedBlob {
            key: authorized.into_key(),
            plaintext,
            material_id: None,
            algorithm,
        })
    }
}

/// A decrypted blob and what it was decrypted with.
pub(crate) struct OpenedBlob {
    pub key: KeyRecord,
    pub plaintext: SecretBytes,
    /// The symmetric material version's id; none for RSA keys.
    pub material_id: Option<String>,
    pub algorithm: EncryptionAlgorithm,
}
