//! Removing temporary outputs when the process is interrupted.
//!
//! Partial outputs (which, when decrypting, hold plaintext that has not
//! been verified) live in temporary files that remove themselves when
//! dropped. A signal ends the process without running destructors, so the
//! paths of the temporary files are also registered here, and a watcher
//! thread removes them on SIGINT or SIGTERM before exiting with status
//! 128 + the signal number, as a shell would report.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn pending() -> std::sync::MutexGuard<'static, BTreeSet<PathBuf>> {
    // A panic while holding the lock leaves a usable set.
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn register(path: &Path) {
    pending().insert(path.to_owned());
}

pub(crate) fn unregister(path: &Path) {
    pending().remove(path);
}

/// Starts the watcher thread. Until it is started, signals kill the process
/// as usual.
pub(crate) fn install() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered here, before the thread starts, so that no signal is
        // missed in between.
        let (mut int, mut term) = runtime.block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::interrupt())?,
                signal(SignalKind::terminate())?,
            ))
        })?;
        std::thread::Builder::new()
            .name("custos-signals".into())
            .spawn(move || {
                let status = runtime.block_on(async {
                    tokio::select! {
                        _ = int.recv() => 130,
                        _ = term.recv() => 143,
                    }
                });
                for path in std::mem::take(&mut *pending()) {
                    let _ = std::fs::remove_file(path);
                }
                std::process::exit(status);
            })?;
    }
    #[cfg(not(unix))]
    drop(runtime);
    Ok(())
}
