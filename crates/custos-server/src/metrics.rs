//! Request metrics for `/metrics`: requests by API, operation and HTTP
//! status, KMS errors by type, latency histograms by operation, and
//! connections. Labels come from fixed sets (operation names, error
//! types, status codes), never from what a client sends, so the number of
//! series is bounded and no key id or secret can become a label.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds.
const BUCKETS_MICROS: [u64; 12] = [
    250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000,
];

/// Which API a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Api {
    Kms,
    /// IAM and STS (the AWS Query protocol).
    Query,
    CloudTrail,
}

impl Api {
    fn label(self) -> &'static str {
        match self {
            Api::Kms => "kms",
            Api::Query => "iam_sts",
            Api::CloudTrail => "cloudtrail",
        }
    }
}

#[derive(Debug, Default)]
struct Latency {
    buckets: [u64; BUCKETS_MICROS.len()],
    count: u64,
    sum_micros: u64,
}

#[derive(Debug, Default)]
struct Tables {
    /// (api, operation, status) → requests.
    requests: HashMap<(Api, &'static str, u16), u64>,
    /// (operation, error type) → KMS requests that failed so.
    kms_errors: HashMap<(&'static str, &'static str), u64>,
    /// (api, operation) → latency.
    latency: HashMap<(Api, &'static str), Latency>,
}

/// The server's request metrics.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    tables: Mutex<Tables>,
    pub connections_open: AtomicI64,
    pub connections_total: AtomicU64,
    /// Connections closed on arrival, by the limit they were over.
    refused: Mutex<HashMap<&'static str, u64>>,
    /// Scheduler passes by outcome (done, failed, postponed), and the
    /// actions (deletions, rotations) they took.
    scheduler_passes: [AtomicU64; 3],
    scheduler_actions: AtomicU64,
    /// Keys by state, as the last completed scheduler pass counted them
    /// (it reads every key once a minute); `None` before the first.
    keys_by_state: Mutex<Option<std::collections::BTreeMap<&'static str, u64>>>,
}

/// How a scheduler pass ended.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PassOutcome {
    Done = 0,
    Failed = 1,
    /// Not run: the audit log could not record what it would do.
    Postponed = 2,
}

const PASS_OUTCOMES: [&str; 3] = ["done", "failed", "postponed"];

/// Counts a connection as open while it lives.
pub(crate) struct OpenConnection<'a>(&'a Metrics);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub(crate) fn connection(&self) -> OpenConnection<'_> {
        self.connections_total.fetch_add(1, Ordering::Relaxed);
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self)
    }

    /// Counts a scheduler pass and the actions it took.
    pub(crate) fn scheduler_pass(&self, outcome: PassOutcome, actions: usize) {
        self.scheduler_passes[outcome as usize].fetch_add(1, Ordering::Relaxed);
        self.scheduler_actions
            .fetch_add(actions as u64, Ordering::Relaxed);
    }

    /// Keeps the key counts of a completed scheduler pass.
    pub(crate) fn key_counts(&self, counts: std::collections::BTreeMap<&'static str, u64>) {
        *self.keys_by_state.lock().unwrap_or_else(|p| p.into_inner()) = Some(counts);
    }

    /// Counts a connection refused by a limit.
    pub(crate) fn refused(&self, limit: &'static str) {
        *self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(limit)
            .or_default() += 1;
    }

    /// Records one answered request.
    pub(crate) fn record(
        &self,
        api: Api,
        operation: &'static str,
        status: u16,
        kms_error: Option<&'static str>,
        elapsed: Duration,
    ) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let mut t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        *t.requests.entry((api, operation, status)).or_default() += 1;
        if let Some(error) = kms_error {
            *t.kms_errors.entry((operation, error)).or_default() += 1;
        }
        let latency = t.latency.entry((api, operation)).or_default();
        latency.count += 1;
        latency.sum_micros = latency.sum_micros.saturating_add(micros);
        if let Some(i) = BUCKETS_MICROS.iter().position(|b| micros <= *b) {
            latency.buckets[i] += 1;
        }
    }

    /// Appends the metrics in Prometheus's text format.
    pub(crate) fn render(&self, out: &mut String) {
        let gauge = |out: &mut String, name: &str, kind: &str, help: &str, value: String| {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            );
        };
        gauge(
            out,
            "custos_connections_open",
            "gauge",
            "Client connections open now.",
            self.connections_open.load(Ordering::Relaxed).to_string(),
        );
        gauge(
            out,
            "custos_connections_total",
            "counter",
            "Client connections accepted.",
            self.connections_total.load(Ordering::Relaxed).to_string(),
        );
        let name = "custos_scheduler_passes_total";
        let _ = write!(
            out,
            "# HELP {name} Scheduler passes (deletions and rotations due), by outcome.\n# TYPE {name} counter\n"
        );
        for (outcome, n) in PASS_OUTCOMES.iter().zip(&self.scheduler_passes) {
            let _ = writeln!(
                out,
                "{name}{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        gauge(
            out,
            "custos_scheduler_actions_total",
            "counter",
            "Keys deleted or rotated by the scheduler.",
            self.scheduler_actions.load(Ordering::Relaxed).to_string(),
        );
        if let Some(counts) = &*self.keys_by_state.lock().unwrap_or_else(|p| p.into_inner()) {
            let name = "custos_keys";
            let _ = write!(
                out,
                "# HELP {name} KMS keys by state, as counted by the last scheduler pass (each minute).\n# TYPE {name} gauge\n"
            );
            for state in custos_kms::model::KeyState::NAMES {
                let n = counts.get(state).copied().unwrap_or(0);
                let _ = writeln!(out, "{name}{{state=\"{state}\"}} {n}");
            }
        }
        let refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        let mut refused: Vec<_> = refused.iter().map(|(k, v)| (*k, *v)).collect();
        refused.sort();
        let name = "custos_connections_refused_total";
        let _ = write!(
            out,
            "# HELP {name} Connections closed on arrival, by the limit they were over.\n# TYPE {name} counter\n"
        );
        for (limit, n) in refused {
            let _ = writeln!(out, "{name}{{limit=\"{limit}\"}} {n}");
        }
        let t = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let mut requests: Vec<_> = t.requests.iter().collect();
        requests.sort();
        let name = "custos_requests_total";
        let _ = write!(
            out,
            "# HELP {name} Requests answered, by API, operation and HTTP status.\n# TYPE {name} counter\n"
        );
        for ((api, operation, status), n) in requests {
            let _ = writeln!(
                out,
                "{name}{{api=\"{}\",operation=\"{operation}\",status=\"{status}\"}} {n}",
                api.label()
            );
        }
        let mut errors: Vec<_> = t.kms_errors.iter().collect();
        errors.sort();
        let name = "custos_kms_errors_total";
        let _ = write!(
            out,
            "# HELP {name} KMS requests that failed, by operation and error type.\n# TYPE {name} counter\n"
        );
        for ((operation, error), n) in errors {
            let _ = writeln!(
                out,
                "{name}{{operation=\"{operation}\",error=\"{error}\"}} {n}"
            );
        }
        let mut latency: Vec<_> = t.latency.iter().collect();
        latency.sort_by_key(|(k, _)| **k);
        let name = "custos_request_duration_seconds";
        let _ = write!(
            out,
            "# HELP {name} Time from a request's headers to its answer, by API and operation.\n# TYPE {name} histogram\n"
        );
        for ((api, operation), l) in latency {
            let labels = format!("api=\"{}\",operation=\"{operation}\"", api.label());
            let mut cumulative = 0;
            for (bound, n) in BUCKETS_MICROS.iter().zip(l.buckets) {
                cumulative += n;
                let le = *bound as f64 / 1e6;
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", l.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", l.sum_micros as f64 / 1e6);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", l.count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_errors_and_latency_render_as_prometheus_text() {
        let m = Metrics::default();
        m.record(Api::Kms, "Encrypt", 200, None, Duration::from_micros(700));
        m.record(
            Api::Kms,
            "Encrypt",
            400,
            Some("NotFoundException"),
            Duration::from_millis(3),
        );
        m.record(Api::Query, "", 200, None, Duration::from_secs(9));
        let open = m.connection();
        m.refused("max_connections_per_address");
        m.refused("max_connections_per_address");
        m.scheduler_pass(PassOutcome::Done, 3);
        m.key_counts(
            [("Enabled", 5), ("PendingDeletion", 1)]
                .into_iter()
                .collect(),
        );
        m.scheduler_pass(PassOutcome::Postponed, 0);
        let mut text = String::new();
        m.render(&mut text);
        assert!(text.contains("custos_connections_open 1\n"), "{text}");
        assert!(text.contains(
            "custos_connections_refused_total{limit=\"max_connections_per_address\"} 2\n"
        ));
        for line in [
            "custos_scheduler_passes_total{outcome=\"done\"} 1\n",
            "custos_scheduler_passes_total{outcome=\"failed\"} 0\n",
            "custos_scheduler_passes_total{outcome=\"postponed\"} 1\n",
            "custos_scheduler_actions_total 3\n",
            "custos_keys{state=\"Enabled\"} 5\n",
            "custos_keys{state=\"Disabled\"} 0\n",
            "custos_keys{state=\"PendingDeletion\"} 1\n",
        ] {
            assert!(text.contains(line), "{line}: {text}");
        }
        drop(open);
        assert!(text.contains(
            "custos_requests_total{api=\"kms\",operation=\"Encrypt\",status=\"400\"} 1\n"
        ));
        assert!(text.contains(
            "custos_kms_errors_total{operation=\"Encrypt\",error=\"NotFoundException\"} 1\n"
        ));
        // 0.7 ms is over the 0.5 ms bound and within 1 ms; 3 ms within 5.
        let bucket = |le: &str| {
            format!(
                "custos_request_duration_seconds_bucket{{api=\"kms\",operation=\"Encrypt\",le=\"{le}\"}} "
            )
        };
        for (le, n) in [
            ("0.0005", 0),
            ("0.001", 1),
            ("0.0025", 1),
            ("0.005", 2),
            ("+Inf", 2),
        ] {
            assert!(
                text.contains(&format!("{}{n}\n", bucket(le))),
                "{le}: {text}"
            );
        }
        // Beyond the last bound: only in +Inf.
        assert!(text.contains(
            "custos_request_duration_seconds_bucket{api=\"iam_sts\",operation=\"\",le=\"5\"} 0\n"
        ));
        assert!(
            text.contains(
                "custos_request_duration_seconds_count{api=\"iam_sts\",operation=\"\"} 1\n"
            )
        );
        let mut after = String::new();
        m.render(&mut after);
        assert!(after.contains("custos_connections_open 0\n"));
    }
}
