//! The signing key and the signature: the only code that sees the secret.
//!
//! Every intermediate key is wiped when it goes out of scope, and the
//! expected signature is compared in constant time and then wiped too: it is
//! a valid credential for this very request, so it must not linger or leak.

use custos_crypto::SecretBytes;
use custos_crypto::ct;
use custos_crypto::mac::{SHA256_LEN, hmac_sha256};
use zeroize::Zeroizing;

/// The terminator of every SigV4 credential scope.
pub(crate) const AWS4_REQUEST: &str = "aws4_request";

/// The algorithm name, first line of the string to sign.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The credential scope a signing key is derived for.
pub(crate) struct Scope<'a> {
    /// `yyyymmdd`.
    pub(crate) date: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
}

/// A derived SigV4 signing key (`kSigning`) and the scope it is for.
///
/// Deriving one costs four HMACs; a verifier may keep it for the day it
/// names (AWS's own SDKs cache it the same way), and hand it to
/// [`crate::SignedRequest::verify_with_key`]. It is as sensitive as the
/// secret for that day, region and service: zeroized on drop, no `Debug`
/// content, no `Clone`.
pub struct SigningKey {
    key: Zeroizing<[u8; SHA256_LEN]>,
    date: String,
    region: String,
    service: String,
}

impl SigningKey {
    /// Derives the key of `secret` for the scope `date` (`yyyymmdd`),
    /// `region`, `service`.
    pub fn derive(secret: &SecretBytes, date: &str, region: &str, service: &str) -> Self {
        let scope = Scope {
            date,
            region,
            service,
        };
        Self {
            key: signing_key(secret, &scope),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
        }
    }

    /// Whether this key is for exactly this scope.
    pub fn is_for(&self, date: &str, region: &str, service: &str) -> bool {
        self.date == date && self.region == region && self.service == service
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("date", &self.date)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// Whether `provided` (hex, as the client sent it) is the signature of
/// `string_to_sign` under `signing_key`.
pub(crate) fn signature_matches(
    signing_key: &SigningKey,
    string_to_sign: &[u8],
    provided: &[u8],
) -> bool {
    let mac = Zeroizing::new(hmac_sha256(&*signing_key.key, string_to_sign));
    // `as_slice`: encoding from the array by value would leave an unwiped copy.
    let expected = Zeroizing::new(hex::encode(mac.as_slice()));
    // AWS signatures are lowercase hex; any other spelling is refused.
    ct::eq(expected.as_bytes(), provided)
}

/// `kSigning`: HMAC chain `"AWS4" + secret` → date → region → service →
/// `"aws4_request"`.
fn signing_key(secret: &SecretBytes, scope: &Scope<'_>) -> Zeroizing<[u8; SHA256_LEN]> {
    // Sized up front: a reallocation would leave an unwiped copy of the
    // secret behind in the old buffer.
    let mut seed = Vec::with_capacity(4 + secret.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose_secret());
    let seed = SecretBytes::new(seed);

    let date_key = Zeroizing::new(hmac_sha256(seed.expose_secret(), scope.date.as_bytes()));
    let region_key = Zeroizing::new(hmac_sha256(&*date_key, scope.region.as_bytes()));
    let service_key = Zeroizing::new(hmac_sha256(&*region_key, scope.service.as_bytes()));
    Zeroizing::new(hmac_sha256(&*service_key, AWS4_REQUEST.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the AWS General Reference ("Examples of how to
    /// derive a signing key for Signature Version 4"): secret
    /// `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, 20120215, us-east-1, iam.
    #[test]
    fn signing_key_known_answer() {
        let secret = SecretBytes::from_slice(b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let key = signing_key(
            &secret,
            &Scope {
                date: "20120215",
                region: "us-east-1",
                service: "iam",
            },
        );
        assert_eq!(
            hex::encode(*key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    /// The `get-vanilla` case of the AWS test suite.
    #[test]
    fn signature_known_answer() {
        let secret = SecretBytes::from_slice(b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let key = SigningKey::derive(&secret, "20150830", "us-east-1", "service");
        let string_to_sign = b"AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
        let signature = b"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        assert!(signature_matches(&key, string_to_sign, signature));
        let uppercase = signature.to_ascii_uppercase();
        assert!(!signature_matches(&key, string_to_sign, &uppercase));
        assert!(!signature_matches(&key, string_to_sign, &signature[1..]));
        assert!(!signature_matches(&key, string_to_sign, b""));
        let other = SecretBytes::from_slice(b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
        let other_key = SigningKey::derive(&other, "20150830", "us-east-1", "service");
        assert!(!signature_matches(&other_key, string_to_sign, signature));
        assert!(key.is_for("20150830", "us-east-1", "service"));
        assert!(!key.is_for("20150831", "us-east-1", "service"));
        assert!(!format!("{key:?}").contains(&hex::encode(*key.key)));
    }
}
