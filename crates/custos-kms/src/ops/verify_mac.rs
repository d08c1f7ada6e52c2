//! `VerifyMac`: checks an HMAC in constant time. A MAC that does not match
//! is `KMSInvalidMacException`, with no detail.

use custos_store::Engine;
use custos_wire::shapes::{VerifyMacRequest, VerifyMacResponse};

use crate::authz::Action;
use crate::authz::access::{KeyRequest, KeySource};
use crate::model::KeyUsage;
use crate::ops::generate_mac::{parse_mac_params, require_mac_algorithm};
use crate::ops::key_arn;
use crate::{Caller, Kms, KmsError};

impl<E: Engine> Kms<E> {
    pub async fn verify_mac(
        &self,
        caller: &Caller,
        req: VerifyMacRequest,
    ) -> Result<VerifyMacResponse, KmsError> {
        let mac = req.mac;
        let params = parse_mac_params(
            req.message,
            req.key_id,
            req.mac_algorithm,
            &req.grant_tokens,
            |v| {
                v.required("mac", &mac);
                v.blob_length("mac", mac.as_ref().map(|m| m.0.len()), 1, 6144, false);
            },
        )?;
        self.check_grant_token_list(&req.grant_tokens)?;
        let mac = mac.unwrap_or_default().0;

        let request = KeyRequest::new(Action::VerifyMac, KeySource::Named(&params.key_id))
            .conditions(crate::authz::Conditions {
                mac_algorithm: Some(params.algorithm.as_str()),
                ..crate::authz::Conditions::default()
            })
            .usage(KeyUsage::GenerateVerifyMac)
            .dry_run(req.dry_run);
        let (authorized, ()) = self
            .access_checked(caller, request, async |a| {
                require_mac_algorithm(a.key(), params.algorithm)
            })
            .await?;
        let key = authorized.key();

        let (alg, mac_key) = self.hmac_key(&authorized).await?;
        if !custos_crypto::mac::hmac_verify(alg, &mac_key, &params.message.0, &mac) {
            return Err(KmsError::InvalidMac);
        }
        Ok(VerifyMacResponse {
            key_id: key_arn(key),
            mac_valid: true,
            mac_algorithm: params.algorithm.as_str().to_owned(),
        })
    }
}
