//! Failures as one line a user can act on.
//!
//! The envelope crate's errors are precise but terse, and deliberately
//! opaque where cryptography failed. Here they are put in terms of what
//! the user did: which flag to change, which key the file wants, whether
//! the file was altered. Nothing secret is shown: encryption contexts and
//! key identifiers are stored in the clear in every message.

use custos_envelope::{EncryptedDataKey, EncryptionContext, Error, Header, KeyringError};

use super::suite_name;
use crate::aws_kms::keyring::{DecryptFailures, KmsError};

/// What the user asked for, to phrase the explanation.
#[derive(Debug, Default)]
pub(crate) struct Situation<'a> {
    pub(crate) decrypting: bool,
    /// The header as parsed (decrypting; not authenticated).
    pub(crate) header: Option<&'a Header>,
    /// `-c key=value` pairs.
    pub(crate) expected: Option<&'a EncryptionContext>,
    /// `-c key` (bare keys).
    pub(crate) required_keys: &'a [String],
    pub(crate) decrypt_unsigned: bool,
    /// The output, when it is written directly (a device or FIFO).
    pub(crate) stream: Option<&'a str>,
}

/// One line for `e`.
pub(crate) fn explain(e: &Error, s: &Situation<'_>) -> String {
    match e {
        Error::Keyring(k) => keyring(k, s),
        Error::AuthenticationFailed => {
            let mut m = "the file failed authentication: it was modified or damaged".to_owned();
            if let Some(extra) = unstored_context(s) {
                m.push_str(&format!(
                    ", or the encryption context is wrong (-c {extra}: not stored in the file, \
                     so it must be exactly what was given when encrypting)"
                ));
            }
            m
        }
        Error::ContextMismatch => context_mismatch(s),
        Error::Truncated if s.header.is_none() => {
            "the input ends inside the header: it is empty, truncated, or not an encrypted file"
                .to_owned()
        }
        Error::Truncated => {
            "the file is truncated: it ends before the end of the message".to_owned()
        }
        Error::TrailingBytes => "there is data after the end of the message: the file was \
                                 altered, or holds more than one message"
            .to_owned(),
        Error::Malformed(f) => {
            format!("not an AWS Encryption SDK message, or a damaged one: {f}")
        }
        Error::Base64Input => "the input looks base64-encoded (aws-encryption-cli --encode?): \
                               decode it first (base64 -d)"
            .to_owned(),
        Error::CommitmentPolicy { suite, .. } if s.decrypting => format!(
            "the file uses algorithm suite {} ({suite}), which does not commit to its key; \
             to decrypt it anyway, pass --commitment-policy require-encrypt-allow-decrypt",
            suite_name(*suite)
        ),
        Error::CommitmentPolicy { suite, .. } if suite.is_committing() => format!(
            "--algorithm {} commits to its key, which --commitment-policy \
             forbid-encrypt-allow-decrypt forbids",
            suite_name(*suite)
        ),
        Error::CommitmentPolicy { suite, .. } => format!(
            "--algorithm {} does not commit to its key: to use it, also pass \
             --commitment-policy forbid-encrypt-allow-decrypt",
            suite_name(*suite)
        ),
        Error::SignedMessageRefused if s.decrypt_unsigned => {
            "the file is signed, and --decrypt-unsigned refuses signed messages".to_owned()
        }
        Error::SignedMessageRefused => format!(
            "the file is signed: its plaintext cannot go to {} before the signature at its end \
             is verified; decrypt to a file, or pass --buffer to hold the plaintext in memory \
             until then",
            s.stream.unwrap_or("standard output")
        ),
        Error::TooManyEncryptedDataKeys { limit } if s.decrypting => format!(
            "the file has more than {limit} encrypted data keys (--max-encrypted-data-keys)"
        ),
        Error::TooManyEncryptedDataKeys { limit } => format!(
            "the wrapping keys make more than {limit} encrypted data keys \
             (--max-encrypted-data-keys)"
        ),
        Error::FrameTooLarge { length, limit } => format!(
            "the file's frames are {length} bytes, over the limit of {limit}: raise --max-length \
             if the file is trusted"
        ),
        Error::ReservedContextKey(k) => {
            format!("-c {k}: keys starting with aws-crypto- are reserved")
        }
        Error::Io(io) => format!("I/O error: {io}"),
        other => other.to_string(),
    }
}

fn keyring(k: &KeyringError, s: &Situation<'_>) -> String {
    match k {
        KeyringError::Other(inner) => {
            if let Some(f) = inner.downcast_ref::<DecryptFailures>() {
                return kms_failures(f, s);
            }
            if let Some(e) = inner.downcast_ref::<KmsError>() {
                return kms(e, s);
            }
            inner.to_string()
        }
        KeyringError::UnableToDecrypt => {
            let mut m = "none of the wrapping keys given with -w can decrypt this file".to_owned();
            if let Some(h) = s.header {
                m.push_str("; it was encrypted for ");
                m.push_str(&describe_keys(h.encrypted_data_keys()));
            }
            if let Some(extra) = unstored_context(s) {
                m.push_str(&format!(
                    " (or -c {extra} is wrong: those entries are not stored in the file)"
                ));
            }
            m
        }
        other => other.to_string(),
    }
}

fn kms_failures(f: &DecryptFailures, s: &Situation<'_>) -> String {
    // Lead with the most telling failure; the others follow.
    let lead =
        f.0.iter()
            .find(|e| e.code().is_some())
            .or(f.0.first())
            .map(|e| kms(e, s));
    match (lead, f.0.len()) {
        (Some(lead), 1) => lead,
        (Some(lead), _) => format!("{lead} (all attempts: {f})"),
        (None, _) => f.to_string(),
    }
}

fn kms(e: &KmsError, s: &Situation<'_>) -> String {
    let hint = match e.code() {
        Some("AccessDeniedException") => "permission denied: this identity may not use the key",
        Some("InvalidCiphertextException") if s.decrypting => {
            "KMS cannot decrypt the data key: the encryption context is wrong, or the file was \
             altered"
        }
        Some("IncorrectKeyException") => "the data key was not encrypted under this key",
        Some("NotFoundException") => "no such KMS key",
        Some("DisabledException") => "the KMS key is disabled",
        Some("KMSInvalidStateException") => {
            "the KMS key cannot be used in its current state (pending deletion?)"
        }
        Some("InvalidKeyUsageException") => "the KMS key cannot be used for this operation",
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "InvalidClientTokenId"
            | "ExpiredTokenException",
        ) => "KMS does not accept the credentials",
        Some(_) => "KMS refused",
        None => match e {
            KmsError::Unreachable { .. } => "cannot use AWS KMS",
            _ => "",
        },
    };
    if hint.is_empty() {
        e.to_string()
    } else {
        format!("{hint}: {e}")
    }
}

fn context_mismatch(s: &Situation<'_>) -> String {
    let Some(header) = s.header else {
        return "the encryption context does not match the file's".to_owned();
    };
    let stored = header.stored_encryption_context();
    let mut problems = Vec::new();
    if let Some(expected) = s.expected {
        for (k, v) in expected.iter() {
            if let Some(found) = stored.get(k)
                && found != v
            {
                problems.push(format!("{k}={v} but the file has {k}={found}"));
            }
        }
    }
    for k in s.required_keys {
        if !stored.contains_key(k) {
            problems.push(format!("{k} is not in the file's"));
        }
    }
    if problems.is_empty() {
        return "the encryption context does not match the file's".to_owned();
    }
    format!("wrong encryption context: -c {}", problems.join("; "))
}

/// The `-c key=value` entries the file does not store, if any: they are
/// then authenticate-only entries, and the likeliest culprit of a failure.
fn unstored_context(s: &Situation<'_>) -> Option<String> {
    let expected = s.expected?;
    let header = s.header?;
    let stored = header.stored_encryption_context();
    let extra: Vec<_> = expected
        .iter()
        .filter(|(k, _)| !stored.contains_key(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    (!extra.is_empty()).then(|| extra.join(" "))
}

/// "KMS key arn:…, raw key custos/backup": the keys a file's data keys
/// are wrapped under.
pub(crate) fn describe_keys(edks: &[EncryptedDataKey]) -> String {
    edks.iter().map(describe_key).collect::<Vec<_>>().join(", ")
}

pub(crate) fn describe_key(edk: &EncryptedDataKey) -> String {
    let info = &edk.provider_info;
    // Escaped: a file must not be able to drive the terminal.
    if edk.provider_id == "aws-kms" {
        return format!("KMS key {}", String::from_utf8_lossy(info).escape_debug());
    }
    // Raw AES provider info: name ‖ tag bits (128) ‖ IV length (12) ‖ IV.
    let raw_aes_tail: [u8; 8] = [0, 0, 0, 128, 0, 0, 0, 12];
    let name = match info.len().checked_sub(20) {
        Some(n) if info[n..n + 8] == raw_aes_tail => &info[..n],
        _ => &info[..],
    };
    format!(
        "raw key {}/{}",
        edk.provider_id.escape_debug(),
        String::from_utf8_lossy(name).escape_debug()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_raw_and_kms_keys() {
        let kms = EncryptedDataKey {
            provider_id: "aws-kms".into(),
            provider_info: b"arn:aws:kms:us-east-1:1:key/k".to_vec(),
            ciphertext: vec![],
        };
        let mut info = b"backup".to_vec();
        info.extend_from_slice(&[0, 0, 0, 128, 0, 0, 0, 12]);
        info.extend_from_slice(&[1; 12]);
        let aes = EncryptedDataKey {
            provider_id: "custos".into(),
            provider_info: info,
            ciphertext: vec![],
        };
        let rsa = EncryptedDataKey {
            provider_id: "team".into(),
            provider_info: b"rsa-1".to_vec(),
            ciphertext: vec![],
        };
        assert_eq!(
            describe_keys(&[kms, aes, rsa]),
            "KMS key arn:aws:kms:us-east-1:1:key/k, raw key custos/backup, raw key team/rsa-1"
        );
    }

    #[test]
    fn every_explanation_is_one_line() {
        let s = Situation::default();
        for e in [
            Error::AuthenticationFailed,
            Error::Truncated,
            Error::TrailingBytes,
            Error::ContextMismatch,
            Error::SignedMessageRefused,
            Error::Keyring(KeyringError::UnableToDecrypt),
            Error::FrameTooLarge {
                length: 1 << 30,
                limit: 1 << 24,
            },
        ] {
            let m = explain(&e, &s);
            assert!(!m.contains('\n'), "{m}");
            assert!(!m.is_empty());
        }
    }
}
