//! The AWS Encryption SDK message format.
//!
//! This crate reads and writes messages in the format of the AWS
//! Encryption SDK (ESDK): the format of the ESDKs for Java, Python, C,
//! JavaScript and .NET and of the AWS Encryption CLI. A message made by one
//! decrypts with any other, given a keyring that can unwrap one of its data
//! keys. All cryptography goes through `custos-crypto`.
//!
//! The specification is `awslabs/aws-encryption-sdk-specification`
//! (`data-format/message-*.md`, `framework/algorithm-suites.md`,
//! `framework/transitive-requirements.md`, `framework/raw-*-keyring.md`,
//! `client-apis/encrypt.md`, `client-apis/decrypt.md`). The summary below is
//! what this crate implements.
//!
//! # Layout
//!
//! - [`suite`]: the eleven algorithm suites and the commitment policy.
//! - [`context`]: the encryption context and its serialization.
//! - [`header`]: the header, its serialization and its incremental parser.
//! - [`body`]: frames, their IVs and AAD, and [`FrameCipher`], which seals
//!   or opens any single frame.
//! - `keys` (private): content-key and commitment-key derivation.
//! - [`materials`]: what keyrings fill in.
//! - [`keyring`]: the [`Keyring`] trait, raw AES, raw RSA, multi-keyring.
//! - [`mod@encrypt`]: [`Encryptor`] (push-style), [`EncryptingReader`] and
//!   the one-shot [`encrypt()`].
//! - [`mod@decrypt`]: [`Decryptor`] (push-style), [`DecryptingReader`] and
//!   the one-shot [`decrypt()`]; and the steps they are made of,
//!   [`HeaderParser`], [`prepare_materials`] and [`MessageBody`], for
//!   callers that run the keyring themselves or open frames elsewhere.
//! - [`parallel`]: [`encrypt_stream`] and [`decrypt_stream`], which seal
//!   and open frames on every core in bounded memory.
//! - [`error`]: [`Error`] and [`FormatError`].
//!
//! # The format
//!
//! A message is `header ‖ body ‖ footer`; the footer exists only for signed
//! suites. All integers are big-endian.
//!
//! ## Algorithm suites
//!
//! All are AES-GCM with a 12-byte IV and 16-byte tag.
//!
//! | ID | AES key | key derivation | commitment | signature | format |
//! | --- | --- | --- | --- | --- | --- |
//! | `0x0014` `0x0046` `0x0078` | 128/192/256 | none (data key = AES key) | no | no | v1 |
//! | `0x0114` `0x0146` `0x0178` | 128/192/256 | HKDF-SHA256 | no | no | v1 |
//! | `0x0214` | 128 | HKDF-SHA256 | no | ECDSA P-256/SHA-256 | v1 |
//! | `0x0346` `0x0378` | 192/256 | HKDF-SHA384 | no | ECDSA P-384/SHA-384 | v1 |
//! | `0x0478` | 256 | HKDF-SHA512 | yes | no | v2 |
//! | `0x0578` | 256 | HKDF-SHA512 | yes | ECDSA P-384/SHA-384 | v2 |
//!
//! The commitment policy decides which suites may be written and read:
//! `ForbidEncryptAllowDecrypt` (write v1 only, read all),
//! `RequireEncryptAllowDecrypt` (write v2 only, read all),
//! `RequireEncryptRequireDecrypt` (v2 only; the default). The default suite
//! is `0x0578`, or `0x0378` when commitment is forbidden.
//!
//! ## Header
//!
//! | field | v1 | v2 |
//! | --- | --- | --- |
//! | version | `01` | `02` |
//! | type | `80` | — |
//! | suite ID | 2 | 2 |
//! | message ID | 16 random bytes | 32 random bytes |
//! | encryption context | `u16` length ‖ serialization | same |
//! | encrypted data keys | `u16` count (≥ 1), each: `u16`-prefixed provider ID (UTF-8), provider info, ciphertext | same |
//! | content type | `01` non-framed / `02` framed | same |
//! | reserved | `00000000` | — |
//! | IV length | `0C` | — |
//! | frame length | `u32` (0 iff non-framed) | same |
//! | suite data | — | 32-byte commitment key |
//! | header IV | 12 (written as zeros) | — (zeros implied) |
//! | header tag | 16 | 16 |
//!
//! Everything before the header IV is the *header body*. The header tag is
//! AES-GCM under the content key, IV = the header IV, empty plaintext, AAD
//! = header body ‖ serialization of the authenticate-only entries of the
//! encryption context (empty for most messages).
//!
//! ## Encryption context
//!
//! A map of UTF-8 strings. Serialization: nothing for an empty map, else a
//! `u16` count and, sorted by the key's UTF-8 bytes, `u16` key length ‖
//! key ‖ `u16` value length ‖ value. Keys starting `aws-crypto-` are
//! reserved: for signed suites the writer adds `aws-crypto-public-key` =
//! base64 of the compressed SEC 1 verification key (33 bytes for P-256, 49
//! for P-384), and the reader takes the verification key from it (and
//! refuses it in unsigned messages). Entries may be *authenticate-only*:
//! left out of the header but covered by the header tag; the reader must
//! supply them ([`DecryptOptions::encryption_context`]).
//!
//! ## Keys
//!
//! A keyring provides the data key (as long as the AES key). From it:
//!
//! - no-KDF suites: the data key is the content key;
//! - HKDF suites without commitment: HKDF(hash, salt = none, IKM = data
//!   key, info = suite ID ‖ message ID, length = key length);
//! - committing suites: PRK = HKDF-Extract(SHA-512, salt = message ID,
//!   IKM = data key); content key = Expand(PRK, suite ID ‖ `DERIVEKEY`, 32);
//!   commitment key = Expand(PRK, `COMMITKEY`, 32), written in the header
//!   and compared in constant time on reading.
//!
//! ## Body
//!
//! Framed (always written): regular frames `seq ‖ IV ‖ ciphertext (frame
//! length) ‖ tag`, then one final frame `FFFFFFFF ‖ seq ‖ IV ‖ u32 length ‖
//! ciphertext (≤ frame length) ‖ tag`. Sequence numbers count from 1; the
//! IV is the sequence number left-padded with zeros to 12 bytes (the reader
//! checks the IV field is exactly that). AAD = message ID ‖
//! `AWSKMSEncryptionClient Frame` (or `… Final Frame`) ‖ `u32` seq ‖ `u64`
//! plaintext length. This crate puts every full frame of plaintext in a
//! regular frame, so plaintexts of a multiple of the frame length end with
//! an empty final frame; it reads both that and a full final frame.
//!
//! Non-framed (legacy, read only, held in memory up to
//! [`DecryptOptions::max_frame_length`]): `IV ‖ u64 length ‖ ciphertext ‖
//! tag`, IV and AAD as for a frame with sequence number 1 and the string
//! `AWSKMSEncryptionClient Single Block`.
//!
//! ## Footer
//!
//! Signed suites only: `u16` length ‖ DER ECDSA signature over the whole
//! serialized header and body, hashed as they stream.
//!
//! ## Keyrings
//!
//! - Raw AES (`framework/raw-aes-keyring.md`): AES-GCM-128/192/256 of the
//!   data key, random IV, AAD = serialized encryption context. Provider ID
//!   = namespace; provider info = key name ‖ `u32` tag bits (128) ‖ `u32` IV
//!   length (12) ‖ IV; ciphertext = encrypted key ‖ tag.
//! - Raw RSA (`framework/raw-rsa-keyring.md`): RSA-OAEP (SHA-1/256/384/512,
//!   MGF1 with the same hash) or PKCS #1 v1.5 of the data key. Provider ID
//!   = namespace; provider info = key name. Keys from PEM (PKCS #8 /
//!   SubjectPublicKeyInfo).
//!
//! # Streaming and the release contract
//!
//! [`Encryptor`] and [`Decryptor`] take input in pieces of any size and
//! hold at most about one frame (plus the header); neither ever needs the
//! whole message. The decryptor releases each regular frame once its tag
//! verifies, and holds the final frame back until the end: **plaintext is
//! trustworthy only once [`Decryptor::finish`] returns `Ok`**, which means
//! every tag, the commitment and the signature verified and nothing
//! followed the message. On error, discard everything. [`DecryptingReader`]
//! reports end of file only after that point. Callers that cannot roll back
//! use [`SignaturePolicy::RequireUnsigned`] or write to a temporary file
//! and rename it on success.
//!
//! # Parallel frames
//!
//! A frame's IV and AAD depend only on the message ID, its sequence number
//! and its length, so [`FrameCipher::seal_regular`],
//! [`FrameCipher::seal_final`], [`FrameCipher::open_regular`] and
//! [`FrameCipher::open_final`] each work on one frame alone, and
//! `FrameCipher` is `Send + Sync`. What must stay sequential is the
//! signature: the encryptor's signer must see the header and the serialized
//! frames in order, and the decryptor splits the body with
//! [`MessageBody::next_item`], which feeds the verifier in order.
//! [`parallel`] does both on every core with bounded memory (its module
//! documentation describes the pipeline and its release contract); the
//! signer stays inside the crate, so that no caller can sign frames out of
//! order.
//!
//! File-level usage (the `custos encrypt|decrypt|inspect` commands, their
//! temporary files and security notes) is described in
//! `docs/file-encryption.md`.
//!
//! # Limits
//!
//! [`DecryptOptions`] bounds the number of encrypted data keys (checked when
//! the count is read, before any key is parsed) and the frame length
//! (checked when the header or non-framed length is read; default 16 MiB).
//! [`EncryptOptions::max_encrypted_data_keys`] bounds what is written.
//!
//! # What this crate deliberately does not do
//!
//! - No AWS KMS keyring: that would tie the format to the AWS SDK. The
//!   `custos` binary has one (`crates/custos/src/aws_kms/`), built on the
//!   [`Keyring`] trait; [`Encryptor::prepare_materials`] /
//!   [`Encryptor::with_materials`] and [`prepare_materials`] /
//!   [`MessageBody::new`] are the seams for keyrings that cannot block
//!   (async ones). No cryptographic materials managers or caches: the
//!   default CMM's behaviour (signing key, `aws-crypto-public-key`,
//!   authenticate-only entries) is built into the encryptor and decryptor.
//! - It never writes non-framed messages, which the specification forbids.
//! - No legacy master-key providers, no S3EC or DBE suites, no .NET 4.0.0
//!   "retry" of messages whose header tag that version computed wrongly:
//!   such messages fail, as they should.
//! - No I/O beyond the `Read` adapters: files, temporary files and renames
//!   belong to the caller.

pub mod body;
pub mod context;
pub mod decrypt;
pub mod encrypt;
pub mod error;
pub mod header;
pub mod keyring;
mod keys;
pub mod materials;
pub mod parallel;
pub mod suite;
mod wipe;
mod wire;

pub use body::FrameCipher;
pub use context::EncryptionContext;
pub use decrypt::{
    BodyItem, DecryptOptions, Decrypted, DecryptingReader, Decryptor, MessageBody, SignaturePolicy,
    decrypt, prepare_materials,
};
pub use encrypt::{EncryptOptions, EncryptingReader, Encryptor, encrypt};
pub use error::{Error, FormatError};
pub use header::{ContentType, EncryptedDataKey, Header, HeaderParser, MessageId, Parse};
pub use keyring::{Keyring, KeyringError, MultiKeyring, RawAesKeyring, RawRsaKeyring};
pub use materials::{DecryptionMaterials, EncryptionMaterials};
pub use parallel::{Parallelism, decrypt_stream, encrypt_stream};
pub use suite::{AlgorithmSuite, CommitmentPolicy, MessageFormatVersion};
