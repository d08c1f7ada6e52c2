//! CloudTrail's `LookupEvents`, over the audit log, so that
//! `aws cloudtrail lookup-events` (with `AWS_ENDPOINT_URL_CLOUDTRAIL`)
//! works against Custos: JSON 1.1, target
//! `com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`,
//! SigV4 service `cloudtrail`, authorized by the caller's identity policies
//! (`cloudtrail:LookupEvents` on `*`). A caller sees the events of its own
//! account, newest first.
//!
//! This first version reads the whole log on every call: fine for a log of
//! a few million events (verification reads ~450,000 events a second), not
//! for years of them; an index is for later.

use std::net::SocketAddr;

use custos_iam::{Connection, Scope};
use custos_policy::Request;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::audit::Seen;
use crate::error::ApiError;
use crate::server::State;

const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";
/// How far back a lookup goes when the request gives no start (AWS keeps 90
/// days of management events for `LookupEvents`).
const DEFAULT_WINDOW_S: i64 = 90 * 24 * 60 * 60;

/// Whether a request is for CloudTrail.
pub(crate) fn is_cloudtrail(parts: &http::request::Parts) -> bool {
    parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(TARGET_PREFIX))
}

/// A CloudTrail error: its `__type`, message and status.
#[derive(Debug)]
pub(crate) struct TrailError {
    code: &'static str,
    message: String,
    status: u16,
}

impl TrailError {
    fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        TrailError {
            code,
            message: message.into(),
            status: 400,
        }
    }

    pub(crate) fn of(e: &ApiError) -> Self {
        let (code, message) = e.to_wire();
        TrailError {
            code: code.type_name(),
            message: message.unwrap_or_default(),
            status: code.status(),
        }
    }

    pub(crate) fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({"__type": self.code, "message": self.message}))
            .unwrap_or_default()
    }

    pub(crate) fn status(&self) -> u16 {
        self.status
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsRequest {
    lookup_attributes: Option<Vec<LookupAttribute>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    max_results: Option<i64>,
    next_token: Option<String>,
    event_category: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: String,
    attribute_value: String,
}

const ATTRIBUTE_KEYS: [&str; 8] = [
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

/// Answers one CloudTrail request, recording it in the audit log as every
/// request is.
pub(crate) async fn answer(
    state: &State,
    peer: SocketAddr,
    connection: Connection,
    link: Option<&(String, String)>,
    parts: &http::request::Parts,
    body: &[u8],
    request_id: &str,
) -> Result<Vec<u8>, TrailError> {
    state.audit_ready().map_err(|e| TrailError::of(&e))?;
    let seen = Seen::of(request_id, peer.ip(), parts, link, state.now_ms());
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .filter(|o| o.len() <= 64 && o.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or("Unknown")
        .to_owned();
    let request = custos_sigv4::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        body,
    };
    let scope = Scope {
        service: "cloudtrail",
        regions: Some(state.kms.regions()),
        signed_headers: &["X-Amz-Target"],
        presigned_lifetime: None,
    };
    let record = |identity, caller, error: Option<&TrailError>| {
        crate::audit::query_event(
            &seen,
            identity,
            caller,
            "cloudtrail.amazonaws.com",
            &operation,
            Value::Null,
            error.map(|e| (e.code.to_owned(), Some(e.message.clone()))),
        )
    };
    let caller = match state.iam.authenticate(&request, connection, scope).await {
        Ok(caller) => caller,
        Err(e) => {
            let e = TrailError::of(&ApiError::from(e));
            let event = record(crate::audit::claimed_identity(parts), None, Some(&e));
            state.record(&event).await.map_err(|e| TrailError::of(&e))?;
            return Err(e);
        }
    };
    let result = if operation == "LookupEvents" {
        lookup(state, &caller, body).await
    } else {
        Err(TrailError::invalid(
            "UnsupportedOperationException",
            format!("{operation} is not supported by Custos."),
        ))
    };
    let event = record(
        crate::audit::identity_of(&caller),
        Some(&caller),
        result.as_ref().err(),
    );
    state.record(&event).await.map_err(|e| TrailError::of(&e))?;
    result
}

async fn lookup(
    state: &State,
    caller: &custos_kms::Caller,
    body: &[u8],
) -> Result<Vec<u8>, TrailError> {
    // Identity policies decide, on resource `*`.
    let now_ms = state.now_ms();
    let context = custos_iam::authorize::caller_context(caller, now_ms);
    let decision = Request::new(
        "cloudtrail:LookupEvents",
        "*",
        custos_policy::Principal::Aws(custos_iam::authorize::policy_principal(caller)),
        &context,
    );
    custos_iam::authorize::decide(caller, &decision).map_err(|refusal| {
        TrailError::invalid(
            "AccessDeniedException",
            refusal.message(caller, "cloudtrail:LookupEvents", "*"),
        )
    })?;

    let req: LookupEventsRequest = if body.is_empty() {
        LookupEventsRequest::default()
    } else {
        serde_json::from_slice(body).map_err(|_| {
            TrailError::invalid("SerializationException", "The request body is not valid.")
        })?
    };
    let attribute = match req.lookup_attributes.as_deref() {
        None | Some([]) => None,
        Some([one]) if ATTRIBUTE_KEYS.contains(&one.attribute_key.as_str()) => Some(one),
        Some([_]) => {
            return Err(TrailError::invalid(
                "InvalidLookupAttributesException",
                "The attribute key is not valid.",
            ));
        }
        Some(_) => {
            return Err(TrailError::invalid(
                "InvalidLookupAttributesException",
                "You cannot specify more than one lookup attribute.",
            ));
        }
    };
    if req
        .event_category
        .as_deref()
        .is_some_and(|c| c != "insight")
    {
        return Err(TrailError::invalid(
            "InvalidEventCategoryException",
            "The event category is not valid.",
        ));
    }
    if req.event_category.is_some() {
        // Custos records no Insights events.
        return Ok(b"{\"Events\":[]}".to_vec());
    }
    let max = req.max_results.unwrap_or(50);
    if !(1..=50).contains(&max) {
        return Err(TrailError::invalid(
            "InvalidMaxResultsException",
            "MaxResults must be between 1 and 50.",
        ));
    }
    let end_s = req.end_time.map_or(now_ms / 1000, |t| t as i64);
    let start_s = req
        .start_time
        .map_or(end_s - DEFAULT_WINDOW_S, |t| t as i64);
    if start_s > end_s {
        return Err(TrailError::invalid(
            "InvalidTimeRangeException",
            "The start time must be before the end time.",
        ));
    }
    let before = match &req.next_token {
        Some(t) => Some(
            u64::from_str_radix(t, 16)
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| {
                    TrailError::invalid("InvalidNextTokenException", "The token is not valid.")
                })?,
        ),
        None => None,
    };

    let dir = state.audit.dir().to_owned();
    let account = caller.account().as_str().to_owned();
    let attribute = attribute.map(|a| (a.attribute_key.clone(), a.attribute_value.clone()));
    let found = tokio::task::spawn_blocking(move || {
        scan(
            &dir,
            &account,
            attribute.as_ref(),
            start_s,
            end_s,
            before,
            max as usize,
        )
    })
    .await
    .map_err(|_| TrailError::of(&ApiError::Internal("lookup".into())))?
    .map_err(|_| TrailError::of(&ApiError::Internal("lookup".into())))?;
    let (events, next) = found;
    let mut response = json!({ "Events": events });
    if let Some(next) = next {
        response["NextToken"] = Value::String(format!("{next:x}"));
    }
    Ok(serde_json::to_vec(&response).unwrap_or_default())
}

/// The events of `account` matching `attribute` between `start_s` and
/// `end_s`, newest first, before record `before`; at most `max`, and the
/// record to continue from.
fn scan(
    dir: &std::path::Path,
    account: &str,
    attribute: Option<&(String, String)>,
    start_s: i64,
    end_s: i64,
    before: Option<u64>,
    max: usize,
) -> std::io::Result<(Vec<Value>, Option<u64>)> {
    // Only the newest `max + 1` matches are kept: a lookup's memory does
    // not grow with the log.
    let mut found: std::collections::VecDeque<(u64, Value)> =
        std::collections::VecDeque::with_capacity(max + 1);
    custos_audit::chain::for_each_event(dir, |seq, event| {
        if before.is_some_and(|b| seq >= b) {
            return;
        }
        let mine =
            event["recipientAccountId"] == account || event["userIdentity"]["accountId"] == account;
        let time = custos_audit::event::event_seconds(&event);
        if mine
            && (start_s..=end_s).contains(&time)
            && attribute.is_none_or(|(k, v)| matches(&event, k, v))
        {
            if found.len() > max {
                found.pop_front();
            }
            found.push_back((seq, event));
        }
    })?;
    let mut found: Vec<(u64, Value)> = found.into_iter().rev().collect();
    let next = (found.len() > max).then(|| found[max - 1].0);
    found.truncate(max);
    let events = found
        .into_iter()
        .take(max)
        .map(|(_, e)| summary(&e))
        .collect();
    Ok((events, next))
}

/// The operations `GetKeyLastUsage` tracks (AWS's
/// `KeyLastUsageTrackingOperation`).
const TRACKED: [&str; 14] = [
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
    "Encapsulate",
    "Decapsulate",
];

/// Fills in `GetKeyLastUsage`'s usage from the audit log: the last
/// successful tracked operation on the key, and when tracking began (the
/// log's first event, or the key's creation, whichever is later). Reads
/// the whole log (an index is for later).
pub(crate) async fn fill_last_usage(
    audit: &custos_audit::AuditLog,
    response: &mut custos_wire::shapes::GetKeyLastUsageResponse,
) -> Result<(), ApiError> {
    if audit.is_disabled() {
        return Ok(());
    }
    let dir = audit.dir().to_owned();
    let arn = response.key_id.clone();
    let (first_s, last) = tokio::task::spawn_blocking(move || last_use(&dir, &arn))
        .await
        .map_err(|_| ApiError::Internal("last usage".into()))?
        .map_err(|e| ApiError::Internal(Box::new(e)))?;
    if let Some(first_s) = first_s {
        response.tracking_start_date = response
            .tracking_start_date
            .max(custos_wire::Timestamp::from_millis(first_s * 1000));
    }
    if let Some(event) = last {
        response.key_last_usage = custos_wire::shapes::KeyLastUsageData {
            operation: event["eventName"].as_str().map(str::to_owned),
            timestamp: Some(custos_wire::Timestamp::from_millis(
                custos_audit::event::event_seconds(&event) * 1000,
            )),
            cloud_trail_event_id: event["eventID"].as_str().map(str::to_owned),
            kms_request_id: event["requestID"].as_str().map(str::to_owned),
        };
    }
    Ok(())
}

/// The time of the log's first event, and the last successful tracked
/// event on `arn`.
fn last_use(dir: &std::path::Path, arn: &str) -> std::io::Result<(Option<i64>, Option<Value>)> {
    let mut first = None;
    let mut last = None;
    custos_audit::chain::for_each_event(dir, |_, event| {
        if first.is_none() {
            first = Some(custos_audit::event::event_seconds(&event));
        }
        let tracked = event["eventName"]
            .as_str()
            .is_some_and(|n| TRACKED.contains(&n));
        if tracked
            && event.get("errorCode").is_none()
            && event["resources"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["ARN"] == arn))
        {
            last = Some(event);
        }
    })?;
    Ok((first, last))
}

fn username(event: &Value) -> Option<String> {
    let identity = &event["userIdentity"];
    identity["userName"]
        .as_str()
        .or_else(|| identity["arn"].as_str().and_then(|a| a.rsplit('/').next()))
        .map(str::to_owned)
}

fn matches(event: &Value, key: &str, value: &str) -> bool {
    let resources = || event["resources"].as_array().into_iter().flatten();
    match key {
        "EventId" => event["eventID"] == value,
        "EventName" => event["eventName"] == value,
        "ReadOnly" => event["readOnly"].as_bool().map(|b| b.to_string()) == Some(value.into()),
        "Username" => username(event).as_deref() == Some(value),
        "ResourceType" => resources().any(|r| r["type"] == value),
        "ResourceName" => resources().any(|r| r["ARN"] == value),
        "EventSource" => event["eventSource"] == value,
        "AccessKeyId" => event["userIdentity"]["accessKeyId"] == value,
        _ => false,
    }
}

/// An event as `LookupEvents` returns it.
fn summary(event: &Value) -> Value {
    let resources: Vec<Value> = event["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| json!({"ResourceType": r["type"], "ResourceName": r["ARN"]}))
        .collect();
    let mut out = json!({
        "EventId": event["eventID"],
        "EventName": event["eventName"],
        "ReadOnly": event["readOnly"].as_bool().unwrap_or(false).to_string(),
        "EventTime": custos_audit::event::event_seconds(event),
        "EventSource": event["eventSource"],
        "Resources": resources,
        "CloudTrailEvent": event.to_string(),
    });
    if let Some(key) = event["userIdentity"]["accessKeyId"].as_str() {
        out["AccessKeyId"] = Value::String(key.to_owned());
    }
    if let Some(name) = username(event) {
        out["Username"] = Value::String(name);
    }
    out
}
