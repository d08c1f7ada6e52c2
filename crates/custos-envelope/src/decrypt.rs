//! Streaming decryption (`client-apis/decrypt.md`).
//!
//! [`Decryptor`] is push-style: give it ciphertext in pieces of any size
//! with [`Decryptor::update`]; it parses the header, has the keyring unwrap
//! the data key, checks the key commitment and the header tag, then opens
//! frames as they complete. [`DecryptingReader`] wraps it as a [`Read`].
//!
//! # The steps, for callers that drive them themselves
//!
//! The decryptor is three steps run in a row, each public so that a caller
//! can put its own work between them:
//!
//! 1. [`HeaderParser`] parses the header (nothing authenticated yet);
//! 2. [`prepare_materials`] checks it against the [`DecryptOptions`] and
//!    builds the [`DecryptionMaterials`] a keyring fills in. This is the
//!    seam for keyrings that are not a blocking [`Keyring`]: run an async
//!    KMS call here, on any thread;
//! 3. [`MessageBody::new`] takes the filled-in materials, checks the key
//!    commitment and the header tag, and from then on splits the body into
//!    frames ([`MessageBody::next_item`]), feeding them to the signature
//!    verifier in order and verifying the footer. Opening the frames is left
//!    to the caller, on as many threads as it likes
//!    (`crate::parallel` does exactly that).
//!
//! # The release contract
//!
//! - `update` appends the plaintext of each *regular* frame once that frame's
//!   tag has verified. For signed suites that plaintext is not yet known to
//!   come from the holder of the signing key.
//! - The final frame (and a non-framed body) is held back, and
//!   [`Decryptor::finish`] appends it only after the message is complete:
//!   every tag verified, the signature (if any) verified, and no bytes after
//!   the end.
//! - So **nothing is trustworthy until `finish` returns `Ok`**. On any error
//!   the caller must discard all plaintext it was given. A CLI writes to a
//!   temporary file and renames it into place only after `finish` succeeds;
//!   [`DecryptingReader`] returns `Ok(0)` (end of file) only after a
//!   successful `finish`, and an error otherwise.
//! - Callers that cannot roll back set [`SignaturePolicy::RequireUnsigned`]
//!   to refuse signed messages before any plaintext is produced, or buffer.
//!
//! Memory: the header, plus at most one frame of ciphertext and one frame
//! of plaintext. Frames longer than [`DecryptOptions::max_frame_length`]
//! (and non-framed bodies longer than it) are refused as soon as their
//! length is read.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::sync::Arc;

use base64::Engine as _;
use custos_crypto::ecdsa::{Verifier, VerifyingKey};
use zeroize::{Zeroize, Zeroizing};

use crate::body::{BodyPart, FrameCipher, FrameExtent, MAX_NON_FRAMED_LEN};
use crate::context::{EncryptionContext, PUBLIC_KEY_KEY};
use crate::encrypt::into_io;
use crate::error::{Error, FormatError};
use crate::header::{ContentType, Header, HeaderParser, Parse};
use crate::keyring::Keyring;
use crate::keys;
use crate::materials::DecryptionMaterials;
use crate::suite::{AlgorithmSuite, CommitmentPolicy};
use crate::wipe;

/// The default limit on the frame length of messages to decrypt: 16 MiB.
/// A decryptor holds up to one frame of ciphertext and one of plaintext.
pub const DEFAULT_MAX_FRAME_LENGTH: u32 = 16 << 20;

/// Whether signed messages are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignaturePolicy {
    /// Accept signed and unsigned messages.
    #[default]
    AllowSigned,
    /// Refuse signed messages right after the header is parsed, before the
    /// keyring runs and before any plaintext is released: for callers that
    /// stream plaintext onwards and cannot take it back.
    RequireUnsigned,
}

/// How to decrypt.
#[derive(Debug, Clone)]
pub struct DecryptOptions {
    pub commitment_policy: CommitmentPolicy,
    /// Refuse messages with more encrypted data keys than this; checked as
    /// soon as the count is read, before the keys themselves. `None`: no
    /// limit beyond the format's 65535.
    pub max_encrypted_data_keys: Option<usize>,
    /// Refuse frames (and non-framed bodies) longer than this.
    pub max_frame_length: u32,
    pub signature_policy: SignaturePolicy,
    /// The encryption context the caller expects ("reproduced encryption
    /// context"). Entries also in the header must match it; entries not in
    /// the header are the authenticate-only entries of the message, which
    /// the header tag then covers.
    pub encryption_context: Option<EncryptionContext>,
}

impl Default for DecryptOptions {
    fn default() -> Self {
        Self {
            commitment_policy: CommitmentPolicy::default(),
            max_encrypted_data_keys: None,
            max_frame_length: DEFAULT_MAX_FRAME_LENGTH,
            signature_policy: SignaturePolicy::default(),
            encryption_context: None,
        }
    }
}

/// Step 2 of a decryption: checks a parsed header against `options` (the
/// commitment policy, the signature policy, the frame length limit and the
/// caller's encryption context) and returns the materials for a keyring to
/// fill in: the suite, the full encryption context (the header's plus the
/// caller's authenticate-only entries) and the signature verification key.
///
/// Nothing has been authenticated yet; [`MessageBody::new`] does that once
/// a keyring has set the data key.
pub fn prepare_materials(
    header: &Header,
    options: &DecryptOptions,
) -> Result<DecryptionMaterials, Error> {
    let suite = header.suite();
    let policy = options.commitment_policy;
    if !policy.allows_decrypt(suite) {
        return Err(Error::CommitmentPolicy { suite, policy });
    }
    if suite.signature().is_some() && options.signature_policy == SignaturePolicy::RequireUnsigned {
        return Err(Error::SignedMessageRefused);
    }
    if header.content_type() == ContentType::Framed
        && header.frame_length() > options.max_frame_length
    {
        return Err(Error::FrameTooLarge {
            length: u64::from(header.frame_length()),
            limit: u64::from(options.max_frame_length),
        });
    }

    // The context the keyring sees: the header's, plus entries only the
    // caller knows. Those are the ones the header tag must also cover.
    let stored = header.stored_encryption_context();
    let mut context = stored.clone();
    let mut authenticate_only = BTreeSet::new();
    if let Some(expected) = &options.encryption_context {
        for (key, value) in expected.iter() {
            match stored.get(key) {
                Some(v) if v == value => {}
                Some(_) => return Err(Error::ContextMismatch),
                None => {
                    context.insert(key, value);
                    authenticate_only.insert(key.to_owned());
                }
            }
        }
    }
    let verifying_key = match suite.signature() {
        Some(alg) => {
            let encoded = context
                .get(PUBLIC_KEY_KEY)
                .ok_or(FormatError::MissingPublicKey)?;
            let point = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| FormatError::InvalidPublicKey)?;
            Some(VerifyingKey::from_sec1(alg, &point).map_err(|_| FormatError::InvalidPublicKey)?)
        }
        None if context.contains_key(PUBLIC_KEY_KEY) => {
            return Err(FormatError::UnexpectedPublicKey.into());
        }
        None => None,
    };
    Ok(DecryptionMaterials::new(
        suite,
        context,
        authenticate_only,
        verifying_key,
    ))
}

/// One item at the start of the body bytes given to
/// [`MessageBody::next_item`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyItem {
    /// A frame (or the non-framed body) of `len` bytes starts the data. It
    /// has been fed to the signature verifier; open it with
    /// [`MessageBody::open`] (or the [`FrameCipher`]) as `part` number `seq`.
    Frame {
        part: BodyPart,
        seq: u32,
        len: usize,
    },
    /// The footer, `len` bytes, starts the data, and its signature verified.
    Footer { len: usize },
    /// The data must hold at least this many bytes to tell.
    Need(usize),
    /// The message is complete and the data is empty.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    Frames,
    NonFramed,
    Footer,
    Done,
}

/// Step 3 of a decryption: the body of a message whose header has been
/// authenticated. It splits the body into frames, checking their order and
/// lengths and feeding them, in order, to the signature verifier; it
/// verifies the footer. It opens nothing itself: frames can be opened in
/// any order, on any thread, with [`Self::open`] or the [`FrameCipher`].
///
/// The message is authentic only once [`Self::is_complete`] holds *and*
/// every frame opened; see the release contract in the module
/// documentation.
pub struct MessageBody {
    header: Header,
    encryption_context: EncryptionContext,
    cipher: Arc<FrameCipher>,
    verifier: Option<Verifier>,
    /// Whether the suite is signed, so that a footer follows the body.
    signed: bool,
    /// The verifier was handed to the caller ([`Self::detach_verifier`]).
    detached: bool,
    max_frame_length: u32,
    state: BodyState,
    next_seq: u32,
}

impl MessageBody {
    /// Derives the content key from the data key the keyring set in
    /// `materials`, checks the key commitment and the header tag (covering
    /// the authenticate-only entries of the context), and starts the
    /// signature verification with the header.
    pub fn new(
        header: Header,
        materials: DecryptionMaterials,
        options: &DecryptOptions,
    ) -> Result<Self, Error> {
        let suite = header.suite();
        if materials.suite() != suite {
            return Err(Error::InvalidMaterials(
                "the materials are for another algorithm suite",
            ));
        }
        let (context, authenticate_only, data_key, verifying_key) = materials.into_parts();
        let data_key = data_key.ok_or(Error::InvalidMaterials("the keyring set no data key"))?;

        let keys = keys::derive(suite, &data_key, header.message_id())?;
        if let Some(stored) = header.commitment() {
            let derived = keys.commitment.ok_or(Error::AuthenticationFailed)?;
            if !custos_crypto::ct::eq(stored, &derived) {
                return Err(Error::AuthenticationFailed);
            }
        }
        let mut aad = header.body_bytes().to_vec();
        aad.extend_from_slice(&context.filtered(&authenticate_only).serialize()?);
        keys.content_key
            .verify_tag(header.iv(), &aad, header.tag())
            .map_err(|_| Error::AuthenticationFailed)?;

        let mut verifier = verifying_key.map(VerifyingKey::into_verifier);
        if let Some(v) = &mut verifier {
            v.update(&header.to_bytes());
        }
        let cipher = Arc::new(FrameCipher::new(
            keys.content_key,
            header.message_id().clone(),
            header.frame_length(),
        ));
        let state = match header.content_type() {
            ContentType::Framed => BodyState::Frames,
            ContentType::NonFramed => BodyState::NonFramed,
        };
        Ok(Self {
            header,
            encryption_context: context,
            cipher,
            signed: verifier.is_some(),
            verifier,
            detached: false,
            max_frame_length: options.max_frame_length,
            state,
            next_seq: 1,
        })
    }

    /// The authenticated header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The full encryption context: the stored entries and the
    /// authenticate-only entries the caller supplied.
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// The frame cipher, to open frames on other threads.
    pub fn frame_cipher(&self) -> &Arc<FrameCipher> {
        &self.cipher
    }

    /// Whether the whole body and the footer have been read and verified.
    pub fn is_complete(&self) -> bool {
        self.state == BodyState::Done
    }

    /// Identifies the item at the start of `data` (which must start where
    /// the previous item ended) and moves past it: the caller must then
    /// drop that many bytes, or supply more if told [`BodyItem::Need`].
    /// Trailing bytes after the footer are an error.
    pub fn next_item(&mut self, data: &[u8]) -> Result<BodyItem, Error> {
        let need = |n: usize| -> Option<BodyItem> { (data.len() < n).then_some(BodyItem::Need(n)) };
        match self.state {
            BodyState::Frames => {
                let (part, len) = match self.cipher.next_frame(data)? {
                    FrameExtent::Need(n) => return Ok(BodyItem::Need(n)),
                    FrameExtent::Complete { part, len } => (part, len),
                };
                let seq = self.next_seq;
                if part == BodyPart::FinalFrame {
                    self.state = self.after_body();
                } else {
                    // A regular frame never has sequence number 0xFFFFFFFF
                    // (that is the final-frame marker).
                    self.next_seq = seq.checked_add(1).ok_or(FormatError::SequenceNumber {
                        expected: seq,
                        found: u32::MAX,
                    })?;
                }
                if let Some(v) = &mut self.verifier {
                    v.update(&data[..len]);
                }
                Ok(BodyItem::Frame { part, seq, len })
            }
            BodyState::NonFramed => {
                const PREFIX: usize = AlgorithmSuite::IV_LEN + 8;
                if let Some(n) = need(PREFIX) {
                    return Ok(n);
                }
                let mut len = [0u8; 8];
                len.copy_from_slice(&data[AlgorithmSuite::IV_LEN..PREFIX]);
                let len = u64::from_be_bytes(len);
                if len > MAX_NON_FRAMED_LEN {
                    return Err(FormatError::NonFramedTooLong(len).into());
                }
                let limit = u64::from(self.max_frame_length);
                if len > limit {
                    return Err(Error::FrameTooLarge { length: len, limit });
                }
                // Both bounded above, so this fits.
                let total = PREFIX + len as usize + AlgorithmSuite::TAG_LEN;
                if let Some(n) = need(total) {
                    return Ok(n);
                }
                if let Some(v) = &mut self.verifier {
                    v.update(&data[..total]);
                }
                self.state = self.after_body();
                Ok(BodyItem::Frame {
                    part: BodyPart::NonFramed,
                    seq: 1,
                    len: total,
                })
            }
            BodyState::Footer => {
                if let Some(n) = need(2) {
                    return Ok(n);
                }
                let len = 2 + usize::from(u16::from_be_bytes([data[0], data[1]]));
                if let Some(n) = need(len) {
                    return Ok(n);
                }
                match self.verifier.take() {
                    Some(verifier) => verifier
                        .verify(&data[2..len])
                        .map_err(|_| Error::AuthenticationFailed)?,
                    // The caller hashes and verifies (see `detach_verifier`).
                    None if self.detached => {}
                    None => return Err(Error::Poisoned),
                }
                self.state = BodyState::Done;
                Ok(BodyItem::Footer { len })
            }
            BodyState::Done if data.is_empty() => Ok(BodyItem::End),
            BodyState::Done => Err(Error::TrailingBytes),
        }
    }

    /// Opens a frame found by [`Self::next_item`], appending its plaintext
    /// to `out`. Frames are independent: any order, any thread.
    pub fn open(
        cipher: &FrameCipher,
        part: BodyPart,
        seq: u32,
        frame: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        match part {
            BodyPart::RegularFrame => cipher.open_regular(seq, frame, out),
            BodyPart::FinalFrame => cipher.open_final(seq, frame, out),
            BodyPart::NonFramed => cipher.open_non_framed(frame, out),
        }
    }

    /// The header and the full encryption context.
    pub fn into_parts(self) -> (Header, EncryptionContext) {
        (self.header, self.encryption_context)
    }

    /// Hands the signature verifier (already fed the header) to a caller
    /// that hashes the frames itself, on another thread, in order. From then
    /// on frames are not hashed here and [`BodyItem::Footer`] means only
    /// that the footer is there: **the caller must verify its signature**
    /// (`data[2..len]`). Crate-private, for `crate::parallel`.
    pub(crate) fn detach_verifier(&mut self) -> Option<Verifier> {
        self.detached = true;
        self.verifier.take()
    }

    fn after_body(&self) -> BodyState {
        if self.signed {
            BodyState::Footer
        } else {
            BodyState::Done
        }
    }
}

impl std::fmt::Debug for MessageBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the whole header: its wrapped keys are noise here.
        f.debug_struct("MessageBody")
            .field("suite", &self.header.suite())
            .field("message_id", self.header.message_id())
            .field("state", &self.state)
            .field("next_seq", &self.next_seq)
            .field("signed", &self.signed)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum State {
    Header(HeaderParser),
    Body(MessageBody),
}

/// A message being decrypted.
pub struct Decryptor<'k> {
    keyring: &'k dyn Keyring,
    options: DecryptOptions,
    state: State,
    /// Input not yet consumed: less than one item (header, frame, footer).
    buf: Vec<u8>,
    /// How long `buf` must be for the next item to be complete.
    need: usize,
    /// Plaintext of the final frame (or non-framed body), released by
    /// `finish`.
    held: Zeroizing<Vec<u8>>,
    spent: bool,
}

impl<'k> Decryptor<'k> {
    pub fn new(keyring: &'k dyn Keyring, options: DecryptOptions) -> Self {
        let parser = HeaderParser::new(options.max_encrypted_data_keys);
        Self {
            keyring,
            options,
            state: State::Header(parser),
            buf: Vec::new(),
            need: 0,
            held: Zeroizing::new(Vec::new()),
            spent: false,
        }
    }

    /// The header, once it has been authenticated.
    pub fn header(&self) -> Option<&Header> {
        self.body().map(MessageBody::header)
    }

    /// The full encryption context once the header is authenticated: the
    /// stored entries and the authenticate-only entries supplied in
    /// [`DecryptOptions::encryption_context`].
    pub fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.body().map(MessageBody::encryption_context)
    }

    /// The frame cipher, once the header is authenticated: for callers that
    /// open frames on several threads themselves (see [`FrameCipher`]).
    pub fn frame_cipher(&self) -> Option<Arc<FrameCipher>> {
        self.body().map(|b| Arc::clone(b.frame_cipher()))
    }

    /// Whether the whole message, footer included, has been read and
    /// verified; `finish` still has to be called to release the rest.
    pub fn is_complete(&self) -> bool {
        self.body().is_some_and(MessageBody::is_complete)
    }

    /// Consumes `ciphertext`, appending the plaintext of every regular
    /// frame it completes to `out`. See the module documentation for what
    /// that plaintext may be trusted with. `out` is grown without leaving
    /// copies of its contents behind; wiping it is the caller's business
    /// (pass `SecretBytes::expose_secret_mut()`, say).
    pub fn update(&mut self, ciphertext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.spent {
            return Err(Error::Poisoned);
        }
        let result = self.update_inner(ciphertext, out);
        if result.is_err() {
            self.spent = true;
        }
        result
    }

    /// Declares the end of the input. `Ok` only if the message was complete
    /// and verified (signature included) with nothing after it; then the
    /// held-back plaintext is appended to `out`.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.spent {
            return Err(Error::Poisoned);
        }
        self.spent = true;
        if !self.is_complete() {
            return Err(Error::Truncated);
        }
        if !self.buf.is_empty() {
            return Err(Error::TrailingBytes);
        }
        wipe::extend(out, &self.held);
        self.held.zeroize();
        Ok(())
    }

    fn body(&self) -> Option<&MessageBody> {
        match &self.state {
            State::Body(b) => Some(b),
            State::Header(_) => None,
        }
    }

    fn update_inner(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        loop {
            if self.buf.is_empty() {
                // Work straight from the caller's slice; keep only the
                // incomplete item at its end.
                let consumed = self.run(input, out)?;
                self.buf.extend_from_slice(&input[consumed..]);
                return Ok(());
            }
            // Top up the incomplete item, and no more, before running.
            let take = self.need.saturating_sub(self.buf.len()).min(input.len());
            self.buf.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.buf.len() < self.need {
                return Ok(());
            }
            let data = std::mem::take(&mut self.buf);
            let consumed = self.run(&data, out)?;
            self.buf = data;
            self.buf.drain(..consumed);
            if input.is_empty() {
                return Ok(());
            }
        }
    }

    /// Processes every complete item at the start of `data`; returns how
    /// many bytes that consumed, having set `need` for the next item.
    fn run(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<usize, Error> {
        let mut pos = 0;
        loop {
            let rest = &data[pos..];
            match &mut self.state {
                State::Header(parser) => match parser.advance(rest)? {
                    Parse::Need(n) => {
                        self.need = n;
                        return Ok(pos);
                    }
                    Parse::Done(header, len) => {
                        let mut materials = prepare_materials(&header, &self.options)?;
                        self.keyring
                            .on_decrypt(&mut materials, header.encrypted_data_keys())?;
                        let body = MessageBody::new(header, materials, &self.options)?;
                        self.state = State::Body(body);
                        pos += len;
                    }
                },
                State::Body(body) => match body.next_item(rest)? {
                    BodyItem::Need(n) => {
                        self.need = n;
                        return Ok(pos);
                    }
                    BodyItem::End => {
                        self.need = 0;
                        return Ok(pos);
                    }
                    BodyItem::Footer { len } => pos += len,
                    BodyItem::Frame { part, seq, len } => {
                        let frame = &rest[..len];
                        let dest = match part {
                            BodyPart::RegularFrame => &mut *out,
                            BodyPart::FinalFrame | BodyPart::NonFramed => &mut *self.held,
                        };
                        MessageBody::open(body.frame_cipher(), part, seq, frame, dest)?;
                        pos += len;
                    }
                },
            }
        }
    }
}

impl std::fmt::Debug for Decryptor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("state", &self.state)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

/// A decrypted message held in memory.
#[derive(Debug)]
pub struct Decrypted {
    pub plaintext: custos_crypto::SecretBytes,
    pub header: Header,
    /// The full encryption context (stored and authenticate-only entries).
    pub encryption_context: EncryptionContext,
}

/// Decrypts a whole message held in memory.
pub fn decrypt(
    keyring: &dyn Keyring,
    options: DecryptOptions,
    message: &[u8],
) -> Result<Decrypted, Error> {
    let mut decryptor = Decryptor::new(keyring, options);
    let mut plaintext = custos_crypto::SecretBytes::new(Vec::with_capacity(message.len()));
    decryptor.update(message, plaintext.expose_secret_mut())?;
    decryptor.finish(plaintext.expose_secret_mut())?;
    let State::Body(body) = decryptor.state else {
        return Err(Error::Truncated);
    };
    let (header, encryption_context) = body.into_parts();
    Ok(Decrypted {
        plaintext,
        header,
        encryption_context,
    })
}

/// Size of the ciphertext reads of [`DecryptingReader`].
const READ_CHUNK: usize = 64 * 1024;

/// A [`Read`] of the plaintext of the message read from `inner`.
///
/// It returns end of file only once the whole message, signature included,
/// has verified; any failure is an `io::Error` of kind `InvalidData`
/// wrapping the [`Error`], after which everything read so far must be
/// discarded.
pub struct DecryptingReader<'k, R> {
    inner: R,
    decryptor: Decryptor<'k>,
    out: Zeroizing<Vec<u8>>,
    pos: usize,
    chunk: Vec<u8>,
    finished: bool,
}

impl<'k, R: Read> DecryptingReader<'k, R> {
    pub fn new(inner: R, keyring: &'k dyn Keyring, options: DecryptOptions) -> Self {
        Self {
            inner,
            decryptor: Decryptor::new(keyring, options),
            out: Zeroizing::new(Vec::new()),
            pos: 0,
            chunk: vec![0u8; READ_CHUNK],
            finished: false,
        }
    }

    /// The decryptor, for the header and encryption context once known.
    pub fn decryptor(&self) -> &Decryptor<'k> {
        &self.decryptor
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R> std::fmt::Debug for DecryptingReader<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not `out`: it is plaintext.
        f.debug_struct("DecryptingReader")
            .field("decryptor", &self.decryptor)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Read for DecryptingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.out.len() {
                let n = buf.len().min(self.out.len() - self.pos);
                buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.finished {
                return Ok(0);
            }
            self.out.zeroize();
            self.pos = 0;
            let n = self.inner.read(&mut self.chunk)?;
            let result = if n == 0 {
                self.finished = true;
                self.decryptor.finish(&mut self.out)
            } else {
                self.decryptor.update(&self.chunk[..n], &mut self.out)
            };
            result.map_err(into_io)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encrypt::{EncryptOptions, Encryptor};
    use crate::header::MessageId;
    use crate::keyring::RawAesKeyring;
    use custos_crypto::SecretBytes;

    /// A non-framed message, which the encryptor never writes: built here
    /// from the same pieces to test the reader.
    fn non_framed(keyring: &RawAesKeyring, suite: AlgorithmSuite, plaintext: &[u8]) -> Vec<u8> {
        let commitment_policy = if suite.is_committing() {
            CommitmentPolicy::RequireEncryptAllowDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        };
        let options = EncryptOptions {
            suite: Some(suite),
            commitment_policy,
            ..EncryptOptions::default()
        };
        let mut materials = Encryptor::prepare_materials(&options).expect("materials");
        keyring.on_encrypt(&mut materials).expect("keyring");
        let (suite, context, _, data_key, edks, signing_key) = materials.into_parts();
        let data_key = data_key.expect("data key");
        let id = MessageId::generate(suite.message_format_version()).expect("rng");
        let keys = keys::derive(suite, &data_key, &id).expect("derive");
        let mut header = Header::new(
            suite,
            id.clone(),
            context,
            edks,
            ContentType::NonFramed,
            0,
            keys.commitment,
        )
        .expect("header");
        let tag = keys
            .content_key
            .tag_only(header.iv(), header.body_bytes())
            .expect("tag");
        header.set_tag(tag);
        let mut out = header.to_bytes();
        let cipher = FrameCipher::new(keys.content_key, id, 0);
        cipher.seal_non_framed(plaintext, &mut out).expect("seal");
        if let Some(key) = signing_key {
            let sig = key.sign(&out).expect("sign");
            out.extend_from_slice(&(sig.len() as u16).to_be_bytes());
            out.extend_from_slice(&sig);
        }
        out
    }

    #[test]
    fn can_move_to_another_thread() {
        fn sendable<T: Send>() {}
        sendable::<Decryptor<'static>>();
        sendable::<DecryptingReader<'static, std::fs::File>>();
        sendable::<crate::Encryptor>();
        sendable::<crate::EncryptingReader<std::fs::File>>();
    }

    #[test]
    fn buffers_at_most_one_frame() {
        let keyring =
            RawAesKeyring::new("ns", "k", &SecretBytes::new(vec![5; 32])).expect("keyring");
        let options = EncryptOptions::default();
        let pt = vec![7u8; 1 << 20];
        let msg = crate::encrypt(&keyring, &options, &pt).expect("encrypt");
        for chunk in [100_000, 4097, 1] {
            let mut d = Decryptor::new(&keyring, DecryptOptions::default());
            let mut out = Vec::new();
            let mut released = 0;
            for piece in msg.chunks(chunk) {
                d.update(piece, &mut out).expect("update");
                if let Some(cipher) = d.frame_cipher() {
                    assert!(d.buf.len() < cipher.regular_frame_len(), "chunk {chunk}");
                }
                released += out.len();
                out.clear();
            }
            d.finish(&mut out).expect("finish");
            assert_eq!(released + out.len(), pt.len());
        }
    }

    #[test]
    fn debug_never_shows_plaintext() {
        let keyring =
            RawAesKeyring::new("ns", "k", &SecretBytes::new(vec![5; 32])).expect("keyring");
        let msg =
            crate::encrypt(&keyring, &EncryptOptions::default(), b"hunter2").expect("encrypt");
        let mut d = Decryptor::new(&keyring, DecryptOptions::default());
        d.update(&msg, &mut Vec::new()).expect("update");
        assert_eq!(&d.held[..], b"hunter2");
        assert!(!format!("{d:?}").contains("104, 117, 110"));
        let mut r = DecryptingReader::new(&msg[..], &keyring, DecryptOptions::default());
        let mut first = [0u8; 1];
        r.read_exact(&mut first).expect("read");
        assert!(!format!("{r:?}").contains("117, 110"));
    }

    #[test]
    fn reads_non_framed_messages() {
        let keyring =
            RawAesKeyring::new("ns", "k", &SecretBytes::new(vec![3; 32])).expect("keyring");
        let options = DecryptOptions {
            commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
            max_frame_length: 1 << 20,
            ..DecryptOptions::default()
        };
        for suite in [
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            AlgorithmSuite::Aes128GcmIv12Tag16NoKdf,
        ] {
            let pt = vec![0x42; 5000];
            let msg = non_framed(&keyring, suite, &pt);
            let got = decrypt(&keyring, options.clone(), &msg).expect("decrypt");
            assert_eq!(got.plaintext.expose_secret(), &pt[..]);
            assert_eq!(got.header.content_type(), ContentType::NonFramed);
            // Byte by byte, nothing comes out before the end.
            let mut d = Decryptor::new(&keyring, options.clone());
            let mut out = Vec::new();
            for b in &msg {
                d.update(std::slice::from_ref(b), &mut out).expect("update");
            }
            assert!(out.is_empty());
            d.finish(&mut out).expect("finish");
            assert_eq!(out, pt);
            // Tampering anywhere in the body fails.
            let header_len = got.header.serialized_len();
            for i in [header_len, header_len + 12, header_len + 20, msg.len() - 1] {
                let mut bad = msg.clone();
                bad[i] ^= 1;
                assert!(
                    decrypt(&keyring, options.clone(), &bad).is_err(),
                    "byte {i}"
                );
            }
            // Over the size limit: refused when the length is read.
            let small = DecryptOptions {
                max_frame_length: 4999,
                ..options.clone()
            };
            assert!(matches!(
                decrypt(&keyring, small, &msg),
                Err(Error::FrameTooLarge {
                    length: 5000,
                    limit: 4999
                })
            ));
        }
    }
}
