//! Where results are written: a temporary file renamed into place only on
//! success, standard output, or memory.
//!
//! A file output is first written to `.custos-XXXXXX.partial` in the
//! destination directory, created with mode 0600 whatever the umask, and
//! renamed over the destination only once the whole operation succeeded:
//! a failed decryption never leaves plaintext behind under the output name,
//! and a reader of the destination sees the old file or the complete new
//! one, never a mix. The temporary file is removed on failure, and on
//! SIGINT/SIGTERM ([`super::cleanup`]).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use zeroize::Zeroize;

use super::cleanup;
use super::paths::{TEMP_PREFIX, TEMP_SUFFIX};

/// An output file being written.
pub(crate) struct PendingFile {
    /// `None` only once committed.
    temp: Option<tempfile::NamedTempFile>,
    dest: PathBuf,
}

impl PendingFile {
    /// Creates the temporary file beside `dest` (and `dest`'s directory if
    /// it does not exist).
    pub(crate) fn create(dest: &Path) -> anyhow::Result<Self> {
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        cleanup::register(temp.path());
        Ok(Self {
            temp: Some(temp),
            dest: dest.to_owned(),
        })
    }

    pub(crate) fn file(&mut self) -> &mut File {
        // `temp` is `None` only after `commit`, which consumes `self`.
        self.temp
            .as_mut()
            .map(tempfile::NamedTempFile::as_file_mut)
            .expect("a pending file is not yet committed")
    }

    /// Renames the finished file into place, replacing what was there
    /// unless `no_clobber`.
    pub(crate) fn commit(mut self, no_clobber: bool) -> anyhow::Result<()> {
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let temp_path = temp.path().to_owned();
        let result = if no_clobber {
            temp.persist_noclobber(&self.dest)
        } else {
            temp.persist(&self.dest)
        };
        cleanup::unregister(&temp_path);
        // On failure the error holds the temporary file, removed as it
        // drops.
        result.map(drop).map_err(|e| e.error).with_context(|| {
            format!(
                "cannot rename the output into place as {}",
                self.dest.display()
            )
        })
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        // The temporary file removes itself; only the registration is ours.
        if let Some(temp) = &self.temp {
            cleanup::unregister(temp.path());
        }
    }
}

impl std::fmt::Debug for PendingFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFile")
            .field(
                "temp",
                &self.temp.as_ref().map(tempfile::NamedTempFile::path),
            )
            .field("dest", &self.dest)
            .finish()
    }
}

/// Opens a sink that is written directly: standard output, or an
/// existing device or FIFO.
pub(crate) fn open_stream(sink: &super::paths::Sink) -> anyhow::Result<File> {
    match sink {
        super::paths::Sink::Stream(path) => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display())),
        _ => stdout().context("cannot write standard output"),
    }
}

/// Standard output as an unbuffered file: the pipeline writes 1 MiB at a
/// time, and `Stdout`'s line buffering would only copy it around.
pub(crate) fn stdout() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        Ok(File::from(io::stdout().as_fd().try_clone_to_owned()?))
    }
    #[cfg(not(unix))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "standard output is supported on Unix only",
        ))
    }
}

/// Standard input as a file, read without an extra buffer.
pub(crate) fn stdin() -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?))
    }
    #[cfg(not(unix))]
    {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "standard input is supported on Unix only",
        ))
    }
}

/// Plaintext held in memory until it may be released (`--buffer`): grown
/// without leaving copies behind, wiped on drop.
#[derive(Default)]
pub(crate) struct SecretBuffer(Vec<u8>);

impl SecretBuffer {
    pub(crate) fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl Write for SecretBuffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.0.capacity() - self.0.len() < data.len() {
            let wanted = (self.0.len() + data.len()).max(self.0.capacity().saturating_mul(2));
            let mut bigger = Vec::with_capacity(wanted);
            bigger.extend_from_slice(&self.0);
            self.0.zeroize();
            self.0 = bigger;
        }
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for SecretBuffer {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBuffer({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_appears_only_on_commit() {
        let d = tempfile::tempdir().expect("tempdir");
        let dest = d.path().join("sub/out");
        let mut p = PendingFile::create(&dest).expect("create");
        p.file().write_all(b"secret").expect("write");
        assert!(!dest.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = p.file().metadata().expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        p.commit(false).expect("commit");
        assert_eq!(std::fs::read(&dest).expect("read"), b"secret");

        // Dropped without commit: nothing left at all.
        let mut p = PendingFile::create(&dest).expect("create");
        p.file().write_all(b"other").expect("write");
        drop(p);
        assert_eq!(std::fs::read(&dest).expect("read"), b"secret");
        assert_eq!(
            std::fs::read_dir(d.path().join("sub")).expect("ls").count(),
            1
        );

        // No clobbering when asked.
        let p = PendingFile::create(&dest).expect("create");
        assert!(p.commit(true).is_err());
        assert_eq!(std::fs::read(&dest).expect("read"), b"secret");
        assert_eq!(
            std::fs::read_dir(d.path().join("sub")).expect("ls").count(),
            1
        );
    }

    #[test]
    fn secret_buffer_collects_writes() {
        let mut b = SecretBuffer::default();
        for _ in 0..1000 {
            b.write_all(b"0123456789").expect("write");
        }
        assert_eq!(b.expose_secret().len(), 10_000);
        assert!(!format!("{b:?}").contains("0123"));
    }
}
