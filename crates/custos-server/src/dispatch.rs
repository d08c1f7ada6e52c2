//! From an authenticated request to the domain and back: JSON in, the
//! operation's method on [`Kms`], JSON out.

use custos_kms::{Caller, Kms};
use custos_store::Engine;
use custos_wire::Operation;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::error::ApiError;

/// Room for the largest response that carries a secret (4096 bytes of
/// plaintext, or a `GenerateDataKeyPair` answer with an RSA-4096 private key
/// twice, base64-encoded, and the rest), so that encoding never reallocates
/// and leaves an unwiped copy of a plaintext behind.
const RESPONSE_CAPACITY: usize = 16 * 1024;

/// Runs `op` with the JSON `body` and returns the JSON response body, in a
/// buffer wiped when dropped.
pub(crate) async fn dispatch<E: Engine>(
    kms: &Kms<E>,
    audit: &custos_audit::AuditLog,
    caller: &Caller,
    op: Operation,
    body: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    macro_rules! call {
        ($method:ident) => {{
            let request = parse(body)?;
            let response = kms.$method(caller, request).await?;
            encode(&response)
        }};
    }
    match op {
        Operation::CancelKeyDeletion => call!(cancel_key_deletion),
        Operation::CreateAlias => call!(create_alias),
        Operation::CreateGrant => call!(create_grant),
        Operation::CreateKey => call!(create_key),
        Operation::Decapsulate => call!(decapsulate),
        Operation::Decrypt => call!(decrypt),
        Operation::DeleteAlias => call!(delete_alias),
        Operation::DeriveSharedSecret => call!(derive_shared_secret),
        Operation::DescribeKey => call!(describe_key),
        Operation::DisableKey => call!(disable_key),
        Operation::DisableKeyRotation => call!(disable_key_rotation),
        Operation::EnableKey => call!(enable_key),
        Operation::EnableKeyRotation => call!(enable_key_rotation),
        Operation::Encapsulate => call!(encapsulate),
        Operation::Encrypt => call!(encrypt),
        Operation::GenerateDataKey => call!(generate_data_key),
        Operation::GenerateDataKeyPair => call!(generate_data_key_pair),
        Operation::GenerateDataKeyPairWithoutPlaintext => {
            call!(generate_data_key_pair_without_plaintext)
        }
        Operation::GenerateDataKeyWithoutPlaintext => call!(generate_data_key_without_plaintext),
        Operation::GenerateMac => call!(generate_mac),
        Operation::GenerateRandom => call!(generate_random),
        Operation::GetKeyLastUsage => {
            // The domain authorizes and answers for the key; its last use
            // is in the audit trail, read here at the edge.
            let request = parse(body)?;
            let mut response = kms.get_key_last_usage(caller, request).await?;
            crate::cloudtrail::fill_last_usage(audit, &mut response).await?;
            encode(&response)
        }
        Operation::GetKeyPolicy => call!(get_key_policy),
        Operation::GetKeyRotationStatus => call!(get_key_rotation_status),
        Operation::GetPublicKey => call!(get_public_key),
        Operation::ListAliases => call!(list_aliases),
        Operation::ListGrants => call!(list_grants),
        Operation::ListKeyPolicies => call!(list_key_policies),
        Operation::ListKeyRotations => call!(list_key_rotations),
        Operation::ListKeys => call!(list_keys),
        Operation::ListResourceTags => call!(list_resource_tags),
        Operation::ListRetirableGrants => call!(list_retirable_grants),
        Operation::PutKeyPolicy => call!(put_key_policy),
        Operation::ReEncrypt => call!(re_encrypt),
        Operation::RetireGrant => call!(retire_grant),
        Operation::RevokeGrant => call!(revoke_grant),
        Operation::RotateKeyOnDemand => call!(rotate_key_on_demand),
        Operation::ScheduleKeyDeletion => call!(schedule_key_deletion),
        Operation::Sign => call!(sign),
        Operation::TagResource => call!(tag_resource),
        Operation::UntagResource => call!(untag_resource),
        Operation::UpdateAlias => call!(update_alias),
        Operation::UpdateKeyDescription => call!(update_key_description),
        Operation::Verify => call!(verify),
        Operation::VerifyMac => call!(verify_mac),
    }
}

/// Parses a request body. An empty body is an empty request; anything
/// but a JSON object is a `SerializationException`. The messages never
/// repeat the client's values, which may be secret.
pub(crate) fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok(T::default());
    }
    if trimmed[0] != b'{' {
        return Err(ApiError::Serialization(
            "Start of structure or map expected.".into(),
        ));
    }
    serde_json::from_slice(trimmed).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => format!(
                "Invalid value for a member at line {} column {}.",
                e.line(),
                e.column()
            ),
            _ => format!("Malformed JSON at line {} column {}.", e.line(), e.column()),
        };
        ApiError::Serialization(message)
    })
}

fn encode<T: Serialize>(response: &T) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    let mut out = Zeroizing::new(Vec::with_capacity(RESPONSE_CAPACITY));
    serde_json::to_writer(&mut *out, response).map_err(|e| ApiError::Internal(Box::new(e)))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use custos_wire::shapes::{EncryptRequest, ListKeysRequest};

    use super::*;

    #[test]
    fn bodies_that_are_not_objects_are_serialization_errors() {
        for body in [
            &b"[]"[..],
            b"\"x\"",
            b"12",
            b"{",
            b"{\"Limit\":",
            b"nul",
            b"{}}",
        ] {
            assert!(
                matches!(
                    parse::<ListKeysRequest>(body),
                    Err(ApiError::Serialization(_))
                ),
                "{body:?}"
            );
        }
        assert!(parse::<ListKeysRequest>(b"").is_ok());
        assert!(parse::<ListKeysRequest>(b" {} ").is_ok());
    }

    #[test]
    fn messages_do_not_echo_values() {
        let err = parse::<EncryptRequest>(br#"{"Plaintext": "not base64 SECRET!"}"#)
            .expect_err("bad base64");
        let (_, message) = err.to_wire();
        assert!(!message.unwrap_or_default().contains("SECRET"));
        let err = parse::<EncryptRequest>(br#"{"EncryptionContext": {"k": 1234567}}"#)
            .expect_err("bad type");
        assert!(!err.to_wire().1.unwrap_or_default().contains("1234567"));
    }
}
