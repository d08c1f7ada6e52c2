//! The only unsafe code in Custos: the few aws-lc primitives that the safe
//! API of aws-lc-rs does not offer, called through `aws-lc-sys` (the same
//! crate and version aws-lc-rs builds on, so there is one aws-lc in the
//! binary, not two).
//!
//! - Ed25519ph (RFC 8032 HashEdDSA), for `ED25519_PH_SHA_512`:
//!   `ED25519ph_sign` and `ED25519ph_verify`.
//! - ML-DSA signing and verification of an external μ (FIPS 204 section
//!   6.2), for `MessageType` `EXTERNAL_MU`: `EVP_PKEY_sign` and
//!   `EVP_PKEY_verify` on an ML-DSA key, which aws-lc defines as the μ form.
//! - ML-KEM key generation from a 64-byte seed (FIPS 203 `ML-KEM.KeyGen_internal`),
//!   so that a key can be kept, and exported as PKCS #8, in the seed form
//!   AWS KMS uses: `EVP_parse_private_key` on the seed-form PKCS #8, then
//!   `EVP_PKEY_get_raw_private_key` / `_public_key`.
//!
//! Every function here owns the C objects it creates (freed by the `Drop`
//! of [`Pkey`] and [`PkeyCtx`]), passes only pointers to live Rust buffers
//! of the lengths the C prototypes require, and keeps nothing after it
//! returns. Why this rather than a second library: `docs/crypto-choices.md`.

#![allow(
    unsafe_code,
    reason = "the aws-lc C API for Ed25519ph, ML-DSA external mu and seeded ML-KEM keygen, \
              which aws-lc-rs does not expose safely; reviewed in docs/crypto-choices.md"
)]

use std::ptr;

use aws_lc_sys as sys;
use zeroize::Zeroizing;

use crate::{Error, SecretBytes};

/// Length of an Ed25519 seed, public key and signature.
const ED25519_SEED_LEN: usize = 32;
const ED25519_PUBLIC_LEN: usize = 32;
const ED25519_PRIVATE_LEN: usize = 64;
const ED25519_SIGNATURE_LEN: usize = 64;

/// An `EVP_PKEY` this module created and must free.
struct Pkey(*mut sys::EVP_PKEY);

impl Pkey {
    fn new(raw: *mut sys::EVP_PKEY) -> Result<Self, Error> {
        if raw.is_null() {
            Err(Error)
        } else {
            Ok(Self(raw))
        }
    }
}

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a non-null EVP_PKEY this module allocated and
        // nobody else frees; EVP_PKEY_free wipes private key material.
        unsafe { sys::EVP_PKEY_free(self.0) }
    }
}

/// An `EVP_PKEY_CTX` this module created and must free.
struct PkeyCtx(*mut sys::EVP_PKEY_CTX);

impl PkeyCtx {
    fn new(raw: *mut sys::EVP_PKEY_CTX) -> Result<Self, Error> {
        if raw.is_null() {
            Err(Error)
        } else {
            Ok(Self(raw))
        }
    }

    /// A context for operations with `key`. The context holds its own
    /// reference to the key.
    fn for_key(key: &Pkey) -> Result<Self, Error> {
        // SAFETY: `key.0` is a live EVP_PKEY; a null ENGINE selects the
        // default implementation. EVP_PKEY_CTX_new takes its own reference.
        Self::new(unsafe { sys::EVP_PKEY_CTX_new(key.0, ptr::null_mut()) })
    }
}

impl Drop for PkeyCtx {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a non-null EVP_PKEY_CTX this module allocated.
        unsafe { sys::EVP_PKEY_CTX_free(self.0) }
    }
}

/// The 64-byte Ed25519 private key (seed ‖ public key) of a 32-byte seed.
fn ed25519_expand(seed: &[u8]) -> Result<Zeroizing<[u8; ED25519_PRIVATE_LEN]>, Error> {
    if seed.len() != ED25519_SEED_LEN {
        return Err(Error);
    }
    let mut public = [0u8; ED25519_PUBLIC_LEN];
    let mut private = Zeroizing::new([0u8; ED25519_PRIVATE_LEN]);
    // SAFETY: the output buffers are exactly ED25519_PUBLIC_KEY_LEN and
    // ED25519_PRIVATE_KEY_LEN bytes and the seed exactly 32, as the
    // prototype requires; the function cannot fail and keeps no pointer.
    unsafe {
        sys::ED25519_keypair_from_seed(public.as_mut_ptr(), private.as_mut_ptr(), seed.as_ptr())
    };
    Ok(private)
}

/// An Ed25519ph signature (RFC 8032 section 5.1, `phflag` = 1, empty
/// context) of `message` by the key of `seed`: the message is hashed with
/// SHA-512 by aws-lc, then signed.
pub(crate) fn ed25519ph_sign(
    seed: &[u8],
    message: &[u8],
) -> Result<[u8; ED25519_SIGNATURE_LEN], Error> {
    let private = ed25519_expand(seed)?;
    let mut signature = [0u8; ED25519_SIGNATURE_LEN];
    // SAFETY: `signature` has ED25519_SIGNATURE_LEN bytes, `private` has
    // ED25519_PRIVATE_KEY_LEN, `message` is valid for `message.len()`
    // bytes; a null context with length 0 is the empty context the
    // prototype allows.
    let ok = unsafe {
        sys::ED25519ph_sign(
            signature.as_mut_ptr(),
            message.as_ptr(),
            message.len(),
            private.as_ptr(),
            ptr::null(),
            0,
        )
    };
    if ok == 1 { Ok(signature) } else { Err(Error) }
}

/// Checks an Ed25519ph signature (empty context) of `message` by the raw
/// 32-byte `public_key`.
pub(crate) fn ed25519ph_verify(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    if public_key.len() != ED25519_PUBLIC_LEN || signature.len() != ED25519_SIGNATURE_LEN {
        return Err(Error);
    }
    // SAFETY: the lengths of `public_key` and `signature` were checked
    // above against the prototype's fixed-size arrays; `message` is valid
    // for its length; empty context as in `ed25519ph_sign`.
    let ok = unsafe {
        sys::ED25519ph_verify(
            message.as_ptr(),
            message.len(),
            signature.as_ptr(),
            public_key.as_ptr(),
            ptr::null(),
            0,
        )
    };
    if ok == 1 { Ok(()) } else { Err(Error) }
}

/// The aws-lc NIDs of ML-DSA-44, -65 and -87.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MlDsaNid {
    MlDsa44,
    MlDsa65,
    MlDsa87,
}

impl MlDsaNid {
    fn nid(self) -> i32 {
        match self {
            Self::MlDsa44 => sys::NID_MLDSA44,
            Self::MlDsa65 => sys::NID_MLDSA65,
            Self::MlDsa87 => sys::NID_MLDSA87,
        }
    }

    fn signature_len(self) -> usize {
        match self {
            Self::MlDsa44 => 2420,
            Self::MlDsa65 => 3309,
            Self::MlDsa87 => 4627,
        }
    }
}

/// Length of μ (FIPS 204, algorithm 7, line 6).
pub(crate) const ML_DSA_MU_LEN: usize = 64;

/// An ML-DSA signature of the external μ `mu` by the key of the 32-byte
/// `seed` (FIPS 204 section 6.2: `ML-DSA.Sign_internal` on μ; hedged, with
/// fresh randomness from aws-lc).
pub(crate) fn ml_dsa_sign_mu(nid: MlDsaNid, seed: &[u8], mu: &[u8]) -> Result<Vec<u8>, Error> {
    if seed.len() != 32 || mu.len() != ML_DSA_MU_LEN {
        return Err(Error);
    }
    // SAFETY: `seed` is valid for `seed.len()` bytes; aws-lc copies what it
    // needs into the new EVP_PKEY, which `Pkey` frees.
    let key = Pkey::new(unsafe {
        sys::EVP_PKEY_pqdsa_new_raw_private_key(nid.nid(), seed.as_ptr(), seed.len())
    })?;
    let ctx = PkeyCtx::for_key(&key)?;
    // SAFETY: `ctx.0` is a live context for an ML-DSA key.
    if unsafe { sys::EVP_PKEY_sign_init(ctx.0) } != 1 {
        return Err(Error);
    }
    let mut signature = vec![0u8; nid.signature_len()];
    let mut len = signature.len();
    // SAFETY: `signature` is valid for `len` bytes, which aws-lc checks
    // against the signature size and updates to the length written; `mu`
    // is valid for ML_DSA_MU_LEN bytes, which is what EVP_PKEY_sign takes
    // as μ for ML-DSA keys.
    let ok = unsafe {
        sys::EVP_PKEY_sign(
            ctx.0,
            signature.as_mut_ptr(),
            &mut len,
            mu.as_ptr(),
            mu.len(),
        )
    };
    if ok != 1 || len != signature.len() {
        return Err(Error);
    }
    Ok(signature)
}

/// Checks an ML-DSA signature of the external μ `mu` by the raw (FIPS 204
/// `pkEncode`) `public_key`.
pub(crate) fn ml_dsa_verify_mu(
    nid: MlDsaNid,
    public_key: &[u8],
    mu: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    if mu.len() != ML_DSA_MU_LEN {
        return Err(Error);
    }
    // SAFETY: `public_key` is valid for its length; aws-lc checks the
    // length against the parameter set and copies the key.
    let key = Pkey::new(unsafe {
        sys::EVP_PKEY_pqdsa_new_raw_public_key(nid.nid(), public_key.as_ptr(), public_key.len())
    })?;
    let ctx = PkeyCtx::for_key(&key)?;
    // SAFETY: `ctx.0` is a live context for an ML-DSA public key.
    if unsafe { sys::EVP_PKEY_verify_init(ctx.0) } != 1 {
        return Err(Error);
    }
    // SAFETY: `signature` and `mu` are valid for their lengths; aws-lc
    // checks both lengths.
    let ok = unsafe {
        sys::EVP_PKEY_verify(
            ctx.0,
            signature.as_ptr(),
            signature.len(),
            mu.as_ptr(),
            mu.len(),
        )
    };
    if ok == 1 { Ok(()) } else { Err(Error) }
}

/// The decapsulation key (FIPS 203 expanded form, secret) and encapsulation
/// key of the ML-KEM key pair in `pkcs8`, a PKCS #8 `PrivateKeyInfo` in the
/// seed form: aws-lc parses it and runs `ML-KEM.KeyGen_internal` on the seed.
pub(crate) fn ml_kem_keypair_from_pkcs8(pkcs8: &[u8]) -> Result<(SecretBytes, Vec<u8>), Error> {
    // SAFETY: CBS is a plain (pointer, length) pair; an all-zero value is
    // the empty CBS, and CBS_init points it at `pkcs8`, which outlives it.
    let mut cbs: sys::CBS = unsafe { std::mem::zeroed() };
    // SAFETY: `pkcs8` is valid for `pkcs8.len()` bytes for as long as `cbs`
    // is used (this function only).
    unsafe { sys::CBS_init(&mut cbs, pkcs8.as_ptr(), pkcs8.len()) };
    // SAFETY: `cbs` is initialised; aws-lc reads from it, advances it, and
    // returns a new EVP_PKEY (owned by `Pkey`) or null.
    let key = Pkey::new(unsafe { sys::EVP_parse_private_key(&mut cbs) })?;
    if cbs.len != 0 {
        return Err(Error);
    }
    let private = raw_key(&key, true)?;
    let public = raw_key(&key, false)?;
    Ok((SecretBytes::new(private.to_vec()), public.to_vec()))
}

/// The raw private (expanded) or public key of `key`, in a buffer wiped on
/// drop.
fn raw_key(key: &Pkey, private: bool) -> Result<Zeroizing<Vec<u8>>, Error> {
    let get = if private {
        sys::EVP_PKEY_get_raw_private_key
    } else {
        sys::EVP_PKEY_get_raw_public_key
    };
    let mut len = 0usize;
    // SAFETY: a null output buffer asks aws-lc for the length only.
    if unsafe { get(key.0, ptr::null_mut(), &mut len) } != 1 {
        return Err(Error);
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    // SAFETY: `out` is valid for `len` bytes, the length aws-lc reported;
    // aws-lc writes at most that many and updates `len`.
    if unsafe { get(key.0, out.as_mut_ptr(), &mut len) } != 1 || len != out.len() {
        return Err(Error);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).expect("hex")
    }

    // RFC 8032 section 7.3, the Ed25519ph test vector ("abc").
    #[test]
    fn ed25519ph_rfc8032_test_vector() {
        let seed = h("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
        let public = h("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
        let expected = h(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
                          31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
        );
        let signature = ed25519ph_sign(&seed, b"abc").expect("sign");
        assert_eq!(signature.to_vec(), expected);
        ed25519ph_verify(&public, b"abc", &signature).expect("verify");
        assert!(ed25519ph_verify(&public, b"abd", &signature).is_err());
        let mut bad = signature;
        bad[10] ^= 1;
        assert!(ed25519ph_verify(&public, b"abc", &bad).is_err());
        assert!(ed25519ph_verify(&public[..31], b"abc", &signature).is_err());
        assert!(ed25519ph_sign(&seed[..31], b"abc").is_err());
    }
}
