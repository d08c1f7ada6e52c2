//! `Verify`: checks a signature with the public key of an asymmetric
//! `SIGN_VERIFY` key. A signature that does not verify is
//! `KMSInvalidSignatureException`, with no detail.

use custos_crypto::sign::VerifyingKey;
use custos_store::Engine;
use custos_wire::shapes::{VerifyRequest, VerifyResponse};

use crate::algorithms::signing_plan;
use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::material::signing_kind;
use crate::model::KeyUsage;
use crate::ops::key_arn;
use crate::ops::sign::parse_sign_params;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn verify(
        &self,
        caller: &Caller,
        req: VerifyRequest,
    ) -> Result<VerifyResponse, KmsError> {
        let signature = req.signature;
        let params = parse_sign_params(
            req.key_id,
            req.message,
            req.message_type,
            req.signing_algorithm,
            &req.grant_tokens,
            |v| {
                v.required("signature", &signature);
                v.blob_length(
                    "signature",
                    signature.as_ref().map(|s| s.0.len()),
                    1,
                    6144,
                    false,
                );
            },
        )?;
        self.check_grant_token_list(&req.grant_tokens)?;
        let signature = signature.unwrap_or_default().0;

        let request = KeyRequest::new(Action::Verify, KeySource::Named(&params.key_id))
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

        let corrupt = || KmsError::Corrupt {
            what: format!("public key of {}", key.key_id),
        };
        let kind = signing_kind(key.key_spec).ok_or_else(corrupt)?;
        let public = self.bound_public_key(&authorized).await?;
        let verifying = VerifyingKey::from_der(kind, &public).map_err(|_| corrupt())?;
        verifying
            .verify(plan.scheme, plan.input(&params.message.0), &signature)
            .map_err(|_| KmsError::InvalidSignature)?;
        Ok(VerifyResponse {
            key_id: key_arn(key),
            signature_valid: true,
            signing_algorithm: params.algorithm.as_str().to_owned(),
        })
    }
}
