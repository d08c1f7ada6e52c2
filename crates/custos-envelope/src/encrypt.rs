//! Streaming encryption (`client-apis/encrypt.md`).
//!
//! [`Encryptor`] is push-style: give it plaintext in pieces of any size
//! with [`Encryptor::update`] and it appends the header and each frame to
//! the output as soon as the frame is full; [`Encryptor::finish`] writes the
//! final frame and, for signed suites, the footer. It holds at most one
//! frame of plaintext (in a buffer wiped on drop). [`EncryptingReader`]
//! wraps it as a [`Read`] of ciphertext.
//!
//! Framing: every full frame of plaintext becomes a regular frame, and the
//! final frame holds what is left — so a plaintext whose length is a
//! multiple of the frame length (including zero) ends with an *empty* final
//! frame. The specification allows a full final frame instead, but the
//! Python SDK rejects that form, and every SDK reads this one.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::sync::Arc;

use base64::Engine as _;
use custos_crypto::ecdsa::{Signer, SigningKey};
use zeroize::Zeroizing;

use crate::body::FrameCipher;
use crate::context::{EncryptionContext, PUBLIC_KEY_KEY, RESERVED_PREFIX};
use crate::error::Error;
use crate::header::{Header, MessageId};
use crate::keyring::Keyring;
use crate::keys;
use crate::materials::EncryptionMaterials;
use crate::suite::{AlgorithmSuite, CommitmentPolicy};
use crate::wipe;

/// The frame length used when none is given: 4096 bytes, as in every SDK.
pub const DEFAULT_FRAME_LENGTH: u32 = 4096;

/// How to encrypt.
#[derive(Debug, Clone)]
pub struct EncryptOptions {
    /// The suite; `None` for the commitment policy's default (`0x0578`, or
    /// `0x0378` when commitment is forbidden).
    pub suite: Option<AlgorithmSuite>,
    /// Plaintext bytes per frame, at least 1. Default 4096.
    pub frame_length: u32,
    /// The encryption context. Keys may not start with `aws-crypto-`.
    pub encryption_context: EncryptionContext,
    /// Keys of encryption context entries to authenticate but not store in
    /// the header: the reader must supply them again (what the
    /// specification calls required encryption context keys).
    pub authenticate_only_keys: BTreeSet<String>,
    pub commitment_policy: CommitmentPolicy,
    /// Refuse to write more encrypted data keys than this.
    pub max_encrypted_data_keys: Option<usize>,
}

impl Default for EncryptOptions {
    fn default() -> Self {
        Self {
            suite: None,
            frame_length: DEFAULT_FRAME_LENGTH,
            encryption_context: EncryptionContext::new(),
            authenticate_only_keys: BTreeSet::new(),
            commitment_policy: CommitmentPolicy::default(),
            max_encrypted_data_keys: None,
        }
    }
}

/// A message being encrypted.
pub struct Encryptor {
    header: Header,
    encryption_context: EncryptionContext,
    header_written: bool,
    cipher: Arc<FrameCipher>,
    signer: Option<Signer>,
    /// Plaintext of the frame being filled; always shorter than a frame.
    pending: Zeroizing<Vec<u8>>,
    next_seq: u32,
    spent: bool,
}

impl Encryptor {
    /// Prepares materials, has `keyring` generate and wrap the data key,
    /// and builds the header.
    pub fn new(keyring: &dyn Keyring, options: &EncryptOptions) -> Result<Self, Error> {
        let mut materials = Self::prepare_materials(options)?;
        keyring.on_encrypt(&mut materials)?;
        Self::with_materials(materials, options)
    }

    /// The first half of [`Self::new`]: picks the suite, checks the
    /// encryption context and, for signed suites, generates the signing key
    /// and adds its public half to the context. Run a keyring over the
    /// result, then call [`Self::with_materials`].
    pub fn prepare_materials(options: &EncryptOptions) -> Result<EncryptionMaterials, Error> {
        let policy = options.commitment_policy;
        let suite = options.suite.unwrap_or(policy.default_suite());
        if !policy.allows_encrypt(suite) {
            return Err(Error::CommitmentPolicy { suite, policy });
        }
        if options.frame_length == 0 {
            return Err(Error::InvalidFrameLength);
        }
        let mut context = options.encryption_context.clone();
        if let Some((key, _)) = context.iter().find(|(k, _)| k.starts_with(RESERVED_PREFIX)) {
            return Err(Error::ReservedContextKey(key.to_owned()));
        }
        if let Some(key) = options
            .authenticate_only_keys
            .iter()
            .find(|k| !context.contains_key(k))
        {
            return Err(Error::MissingRequiredContextKey(key.clone()));
        }
        let signing_key = match suite.signature() {
            Some(alg) => {
                let key = SigningKey::generate(alg).map_err(Error::Crypto)?;
                let point = key.public_key_compressed().map_err(Error::Crypto)?;
                context.insert(
                    PUBLIC_KEY_KEY,
                    base64::engine::general_purpose::STANDARD.encode(point),
                );
                Some(key)
            }
            None => None,
        };
        // Fail here, before any keyring work, if the context cannot be
        // written.
        context.serialize()?;
        Ok(EncryptionMaterials::new(
            suite,
            context,
            options.authenticate_only_keys.clone(),
            signing_key,
        ))
    }

    /// Builds the header from finished materials: a data key, at least one
    /// encrypted data key and, for signed suites, the signing key whose
    /// public half is in the context.
    pub fn with_materials(
        materials: EncryptionMaterials,
        options: &EncryptOptions,
    ) -> Result<Self, Error> {
        let (suite, context, authenticate_only, data_key, edks, signing_key) =
            materials.into_parts();
        let policy = options.commitment_policy;
        if !policy.allows_encrypt(suite) {
            return Err(Error::CommitmentPolicy { suite, policy });
        }
        let frame_length = options.frame_length;
        if frame_length == 0 {
            return Err(Error::InvalidFrameLength);
        }
        let data_key = data_key.ok_or(Error::InvalidMaterials("no data key"))?;
        if edks.is_empty() {
            return Err(Error::InvalidMaterials("no encrypted data key"));
        }
        if let Some(limit) = options.max_encrypted_data_keys
            && edks.len() > limit
        {
            return Err(Error::TooManyEncryptedDataKeys { limit });
        }
        match (&signing_key, suite.signature()) {
            (Some(key), Some(alg)) if key.algorithm() == alg => {
                let point = key.public_key_compressed().map_err(Error::Crypto)?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(point);
                if context.get(PUBLIC_KEY_KEY) != Some(encoded.as_str()) {
                    return Err(Error::InvalidMaterials(
                        "the encryption context does not carry the signing key",
                    ));
                }
            }
            (None, None) if !context.contains_key(PUBLIC_KEY_KEY) => {}
            _ => {
                return Err(Error::InvalidMaterials(
                    "the signing key does not match the algorithm suite",
                ));
            }
        }
        if let Some(key) = authenticate_only.iter().find(|k| !context.contains_key(k)) {
            return Err(Error::MissingRequiredContextKey(key.clone()));
        }

        let message_id = MessageId::generate(suite.message_format_version())?;
        let keys = keys::derive(suite, &data_key, &message_id)?;
        let mut header = Header::new_framed(
            suite,
            message_id.clone(),
            context.without(&authenticate_only),
            edks,
            frame_length,
            keys.commitment,
        )?;
        let mut aad = header.body_bytes().to_vec();
        aad.extend_from_slice(&context.filtered(&authenticate_only).serialize()?);
        let tag = keys
            .content_key
            .tag_only(header.iv(), &aad)
            .map_err(Error::Crypto)?;
        header.set_tag(tag);
        Ok(Self {
            header,
            encryption_context: context,
            header_written: false,
            cipher: Arc::new(FrameCipher::new(keys.content_key, message_id, frame_length)),
            signer: signing_key.map(SigningKey::into_signer),
            pending: Zeroizing::new(Vec::new()),
            next_seq: 1,
            spent: false,
        })
    }

    /// The header this message starts with.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The full encryption context, including authenticate-only entries
    /// and `aws-crypto-public-key`.
    pub fn encryption_context(&self) -> &EncryptionContext {
        &self.encryption_context
    }

    /// The frame cipher of this message, for callers that seal frames on
    /// several threads themselves (see [`FrameCipher`]).
    pub fn frame_cipher(&self) -> Arc<FrameCipher> {
        Arc::clone(&self.cipher)
    }

    /// Encrypts `plaintext`, appending the header (on the first call) and
    /// every frame completed to `out`.
    pub fn update(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if self.spent {
            return Err(Error::Poisoned);
        }
        let result = self.update_inner(plaintext, out);
        if result.is_err() {
            self.spent = true;
        }
        result
    }

    /// Writes whatever is still to be written: the header if no update
    /// came, the final frame, and the footer of signed suites. The
    /// encryptor cannot be used afterwards.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.spent {
            return Err(Error::Poisoned);
        }
        self.spent = true;
        self.write_header(out);
        let start = out.len();
        self.cipher.seal_final(self.next_seq, &self.pending, out)?;
        self.pending.clear();
        if let Some(mut signer) = self.signer.take() {
            signer.update(&out[start..]);
            let signature = signer.finish().map_err(Error::Crypto)?;
            let len = u16::try_from(signature.len())
                .map_err(|_| Error::InvalidMaterials("signature too long"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&signature);
        }
        Ok(())
    }

    /// Takes the encryptor apart for a caller that seals the frames itself
    /// (`crate::parallel`). Only before the first `update`.
    pub(crate) fn into_parts(self) -> Result<EncryptorParts, Error> {
        if self.spent || self.header_written || self.next_seq != 1 || !self.pending.is_empty() {
            return Err(Error::Poisoned);
        }
        Ok(EncryptorParts {
            header: self.header.to_bytes(),
            cipher: self.cipher,
            signer: self.signer,
        })
    }

    fn update_inner(&mut self, mut plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.write_header(out);
        let frame = self.cipher.frame_length() as usize;
        if !self.pending.is_empty() {
            let take = (frame - self.pending.len()).min(plaintext.len());
            wipe::extend(&mut self.pending, &plaintext[..take]);
            plaintext = &plaintext[take..];
            if self.pending.len() < frame {
                return Ok(());
            }
            let full = std::mem::replace(&mut self.pending, Zeroizing::new(Vec::new()));
            self.seal_regular(&full, out)?;
            self.pending = full;
            self.pending.clear();
        }
        while plaintext.len() >= frame {
            let (this, rest) = plaintext.split_at(frame);
            self.seal_regular(this, out)?;
            plaintext = rest;
        }
        wipe::extend(&mut self.pending, plaintext);
        Ok(())
    }

    fn seal_regular(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let start = out.len();
        self.cipher.seal_regular(self.next_seq, plaintext, out)?;
        if let Some(signer) = &mut self.signer {
            signer.update(&out[start..]);
        }
        self.next_seq = self
            .next_seq
            .checked_add(1)
            .ok_or(Error::PlaintextTooLong)?;
        Ok(())
    }

    fn write_header(&mut self, out: &mut Vec<u8>) {
        if self.header_written {
            return;
        }
        self.header_written = true;
        let start = out.len();
        out.extend_from_slice(&self.header.to_bytes());
        if let Some(signer) = &mut self.signer {
            signer.update(&out[start..]);
        }
    }
}

/// A fresh [`Encryptor`] taken apart: the serialized header, the frame
/// cipher, and for signed suites the signer, which must then see the header
/// and every serialized frame, in order.
pub(crate) struct EncryptorParts {
    pub(crate) header: Vec<u8>,
    pub(crate) cipher: Arc<FrameCipher>,
    pub(crate) signer: Option<Signer>,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not `pending`: it is plaintext.
        f.debug_struct("Encryptor")
            .field("header", &self.header)
            .field("cipher", &self.cipher)
            .field("signer", &self.signer)
            .field("pending_len", &self.pending.len())
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

/// Encrypts a whole plaintext held in memory.
pub fn encrypt(
    keyring: &dyn Keyring,
    options: &EncryptOptions,
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut encryptor = Encryptor::new(keyring, options)?;
    let mut out = Vec::with_capacity(plaintext.len() + 1024);
    encryptor.update(plaintext, &mut out)?;
    encryptor.finish(&mut out)?;
    Ok(out)
}

/// Size of the plaintext reads of [`EncryptingReader`].
const READ_CHUNK: usize = 64 * 1024;

/// A [`Read`] of the ciphertext of the plaintext read from `inner`.
pub struct EncryptingReader<R> {
    inner: R,
    encryptor: Encryptor,
    out: Vec<u8>,
    pos: usize,
    chunk: Zeroizing<Vec<u8>>,
    finished: bool,
}

impl<R: Read> EncryptingReader<R> {
    pub fn new(inner: R, encryptor: Encryptor) -> Self {
        Self {
            inner,
            encryptor,
            out: Vec::new(),
            pos: 0,
            chunk: Zeroizing::new(vec![0u8; READ_CHUNK]),
            finished: false,
        }
    }

    pub fn header(&self) -> &Header {
        self.encryptor.header()
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R> std::fmt::Debug for EncryptingReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not `chunk`: it is plaintext.
        f.debug_struct("EncryptingReader")
            .field("encryptor", &self.encryptor)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Read for EncryptingReader<R> {
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
            self.out.clear();
            self.pos = 0;
            let n = self.inner.read(&mut self.chunk)?;
            let result = if n == 0 {
                self.finished = true;
                self.encryptor.finish(&mut self.out)
            } else {
                self.encryptor.update(&self.chunk[..n], &mut self.out)
            };
            result.map_err(into_io)?;
        }
    }
}

pub(crate) fn into_io(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        e => io::Error::new(io::ErrorKind::InvalidData, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyring::RawAesKeyring;
    use custos_crypto::SecretBytes;

    #[test]
    fn holds_less_than_one_frame_of_plaintext() {
        let keyring =
            RawAesKeyring::new("ns", "k", &SecretBytes::new(vec![5; 32])).expect("keyring");
        let options = EncryptOptions {
            frame_length: 100,
            ..EncryptOptions::default()
        };
        let mut e = Encryptor::new(&keyring, &options).expect("encryptor");
        let mut out = Vec::new();
        let mut total = 0;
        for len in [1, 99, 100, 101, 250, 3, 0, 1000] {
            e.update(&vec![1u8; len], &mut out).expect("update");
            total += len;
            assert!(e.pending.len() < 100);
            assert_eq!(e.pending.len(), total % 100);
            assert_eq!(e.next_seq as usize, total / 100 + 1);
        }
        e.finish(&mut out).expect("finish");
        assert!(e.pending.is_empty());
    }

    #[test]
    fn debug_never_shows_plaintext() {
        let keyring =
            RawAesKeyring::new("ns", "k", &SecretBytes::new(vec![5; 32])).expect("keyring");
        let mut e = Encryptor::new(&keyring, &EncryptOptions::default()).expect("encryptor");
        e.update(b"hunter2", &mut Vec::new()).expect("update");
        let shown = format!("{e:?}");
        assert!(!shown.contains("104, 117, 110"), "{shown}");
        let r = EncryptingReader::new(&b"hunter2"[..], e);
        assert!(!format!("{r:?}").contains("104, 117, 110"));
    }
}
