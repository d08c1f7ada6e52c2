//! Counting, latency percentiles, and the text and JSON reports.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use serde_json::{Value, json};

use crate::client::TlsSummary;

/// What one worker saw inside the measured window.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Latency of each successful (2xx) request, in nanoseconds.
    pub(crate) latencies_ns: Vec<u64>,
    /// Non-2xx responses, by status code.
    pub(crate) http_errors: BTreeMap<u16, u64>,
    /// Requests that got no response: connection refused or reset, timeout,
    /// malformed response.
    pub(crate) transport_errors: u64,
    /// Connections opened during the whole run, warm-up included.
    pub(crate) connections: u64,
}

impl Tally {
    pub(crate) fn merge(&mut self, other: Tally) {
        self.latencies_ns.extend(other.latencies_ns);
        for (status, count) in other.http_errors {
            *self.http_errors.entry(status).or_default() += count;
        }
        self.transport_errors += other.transport_errors;
        self.connections += other.connections;
    }
}

/// Latency percentiles of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Latency {
    pub(crate) p50: Duration,
    pub(crate) p90: Duration,
    pub(crate) p99: Duration,
    pub(crate) p999: Duration,
    pub(crate) max: Duration,
    pub(crate) mean: Duration,
}

impl Latency {
    /// Exact nearest-rank percentiles; `None` without samples.
    pub(crate) fn of(mut samples_ns: Vec<u64>) -> Option<Self> {
        samples_ns.sort_unstable();
        let max = *samples_ns.last()?;
        let sum: u128 = samples_ns.iter().map(|&ns| u128::from(ns)).sum();
        // The sample count fits in u128, and the mean of u64 values in u64.
        let mean = u64::try_from(sum / samples_ns.len() as u128).unwrap_or(u64::MAX);
        let at = |quantile| Duration::from_nanos(nearest_rank(&samples_ns, quantile));
        Some(Self {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: Duration::from_nanos(max),
            mean: Duration::from_nanos(mean),
        })
    }
}

/// The smallest sample such that at least `quantile` of all samples are at
/// most it. `sorted` must be sorted and not empty.
fn nearest_rank(sorted: &[u64], quantile: f64) -> u64 {
    let rank = (quantile * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().unwrap_or_default()
}

/// Everything a run reports.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) op: &'static str,
    pub(crate) size: u64,
    pub(crate) concurrency: u32,
    pub(crate) threads: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) tls: TlsSummary,
    pub(crate) ok: u64,
    pub(crate) http_errors: BTreeMap<u16, u64>,
    pub(crate) transport_errors: u64,
    pub(crate) connections: u64,
    pub(crate) latency: Option<Latency>,
}

impl Report {
    pub(crate) fn new(run: RunFacts, tally: Tally) -> Self {
        let ok = tally.latencies_ns.len() as u64;
        Self {
            op: run.op,
            size: run.size,
            concurrency: run.concurrency,
            threads: run.threads,
            warmup: run.warmup,
            duration: run.duration,
            tls: run.tls,
            ok,
            http_errors: tally.http_errors,
            transport_errors: tally.transport_errors,
            connections: tally.connections,
            latency: Latency::of(tally.latencies_ns),
        }
    }

    fn http_error_count(&self) -> u64 {
        self.http_errors.values().sum()
    }

    fn errors(&self) -> u64 {
        self.http_error_count() + self.transport_errors
    }

    /// Every request that completed inside the window, successful or not.
    fn requests(&self) -> u64 {
        self.ok + self.errors()
    }

    /// Successful requests per second.
    fn ops_per_sec(&self) -> f64 {
        self.ok as f64 / self.duration.as_secs_f64()
    }

    pub(crate) fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "op {}  size {} B  concurrency {}  threads {}  warmup {} s  duration {} s",
            self.op,
            self.size,
            self.concurrency,
            self.threads,
            self.warmup.as_secs_f64(),
            self.duration.as_secs_f64(),
        )?;
        writeln!(
            out,
            "tls {} {} {}  connections {}",
            self.tls.version, self.tls.cipher_suite, self.tls.key_exchange, self.connections,
        )?;
        let by_status = self
            .http_errors
            .iter()
            .map(|(status, count)| format!(" {status}x{count}"))
            .collect::<String>();
        writeln!(
            out,
            "requests {}  ok {}  errors {} (http {}{}, transport {})",
            self.requests(),
            self.ok,
            self.errors(),
            self.http_error_count(),
            by_status,
            self.transport_errors,
        )?;
        writeln!(out, "throughput {:.2} ops/s", self.ops_per_sec())?;
        match &self.latency {
            Some(l) => writeln!(
                out,
                "latency us  p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  mean {:.2}",
                micros(l.p50),
                micros(l.p90),
                micros(l.p99),
                micros(l.p999),
                micros(l.max),
                micros(l.mean),
            ),
            None => writeln!(out, "latency: no successful request"),
        }
    }

    /// The same figures as one JSON object; latencies in microseconds.
    pub(crate) fn to_json(&self) -> Value {
        let latency = self.latency.map_or(Value::Null, |l| {
            json!({
                "p50_us": round2(micros(l.p50)),
                "p90_us": round2(micros(l.p90)),
                "p99_us": round2(micros(l.p99)),
                "p999_us": round2(micros(l.p999)),
                "max_us": round2(micros(l.max)),
                "mean_us": round2(micros(l.mean)),
            })
        });
        let http_errors: serde_json::Map<String, Value> = self
            .http_errors
            .iter()
            .map(|(status, count)| (status.to_string(), json!(count)))
            .collect();
        json!({
            "op": self.op,
            "size": self.size,
            "concurrency": self.concurrency,
            "threads": self.threads,
            "warmup_s": self.warmup.as_secs_f64(),
            "duration_s": self.duration.as_secs_f64(),
            "tls_version": self.tls.version,
            "tls_cipher_suite": self.tls.cipher_suite,
            "tls_key_exchange": self.tls.key_exchange,
            "connections": self.connections,
            "requests": self.requests(),
            "ok": self.ok,
            "errors": self.errors(),
            "http_errors": http_errors,
            "transport_errors": self.transport_errors,
            "ops_per_sec": round2(self.ops_per_sec()),
            "latency": latency,
        })
    }
}

/// The facts of a run that do not come from counting.
#[derive(Debug)]
pub(crate) struct RunFacts {
    pub(crate) op: &'static str,
    pub(crate) size: u64,
    pub(crate) concurrency: u32,
    pub(crate) threads: usize,
    pub(crate) warmup: Duration,
    pub(crate) duration: Duration,
    pub(crate) tls: TlsSummary,
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u64> = (1..=1000).rev().collect();
        let latency = Latency::of(samples).expect("samples");
        assert_eq!(latency.p50, Duration::from_nanos(500));
        assert_eq!(latency.p90, Duration::from_nanos(900));
        assert_eq!(latency.p99, Duration::from_nanos(990));
        assert_eq!(latency.p999, Duration::from_nanos(999));
        assert_eq!(latency.max, Duration::from_nanos(1000));
        assert_eq!(latency.mean, Duration::from_nanos(500));
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let latency = Latency::of(vec![7]).expect("one sample");
        assert_eq!(latency.p50, Duration::from_nanos(7));
        assert_eq!(latency.p999, Duration::from_nanos(7));
        assert_eq!(latency.max, Duration::from_nanos(7));
    }

    #[test]
    fn no_samples_no_latency() {
        assert_eq!(Latency::of(Vec::new()), None);
    }

    fn report(tally: Tally) -> Report {
        Report::new(
            RunFacts {
                op: "encrypt",
                size: 32,
                concurrency: 4,
                threads: 2,
                warmup: Duration::from_secs(1),
                duration: Duration::from_secs(2),
                tls: TlsSummary::default(),
            },
            tally,
        )
    }

    #[test]
    fn counts_and_rates() {
        let mut tally = Tally {
            latencies_ns: vec![1_000, 2_000, 3_000],
            transport_errors: 1,
            connections: 4,
            ..Tally::default()
        };
        tally.merge(Tally {
            latencies_ns: vec![4_000],
            http_errors: BTreeMap::from([(400, 2), (503, 1)]),
            connections: 1,
            ..Tally::default()
        });
        let report = report(tally);
        let json = report.to_json();
        assert_eq!(json["requests"], 8);
        assert_eq!(json["ok"], 4);
        assert_eq!(json["errors"], 4);
        assert_eq!(json["http_errors"]["400"], 2);
        assert_eq!(json["transport_errors"], 1);
        assert_eq!(json["connections"], 5);
        assert_eq!(json["ops_per_sec"], 2.0);
        assert_eq!(json["latency"]["p50_us"], 2.0);
        assert_eq!(json["latency"]["max_us"], 4.0);

        let mut text = Vec::new();
        report.write_text(&mut text).expect("write to a Vec");
        let text = String::from_utf8(text).expect("UTF-8");
        assert!(text.contains("requests 8  ok 4  errors 4 (http 3 400x2 503x1, transport 1)"));
        assert!(text.contains("throughput 2.00 ops/s"));
        assert!(text.contains("p50 2.00"));
    }

    #[test]
    fn a_run_without_success_has_null_latency() {
        let json = report(Tally::default()).to_json();
        assert_eq!(json["latency"], Value::Null);
        assert_eq!(json["ops_per_sec"], 0.0);
    }
}
