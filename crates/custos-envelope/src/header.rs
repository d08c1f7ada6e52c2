//! The message header: its fields, its serialization, and an incremental
//! parser that never needs more than the header's own bytes.
//!
//! Layout (`data-format/message-header.md`), all integers big-endian:
//!
//! | v1 (suites 0x00xx–0x03xx) | v2 (suites 0x0478, 0x0578) |
//! | --- | --- |
//! | version `01` | version `02` |
//! | type `80` | — |
//! | suite ID (2) | suite ID (2) |
//! | message ID (16) | message ID (32) |
//! | encryption context: length (2) + serialization | same |
//! | EDK count (2), then per EDK: provider ID, provider info, ciphertext, each with a `u16` length | same |
//! | content type (1): `01` non-framed, `02` framed | same |
//! | reserved `00000000` | — |
//! | IV length `0C` | — |
//! | frame length (4) | frame length (4) |
//! | — | commitment key (32) |
//! | header IV (12, zeros when written) | — |
//! | header tag (16) | header tag (16) |
//!
//! Everything before the IV is the *header body*, the AAD of the header tag.

use std::fmt;

use crate::context::EncryptionContext;
use crate::error::{Error, FormatError};
use crate::suite::{AlgorithmSuite, MessageFormatVersion};
use crate::wire::{Cursor, put_u16_prefixed};

/// The `Type` byte of v1 headers: customer authenticated encrypted data.
const MESSAGE_TYPE: u8 = 0x80;

/// How the body is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// One IV, one length, one ciphertext, one tag. Legacy: read, never
    /// written.
    NonFramed = 1,
    /// A sequence of frames of `frame_length` bytes and a final frame.
    Framed = 2,
}

/// A message ID: 16 random bytes in v1 messages, 32 in v2.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageId(Vec<u8>);

impl MessageId {
    /// A fresh random ID of the length `version` uses.
    pub fn generate(version: MessageFormatVersion) -> Result<Self, Error> {
        let mut id = vec![0u8; version.message_id_len()];
        custos_crypto::rand::fill(&mut id).map_err(Error::Crypto)?;
        Ok(Self(id))
    }

    /// An ID from its bytes, which must be 16 or 32 long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        matches!(bytes.len(), 16 | 32).then(|| Self(bytes.to_vec()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// A data key wrapped by one key provider. Not secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedDataKey {
    /// The key provider ID (the keyring's namespace, or `aws-kms`).
    pub provider_id: String,
    /// Provider-specific information: a key name, a key ARN, an IV…
    pub provider_info: Vec<u8>,
    /// The wrapped data key.
    pub ciphertext: Vec<u8>,
}

/// A parsed or freshly built message header.
///
/// A `Header` handed out by a [`crate::Decryptor`] has been authenticated;
/// one returned by [`Header::parse`] has not.
#[derive(Debug, Clone)]
pub struct Header {
    suite: AlgorithmSuite,
    message_id: MessageId,
    encryption_context: EncryptionContext,
    encrypted_data_keys: Vec<EncryptedDataKey>,
    content_type: ContentType,
    frame_length: u32,
    commitment: Option<[u8; AlgorithmSuite::COMMITMENT_LEN]>,
    iv: [u8; AlgorithmSuite::IV_LEN],
    tag: [u8; AlgorithmSuite::TAG_LEN],
    /// The serialized header body, as read or written.
    body: Vec<u8>,
}

impl Header {
    pub fn version(&self) -> MessageFormatVersion {
        self.suite.message_format_version()
    }

    pub fn suite(&self) -> AlgorithmSuite {
        self.suite
    }

    pub fn message_id(&self) -> &MessageId {
        &self.message_id
    }

    /// The encryption context stored in the header. Entries that were
    /// authenticated but not stored are not here (see
    /// [`crate::Decryptor::encryption_context`]).
    pub fn stored_encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    pub fn encrypted_data_keys(&self) -> &[EncryptedDataKey] {
        &self.encrypted_data_keys
    }

    pub fn content_type(&self) -> ContentType {
        self.content_type
    }

    /// The plaintext length of each regular frame; 0 for non-framed bodies.
    pub fn frame_length(&self) -> u32 {
        self.frame_length
    }

    /// The commitment key of v2 headers.
    pub fn commitment(&self) -> Option<&[u8; AlgorithmSuite::COMMITMENT_LEN]> {
        self.commitment.as_ref()
    }

    /// The serialized header body: the AAD of the header tag.
    pub fn body_bytes(&self) -> &[u8] {
        &self.body
    }

    /// The IV of the header tag: the v1 header IV field, zeros for v2.
    pub fn iv(&self) -> &[u8; AlgorithmSuite::IV_LEN] {
        &self.iv
    }

    pub fn tag(&self) -> &[u8; AlgorithmSuite::TAG_LEN] {
        &self.tag
    }

    /// The serialized length of the whole header.
    pub fn serialized_len(&self) -> usize {
        self.body.len() + self.auth_len()
    }

    fn auth_len(&self) -> usize {
        match self.version() {
            MessageFormatVersion::V1 => AlgorithmSuite::IV_LEN + AlgorithmSuite::TAG_LEN,
            MessageFormatVersion::V2 => AlgorithmSuite::TAG_LEN,
        }
    }

    /// The serialized header: body, then the authentication fields.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.serialized_len());
        out.extend_from_slice(&self.body);
        if self.version() == MessageFormatVersion::V1 {
            out.extend_from_slice(&self.iv);
        }
        out.extend_from_slice(&self.tag);
        out
    }

    /// Parses a complete header from the start of `bytes`, returning it and
    /// its length. Nothing is authenticated here. `Error::Truncated` if
    /// `bytes` ends inside the header.
    pub fn parse(
        bytes: &[u8],
        max_encrypted_data_keys: Option<usize>,
    ) -> Result<(Self, usize), Error> {
        match HeaderParser::new(max_encrypted_data_keys).advance(bytes)? {
            Parse::Done(header, len) => Ok((header, len)),
            Parse::Need(_) => Err(Error::Truncated),
        }
    }

    /// Builds the header body of a new framed message; the tag is set
    /// later with [`Self::set_auth`].
    pub(crate) fn new_framed(
        suite: AlgorithmSuite,
        message_id: MessageId,
        stored_context: EncryptionContext,
        encrypted_data_keys: Vec<EncryptedDataKey>,
        frame_length: u32,
        commitment: Option<[u8; AlgorithmSuite::COMMITMENT_LEN]>,
    ) -> Result<Self, Error> {
        Self::new(
            suite,
            message_id,
            stored_context,
            encrypted_data_keys,
            ContentType::Framed,
            frame_length,
            commitment,
        )
    }

    pub(crate) fn new(
        suite: AlgorithmSuite,
        message_id: MessageId,
        stored_context: EncryptionContext,
        encrypted_data_keys: Vec<EncryptedDataKey>,
        content_type: ContentType,
        frame_length: u32,
        commitment: Option<[u8; AlgorithmSuite::COMMITMENT_LEN]>,
    ) -> Result<Self, Error> {
        let version = suite.message_format_version();
        if message_id.as_bytes().len() != version.message_id_len()
            || commitment.is_some() != suite.is_committing()
        {
            return Err(Error::InvalidMaterials(
                "header fields do not match the suite",
            ));
        }
        let mut body = Vec::new();
        body.push(version as u8);
        if version == MessageFormatVersion::V1 {
            body.push(MESSAGE_TYPE);
        }
        body.extend_from_slice(&suite.id().to_be_bytes());
        body.extend_from_slice(message_id.as_bytes());
        put_u16_prefixed(&mut body, &stored_context.serialize()?).ok_or(Error::ContextTooLarge)?;
        let count = u16::try_from(encrypted_data_keys.len())
            .map_err(|_| Error::InvalidMaterials("more than 65535 encrypted data keys"))?;
        body.extend_from_slice(&count.to_be_bytes());
        for edk in &encrypted_data_keys {
            for field in [
                edk.provider_id.as_bytes(),
                &edk.provider_info[..],
                &edk.ciphertext[..],
            ] {
                put_u16_prefixed(&mut body, field).ok_or(Error::InvalidMaterials(
                    "an encrypted data key field is longer than 65535 bytes",
                ))?;
            }
        }
        body.push(content_type as u8);
        match version {
            MessageFormatVersion::V1 => {
                body.extend_from_slice(&[0, 0, 0, 0]);
                body.push(AlgorithmSuite::IV_LEN as u8);
                body.extend_from_slice(&frame_length.to_be_bytes());
            }
            MessageFormatVersion::V2 => {
                body.extend_from_slice(&frame_length.to_be_bytes());
                if let Some(c) = &commitment {
                    body.extend_from_slice(c);
                }
            }
        }
        Ok(Self {
            suite,
            message_id,
            encryption_context: stored_context,
            encrypted_data_keys,
            content_type,
            frame_length,
            commitment,
            iv: [0; AlgorithmSuite::IV_LEN],
            tag: [0; AlgorithmSuite::TAG_LEN],
            body,
        })
    }

    pub(crate) fn set_tag(&mut self, tag: [u8; AlgorithmSuite::TAG_LEN]) {
        self.tag = tag;
    }
}

/// Progress of an incremental parse.
#[derive(Debug)]
pub enum Parse<T> {
    /// Parsed; the value used this many bytes.
    Done(T, usize),
    /// At least this many bytes (from the start) are needed to go on.
    Need(usize),
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    Version,
    Fixed,
    ContextLength,
    Context(usize),
    EdkCount,
    Edks,
    Tail,
    Auth,
}

/// A resumable header parser. Each call to [`Self::advance`] gets all the
/// header bytes received so far (from the header's first byte) and parses
/// only what it has not parsed before, so feeding a header in tiny pieces
/// costs linear time. Limits are enforced as soon as the field they limit
/// is read.
#[derive(Debug)]
pub struct HeaderParser {
    max_edks: Option<usize>,
    stage: Stage,
    pos: usize,
    version: MessageFormatVersion,
    suite: Option<AlgorithmSuite>,
    message_id: Option<MessageId>,
    context: EncryptionContext,
    edk_count: usize,
    edks: Vec<EncryptedDataKey>,
    content_type: ContentType,
    frame_length: u32,
    commitment: Option<[u8; AlgorithmSuite::COMMITMENT_LEN]>,
    body_len: usize,
}

impl HeaderParser {
    /// A parser refusing headers with more than `max_edks` encrypted data
    /// keys (checked when the count is read).
    pub fn new(max_edks: Option<usize>) -> Self {
        Self {
            max_edks,
            stage: Stage::Version,
            pos: 0,
            version: MessageFormatVersion::V1,
            suite: None,
            message_id: None,
            context: EncryptionContext::new(),
            edk_count: 0,
            edks: Vec::new(),
            content_type: ContentType::Framed,
            frame_length: 0,
            commitment: None,
            body_len: 0,
        }
    }

    /// Parses on from `buf`, which holds every header byte received so far
    /// (from the first). `Need(n)`: call again once `buf` holds `n` bytes.
    pub fn advance(&mut self, buf: &[u8]) -> Result<Parse<Header>, Error> {
        // Each stage first checks with `need!` that `rest` holds all of its
        // fields, so the cursor reads after it cannot run short; their
        // `unwrap_or_default` only satisfies the types.
        loop {
            let rest = buf.get(self.pos..).unwrap_or_default();
            let mut c = Cursor::new(rest);
            macro_rules! need {
                ($n:expr) => {{
                    let n: usize = $n;
                    if rest.len() < n {
                        return Ok(Parse::Need(self.pos + n));
                    }
                }};
            }
            match self.stage {
                Stage::Version => {
                    need!(1);
                    self.version = match rest[0] {
                        1 => MessageFormatVersion::V1,
                        2 => MessageFormatVersion::V2,
                        // 'A': how base64 of 0x01 0x80 or 0x02 0x05 starts.
                        b'A' => return Err(Error::Base64Input),
                        v => return Err(FormatError::UnsupportedVersion(v).into()),
                    };
                    self.pos += 1;
                    self.stage = Stage::Fixed;
                }
                Stage::Fixed => {
                    let v1 = self.version == MessageFormatVersion::V1;
                    let id_len = self.version.message_id_len();
                    need!(usize::from(v1) + 2 + id_len);
                    if v1 {
                        let t = c.u8().unwrap_or_default();
                        if t != MESSAGE_TYPE {
                            return Err(FormatError::UnsupportedType(t).into());
                        }
                    }
                    let id = c.u16().unwrap_or_default();
                    let suite = AlgorithmSuite::from_id(id).ok_or(FormatError::UnknownSuite(id))?;
                    if suite.message_format_version() != self.version {
                        return Err(FormatError::SuiteVersionMismatch {
                            suite,
                            version: self.version as u8,
                        }
                        .into());
                    }
                    self.suite = Some(suite);
                    self.message_id = c.take(id_len).and_then(MessageId::from_bytes);
                    self.pos += c.pos();
                    self.stage = Stage::ContextLength;
                }
                Stage::ContextLength => {
                    need!(2);
                    let len = c.u16().unwrap_or_default();
                    self.pos += 2;
                    self.stage = Stage::Context(usize::from(len));
                }
                Stage::Context(len) => {
                    need!(len);
                    self.context = EncryptionContext::parse(&rest[..len])?;
                    self.pos += len;
                    self.stage = Stage::EdkCount;
                }
                Stage::EdkCount => {
                    need!(2);
                    let count = usize::from(c.u16().unwrap_or_default());
                    if count == 0 {
                        return Err(FormatError::NoEncryptedDataKeys.into());
                    }
                    if let Some(limit) = self.max_edks
                        && count > limit
                    {
                        return Err(Error::TooManyEncryptedDataKeys { limit });
                    }
                    self.edk_count = count;
                    self.pos += 2;
                    self.stage = Stage::Edks;
                }
                Stage::Edks => {
                    if self.edks.len() == self.edk_count {
                        self.stage = Stage::Tail;
                        continue;
                    }
                    // Three length-prefixed fields; find out how much of
                    // `rest` they span before parsing them.
                    let mut end = 0usize;
                    for _ in 0..3 {
                        need!(end + 2);
                        let len = u16::from_be_bytes([rest[end], rest[end + 1]]);
                        end += 2 + usize::from(len);
                    }
                    need!(end);
                    let (Some(id), Some(info), Some(ct)) =
                        (c.u16_prefixed(), c.u16_prefixed(), c.u16_prefixed())
                    else {
                        return Ok(Parse::Need(self.pos + end));
                    };
                    let provider_id =
                        String::from_utf8(id.to_vec()).map_err(|_| FormatError::InvalidUtf8)?;
                    self.edks.push(EncryptedDataKey {
                        provider_id,
                        provider_info: info.to_vec(),
                        ciphertext: ct.to_vec(),
                    });
                    self.pos += end;
                }
                Stage::Tail => {
                    let suite = self.suite.ok_or(Error::Truncated)?;
                    let len = match self.version {
                        MessageFormatVersion::V1 => 1 + 4 + 1 + 4,
                        MessageFormatVersion::V2 => 1 + 4 + suite.suite_data_len(),
                    };
                    need!(len);
                    let ct = c.u8().unwrap_or_default();
                    self.content_type = match ct {
                        1 => ContentType::NonFramed,
                        2 => ContentType::Framed,
                        _ => return Err(FormatError::ContentType(ct).into()),
                    };
                    if self.version == MessageFormatVersion::V1 {
                        if c.u32() != Some(0) {
                            return Err(FormatError::Reserved.into());
                        }
                        let iv_len = c.u8().unwrap_or_default();
                        if usize::from(iv_len) != AlgorithmSuite::IV_LEN {
                            return Err(FormatError::IvLength(iv_len).into());
                        }
                    }
                    self.frame_length = c.u32().unwrap_or_default();
                    let framed = self.content_type == ContentType::Framed;
                    if framed != (self.frame_length > 0) {
                        return Err(FormatError::FrameLength(self.frame_length).into());
                    }
                    if suite.is_committing() {
                        self.commitment = c.array();
                    }
                    self.pos += len;
                    self.body_len = self.pos;
                    self.stage = Stage::Auth;
                }
                Stage::Auth => {
                    let iv_len = match self.version {
                        MessageFormatVersion::V1 => AlgorithmSuite::IV_LEN,
                        MessageFormatVersion::V2 => 0,
                    };
                    need!(iv_len + AlgorithmSuite::TAG_LEN);
                    let mut iv = [0u8; AlgorithmSuite::IV_LEN];
                    if iv_len > 0 {
                        iv = c.array().unwrap_or_default();
                    }
                    let tag = c.array().unwrap_or_default();
                    self.pos += iv_len + AlgorithmSuite::TAG_LEN;
                    let (Some(suite), Some(message_id)) = (self.suite, self.message_id.take())
                    else {
                        return Err(Error::Truncated);
                    };
                    let header = Header {
                        suite,
                        message_id,
                        encryption_context: std::mem::take(&mut self.context),
                        encrypted_data_keys: std::mem::take(&mut self.edks),
                        content_type: self.content_type,
                        frame_length: self.frame_length,
                        commitment: self.commitment,
                        iv,
                        tag,
                        body: buf[..self.body_len].to_vec(),
                    };
                    return Ok(Parse::Done(header, self.pos));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(suite: AlgorithmSuite) -> Header {
        let version = suite.message_format_version();
        let ec: EncryptionContext = [("purpose", "test"), ("a", "b")].into_iter().collect();
        let edks = vec![
            EncryptedDataKey {
                provider_id: "ns".into(),
                provider_info: b"key-1".to_vec(),
                ciphertext: vec![1, 2, 3],
            },
            EncryptedDataKey {
                provider_id: "other".into(),
                provider_info: vec![],
                ciphertext: vec![9; 300],
            },
        ];
        let commitment = suite.is_committing().then_some([7u8; 32]);
        let mut h = Header::new_framed(
            suite,
            MessageId::generate(version).expect("rng"),
            ec,
            edks,
            4096,
            commitment,
        )
        .expect("header");
        h.set_tag([5; 16]);
        h
    }

    #[test]
    fn round_trips_both_versions_byte_by_byte() {
        for suite in [
            AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384,
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
        ] {
            let h = sample(suite);
            let bytes = h.to_bytes();
            let (back, len) = Header::parse(&bytes, None).expect("parse");
            assert_eq!(len, bytes.len());
            assert_eq!(back.to_bytes(), bytes);
            assert_eq!(back.suite(), suite);
            assert_eq!(
                back.stored_encryption_context(),
                h.stored_encryption_context()
            );
            assert_eq!(back.encrypted_data_keys(), h.encrypted_data_keys());
            assert_eq!(back.commitment(), h.commitment());
            assert_eq!(back.body_bytes(), h.body_bytes());
            // Fed one byte at a time, with the bytes that follow the header.
            let mut parser = HeaderParser::new(None);
            let mut stream = bytes.clone();
            stream.extend_from_slice(b"body");
            let mut done = None;
            for end in 0..=stream.len() {
                match parser.advance(&stream[..end]).expect("advance") {
                    Parse::Need(n) => assert!(n > end, "need {n} at {end}"),
                    Parse::Done(h, len) => {
                        done = Some((h, len, end));
                        break;
                    }
                }
            }
            let (h2, len, end) = done.expect("parsed");
            assert_eq!((len, end), (bytes.len(), bytes.len()));
            assert_eq!(h2.to_bytes(), bytes);
            // Every proper prefix is reported as truncated.
            for cut in 0..bytes.len() {
                assert!(matches!(
                    Header::parse(&bytes[..cut], None),
                    Err(Error::Truncated)
                ));
            }
        }
    }

    #[test]
    fn v1_layout_matches_the_specification() {
        let h = sample(AlgorithmSuite::Aes128GcmIv12Tag16NoKdf);
        let b = h.to_bytes();
        assert_eq!(&b[..4], &[0x01, 0x80, 0x00, 0x14]);
        // Tail: content type 02, reserved, IV length 12, frame length 4096.
        let tail = &b[h.body_bytes().len() - 10..h.body_bytes().len()];
        assert_eq!(tail, &[2, 0, 0, 0, 0, 12, 0, 0, 0x10, 0]);
        assert_eq!(b.len(), h.body_bytes().len() + 12 + 16);
        let h2 = sample(AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384);
        let b2 = h2.to_bytes();
        assert_eq!(&b2[..3], &[0x02, 0x05, 0x78]);
        assert_eq!(b2.len(), h2.body_bytes().len() + 16);
    }

    #[test]
    fn rejects_malformed_headers() {
        let good = sample(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256).to_bytes();
        let fail = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            edit(&mut b);
            Header::parse(&b, None).expect_err("should fail")
        };
        assert!(matches!(
            fail(&|b| b[0] = 3),
            Error::Malformed(FormatError::UnsupportedVersion(3))
        ));
        assert!(matches!(fail(&|b| b[0] = b'A'), Error::Base64Input));
        assert!(matches!(
            fail(&|b| b[1] = 0x81),
            Error::Malformed(FormatError::UnsupportedType(0x81))
        ));
        assert!(matches!(
            fail(&|b| b[3] = 0x15),
            Error::Malformed(FormatError::UnknownSuite(0x0115))
        ));
        assert!(matches!(
            fail(&|b| b[2..4].copy_from_slice(&[0x04, 0x78])),
            Error::Malformed(FormatError::SuiteVersionMismatch { .. })
        ));
        let body_len = sample(AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha256)
            .body_bytes()
            .len();
        assert!(matches!(
            fail(&|b| b[body_len - 8] = 1),
            Error::Malformed(FormatError::Reserved)
        ));
        assert!(matches!(
            fail(&|b| b[body_len - 5] = 16),
            Error::Malformed(FormatError::IvLength(16))
        ));
        assert!(matches!(
            fail(&|b| b[body_len - 10] = 3),
            Error::Malformed(FormatError::ContentType(3))
        ));
        assert!(matches!(
            fail(&|b| b[body_len - 10] = 1),
            Error::Malformed(FormatError::FrameLength(4096))
        ));
        assert!(matches!(
            fail(&|b| b[body_len - 4..body_len].copy_from_slice(&[0; 4])),
            Error::Malformed(FormatError::FrameLength(0))
        ));
    }

    #[test]
    fn limits_encrypted_data_keys_as_soon_as_the_count_is_read() {
        let h = sample(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
        let bytes = h.to_bytes();
        assert!(Header::parse(&bytes, Some(2)).is_ok());
        // The count sits right after the context; cut the header there.
        let ctx_len = 2 + h
            .stored_encryption_context()
            .serialize()
            .expect("ser")
            .len();
        let count_end = 1 + 2 + 32 + ctx_len + 2;
        let mut parser = HeaderParser::new(Some(1));
        assert!(matches!(
            parser.advance(&bytes[..count_end]),
            Err(Error::TooManyEncryptedDataKeys { limit: 1 })
        ));
        let mut zero = bytes.clone();
        zero[count_end - 2..count_end].copy_from_slice(&[0, 0]);
        assert!(matches!(
            Header::parse(&zero, None),
            Err(Error::Malformed(FormatError::NoEncryptedDataKeys))
        ));
    }
}
