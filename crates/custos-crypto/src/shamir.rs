//! Shamir's secret sharing over GF(256), through the audited `vsss-rs`
//! (its byte API: one polynomial per byte of the secret).
//!
//! Two things are done around the library on purpose:
//! - Its random numbers come from aws-lc's CSPRNG, drawn before the split
//!   into a buffer that is wiped afterwards; `vsss-rs` wants an infallible
//!   generator, and a failure of the system's is then reported, not
//!   papered over.
//! - `vsss-rs` leaves the last polynomial it used in freed memory
//!   (mikelodder7/vsss-rs#26). A zero byte is appended to the secret before
//!   splitting, so that polynomial is the padding byte's, which says
//!   nothing of the secret; [`combine`] drops it again.

use std::convert::Infallible;

use zeroize::{Zeroize, Zeroizing};

use crate::{Error, SecretBytes};

/// One share: its x-coordinate (1..=255) and one byte per byte of the
/// padded secret.
pub struct Share {
    pub index: u8,
    pub value: SecretBytes,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Share")
            .field("index", &self.index)
            .field("value", &self.value)
            .finish()
    }
}

/// Splits `secret` into `count` shares, any `threshold` of which give it
/// back; shares are numbered 1..=count. `threshold` must be at least 2 and
/// at most `count`.
pub fn split(secret: &[u8], threshold: u8, count: u8) -> Result<Vec<Share>, Error> {
    if secret.is_empty() || threshold < 2 || threshold > count {
        return Err(Error);
    }
    let mut padded = Zeroizing::new(Vec::with_capacity(secret.len() + 1));
    padded.extend_from_slice(secret);
    padded.push(0);
    // Each coefficient takes one `next_u32` (or a few bytes) at most; a
    // generous budget, checked after the split.
    let mut rng = Drawn::new(padded.len() * usize::from(threshold) * 16)?;
    let ids = (1..=count).map(|i| vsss_rs::IdentifierGf256(vsss_rs::Gf256(i)));
    let shares = vsss_rs::Gf256::split_bytes_with_participant_ids_iter(
        usize::from(threshold),
        usize::from(count),
        &padded[..],
        &mut rng,
        ids,
    );
    let mut shares = shares.map_err(|_| Error)?;
    if rng.exhausted {
        shares.iter_mut().for_each(|s| s.zeroize());
        return Err(Error);
    }
    Ok(shares
        .into_iter()
        .map(|mut s| {
            let index = s[0];
            let value = SecretBytes::from_slice(&s[1..]);
            s.zeroize();
            Share { index, value }
        })
        .collect())
}

/// Combines at least the threshold's number of shares of one split into
/// the secret. With fewer shares, or shares of different splits, the
/// result is simply wrong: callers check it (the shares provider opens an
/// AES-GCM wrapping with it).
pub fn combine(shares: &[Share]) -> Result<SecretBytes, Error> {
    let len = shares.first().ok_or(Error)?.value.len();
    if len < 2 || shares.iter().any(|s| s.value.len() != len || s.index == 0) {
        return Err(Error);
    }
    let mut raw: Vec<Vec<u8>> = shares
        .iter()
        .map(|s| {
            let mut v = Vec::with_capacity(len + 1);
            v.push(s.index);
            v.extend_from_slice(s.value.expose_secret());
            v
        })
        .collect();
    let secret = vsss_rs::Gf256::combine_bytes(&raw[..]);
    raw.iter_mut().for_each(|v| v.zeroize());
    let mut secret = Zeroizing::new(secret.map_err(|_| Error)?);
    // The padding byte.
    secret.pop();
    Ok(SecretBytes::from_slice(&secret))
}

/// Randomness drawn from aws-lc beforehand, handed out infallibly; if it
/// runs out, zeros follow and `exhausted` says the output must be thrown
/// away.
struct Drawn {
    bytes: Zeroizing<Vec<u8>>,
    at: usize,
    exhausted: bool,
}

impl Drawn {
    fn new(len: usize) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        crate::rand::fill(&mut bytes)?;
        Ok(Self {
            bytes,
            at: 0,
            exhausted: false,
        })
    }
}

impl rand_core::TryRng for Drawn {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        match self.bytes.get(self.at..self.at + dst.len()) {
            Some(src) => {
                dst.copy_from_slice(src);
                self.at += dst.len();
            }
            None => {
                dst.fill(0);
                self.exhausted = true;
            }
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Drawn {}

#[cfg(test)]
mod tests {
    use super::*;

    fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
        (0u32..1 << n)
            .filter(|m| m.count_ones() as usize == k)
            .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
            .collect()
    }

    fn pick(shares: &[Share], which: &[usize]) -> Vec<Share> {
        which
            .iter()
            .map(|&i| Share {
                index: shares[i].index,
                value: shares[i].value.duplicate(),
            })
            .collect()
    }

    #[test]
    fn every_threshold_subset_gives_the_secret_and_fewer_do_not() {
        let secret: [u8; 32] = crate::rand::array().expect("rng");
        let shares = split(&secret, 3, 5).expect("split");
        assert_eq!(
            shares.iter().map(|s| s.index).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        for which in subsets(5, 3).into_iter().chain(subsets(5, 4)) {
            let back = combine(&pick(&shares, &which)).expect("combine");
            assert_eq!(back.expose_secret(), secret, "{which:?}");
        }
        for which in subsets(5, 2) {
            let back = combine(&pick(&shares, &which)).expect("combine");
            assert_ne!(back.expose_secret(), secret, "{which:?}");
        }
    }

    #[test]
    fn a_changed_share_changes_the_result() {
        let secret: [u8; 32] = crate::rand::array().expect("rng");
        let shares = split(&secret, 2, 3).expect("split");
        let mut two = pick(&shares, &[0, 2]);
        two[1].value.expose_secret_mut()[7] ^= 0x40;
        let back = combine(&two).expect("combine");
        assert_ne!(back.expose_secret(), secret);
        // Only the changed byte is wrong: GF(256) sharing is per byte,
        // which is why shares carry a check of their own.
        let wrong = (0..32)
            .filter(|&i| back.expose_secret()[i] != secret[i])
            .count();
        assert_eq!(wrong, 1);
    }

    #[test]
    fn impossible_parameters_are_refused() {
        assert!(split(b"k", 1, 3).is_err());
        assert!(split(b"k", 4, 3).is_err());
        assert!(split(b"", 2, 3).is_err());
        assert!(combine(&[]).is_err());
        assert!(split(b"k", 255, 255).is_ok());
    }
}
