//! The few AWS KMS JSON 1.1 requests and responses this tool needs.
//!
//! Requests are built once and sent many times: a [`Call`] is the
//! `X-Amz-Target` and the JSON body, ready to be signed for each send.
//! Responses are parsed only during setup, into just the fields used.

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::HeaderValue;
use serde_json::{Value, json};

/// The `Content-Type` of every request and response of the KMS wire.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Bytes in the data key GenerateDataKey is asked for (`AES_256`).
pub(crate) const DATA_KEY_SIZE: usize = 32;

/// The key id put in `noop` requests: the ceiling server never reads it.
const NOOP_KEY_ID: &str = "alias/custos-loadgen-noop";

/// One KMS request as sent on the wire, before signing.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    /// `X-Amz-Target`, e.g. `TrentService.Encrypt`.
    pub(crate) target: HeaderValue,
    /// The JSON body.
    pub(crate) body: Bytes,
}

impl Call {
    /// `CreateKey` with every parameter left to its default: a symmetric
    /// encryption key.
    pub(crate) fn create_key() -> Self {
        Self::new("TrentService.CreateKey", &json!({}))
    }

    /// `CreateKey` of an asymmetric `SIGN_VERIFY` key.
    pub(crate) fn create_signing_key(key_spec: &str) -> Self {
        Self::new(
            "TrentService.CreateKey",
            &json!({ "KeySpec": key_spec, "KeyUsage": "SIGN_VERIFY" }),
        )
    }

    /// `Sign` of a RAW message.
    pub(crate) fn sign(key_id: &str, algorithm: &str, message: &[u8]) -> Self {
        Self::new(
            "TrentService.Sign",
            &json!({
                "KeyId": key_id,
                "SigningAlgorithm": algorithm,
                "MessageType": "RAW",
                "Message": BASE64.encode(message),
            }),
        )
    }

    /// `Verify` of a RAW message and a signature (still base64).
    pub(crate) fn verify(key_id: &str, algorithm: &str, message: &[u8], signature: &str) -> Self {
        Self::new(
            "TrentService.Verify",
            &json!({
                "KeyId": key_id,
                "SigningAlgorithm": algorithm,
                "MessageType": "RAW",
                "Message": BASE64.encode(message),
                "Signature": signature,
            }),
        )
    }

    pub(crate) fn generate_data_key_pair(key_id: &str, key_pair_spec: &str) -> Self {
        Self::new(
            "TrentService.GenerateDataKeyPair",
            &json!({ "KeyId": key_id, "KeyPairSpec": key_pair_spec }),
        )
    }

    pub(crate) fn encrypt(key_id: &str, plaintext: &[u8]) -> Self {
        Self::new(
            "TrentService.Encrypt",
            &json!({ "KeyId": key_id, "Plaintext": BASE64.encode(plaintext) }),
        )
    }

    /// `Decrypt` of a blob as returned by Encrypt (still base64).
    pub(crate) fn decrypt(ciphertext_blob: &str) -> Self {
        Self::new(
            "TrentService.Decrypt",
            &json!({ "CiphertextBlob": ciphertext_blob }),
        )
    }

    pub(crate) fn generate_data_key(key_id: &str) -> Self {
        Self::new(
            "TrentService.GenerateDataKey",
            &json!({ "KeyId": key_id, "KeySpec": "AES_256" }),
        )
    }

    /// An Encrypt-shaped request for a server that does no KMS work.
    pub(crate) fn noop(plaintext: &[u8]) -> Self {
        Self::encrypt(NOOP_KEY_ID, plaintext)
    }

    fn new(target: &'static str, body: &Value) -> Self {
        Self {
            target: HeaderValue::from_static(target),
            body: Bytes::from(body.to_string()),
        }
    }
}

/// The test plaintext of `size` bytes: a fixed pattern, not a secret.
pub(crate) fn plaintext(size: usize) -> Vec<u8> {
    (0..=250u8).cycle().take(size).collect()
}

/// `KeyMetadata.KeyId` of a CreateKey response.
pub(crate) fn created_key_id(body: &[u8]) -> anyhow::Result<String> {
    let response = parse(body)?;
    match response
        .pointer("/KeyMetadata/KeyId")
        .and_then(Value::as_str)
    {
        Some(key_id) if !key_id.is_empty() => Ok(key_id.to_owned()),
        _ => bail!("no KeyMetadata.KeyId"),
    }
}

/// `CiphertextBlob` of an Encrypt or GenerateDataKey response, still base64,
/// after checking that it is valid base64 and not empty.
pub(crate) fn ciphertext_blob(body: &[u8]) -> anyhow::Result<String> {
    let response = parse(body)?;
    let blob = base64_field(&response, "CiphertextBlob")?;
    let decoded = BASE64
        .decode(blob)
        .context("CiphertextBlob is not valid base64")?;
    if decoded.is_empty() {
        bail!("CiphertextBlob is empty");
    }
    Ok(blob.to_owned())
}

/// `Plaintext` of a Decrypt or GenerateDataKey response, decoded.
pub(crate) fn plaintext_field(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    plaintext_field_named(body, "Plaintext")
}

/// A base64 member of a response, decoded.
pub(crate) fn plaintext_field_named(body: &[u8], name: &str) -> anyhow::Result<Vec<u8>> {
    let response = parse(body)?;
    let plaintext = base64_field(&response, name)?;
    BASE64
        .decode(plaintext)
        .with_context(|| format!("{name} is not valid base64"))
}

/// The usual signing algorithm of a key spec.
pub(crate) fn default_signing_algorithm(key_spec: &str) -> &'static str {
    match key_spec {
        s if s.starts_with("RSA_") => "RSASSA_PSS_SHA_256",
        "ECC_NIST_P384" => "ECDSA_SHA_384",
        "ECC_NIST_P521" => "ECDSA_SHA_512",
        "ECC_NIST_EDWARDS25519" => "ED25519_SHA_512",
        s if s.starts_with("ML_DSA_") => "ML_DSA_SHAKE_256",
        _ => "ECDSA_SHA_256",
    }
}

/// `Signature` of a Sign response, still base64, checked not empty.
pub(crate) fn signature(body: &[u8]) -> anyhow::Result<String> {
    let response = parse(body)?;
    let signature = base64_field(&response, "Signature")?;
    let decoded = BASE64
        .decode(signature)
        .context("Signature is not valid base64")?;
    if decoded.is_empty() {
        bail!("Signature is empty");
    }
    Ok(signature.to_owned())
}

/// Whether a Verify response says `SignatureValid: true`.
pub(crate) fn signature_valid(body: &[u8]) -> anyhow::Result<bool> {
    let response = parse(body)?;
    response
        .get("SignatureValid")
        .and_then(Value::as_bool)
        .context("no SignatureValid boolean")
}

fn parse(body: &[u8]) -> anyhow::Result<Value> {
    serde_json::from_slice(body).context("response body is not JSON")
}

fn base64_field<'a>(response: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    response
        .get(name)
        .and_then(Value::as_str)
        .with_context(|| format!("no {name} string"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(call: &Call) -> Value {
        serde_json::from_slice(&call.body).expect("requests are JSON")
    }

    #[test]
    fn requests_match_the_kms_wire() {
        let call = Call::encrypt("alias/a", b"hi");
        assert_eq!(call.target, "TrentService.Encrypt");
        assert_eq!(
            body(&call),
            json!({"KeyId": "alias/a", "Plaintext": "aGk="})
        );

        let call = Call::decrypt("AAEC");
        assert_eq!(call.target, "TrentService.Decrypt");
        assert_eq!(body(&call), json!({"CiphertextBlob": "AAEC"}));

        let call = Call::generate_data_key("k");
        assert_eq!(call.target, "TrentService.GenerateDataKey");
        assert_eq!(body(&call), json!({"KeyId": "k", "KeySpec": "AES_256"}));

        let call = Call::create_key();
        assert_eq!(call.target, "TrentService.CreateKey");
        assert_eq!(body(&call), json!({}));

        assert_eq!(Call::noop(b"x").target, "TrentService.Encrypt");

        let call = Call::sign("k", "ECDSA_SHA_256", b"hi");
        assert_eq!(call.target, "TrentService.Sign");
        assert_eq!(
            body(&call),
            json!({"KeyId": "k", "SigningAlgorithm": "ECDSA_SHA_256", "MessageType": "RAW", "Message": "aGk="})
        );
        let call = Call::verify("k", "ECDSA_SHA_256", b"hi", "AAEC");
        assert_eq!(call.target, "TrentService.Verify");
        assert_eq!(body(&call)["Signature"], "AAEC");
        let call = Call::generate_data_key_pair("k", "RSA_2048");
        assert_eq!(
            body(&call),
            json!({"KeyId": "k", "KeyPairSpec": "RSA_2048"})
        );
        let call = Call::create_signing_key("ML_DSA_65");
        assert_eq!(
            body(&call),
            json!({"KeySpec": "ML_DSA_65", "KeyUsage": "SIGN_VERIFY"})
        );
        assert_eq!(default_signing_algorithm("RSA_4096"), "RSASSA_PSS_SHA_256");
        assert_eq!(default_signing_algorithm("ML_DSA_44"), "ML_DSA_SHAKE_256");
    }

    #[test]
    fn plaintext_has_the_requested_size() {
        assert_eq!(plaintext(0).len(), 0);
        assert_eq!(plaintext(4096).len(), 4096);
        assert_eq!(plaintext(300)[251], 0);
    }

    #[test]
    fn parses_the_fields_used() {
        let created = br#"{"KeyMetadata":{"KeyId":"1234abcd","Arn":"arn:aws:kms:us-east-1:111122223333:key/1234abcd"}}"#;
        assert_eq!(created_key_id(created).expect("valid"), "1234abcd");

        let encrypted = br#"{"CiphertextBlob":"AAEC","KeyId":"arn:k","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#;
        assert_eq!(ciphertext_blob(encrypted).expect("valid"), "AAEC");

        let decrypted = br#"{"Plaintext":"aGk=","KeyId":"arn:k"}"#;
        assert_eq!(plaintext_field(decrypted).expect("valid"), b"hi");
    }

    #[test]
    fn bad_responses_are_errors_not_panics() {
        for body in [
            &b""[..],
            b"not json",
            b"[]",
            b"{}",
            br#"{"KeyMetadata":{}}"#,
            br#"{"KeyMetadata":{"KeyId":""}}"#,
            br#"{"KeyMetadata":{"KeyId":7}}"#,
        ] {
            assert!(created_key_id(body).is_err());
        }
        for body in [
            &b"{}"[..],
            br#"{"CiphertextBlob":""}"#,
            br#"{"CiphertextBlob":"%%%"}"#,
            br#"{"CiphertextBlob":null}"#,
        ] {
            assert!(ciphertext_blob(body).is_err());
        }
        assert!(plaintext_field(br#"{"Plaintext":"!"}"#).is_err());
    }
}
