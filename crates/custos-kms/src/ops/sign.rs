//! `Sign`: a signature by an asymmetric `SIGN_VERIFY` key, over a message
//! (hashed here), a digest the caller computed (signed as is), or an
//! ML-DSA external μ. See `crate::algorithms` for which goes with what.

use custos_store::Engine;
use custos_wire::Blob;
use custos_wire::shapes::{SignRequest, SignResponse};
use custos_wire::validation::Violations;

use crate::algorithms::signing_plan;
use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::material::Material;
use crate::model::{KeyUsage, MessageType, SigningAlgorithm};
use crate::ops::{blocking, check_grant_tokens, check_key_id, key_arn};
use crate::{Caller, Kms, KmsError};

/// What `Sign` and `Verify` validate alike.
pub(crate) struct SignParams {
    pub key_id: String,
    pub message: custos_wire::SecretBlob,
    pub message_type: MessageType,
    pub algorithm: SigningAlgorithm,
}

/// Model validation of the members `Sign` and `Verify` share; `extra`
/// adds the operation's own.
pub(crate) fn parse_sign_params(
    key_id: Option<String>,
    message: Option<custos_wire::SecretBlob>,
    message_type: Option<String>,
    algorithm: Option<String>,
    grant_tokens: &Option<Vec<String>>,
    extra: impl FnOnce(&mut Violations),
) -> Result<SignParams, KmsError> {
    let mut v = Violations::new();
    v.required("keyId", &key_id);
    check_key_id(&mut v, "keyId", &key_id);
    v.required("message", &message);
    v.blob_length("message", message.as_ref().map(|m| m.len()), 1, 4096, true);
    v.one_of("messageType", message_type.as_deref(), MessageType::NAMES);
    extra(&mut v);
    check_grant_tokens(&mut v, grant_tokens);
    v.required("signingAlgorithm", &algorithm);
    v.one_of(
        "signingAlgorithm",
        algorithm.as_deref(),
        SigningAlgorithm::NAMES,
    );
    v.into_result()?;
    Ok(SignParams {
        key_id: key_id.unwrap_or_default(),
        message: message.unwrap_or_default(),
        // Validated above: the parses cannot fail.
        message_type: message_type
            .as_deref()
            .and_then(MessageType::parse)
            .unwrap_or(MessageType::Raw),
        algorithm: algorithm
            .as_deref()
            .and_then(SigningAlgorithm::parse)
            .unwrap_or(SigningAlgorithm::RsassaPssSha256),
    })
}

impl<E: Engine> Kms<E> {
    pub async fn sign(&self, caller: &Caller, req: SignRequest) -> Result<SignResponse, KmsError> {
        let params = parse_sign_params(
            req.key_id,
            req.message,
            req.message_type,
            req.signing_algorithm,
            &req.grant_tokens,
            |_| {},
        )?;
        self.check_grant_token_list(&req.grant_tokens)?;

        let request = KeyRequest::new(Action::Sign, KeySource::Named(&params.key_id))
            .conditions(crate::authz::Conditions {
                signing_algorithm: Some(params.algorithm.as_str()),
                message_type: Some(params.message_type.as_str()),
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::SignVerify)
            .dry_run(req.dry_run);
        let (authorized, plan) = self
            .access_checked(caller, request, async |a| {
                signing_plan(
                    a.key(),
                    params.algorithm,
                    params.message_type,
                    params.message.len(),
                )
            })
            .await?;
        let key = authorized.key();

        let material = self.current_material(&authorized).await?;
        let Material::Signing(signing_key) = material else {
            return Err(KmsError::Corrupt {
                what: format!("signing key {}", key.key_id),
            });
        };
        let message = params.message;
        let signature =
            blocking(move || Ok(signing_key.sign(plan.scheme, plan.input(&message.0))?)).await?;
        Ok(SignResponse {
            key_id: key_arn(key),
            signature: Blob(signature),
            signing_algorithm: params.algorithm.as_str().to_owned(),
        })
    }
}
