//! Streaming decryption (`client-apis/decrypt.md`).
//!
//! [`Decryptor`] is push-style: give it ciphertext in pieces of any size
//! with [`Decryptor::update`]; it parses the header, has the keyring unwrap
//! the data key, checks the key commitment and the header tag, then opens
//! frames as they complete. [`DecryptingReader`] wraps it as a [`Read`].
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

#[derive(Debug)]
enum State {
    Header(HeaderParser),
    Frames,
    NonFramed,
    Footer,
    Done,
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
    header: Option<Header>,
    encryption_context: EncryptionContext,
    cipher: Option<Arc<FrameCipher>>,
    verifier: Option<Verifier>,
    next_seq: u32,
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
            header: None,
            encryption_context: EncryptionContext::new(),
            cipher: None,
            verifier: None,
            next_seq: 1,
            held: Zeroizing::new(Vec::new()),
            spent: false,
        }
    }

    /// The header, once it has been authenticated.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The full encryption context once the header is authenticated: the
    /// stored entries and the authenticate-only entries supplied in
    /// [`DecryptOptions::encryption_context`].
    pub fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.header.as_ref().map(|_| &self.encryption_context)
    }

    /// The frame cipher, once the header is authenticated: for callers that
    /// open frames on several threads themselves (see [`FrameCipher`]).
    pub fn frame_cipher(&self) -> Option<Arc<FrameCipher>> {
        self.cipher.clone()
    }

    /// Whether the whole message, footer included, has been read and
    /// verified; `finish` still has to be called to release the rest.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Done)
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
        if !matches!(self.state, State::Done) {
            return Err(Error::Truncated);
        }
        if !self.buf.is_empty() {
            return Err(Error::TrailingBytes);
        }
        wipe::extend(out, &self.held);
        self.held.zeroize();
        Ok(())
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
            let need = |n: usize| -> Option<usize> { (rest.len() < n).then_some(n) };
            match &mut self.state {
                State::Header(parser) => match parser.advance(rest)? {
                    Parse::Need(n) => {
                        self.need = n;
                        return Ok(pos);
                    }
                    Parse::Done(header, len) => {
                        self.start_body(header, &rest[..len])?;
                        pos += len;
                    }
                },
                State::Frames => {
                    let cipher = self.cipher.clone().ok_or(Error::Poisoned)?;
                    let (part, len) = match cipher.next_frame(rest)? {
                        FrameExtent::Need(n) => {
                            self.need = n;
                            return Ok(pos);
                        }
                        FrameExtent::Complete { part, len } => (part, len),
                    };
                    let frame = &rest[..len];
                    if part == BodyPart::FinalFrame {
                        cipher.open_final(self.next_seq, frame, &mut self.held)?;
                        self.state = self.after_body();
                    } else {
                        cipher.open_regular(self.next_seq, frame, out)?;
                        // A regular frame never has sequence number
                        // 0xFFFFFFFF (that is the final-frame marker).
                        self.next_seq =
                            self.next_seq
                                .checked_add(1)
                                .ok_or(FormatError::SequenceNumber {
                                    expected: self.next_seq,
                                    found: u32::MAX,
                                })?;
                    }
                    if let Some(v) = &mut self.verifier {
                        v.update(frame);
                    }
                    pos += len;
                }
                State::NonFramed => {
                    let cipher = self.cipher.clone().ok_or(Error::Poisoned)?;
                    const PREFIX: usize = AlgorithmSuite::IV_LEN + 8;
                    if let Some(n) = need(PREFIX) {
                        self.need = n;
                        return Ok(pos);
                    }
                    let mut len = [0u8; 8];
                    len.copy_from_slice(&rest[AlgorithmSuite::IV_LEN..PREFIX]);
                    let len = u64::from_be_bytes(len);
                    if len > MAX_NON_FRAMED_LEN {
                        return Err(FormatError::NonFramedTooLong(len).into());
                    }
                    let limit = u64::from(self.options.max_frame_length);
                    if len > limit {
                        return Err(Error::FrameTooLarge { length: len, limit });
                    }
                    // Both bounded above, so this fits.
                    let total = PREFIX + len as usize + AlgorithmSuite::TAG_LEN;
                    if let Some(n) = need(total) {
                        self.need = n;
                        return Ok(pos);
                    }
                    let body = &rest[..total];
                    cipher.open_non_framed(body, &mut self.held)?;
                    if let Some(v) = &mut self.verifier {
                        v.update(body);
                    }
                    self.state = self.after_body();
                    pos += total;
                }
                State::Footer => {
                    if let Some(n) = need(2) {
                        self.need = n;
                        return Ok(pos);
                    }
                    let len = 2 + usize::from(u16::from_be_bytes([rest[0], rest[1]]));
                    if let Some(n) = need(len) {
                        self.need = n;
                        return Ok(pos);
                    }
                    let verifier = self.verifier.take().ok_or(Error::Poisoned)?;
                    verifier
                        .verify(&rest[2..len])
                        .map_err(|_| Error::AuthenticationFailed)?;
                    self.state = State::Done;
                    pos += len;
                }
                State::Done => {
                    if !rest.is_empty() {
                        return Err(Error::TrailingBytes);
                    }
                    self.need = 0;
                    return Ok(pos);
                }
            }
        }
    }

    fn after_body(&self) -> State {
        if self.verifier.is_some() {
            State::Footer
        } else {
            State::Done
        }
    }

    /// Everything between parsing the header and reading the body: policy
    /// checks, the keyring, key derivation, commitment and header tag.
    fn start_body(&mut self, header: Header, header_bytes: &[u8]) -> Result<(), Error> {
        let suite = header.suite();
        let policy = self.options.commitment_policy;
        if !policy.allows_decrypt(suite) {
            return Err(Error::CommitmentPolicy { suite, policy });
        }
        if suite.signature().is_some()
            && self.options.signature_policy == SignaturePolicy::RequireUnsigned
        {
            return Err(Error::SignedMessageRefused);
        }
        if header.content_type() == ContentType::Framed
            && header.frame_length() > self.options.max_frame_length
        {
            return Err(Error::FrameTooLarge {
                length: u64::from(header.frame_length()),
                limit: u64::from(self.options.max_frame_length),
            });
        }

        // The context the keyring sees: the header's, plus entries only the
        // caller knows. Those are the ones the header tag must also cover.
        let stored = header.stored_encryption_context();
        let mut context = stored.clone();
        let mut authenticate_only = BTreeSet::new();
        if let Some(expected) = &self.options.encryption_context {
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
                Some(
                    VerifyingKey::from_sec1(alg, &point)
                        .map_err(|_| FormatError::InvalidPublicKey)?,
                )
            }
            None if context.contains_key(PUBLIC_KEY_KEY) => {
                return Err(FormatError::UnexpectedPublicKey.into());
            }
            None => None,
        };

        let mut materials =
            DecryptionMaterials::new(suite, context, authenticate_only, verifying_key);
        self.keyring
            .on_decrypt(&mut materials, header.encrypted_data_keys())?;
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
            v.update(header_bytes);
        }
        self.verifier = verifier;
        self.cipher = Some(Arc::new(FrameCipher::new(
            keys.content_key,
            header.message_id().clone(),
            header.frame_length(),
        )));
        self.state = match header.content_type() {
            ContentType::Framed => State::Frames,
            ContentType::NonFramed => State::NonFramed,
        };
        self.encryption_context = context;
        self.header = Some(header);
        Ok(())
    }
}

impl std::fmt::Debug for Decryptor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor")
            .field("state", &self.state)
            .field("header", &self.header)
            .field("buffered", &self.buf.len())
            .field("next_seq", &self.next_seq)
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
    let header = decryptor.header.take().ok_or(Error::Truncated)?;
    Ok(Decrypted {
        plaintext,
        header,
        encryption_context: std::mem::take(&mut decryptor.encryption_context),
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
                if let Some(cipher) = &d.cipher {
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
