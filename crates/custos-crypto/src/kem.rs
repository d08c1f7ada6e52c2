//! ML-KEM (FIPS 203) key pairs at the three security levels: key
//! generation from a 64-byte seed `d ‖ z` (the form the private key is kept
//! and exported in), encapsulation to a public key given as DER
//! `SubjectPublicKeyInfo`, decapsulation with implicit rejection.
//!
//! The encodings are those of the IETF LAMPS profile (RFC 9935):
//! `SubjectPublicKeyInfo` with `id-alg-ml-kem-*` and no parameters around the
//! raw encapsulation key, and PKCS #8 whose `privateKey` is the seed choice
//! `[0] IMPLICIT OCTET STRING (SIZE (64))`.

use std::fmt;

use aws_lc_rs::kem::{
    Ciphertext, DecapsulationKey, EncapsulationKey, ML_KEM_512, ML_KEM_768, ML_KEM_1024,
};
use zeroize::Zeroizing;

use crate::ffi;
use crate::{Error, SecretBytes, der};

/// An ML-KEM parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MlKem {
    MlKem512,
    MlKem768,
    MlKem1024,
}

impl MlKem {
    fn algorithm(self) -> &'static aws_lc_rs::kem::Algorithm {
        match self {
            Self::MlKem512 => &ML_KEM_512,
            Self::MlKem768 => &ML_KEM_768,
            Self::MlKem1024 => &ML_KEM_1024,
        }
    }

    /// The contents of `id-alg-ml-kem-512/768/1024` (2.16.840.1.101.3.4.4.1/2/3).
    fn oid(self) -> &'static [u8] {
        match self {
            Self::MlKem512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x01],
            Self::MlKem768 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x02],
            Self::MlKem1024 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x03],
        }
    }

    /// Length of a ciphertext (the encapsulated secret).
    pub fn ciphertext_len(self) -> usize {
        match self {
            Self::MlKem512 => 768,
            Self::MlKem768 => 1088,
            Self::MlKem1024 => 1568,
        }
    }

    /// Length of the shared secret.
    pub const SHARED_SECRET_LEN: usize = 32;
}

/// Length of a key-generation seed, `d ‖ z`.
pub const ML_KEM_SEED_LEN: usize = 64;

/// An ML-KEM key pair, kept as its seed. No `Clone`; `Debug` shows only the
/// parameter set.
pub struct MlKemPrivateKey {
    level: MlKem,
    seed: Zeroizing<[u8; ML_KEM_SEED_LEN]>,
    decapsulation: DecapsulationKey,
    public: Vec<u8>,
}

impl MlKemPrivateKey {
    /// A fresh key pair from the system CSPRNG.
    pub fn generate(level: MlKem) -> Result<Self, Error> {
        let seed: Zeroizing<[u8; ML_KEM_SEED_LEN]> = Zeroizing::new(crate::rand::array()?);
        Self::from_seed(level, &seed[..])
    }

    /// The key pair of a 64-byte seed `d ‖ z` (FIPS 203 `ML-KEM.KeyGen_internal`).
    pub fn from_seed(level: MlKem, seed: &[u8]) -> Result<Self, Error> {
        let seed: [u8; ML_KEM_SEED_LEN] = seed.try_into().map_err(|_| Error)?;
        let seed = Zeroizing::new(seed);
        let (expanded, public) = ffi::ml_kem_keypair_from_pkcs8(&seed_pkcs8(level, &seed)?)?;
        let decapsulation = DecapsulationKey::new(level.algorithm(), expanded.expose_secret())
            .map_err(|_| Error)?;
        Ok(Self {
            level,
            seed,
            decapsulation,
            public,
        })
    }

    pub fn level(&self) -> MlKem {
        self.level
    }

    /// The seed, for sealing.
    pub fn seed(&self) -> SecretBytes {
        SecretBytes::from_slice(&self.seed[..])
    }

    /// The private key as PKCS #8 v1 DER in the seed form.
    pub fn to_pkcs8(&self) -> Result<SecretBytes, Error> {
        Ok(SecretBytes::from_slice(&seed_pkcs8(
            self.level, &self.seed,
        )?))
    }

    /// The public (encapsulation) key as DER `SubjectPublicKeyInfo`.
    pub fn public_key_der(&self) -> Vec<u8> {
        der::spki(self.level.oid(), &self.public)
    }

    /// The 32-byte shared secret of `ciphertext`. Fails only when the
    /// ciphertext has the wrong length: any other ciphertext yields a
    /// pseudo-random secret (implicit rejection, FIPS 203 algorithm 18).
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SecretBytes, Error> {
        if ciphertext.len() != self.level.ciphertext_len() {
            return Err(Error);
        }
        let secret = self
            .decapsulation
            .decapsulate(Ciphertext::from(ciphertext))?;
        Ok(SecretBytes::from_slice(secret.as_ref()))
    }
}

impl fmt::Debug for MlKemPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MlKemPrivateKey({:?}, [REDACTED])", self.level)
    }
}

/// PKCS #8 v1 in the seed form: `privateKey` holds `[0] IMPLICIT OCTET
/// STRING` with the 64-byte seed.
fn seed_pkcs8(level: MlKem, seed: &[u8; ML_KEM_SEED_LEN]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut seed_choice = Zeroizing::new(Vec::with_capacity(2 + ML_KEM_SEED_LEN));
    seed_choice.extend_from_slice(&[0x80, u8::try_from(ML_KEM_SEED_LEN).map_err(|_| Error)?]);
    seed_choice.extend_from_slice(&seed[..]);
    Ok(der::pkcs8(level.oid(), &seed_choice))
}

/// Encapsulates a fresh shared secret to the holder of `public_spki`, an
/// ML-KEM `SubjectPublicKeyInfo` of `level`: returns the ciphertext and the
/// 32-byte secret.
pub fn encapsulate(level: MlKem, public_spki: &[u8]) -> Result<(Vec<u8>, SecretBytes), Error> {
    let (oid, raw) = der::split_spki(public_spki)?;
    if oid != level.oid() {
        return Err(Error);
    }
    let key = EncapsulationKey::new(level.algorithm(), raw).map_err(|_| Error)?;
    let (ciphertext, secret) = key.encapsulate()?;
    Ok((
        ciphertext.as_ref().to_vec(),
        SecretBytes::from_slice(secret.as_ref()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encapsulation_round_trips_through_the_seed() {
        for level in [MlKem::MlKem512, MlKem::MlKem768, MlKem::MlKem1024] {
            let key = MlKemPrivateKey::generate(level).expect("generate");
            let again =
                MlKemPrivateKey::from_seed(level, key.seed().expose_secret()).expect("seed");
            let spki = again.public_key_der();
            assert_eq!(spki, key.public_key_der());
            let (ct, secret) = encapsulate(level, &spki).expect("encapsulate");
            assert_eq!(ct.len(), level.ciphertext_len());
            let back = key.decapsulate(&ct).expect("decapsulate");
            assert_eq!(back.expose_secret(), secret.expose_secret());
            // Implicit rejection: a changed ciphertext gives another secret.
            let mut bad = ct.clone();
            bad[5] ^= 1;
            let rejected = key.decapsulate(&bad).expect("implicit rejection");
            assert_ne!(rejected.expose_secret(), secret.expose_secret());
            assert!(key.decapsulate(&ct[1..]).is_err());
            assert_eq!(key.to_pkcs8().expect("pkcs8").len(), 86);
        }
        let k512 = MlKemPrivateKey::generate(MlKem::MlKem512).expect("512");
        assert!(encapsulate(MlKem::MlKem768, &k512.public_key_der()).is_err());
    }
}
