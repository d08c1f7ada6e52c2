//! `ReEncrypt`: decrypts under the source key and encrypts under the
//! destination key, without the plaintext leaving Custos.

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{ReEncryptRequest, ReEncryptResponse};
use custos_wire::validation::Violations;

use crate::algorithms::{check_rsa_plaintext, rsa_padding};
use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::model::{EncryptionAlgorithm, KeySpec, KeyUsage};
use crate::ops::decrypt::BlobRequest;
use crate::ops::encrypt::{refuse_asymmetric_context, rsa_encrypt};
use crate::ops::{
    check_encryption_algorithm, check_grant_tokens, check_key_id, context,
    require_symmetric_algorithm,
};
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn re_encrypt(
        &self,
        caller: &Caller,
        req: ReEncryptRequest,
    ) -> Result<ReEncryptResponse, KmsError> {
        let mut v = Violations::new();
        v.required("ciphertextBlob", &req.ciphertext_blob);
        v.blob_length(
            "ciphertextBlob",
            req.ciphertext_blob.as_ref().map(|b| b.0.len()),
            1,
            6144,
            false,
        );
        check_key_id(&mut v, "sourceKeyId", &req.source_key_id);
        v.required("destinationKeyId", &req.destination_key_id);
        check_key_id(&mut v, "destinationKeyId", &req.destination_key_id);
        check_encryption_algorithm(
            &mut v,
            "sourceEncryptionAlgorithm",
            &req.source_encryption_algorithm,
        );
        check_encryption_algorithm(
            &mut v,
            "destinationEncryptionAlgorithm",
            &req.destination_encryption_algorithm,
        );
        check_grant_tokens(&mut v, &req.grant_tokens);
        if let Some(mods) = &req.dry_run_modifiers {
            for m in mods {
                v.one_of("dryRunModifiers", Some(m), &["IGNORE_CIPHERTEXT"]);
            }
        }
        v.into_result()?;
        self.check_grant_token_list(&req.grant_tokens)?;
        let blob = req.ciphertext_blob.unwrap_or_default().0;
        let source_context = context(req.source_encryption_context);
        let destination_context = context(req.destination_encryption_context);

        // The destination is resolved and checked first, so that a request
        // that cannot complete never decrypts anything.
        let destination_raw = req.destination_key_id.as_deref().unwrap_or_default();
        let destination = self.resolve(caller, destination_raw).await?;
        // The source key, as far as it can be known before decrypting: the
        // key the blob names (or the one the request names, for RSA).
        let source_id = match &req.source_key_id {
            Some(raw) if !raw.is_empty() => self.resolve(caller, raw).await.ok().map(|k| k.key_id),
            _ => crate::ciphertext::parse_header(&blob)
                .ok()
                .map(|h| h.key_id.to_string()),
        };
        let same_key = source_id.map(|s| s == destination.key_id);
        let source = KeySource::Found {
            key: Box::new(destination),
            named: Some(destination_raw),
            from_ciphertext: false,
        };
        let request = KeyRequest::new(Action::ReEncryptTo, source)
            .conditions(crate::authz::Conditions {
                encryption_context: Some(&destination_context),
                encryption_algorithm: Some(
                    req.destination_encryption_algorithm
                        .as_deref()
                        .unwrap_or("SYMMETRIC_DEFAULT"),
                ),
                re_encrypt_on_same_key: same_key,
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::EncryptDecrypt);
        // RSA destinations: the algorithm and padding to encrypt with.
        let (destination, rsa_destination) = self
            .access_checked(caller, request, async |a| {
                let key = a.key();
                let algorithm = req.destination_encryption_algorithm.as_deref();
                if key.key_spec == KeySpec::SymmetricDefault {
                    require_symmetric_algorithm(key, algorithm)?;
                    Ok(None)
                } else {
                    refuse_asymmetric_context(&destination_context)?;
                    Ok(Some(rsa_padding(key, algorithm)?))
                }
            })
            .await?;

        let opened = self
            .open_blob(
                caller,
                BlobRequest {
                    action: Action::ReEncryptFrom,
                    blob: &blob,
                    named: req.source_key_id.as_deref(),
                    context: &source_context,
                    algorithm: req.source_encryption_algorithm.as_deref(),
                    dry_run: req.dry_run,
                    ignore_ciphertext: req
                        .dry_run_modifiers
                        .iter()
                        .flatten()
                        .any(|m| m == "IGNORE_CIPHERTEXT"),
                    same_key_as: Some(&destination.key().key_id),
                    // An RSA destination takes only so much plaintext.
                    fits: &|len| match rsa_destination {
                        Some((algorithm, _)) => {
                            check_rsa_plaintext(destination.key(), algorithm, len)
                        }
                        None => Ok(()),
                    },
                },
            )
            .await?;
        let (ciphertext, destination_material, destination_algorithm) = match rsa_destination {
            None => {
                let (ciphertext, material) = self
                    .encrypt_with_current(
                        &destination,
                        &destination_context,
                        opened.plaintext.expose_secret(),
                    )
                    .await?;
                (
                    ciphertext,
                    Some(material),
                    EncryptionAlgorithm::SymmetricDefault,
                )
            }
            Some((algorithm, padding)) => {
                check_rsa_plaintext(destination.key(), algorithm, opened.plaintext.len())?;
                let public = self.bound_public_key(&destination).await?;
                let ciphertext = rsa_encrypt(
                    destination.key(),
                    &public,
                    padding,
                    opened.plaintext.expose_secret(),
                )?;
                (ciphertext, None, algorithm)
            }
        };
        Ok(ReEncryptResponse {
            ciphertext_blob: Blob(ciphertext),
            source_key_id: opened.key.arn(),
            key_id: destination.key().arn(),
            source_encryption_algorithm: opened.algorithm.as_str().to_owned(),
            destination_encryption_algorithm: destination_algorithm.as_str().to_owned(),
            source_key_material_id: opened.material_id,
            destination_key_material_id: destination_material,
        })
    }
}
