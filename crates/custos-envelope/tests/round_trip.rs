//! Round trips and rejections: every suite, frame and plaintext size;
//! every flipped byte and every truncation; policies and limits.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use custos_crypto::SecretBytes;
use custos_crypto::rsa::{RsaPadding, RsaPrivateKey};
use custos_envelope::body::{BodyPart, FrameExtent};
use custos_envelope::{
    AlgorithmSuite, CommitmentPolicy, DecryptOptions, DecryptingReader, DecryptionMaterials,
    Decryptor, EncryptOptions, EncryptedDataKey, EncryptingReader, EncryptionContext,
    EncryptionMaterials, Encryptor, Error, FrameCipher, Header, Keyring, KeyringError,
    MultiKeyring, RawAesKeyring, RawRsaKeyring, SignaturePolicy, decrypt, encrypt,
};

fn aes_keyring(name: &str, byte: u8) -> RawAesKeyring {
    RawAesKeyring::new("custos-test", name, &SecretBytes::new(vec![byte; 32])).expect("keyring")
}

/// Encrypt options allowing any suite.
fn enc_options(suite: AlgorithmSuite, frame_length: u32) -> EncryptOptions {
    EncryptOptions {
        suite: Some(suite),
        frame_length,
        encryption_context: [("purpose", "round trip"), ("tenant", "t-1")]
            .into_iter()
            .collect(),
        commitment_policy: if suite.is_committing() {
            CommitmentPolicy::RequireEncryptRequireDecrypt
        } else {
            CommitmentPolicy::ForbidEncryptAllowDecrypt
        },
        ..EncryptOptions::default()
    }
}

/// Decrypt options accepting any suite.
fn dec_options() -> DecryptOptions {
    DecryptOptions {
        commitment_policy: CommitmentPolicy::RequireEncryptAllowDecrypt,
        ..DecryptOptions::default()
    }
}

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

/// Encrypts feeding `chunk` bytes per update.
fn encrypt_in_chunks(
    keyring: &dyn Keyring,
    options: &EncryptOptions,
    pt: &[u8],
    chunk: usize,
) -> Vec<u8> {
    let mut e = Encryptor::new(keyring, options).expect("encryptor");
    let mut out = Vec::new();
    for piece in pt.chunks(chunk.max(1)) {
        e.update(piece, &mut out).expect("update");
    }
    e.finish(&mut out).expect("finish");
    out
}

/// Decrypts feeding `chunk` bytes per update.
fn decrypt_in_chunks(
    keyring: &dyn Keyring,
    options: DecryptOptions,
    msg: &[u8],
    chunk: usize,
) -> Result<Vec<u8>, Error> {
    let mut d = Decryptor::new(keyring, options);
    let mut out = Vec::new();
    for piece in msg.chunks(chunk.max(1)) {
        d.update(piece, &mut out)?;
    }
    d.finish(&mut out)?;
    Ok(out)
}

/// The body parts of a message, from its header on.
fn frames(msg: &[u8], cipher_frame_length: u32) -> Vec<(BodyPart, usize)> {
    let (header, mut pos) = Header::parse(msg, None).expect("header");
    assert_eq!(header.frame_length(), cipher_frame_length);
    let probe = FrameProbe(cipher_frame_length);
    let mut parts = Vec::new();
    loop {
        let (part, len) = probe.next(&msg[pos..]);
        parts.push((part, len));
        pos += len;
        if part == BodyPart::FinalFrame {
            return parts;
        }
    }
}

/// Splits a body by frame length alone, the way a parallel reader would.
struct FrameProbe(u32);

impl FrameProbe {
    fn next(&self, buf: &[u8]) -> (BodyPart, usize) {
        let regular = 4 + 12 + self.0 as usize + 16;
        if buf[..4] == [0xff; 4] {
            let len = u32::from_be_bytes(buf[20..24].try_into().expect("4")) as usize;
            (BodyPart::FinalFrame, FrameCipher::final_frame_len(len))
        } else {
            (BodyPart::RegularFrame, regular)
        }
    }
}

#[test]
fn every_suite_frame_and_plaintext_size() {
    let keyring = aes_keyring("k", 1);
    let mut cases = 0;
    for suite in AlgorithmSuite::ALL {
        for frame in [1u32, 7, 64, 4096] {
            let f = frame as usize;
            for len in [0, 1, f.saturating_sub(1), f, f + 1, 3 * f] {
                let pt = plaintext(len);
                let opts = enc_options(suite, frame);
                let chunk = [1, 5, 4096][cases % 3];
                let msg = encrypt_in_chunks(&keyring, &opts, &pt, chunk);
                let got =
                    decrypt_in_chunks(&keyring, dec_options(), &msg, [3, 1000, 1 << 20][cases % 3])
                        .unwrap_or_else(|e| panic!("{suite} frame {frame} len {len}: {e}"));
                assert_eq!(got, pt, "{suite} frame {frame} len {len}");

                // Layout: full frames are regular; the final frame holds
                // the rest, empty when the length is a multiple.
                let parts = frames(&msg, frame);
                let regular = parts
                    .iter()
                    .filter(|p| p.0 == BodyPart::RegularFrame)
                    .count();
                assert_eq!(regular, len / f, "{suite} frame {frame} len {len}");
                let last = parts.last().expect("final");
                assert_eq!(last.1, FrameCipher::final_frame_len(len % f));
                let header = Header::parse(&msg, None).expect("header").0;
                assert_eq!(header.suite(), suite);
                assert_eq!(
                    header
                        .stored_encryption_context()
                        .contains_key("aws-crypto-public-key"),
                    suite.signature().is_some()
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 11 * 4 * 6);
}

#[test]
fn one_shot_reader_and_rsa_and_multi_keyrings() {
    let rsa = RsaPrivateKey::generate(2048).expect("rsa");
    let rsa_enc = Arc::new(
        RawRsaKeyring::new(
            "custos-test",
            "rsa",
            RsaPadding::OaepSha256,
            Some(rsa.public_key()),
            None,
        )
        .expect("keyring"),
    );
    let rsa_dec = RawRsaKeyring::new(
        "custos-test",
        "rsa",
        RsaPadding::OaepSha256,
        None,
        Some(rsa),
    )
    .expect("keyring");
    let aes = Arc::new(aes_keyring("aes", 2));
    let multi = MultiKeyring::new(Some(aes.clone()), vec![rsa_enc]);
    let pt = plaintext(10_000);
    let opts = EncryptOptions::default();
    let msg = encrypt(&multi, &opts, &pt).expect("encrypt");
    let header = Header::parse(&msg, None).expect("header").0;
    assert_eq!(header.encrypted_data_keys().len(), 2);
    assert_eq!(
        header.suite(),
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384
    );
    // Either key opens it.
    for keyring in [&*aes as &dyn Keyring, &rsa_dec] {
        let got = decrypt(keyring, DecryptOptions::default(), &msg).expect("decrypt");
        assert_eq!(got.plaintext.expose_secret(), &pt[..]);
        assert_eq!(got.encryption_context.len(), 1); // the public key
    }
    // Streaming both ways through the Read adapters.
    let enc = Encryptor::new(&multi, &opts).expect("encryptor");
    let mut ct = Vec::new();
    EncryptingReader::new(&pt[..], enc)
        .read_to_end(&mut ct)
        .expect("read");
    let mut back = Vec::new();
    DecryptingReader::new(&ct[..], &rsa_dec, DecryptOptions::default())
        .read_to_end(&mut back)
        .expect("read");
    assert_eq!(back, pt);
}

/// A message per suite with a few frames and two data keys.
fn sample_messages() -> Vec<(AlgorithmSuite, Vec<u8>, Vec<u8>)> {
    let keyring = MultiKeyring::new(
        Some(Arc::new(aes_keyring("a", 3))),
        vec![Arc::new(aes_keyring("b", 4))],
    );
    AlgorithmSuite::ALL
        .into_iter()
        .map(|suite| {
            let pt = plaintext(40);
            let msg = encrypt(&keyring, &enc_options(suite, 16), &pt).expect("encrypt");
            (suite, pt, msg)
        })
        .collect()
}

#[test]
fn every_flipped_byte_is_rejected() {
    let keyring = aes_keyring("a", 3);
    for (suite, pt, msg) in sample_messages() {
        assert_eq!(
            decrypt_in_chunks(&keyring, dec_options(), &msg, 1 << 20).expect("intact"),
            pt
        );
        for i in 0..msg.len() {
            for flip in [0x01, 0x80] {
                let mut bad = msg.clone();
                bad[i] ^= flip;
                assert!(
                    decrypt_in_chunks(&keyring, dec_options(), &bad, 1 << 20).is_err(),
                    "{suite}: flipping byte {i} of {} (^{flip:#x}) went unnoticed",
                    msg.len()
                );
            }
        }
    }
}

#[test]
fn every_truncation_and_extension_is_rejected() {
    let keyring = aes_keyring("b", 4);
    for (suite, _, msg) in sample_messages() {
        for cut in 0..msg.len() {
            let got = decrypt_in_chunks(&keyring, dec_options(), &msg[..cut], 7);
            assert!(
                matches!(got, Err(Error::Truncated)),
                "{suite}: cut at {cut} of {}: {got:?}",
                msg.len()
            );
        }
        let mut long = msg.clone();
        long.push(0);
        assert!(matches!(
            decrypt_in_chunks(&keyring, dec_options(), &long, 5),
            Err(Error::TrailingBytes)
        ));
        let mut twice = msg.clone();
        twice.extend_from_slice(&msg);
        assert!(matches!(
            decrypt(&keyring, dec_options(), &twice),
            Err(Error::TrailingBytes)
        ));
    }
}

#[test]
fn final_frame_is_held_until_finish() {
    let keyring = aes_keyring("k", 5);
    for suite in [
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        AlgorithmSuite::Aes256GcmHkdfSha512CommitKey,
    ] {
        let pt = plaintext(100);
        let msg = encrypt(&keyring, &enc_options(suite, 32), &pt).expect("encrypt");
        let mut d = Decryptor::new(&keyring, dec_options());
        let mut out = Vec::new();
        d.update(&msg, &mut out).expect("update");
        assert!(d.is_complete());
        assert_eq!(out, &pt[..96], "only the regular frames before finish");
        d.finish(&mut out).expect("finish");
        assert_eq!(out, pt);

        // A bad signature: the regular frames come out, then finish fails,
        // and the reader reports an error rather than end of file.
        if suite.signature().is_some() {
            let mut bad = msg.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            let mut d = Decryptor::new(&keyring, dec_options());
            let mut out = Vec::new();
            assert!(matches!(
                d.update(&bad, &mut out),
                Err(Error::AuthenticationFailed)
            ));
            assert!(matches!(d.finish(&mut out), Err(Error::Poisoned)));
            assert_eq!(out.len(), 96);
            let mut r = DecryptingReader::new(&bad[..], &keyring, dec_options());
            let err = r.read_to_end(&mut Vec::new()).expect_err("must fail");
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        }
    }
}

#[test]
fn reads_full_final_frames_written_frame_by_frame() {
    // Other SDKs may end a message of exactly n frames with a full final
    // frame. Build one from the header and the frame cipher, as a parallel
    // writer would.
    let keyring = aes_keyring("k", 6);
    let suite = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let enc = Encryptor::new(&keyring, &enc_options(suite, 16)).expect("encryptor");
    let cipher = enc.frame_cipher();
    let pt = plaintext(48);
    let mut msg = enc.header().to_bytes();
    let sealed: Vec<Vec<u8>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u32)
            .map(|i| {
                let cipher = Arc::clone(&cipher);
                let pt = &pt;
                s.spawn(move || {
                    let mut f = Vec::new();
                    let start = i as usize * 16;
                    cipher
                        .seal_regular(i + 1, &pt[start..start + 16], &mut f)
                        .expect("seal");
                    f
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for f in sealed {
        msg.extend_from_slice(&f);
    }
    cipher.seal_final(3, &pt[32..], &mut msg).expect("seal");
    assert_eq!(
        decrypt_in_chunks(&keyring, dec_options(), &msg, 11).expect("decrypt"),
        pt
    );
    // And frames can be opened out of order on other threads, found with
    // `next_frame`.
    let (header, mut pos) = Header::parse(&msg, None).expect("header");
    let d = {
        let mut d = Decryptor::new(&keyring, dec_options());
        d.update(&msg[..header.serialized_len()], &mut Vec::new())
            .expect("header");
        d.frame_cipher().expect("verified header")
    };
    let mut seq = 1;
    let mut out = vec![Vec::new(); 3];
    while let FrameExtent::Complete { part, len } = d.next_frame(&msg[pos..]).expect("extent") {
        let frame = &msg[pos..pos + len];
        match part {
            BodyPart::FinalFrame => d.open_final(seq, frame, &mut out[seq as usize - 1]),
            _ => d.open_regular(seq, frame, &mut out[seq as usize - 1]),
        }
        .expect("open");
        pos += len;
        seq += 1;
        if part == BodyPart::FinalFrame {
            break;
        }
    }
    assert_eq!(out.concat(), pt);
}

/// A keyring that counts its calls, to show what happens before it runs.
#[derive(Debug)]
struct Counting<K>(K, AtomicUsize);

impl<K: Keyring> Keyring for Counting<K> {
    fn on_encrypt(&self, m: &mut EncryptionMaterials) -> Result<(), KeyringError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.on_encrypt(m)
    }

    fn on_decrypt(
        &self,
        m: &mut DecryptionMaterials,
        edks: &[EncryptedDataKey],
    ) -> Result<(), KeyringError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.on_decrypt(m, edks)
    }
}

#[test]
fn commitment_policy() {
    let keyring = Counting(aes_keyring("k", 7), AtomicUsize::new(0));
    let legacy = AlgorithmSuite::Aes256GcmIv12Tag16HkdfSha384EcdsaP384;
    let committing = AlgorithmSuite::Aes256GcmHkdfSha512CommitKey;
    let opts = |suite, policy| EncryptOptions {
        suite: Some(suite),
        commitment_policy: policy,
        ..EncryptOptions::default()
    };

    // Encryption.
    for (suite, policy, ok) in [
        (legacy, CommitmentPolicy::ForbidEncryptAllowDecrypt, true),
        (
            committing,
            CommitmentPolicy::ForbidEncryptAllowDecrypt,
            false,
        ),
        (legacy, CommitmentPolicy::RequireEncryptAllowDecrypt, false),
        (
            committing,
            CommitmentPolicy::RequireEncryptAllowDecrypt,
            true,
        ),
        (
            legacy,
            CommitmentPolicy::RequireEncryptRequireDecrypt,
            false,
        ),
        (
            committing,
            CommitmentPolicy::RequireEncryptRequireDecrypt,
            true,
        ),
    ] {
        let got = encrypt(&keyring, &opts(suite, policy), b"x");
        match (ok, got) {
            (true, Ok(_)) => {}
            (false, Err(Error::CommitmentPolicy { .. })) => {}
            (_, other) => panic!("{suite} under {policy:?}: {other:?}"),
        }
    }
    // Defaults.
    for (policy, suite) in [
        (CommitmentPolicy::ForbidEncryptAllowDecrypt, legacy),
        (
            CommitmentPolicy::RequireEncryptAllowDecrypt,
            AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
        ),
    ] {
        let o = EncryptOptions {
            commitment_policy: policy,
            ..EncryptOptions::default()
        };
        let msg = encrypt(&keyring, &o, b"x").expect("encrypt");
        assert_eq!(Header::parse(&msg, None).expect("header").0.suite(), suite);
    }

    // Decryption: a legacy message is refused before the keyring is asked.
    let old = encrypt(
        &keyring,
        &opts(legacy, CommitmentPolicy::ForbidEncryptAllowDecrypt),
        b"old",
    )
    .expect("encrypt");
    let new = encrypt(
        &keyring,
        &opts(committing, CommitmentPolicy::RequireEncryptRequireDecrypt),
        b"new",
    )
    .expect("encrypt");
    let calls = keyring.1.load(Ordering::SeqCst);
    let strict = DecryptOptions::default();
    assert!(matches!(
        decrypt(&keyring, strict.clone(), &old),
        Err(Error::CommitmentPolicy { .. })
    ));
    assert_eq!(
        keyring.1.load(Ordering::SeqCst),
        calls,
        "keyring not called"
    );
    assert!(decrypt(&keyring, strict, &new).is_ok());
    for policy in [
        CommitmentPolicy::ForbidEncryptAllowDecrypt,
        CommitmentPolicy::RequireEncryptAllowDecrypt,
    ] {
        let o = DecryptOptions {
            commitment_policy: policy,
            ..DecryptOptions::default()
        };
        assert!(decrypt(&keyring, o.clone(), &old).is_ok());
        assert!(decrypt(&keyring, o, &new).is_ok());
    }
}

#[test]
fn max_encrypted_data_keys() {
    let three = MultiKeyring::new(
        Some(Arc::new(aes_keyring("a", 1))),
        vec![Arc::new(aes_keyring("b", 2)), Arc::new(aes_keyring("c", 3))],
    );
    let mut opts = EncryptOptions {
        max_encrypted_data_keys: Some(2),
        ..EncryptOptions::default()
    };
    assert!(matches!(
        encrypt(&three, &opts, b"x"),
        Err(Error::TooManyEncryptedDataKeys { limit: 2 })
    ));
    opts.max_encrypted_data_keys = Some(3);
    let msg = encrypt(&three, &opts, b"x").expect("encrypt");

    let reader = Counting(aes_keyring("c", 3), AtomicUsize::new(0));
    let limited = DecryptOptions {
        max_encrypted_data_keys: Some(2),
        ..DecryptOptions::default()
    };
    assert!(matches!(
        decrypt(&reader, limited, &msg),
        Err(Error::TooManyEncryptedDataKeys { limit: 2 })
    ));
    assert_eq!(
        reader.1.load(Ordering::SeqCst),
        0,
        "refused before the keyring"
    );
    let enough = DecryptOptions {
        max_encrypted_data_keys: Some(3),
        ..DecryptOptions::default()
    };
    assert!(decrypt(&reader, enough, &msg).is_ok());
}

#[test]
fn frame_length_limit_and_signature_policy() {
    let keyring = Counting(aes_keyring("k", 8), AtomicUsize::new(0));
    let big = EncryptOptions {
        frame_length: 1 << 20,
        ..EncryptOptions::default()
    };
    let msg = encrypt(&keyring, &big, b"x").expect("encrypt");
    let calls = keyring.1.load(Ordering::SeqCst);
    let small = DecryptOptions {
        max_frame_length: (1 << 20) - 1,
        ..DecryptOptions::default()
    };
    assert!(matches!(
        decrypt(&keyring, small, &msg),
        Err(Error::FrameTooLarge {
            length: 1_048_576,
            ..
        })
    ));
    let unsigned_only = DecryptOptions {
        signature_policy: SignaturePolicy::RequireUnsigned,
        ..DecryptOptions::default()
    };
    assert!(matches!(
        decrypt(&keyring, unsigned_only.clone(), &msg),
        Err(Error::SignedMessageRefused)
    ));
    assert_eq!(
        keyring.1.load(Ordering::SeqCst),
        calls,
        "refused before the keyring"
    );
    let unsigned = encrypt(
        &keyring,
        &EncryptOptions {
            suite: Some(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey),
            ..EncryptOptions::default()
        },
        b"x",
    )
    .expect("encrypt");
    assert!(decrypt(&keyring, unsigned_only, &unsigned).is_ok());
    assert!(matches!(
        encrypt(
            &keyring,
            &EncryptOptions {
                frame_length: 0,
                ..EncryptOptions::default()
            },
            b"x"
        ),
        Err(Error::InvalidFrameLength)
    ));
}

#[test]
fn encryption_context_rules() {
    let aes = aes_keyring("k", 9);
    let rsa = RsaPrivateKey::generate(2048).expect("rsa");
    let rsa = RawRsaKeyring::new(
        "ns",
        "r",
        RsaPadding::OaepSha1,
        Some(rsa.public_key()),
        Some(rsa),
    )
    .expect("keyring");

    // Reserved prefix.
    let reserved = EncryptOptions {
        encryption_context: [("aws-crypto-public-key", "x")].into_iter().collect(),
        ..EncryptOptions::default()
    };
    assert!(matches!(
        encrypt(&aes, &reserved, b"x"),
        Err(Error::ReservedContextKey(_))
    ));

    // Authenticate-only entries: not in the header, needed to decrypt.
    let opts = EncryptOptions {
        encryption_context: [("stored", "1"), ("tenant", "acme")].into_iter().collect(),
        authenticate_only_keys: ["tenant".to_owned()].into_iter().collect(),
        ..EncryptOptions::default()
    };
    for keyring in [&aes as &dyn Keyring, &rsa] {
        let msg = encrypt(keyring, &opts, b"secret").expect("encrypt");
        let header = Header::parse(&msg, None).expect("header").0;
        assert!(!header.stored_encryption_context().contains_key("tenant"));
        assert!(header.stored_encryption_context().contains_key("stored"));
        let with = |ec: &[(&str, &str)]| DecryptOptions {
            encryption_context: Some(ec.iter().copied().collect::<EncryptionContext>()),
            ..DecryptOptions::default()
        };
        let got = decrypt(keyring, with(&[("tenant", "acme")]), &msg).expect("decrypt");
        assert_eq!(got.plaintext.expose_secret(), b"secret");
        assert_eq!(got.encryption_context.get("tenant"), Some("acme"));
        // Missing or wrong: the raw AES keyring cannot unwrap (the context is
        // its AAD); the RSA keyring can, and the header tag fails.
        for bad in [
            with(&[]),
            with(&[("tenant", "evil")]),
            DecryptOptions::default(),
        ] {
            match decrypt(keyring, bad, &msg) {
                Err(
                    Error::AuthenticationFailed | Error::Keyring(KeyringError::UnableToDecrypt),
                ) => {}
                other => panic!("{other:?}"),
            }
        }
        // A stored entry with another value is a mismatch.
        assert!(matches!(
            decrypt(keyring, with(&[("tenant", "acme"), ("stored", "2")]), &msg),
            Err(Error::ContextMismatch)
        ));
    }
    assert!(matches!(
        encrypt(
            &aes,
            &EncryptOptions {
                authenticate_only_keys: ["absent".to_owned()].into_iter().collect(),
                ..EncryptOptions::default()
            },
            b"x"
        ),
        Err(Error::MissingRequiredContextKey(_))
    ));
}

#[test]
fn the_wrong_key_and_misuse() {
    let msg = encrypt(&aes_keyring("k", 1), &EncryptOptions::default(), b"x").expect("encrypt");
    assert!(matches!(
        decrypt(&aes_keyring("k", 2), DecryptOptions::default(), &msg),
        Err(Error::Keyring(KeyringError::UnableToDecrypt))
    ));
    assert!(matches!(
        decrypt(&aes_keyring("k", 1), DecryptOptions::default(), b"AYAAF"),
        Err(Error::Base64Input)
    ));
    // After finish or an error, nothing more.
    let keyring = aes_keyring("k", 1);
    let mut e = Encryptor::new(&keyring, &EncryptOptions::default()).expect("encryptor");
    let mut out = Vec::new();
    e.finish(&mut out).expect("finish");
    assert!(matches!(e.update(b"more", &mut out), Err(Error::Poisoned)));
    let mut d = Decryptor::new(&keyring, DecryptOptions::default());
    assert!(d.update(b"\x07", &mut Vec::new()).is_err());
    assert!(matches!(
        d.update(&msg, &mut Vec::new()),
        Err(Error::Poisoned)
    ));
}
