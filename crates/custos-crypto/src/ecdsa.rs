//! ECDSA over P-256 with SHA-256 and P-384 with SHA-384: DER
//! (`ECDSA-Sig-Value`) signatures, SEC 1 public keys in compressed or
//! uncompressed form, and streaming sign and verify so that a message never
//! has to be held in memory to be signed.
//!
//! Public keys are parsed by aws-lc (`EC_POINT_oct2point`), which accepts
//! the compressed form and checks that the point is on the curve, so no
//! field arithmetic happens in Custos.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1,
    ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, EcdsaSigningAlgorithm,
    EcdsaVerificationAlgorithm, KeyPair, ParsedPublicKey,
};

use crate::Error;

/// A curve and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcdsaAlgorithm {
    /// NIST P-256 (secp256r1) with SHA-256.
    P256Sha256,
    /// NIST P-384 (secp384r1) with SHA-384.
    P384Sha384,
}

impl EcdsaAlgorithm {
    /// Length of the compressed SEC 1 form of a public key: a tag byte and
    /// the x coordinate.
    pub fn compressed_public_key_len(self) -> usize {
        match self {
            Self::P256Sha256 => 33,
            Self::P384Sha384 => 49,
        }
    }

    /// The longest DER signature: two integers of the field size, each with
    /// a possible leading zero byte, in a SEQUENCE.
    pub fn max_signature_len(self) -> usize {
        match self {
            Self::P256Sha256 => 72,
            Self::P384Sha384 => 104,
        }
    }

    fn signing(self) -> &'static EcdsaSigningAlgorithm {
        match self {
            Self::P256Sha256 => &ECDSA_P256_SHA256_ASN1_SIGNING,
            Self::P384Sha384 => &ECDSA_P384_SHA384_ASN1_SIGNING,
        }
    }

    fn verification(self) -> &'static EcdsaVerificationAlgorithm {
        match self {
            Self::P256Sha256 => &ECDSA_P256_SHA256_ASN1,
            Self::P384Sha384 => &ECDSA_P384_SHA384_ASN1,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::P256Sha256 => &digest::SHA256,
            Self::P384Sha384 => &digest::SHA384,
        }
    }
}

/// An ECDSA private key. aws-lc holds the scalar and wipes it when the key
/// is dropped; there is no `Clone`, and `Debug` shows only the algorithm.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    alg: EcdsaAlgorithm,
}

impl SigningKey {
    /// A fresh key from the system CSPRNG.
    pub fn generate(alg: EcdsaAlgorithm) -> Result<Self, Error> {
        Ok(Self {
            pair: EcdsaKeyPair::generate(alg.signing())?,
            alg,
        })
    }

    /// A key from its big-endian private scalar and its SEC 1 public point
    /// (uncompressed). aws-lc checks that the two belong together.
    pub fn from_private_scalar(
        alg: EcdsaAlgorithm,
        scalar: &[u8],
        public_uncompressed: &[u8],
    ) -> Result<Self, Error> {
        let pair = EcdsaKeyPair::from_private_key_and_public_key(
            alg.signing(),
            scalar,
            public_uncompressed,
        )
        .map_err(|_| Error)?;
        Ok(Self { pair, alg })
    }

    pub fn algorithm(&self) -> EcdsaAlgorithm {
        self.alg
    }

    /// The public key in compressed SEC 1 form (section 2.3.3).
    pub fn public_key_compressed(&self) -> Result<Vec<u8>, Error> {
        let bin: EcPublicKeyCompressedBin<'static> = self.pair.public_key().as_be_bytes()?;
        Ok(bin.as_ref().to_vec())
    }

    /// The matching verification key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, Error> {
        VerifyingKey::from_sec1(self.alg, self.pair.public_key().as_ref())
    }

    /// Starts signing a message that arrives in pieces.
    pub fn into_signer(self) -> Signer {
        let ctx = digest::Context::new(self.alg.digest());
        Signer { key: self, ctx }
    }

    /// Signs a whole message.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let d = digest::digest(self.alg.digest(), message);
        Ok(self.pair.sign_digest(&d)?.as_ref().to_vec())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({:?}, [REDACTED])", self.alg)
    }
}

/// A signature in progress: the hash of everything given to
/// [`Signer::update`], signed by [`Signer::finish`].
pub struct Signer {
    key: SigningKey,
    ctx: digest::Context,
}

impl Signer {
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The DER signature of everything passed to [`Self::update`].
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        let d = self.ctx.finish();
        Ok(self.key.pair.sign_digest(&d)?.as_ref().to_vec())
    }

    pub fn algorithm(&self) -> EcdsaAlgorithm {
        self.key.alg
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({:?})", self.key.alg)
    }
}

/// An ECDSA public key, parsed and checked to be a point on the curve.
#[derive(Clone)]
pub struct VerifyingKey {
    key: ParsedPublicKey,
    alg: EcdsaAlgorithm,
}

impl VerifyingKey {
    /// Parses a SEC 1 point, compressed (`02`/`03` ‖ x) or uncompressed
    /// (`04` ‖ x ‖ y). Anything else, including the point at infinity and
    /// points not on the curve, is rejected.
    pub fn from_sec1(alg: EcdsaAlgorithm, point: &[u8]) -> Result<Self, Error> {
        // aws-lc-rs would also accept a DER SubjectPublicKeyInfo here; the
        // tag check keeps this function to the one encoding it names.
        match point.first() {
            Some(0x02..=0x04) => {}
            _ => return Err(Error),
        }
        let key = ParsedPublicKey::new(alg.verification(), point).map_err(|_| Error)?;
        Ok(Self { key, alg })
    }

    pub fn algorithm(&self) -> EcdsaAlgorithm {
        self.alg
    }

    /// Starts verifying a message that arrives in pieces.
    pub fn into_verifier(self) -> Verifier {
        let ctx = digest::Context::new(self.alg.digest());
        Verifier { key: self, ctx }
    }

    /// Verifies a DER signature over a whole message.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let d = digest::digest(self.alg.digest(), message);
        Ok(self.key.verify_digest_sig(&d, signature)?)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({:?})", self.alg)
    }
}

/// A verification in progress.
pub struct Verifier {
    key: VerifyingKey,
    ctx: digest::Context,
}

impl Verifier {
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// Checks a DER signature over everything passed to [`Self::update`].
    /// Says nothing about why a signature is rejected.
    pub fn verify(self, signature: &[u8]) -> Result<(), Error> {
        let d = self.ctx.finish();
        Ok(self.key.key.verify_digest_sig(&d, signature)?)
    }

    pub fn algorithm(&self) -> EcdsaAlgorithm {
        self.key.alg
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({:?})", self.key.alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    struct Rfc6979 {
        alg: EcdsaAlgorithm,
        x: &'static str,
        ux: &'static str,
        uy: &'static str,
        sig: &'static str,
    }

    // RFC 6979 appendix A.2.5 (P-256) and A.2.6 (P-384), message "sample"
    // with SHA-256 and SHA-384 respectively; the (r, s) pairs are the RFC's,
    // DER-encoded here. Checked with Python `cryptography` 48.
    const CASES: [Rfc6979; 2] = [
        Rfc6979 {
            alg: EcdsaAlgorithm::P256Sha256,
            x: "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
            ux: "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
            uy: "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
            sig: "3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716\
                  022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
        },
        Rfc6979 {
            alg: EcdsaAlgorithm::P384Sha384,
            x: "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d8\
                96d5724e4c70a825f872c9ea60d2edf5",
            ux: "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64\
                 def8f0ea9055866064a254515480bc13",
            uy: "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1\
                 288b231c3ae0d4fe7344fd2533264720",
            sig: "3066023100\
                  94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c\
                  81a648152e44acf96e36dd1e80fabe46\
                  023100\
                  99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94f\
                  a329c145786e679e7b82c71a38628ac8",
        },
    ];

    fn uncompressed(c: &Rfc6979) -> Vec<u8> {
        let mut p = vec![0x04];
        p.extend(h(c.ux));
        p.extend(h(c.uy));
        p
    }

    fn compressed(c: &Rfc6979) -> Vec<u8> {
        let y = h(c.uy);
        let odd = y.last().expect("y") & 1 == 1;
        let mut p = vec![if odd { 0x03 } else { 0x02 }];
        p.extend(h(c.ux));
        p
    }

    #[test]
    fn rfc6979_signatures_verify_with_compressed_and_uncompressed_keys() {
        for c in &CASES {
            let sig = h(c.sig);
            for point in [uncompressed(c), compressed(c)] {
                let key = VerifyingKey::from_sec1(c.alg, &point).expect("point");
                key.verify(b"sample", &sig).expect("verify");
                assert!(key.verify(b"samplf", &sig).is_err());
                let mut v = key.into_verifier();
                v.update(b"sam");
                v.update(b"ple");
                v.verify(&sig).expect("streaming verify");
            }
            // A flipped bit anywhere in the signature is rejected.
            let key = VerifyingKey::from_sec1(c.alg, &compressed(c)).expect("point");
            for i in 0..sig.len() {
                let mut bad = sig.clone();
                bad[i] ^= 1;
                assert!(key.verify(b"sample", &bad).is_err(), "{:?} byte {i}", c.alg);
            }
        }
    }

    #[test]
    fn compresses_public_keys_as_sec1_says() {
        for c in &CASES {
            let key =
                SigningKey::from_private_scalar(c.alg, &h(c.x), &uncompressed(c)).expect("key");
            let point = key.public_key_compressed().expect("compress");
            assert_eq!(point, compressed(c));
            assert_eq!(point.len(), c.alg.compressed_public_key_len());
            // Signatures are randomised; they must verify.
            let sig = key.sign(b"sample").expect("sign");
            assert!(sig.len() <= c.alg.max_signature_len());
            VerifyingKey::from_sec1(c.alg, &point)
                .expect("point")
                .verify(b"sample", &sig)
                .expect("verify");
        }
    }

    #[test]
    fn streaming_sign_round_trip() {
        for alg in [EcdsaAlgorithm::P256Sha256, EcdsaAlgorithm::P384Sha384] {
            let key = SigningKey::generate(alg).expect("generate");
            let verifying = key.verifying_key().expect("public");
            let point = key.public_key_compressed().expect("compress");
            let mut signer = key.into_signer();
            signer.update(b"header");
            signer.update(b"body");
            let sig = signer.finish().expect("sign");
            verifying.verify(b"headerbody", &sig).expect("verify");
            let from_point = VerifyingKey::from_sec1(alg, &point).expect("point");
            from_point.verify(b"headerbody", &sig).expect("verify");
            assert!(from_point.verify(b"headerbodY", &sig).is_err());
        }
    }

    #[test]
    fn rejects_bad_points() {
        let c = &CASES[0];
        let good = compressed(c);
        // Wrong curve, wrong length, bad tag, x not on the curve, infinity.
        assert!(VerifyingKey::from_sec1(EcdsaAlgorithm::P384Sha384, &good).is_err());
        assert!(VerifyingKey::from_sec1(c.alg, &good[..32]).is_err());
        let mut bad_tag = good.clone();
        bad_tag[0] = 0x05;
        assert!(VerifyingKey::from_sec1(c.alg, &bad_tag).is_err());
        assert!(VerifyingKey::from_sec1(c.alg, &[0x00]).is_err());
        assert!(VerifyingKey::from_sec1(c.alg, &[]).is_err());
        // x = 1 is not the x coordinate of any P-256 point: 1 - 3 + b is
        // not a square modulo p (checked with Python's pow(r, (p-1)/2, p)).
        for tag in [0x02, 0x03] {
            let mut not_on_curve = vec![tag];
            not_on_curve.extend([0u8; 31]);
            not_on_curve.push(1);
            assert!(VerifyingKey::from_sec1(c.alg, &not_on_curve).is_err());
        }
        // An uncompressed point with a wrong y.
        let mut wrong_y = uncompressed(c);
        let last = wrong_y.len() - 1;
        wrong_y[last] ^= 1;
        assert!(VerifyingKey::from_sec1(c.alg, &wrong_y).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let key = SigningKey::generate(EcdsaAlgorithm::P256Sha256).expect("generate");
        assert_eq!(format!("{key:?}"), "SigningKey(P256Sha256, [REDACTED])");
    }
}
