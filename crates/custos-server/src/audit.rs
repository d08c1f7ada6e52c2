//! The audit step, at the edge: every request the server answers becomes
//! one CloudTrail event (`custos_audit::Event`) in the audit log, and the
//! response is sent only once that event is durable. If it cannot be
//! written, the client gets an internal error instead of its result (fail
//! closed); while the log is known unwritable, requests are refused before
//! they reach the domain, so a refused request changes nothing.
//!
//! What goes into an event is what the edge saw (who, from where, over
//! which TLS, which operation, which parameters, how it ended) and what the
//! domain returned (the key ARN, the key material id). Parameters come
//! from an allow-list of request members: plaintexts, ciphertexts,
//! messages, signatures, MACs, grant tokens and secrets never reach it.

use std::net::IpAddr;

use custos_audit::{
    Event, Resource, SessionAttributes, SessionContext, SessionIssuer, UserIdentity,
};
use custos_iam::Principal;
use custos_kms::Caller;
use serde_json::{Map, Value};

/// What the edge saw of a request, whatever became of it.
#[derive(Debug, Clone)]
pub(crate) struct Seen<'a> {
    pub request_id: &'a str,
    pub peer: IpAddr,
    pub user_agent: &'a str,
    pub host: &'a str,
    /// The TLS version and cipher suite, when the request came over TLS.
    pub tls: Option<&'a (String, String)>,
    pub now_ms: i64,
}

impl<'a> Seen<'a> {
    pub(crate) fn of(
        request_id: &'a str,
        peer: IpAddr,
        parts: &'a http::request::Parts,
        tls: Option<&'a (String, String)>,
        now_ms: i64,
    ) -> Self {
        let header = |name: http::header::HeaderName| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        };
        Seen {
            request_id,
            peer,
            user_agent: header(http::header::USER_AGENT),
            host: header(http::header::HOST),
            tls,
            now_ms,
        }
    }
}

/// `userIdentity` of an authenticated caller.
pub(crate) fn identity_of(caller: &Caller) -> UserIdentity {
    let account = caller.account().as_str().to_owned();
    let mut identity = UserIdentity {
        principal_id: Some(caller.principal().user_id()),
        arn: Some(caller.principal_arn().to_owned()),
        account_id: Some(account.clone()),
        access_key_id: Some(caller.access_key_id().to_owned()),
        ..UserIdentity::default()
    };
    match caller.principal() {
        Principal::User { name, .. } | Principal::UserSession { name, .. } => {
            identity.kind = "IAMUser".into();
            identity.user_name = Some(name.clone());
        }
        Principal::AssumedRole {
            role_name,
            role_id,
            role_arn,
            ..
        } => {
            identity.kind = "AssumedRole".into();
            identity.session_context = Some(SessionContext {
                session_issuer: SessionIssuer {
                    kind: "Role".into(),
                    principal_id: role_id.clone(),
                    arn: role_arn.clone(),
                    account_id: account,
                    user_name: role_name.clone(),
                },
                attributes: SessionAttributes {
                    creation_date: custos_audit::event::cloudtrail_time(
                        caller.token_issued_ms().unwrap_or_default(),
                    ),
                    mfa_authenticated: "false".into(),
                },
            });
        }
    }
    identity
}

/// `userIdentity` of a request that did not authenticate: the access key
/// it claimed, if its `Authorization` header names one.
pub(crate) fn claimed_identity(parts: &http::request::Parts) -> UserIdentity {
    let claimed = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .filter(|k| !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_owned);
    UserIdentity {
        kind: "Unknown".into(),
        access_key_id: claimed,
        ..UserIdentity::default()
    }
}

/// Members of KMS requests that are logged: everything but secrets and
/// data (plaintexts, ciphertexts, messages, signatures, MACs, public keys
/// of peers, grant tokens, attestation documents).
const KMS_REQUEST_MEMBERS: &[&str] = &[
    "AliasName",
    "BypassPolicyLockoutSafetyCheck",
    "Constraints",
    "CustomerMasterKeySpec",
    "Description",
    "DestinationEncryptionAlgorithm",
    "DestinationEncryptionContext",
    "DestinationKeyId",
    "DryRun",
    "EncapsulationAlgorithm",
    "EncryptionAlgorithm",
    "EncryptionContext",
    "GrantId",
    "GranteePrincipal",
    "IncludeKeyMaterial",
    "KeyAgreementAlgorithm",
    "KeyId",
    "KeyPairSpec",
    "KeySpec",
    "KeyUsage",
    "Limit",
    "MacAlgorithm",
    "Marker",
    "MessageType",
    "MultiRegion",
    "Name",
    "NumberOfBytes",
    "Operations",
    "Origin",
    "PendingWindowInDays",
    "Policy",
    "PolicyName",
    "RetiringPrincipal",
    "RotationPeriodInDays",
    "SigningAlgorithm",
    "SourceEncryptionAlgorithm",
    "SourceEncryptionContext",
    "SourceKeyId",
    "TagKeys",
    "Tags",
    "TargetKeyId",
];

/// Response members logged for operations that change something.
const KMS_RESPONSE_MEMBERS: &[&str] = &[
    "DeletionDate",
    "GrantId",
    "KeyId",
    "KeyMetadata",
    "KeyState",
    "PendingWindowInDays",
];

/// Response members the edge reads: what it logs, and the key and material
/// the domain answered with.
const KMS_RESPONSE_READ: &[&str] = &[
    "DeletionDate",
    "GrantId",
    "KeyId",
    "KeyMaterialId",
    "KeyMetadata",
    "KeyState",
    "PendingWindowInDays",
];

/// The `wanted` top-level members of a JSON object. The others (a
/// plaintext, a ciphertext) are skipped unparsed; member names written with
/// escapes are read too, so that none can be hidden from the log.
fn selected(body: &[u8], wanted: &[&str]) -> Map<String, Value> {
    use std::collections::BTreeMap;
    // Owned names (an escaped name is unescaped), borrowed raw values: the
    // members not wanted — a plaintext — are never copied.
    serde_json::from_slice::<BTreeMap<String, &serde_json::value::RawValue>>(body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k, serde_json::from_str(v.get()).ok()?)))
        .collect()
}

/// Maps whose keys are the user's (encryption contexts): kept as given.
const USER_MAPS: &[&str] = &[
    "EncryptionContext",
    "SourceEncryptionContext",
    "DestinationEncryptionContext",
    "EncryptionContextSubset",
    "EncryptionContextEquals",
];

/// KMS operations that change nothing (`readOnly` in CloudTrail).
fn is_read_only(operation: &str) -> bool {
    matches!(
        operation,
        "Decrypt"
            | "Encrypt"
            | "ReEncrypt"
            | "GenerateDataKey"
            | "GenerateDataKeyWithoutPlaintext"
            | "GenerateDataKeyPair"
            | "GenerateDataKeyPairWithoutPlaintext"
            | "GenerateRandom"
            | "GenerateMac"
            | "VerifyMac"
            | "Sign"
            | "Verify"
            | "DeriveSharedSecret"
            | "Encapsulate"
            | "Decapsulate"
    ) || operation.starts_with("Describe")
        || operation.starts_with("Get")
        || operation.starts_with("List")
}

/// The allow-listed members of a JSON object, with CloudTrail's
/// lowerCamelCase names (`KeyId` → `keyId`), recursively except inside
/// the user's own maps.
fn logged(object: &Map<String, Value>, members: &[&str]) -> Map<String, Value> {
    object
        .iter()
        .filter(|(k, _)| members.contains(&k.as_str()))
        .map(|(k, v)| (camel(k), camel_value(k, v)))
        .collect()
}

fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn camel_value(name: &str, value: &Value) -> Value {
    if USER_MAPS.contains(&name) {
        return value.clone();
    }
    match value {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (camel(k), camel_value(k, v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| camel_value(name, v)).collect()),
        other => other.clone(),
    }
}

/// The KMS key ARN a request was about: what the domain answered, or what
/// the request named.
fn key_arn(
    request: &Map<String, Value>,
    response: Option<&Map<String, Value>>,
    caller_region: &str,
    caller_account: &str,
) -> Option<String> {
    let answered = response.and_then(|r| {
        r.get("KeyId")
            .or_else(|| r.get("KeyMetadata").and_then(|m| m.get("Arn")))
            .and_then(Value::as_str)
    });
    if let Some(arn) = answered.filter(|a| a.starts_with("arn:")) {
        return Some(arn.to_owned());
    }
    let named = request
        .get("KeyId")
        .or_else(|| request.get("TargetKeyId"))
        .or_else(|| request.get("DestinationKeyId"))
        .and_then(Value::as_str)?;
    if named.starts_with("arn:") && named.contains(":key/") {
        Some(named.to_owned())
    } else if named.len() == 36 && !named.contains('/') {
        Some(format!(
            "arn:aws:kms:{caller_region}:{caller_account}:key/{named}"
        ))
    } else {
        None
    }
}

/// The event of a KMS request. `caller` is `None` when authentication
/// failed; `response` is the response body when the request succeeded.
#[allow(clippy::too_many_arguments, reason = "the parts of one event")]
pub(crate) fn kms_event(
    seen: &Seen<'_>,
    identity: UserIdentity,
    caller: Option<&Caller>,
    region: &str,
    operation: &str,
    request_body: &[u8],
    response_body: Option<&[u8]>,
    error: Option<(String, Option<String>)>,
) -> Event {
    let request = selected(request_body, KMS_REQUEST_MEMBERS);
    let response = response_body.map(|b| selected(b, KMS_RESPONSE_READ));
    let caller_account = caller.map(|c| c.account().as_str().to_owned());
    let read_only = is_read_only(operation);
    let mut parameters = logged(&request, KMS_REQUEST_MEMBERS);
    let arn = caller_account
        .as_deref()
        .and_then(|account| key_arn(&request, response.as_ref(), region, account));
    // As AWS logs it, the key a Decrypt used is in its parameters even when
    // the request did not name it.
    if let Some(arn) = &arn
        && response.is_some()
        && operation == "Decrypt"
        && !request.contains_key("KeyId")
    {
        parameters.insert("keyId".into(), Value::String(arn.clone()));
    }
    let response_elements = match &response {
        Some(r) if !read_only => {
            let kept = logged(r, KMS_RESPONSE_MEMBERS);
            if kept.is_empty() {
                Value::Null
            } else {
                Value::Object(kept)
            }
        }
        _ => Value::Null,
    };
    let material = response
        .as_ref()
        .and_then(|r| r.get("KeyMaterialId"))
        .and_then(Value::as_str)
        .map(|id| serde_json::json!({ "keyMaterialId": id }));
    let resources: Vec<Resource> = arn
        .iter()
        .map(|arn| Resource {
            account_id: arn.split(':').nth(4).unwrap_or_default().to_owned(),
            kind: "AWS::KMS::Key".into(),
            arn: arn.clone(),
        })
        .collect();
    let recipient = resources
        .first()
        .map(|r| r.account_id.clone())
        .or(caller_account)
        .unwrap_or_default();
    Event {
        request_parameters: if parameters.is_empty() {
            Value::Null
        } else {
            Value::Object(parameters)
        },
        response_elements,
        additional_event_data: material,
        read_only,
        resources,
        ..api_call(
            seen,
            identity,
            ("kms.amazonaws.com", operation, region),
            recipient,
            error,
        )
    }
}

/// An `AwsApiCall` event with what every request has (`what`: the event
/// source, the operation, the region); the protocol fills in the rest.
fn api_call(
    seen: &Seen<'_>,
    identity: UserIdentity,
    what: (&str, &str, &str),
    recipient: String,
    error: Option<(String, Option<String>)>,
) -> Event {
    let (source, operation, region) = what;
    let (error_code, error_message) = match error {
        Some((code, message)) => (Some(code), message),
        None => (None, None),
    };
    Event {
        event_version: custos_audit::event::EVENT_VERSION,
        user_identity: identity,
        event_time: custos_audit::event::cloudtrail_time(seen.now_ms),
        event_source: source.to_owned(),
        event_name: operation.to_owned(),
        aws_region: region.to_owned(),
        source_ip_address: seen.peer.to_string(),
        user_agent: seen.user_agent.to_owned(),
        error_code,
        error_message,
        request_parameters: Value::Null,
        response_elements: Value::Null,
        additional_event_data: None,
        request_id: seen.request_id.to_owned(),
        event_id: custos_audit::event::event_id(),
        read_only: false,
        resources: Vec::new(),
        event_type: "AwsApiCall",
        management_event: true,
        recipient_account_id: recipient,
        event_category: "Management",
        tls_details: tls_details(seen),
    }
}

/// Members of IAM and STS requests that are logged (none of them secret:
/// no request carries a secret access key, and MFA codes are left out).
const QUERY_MEMBERS: &[&str] = &[
    "AccessKeyId",
    "AssumeRolePolicyDocument",
    "Description",
    "DurationSeconds",
    "ExternalId",
    "GroupName",
    "Marker",
    "MaxItems",
    "MaxSessionDuration",
    "NewPath",
    "NewUserName",
    "OnlyAttached",
    "Path",
    "PathPrefix",
    "PermissionsBoundary",
    "Policy",
    "PolicyArn",
    "PolicyDocument",
    "PolicyName",
    "RoleArn",
    "RoleName",
    "RoleSessionName",
    "Scope",
    "SetAsDefault",
    "Status",
    "UserName",
    "VersionId",
];

/// List members of IAM and STS requests that are logged, as CloudTrail
/// logs them: `Tags.member.1.Key=k` → `"tags": [{"key": "k", …}]`,
/// `TagKeys.member.1=k` → `"tagKeys": ["k"]`.
const QUERY_LISTS: &[&str] = &["Tags", "TagKeys", "PolicyArns", "TransitiveTagKeys"];

/// The logged parameters of an IAM or STS request, with CloudTrail's
/// names (`UserName` → `userName`); `null` when there are none.
pub(crate) fn query_parameters(params: &custos_iam_wire::Params) -> Value {
    let mut kept: Map<String, Value> = params
        .iter()
        .filter(|(k, _)| QUERY_MEMBERS.contains(k))
        .map(|(k, v)| (camel(k), Value::String(v.to_owned())))
        .collect();
    for list in QUERY_LISTS {
        let mut items: Vec<(u32, Value)> = Vec::new();
        for (index, field, value) in params.members(list) {
            let field = field.trim_start_matches('.');
            if field.is_empty() {
                items.push((index, Value::String(value.to_owned())));
                continue;
            }
            if items.last().is_none_or(|(i, _)| *i != index) {
                items.push((index, Value::Object(Map::new())));
            }
            if let Some((_, Value::Object(item))) = items.last_mut() {
                item.insert(camel(field), Value::String(value.to_owned()));
            }
        }
        if !items.is_empty() {
            kept.insert(
                camel(list),
                Value::Array(items.into_iter().map(|(_, v)| v).collect()),
            );
        }
    }
    if kept.is_empty() {
        Value::Null
    } else {
        Value::Object(kept)
    }
}

/// The event of an IAM, STS or CloudTrail request: who, what, when, the
/// outcome, and the allow-listed `parameters`.
#[allow(clippy::too_many_arguments, reason = "the parts of one event")]
pub(crate) fn query_event(
    seen: &Seen<'_>,
    identity: UserIdentity,
    caller: Option<&Caller>,
    source: &str,
    operation: &str,
    parameters: Value,
    error: Option<(String, Option<String>)>,
) -> Event {
    let account = caller
        .map(|c| c.account().as_str().to_owned())
        .unwrap_or_default();
    Event {
        read_only: operation.starts_with("Get")
            || operation.starts_with("List")
            || operation.starts_with("Lookup"),
        request_parameters: parameters,
        // IAM is global; AWS records it in us-east-1.
        ..api_call(
            seen,
            identity,
            (source, operation, "us-east-1"),
            account,
            error,
        )
    }
}

/// The event of something the scheduler did on its own (a key's material
/// destroyed after its waiting period, an automatic rotation), as AWS
/// records them: an `AwsServiceEvent` invoked by KMS.
pub(crate) fn service_event(action: &custos_kms::scheduler::ScheduledAction, now_ms: i64) -> Event {
    Event {
        event_version: custos_audit::event::EVENT_VERSION,
        user_identity: UserIdentity {
            kind: "AWSService".into(),
            account_id: Some(action.account_id.clone()),
            invoked_by: Some("kms.amazonaws.com".into()),
            ..UserIdentity::default()
        },
        event_time: custos_audit::event::cloudtrail_time(now_ms),
        event_source: "kms.amazonaws.com".into(),
        event_name: action.event_name.to_owned(),
        aws_region: action.region.clone(),
        source_ip_address: "kms.amazonaws.com".into(),
        user_agent: "kms.amazonaws.com".into(),
        error_code: None,
        error_message: None,
        request_parameters: Value::Null,
        response_elements: Value::Null,
        additional_event_data: action
            .key_material_id
            .as_ref()
            .map(|id| serde_json::json!({ "keyMaterialId": id })),
        request_id: custos_audit::event::event_id(),
        event_id: custos_audit::event::event_id(),
        read_only: false,
        resources: vec![Resource {
            account_id: action.account_id.clone(),
            kind: "AWS::KMS::Key".into(),
            arn: action.key_arn.clone(),
        }],
        event_type: "AwsServiceEvent",
        management_event: true,
        recipient_account_id: action.account_id.clone(),
        event_category: "Management",
        tls_details: None,
    }
}

/// The event of an operator's seal or unseal (`Seal`, `Unseal`), made
/// through the operator socket: not an AWS API call, so its source is
/// `custos.operator`, and the operator is named by the local user id the
/// socket's peer credentials gave (`uid:1000`).
pub(crate) fn operator_event(
    name: &str,
    state: &crate::server::State,
    operator: &str,
    now_ms: i64,
) -> Event {
    let account_id = state.kms.account().as_str();
    // Recorded in the first region served, where exports look for it.
    let region = state
        .kms
        .regions()
        .first()
        .map(|r| r.to_string())
        .unwrap_or_default();
    Event {
        event_version: custos_audit::event::EVENT_VERSION,
        user_identity: UserIdentity {
            kind: "Unknown".into(),
            principal_id: Some(operator.to_owned()),
            account_id: Some(account_id.to_owned()),
            ..UserIdentity::default()
        },
        event_time: custos_audit::event::cloudtrail_time(now_ms),
        event_source: "custos.operator".into(),
        event_name: name.to_owned(),
        aws_region: region,
        source_ip_address: "operator socket".into(),
        user_agent: "custos operator".into(),
        error_code: None,
        error_message: None,
        request_parameters: Value::Null,
        response_elements: Value::Null,
        additional_event_data: None,
        request_id: custos_audit::event::event_id(),
        event_id: custos_audit::event::event_id(),
        read_only: false,
        resources: Vec::new(),
        event_type: "AwsServiceEvent",
        management_event: true,
        recipient_account_id: account_id.to_owned(),
        event_category: "Management",
        tls_details: None,
    }
}

fn tls_details(seen: &Seen<'_>) -> Option<custos_audit::event::TlsDetails> {
    seen.tls
        .map(|(version, suite)| custos_audit::event::TlsDetails {
            tls_version: version.clone(),
            cipher_suite: suite.clone(),
            client_provided_host_header: seen.host.to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allow_listed_members_are_logged_with_cloudtrails_names() {
        let body = serde_json::json!({
            "KeyId": "alias/app",
            "Plaintext": "c2VjcmV0",
            "EncryptionContext": {"Tenant": "acme"},
            "GrantTokens": ["t"],
            "Constraints": {"EncryptionContextSubset": {"Dept": "x"}},
            "Tags": [{"TagKey": "team", "TagValue": "blue"}],
        });
        let kept = logged(body.as_object().expect("object"), KMS_REQUEST_MEMBERS);
        assert_eq!(
            Value::Object(kept),
            serde_json::json!({
                "keyId": "alias/app",
                "encryptionContext": {"Tenant": "acme"},
                "constraints": {"encryptionContextSubset": {"Dept": "x"}},
                "tags": [{"tagKey": "team", "tagValue": "blue"}],
            })
        );
    }

    #[test]
    fn members_are_read_whether_or_not_their_names_are_escaped() {
        let plain = br#"{"KeyId":"k","Plaintext":"c2VjcmV0"}"#;
        let escaped = br#"{"\u004beyId":"k","Plaintext":"c2VjcmV0"}"#;
        for body in [&plain[..], &escaped[..]] {
            let got = selected(body, KMS_REQUEST_MEMBERS);
            assert_eq!(Value::Object(got), serde_json::json!({"KeyId": "k"}));
        }
        assert!(selected(b"not json", KMS_REQUEST_MEMBERS).is_empty());
    }

    #[test]
    fn query_parameters_are_allow_listed() {
        let mut params = custos_iam_wire::Params::default();
        for (k, v) in [
            ("Action", "CreateAccessKey"),
            ("UserName", "alice"),
            ("TokenCode", "123456"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
            ("Tags.member.2.Key", "env"),
            ("Tags.member.2.Value", "prod"),
            ("Tags.member.10.Key", "tenth"),
            ("Tags.member.10.Value", "x"),
            ("TagKeys.member.2", "b"),
            ("TagKeys.member.1", "a"),
            (
                "PolicyArns.member.1.arn",
                "arn:aws:iam::111122223333:policy/p",
            ),
            ("SerialNumber.member.1", "not a logged list"),
        ] {
            params.insert(k.into(), v.into()).expect("insert");
        }
        assert_eq!(
            query_parameters(&params),
            serde_json::json!({
                "userName": "alice",
                "tags": [
                    {"key": "team", "value": "blue"},
                    {"key": "env", "value": "prod"},
                    {"key": "tenth", "value": "x"},
                ],
                "tagKeys": ["a", "b"],
                "policyArns": [{"arn": "arn:aws:iam::111122223333:policy/p"}],
            })
        );
    }

    #[test]
    fn read_only_operations_are_those_that_change_nothing() {
        for op in [
            "Decrypt",
            "DescribeKey",
            "ListGrants",
            "GetKeyPolicy",
            "Sign",
        ] {
            assert!(is_read_only(op), "{op}");
        }
        for op in [
            "CreateKey",
            "PutKeyPolicy",
            "ScheduleKeyDeletion",
            "RetireGrant",
        ] {
            assert!(!is_read_only(op), "{op}");
        }
    }
}
