//! Export to CloudTrail's log-file layout, so that tools that read
//! CloudTrail's files from S3 (jq recipes, Athena or Trino tables, SIEM
//! importers) read Custos's trail:
//!
//! ```text
//! <out>/AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
//!     <account>_CloudTrail_<region>_<YYYYMMDD>T<HHMM>Z_<id>.json.gz
//! ```
//!
//! each file gzipped JSON `{"Records": [...]}`, one file per account,
//! region and five minutes of events, as CloudTrail delivers them. The log
//! is verified first: a broken log is not exported.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::verify::Broken;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub files: usize,
    pub records: u64,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the audit log does not verify: {0}")]
    Broken(#[from] Broken),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Exports the events of the log in `dir` at or after `since_s` (epoch
/// seconds) into `out`.
pub fn export(dir: &Path, out: &Path, since_s: Option<i64>) -> Result<Exported, ExportError> {
    crate::verify::verify(dir)?;
    // (account, region, five-minute window) → events, in log order.
    let mut files: BTreeMap<(String, String, i64), Vec<Value>> = BTreeMap::new();
    let mut records = 0;
    crate::chain::for_each_event(dir, |_, event| {
        let time = crate::event::event_seconds(&event);
        if since_s.is_some_and(|s| time < s) {
            return;
        }
        let account = event["recipientAccountId"]
            .as_str()
            .filter(|a| !a.is_empty())
            .unwrap_or("unknown")
            .to_owned();
        let region = event["awsRegion"]
            .as_str()
            .filter(|r| !r.is_empty())
            .unwrap_or("global")
            .to_owned();
        files
            .entry((account, region, time - time.rem_euclid(300)))
            .or_default()
            .push(event);
        records += 1;
    })?;
    for ((account, region, window), events) in &files {
        let at = time::OffsetDateTime::from_unix_timestamp(*window)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let folder = out
            .join("AWSLogs")
            .join(account)
            .join("CloudTrail")
            .join(region)
            .join(format!("{:04}", at.year()))
            .join(format!("{:02}", u8::from(at.month())))
            .join(format!("{:02}", at.day()));
        std::fs::create_dir_all(&folder)?;
        let name = format!(
            "{account}_CloudTrail_{region}_{:04}{:02}{:02}T{:02}{:02}Z_{}.json.gz",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            &crate::event::event_id().replace('-', "")[..16],
        );
        let body = serde_json::to_vec(&serde_json::json!({ "Records": events }))
            .map_err(std::io::Error::other)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&body)?;
        std::fs::write(folder.join(name), gz.finish()?)?;
    }
    Ok(Exported {
        files: files.len(),
        records,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn files_follow_cloudtrails_layout_and_hold_every_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = crate::AuditLog::open(dir.path(), None).expect("open");
        for (i, (account, region, time)) in [
            ("111122223333", "us-east-1", "2026-12-04T19:00:10Z"),
            ("111122223333", "us-east-1", "2026-12-04T19:04:59Z"),
            ("111122223333", "us-east-1", "2026-12-04T19:05:00Z"),
            ("444455556666", "eu-west-3", "2026-12-04T19:00:00Z"),
        ]
        .into_iter()
        .enumerate()
        {
            let event = serde_json::json!({
                "eventTime": time, "recipientAccountId": account, "awsRegion": region, "n": i,
            });
            log.append(serde_json::to_vec(&event).expect("json"))
                .await
                .expect("append");
        }
        drop(log);
        let out = tempfile::tempdir().expect("out");
        let done = export(dir.path(), out.path(), None).expect("export");
        assert_eq!(
            done,
            Exported {
                files: 3,
                records: 4
            }
        );
        let day = out
            .path()
            .join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/04");
        let mut names: Vec<String> = std::fs::read_dir(&day)
            .expect("day folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2);
        assert!(names[0].starts_with("111122223333_CloudTrail_us-east-1_20261204T1900Z_"));
        assert!(names[0].ends_with(".json.gz"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(day.join(&names[0])).expect("file"))
            .read_to_string(&mut text)
            .expect("gzip");
        let file: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(file["Records"].as_array().map(Vec::len), Some(2));
        assert_eq!(file["Records"][1]["n"], 1);
        // Since a time: only the events at or after it.
        let later = tempfile::tempdir().expect("out");
        // 2026-12-04T19:05:00Z.
        let since = export(dir.path(), later.path(), Some(1_796_411_100)).expect("export");
        assert_eq!(since.records, 1, "{since:?}");
    }
}
