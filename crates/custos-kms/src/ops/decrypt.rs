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
use crate::authz::access::{KeyRequest, KeySource, Need};
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

        let ignore_ciphertext = req
            .dry_run_modifiers
            .iter()
            .flatten()
            .any(|m| m == "IGNORE_CIPHERTEXT");
        let opened = self
            .open_blob(
                caller,
                BlobRequest {
                    action: Action::Decrypt,
                    blob: &blob,
                    named: req.key_id.as_deref(),
                    context: &context,
                    algorithm: req.encryption_algorithm.as_deref(),
                    dry_run: req.dry_run,
                    ignore_ciphertext,
                    same_key_as: None,
                    fits: &|_| Ok(()),
                },
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
    /// then access for the action (authorization, state, usage, algorithm,
    /// the decryption itself, and the dry run last, so that a dry run
    /// fails as the request would).
    pub(crate) async fn open_blob(
        &self,
        caller: &Caller,
        req: BlobRequest<'_>,
    ) -> Result<OpenedBlob, KmsError> {
        // A named key is resolved first, as AWS does: a bad KeyId is a
        // NotFoundException whatever the blob.
        let named = match req.named {
            Some(raw) => Some(self.resolve(caller, raw).await?),
            None => None,
        };
        if let Some(key) = named
            .as_ref()
            .filter(|k| k.key_spec != KeySpec::SymmetricDefault)
        {
            return self.open_rsa(caller, key.clone(), &req).await;
        }
        let header = ciphertext::parse_header(req.blob).map_err(|_| KmsError::InvalidCiphertext)?;
        let key = match named {
            Some(named) if named.key_id != header.key_id.to_string() => {
                // The caller must be allowed to use the key it named before
                // it learns that the ciphertext is not under that key.
                let source = KeySource::Found {
                    key: Box::new(named),
                    named: req.named,
                    from_ciphertext: false,
                };
                let request = KeyRequest::new(req.action, source)
                    .need(Need::AnyState)
                    .uncounted();
                self.access(caller, request).await?;
                return Err(KmsError::IncorrectKey(
                    "The key ID in the request does not identify a CMK that can perform this \
                     operation."
                        .into(),
                ));
            }
            Some(named) => named,
            None => self
                .load_key(caller.region(), &header.key_id)
                .await?
                .ok_or_else(|| unknown_key(caller, req.action))?,
        };
        let same_key = req.same_key_as.map(|d| d == key.key_id);
        let source = KeySource::Found {
            key: Box::new(key),
            named: req.named,
            from_ciphertext: true,
        };
        let request = KeyRequest::new(req.action, source)
            .conditions(Conditions {
                encryption_context: Some(req.context),
                encryption_algorithm: Some(req.algorithm.unwrap_or("SYMMETRIC_DEFAULT")),
                re_encrypt_on_same_key: same_key,
                ..Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt)
            .dry_run(req.dry_run);
        let skip = req.dry_run == Some(true) && req.ignore_ciphertext;
        let (authorized, opened) = self
            .access_checked(caller, request, async |a| {
                require_symmetric_algorithm(a.key(), req.algorithm)?;
                if skip {
                    return Ok(None);
                }
                let version = a
                    .key()
                    .material(header.material_version)
                    .ok_or(KmsError::InvalidCiphertext)?;
                let material = self.material(a, version.version).await?;
                let plaintext = ciphertext::decrypt(&material, req.context, req.blob)
                    .map_err(|_| KmsError::InvalidCiphertext)?;
                (req.fits)(plaintext.len())?;
                Ok(Some((plaintext, version.material_id.clone())))
            })
            .await?;
        // Only a dry run skips the decryption, and a dry run ends above.
        let (plaintext, material_id) = opened.ok_or(KmsError::DryRun)?;
        Ok(OpenedBlob {
            key: authorized.into_key(),
            plaintext,
            material_id: Some(material_id),
            algorithm: EncryptionAlgorithm::SymmetricDefault,
        })
    }

    /// Decrypts an RSA-OAEP ciphertext with the private key of `key`, an
    /// asymmetric key the request named, after the same checks as
    /// `open_blob`. Fails as opaquely as symmetric decryption.
    async fn open_rsa(
        &self,
        caller: &Caller,
        key: KeyRecord,
        req: &BlobRequest<'_>,
    ) -> Result<OpenedBlob, KmsError> {
        let same_key = req.same_key_as.map(|d| d == key.key_id);
        let source = KeySource::Found {
            key: Box::new(key),
            named: req.named,
            from_ciphertext: false,
        };
        let request = KeyRequest::new(req.action, source)
            .conditions(Conditions {
                encryption_algorithm: req.algorithm,
                re_encrypt_on_same_key: same_key,
                ..Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt)
            .dry_run(req.dry_run);
        let skip = req.dry_run == Some(true) && req.ignore_ciphertext;
        let (authorized, (algorithm, plaintext)) = self
            .access_checked(caller, request, async |a| {
                let (algorithm, padding) = rsa_padding(a.key(), req.algorithm)?;
                refuse_asymmetric_context(req.context)?;
                if skip {
                    return Ok((algorithm, None));
                }
                let Material::RsaDecrypting(private) = self.current_material(a).await? else {
                    return Err(KmsError::Corrupt {
                        what: format!("RSA key {}", a.key().key_id),
                    });
                };
                let ciphertext = req.blob.to_vec();
                let plaintext = blocking(move || {
                    private
                        .decrypt(padding, &ciphertext)
                        .map_err(|_| KmsError::InvalidCiphertext)
                })
                .await?;
                (req.fits)(plaintext.len())?;
                Ok((algorithm, Some(plaintext)))
            })
            .await?;
        Ok(OpenedBlob {
            key: authorized.into_key(),
            // Only a dry run skips the decryption, and a dry run ends above.
            plaintext: plaintext.ok_or(KmsError::DryRun)?,
            material_id: None,
            algorithm,
        })
    }
}

/// What `Decrypt` and `ReEncrypt` ask of a ciphertext.
pub(crate) struct BlobRequest<'a> {
    pub action: Action,
    pub blob: &'a [u8],
    /// The `KeyId` the request named, if any.
    pub named: Option<&'a str>,
    pub context: &'a EncryptionContext,
    pub algorithm: Option<&'a str>,
    pub dry_run: Option<bool>,
    /// `DryRunModifiers: [IGNORE_CIPHERTEXT]`: a dry run that does not
    /// check the ciphertext itself.
    pub ignore_ciphertext: bool,
    /// `ReEncrypt`: the destination key, for `kms:ReEncryptOnSameKey`.
    pub same_key_as: Option<&'a str>,
    /// What the request needs of the plaintext's length (`ReEncrypt`: that
    /// it fits the destination key), checked before a dry run ends.
    pub fits: &'a (dyn Fn(usize) -> Result<(), KmsError> + Sync),
}

/// A decrypted blob and what it was decrypted with.
pub(crate) struct OpenedBlob {
    pub key: KeyRecord,
    pub plaintext: SecretBytes,
    /// The symmetric material version's id; none for RSA keys.
    pub material_id: Option<String>,
    pub algorithm: EncryptionAlgorithm,
}
