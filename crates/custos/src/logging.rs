//! Where log lines go: standard error, through a bounded queue and a
//! thread of its own, so that a slow, full or closed standard error never
//! holds a request. When the queue is full, lines are dropped and counted,
//! and the count is written as soon as standard error takes lines again.
//!
//! Text by default, without colours unless standard error is a terminal;
//! `CUSTOS_LOG_FORMAT=json` writes one JSON object per line.

use std::io::{IsTerminal as _, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

/// Lines held for a slow standard error before new ones are dropped.
const QUEUE: usize = 4096;

/// A `MakeWriter` whose writers queue one event each.
#[derive(Clone)]
struct Lossy {
    tx: SyncSender<Vec<u8>>,
    dropped: Arc<AtomicU64>,
    /// Lines queued and not yet written.
    pending: Arc<AtomicU64>,
}

/// The writer of one event: the line is queued when it is dropped.
struct Line {
    buf: Vec<u8>,
    lossy: Lossy,
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.buf);
        self.lossy.pending.fetch_add(1, Ordering::SeqCst);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            self.lossy.tx.try_send(line)
        {
            self.lossy.pending.fetch_sub(1, Ordering::SeqCst);
            self.lossy.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lossy {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            buf: Vec::new(),
            lossy: self.clone(),
        }
    }
}

/// Writes queued lines to standard error; a failed write (a closed pipe)
/// loses the line, nothing more.
fn drain(rx: Receiver<Vec<u8>>, dropped: Arc<AtomicU64>, pending: Arc<AtomicU64>) {
    let mut stderr = std::io::stderr();
    for line in rx {
        let _written = Written(&pending);
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            let _ = writeln!(
                stderr,
                "custos: {lost} log lines were dropped (standard error was too slow)"
            );
        }
        let _ = stderr.write_all(&line);
    }
}

/// Counts a queued line as written when it goes, whatever happened.
struct Written<'a>(&'a AtomicU64);

impl Drop for Written<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Held by `main`: lets the lines queued so far reach standard error
/// before the process exits.
pub(crate) struct Flush(Arc<AtomicU64>);

impl Flush {
    /// Waits (at most a second: standard error may be stuck) until every
    /// queued line is written.
    pub(crate) fn wait(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        while self.0.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// Installs the global subscriber: level from `CUSTOS_LOG` (default
/// `info`), format from `CUSTOS_LOG_FORMAT` (`text` or `json`).
pub(crate) fn init() -> Flush {
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let pending = Arc::new(AtomicU64::new(0));
    let writer = Lossy {
        tx,
        dropped: Arc::clone(&dropped),
        pending: Arc::clone(&pending),
    };
    let flush = Flush(Arc::clone(&pending));
    let spawned = std::thread::Builder::new()
        .name("custos-log".into())
        .spawn(move || drain(rx, dropped, pending));
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let json = std::env::var("CUSTOS_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // Without its thread (it could not be made), log lines are written
    // directly: better slow than silent.
    match (spawned.is_ok(), json) {
        (true, true) => builder.json().with_writer(writer).init(),
        (true, false) => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(writer)
            .init(),
        (false, true) => builder.json().with_writer(std::io::stderr).init(),
        (false, false) => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init(),
    }
    flush
}
