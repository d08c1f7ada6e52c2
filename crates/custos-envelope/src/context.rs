//! The encryption context and its serialization.
//!
//! The encryption context is a map of UTF-8 strings that is authenticated
//! with the message (through the header tag, and by most keyrings as the
//! AAD of the data-key wrapping) and, except for "authenticate only"
//! entries, stored in the header.
//!
//! Serialization (`framework/structures.md`): empty map → no bytes at all;
//! otherwise a `u16` pair count, then for each pair in ascending order of the
//! key's UTF-8 bytes: `u16` key length, key, `u16` value length, value. In
//! the header it is preceded by its own `u16` length.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, FormatError};
use crate::wire::Cursor;

/// Keys starting with this prefix are reserved for the SDK itself.
pub const RESERVED_PREFIX: &str = "aws-crypto-";

/// The key under which signed messages carry the base64 of the signature
/// verification key (a compressed elliptic-curve point).
pub const PUBLIC_KEY_KEY: &str = "aws-crypto-public-key";

/// An encryption context. Ordered as the serialization requires: `String`
/// orders by UTF-8 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an entry, returning the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in serialization order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The entries whose key is in `keys`.
    pub fn filtered(&self, keys: &BTreeSet<String>) -> Self {
        Self(
            self.0
                .iter()
                .filter(|(k, _)| keys.contains(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// The entries whose key is not in `keys`.
    pub fn without(&self, keys: &BTreeSet<String>) -> Self {
        Self(
            self.0
                .iter()
                .filter(|(k, _)| !keys.contains(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    }

    /// The serialization: empty for an empty context, else the pair count
    /// and the sorted pairs. Fails if a count or length exceeds 16 bits, or
    /// if the whole would not fit the header's 16-bit length field.
    pub fn serialize(&self) -> Result<Vec<u8>, Error> {
        if self.0.is_empty() {
            return Ok(Vec::new());
        }
        let count = u16::try_from(self.0.len()).map_err(|_| Error::ContextTooLarge)?;
        let mut out = Vec::new();
        out.extend_from_slice(&count.to_be_bytes());
        for (k, v) in &self.0 {
            for s in [k, v] {
                let len = u16::try_from(s.len()).map_err(|_| Error::ContextTooLarge)?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
        if out.len() > usize::from(u16::MAX) {
            return Err(Error::ContextTooLarge);
        }
        Ok(out)
    }

    /// Parses a serialization of exactly `bytes.len()` bytes, as found in
    /// the header after its length field. Duplicate keys and invalid UTF-8
    /// are rejected; any order is accepted, since the header bytes are
    /// authenticated as they are.
    pub fn parse(bytes: &[u8]) -> Result<Self, FormatError> {
        let mut map = BTreeMap::new();
        if bytes.is_empty() {
            return Ok(Self(map));
        }
        let mut c = Cursor::new(bytes);
        let count = c.u16().ok_or(FormatError::ContextLength)?;
        if count == 0 {
            return Err(FormatError::EmptyContext);
        }
        for _ in 0..count {
            let key = c.u16_prefixed().ok_or(FormatError::ContextLength)?;
            let value = c.u16_prefixed().ok_or(FormatError::ContextLength)?;
            let key = String::from_utf8(key.to_vec()).map_err(|_| FormatError::InvalidUtf8)?;
            let value = String::from_utf8(value.to_vec()).map_err(|_| FormatError::InvalidUtf8)?;
            if map.contains_key(&key) {
                return Err(FormatError::DuplicateContextKey(key));
            }
            map.insert(key, value);
        }
        if !c.is_empty() {
            return Err(FormatError::ContextLength);
        }
        Ok(Self(map))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EncryptionContext {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of `data-format/message-header.md` (first three pairs;
    // the fourth, the public key, follows the same rule).
    #[test]
    fn serializes_sorted_with_lengths() {
        let ec: EncryptionContext = [
            ("2context", "example"),
            ("0This", "is"),
            ("1an", "encryption"),
        ]
        .into_iter()
        .collect();
        let bytes = ec.serialize().expect("serialize");
        assert_eq!(
            hex::encode(&bytes),
            "0003\
             0005305468697300026973\
             000331616e000a656e6372797074696f6e\
             000832636f6e7465787400076578616d706c65"
        );
        assert_eq!(EncryptionContext::parse(&bytes).expect("parse"), ec);
        assert_eq!(EncryptionContext::new().serialize().expect("empty"), b"");
        assert_eq!(
            EncryptionContext::parse(b"").expect("empty"),
            EncryptionContext::new()
        );
    }

    #[test]
    fn orders_by_utf8_bytes() {
        let ec: EncryptionContext = [("é", "1"), ("z", "2"), ("A", "3")].into_iter().collect();
        let keys: Vec<_> = ec.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["A", "z", "é"]);
    }

    #[test]
    fn rejects_malformed() {
        let good = [("a", "b")].into_iter().collect::<EncryptionContext>();
        let bytes = good.serialize().expect("serialize");
        assert_eq!(
            EncryptionContext::parse(&[0, 0]),
            Err(FormatError::EmptyContext)
        );
        assert_eq!(
            EncryptionContext::parse(&bytes[..bytes.len() - 1]),
            Err(FormatError::ContextLength)
        );
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            EncryptionContext::parse(&long),
            Err(FormatError::ContextLength)
        );
        let dup = hex::decode("0002000161000162000161000163").expect("hex");
        assert_eq!(
            EncryptionContext::parse(&dup),
            Err(FormatError::DuplicateContextKey("a".into()))
        );
        let bad_utf8 = hex::decode("00010001ff000162").expect("hex");
        assert_eq!(
            EncryptionContext::parse(&bad_utf8),
            Err(FormatError::InvalidUtf8)
        );
    }

    #[test]
    fn refuses_to_serialize_what_does_not_fit() {
        let big: EncryptionContext = [("k", "v".repeat(70_000))].into_iter().collect();
        assert!(matches!(big.serialize(), Err(Error::ContextTooLarge)));
        let total: EncryptionContext = (0..3)
            .map(|i| (format!("k{i}"), "v".repeat(30_000)))
            .collect();
        assert!(matches!(total.serialize(), Err(Error::ContextTooLarge)));
    }
}
