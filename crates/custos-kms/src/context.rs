//! Encryption context: the canonical, unambiguous bytes that are bound to a
//! ciphertext as associated data.
//!
//! Pairs are sorted by key (byte order; keys are unique in a JSON object),
//! then written as
//!
//! ```text
//! u32 count || for each pair: u32 len(key) || key || u32 len(value) || value
//! ```
//!
//! with big-endian lengths. Length prefixes make the encoding injective: no
//! two different contexts share an encoding (unlike `k=v,` joins, where
//! `{"a":"b,c=d"}` and `{"a":"b","c":"d"}` would collide). A missing context
//! and `{}` both encode as four zero bytes, as on AWS where they are the same.

use std::collections::BTreeMap;

/// An encryption context, ordered by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    pub fn new(map: BTreeMap<String, String>) -> Self {
        Self(map)
    }

    /// The canonical encoding, appended to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        // u32 cannot overflow: a request body is at most a few hundred KiB.
        out.extend_from_slice(&(self.0.len() as u32).to_be_bytes());
        for (k, v) in &self.0 {
            out.extend_from_slice(&(k.len() as u32).to_be_bytes());
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&(v.len() as u32).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The pairs, ordered by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(pairs: &[(&str, &str)]) -> Vec<u8> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut out = Vec::new();
        EncryptionContext::new(map).encode_into(&mut out);
        out
    }

    #[test]
    fn empty_is_four_zero_bytes() {
        assert_eq!(enc(&[]), vec![0, 0, 0, 0]);
        let mut out = Vec::new();
        EncryptionContext::default().encode_into(&mut out);
        assert_eq!(out, vec![0, 0, 0, 0]);
    }

    #[test]
    fn order_of_insertion_does_not_matter() {
        assert_eq!(
            enc(&[("b", "2"), ("a", "1")]),
            enc(&[("a", "1"), ("b", "2")])
        );
    }

    #[test]
    fn is_injective_on_tricky_pairs() {
        let cases: &[&[(&str, &str)]] = &[
            &[("a", "b,c=d")],
            &[("a", "b"), ("c", "d")],
            &[("ab", "")],
            &[("a", "b")],
            &[("", "ab")],
            &[("a", "")],
            &[("", "")],
            &[],
        ];
        let encoded: Vec<Vec<u8>> = cases.iter().map(|c| enc(c)).collect();
        for i in 0..encoded.len() {
            for j in i + 1..encoded.len() {
                assert_ne!(encoded[i], encoded[j], "{:?} vs {:?}", cases[i], cases[j]);
            }
        }
    }

    #[test]
    fn known_encoding() {
        assert_eq!(
            enc(&[("k", "v")]),
            vec![0, 0, 0, 1, 0, 0, 0, 1, b'k', 0, 0, 0, 1, b'v']
        );
    }
}
