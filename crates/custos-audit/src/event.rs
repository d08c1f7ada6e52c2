//! One audited request or action, in CloudTrail's record format
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>),
//! so that tools reading CloudTrail read Custos's trail.
//!
//! An event holds no secret by construction: its parameters come from an
//! allow-list of request members (built at the server's edge, `custos-server`'s `audit` module), never from plaintexts,
//! ciphertexts, keys, signatures or secret access keys.

use serde::Serialize;
use serde_json::Value;

/// The version of CloudTrail's record format these events follow.
pub const EVENT_VERSION: &str = "1.11";

/// A CloudTrail event record.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event_version: &'static str,
    pub user_identity: UserIdentity,
    /// `2026-12-04T19:00:00Z`: UTC, to the second, as CloudTrail writes it.
    pub event_time: String,
    /// `kms.amazonaws.com`, `iam.amazonaws.com`, `sts.amazonaws.com`.
    pub event_source: String,
    /// The operation: `Decrypt`, `CreateUser`, ….
    pub event_name: String,
    pub aws_region: String,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    pub user_agent: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The request's parameters as AWS logs them (`null` when none).
    pub request_parameters: Value,
    /// What the response said that AWS logs (`null` for most operations).
    pub response_elements: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
    #[serde(rename = "requestID")]
    pub request_id: String,
    #[serde(rename = "eventID")]
    pub event_id: String,
    pub read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    /// `AwsApiCall` for requests, `AwsServiceEvent` for what Custos does
    /// on its own (the scheduler's deletions and rotations).
    pub event_type: &'static str,
    pub management_event: bool,
    pub recipient_account_id: String,
    pub event_category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
}

/// Who made the request, as far as it is known (a request whose
/// signature failed has only the access key id it claimed).
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `IAMUser`, `AssumedRole`, `Root`, `AWSService`, or `Unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
    /// For `AWSService` identities: `kms.amazonaws.com`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
}

/// The session of a role's temporary credentials.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    pub session_issuer: SessionIssuer,
    pub attributes: SessionAttributes,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    /// `Role`.
    #[serde(rename = "type")]
    pub kind: String,
    pub principal_id: String,
    pub arn: String,
    pub account_id: String,
    pub user_name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// When the session began (`eventTime`'s format).
    pub creation_date: String,
    /// `"false"`: Custos has no MFA.
    pub mfa_authenticated: String,
}

/// A resource the request acted on: the KMS key.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Resource {
    #[serde(rename = "accountId")]
    pub account_id: String,
    /// `AWS::KMS::Key`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "ARN")]
    pub arn: String,
}

/// The TLS connection the request came over.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    #[serde(rename = "tlsVersion")]
    pub tls_version: String,
    pub cipher_suite: String,
    pub client_provided_host_header: String,
}

/// `time` (milliseconds since the epoch) as CloudTrail writes times.
pub fn cloudtrail_time(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// An event's `eventTime`, in seconds since the epoch (0 if it has none).
pub fn event_seconds(event: &serde_json::Value) -> i64 {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    event["eventTime"]
        .as_str()
        .and_then(|t| time::PrimitiveDateTime::parse(t, &format).ok())
        .map_or(0, |t| t.assume_utc().unix_timestamp())
}

/// A fresh event id, shaped like CloudTrail's (a version-4 UUID).
pub fn event_id() -> String {
    unique_id()
}

/// A UUID-shaped id unique among all this function returns in any run: a
/// random prefix drawn once per process, then a counter. Event and
/// request ids need to be unique, not unpredictable, and a CSPRNG call per
/// id was 1.7 % of the server's time under load.
pub fn unique_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<[u8; 8]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let p = PREFIX.get_or_init(|| {
        // Without randomness two runs could repeat ids: the clock's
        // nanoseconds keep them apart.
        custos_crypto::rand::array().unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            (nanos as u64).to_be_bytes()
        })
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
        u16::from_be_bytes([p[4], p[5]]),
        u16::from_be_bytes([p[6], p[7]]) & 0x0fff,
        0x8000 | ((n >> 48) & 0x3fff),
        n & 0xffff_ffff_ffff,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_ids_have_cloudtrails_shapes() {
        assert_eq!(cloudtrail_time(1_733_338_800_123), "2024-12-04T19:00:00Z");
        let id = event_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert_ne!(id, event_id());
    }

    #[test]
    fn records_serialize_with_cloudtrails_member_names() {
        let event = Event {
            event_version: EVENT_VERSION,
            user_identity: UserIdentity {
                kind: "IAMUser".into(),
                arn: Some("arn:aws:iam::111122223333:user/alice".into()),
                ..UserIdentity::default()
            },
            event_time: cloudtrail_time(0),
            event_source: "kms.amazonaws.com".into(),
            event_name: "Decrypt".into(),
            aws_region: "us-east-1".into(),
            source_ip_address: "127.0.0.1".into(),
            user_agent: "test".into(),
            error_code: None,
            error_message: None,
            request_parameters: Value::Null,
            response_elements: Value::Null,
            additional_event_data: None,
            request_id: "r".into(),
            event_id: "e".into(),
            read_only: true,
            resources: vec![Resource {
                account_id: "111122223333".into(),
                kind: "AWS::KMS::Key".into(),
                arn: "arn:aws:kms:us-east-1:111122223333:key/k".into(),
            }],
            event_type: "AwsApiCall",
            management_event: true,
            recipient_account_id: "111122223333".into(),
            event_category: "Management",
            tls_details: None,
        };
        let v = serde_json::to_value(&event).expect("json");
        for member in [
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventSource",
            "eventName",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "requestParameters",
            "responseElements",
            "requestID",
            "eventID",
            "readOnly",
            "resources",
            "eventType",
            "managementEvent",
            "recipientAccountId",
            "eventCategory",
        ] {
            assert!(v.get(member).is_some(), "{member} in {v}");
        }
        assert_eq!(v["userIdentity"]["type"], "IAMUser");
        assert_eq!(
            v["resources"][0]["ARN"],
            "arn:aws:kms:us-east-1:111122223333:key/k"
        );
        assert!(v.get("errorCode").is_none());
    }
}
