//! What operators and orchestrators ask of a running server, without
//! credentials: `GET /healthz` (the process answers, and whether it is
//! sealed), `GET /readyz` (it can serve: 503 while sealed, while the
//! store is recovering from an I/O error, or while the audit log cannot be
//! written, since every request would then be refused), and `GET /metrics` (Prometheus text format, version 0.0.4).
//!
//! Nothing here is secret or names a key: the seal and audit log's state,
//! counts and timings, and request metrics whose labels come from fixed
//! sets (`metrics`). These requests are not KMS API calls and are not
//! audited (AWS's CloudTrail does not log its health checks either).

use std::fmt::Write;
use std::sync::atomic::Ordering;

use http::{Method, StatusCode};

use crate::seal::Node;

/// An answer to an operator's request: status, content type, body.
pub(crate) type Answer = (StatusCode, &'static str, String);

const JSON: &str = "application/json";
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The answer to `method path` if it is one of the operator's requests.
pub(crate) fn answer(node: &Node, method: &Method, path: &str) -> Option<Answer> {
    if method != Method::GET {
        return None;
    }
    match path {
        "/healthz" => Some((
            StatusCode::OK,
            JSON,
            serde_json::json!({ "status": "ok", "sealed": node.is_sealed() }).to_string(),
        )),
        "/readyz" => Some(readiness(node)),
        "/metrics" => Some((StatusCode::OK, PROMETHEUS, metrics(node))),
        _ => None,
    }
}

/// What the audit log's state is, in the words `/readyz` uses.
fn audit_state(state: &Node) -> &'static str {
    if state.audit.is_disabled() {
        "off"
    } else if state.audit.is_healthy() {
        "writable"
    } else {
        "unwritable"
    }
}

fn readiness(state: &Node) -> Answer {
    let audit = audit_state(state);
    let sealed = state.is_sealed();
    let store = if state.store_healthy() {
        "ok"
    } else {
        "failing"
    };
    let mut body = serde_json::json!({ "audit": audit, "sealed": sealed, "store": store });
    let since = state
        .audit
        .stats()
        .unwritable_since_ms
        .load(Ordering::Relaxed);
    if since > 0 {
        body["auditUnwritableSince"] = custos_audit::event::cloudtrail_time(since).into();
    }
    let status = if audit == "unwritable" || sealed || store == "failing" {
        body["status"] = "unready".into();
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        body["status"] = "ready".into();
        StatusCode::OK
    };
    (status, JSON, body.to_string())
}

/// The metrics, in Prometheus's text format.
fn metrics(state: &Node) -> String {
    let stats = state.audit.stats();
    let count = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: String| {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        );
    };
    metric(
        "custos_sealed",
        "gauge",
        "1 while the server is sealed (every KMS, IAM and STS request is refused); 0 while it serves.",
        u8::from(state.is_sealed()).to_string(),
    );
    metric(
        "custos_store_healthy",
        "gauge",
        "1 while the store serves; 0 while it is reopened after an I/O error (requests needing it fail with a 500).",
        u8::from(state.store_healthy()).to_string(),
    );
    metric(
        "custos_audit_enabled",
        "gauge",
        "1 while requests are audited; 0 only when auditing was turned off explicitly.",
        u8::from(!state.audit.is_disabled()).to_string(),
    );
    metric(
        "custos_audit_writable",
        "gauge",
        "1 while the audit log can be written; 0 while requests are refused because it cannot.",
        u8::from(state.audit.is_healthy()).to_string(),
    );
    let since = stats.unwritable_since_ms.load(Ordering::Relaxed);
    metric(
        "custos_audit_unwritable_since_seconds",
        "gauge",
        "Unix time since which the audit log cannot be written; 0 while it can.",
        format!("{}", since as f64 / 1000.0),
    );
    metric(
        "custos_audit_records_total",
        "counter",
        "Audit records made durable.",
        count(&stats.records).to_string(),
    );
    metric(
        "custos_audit_bytes_total",
        "counter",
        "Bytes of audit records made durable.",
        count(&stats.bytes).to_string(),
    );
    metric(
        "custos_audit_write_failures_total",
        "counter",
        "Audit writes that failed (requests waiting on one are refused; while the log is unwritable, the writer retries every 250 ms).",
        count(&stats.failures).to_string(),
    );
    // Durable audit writes: one fdatasync each, shared by the records of a
    // group commit.
    histogram(
        &mut out,
        "custos_audit_sync_seconds",
        "Time to write and fdatasync one group of audit records.",
        &stats.sync_micros,
        &custos_audit::log::SYNC_BUCKETS_MICROS,
        &stats.sync_micros_sum,
    );
    let commits = state.store_commits();
    let name = "custos_store_commit_failures_total";
    let _ = write!(
        out,
        "# HELP {name} Store commits that failed (I/O errors; the request that made one got a 500).\n# TYPE {name} counter\n{name} {}\n",
        count(&commits.failures)
    );
    histogram(
        &mut out,
        "custos_store_commit_seconds",
        "Time to commit one write to the store durably (fsync included).",
        &commits.micros,
        &custos_store::redb::COMMIT_BUCKETS_MICROS,
        &commits.micros_sum,
    );
    if let Some(open) = state.state() {
        // Hit and miss counts: a rate of each is a hit rate.
        let name = "custos_cache_lookups_total";
        let _ = write!(
            out,
            "# HELP {name} Lookups in the server's caches, by cache and result.\n# TYPE {name} counter\n"
        );
        let caches = [
            ("credential", open.iam.credential_cache_stats()),
            ("key_policy", open.kms.policy_cache_stats()),
        ];
        for (cache, (hits, misses)) in caches {
            let _ = writeln!(out, "{name}{{cache=\"{cache}\",result=\"hit\"}} {hits}");
            let _ = writeln!(out, "{name}{{cache=\"{cache}\",result=\"miss\"}} {misses}");
        }
    }
    state.metrics.render(&mut out);
    out
}

/// A latency histogram kept as per-bucket counts (not cumulative, one more
/// than `bounds_micros` for beyond the last) and a sum, in microseconds.
fn histogram(
    out: &mut String,
    name: &str,
    help: &str,
    buckets: &[std::sync::atomic::AtomicU64],
    bounds_micros: &[u64],
    sum_micros: &std::sync::atomic::AtomicU64,
) {
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} histogram\n");
    let mut cumulative = 0;
    for (i, bucket) in buckets.iter().enumerate() {
        cumulative += bucket.load(Ordering::Relaxed);
        let le = bounds_micros
            .get(i)
            .map_or_else(|| "+Inf".to_owned(), |m| (*m as f64 / 1e6).to_string());
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    let sum = sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(out, "{name}_sum {sum}");
    // The count is the buckets' total, so that a scrape during an update
    // stays consistent.
    let _ = writeln!(out, "{name}_count {cumulative}");
}
