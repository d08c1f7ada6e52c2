//! The little DER Custos writes and reads itself: X.509
//! `SubjectPublicKeyInfo` (RFC 5280) and PKCS #8 `OneAsymmetricKey`
//! (RFC 5958) for the key types whose encodings aws-lc-rs does not expose
//! (ML-KEM), and the split of a `SubjectPublicKeyInfo` into its algorithm
//! identifier and key bits for the raw-key primitives (Ed25519ph, ML-DSA
//! with external μ).
//!
//! The reader is strict: definite lengths in minimal form, no trailing
//! bytes, a `BIT STRING` without unused bits. Anything else is an error.

use crate::Error;

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const INTEGER: u8 = 0x02;
const OBJECT_IDENTIFIER: u8 = 0x06;

/// A tag-length-value with the given content.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER }`, with
/// the parameters absent (as for every post-quantum and Edwards key).
fn algorithm(oid: &[u8]) -> Vec<u8> {
    tlv(SEQUENCE, &tlv(OBJECT_IDENTIFIER, oid))
}

/// A `SubjectPublicKeyInfo` for the algorithm `oid` (content octets of the
/// OBJECT IDENTIFIER) and the raw public key.
pub(crate) fn spki(oid: &[u8], public_key: &[u8]) -> Vec<u8> {
    let mut bits = Vec::with_capacity(public_key.len() + 1);
    bits.push(0); // no unused bits
    bits.extend_from_slice(public_key);
    let mut content = algorithm(oid);
    content.extend(tlv(BIT_STRING, &bits));
    tlv(SEQUENCE, &content)
}

/// A PKCS #8 v1 `PrivateKeyInfo` for the algorithm `oid` whose
/// `privateKey` OCTET STRING holds `private_key` (already encoded as the
/// algorithm's own structure). The result is secret.
pub(crate) fn pkcs8(oid: &[u8], private_key: &[u8]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut content = zeroize::Zeroizing::new(tlv(INTEGER, &[0]));
    content.extend(algorithm(oid));
    let inner = zeroize::Zeroizing::new(tlv(OCTET_STRING, private_key));
    content.extend_from_slice(&inner);
    zeroize::Zeroizing::new(tlv(SEQUENCE, &content))
}

/// Reads one TLV with the expected tag; returns its content and the rest.
fn read(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Error> {
    let (&t, rest) = input.split_first().ok_or(Error)?;
    if t != tag {
        return Err(Error);
    }
    let (&first, rest) = rest.split_first().ok_or(Error)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n || rest[0] == 0 {
            return Err(Error);
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        if len < 0x80 {
            return Err(Error); // not minimal
        }
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(Error);
    }
    Ok(rest.split_at(len))
}

/// The content octets of the `AlgorithmIdentifier` of a
/// `SubjectPublicKeyInfo` (OBJECT IDENTIFIER and parameters).
pub(crate) fn spki_algorithm(der: &[u8]) -> Result<&[u8], Error> {
    let (spki, rest) = read(der, SEQUENCE)?;
    if !rest.is_empty() {
        return Err(Error);
    }
    let (alg, rest) = read(spki, SEQUENCE)?;
    read(rest, BIT_STRING)?;
    Ok(alg)
}

/// Splits a `SubjectPublicKeyInfo` into the content octets of its algorithm
/// OBJECT IDENTIFIER and its public key bits. Parameters must be absent.
pub(crate) fn split_spki(der: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let (spki, rest) = read(der, SEQUENCE)?;
    if !rest.is_empty() {
        return Err(Error);
    }
    let (alg, rest) = read(spki, SEQUENCE)?;
    let (oid, params) = read(alg, OBJECT_IDENTIFIER)?;
    if !params.is_empty() {
        return Err(Error);
    }
    let (bits, rest) = read(rest, BIT_STRING)?;
    if !rest.is_empty() {
        return Err(Error);
    }
    match bits.split_first() {
        Some((0, key)) => Ok((oid, key)),
        _ => Err(Error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_minimal_and_round_trip() {
        for len in [0usize, 1, 127, 128, 255, 256, 1568, 70_000] {
            let content = vec![0xab; len];
            let encoded = tlv(OCTET_STRING, &content);
            let (read_back, rest) = read(&encoded, OCTET_STRING).expect("read");
            assert_eq!(read_back.len(), len);
            assert!(rest.is_empty());
        }
        assert_eq!(tlv(OCTET_STRING, &[0; 128])[..3], [0x04, 0x81, 0x80]);
        // Non-minimal and indefinite lengths are refused.
        assert!(read(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5], OCTET_STRING).is_err());
        assert!(read(&[0x04, 0x80, 0, 0], OCTET_STRING).is_err());
        assert!(read(&[0x04, 0x05, 1], OCTET_STRING).is_err());
    }

    // The Ed25519 public key of RFC 8032 section 7.1, test 1, in the
    // SubjectPublicKeyInfo of RFC 8410 section 4 (checked with
    // `openssl pkey -pubin -inform DER -text`).
    #[test]
    fn splits_an_ed25519_spki() {
        let der = hex::decode(
            "302a300506032b6570032100\
             d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        )
        .expect("hex");
        let (oid, key) = split_spki(&der).expect("spki");
        assert_eq!(oid, [0x2b, 0x65, 0x70]);
        assert_eq!(key.len(), 32);
        assert_eq!(spki(oid, key), der);
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(split_spki(&trailing).is_err());
        let mut unused_bits = der;
        unused_bits[11] = 1;
        assert!(split_spki(&unused_bits).is_err());
    }
}
