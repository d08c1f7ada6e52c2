//! The durable audit log: records appended to the hash chain in batches,
//! many requests sharing one `fsync` (group commit), and an append that
//! returns only once its record is on disk.
//!
//! There is no writer thread to hand records to: the first request to
//! queue a record while no batch is being written starts a task on the
//! request runtime that writes whatever has queued, batch after batch,
//! until nothing is left. Handing each batch to a thread of its own and
//! back cost more than the disk did (measured: with `fsync` turned off,
//! the handoff alone kept throughput at 0.65 of an unaudited server); the
//! batch task wakes the requests it wrote on the thread it runs on. While
//! it waits for the disk, it holds one runtime thread; the other threads
//! go on serving.
//!
//! It fails closed: when the log cannot be written (disk full, read-only
//! or removed directory, any I/O error), every append waiting on that
//! write fails, the partial write is cut off so the chain stays whole, and
//! the next batch tries again, so the log recovers by itself once the cause
//! is gone. An append never waits longer than [`APPEND_TIMEOUT`].
//!
//! The segment being written is zero-filled ahead of its records, a step
//! at a time, and records overwrite the zeros: a write that does not grow
//! the file leaves no inode to write back, so its `fdatasync` costs one
//! disk write instead of two (measured in BENCHMARKS.md). Readers stop at
//! the first NUL (`crate::chain::content`); a closed segment is cut to its
//! records.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::chain::{GENESIS, parse_line, segment_name, segments, write_line};
use crate::digest::DigestSigner;

/// A segment is closed and a new one begun beyond this size.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// The zero-fill added ahead of the records when they reach it.
const FILL_STEP: u64 = 1024 * 1024;
/// At most this many records share one write and `fsync`.
const MAX_BATCH: usize = 4096;
/// How long an append waits for its record to be durable before failing
/// (a hung disk must not hang the server).
pub const APPEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an append failed.
#[derive(Debug, thiserror::Error, Clone)]
pub enum AuditError {
    #[error("the audit log cannot be written: {0}")]
    Write(String),
    #[error("the audit log did not confirm the write within {0:?}")]
    Timeout(Duration),
    #[error("the audit log has stopped")]
    Stopped,
    #[error("the audit event could not be encoded")]
    Encode,
}

struct Job {
    event: Vec<u8>,
    done: oneshot::Sender<Done>,
}

/// The outcome of an append, and the event's buffer handed back, so that
/// the request's thread frees what it allocated: a free from the writer's
/// thread would contend for the allocator's lock of the request's thread
/// (measured: a futex wait a batch).
type Done = (Result<u64, AuditError>, Vec<u8>);

/// The audit log of one directory.
#[derive(Debug, Clone)]
pub struct AuditLog {
    inner: Option<Arc<Inner>>,
    healthy: Arc<AtomicBool>,
    stats: Arc<Stats>,
    dir: PathBuf,
}

/// Upper bounds, in microseconds, of the buckets of [`Stats::sync_micros`].
pub const SYNC_BUCKETS_MICROS: [u64; 10] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000, 1_000_000,
];

/// What the writer has done, for metrics: counters only grow.
#[derive(Debug, Default)]
pub struct Stats {
    /// Records made durable.
    pub records: AtomicU64,
    /// Bytes of records made durable.
    pub bytes: AtomicU64,
    /// Writes that failed, each failing the requests of its batch (the
    /// writer's own retries, every 250 ms while the log is broken, count
    /// too).
    pub failures: AtomicU64,
    /// How many durable writes (one `fdatasync` each, shared by its
    /// records) took at most each bound of [`SYNC_BUCKETS_MICROS`] (not
    /// cumulative), and beyond the last: their sum is the count of writes.
    pub sync_micros: [AtomicU64; SYNC_BUCKETS_MICROS.len() + 1],
    /// The sum of the durable writes' times, in microseconds.
    pub sync_micros_sum: AtomicU64,
    /// Since when (Unix ms) the log cannot be written; 0 while it can.
    pub unwritable_since_ms: AtomicI64,
}

impl Stats {
    fn synced(&self, records: usize, bytes: usize, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let bucket = SYNC_BUCKETS_MICROS
            .iter()
            .position(|b| micros <= *b)
            .unwrap_or(SYNC_BUCKETS_MICROS.len());
        self.sync_micros[bucket].fetch_add(1, Ordering::Relaxed);
        self.sync_micros_sum.fetch_add(micros, Ordering::Relaxed);
        self.records.fetch_add(records as u64, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// The records waiting for the next batch, the writer, and the thread
/// that retries while the log is broken, which is waited for when the last
/// handle goes (the log's last digest is written then).
#[derive(Debug)]
struct Inner {
    queue: std::sync::Mutex<Queue>,
    writer: Arc<std::sync::Mutex<Writer>>,
    healthy: Arc<AtomicBool>,
    retrier: std::sync::Mutex<Option<Retrier>>,
}

#[derive(Debug, Default)]
struct Queue {
    jobs: Vec<Job>,
    /// Whether a batch task is running (it takes the jobs queued).
    writing: bool,
}

#[derive(Debug)]
struct Retrier {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let retrier = self
            .retrier
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(Retrier { stop, thread }) = retrier {
            let _ = stop.send(());
            let _ = thread.join();
        }
        // The log closes: a last digest covers what is not covered yet,
        // and the segment loses its zero-fill.
        lock(&self.writer).close();
    }
}

/// The writer, even if a batch task panicked holding it (its state is
/// only changed once a write is durable).
fn lock(writer: &std::sync::Mutex<Writer>) -> std::sync::MutexGuard<'_, Writer> {
    writer.lock().unwrap_or_else(|p| p.into_inner())
}

impl Inner {
    /// Writes what has queued, batch after batch, until nothing is left.
    async fn write_batches(self: Arc<Self>) {
        loop {
            let batch = {
                let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                if queue.jobs.is_empty() {
                    queue.writing = false;
                    return;
                }
                let n = queue.jobs.len().min(MAX_BATCH);
                queue.jobs.drain(..n).collect::<Vec<_>>()
            };
            // Blocks this runtime thread for one write and `fdatasync`.
            lock(&self.writer).commit(batch, &self.healthy);
            // The requests just answered run next, on this thread; new
            // records queue meanwhile for the next batch.
            tokio::task::yield_now().await;
        }
    }
}

/// A digest is signed at most this often while records come in, and when
/// the log closes.
const DIGEST_INTERVAL: Duration = Duration::from_secs(60);

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens (or creates) the log in `dir` and starts its writer. A torn
    /// last line (a crash mid-write: never acknowledged) is cut off.
    ///
    /// With a `signer`, the writer signs a digest of the records written
    /// at most every minute while records come in, and when the log
    /// closes (see `crate::digest`).
    pub fn open(dir: &Path, signer: Option<DigestSigner>) -> std::io::Result<AuditLog> {
        create_private_dir(dir)?;
        let mut writer = Writer::open(dir)?;
        if let Some(signer) = &signer {
            crate::digest::list_key(dir, signer, wall_ms())?;
        }
        writer.signer = signer;
        let stats = Arc::clone(&writer.stats);
        let writer = Arc::new(std::sync::Mutex::new(writer));
        let healthy = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = std::sync::mpsc::channel();
        let thread = {
            let (writer, healthy) = (Arc::clone(&writer), Arc::clone(&healthy));
            std::thread::Builder::new()
                .name("custos-audit".into())
                .spawn(move || retry_while_broken(&writer, &healthy, &stopped))?
        };
        Ok(AuditLog {
            inner: Some(Arc::new(Inner {
                queue: std::sync::Mutex::default(),
                writer,
                healthy: Arc::clone(&healthy),
                retrier: std::sync::Mutex::new(Some(Retrier { stop, thread })),
            })),
            healthy,
            stats,
            dir: dir.to_owned(),
        })
    }

    /// Gives the writer its signing key, or takes it away (`None`): a
    /// server that starts sealed opens its log before its signing key
    /// (sealed under the store key) can be read, and forgets the key when
    /// it is sealed again. Records written meanwhile are covered by the
    /// next digest signed; before the key is taken away, a digest covers
    /// what is written so far.
    pub fn set_signer(&self, signer: Option<DigestSigner>) -> std::io::Result<()> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let mut writer = lock(&inner.writer);
        match signer {
            Some(signer) => {
                crate::digest::list_key(&self.dir, &signer, wall_ms())?;
                writer.signer = Some(signer);
            }
            None => {
                writer.digest();
                writer.signer = None;
            }
        }
        Ok(())
    }

    /// The chain's head: the last durable record's sequence number and
    /// hash (`None` when auditing is off).
    pub fn head(&self) -> Option<(u64, [u8; 32])> {
        let inner = self.inner.as_ref()?;
        let writer = lock(&inner.writer);
        Some((writer.seq, writer.head))
    }

    /// A log that records nothing: only for a benchmark of the server
    /// without auditing, chosen explicitly and announced at start.
    pub fn disabled() -> AuditLog {
        AuditLog {
            inner: None,
            healthy: Arc::new(AtomicBool::new(true)),
            stats: Arc::default(),
            dir: PathBuf::new(),
        }
    }

    pub fn is_disabled(&self) -> bool {
        self.inner.is_none()
    }

    /// Closes the log now, as the last handle's drop would: a last digest
    /// covers what no digest covers yet, and the segment loses its
    /// zero-fill. A server calls it once its requests are drained, so that
    /// a handle some task has not yet dropped does not delay the close past
    /// shutdown. Writing after it is still possible (it would be covered by
    /// the next close).
    pub fn close(&self) {
        if let Some(inner) = &self.inner {
            lock(&inner.writer).close();
        }
    }

    /// Whether the last write succeeded (for health checks and metrics).
    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// What the writer has done.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Where the log is.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends `event` (its JSON) and returns its sequence number once it
    /// is durable. Must run on a Tokio runtime (the batch task runs there).
    pub async fn append(&self, event: Vec<u8>) -> Result<u64, AuditError> {
        let Some(inner) = &self.inner else {
            return Ok(0);
        };
        let (done, wait) = oneshot::channel();
        let start = {
            let mut queue = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.jobs.push(Job { event, done });
            !std::mem::replace(&mut queue.writing, true)
        };
        if start {
            tokio::spawn(Arc::clone(inner).write_batches());
        }
        let work = async {
            let (result, _event) = wait.await.map_err(|_| AuditError::Stopped)?;
            result
        };
        tokio::time::timeout(APPEND_TIMEOUT, work)
            .await
            .map_err(|_| {
                // A disk that does not answer is a log that cannot be written:
                // refuse the next requests up front (the writer marks the log
                // healthy again once a write gets through).
                self.healthy.store(false, Ordering::Relaxed);
                AuditError::Timeout(APPEND_TIMEOUT)
            })?
    }
}

/// The writer's state: the open segment and the chain's head.
struct Writer {
    dir: PathBuf,
    file: File,
    path: PathBuf,
    /// Bytes of the segment's records known durable.
    len: u64,
    /// The segment file's length: the records, then zero-fill.
    filled: u64,
    seq: u64,
    head: [u8; 32],
    /// Since when (wall clock, ms) the log could not be written.
    broken_since_ms: Option<i64>,
    signer: Option<DigestSigner>,
    stats: Arc<Stats>,
    /// The last record a digest covers, and that digest's signature.
    digested: (u64, Option<String>),
    last_digest_at: std::time::Instant,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("path", &self.path)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Writer {
    fn open(dir: &Path) -> std::io::Result<Writer> {
        let found = segments(dir)?;
        let (mut seq, mut head) = (0, GENESIS);
        // The chain's head: the last record of the last non-empty segment.
        for (_, path) in found.iter().rev() {
            let mut bytes = Vec::new();
            File::open(path)?.read_to_end(&mut bytes)?;
            // A crash may leave the zero-fill, a torn line, or (a write
            // that reached the disk out of order) bytes after a gap: none
            // of it was acknowledged, and it all goes.
            let records = crate::chain::content(&bytes).unwrap_or_else(|at| {
                let end = bytes[..at].iter().position(|b| *b == 0).unwrap_or(at);
                &bytes[..end]
            });
            let whole = records
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            if whole < bytes.len() {
                if whole < records.len() {
                    tracing::warn!(path = %path.display(), "cutting off a torn last audit record");
                }
                let file = OpenOptions::new().write(true).open(path)?;
                file.set_len(whole as u64)?;
                file.sync_all()?;
            }
            if let Some(last) = bytes[..whole]
                .split(|b| *b == b'\n')
                .rfind(|l| !l.is_empty())
            {
                let line = parse_line(last).ok_or_else(|| {
                    std::io::Error::other(format!(
                        "the last audit record of {} is unreadable: run `custos audit verify`",
                        path.display()
                    ))
                })?;
                (seq, head) = (line.seq, line.hash);
                break;
            }
        }
        let path = match found.last() {
            Some((_, path)) => path.clone(),
            None => dir.join(segment_name(1)),
        };
        let (file, len) = open_segment(dir, &path)?;
        Ok(Writer {
            dir: dir.to_owned(),
            file,
            path,
            len,
            filled: len,
            seq,
            head,
            broken_since_ms: None,
            signer: None,
            stats: Arc::default(),
            digested: last_digest(dir)?,
            last_digest_at: std::time::Instant::now(),
        })
    }

    /// Closes the log: a last digest covers what is not covered yet, and
    /// the segment loses its zero-fill.
    fn close(&mut self) {
        self.digest();
        if let Err(e) = self.cut_fill() {
            tracing::warn!(error = %e, "cannot cut the audit segment's zero-fill");
        }
    }

    /// Cuts the zero-fill after the records.
    fn cut_fill(&mut self) -> std::io::Result<()> {
        if self.filled > self.len {
            self.file.set_len(self.len)?;
            self.file.sync_all()?;
            self.filled = self.len;
        }
        Ok(())
    }

    /// Makes sure the file holds `end` bytes (zero-filling a step beyond:
    /// the step's `fdatasync` goes with the batch that needs it).
    fn fill_to(&mut self, end: u64) -> std::io::Result<()> {
        if end <= self.filled {
            return Ok(());
        }
        let target = end + FILL_STEP;
        let zeros = vec![0u8; 64 * 1024];
        let mut at = self.filled;
        while at < target {
            let n = (target - at).min(zeros.len() as u64);
            self.file.write_all_at(&zeros[..n as usize], at)?;
            at += n;
        }
        self.filled = target;
        Ok(())
    }

    /// Writes `batch` and answers each of its requests.
    fn commit(&mut self, batch: Vec<Job>, healthy: &AtomicBool) {
        let events: Vec<&[u8]> = batch.iter().map(|j| j.event.as_slice()).collect();
        let result = self.write(&events);
        healthy.store(result.is_ok(), Ordering::Relaxed);
        match result {
            Ok(first_seq) => {
                for (i, job) in batch.into_iter().enumerate() {
                    let _ = job.done.send((Ok(first_seq + i as u64), job.event));
                }
                if self.last_digest_at.elapsed() >= DIGEST_INTERVAL {
                    self.digest();
                }
            }
            Err(e) => {
                let e = AuditError::Write(e.to_string());
                for job in batch {
                    let _ = job.done.send((Err(e.clone()), job.event));
                }
            }
        }
    }

    /// Signs a digest of the records written since the last one, if any.
    /// A failure is logged: the records stay, covered by the next digest.
    fn digest(&mut self) {
        self.last_digest_at = std::time::Instant::now();
        let Some(signer) = &self.signer else {
            return;
        };
        let (covered, previous) = &self.digested;
        if self.seq <= *covered || self.broken_since_ms.is_some() {
            return;
        }
        match crate::digest::write_digest(
            &self.dir,
            signer,
            covered + 1,
            self.seq,
            &self.head,
            previous.as_deref(),
            wall_ms(),
        ) {
            Ok(d) => self.digested = (d.last_seq, Some(d.signature)),
            Err(e) => tracing::error!(error = %e, "cannot write an audit digest"),
        }
    }

    /// Writes `batch` durably; returns the sequence number of its first
    /// record. On failure the chain is left as it was. The first write
    /// after a failure begins with a record saying since when the log
    /// could not be written, whether it is the writer's own retry or a
    /// batch of requests that got in before the failure was known.
    fn write(&mut self, batch: &[&[u8]]) -> std::io::Result<u64> {
        if (self.broken_since_ms.is_some() || !linked(&self.file))
            && let Err(e) = self.reopen()
        {
            // Reopen: the directory or the file may have been removed and
            // recreated, or the disk remounted.
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            self.broken(&e);
            return Err(e);
        }
        let resumed = self.broken_since_ms.map(resumed_event);
        let mut out = Vec::with_capacity(batch.iter().map(|e| e.len() + 160).sum());
        let (mut seq, mut prev) = (self.seq, self.head);
        for event in resumed
            .iter()
            .map(Vec::as_slice)
            .chain(batch.iter().copied())
        {
            seq += 1;
            prev = write_line(&mut out, seq, &prev, event);
        }
        let end = self.len + out.len() as u64;
        let started = std::time::Instant::now();
        let written = self
            .fill_to(end)
            .and_then(|()| self.file.write_all_at(&out, self.len))
            .and_then(|()| self.file.sync_data())
            // Written to a file that is no longer there is not written.
            .and_then(|()| {
                if linked(&self.file) {
                    Ok(())
                } else {
                    Err(std::io::Error::other("the audit segment was removed"))
                }
            });
        if let Err(e) = written {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            self.broken(&e);
            // Cut off whatever part of the batch reached the file (and the
            // zero-fill, which the next write makes again).
            let _ = self.file.set_len(self.len);
            self.filled = self.len;
            return Err(e);
        }
        let records = seq - self.seq;
        self.stats
            .synced(records as usize, out.len(), started.elapsed());
        if self.broken_since_ms.take().is_some() {
            self.stats.unwritable_since_ms.store(0, Ordering::Relaxed);
            tracing::warn!(dir = %self.dir.display(), "the audit log is writable again");
        }
        let first = self.seq + 1 + u64::from(resumed.is_some());
        self.len += out.len() as u64;
        self.seq = seq;
        self.head = prev;
        if self.len >= SEGMENT_BYTES {
            // A failure here leaves the full segment open and in use (the
            // records are durable; nothing is refused): the next batch
            // tries again.
            if let Err(e) = self.cut_fill().and_then(|()| self.start_segment()) {
                tracing::error!(error = %e, "cannot start a new audit segment");
            }
        }
        Ok(first)
    }

    /// Marks the log broken (once: the first failure is logged).
    fn broken(&mut self, e: &std::io::Error) {
        if self.broken_since_ms.is_none() {
            tracing::error!(
                error = %e,
                dir = %self.dir.display(),
                "the audit log cannot be written: requests are refused until it can"
            );
            let now = wall_ms();
            self.broken_since_ms = Some(now);
            self.stats.unwritable_since_ms.store(now, Ordering::Relaxed);
        }
    }

    fn reopen(&mut self) -> std::io::Result<()> {
        create_private_dir(&self.dir)?;
        if self.path.exists() {
            let (file, len) = open_segment(&self.dir, &self.path)?;
            // Whatever a failed write left beyond the durable length goes,
            // and the zero-fill with it.
            file.set_len(len.min(self.len))?;
            self.file = file;
            self.len = self.len.min(len);
            self.filled = self.len;
            Ok(())
        } else {
            // The segment is gone: the chain continues in a new one, and
            // verification will report the missing records.
            self.start_segment()
        }
    }

    fn start_segment(&mut self) -> std::io::Result<()> {
        let path = self.dir.join(segment_name(self.seq + 1));
        let (file, len) = open_segment(&self.dir, &path)?;
        self.file = file;
        self.path = path;
        self.len = len;
        self.filled = len;
        Ok(())
    }
}

/// The last record the last digest covers, and its signature.
fn last_digest(dir: &Path) -> std::io::Result<(u64, Option<String>)> {
    let Some((_, path)) = crate::digest::digests(dir)?.pop() else {
        return Ok((0, None));
    };
    let digest: crate::digest::Digest =
        serde_json::from_slice(&std::fs::read(&path)?).map_err(|_| {
            std::io::Error::other(format!(
                "the audit digest {} is unreadable: run `custos audit verify`",
                path.display()
            ))
        })?;
    Ok((digest.last_seq, Some(digest.signature)))
}

/// How often a broken log tries to write again.
const RETRY_INTERVAL: Duration = Duration::from_millis(250);

/// While the log cannot be written, requests are refused before they queue
/// a record: this thread tries again (a write of no record but the one
/// saying since when it could not) until it can, or until `stop`.
fn retry_while_broken(
    writer: &std::sync::Mutex<Writer>,
    healthy: &AtomicBool,
    stop: &std::sync::mpsc::Receiver<()>,
) {
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(RETRY_INTERVAL) {
        if healthy.load(Ordering::Relaxed) {
            continue;
        }
        let mut writer = lock(writer);
        if writer.write(&[]).is_ok() {
            healthy.store(true, Ordering::Relaxed);
        }
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The record a log writes first once it can write again: Custos's own
/// event (not a request's), saying since when it could not.
fn resumed_event(since_ms: i64) -> Vec<u8> {
    let now = wall_ms();
    let event = crate::Event {
        event_version: crate::event::EVENT_VERSION,
        user_identity: crate::UserIdentity {
            kind: "AWSService".into(),
            invoked_by: Some("custos".into()),
            ..crate::UserIdentity::default()
        },
        event_time: crate::event::cloudtrail_time(now),
        event_source: "custos".into(),
        event_name: "AuditLogResumed".into(),
        aws_region: String::new(),
        source_ip_address: "custos".into(),
        user_agent: "custos".into(),
        error_code: None,
        error_message: None,
        request_parameters: serde_json::json!({
            "unwritableSince": crate::event::cloudtrail_time(since_ms),
        }),
        response_elements: serde_json::Value::Null,
        additional_event_data: None,
        request_id: String::new(),
        event_id: crate::event::event_id(),
        read_only: false,
        resources: Vec::new(),
        event_type: "AwsServiceEvent",
        management_event: true,
        recipient_account_id: String::new(),
        event_category: "Management",
        tls_details: None,
    };
    serde_json::to_vec(&event).unwrap_or_default()
}

/// Whether `file` still has a name: a record written to a segment that was
/// removed is not kept. This asks for the link count alone, on the open
/// file: a `stat` that reads the times would make the kernel (6.13 and
/// later) stamp every later write with a fine-grained time, dirtying the
/// inode, and each `fdatasync` would write it back (measured: 0.17 ms a
/// sync became 0.22 ms).
fn linked(file: &File) -> bool {
    rustix::fs::statx(
        file,
        "",
        rustix::fs::AtFlags::EMPTY_PATH,
        rustix::fs::StatxFlags::NLINK,
    )
    .is_ok_and(|s| s.stx_nlink > 0)
}

/// Opens a segment for writing, creating it (and making its directory
/// entry durable) if needed; returns it and its length (which, but for a
/// segment just opened by `Writer::open`, holds no zero-fill).
fn open_segment(dir: &Path, path: &Path) -> std::io::Result<(File, u64)> {
    let created = !path.exists();
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path)?;
    if created {
        File::open(dir)?.sync_all()?;
    }
    let len = file.metadata()?.len();
    Ok((file, len))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_are_numbered_durable_and_survive_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = AuditLog::open(dir.path(), None).expect("open");
        let mut tasks = Vec::new();
        for i in 0..200 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                log.append(format!("{{\"n\":{i}}}").into_bytes()).await
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.expect("task").expect("append"));
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
        drop(log);
        // A closed segment holds its records and nothing else. The log
        // closes when its last handle goes, and the batch task that just
        // answered may hold one a moment longer: wait for it (bounded).
        let (_, path) = segments(dir.path()).expect("segments").pop().expect("one");
        let mut bytes = std::fs::read(&path).expect("read");
        for _ in 0..500 {
            if bytes.last() != Some(&0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            bytes = std::fs::read(&path).expect("read");
        }
        assert_eq!(bytes.last(), Some(&b'\n'));
        assert!(!bytes.contains(&0));
        // A torn line in the zero-fill, then bytes of a later write that
        // reached the disk before it, as a crash mid-write may leave.
        let mut torn = b"201 00".to_vec();
        torn.extend_from_slice(&[0; 100]);
        torn.extend_from_slice(b"202 11");
        torn.extend_from_slice(&[0; 100]);
        std::io::Write::write_all(
            &mut OpenOptions::new().append(true).open(&path).expect("open"),
            &torn,
        )
        .expect("write");
        assert!(matches!(
            crate::verify::verify(dir.path()),
            Err(crate::verify::Broken {
                kind: crate::verify::Damage::Malformed,
                ..
            })
        ));
        let log = AuditLog::open(dir.path(), None).expect("reopen");
        assert_eq!(log.append(b"{}".to_vec()).await.expect("append"), 201);
        // Running, the segment is zero-filled ahead of its records; they
        // verify as they are.
        let running = std::fs::read(&path).expect("read");
        assert!(running.ends_with(&[0; 64]));
        let report = crate::verify::verify(dir.path()).expect("verifies");
        assert_eq!(report.records, 201);
        drop(log);
        assert!(!std::fs::read(&path).expect("read").contains(&0));
        assert_eq!(crate::verify::verify(dir.path()).expect("verifies"), report);
    }

    #[tokio::test]
    async fn a_disabled_log_records_nothing() {
        let log = AuditLog::disabled();
        assert!(log.is_disabled());
        assert_eq!(log.append(b"{}".to_vec()).await.expect("append"), 0);
    }
}
