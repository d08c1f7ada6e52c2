//! The body of every fuzz target, one function per parser family.
//!
//! Each function takes arbitrary bytes, must never panic, and checks a few
//! properties that hold for every input (a failed `assert!` is a finding,
//! like a panic inside a parser). The same file is compiled twice: by the
//! cargo-fuzz crate in `fuzz/` (the `fuzz_targets/<name>.rs` binaries) and
//! by the replay test `crates/custos/tests/fuzz_corpus.rs`, which runs every
//! file of `fuzz/corpus/<name>/` through [`run`]. Only public APIs of the
//! Custos crates are used. See `docs/fuzzing.md`.

use std::collections::BTreeMap;

/// The names of the targets, as `fuzz/fuzz_targets/<name>.rs` and
/// `fuzz/corpus/<name>/` spell them.
pub const TARGETS: &[&str] = &[
    "sigv4",
    "kms_json",
    "ciphertext_blob",
    "esdk_message",
    "policy",
    "iam_query",
];

/// Runs target `name` on `data`; `false` if there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "sigv4" => sigv4(data),
        "kms_json" => kms_json(data),
        "ciphertext_blob" => ciphertext_blob(data),
        "esdk_message" => esdk_message(data),
        "policy" => policy(data),
        "iam_query" => iam_query(data),
        _ => return false,
    }
    true
}

// ---------------------------------------------------------------------------
// sigv4

/// The secret every seed of `corpus/sigv4` is signed with.
pub const SIGV4_SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// An HTTP request as the `sigv4` target reads it from its input: a first
/// line `METHOD PATH[?QUERY]`, then `Name: value` header lines, an empty
/// line, and the body (every remaining byte). Header lines that `http`
/// would refuse (bad name or value bytes) are skipped, as the HTTP server
/// would never hand them over.
#[derive(Debug)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl RawRequest {
    pub fn parse(data: &[u8]) -> RawRequest {
        let mut lines = Vec::new();
        let mut rest = data;
        let mut body: &[u8] = &[];
        loop {
            match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let line = &rest[..i];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    rest = &rest[i + 1..];
                    if line.is_empty() && !lines.is_empty() {
                        body = rest;
                        break;
                    }
                    lines.push(line);
                }
                None => {
                    if !rest.is_empty() {
                        lines.push(rest);
                    }
                    break;
                }
            }
        }
        let first = lines.first().copied().unwrap_or_default();
        let first = String::from_utf8_lossy(first);
        let (method, target) = first.split_once(' ').unwrap_or((&first, "/"));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers = http::HeaderMap::new();
        for line in lines.iter().skip(1) {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let value = line[colon + 1..].trim_ascii_start();
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(&line[..colon]),
                http::HeaderValue::from_bytes(value),
            ) {
                headers.append(name, value);
            }
        }
        RawRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.to_vec(),
        }
    }

    pub fn parts(&self) -> custos_sigv4::RequestParts<'_> {
        custos_sigv4::RequestParts {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// The SigV4 signature of `string_to_sign` for `secret` and the scope
/// `date/region/service`, computed here independently of `custos-sigv4`
/// (from the HMAC of `custos-crypto`), as lowercase hex.
pub fn sigv4_signature(
    secret: &[u8],
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    use custos_crypto::mac::hmac_sha256;
    let mut seed = b"AWS4".to_vec();
    seed.extend_from_slice(secret);
    let k_date = hmac_sha256(&seed, date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    let k_signing = hmac_sha256(&k_service, b"aws4_request");
    hex::encode(hmac_sha256(&k_signing, string_to_sign.as_bytes()))
}

/// `custos_sigv4::parse` (the Authorization header and the presigned query
/// parameters, the credential scope, the dates, `SignedHeaders`), then
/// every method of the parsed request a server calls: canonicalisation,
/// the string to sign, the scope and presign checks and the signature
/// verification (at the request's own time, so that the clock passes and
/// the signature is really compared).
///
/// Properties: the canonical request starts with the method and ends with
/// the hex SHA-256 of the body; the string to sign starts with the
/// algorithm, names the scope and ends with the hash of the canonical
/// request; a request that verifies under the seeds' secret does not verify
/// under another one.
pub fn sigv4(data: &[u8]) {
    let raw = RawRequest::parse(data);
    let parts = raw.parts();
    let _ = format!("{parts:?}");
    let mut unnormalized = custos_sigv4::ParseOptions::default();
    unnormalized.normalize_uri_path = false;
    for options in [custos_sigv4::ParseOptions::default(), unnormalized] {
        let mut signed = match custos_sigv4::parse_with(&parts, options) {
            Ok(signed) => signed,
            Err(e) => {
                let _ = (e.aws_type(), e.message(), format!("{e:?}"));
                continue;
            }
        };
        let _ = format!("{signed:?}");
        let payload_hash = hex::encode(custos_crypto::mac::sha256(&raw.body));
        let canonical = signed.canonical_request();
        assert!(
            canonical.starts_with(raw.method.as_bytes())
                && canonical.get(raw.method.len()) == Some(&b'\n'),
            "the canonical request starts with the method"
        );
        assert!(
            canonical.ends_with(payload_hash.as_bytes()),
            "the canonical request ends with the payload hash"
        );
        let string_to_sign = signed.string_to_sign();
        let scope = format!(
            "\n{}/{}/{}/aws4_request\n",
            signed.scope_date(),
            signed.region(),
            signed.service()
        );
        assert!(string_to_sign.starts_with("AWS4-HMAC-SHA256\n"));
        assert!(
            string_to_sign.contains(&scope),
            "the string to sign names the scope"
        );
        assert!(
            string_to_sign.ends_with(&hex::encode(custos_crypto::mac::sha256(&canonical))),
            "the string to sign ends with the canonical request's hash"
        );
        let _ = (
            signed.access_key_id(),
            signed.is_presigned(),
            signed.security_token(),
            signed.check_scope("us-east-1", "kms"),
            signed.require_signed(&raw.headers, "X-Amz-Target"),
        );
        let at = signed.signed_at();
        let _ = signed.check_time(at);
        let secret = custos_crypto::SecretBytes::from_slice(SIGV4_SECRET);
        let verified = signed.verify(&secret, at);
        let key = custos_sigv4::SigningKey::derive(
            &secret,
            signed.scope_date(),
            signed.region(),
            signed.service(),
        );
        assert_eq!(
            verified,
            signed.verify_with_key(&key, at),
            "verify and verify_with_key agree"
        );
        if let Ok(v) = &verified {
            assert_eq!(v.access_key_id(), signed.access_key_id());
            let other = custos_crypto::SecretBytes::from_slice(b"another secret");
            assert!(
                signed.verify(&other, at).is_err(),
                "a request verifies under one secret only"
            );
        }
        let _ = signed.limit_presigned("kms", Some(300));
        let _ = signed.limit_presigned("kms", None);
    }
}

// ---------------------------------------------------------------------------
// kms_json

/// The request shape of each KMS operation, as the server's
/// `dispatch::dispatch` deserializes it.
macro_rules! kms_shapes {
    ($body:expr, $op:expr, { $($name:ident => $shape:ident),* $(,)? }) => {{
        use custos_wire::Operation;
        use custos_wire::shapes::*;
        match $op {
            $(Some(Operation::$name) => kms_request::<$shape>($body),)*
            // An unknown target: every shape, so that no input is wasted.
            None => {
                $(kms_request::<$shape>($body);)*
            }
        }
    }};
}

/// The input of `kms_json`: `OperationName` (as after `TrentService.` in
/// `X-Amz-Target`), a newline, and the JSON body. Parses the body into that
/// operation's request shape exactly as the server does
/// (`custos-server/src/dispatch.rs`, `parse`: trimmed, empty means the
/// default request, anything but an object is refused, then
/// `serde_json::from_slice`), then runs the domain's parsers of the
/// members that name things: `KeyId` strings (`KeyRef::parse`), alias
/// names, ciphertext blobs (`ciphertext::parse_header`) and key policies
/// (`Policy::parse`).
pub fn kms_json(data: &[u8]) {
    let (target, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let target = format!(
        "{}{}",
        custos_wire::TARGET_PREFIX,
        String::from_utf8_lossy(target).trim()
    );
    let op = custos_wire::Operation::from_target(&target);
    if let Some(op) = op {
        assert_eq!(
            custos_wire::Operation::from_target(&format!(
                "{}{}",
                custos_wire::TARGET_PREFIX,
                op.name()
            )),
            Some(op)
        );
    }
    kms_shapes!(body, op, {
        CancelKeyDeletion => KeyIdRequest,
        CreateAlias => CreateAliasRequest,
        CreateGrant => CreateGrantRequest,
        CreateKey => CreateKeyRequest,
        Decapsulate => DecapsulateRequest,
        Decrypt => DecryptRequest,
        DeleteAlias => DeleteAliasRequest,
        DeriveSharedSecret => DeriveSharedSecretRequest,
        DescribeKey => DescribeKeyRequest,
        DisableKey => KeyIdRequest,
        DisableKeyRotation => KeyIdRequest,
        EnableKey => KeyIdRequest,
        EnableKeyRotation => EnableKeyRotationRequest,
        Encapsulate => EncapsulateRequest,
        Encrypt => EncryptRequest,
        GenerateDataKey => GenerateDataKeyRequest,
        GenerateDataKeyPair => GenerateDataKeyPairRequest,
        GenerateDataKeyPairWithoutPlaintext => GenerateDataKeyPairWithoutPlaintextRequest,
        GenerateDataKeyWithoutPlaintext => GenerateDataKeyWithoutPlaintextRequest,
        GenerateMac => GenerateMacRequest,
        GenerateRandom => GenerateRandomRequest,
        GetKeyLastUsage => KeyIdRequest,
        GetKeyPolicy => GetKeyPolicyRequest,
        GetKeyRotationStatus => KeyIdRequest,
        GetPublicKey => GetPublicKeyRequest,
        ListAliases => ListAliasesRequest,
        ListGrants => ListGrantsRequest,
        ListKeyPolicies => ListKeyPoliciesRequest,
        ListKeyRotations => ListKeyRotationsRequest,
        ListKeys => ListKeysRequest,
        ListResourceTags => ListResourceTagsRequest,
        ListRetirableGrants => ListRetirableGrantsRequest,
        PutKeyPolicy => PutKeyPolicyRequest,
        ReEncrypt => ReEncryptRequest,
        RetireGrant => RetireGrantRequest,
        RevokeGrant => RevokeGrantRequest,
        RotateKeyOnDemand => KeyIdRequest,
        ScheduleKeyDeletion => ScheduleKeyDeletionRequest,
        Sign => SignRequest,
        TagResource => TagResourceRequest,
        UntagResource => UntagResourceRequest,
        UpdateAlias => UpdateAliasRequest,
        UpdateKeyDescription => UpdateKeyDescriptionRequest,
        Verify => VerifyRequest,
        VerifyMac => VerifyMacRequest,
    });
}

/// `custos-server`'s `dispatch::parse`, which is crate-private: the same
/// three steps, in the same order.
fn server_parse<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Option<T> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Some(T::default());
    }
    if trimmed[0] != b'{' {
        return None;
    }
    match serde_json::from_slice(trimmed) {
        Ok(request) => Some(request),
        Err(e) => {
            // The server's error message is built from these.
            let _ = (e.classify(), e.line(), e.column());
            None
        }
    }
}

fn kms_request<T: serde::de::DeserializeOwned + Default + std::fmt::Debug>(body: &[u8]) {
    let Some(request) = server_parse::<T>(body) else {
        return;
    };
    // The members the domain parses further are found through the JSON
    // value of the same (valid) body, so that one function serves every
    // shape.
    let _ = format!("{request:?}");
    let Ok(serde_json::Value::Object(members)) =
        serde_json::from_slice::<serde_json::Value>(body.trim_ascii())
    else {
        return;
    };
    for name in [
        "KeyId",
        "TargetKeyId",
        "SourceKeyId",
        "DestinationKeyId",
        "AliasName",
    ] {
        if let Some(serde_json::Value::String(text)) = members.get(name) {
            key_ref(text);
        }
    }
    if let Some(serde_json::Value::String(b64)) = members.get("CiphertextBlob") {
        // Not every shape has this member (an unknown one is ignored), so
        // it may not be base64.
        if let Ok(blob) =
            serde_json::from_value::<custos_wire::Blob>(serde_json::Value::String(b64.clone()))
        {
            ciphertext_header(&blob.0);
        }
    }
    if let Some(serde_json::Value::String(text)) = members.get("Policy") {
        policy_text(text);
    }
}

fn key_ref(text: &str) {
    use custos_kms::names::{AliasName, KeyRef, KeyUuid};
    if let Some(id) = KeyUuid::parse(text) {
        let canonical = id.to_string();
        assert_eq!(
            canonical,
            text.to_ascii_lowercase(),
            "a key id prints as read"
        );
        assert_eq!(KeyUuid::parse(&canonical), Some(id));
    }
    if let Ok(alias) = AliasName::parse(text) {
        assert_eq!(alias.as_str(), text);
        let _ = alias.is_reserved();
    }
    match KeyRef::parse(text) {
        Ok(r) => {
            let _ = (r.is_alias(), format!("{r:?}"));
        }
        Err(e) => {
            let _ = format!("{e:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// ciphertext_blob

/// The key material the seeds of `corpus/ciphertext_blob` are encrypted
/// under (version 1 of a key whose id is [`CIPHERTEXT_KEY_ID`]).
pub const CIPHERTEXT_MATERIAL: [u8; 32] = [0x42; 32];
/// The key id of the `ciphertext_blob` seeds.
pub const CIPHERTEXT_KEY_ID: [u8; 16] = [
    0x12, 0x34, 0xab, 0xcd, 0x12, 0xab, 0x44, 0xcd, 0x96, 0xef, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab,
];

/// The encryption contexts the `ciphertext_blob` target tries; the seeds
/// use them.
pub fn ciphertext_contexts() -> Vec<custos_kms::context::EncryptionContext> {
    [
        vec![],
        vec![("purpose", "fuzz")],
        vec![("tenant", "acme"), ("purpose", "fuzz")],
    ]
    .into_iter()
    .map(|pairs| {
        custos_kms::context::EncryptionContext::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<BTreeMap<_, _>>(),
        )
    })
    .collect()
}

/// `custos_kms::ciphertext::parse_header` and `decrypt` (the symmetric
/// ciphertext blob of `Decrypt` and `ReEncrypt`) with the seeds' key
/// material, under each of the seeds' encryption contexts.
///
/// Properties: the header parses exactly when the blob is long enough and
/// has format version 1, and then its fields are the bytes at their
/// documented offsets; a blob that decrypts has a header, decrypts under
/// one context only, and is exactly `OVERHEAD` longer than its plaintext.
pub fn ciphertext_blob(data: &[u8]) {
    ciphertext_header(data);
    let material = custos_crypto::Key256::from_slice(&CIPHERTEXT_MATERIAL)
        .expect("32 bytes are an AES-256 key");
    let mut opened = 0;
    for context in ciphertext_contexts() {
        if let Ok(plaintext) = custos_kms::ciphertext::decrypt(&material, &context, data) {
            opened += 1;
            assert!(custos_kms::ciphertext::parse_header(data).is_ok());
            assert_eq!(
                plaintext.expose_secret().len() + custos_kms::ciphertext::OVERHEAD,
                data.len()
            );
        }
    }
    assert!(opened <= 1, "a blob decrypts under one encryption context");
}

fn ciphertext_header(data: &[u8]) {
    use custos_kms::ciphertext::{FORMAT_V1, OVERHEAD, parse_header};
    match parse_header(data) {
        Ok(header) => {
            assert!(data.len() >= OVERHEAD && data[0] == FORMAT_V1);
            assert_eq!(header.key_id.as_bytes()[..], data[1..17]);
            assert_eq!(header.material_version.to_be_bytes()[..], data[17..21]);
        }
        Err(_) => assert!(data.len() < OVERHEAD || data[0] != FORMAT_V1),
    }
}

// ---------------------------------------------------------------------------
// esdk_message

/// The raw AES wrapping key of the AWS Encryption SDK test vectors
/// (`keys.json`, `aes-256`), with which their raw-AES messages and this
/// target's own seeds were encrypted.
pub const ESDK_AES_KEY: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
    0x16, 0x17, 0x18, 0x19, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x30, 0x31,
];
/// The provider id (key namespace) of the test vectors' raw AES key.
pub const ESDK_NAMESPACE: &str = "aws-raw-vectors-persistant";
/// The key name of the test vectors' raw AES key.
pub const ESDK_KEY_NAME: &str = "aes-256";

/// The keyring that opens the seeds of `corpus/esdk_message`.
pub fn esdk_keyring() -> custos_envelope::RawAesKeyring {
    custos_envelope::RawAesKeyring::new(
        ESDK_NAMESPACE,
        ESDK_KEY_NAME,
        &custos_crypto::SecretBytes::from_slice(&ESDK_AES_KEY),
    )
    .expect("a 256-bit AES key")
}

fn esdk_options() -> custos_envelope::DecryptOptions {
    custos_envelope::DecryptOptions {
        commitment_policy: custos_envelope::CommitmentPolicy::ForbidEncryptAllowDecrypt,
        max_encrypted_data_keys: Some(16),
        // Small, so that a mutated length cannot make the target allocate
        // much; the seeds' frames are far below it.
        max_frame_length: 1 << 16,
        ..custos_envelope::DecryptOptions::default()
    }
}

/// An AWS Encryption SDK message: the header alone (`Header::parse`, and
/// `HeaderParser` fed the growing prefixes it asks for, as a stream
/// delivers them), the checks before the keyring (`prepare_materials`),
/// then a whole decryption with the test vectors' raw AES key, one-shot
/// (`decrypt`) and streamed in two pieces (`Decryptor`). The seeds decrypt,
/// so mutations reach the body and footer parsers behind the header tag.
///
/// Properties: a parsed header serializes back to the bytes it was read
/// from; its stored encryption context re-serializes to an equal context;
/// the incremental parser agrees with the one-shot parse; streaming and
/// one-shot decryption agree, on success and on the plaintext.
pub fn esdk_message(data: &[u8]) {
    use custos_envelope::{Decryptor, EncryptionContext, Header, HeaderParser, Parse};

    let options = esdk_options();
    let whole = Header::parse(data, options.max_encrypted_data_keys);
    if let Ok((header, len)) = &whole {
        assert_eq!(header.serialized_len(), *len);
        assert_eq!(
            header.to_bytes(),
            data[..*len],
            "a header re-serializes as read"
        );
        let context = header.stored_encryption_context();
        if let Ok(bytes) = context.serialize() {
            assert_eq!(
                EncryptionContext::parse(&bytes).as_ref(),
                Ok(context),
                "an encryption context survives serialization"
            );
        }
        let _ = (
            header.version(),
            header.suite(),
            header.message_id(),
            header.encrypted_data_keys(),
            header.content_type(),
            header.frame_length(),
            header.commitment(),
            format!("{header:?}"),
        );
        for policy in [
            custos_envelope::CommitmentPolicy::RequireEncryptRequireDecrypt,
            custos_envelope::CommitmentPolicy::ForbidEncryptAllowDecrypt,
        ] {
            for signature_policy in [
                custos_envelope::SignaturePolicy::AllowSigned,
                custos_envelope::SignaturePolicy::RequireUnsigned,
            ] {
                let options = custos_envelope::DecryptOptions {
                    commitment_policy: policy,
                    signature_policy,
                    encryption_context: Some(
                        [("key1", "val1"), ("key2", "val2")].into_iter().collect(),
                    ),
                    ..esdk_options()
                };
                let _ = custos_envelope::prepare_materials(header, &options);
            }
        }
    }

    // Incremental: hand the parser exactly the prefix it asks for.
    let mut parser = HeaderParser::new(options.max_encrypted_data_keys);
    let mut available = 0;
    let incremental = loop {
        match parser.advance(&data[..available]) {
            Ok(Parse::Need(n)) if n <= data.len() => {
                assert!(n > available, "the parser asks for more than it has");
                available = n;
            }
            Ok(Parse::Need(_)) => break None,
            Ok(Parse::Done(_, len)) => break Some(len),
            Err(_) => break None,
        }
    };
    assert_eq!(
        incremental,
        whole.as_ref().ok().map(|(_, len)| *len),
        "the incremental and one-shot header parsers agree"
    );

    let keyring = esdk_keyring();
    let one_shot = custos_envelope::decrypt(&keyring, esdk_options(), data);
    let split = data.len() / 3;
    let mut decryptor = Decryptor::new(&keyring, esdk_options());
    let mut streamed = Vec::new();
    let streamed_ok = decryptor
        .update(&data[..split], &mut streamed)
        .and_then(|()| decryptor.update(&data[split..], &mut streamed))
        .and_then(|()| decryptor.finish(&mut streamed))
        .is_ok();
    let _ = format!("{decryptor:?}");
    match one_shot {
        Ok(decrypted) => {
            assert!(
                streamed_ok,
                "a message that decrypts also decrypts streamed"
            );
            assert_eq!(decrypted.plaintext.expose_secret(), &streamed[..]);
            assert!(whole.is_ok());
        }
        Err(e) => {
            assert!(!streamed_ok, "a message that fails also fails streamed");
            let _ = (e.to_string(), format!("{e:?}"));
        }
    }
}

// ---------------------------------------------------------------------------
// policy

const POLICY_KINDS: [custos_policy::PolicyKind; 4] = [
    custos_policy::PolicyKind::Identity,
    custos_policy::PolicyKind::Resource,
    custos_policy::PolicyKind::Trust,
    custos_policy::PolicyKind::Session,
];

/// A policy document (key policy, identity, trust or session policy): the
/// input as UTF-8 text, parsed as each of the four kinds
/// (`Policy::parse`), and each policy that parses evaluated against a few
/// requests with a context holding every type of condition value (strings,
/// numbers, dates, booleans, IP addresses, ARNs, lists).
///
/// Properties: a parsed policy keeps its text and kind and parses again
/// alike; evaluation is deterministic; combining one policy
/// (`custos_policy::evaluate`) agrees with its own verdict
/// (`Policy::evaluate`).
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    policy_text(text);
}

fn policy_text(text: &str) {
    use custos_policy::{Policy, PolicyType};
    for kind in POLICY_KINDS {
        let parsed = match Policy::parse(text, kind) {
            Ok(p) => p,
            Err(e) => {
                let _ = (e.to_string(), e.detail(), format!("{e:?}"));
                continue;
            }
        };
        assert_eq!(parsed.text(), text);
        assert_eq!(parsed.kind(), kind);
        let again = Policy::parse(text, kind).expect("a policy that parsed parses again");
        assert_eq!(again.statement_count(), parsed.statement_count());
        assert_eq!(again.version(), parsed.version());
        assert_eq!(again.id(), parsed.id());
        let _ = (
            parsed.principal_arns(),
            parsed.mentions_condition_key("kms:EncryptionContext:tenant"),
            parsed.mentions_condition_key("aws:SourceIp"),
        );
        let as_type = match kind {
            custos_policy::PolicyKind::Resource | custos_policy::PolicyKind::Trust => {
                PolicyType::Resource
            }
            custos_policy::PolicyKind::Identity => PolicyType::Identity,
            custos_policy::PolicyKind::Session => PolicyType::Session,
        };
        policy_requests(|request| {
            let effect = parsed.evaluate(request);
            assert_eq!(
                effect,
                parsed.evaluate(request),
                "evaluation is deterministic"
            );
            let decision = custos_policy::evaluate(
                &[custos_policy::PolicyRef::new(as_type, &parsed)],
                request,
            );
            check_combined(as_type, effect, decision);
        });
    }
}

/// What `custos_policy::evaluate` must say of one policy of type `by`
/// whose own verdict is `effect` (the combination rules of its docs).
fn check_combined(
    by: custos_policy::PolicyType,
    effect: custos_policy::Effect,
    decision: custos_policy::Decision,
) {
    use custos_policy::{Decision, Effect, PolicyType};
    let expected = match (effect, by) {
        (Effect::Deny, _) => Decision::ExplicitDeny { by },
        (Effect::Allow, PolicyType::Resource) => Decision::Allow { by },
        (Effect::Allow | Effect::AccountAllow, PolicyType::Identity) => Decision::Allow { by },
        // A session policy only narrows; on its own nothing allows.
        _ => Decision::ImplicitDeny,
    };
    assert_eq!(decision, expected, "{effect:?} of a {by:?} policy");
}

/// Calls `f` with each of a few requests that exercise every kind of
/// principal and condition value.
fn policy_requests(mut f: impl FnMut(&custos_policy::Request<'_>)) {
    use custos_policy::{AwsPrincipal, Context, Principal, Request};
    const ACCOUNT: &str = "111122223333";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const ROLE: &str = "arn:aws:iam::111122223333:role/KeyUsers";
    let mut context = Context::with_capacity(16);
    context
        .insert("kms:EncryptionContext:tenant", "acme")
        .insert("kms:CallerAccount", ACCOUNT)
        .insert("kms:ViaService", "ec2.us-east-1.amazonaws.com")
        .insert("aws:username", "alice")
        .insert("aws:userid", "AIDAEXAMPLE")
        .insert("aws:PrincipalArn", "arn:aws:iam::111122223333:user/alice")
        .insert("aws:SourceIp", "192.0.2.7")
        .insert("aws:PrincipalTag/team", "crypto")
        .insert("kms:RecipientAttestation:ImageSha384", "AAECAw==")
        .insert_bool("aws:SecureTransport", true)
        .insert_number("aws:MultiFactorAuthAge", 30)
        .insert_number("kms:RotationPeriodInDays", 365)
        .insert_time(
            "aws:CurrentTime",
            time::OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("a valid timestamp"),
        )
        .insert_many("kms:GrantOperations", ["Decrypt", "Encrypt"])
        .insert_many("aws:TagKeys", Vec::<&str>::new());
    let empty = Context::new();
    let alice = Principal::Aws(AwsPrincipal::new(
        "arn:aws:iam::111122223333:user/alice",
        ACCOUNT,
    ));
    let session = Principal::Aws(AwsPrincipal::session(
        "arn:aws:sts::111122223333:assumed-role/KeyUsers/app",
        ACCOUNT,
        ROLE,
    ));
    let root = Principal::Aws(AwsPrincipal::new(
        "arn:aws:iam::444455556666:root",
        "444455556666",
    ));
    f(&Request::new("kms:Decrypt", KEY, alice, &context));
    f(&Request::new("kms:CreateKey", "*", session, &context));
    f(&Request::new("sts:AssumeRole", ROLE, root, &empty));
    f(&Request::new(
        "sts:AssumeRole",
        ROLE,
        Principal::Service("ec2.amazonaws.com"),
        &context,
    ));
    f(&Request::new(
        "iam:GetUser",
        "arn:aws:iam::111122223333:user/alice",
        Principal::Federated("cognito-identity.amazonaws.com"),
        &empty,
    ));
}

// ---------------------------------------------------------------------------
// iam_query

/// Percent-encodes every byte, so that decoding gives it back whatever it
/// is.
fn encode_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// An IAM or STS Query-protocol request (a form body or a GET query
/// string): `parse_form`, the service it is for (`Service::of`), then
/// `IamRequest::parse` and `StsRequest::parse` (every member's constraints),
/// the policy documents they carry (`Policy::parse` as identity, trust and
/// session policies, as the IAM domain parses them) and the XML error
/// bodies of what they refuse.
///
/// Properties: the decoded parameters, encoded again, decode to the same
/// parameters; a parsed request's action and version are the parameters';
/// the `<Message>` of an error body holds no markup.
pub fn iam_query(data: &[u8]) {
    use custos_iam_wire::{IamRequest, Service, StsRequest, parse_form};
    let params = match parse_form(data) {
        Ok(p) => p,
        Err(e) => {
            let e = custos_iam_wire::IamError::from(e);
            check_error_xml(&e, Service::Iam);
            return;
        }
    };
    let encoded: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", encode_all(k), encode_all(v)))
        .collect();
    assert_eq!(
        parse_form(encoded.join("&").as_bytes()).as_ref(),
        Ok(&params),
        "parameters survive re-encoding"
    );
    let service = Service::of(&params);
    let _ = (params.has_list("Tags"), params.members("Tags"));
    match IamRequest::parse(&params) {
        Ok(request) => {
            assert_eq!(Some(request.action()), params.action());
            assert_eq!(params.version(), Some(custos_iam_wire::IAM_VERSION));
            let _ = format!("{request:?}");
        }
        Err(e) => check_error_xml(&e, service),
    }
    match StsRequest::parse(&params) {
        Ok(request) => {
            assert_eq!(Some(request.action()), params.action());
            assert_eq!(params.version(), Some(custos_iam_wire::STS_VERSION));
            let _ = format!("{request:?}");
        }
        Err(e) => check_error_xml(&e, service),
    }
    for (name, kind) in [
        ("PolicyDocument", custos_policy::PolicyKind::Identity),
        ("AssumeRolePolicyDocument", custos_policy::PolicyKind::Trust),
        ("Policy", custos_policy::PolicyKind::Session),
    ] {
        if let Some(text) = params.get(name) {
            let _ = custos_policy::Policy::parse(text, kind);
            let _ = custos_iam_wire::url_encode_policy(text);
        }
    }
}

fn check_error_xml(e: &custos_iam_wire::IamError, service: custos_iam_wire::Service) {
    let _ = (e.status(), e.fault(), e.to_string());
    let xml = e.to_xml(service, "00000000-0000-0000-0000-000000000000");
    let message = xml
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map(|(message, _)| message)
        .expect("an error body has a message");
    assert!(
        !message.contains('<') && !message.contains('>'),
        "an error message is escaped"
    );
}
