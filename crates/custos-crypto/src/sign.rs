//! Signature key pairs of every kind AWS KMS offers, and the exact
//! signature schemes of its `SigningAlgorithmSpec`s:
//!
//! | kind | schemes | signature |
//! |---|---|---|
//! | RSA 2048/3072/4096 | RSASSA-PSS (MGF1 with the same hash, salt = hash length), RSASSA-PKCS1-v1_5 (DigestInfo), SHA-256/384/512 | modulus-sized |
//! | ECDSA P-256, P-384, P-521, secp256k1 | ECDSA with SHA-256/384/512 | DER `ECDSA-Sig-Value` |
//! | Ed25519 | Ed25519 (RFC 8032 PureEdDSA), Ed25519ph (HashEdDSA, SHA-512, empty context) | 64 bytes |
//! | ML-DSA-44/65/87 | ML-DSA (FIPS 204, empty context), on the message or on an external μ | 2420/3309/4627 bytes |
//!
//! What is signed is a [`SignInput`]: the whole message (hashed here), a
//! digest the caller computed (signed as is: never hashed again), or an
//! ML-DSA μ. Which inputs go with which scheme is the caller's rule; a
//! combination that has no meaning (a digest of the wrong length, μ for
//! RSA…) is an [`Error`] here too.
//!
//! Private keys leave this module only as [`SecretBytes`], in the form
//! [`SigningKey::private_bytes`] documents, for sealing; public keys as DER
//! `SubjectPublicKeyInfo`.

use std::fmt;

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, PqdsaKeyPair};
use zeroize::Zeroizing;

use crate::ffi::{self, MlDsaNid};
use crate::{Error, SecretBytes, der};

/// The kind of a signing key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningKeyKind {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    EcdsaSecp256k1,
    Ed25519,
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

/// A hash function of the SHA-2 family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sha2 {
    Sha256,
    Sha384,
    Sha512,
}

impl Sha2 {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    fn algorithm(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }

    /// The hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.algorithm(), data).as_ref().to_vec()
    }
}

/// A signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// RSASSA-PSS, MGF1 with the same hash, salt as long as the hash.
    RsaPss(Sha2),
    /// RSASSA-PKCS1-v1_5: the hash in a `DigestInfo`, padded.
    RsaPkcs1(Sha2),
    /// ECDSA with a DER signature.
    Ecdsa(Sha2),
    /// PureEdDSA over Ed25519.
    Ed25519,
    /// HashEdDSA over Ed25519 (Ed25519ph): SHA-512 of the input, then signed.
    Ed25519ph,
    /// ML-DSA, pure mode, empty context.
    MlDsa,
}

/// What is signed or verified.
#[derive(Debug, Clone, Copy)]
pub enum SignInput<'a> {
    /// A message, hashed by the scheme.
    Message(&'a [u8]),
    /// A digest of the scheme's hash, computed by the caller; signed as is.
    Digest(&'a [u8]),
    /// An ML-DSA message representative μ (64 bytes).
    ExternalMu(&'a [u8]),
}

/// An ECDSA curve and the hash of its signing algorithm object in aws-lc-rs.
fn ecdsa_signing(kind: SigningKeyKind) -> Option<&'static sig::EcdsaSigningAlgorithm> {
    // aws-lc-rs names each signing algorithm after a hash, but the hash only
    // matters to `sign`; `sign_digest` takes any digest of that hash, and
    // Custos always passes the digest of the hash the scheme names.
    match kind {
        SigningKeyKind::EcdsaP256 => Some(&sig::ECDSA_P256_SHA256_ASN1_SIGNING),
        SigningKeyKind::EcdsaP384 => Some(&sig::ECDSA_P384_SHA384_ASN1_SIGNING),
        SigningKeyKind::EcdsaP521 => Some(&sig::ECDSA_P521_SHA512_ASN1_SIGNING),
        SigningKeyKind::EcdsaSecp256k1 => Some(&sig::ECDSA_P256K1_SHA256_ASN1_SIGNING),
        _ => None,
    }
}

fn ecdsa_verification(
    kind: SigningKeyKind,
    hash: Sha2,
) -> Option<&'static sig::EcdsaVerificationAlgorithm> {
    use SigningKeyKind::*;
    match (kind, hash) {
        (EcdsaP256, Sha2::Sha256) => Some(&sig::ECDSA_P256_SHA256_ASN1),
        (EcdsaP384, Sha2::Sha384) => Some(&sig::ECDSA_P384_SHA384_ASN1),
        (EcdsaP521, Sha2::Sha512) => Some(&sig::ECDSA_P521_SHA512_ASN1),
        (EcdsaSecp256k1, Sha2::Sha256) => Some(&sig::ECDSA_P256K1_SHA256_ASN1),
        _ => None,
    }
}

fn rsa_encoding(scheme: SignatureScheme) -> Option<&'static sig::RsaSignatureEncoding> {
    Some(match scheme {
        SignatureScheme::RsaPss(Sha2::Sha256) => &sig::RSA_PSS_SHA256,
        SignatureScheme::RsaPss(Sha2::Sha384) => &sig::RSA_PSS_SHA384,
        SignatureScheme::RsaPss(Sha2::Sha512) => &sig::RSA_PSS_SHA512,
        SignatureScheme::RsaPkcs1(Sha2::Sha256) => &sig::RSA_PKCS1_SHA256,
        SignatureScheme::RsaPkcs1(Sha2::Sha384) => &sig::RSA_PKCS1_SHA384,
        SignatureScheme::RsaPkcs1(Sha2::Sha512) => &sig::RSA_PKCS1_SHA512,
        _ => return None,
    })
}

fn rsa_parameters(scheme: SignatureScheme) -> Option<&'static sig::RsaParameters> {
    Some(match scheme {
        SignatureScheme::RsaPss(Sha2::Sha256) => &sig::RSA_PSS_2048_8192_SHA256,
        SignatureScheme::RsaPss(Sha2::Sha384) => &sig::RSA_PSS_2048_8192_SHA384,
        SignatureScheme::RsaPss(Sha2::Sha512) => &sig::RSA_PSS_2048_8192_SHA512,
        SignatureScheme::RsaPkcs1(Sha2::Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        SignatureScheme::RsaPkcs1(Sha2::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        SignatureScheme::RsaPkcs1(Sha2::Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        _ => return None,
    })
}

fn ml_dsa(kind: SigningKeyKind) -> Option<(MlDsaNid, &'static sig::PqdsaSigningAlgorithm)> {
    match kind {
        SigningKeyKind::MlDsa44 => Some((MlDsaNid::MlDsa44, &sig::ML_DSA_44_SIGNING)),
        SigningKeyKind::MlDsa65 => Some((MlDsaNid::MlDsa65, &sig::ML_DSA_65_SIGNING)),
        SigningKeyKind::MlDsa87 => Some((MlDsaNid::MlDsa87, &sig::ML_DSA_87_SIGNING)),
        _ => None,
    }
}

fn ml_dsa_verification(kind: SigningKeyKind) -> Option<&'static sig::PqdsaVerificationAlgorithm> {
    match kind {
        SigningKeyKind::MlDsa44 => Some(&sig::ML_DSA_44),
        SigningKeyKind::MlDsa65 => Some(&sig::ML_DSA_65),
        SigningKeyKind::MlDsa87 => Some(&sig::ML_DSA_87),
        _ => None,
    }
}

/// The OBJECT IDENTIFIER contents of the Edwards and ML-DSA public keys.
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
fn ml_dsa_oid(kind: SigningKeyKind) -> &'static [u8] {
    // id-ml-dsa-44/65/87 ::= 2.16.840.1.101.3.4.3.17/18/19 (FIPS 204, RFC 9881).
    match kind {
        SigningKeyKind::MlDsa44 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11],
        SigningKeyKind::MlDsa65 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12],
        _ => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13],
    }
}

enum Pair {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ecdsa(EcdsaKeyPair),
    /// The 32-byte seed is kept: Ed25519ph signs through `ffi` with it.
    Ed25519(Ed25519KeyPair, Zeroizing<[u8; 32]>),
    /// The 32-byte seed is kept: the external-μ form signs through `ffi`.
    MlDsa(PqdsaKeyPair, Zeroizing<[u8; 32]>),
}

/// A signing key pair. aws-lc holds the private key and wipes it when the
/// pair is dropped; there is no `Clone`, and `Debug` shows only the kind.
pub struct SigningKey {
    pair: Pair,
    kind: SigningKeyKind,
}

impl SigningKey {
    /// A fresh key pair from the system CSPRNG.
    pub fn generate(kind: SigningKeyKind) -> Result<Self, Error> {
        use SigningKeyKind::*;
        let pair = match kind {
            Rsa2048 | Rsa3072 | Rsa4096 => {
                let size = match kind {
                    Rsa2048 => KeySize::Rsa2048,
                    Rsa3072 => KeySize::Rsa3072,
                    _ => KeySize::Rsa4096,
                };
                Pair::Rsa(aws_lc_rs::rsa::KeyPair::generate(size)?)
            }
            EcdsaP256 | EcdsaP384 | EcdsaP521 | EcdsaSecp256k1 => {
                Pair::Ecdsa(EcdsaKeyPair::generate(ecdsa_signing(kind).ok_or(Error)?)?)
            }
            Ed25519 | MlDsa44 | MlDsa65 | MlDsa87 => {
                let seed: Zeroizing<[u8; 32]> = Zeroizing::new(crate::rand::array()?);
                return Self::from_private_bytes(kind, &seed[..]);
            }
        };
        Ok(Self { pair, kind })
    }

    /// A key pair from what [`Self::private_bytes`] returned.
    pub fn from_private_bytes(kind: SigningKeyKind, bytes: &[u8]) -> Result<Self, Error> {
        use SigningKeyKind::*;
        let pair = match kind {
            Rsa2048 | Rsa3072 | Rsa4096 => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(bytes).map_err(|_| Error)?;
                if pair.public_modulus_len() * 8 != rsa_bits(kind) {
                    return Err(Error);
                }
                Pair::Rsa(pair)
            }
            EcdsaP256 | EcdsaP384 | EcdsaP521 | EcdsaSecp256k1 => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(ecdsa_signing(kind).ok_or(Error)?, bytes)
                    .map_err(|_| Error)?,
            ),
            Ed25519 => {
                let seed: [u8; 32] = bytes.try_into().map_err(|_| Error)?;
                let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| Error)?;
                Pair::Ed25519(pair, Zeroizing::new(seed))
            }
            MlDsa44 | MlDsa65 | MlDsa87 => {
                let (_, alg) = ml_dsa(kind).ok_or(Error)?;
                let seed: [u8; 32] = bytes.try_into().map_err(|_| Error)?;
                let pair = PqdsaKeyPair::from_seed(alg, &seed).map_err(|_| Error)?;
                Pair::MlDsa(pair, Zeroizing::new(seed))
            }
        };
        Ok(Self { pair, kind })
    }

    pub fn kind(&self) -> SigningKeyKind {
        self.kind
    }

    /// The private key, for sealing: PKCS #8 `PrivateKeyInfo` DER for RSA
    /// and ECDSA keys, the 32-byte seed for Ed25519 and ML-DSA keys.
    pub fn private_bytes(&self) -> Result<SecretBytes, Error> {
        match &self.pair {
            Pair::Ed25519(_, seed) | Pair::MlDsa(_, seed) => Ok(SecretBytes::from_slice(&seed[..])),
            _ => self.to_pkcs8(),
        }
    }

    /// The private key as PKCS #8 v1 `PrivateKeyInfo` DER, for every kind
    /// (ML-DSA in the seed form).
    pub fn to_pkcs8(&self) -> Result<SecretBytes, Error> {
        let der: Pkcs8V1Der<'static> = match &self.pair {
            Pair::Rsa(pair) => pair.as_der()?,
            Pair::Ecdsa(pair) => {
                let doc = pair.to_pkcs8v1()?;
                return Ok(SecretBytes::from_slice(doc.as_ref()));
            }
            Pair::Ed25519(pair, _) => {
                let doc = pair.to_pkcs8v1()?;
                return Ok(SecretBytes::from_slice(doc.as_ref()));
            }
            Pair::MlDsa(pair, _) => {
                let doc = pair.to_pkcs8v1()?;
                return Ok(SecretBytes::from_slice(doc.as_ref()));
            }
        };
        Ok(SecretBytes::from_slice(der.as_ref()))
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Result<Vec<u8>, Error> {
        let der: PublicKeyX509Der<'static> = match &self.pair {
            Pair::Rsa(pair) => pair.public_key().as_der()?,
            Pair::Ecdsa(pair) => pair.public_key().as_der()?,
            Pair::Ed25519(pair, _) => pair.public_key().as_der()?,
            Pair::MlDsa(pair, _) => pair.public_key().as_der()?,
        };
        Ok(der.as_ref().to_vec())
    }

    /// Signs `input` with `scheme`. Fails when the scheme does not belong
    /// to this kind of key or the input does not fit the scheme.
    pub fn sign(&self, scheme: SignatureScheme, input: SignInput<'_>) -> Result<Vec<u8>, Error> {
        match (&self.pair, scheme, input) {
            (Pair::Rsa(pair), SignatureScheme::RsaPss(h) | SignatureScheme::RsaPkcs1(h), _) => {
                let encoding = rsa_encoding(scheme).ok_or(Error)?;
                let digest = prehash(h, input)?;
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign_digest(encoding, &digest, &mut out)?;
                Ok(out)
            }
            (Pair::Ecdsa(pair), SignatureScheme::Ecdsa(h), _) => {
                ecdsa_verification(self.kind, h).ok_or(Error)?;
                let digest = prehash(h, input)?;
                Ok(pair.sign_digest(&digest)?.as_ref().to_vec())
            }
            (Pair::Ed25519(pair, _), SignatureScheme::Ed25519, SignInput::Message(m)) => {
                Ok(pair.try_sign(m)?.as_ref().to_vec())
            }
            (Pair::Ed25519(_, seed), SignatureScheme::Ed25519ph, SignInput::Message(m)) => {
                Ok(ffi::ed25519ph_sign(&seed[..], m)?.to_vec())
            }
            (Pair::MlDsa(pair, _), SignatureScheme::MlDsa, SignInput::Message(m)) => {
                let mut out = vec![0u8; pair.algorithm().signature_len()];
                let len = pair.sign(m, &mut out)?;
                out.truncate(len);
                Ok(out)
            }
            (Pair::MlDsa(_, seed), SignatureScheme::MlDsa, SignInput::ExternalMu(mu)) => {
                let (nid, _) = ml_dsa(self.kind).ok_or(Error)?;
                ffi::ml_dsa_sign_mu(nid, &seed[..], mu)
            }
            _ => Err(Error),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({:?}, [REDACTED])", self.kind)
    }
}

fn rsa_bits(kind: SigningKeyKind) -> usize {
    match kind {
        SigningKeyKind::Rsa2048 => 2048,
        SigningKeyKind::Rsa3072 => 3072,
        SigningKeyKind::Rsa4096 => 4096,
        _ => 0,
    }
}

/// The digest that RSA and ECDSA sign: the hash of a message, or a digest
/// given by the caller (of the right length).
fn prehash(hash: Sha2, input: SignInput<'_>) -> Result<Digest, Error> {
    match input {
        SignInput::Message(m) => Ok(digest::digest(hash.algorithm(), m)),
        SignInput::Digest(d) => Ok(Digest::import_less_safe(d, hash.algorithm())?),
        SignInput::ExternalMu(_) => Err(Error),
    }
}

/// A public key, parsed from its `SubjectPublicKeyInfo`, that checks the
/// signatures of one kind of key.
pub struct VerifyingKey {
    kind: SigningKeyKind,
    der: Vec<u8>,
    /// The raw key bits, for Ed25519ph and ML-DSA μ verification.
    raw: Vec<u8>,
}

impl VerifyingKey {
    /// Parses a DER `SubjectPublicKeyInfo` of a key of `kind`.
    pub fn from_der(kind: SigningKeyKind, der: &[u8]) -> Result<Self, Error> {
        let (oid, raw) = der::split_spki(der).or_else(|_| {
            // RSA and EC algorithm identifiers carry parameters; only the
            // raw-key kinds need the split.
            match kind {
                SigningKeyKind::Ed25519
                | SigningKeyKind::MlDsa44
                | SigningKeyKind::MlDsa65
                | SigningKeyKind::MlDsa87 => Err(Error),
                _ => Ok((&[][..], &[][..])),
            }
        })?;
        match kind {
            SigningKeyKind::Ed25519 if oid != OID_ED25519 || raw.len() != 32 => return Err(Error),
            SigningKeyKind::MlDsa44 | SigningKeyKind::MlDsa65 | SigningKeyKind::MlDsa87
                if oid != ml_dsa_oid(kind) =>
            {
                return Err(Error);
            }
            _ => {}
        }
        let key = Self {
            kind,
            der: der.to_vec(),
            raw: raw.to_vec(),
        };
        // Parse once now so that a bad key fails here, not at first use.
        key.parsed(key.any_scheme())?;
        Ok(key)
    }

    pub fn kind(&self) -> SigningKeyKind {
        self.kind
    }

    /// The `SubjectPublicKeyInfo` it was parsed from.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    fn any_scheme(&self) -> SignatureScheme {
        use SigningKeyKind::*;
        match self.kind {
            Rsa2048 | Rsa3072 | Rsa4096 => SignatureScheme::RsaPss(Sha2::Sha256),
            EcdsaP256 | EcdsaSecp256k1 => SignatureScheme::Ecdsa(Sha2::Sha256),
            EcdsaP384 => SignatureScheme::Ecdsa(Sha2::Sha384),
            EcdsaP521 => SignatureScheme::Ecdsa(Sha2::Sha512),
            Ed25519 => SignatureScheme::Ed25519,
            MlDsa44 | MlDsa65 | MlDsa87 => SignatureScheme::MlDsa,
        }
    }

    fn parsed(&self, scheme: SignatureScheme) -> Result<sig::ParsedPublicKey, Error> {
        let alg: &'static dyn sig::VerificationAlgorithm = match scheme {
            SignatureScheme::RsaPss(_) | SignatureScheme::RsaPkcs1(_) => {
                if !matches!(
                    self.kind,
                    SigningKeyKind::Rsa2048 | SigningKeyKind::Rsa3072 | SigningKeyKind::Rsa4096
                ) {
                    return Err(Error);
                }
                rsa_parameters(scheme).ok_or(Error)?
            }
            SignatureScheme::Ecdsa(h) => ecdsa_verification(self.kind, h).ok_or(Error)?,
            SignatureScheme::Ed25519 | SignatureScheme::Ed25519ph => {
                if self.kind != SigningKeyKind::Ed25519 {
                    return Err(Error);
                }
                &sig::ED25519
            }
            SignatureScheme::MlDsa => ml_dsa_verification(self.kind).ok_or(Error)?,
        };
        let bytes: &[u8] = match self.kind {
            SigningKeyKind::Ed25519 => &self.raw,
            _ => &self.der,
        };
        let key = sig::ParsedPublicKey::new(alg, bytes).map_err(|_| Error)?;
        if let SigningKeyKind::Rsa2048 | SigningKeyKind::Rsa3072 | SigningKeyKind::Rsa4096 =
            self.kind
        {
            // The modulus must be the size the kind says.
            let bits = sig::RsaParameters::public_modulus_len(rsa_public_key(&self.der)?)?;
            if bits as usize != rsa_bits(self.kind) {
                return Err(Error);
            }
        }
        Ok(key)
    }

    /// Checks `signature` over `input` with `scheme`. Says nothing about
    /// why a signature is rejected.
    pub fn verify(
        &self,
        scheme: SignatureScheme,
        input: SignInput<'_>,
        signature: &[u8],
    ) -> Result<(), Error> {
        match (scheme, input) {
            (SignatureScheme::Ed25519ph, SignInput::Message(m)) => {
                if self.kind != SigningKeyKind::Ed25519 {
                    return Err(Error);
                }
                ffi::ed25519ph_verify(&self.raw, m, signature)
            }
            (SignatureScheme::MlDsa, SignInput::ExternalMu(mu)) => {
                let (nid, _) = ml_dsa(self.kind).ok_or(Error)?;
                ffi::ml_dsa_verify_mu(nid, &self.raw, mu, signature)
            }
            (SignatureScheme::Ed25519 | SignatureScheme::MlDsa, SignInput::Message(m)) => {
                Ok(self.parsed(scheme)?.verify_sig(m, signature)?)
            }
            (
                SignatureScheme::RsaPss(h)
                | SignatureScheme::RsaPkcs1(h)
                | SignatureScheme::Ecdsa(h),
                SignInput::Message(_) | SignInput::Digest(_),
            ) => {
                let key = self.parsed(scheme)?;
                let digest = prehash(h, input)?;
                Ok(key.verify_digest_sig(&digest, signature)?)
            }
            _ => Err(Error),
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({:?})", self.kind)
    }
}

/// The `RSAPublicKey` inside an RSA `SubjectPublicKeyInfo` (whose algorithm
/// identifier carries a NULL parameter, which `der::split_spki` refuses).
fn rsa_public_key(spki: &[u8]) -> Result<&[u8], Error> {
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 00 RSAPublicKey } }
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let body = strip_header(spki, 0x30)?;
    let rest = body.strip_prefix(RSA_ALGORITHM).ok_or(Error)?;
    let bits = strip_header(rest, 0x03)?;
    match bits.split_first() {
        Some((0, key)) => Ok(key),
        _ => Err(Error),
    }
}

/// The content of a DER TLV with tag `tag` spanning all of `input`.
fn strip_header(input: &[u8], tag: u8) -> Result<&[u8], Error> {
    let (&t, rest) = input.split_first().ok_or(Error)?;
    let (&first, rest) = rest.split_first().ok_or(Error)?;
    if t != tag {
        return Err(Error);
    }
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 2 || rest.len() < n {
            return Err(Error);
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() != len {
        return Err(Error);
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [SigningKeyKind; 11] = [
        SigningKeyKind::Rsa2048,
        SigningKeyKind::Rsa3072,
        SigningKeyKind::Rsa4096,
        SigningKeyKind::EcdsaP256,
        SigningKeyKind::EcdsaP384,
        SigningKeyKind::EcdsaP521,
        SigningKeyKind::EcdsaSecp256k1,
        SigningKeyKind::Ed25519,
        SigningKeyKind::MlDsa44,
        SigningKeyKind::MlDsa65,
        SigningKeyKind::MlDsa87,
    ];

    fn schemes(kind: SigningKeyKind) -> Vec<SignatureScheme> {
        use SigningKeyKind::*;
        match kind {
            Rsa2048 | Rsa3072 | Rsa4096 => [Sha2::Sha256, Sha2::Sha384, Sha2::Sha512]
                .into_iter()
                .flat_map(|h| [SignatureScheme::RsaPss(h), SignatureScheme::RsaPkcs1(h)])
                .collect(),
            EcdsaP256 | EcdsaSecp256k1 => vec![SignatureScheme::Ecdsa(Sha2::Sha256)],
            EcdsaP384 => vec![SignatureScheme::Ecdsa(Sha2::Sha384)],
            EcdsaP521 => vec![SignatureScheme::Ecdsa(Sha2::Sha512)],
            Ed25519 => vec![SignatureScheme::Ed25519, SignatureScheme::Ed25519ph],
            MlDsa44 | MlDsa65 | MlDsa87 => vec![SignatureScheme::MlDsa],
        }
    }

    #[test]
    fn every_kind_signs_and_verifies_through_its_stored_form() {
        for kind in ALL {
            let key = SigningKey::generate(kind).expect("generate");
            let stored = key.private_bytes().expect("private");
            let key = SigningKey::from_private_bytes(kind, stored.expose_secret()).expect("load");
            let public =
                VerifyingKey::from_der(kind, &key.public_key_der().expect("der")).expect("public");
            for scheme in schemes(kind) {
                let message = b"custos signs this";
                let s = key.sign(scheme, SignInput::Message(message)).expect("sign");
                public
                    .verify(scheme, SignInput::Message(message), &s)
                    .expect("verify");
                assert!(
                    public
                        .verify(scheme, SignInput::Message(b"custos signs thiz"), &s)
                        .is_err(),
                    "{kind:?} {scheme:?}"
                );
                let mut bad = s.clone();
                let last = bad.len() - 1;
                bad[last / 2] ^= 0x40;
                assert!(
                    public
                        .verify(scheme, SignInput::Message(message), &bad)
                        .is_err()
                );
                // A digest signature verifies as the message's, and back.
                if let SignatureScheme::RsaPss(h)
                | SignatureScheme::RsaPkcs1(h)
                | SignatureScheme::Ecdsa(h) = scheme
                {
                    let d = h.digest(message);
                    let ds = key.sign(scheme, SignInput::Digest(&d)).expect("digest");
                    public
                        .verify(scheme, SignInput::Message(message), &ds)
                        .expect("digest signature over message");
                    public
                        .verify(scheme, SignInput::Digest(&d), &s)
                        .expect("message signature over digest");
                    assert!(key.sign(scheme, SignInput::Digest(&d[1..])).is_err());
                }
            }
            // PKCS #8 export parses back (as aws-lc reads it).
            assert!(!key.to_pkcs8().expect("pkcs8").is_empty());
            assert_eq!(
                format!("{key:?}"),
                format!("SigningKey({kind:?}, [REDACTED])")
            );
        }
    }

    #[test]
    fn schemes_of_other_kinds_are_refused() {
        let ec = SigningKey::generate(SigningKeyKind::EcdsaP256).expect("ec");
        assert!(
            ec.sign(
                SignatureScheme::Ecdsa(Sha2::Sha384),
                SignInput::Message(b"x")
            )
            .is_err()
        );
        assert!(
            ec.sign(
                SignatureScheme::RsaPss(Sha2::Sha256),
                SignInput::Message(b"x")
            )
            .is_err()
        );
        let ed = SigningKey::generate(SigningKeyKind::Ed25519).expect("ed");
        assert!(
            ed.sign(SignatureScheme::Ed25519, SignInput::Digest(&[0; 64]))
                .is_err()
        );
        let ml = SigningKey::generate(SigningKeyKind::MlDsa44).expect("ml");
        assert!(
            ml.sign(SignatureScheme::MlDsa, SignInput::ExternalMu(&[0; 63]))
                .is_err()
        );
        // A P-256 key is not a P-384 key.
        let der = ec.public_key_der().expect("der");
        assert!(VerifyingKey::from_der(SigningKeyKind::EcdsaP384, &der).is_err());
        assert!(VerifyingKey::from_der(SigningKeyKind::Rsa2048, &der).is_err());
        let rsa = SigningKey::generate(SigningKeyKind::Rsa2048).expect("rsa");
        let der = rsa.public_key_der().expect("der");
        assert!(VerifyingKey::from_der(SigningKeyKind::Rsa3072, &der).is_err());
    }
}
