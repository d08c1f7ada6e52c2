//! The message body: frames, their IVs and AAD, and the per-frame cipher.
//!
//! Layout (`data-format/message-body.md`), integers big-endian:
//!
//! - regular frame: sequence number (4) ‖ IV (12) ‖ ciphertext
//!   (frame length) ‖ tag (16);
//! - final frame: `FFFFFFFF` ‖ sequence number (4) ‖ IV (12) ‖ content
//!   length (4) ‖ ciphertext (content length ≤ frame length) ‖ tag (16);
//! - non-framed body (legacy, read only): IV (12) ‖ content length (8) ‖
//!   ciphertext ‖ tag (16).
//!
//! Sequence numbers start at 1 and count up by one; the final frame's is the
//! number of frames. The IV of a frame is its sequence number, big-endian,
//! left-padded with zeros to 12 bytes (non-framed: sequence number 1). The
//! AAD (`data-format/message-body-aad.md`) is message ID ‖ body AAD content
//! string ‖ sequence number (4) ‖ plaintext length (8).
//!
//! So a frame's IV and AAD depend only on the message ID, its sequence
//! number and its length: [`FrameCipher`] seals or opens any frame on its
//! own, and is `Sync`, so frames can be handed to a thread pool. Only the
//! order of the output (and the signature hash over the serialized frames)
//! is sequential.

use std::fmt;

use custos_crypto::aes_gcm::AesGcmKey;

use crate::error::{Error, FormatError};
use crate::header::MessageId;
use crate::suite::AlgorithmSuite;

/// The marker that starts a final frame.
pub const SEQUENCE_NUMBER_END: u32 = 0xFFFF_FFFF;

/// The largest non-framed content: 2^36 - 32 bytes, the AES-GCM limit.
pub const MAX_NON_FRAMED_LEN: u64 = (1 << 36) - 32;

const IV: usize = AlgorithmSuite::IV_LEN;
const TAG: usize = AlgorithmSuite::TAG_LEN;

/// Which part of a body some ciphertext is, which fixes its AAD string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyPart {
    NonFramed,
    RegularFrame,
    FinalFrame,
}

impl BodyPart {
    /// The "body AAD content" string.
    pub fn aad_content(self) -> &'static [u8] {
        match self {
            Self::NonFramed => b"AWSKMSEncryptionClient Single Block",
            Self::RegularFrame => b"AWSKMSEncryptionClient Frame",
            Self::FinalFrame => b"AWSKMSEncryptionClient Final Frame",
        }
    }
}

/// The IV of the frame with sequence number `seq`.
pub fn frame_iv(seq: u32) -> [u8; IV] {
    let mut iv = [0u8; IV];
    iv[IV - 4..].copy_from_slice(&seq.to_be_bytes());
    iv
}

/// The AAD of a frame (or of a non-framed body, with `seq` = 1).
pub fn body_aad(message_id: &MessageId, part: BodyPart, seq: u32, content_len: u64) -> Vec<u8> {
    let content = part.aad_content();
    let mut aad = Vec::with_capacity(message_id.as_bytes().len() + content.len() + 12);
    aad.extend_from_slice(message_id.as_bytes());
    aad.extend_from_slice(content);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(&content_len.to_be_bytes());
    aad
}

/// Where the next frame ends, as found by [`FrameCipher::next_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameExtent {
    /// A frame of this many serialized bytes starts the buffer.
    Complete { part: BodyPart, len: usize },
    /// The buffer must hold at least this many bytes to tell.
    Need(usize),
}

/// Seals and opens the frames of one message: the content key, the message
/// ID and the frame length. Each call is independent of every other.
pub struct FrameCipher {
    key: AesGcmKey,
    message_id: MessageId,
    frame_length: u32,
}

impl FrameCipher {
    pub(crate) fn new(key: AesGcmKey, message_id: MessageId, frame_length: u32) -> Self {
        Self {
            key,
            message_id,
            frame_length,
        }
    }

    pub fn message_id(&self) -> &MessageId {
        &self.message_id
    }

    pub fn frame_length(&self) -> u32 {
        self.frame_length
    }

    /// The serialized length of a regular frame.
    pub fn regular_frame_len(&self) -> usize {
        4 + IV + self.frame_length as usize + TAG
    }

    /// The serialized length of a final frame holding `content_len` bytes.
    pub fn final_frame_len(content_len: usize) -> usize {
        4 + 4 + IV + 4 + content_len + TAG
    }

    /// Finds the extent of the frame at the start of `buf`, checking the
    /// final frame's length against the frame length.
    pub fn next_frame(&self, buf: &[u8]) -> Result<FrameExtent, Error> {
        let Some(first) = buf.get(..4) else {
            return Ok(FrameExtent::Need(4));
        };
        if first != SEQUENCE_NUMBER_END.to_be_bytes() {
            return Ok(frame_extent(
                buf,
                BodyPart::RegularFrame,
                self.regular_frame_len(),
            ));
        }
        let Some(len) = buf.get(4 + 4 + IV..4 + 4 + IV + 4) else {
            return Ok(FrameExtent::Need(4 + 4 + IV + 4));
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        if len > self.frame_length {
            return Err(FormatError::FinalFrameTooLong {
                length: len,
                frame_length: self.frame_length,
            }
            .into());
        }
        Ok(frame_extent(
            buf,
            BodyPart::FinalFrame,
            Self::final_frame_len(len as usize),
        ))
    }

    /// Appends regular frame `seq` holding `plaintext`, which must be
    /// exactly one frame length long. `seq` must be below `0xFFFFFFFF`.
    pub fn seal_regular(&self, seq: u32, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if plaintext.len() != self.frame_length as usize {
            return Err(Error::InvalidMaterials(
                "a regular frame must be one frame length long",
            ));
        }
        if seq == 0 || seq == SEQUENCE_NUMBER_END {
            return Err(Error::PlaintextTooLong);
        }
        let iv = frame_iv(seq);
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&iv);
        let aad = body_aad(
            &self.message_id,
            BodyPart::RegularFrame,
            seq,
            plaintext.len() as u64,
        );
        self.key
            .seal_append(&iv, &aad, plaintext, out)
            .map_err(Error::Crypto)
    }

    /// Appends the final frame, number `seq`, holding `plaintext` (at most
    /// one frame length; may be empty).
    pub fn seal_final(&self, seq: u32, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let len = u32::try_from(plaintext.len())
            .ok()
            .filter(|l| *l <= self.frame_length)
            .ok_or(Error::InvalidMaterials(
                "the final frame is longer than the frame length",
            ))?;
        if seq == 0 {
            return Err(Error::PlaintextTooLong);
        }
        let iv = frame_iv(seq);
        out.extend_from_slice(&SEQUENCE_NUMBER_END.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&len.to_be_bytes());
        let aad = body_aad(&self.message_id, BodyPart::FinalFrame, seq, u64::from(len));
        self.key
            .seal_append(&iv, &aad, plaintext, out)
            .map_err(Error::Crypto)
    }

    /// Opens the serialized regular frame `frame`, which must be frame
    /// number `seq`, appending its plaintext to `out`.
    pub fn open_regular(&self, seq: u32, frame: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if frame.len() != self.regular_frame_len() {
            return Err(Error::Truncated);
        }
        let (found, rest) = frame.split_at(4);
        check_sequence(seq, found)?;
        let (iv, rest) = rest.split_at(IV);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG);
        self.open(BodyPart::RegularFrame, seq, iv, ciphertext, tag, out)
    }

    /// Opens the serialized final frame `frame` (from its `FFFFFFFF`
    /// marker), which must be frame number `seq`.
    pub fn open_final(&self, seq: u32, frame: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        match self.next_frame(frame)? {
            FrameExtent::Complete {
                part: BodyPart::FinalFrame,
                len,
            } if len == frame.len() => {}
            _ => return Err(Error::Truncated),
        }
        let rest = &frame[4..];
        let (found, rest) = rest.split_at(4);
        check_sequence(seq, found)?;
        let (iv, rest) = rest.split_at(IV);
        let (_len, rest) = rest.split_at(4);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG);
        self.open(BodyPart::FinalFrame, seq, iv, ciphertext, tag, out)
    }

    /// Opens a whole non-framed body (IV, length, ciphertext, tag).
    pub fn open_non_framed(&self, body: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if body.len() < IV + 8 + TAG {
            return Err(Error::Truncated);
        }
        let (iv, rest) = body.split_at(IV);
        let (len, rest) = rest.split_at(8);
        let len = u64::from_be_bytes(len.try_into().map_err(|_| Error::Truncated)?);
        if len > MAX_NON_FRAMED_LEN {
            return Err(FormatError::NonFramedTooLong(len).into());
        }
        if rest.len() as u64 != len + TAG as u64 {
            return Err(Error::Truncated);
        }
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG);
        self.open(BodyPart::NonFramed, 1, iv, ciphertext, tag, out)
    }

    /// Seals a whole plaintext as a non-framed body. The specification
    /// forbids writing these; this exists to test the reader.
    #[cfg(test)]
    pub(crate) fn seal_non_framed(&self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let iv = frame_iv(1);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&(plaintext.len() as u64).to_be_bytes());
        let aad = body_aad(
            &self.message_id,
            BodyPart::NonFramed,
            1,
            plaintext.len() as u64,
        );
        self.key
            .seal_append(&iv, &aad, plaintext, out)
            .map_err(Error::Crypto)
    }

    fn open(
        &self,
        part: BodyPart,
        seq: u32,
        iv: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        // The IV is determined by the sequence number; a message whose IV
        // field says otherwise is malformed even if the tag would verify
        // under the expected IV, since the field itself is not authenticated
        // by the tag.
        let expected = frame_iv(seq);
        if iv != expected {
            return Err(FormatError::FrameIv(seq).into());
        }
        let aad = body_aad(&self.message_id, part, seq, ciphertext.len() as u64);
        self.key
            .open_append(&expected, &aad, ciphertext, tag, out)
            .map_err(|_| Error::AuthenticationFailed)
    }
}

impl fmt::Debug for FrameCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameCipher")
            .field("key", &self.key)
            .field("message_id", &self.message_id)
            .field("frame_length", &self.frame_length)
            .finish()
    }
}

fn frame_extent(buf: &[u8], part: BodyPart, len: usize) -> FrameExtent {
    if buf.len() >= len {
        FrameExtent::Complete { part, len }
    } else {
        FrameExtent::Need(len)
    }
}

fn check_sequence(expected: u32, found: &[u8]) -> Result<(), Error> {
    let found = u32::from_be_bytes(found.try_into().map_err(|_| Error::Truncated)?);
    if found != expected {
        return Err(FormatError::SequenceNumber { expected, found }.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::MessageFormatVersion;

    fn cipher(frame_length: u32) -> FrameCipher {
        FrameCipher::new(
            AesGcmKey::new(&[1u8; 32]).expect("key"),
            MessageId::generate(MessageFormatVersion::V2).expect("rng"),
            frame_length,
        )
    }

    #[test]
    fn frame_cipher_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<FrameCipher>();
        shareable::<std::sync::Arc<FrameCipher>>();
    }

    #[test]
    fn iv_and_aad_layout() {
        assert_eq!(hex::encode(frame_iv(1)), "000000000000000000000001");
        assert_eq!(
            hex::encode(frame_iv(0x01020304)),
            "000000000000000001020304"
        );
        let id = MessageId::from_bytes(&[0xaa; 16]).expect("id");
        let aad = body_aad(&id, BodyPart::FinalFrame, 3, 5);
        let mut expected = vec![0xaa; 16];
        expected.extend_from_slice(b"AWSKMSEncryptionClient Final Frame");
        expected.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(aad, expected);
    }

    #[test]
    fn frames_open_independently_and_in_any_order() {
        let c = cipher(8);
        let mut frames = Vec::new();
        for seq in 1..=3u32 {
            let mut f = Vec::new();
            c.seal_regular(seq, &[seq as u8; 8], &mut f).expect("seal");
            assert_eq!(f.len(), c.regular_frame_len());
            frames.push(f);
        }
        let mut last = Vec::new();
        c.seal_final(4, b"abc", &mut last).expect("seal");
        assert_eq!(last.len(), FrameCipher::final_frame_len(3));
        for seq in [3u32, 1, 2] {
            let mut out = Vec::new();
            c.open_regular(seq, &frames[seq as usize - 1], &mut out)
                .expect("open");
            assert_eq!(out, vec![seq as u8; 8]);
        }
        let mut out = Vec::new();
        c.open_final(4, &last, &mut out).expect("open");
        assert_eq!(out, b"abc");
        // Out of place: wrong sequence number, or a regular frame as final.
        assert!(matches!(
            c.open_regular(2, &frames[0], &mut out),
            Err(Error::Malformed(FormatError::SequenceNumber {
                expected: 2,
                found: 1
            }))
        ));
        assert!(c.open_final(1, &frames[0], &mut out).is_err());
        assert_eq!(
            c.next_frame(&last).expect("extent"),
            FrameExtent::Complete {
                part: BodyPart::FinalFrame,
                len: last.len()
            }
        );
        assert_eq!(
            c.next_frame(&last[..10]).expect("extent"),
            FrameExtent::Need(24)
        );
        assert_eq!(
            c.next_frame(&frames[0][..5]).expect("extent"),
            FrameExtent::Need(c.regular_frame_len())
        );
    }

    #[test]
    fn rejects_bad_lengths_and_ivs() {
        let c = cipher(8);
        assert!(c.seal_regular(1, &[0; 7], &mut Vec::new()).is_err());
        assert!(
            c.seal_regular(SEQUENCE_NUMBER_END, &[0; 8], &mut Vec::new())
                .is_err()
        );
        assert!(c.seal_final(1, &[0; 9], &mut Vec::new()).is_err());
        let mut f = Vec::new();
        c.seal_final(1, &[0; 8], &mut f).expect("seal");
        let mut long = f.clone();
        long[4 + 4 + 12 + 3] = 9;
        assert!(matches!(
            c.next_frame(&long),
            Err(Error::Malformed(FormatError::FinalFrameTooLong {
                length: 9,
                frame_length: 8
            }))
        ));
        let mut bad_iv = f.clone();
        bad_iv[8] = 1;
        assert!(matches!(
            c.open_final(1, &bad_iv, &mut Vec::new()),
            Err(Error::Malformed(FormatError::FrameIv(1)))
        ));
        let mut bad_tag = f;
        let last = bad_tag.len() - 1;
        bad_tag[last] ^= 1;
        let mut out = b"x".to_vec();
        assert!(matches!(
            c.open_final(1, &bad_tag, &mut out),
            Err(Error::AuthenticationFailed)
        ));
        assert_eq!(out, b"x");
    }

    #[test]
    fn non_framed_round_trip() {
        let c = cipher(0);
        let mut body = Vec::new();
        c.seal_non_framed(b"legacy", &mut body).expect("seal");
        let mut out = Vec::new();
        c.open_non_framed(&body, &mut out).expect("open");
        assert_eq!(out, b"legacy");
        assert!(
            c.open_non_framed(&body[..body.len() - 1], &mut out)
                .is_err()
        );
    }
}
