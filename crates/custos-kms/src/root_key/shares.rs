//! The shares root-key provider: the root key is split into `n` shares by
//! Shamir's scheme (`custos_crypto::shamir`), any `t` of which rebuild it.
//! No share, and nothing in the data directory, opens the store alone:
//! the server starts sealed and waits for operators to enter `t` shares.
//!
//! A share as it is handed out and typed back:
//!
//! ```text
//! custos-share-1-<hex of: threshold ‖ index ‖ value (33) ‖ check (4)>
//! check = SHA-256("custos.share.v1" ‖ threshold ‖ index ‖ value)[..4]
//! ```
//!
//! The check catches a mistyped or truncated share. A well-formed share of
//! another split (another installation, or before a rekey) is caught by
//! the commitments the wrapped store key records: SHA-256 of each share,
//! so each share is checked as it is entered and a wrong one is named by
//! its number, instead of silently combining into a wrong key. The
//! commitments hide the shares as well as the 256-bit root key hides
//! itself: a share cannot be guessed from its hash.
//!
//! The wrapped store key:
//!
//! ```text
//! 0x05 ‖ threshold ‖ count ‖ commitments (count × 32) ‖ nonce (12) ‖ sealed store key (48)
//! ```
//!
//! with the whole header bound as associated data.

use std::fmt;

use custos_crypto::mac::sha256;
use custos_crypto::shamir::{self, Share};
use custos_crypto::{Key256, SecretBytes, aead, ct};

use super::{RootKeyError, RootKeyProvider};

const WRAP_FORMAT: u8 = 5;
const TEXT_PREFIX: &str = "custos-share-1-";
const CHECK_LEN: usize = 4;
/// A share's value: one byte per root-key byte, and the padding byte.
const VALUE_LEN: usize = Key256::LEN + 1;
const COMMITMENT_LEN: usize = 32;
/// The provider's kind, recorded beside the wrapped store key.
pub const KIND: &str = "shares";

/// Why a share was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error(
        "this is not a Custos share, or it was mistyped: its check does not match \
         (shares look like custos-share-1-…)"
    )]
    Malformed,
    #[error(
        "share {index} is not one of this installation's shares (another installation's, or from before a rekey)"
    )]
    NotOurs { index: u8 },
    #[error("share {index} was already entered")]
    Duplicate { index: u8 },
    #[error("share {index} is for a threshold of {given}; this installation needs {threshold}")]
    WrongThreshold { index: u8, given: u8, threshold: u8 },
}

fn check(threshold: u8, index: u8, value: &[u8]) -> [u8; CHECK_LEN] {
    let digest = sha256(&[b"custos.share.v1", &[threshold, index][..], value].concat());
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&digest[..CHECK_LEN]);
    out
}

fn commitment(index: u8, value: &[u8]) -> [u8; COMMITMENT_LEN] {
    sha256(&[b"custos.share-commitment.v1", &[index][..], value].concat())
}

/// A share in the text form operators keep.
pub fn share_text(threshold: u8, share: &Share) -> SecretBytes {
    let value = share.value.expose_secret();
    let mut raw = zeroize::Zeroizing::new(vec![threshold, share.index]);
    raw.extend_from_slice(value);
    raw.extend_from_slice(&check(threshold, share.index, value));
    let mut text = TEXT_PREFIX.as_bytes().to_vec();
    text.extend_from_slice(hex::encode(&raw[..]).as_bytes());
    SecretBytes::new(text)
}

/// Reads a share typed back: `(threshold, share)`. Whitespace is ignored.
pub fn parse_share(text: &[u8]) -> Result<(u8, Share), ShareError> {
    let compact: zeroize::Zeroizing<Vec<u8>> = zeroize::Zeroizing::new(
        text.iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect(),
    );
    let hex_part = compact
        .strip_prefix(TEXT_PREFIX.as_bytes())
        .ok_or(ShareError::Malformed)?;
    let raw = zeroize::Zeroizing::new(hex::decode(hex_part).map_err(|_| ShareError::Malformed)?);
    if raw.len() != 2 + VALUE_LEN + CHECK_LEN {
        return Err(ShareError::Malformed);
    }
    let (threshold, index) = (raw[0], raw[1]);
    let value = &raw[2..2 + VALUE_LEN];
    if !ct::eq(&raw[2 + VALUE_LEN..], &check(threshold, index, value)) || index == 0 {
        return Err(ShareError::Malformed);
    }
    Ok((
        threshold,
        Share {
            index,
            value: SecretBytes::from_slice(value),
        },
    ))
}

/// The header of a wrapped store key: threshold, count, commitments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    threshold: u8,
    commitments: Vec<[u8; COMMITMENT_LEN]>,
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let mut out = vec![WRAP_FORMAT, self.threshold, self.commitments.len() as u8];
        for c in &self.commitments {
            out.extend_from_slice(c);
        }
        out
    }

    /// The header and where it ends; `None` if `wrapped` is not one.
    fn read(wrapped: &[u8]) -> Option<(Header, usize)> {
        let (&format, rest) = wrapped.split_first()?;
        let (&threshold, rest) = rest.split_first()?;
        let (&count, rest) = rest.split_first()?;
        if format != WRAP_FORMAT || threshold < 2 || threshold > count {
            return None;
        }
        let len = usize::from(count) * COMMITMENT_LEN;
        let commitments = rest
            .get(..len)?
            .chunks_exact(COMMITMENT_LEN)
            .map(|c| c.try_into().ok())
            .collect::<Option<Vec<_>>>()?;
        Some((
            Header {
                threshold,
                commitments,
            },
            3 + len,
        ))
    }
}

/// A root key rebuilt from shares (or just made and split), with the
/// commitments to its shares, which every wrapping records.
pub struct SharesRoot {
    root: Key256,
    header: Header,
}

impl fmt::Debug for SharesRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharesRoot")
            .field("threshold", &self.header.threshold)
            .field("shares", &self.header.commitments.len())
            .finish_non_exhaustive()
    }
}

impl SharesRoot {
    /// A new random root key split into `count` shares, `threshold` of
    /// which rebuild it; the shares in their text form, to be shown once.
    pub fn generate(
        threshold: u8,
        count: u8,
    ) -> Result<(SharesRoot, Vec<SecretBytes>), RootKeyError> {
        if threshold < 2 || threshold > count {
            return Err(RootKeyError::Unavailable {
                provider: KIND,
                message: format!(
                    "a threshold of {threshold} out of {count} shares is not possible \
                     (2 ≤ threshold ≤ shares ≤ 255)"
                ),
            });
        }
        let root = Key256::generate()?;
        let shares = shamir::split(root.expose_secret(), threshold, count)?;
        let header = Header {
            threshold,
            commitments: shares
                .iter()
                .map(|s| commitment(s.index, s.value.expose_secret()))
                .collect(),
        };
        let texts = shares.iter().map(|s| share_text(threshold, s)).collect();
        Ok((SharesRoot { root, header }, texts))
    }

    pub fn threshold(&self) -> u8 {
        self.header.threshold
    }

    pub fn count(&self) -> u8 {
        self.header.commitments.len() as u8
    }
}

impl RootKeyProvider for SharesRoot {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn is_development(&self) -> bool {
        false
    }

    fn wrap(&self, store_key: &Key256, aad: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let nonce: [u8; aead::NONCE_LEN] = custos_crypto::rand::array()?;
        let mut out = self.header.encode();
        let bound = [aad, &out].concat();
        out.extend_from_slice(&nonce);
        aead::seal_append(
            &self.root,
            &nonce,
            &bound,
            store_key.expose_secret(),
            &mut out,
        )?;
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key256, RootKeyError> {
        let (_, at) = Header::read(wrapped).ok_or(RootKeyError::WrongKey)?;
        let nonce: [u8; aead::NONCE_LEN] = wrapped
            .get(at..at + aead::NONCE_LEN)
            .and_then(|n| n.try_into().ok())
            .ok_or(RootKeyError::WrongKey)?;
        let bound = [aad, &wrapped[..at]].concat();
        let store_key = aead::open(&self.root, &nonce, &bound, &wrapped[at + aead::NONCE_LEN..])
            .map_err(|_| RootKeyError::WrongKey)?;
        Ok(Key256::from_slice(store_key.expose_secret())?)
    }
}

/// How far an unseal has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Shares entered and accepted.
    pub entered: u8,
    pub threshold: u8,
    /// How many shares exist.
    pub count: u8,
}

/// Collects shares, one at a time, checking each against the commitments
/// of a wrapped store key, until the threshold is met.
pub struct Unsealer {
    header: Header,
    shares: Vec<Share>,
}

impl fmt::Debug for Unsealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unsealer")
            .field("progress", &self.progress())
            .finish()
    }
}

impl Unsealer {
    /// An unsealer for `wrapped`, a store key wrapped by [`SharesRoot`].
    pub fn new(wrapped: &[u8]) -> Result<Unsealer, RootKeyError> {
        let (header, _) = Header::read(wrapped).ok_or(RootKeyError::WrongKey)?;
        Ok(Unsealer {
            header,
            shares: Vec::new(),
        })
    }

    pub fn progress(&self) -> Progress {
        Progress {
            entered: self.shares.len() as u8,
            threshold: self.header.threshold,
            count: self.header.commitments.len() as u8,
        }
    }

    /// Takes one share in its text form.
    pub fn add(&mut self, text: &[u8]) -> Result<Progress, ShareError> {
        let (given, share) = parse_share(text)?;
        let index = share.index;
        let ours = self
            .header
            .commitments
            .get(usize::from(index) - 1)
            .is_some_and(|c| ct::eq(c, &commitment(index, share.value.expose_secret())));
        if !ours {
            return Err(ShareError::NotOurs { index });
        }
        if given != self.header.threshold {
            return Err(ShareError::WrongThreshold {
                index,
                given,
                threshold: self.header.threshold,
            });
        }
        if self.shares.iter().any(|s| s.index == index) {
            return Err(ShareError::Duplicate { index });
        }
        if self.shares.len() < usize::from(self.header.threshold) {
            self.shares.push(share);
        }
        Ok(self.progress())
    }

    /// The root key, once enough shares are in; `None` before.
    pub fn root(&self) -> Result<Option<SharesRoot>, RootKeyError> {
        if self.shares.len() < usize::from(self.header.threshold) {
            return Ok(None);
        }
        let secret = shamir::combine(&self.shares)?;
        Ok(Some(SharesRoot {
            root: Key256::from_slice(secret.expose_secret())?,
            header: self.header.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
        (0u32..1 << n)
            .filter(|m| m.count_ones() as usize == k)
            .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
            .collect()
    }

    fn three_of_five() -> (Vec<u8>, Key256, Vec<SecretBytes>) {
        let (root, shares) = SharesRoot::generate(3, 5).expect("generate");
        let store_key = Key256::generate().expect("rng");
        let wrapped = root.wrap(&store_key, b"aad").expect("wrap");
        (wrapped, store_key, shares)
    }

    #[test]
    fn every_three_of_five_opens_and_no_two_do() {
        let (wrapped, store_key, shares) = three_of_five();
        for which in subsets(5, 3) {
            let mut u = Unsealer::new(&wrapped).expect("unsealer");
            for (n, &i) in which.iter().enumerate() {
                assert!(u.root().expect("root").is_none());
                let p = u.add(shares[i].expose_secret()).expect("share");
                assert_eq!((p.entered, p.threshold, p.count), (n as u8 + 1, 3, 5));
            }
            let root = u.root().expect("combine").expect("complete");
            let back = root.unwrap(&wrapped, b"aad").expect("unwrap");
            assert_eq!(back.expose_secret(), store_key.expose_secret(), "{which:?}");
            // A rebuilt root wraps with the same commitments.
            let again = root.wrap(&store_key, b"aad").expect("wrap");
            assert_eq!(again[..3 + 5 * 32], wrapped[..3 + 5 * 32]);
        }
        for which in subsets(5, 2) {
            let mut u = Unsealer::new(&wrapped).expect("unsealer");
            for &i in &which {
                u.add(shares[i].expose_secret()).expect("share");
            }
            assert!(u.root().expect("root").is_none(), "{which:?}");
        }
    }

    #[test]
    fn corrupted_foreign_and_repeated_shares_are_named() {
        let (wrapped, _, shares) = three_of_five();
        let mut u = Unsealer::new(&wrapped).expect("unsealer");
        // Every single-character change of the hex is caught by the check.
        let good = shares[1].expose_secret().to_vec();
        for i in TEXT_PREFIX.len()..good.len() {
            let mut bad = good.clone();
            bad[i] = if bad[i] == b'0' { b'1' } else { b'0' };
            assert_eq!(u.add(&bad), Err(ShareError::Malformed), "char {i}");
        }
        assert_eq!(u.add(&good[..good.len() - 2]), Err(ShareError::Malformed));
        assert_eq!(u.add(b"hello"), Err(ShareError::Malformed));
        // Share 2 of another installation: well formed, not ours.
        let (_, _, other) = three_of_five();
        assert_eq!(
            u.add(other[1].expose_secret()),
            Err(ShareError::NotOurs { index: 2 })
        );
        // Spaces and line breaks, as when copied from a terminal, are fine.
        let mut spaced = good[..30].to_vec();
        spaced.extend_from_slice(b" \n ");
        spaced.extend_from_slice(&good[30..]);
        assert_eq!(u.add(&spaced).expect("share").entered, 1);
        assert_eq!(u.add(&good), Err(ShareError::Duplicate { index: 2 }));
        assert_eq!(u.progress().entered, 1);
        // The wrapped key's header is bound: an edited threshold or
        // commitment does not unwrap.
        let mut u = Unsealer::new(&wrapped).expect("unsealer");
        for s in &shares[..3] {
            u.add(s.expose_secret()).expect("share");
        }
        let root = u.root().expect("combine").expect("complete");
        for i in [1, 2, 3, 40] {
            let mut edited = wrapped.clone();
            edited[i] ^= 1;
            assert!(root.unwrap(&edited, b"aad").is_err(), "byte {i}");
        }
    }

    #[test]
    fn impossible_splits_are_refused_and_nothing_leaks_in_debug() {
        assert!(SharesRoot::generate(1, 5).is_err());
        assert!(SharesRoot::generate(6, 5).is_err());
        let (root, shares) = SharesRoot::generate(2, 2).expect("generate");
        let shown = format!("{root:?}");
        assert!(shown.contains("threshold: 2"));
        let text = String::from_utf8(shares[0].expose_secret().to_vec()).expect("utf8");
        assert!(!shown.contains(&text[TEXT_PREFIX.len()..]));
        assert!(!format!("{:?}", shares[0]).contains(&text[TEXT_PREFIX.len()..]));
    }
}
