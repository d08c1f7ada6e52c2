//! The development root-key provider: a 256-bit key in a file.
//!
//! The file is created on first use with mode 0600 and refused afterwards
//! if anyone but its owner can read or write it. Its format:
//!
//! ```text
//! custos-root-key v1 development
//! <64 hex digits>
//! ```

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use custos_crypto::{Key256, SecretBytes, aead};
use zeroize::Zeroizing;

use super::{RootKeyError, RootKeyProvider};

const HEADER: &str = "custos-root-key v1 development";
const WRAP_FORMAT: u8 = 1;

/// A root key read from a file.
pub struct FileProvider {
    key: Key256,
    path: PathBuf,
}

impl std::fmt::Debug for FileProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileProvider")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileProvider {
    /// Opens the key file at `path`, creating it with a fresh key if it does
    /// not exist.
    pub fn open_or_create(path: &Path) -> Result<Self, RootKeyError> {
        let shown = path.display().to_string();
        let io = |source| RootKeyError::Io {
            path: shown.clone(),
            source,
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(mut file) => {
                let key = Key256::generate()?;
                // Built in a zeroizing buffer: this text is the root key.
                let mut text = Zeroizing::new(String::with_capacity(HEADER.len() + 66));
                text.push_str(HEADER);
                text.push('\n');
                for b in key.expose_secret() {
                    text.push(char::from(HEX[usize::from(b >> 4)]));
                    text.push(char::from(HEX[usize::from(b & 15)]));
                }
                text.push('\n');
                file.write_all(text.as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                sync_parent(path).map_err(io)?;
                Ok(Self {
                    key,
                    path: path.to_owned(),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::open(path),
            Err(e) => Err(io(e)),
        }
    }

    /// Opens an existing key file.
    pub fn open(path: &Path) -> Result<Self, RootKeyError> {
        let shown = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| RootKeyError::Io {
            path: shown.clone(),
            source,
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(RootKeyError::Permissions { path: shown, mode });
        }
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| RootKeyError::Io {
                    path: shown.clone(),
                    source,
                })?,
            );
        let malformed = || RootKeyError::Malformed {
            path: shown.clone(),
        };
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err(malformed());
        }
        let hex = lines.next().ok_or_else(malformed)?.trim();
        let bytes = SecretBytes::new(hex_decode(hex).ok_or_else(malformed)?);
        let key = Key256::from_slice(bytes.expose_secret()).map_err(|_| malformed())?;
        Ok(Self {
            key,
            path: path.to_owned(),
        })
    }
}

impl RootKeyProvider for FileProvider {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn is_development(&self) -> bool {
        true
    }

    fn wrap(&self, store_key: &Key256, aad: &[u8]) -> Result<Vec<u8>, RootKeyError> {
        let nonce: [u8; aead::NONCE_LEN] = custos_crypto::rand::array()?;
        let mut out = vec![WRAP_FORMAT];
        out.extend_from_slice(&nonce);
        aead::seal_append(&self.key, &nonce, aad, store_key.expose_secret(), &mut out)?;
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<Key256, RootKeyError> {
        if wrapped.len() < 1 + aead::NONCE_LEN || wrapped[0] != WRAP_FORMAT {
            return Err(RootKeyError::WrongKey);
        }
        let mut nonce = [0u8; aead::NONCE_LEN];
        nonce.copy_from_slice(&wrapped[1..1 + aead::NONCE_LEN]);
        let key = aead::open(&self.key, &nonce, aad, &wrapped[1 + aead::NONCE_LEN..])
            .map_err(|_| RootKeyError::WrongKey)?;
        Ok(Key256::from_slice(key.expose_secret())?)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Makes a file creation durable: the directory entry must reach the disk too.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_reopens_and_wraps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("root.key");
        let p = FileProvider::open_or_create(&path).expect("create");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let store_key = Key256::generate().expect("rng");
        let wrapped = p.wrap(&store_key, b"aad").expect("wrap");
        let again = FileProvider::open_or_create(&path).expect("reopen");
        let back = again.unwrap(&wrapped, b"aad").expect("unwrap");
        assert_eq!(back.expose_secret(), store_key.expose_secret());
        assert!(matches!(
            again.unwrap(&wrapped, b"other"),
            Err(RootKeyError::WrongKey)
        ));
        let file = std::fs::read_to_string(&path).expect("read");
        let hex_key = file.lines().nth(1).expect("key line");
        assert_eq!(hex_key.len(), 64);
        assert!(!format!("{p:?}").contains(hex_key));
    }

    #[test]
    fn a_different_root_key_unwraps_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = FileProvider::open_or_create(&dir.path().join("a.key")).expect("a");
        let b = FileProvider::open_or_create(&dir.path().join("b.key")).expect("b");
        let wrapped = a
            .wrap(&Key256::generate().expect("rng"), b"")
            .expect("wrap");
        assert!(matches!(
            b.unwrap(&wrapped, b""),
            Err(RootKeyError::WrongKey)
        ));
    }

    #[test]
    fn refuses_files_others_can_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("root.key");
        FileProvider::open_or_create(&path).expect("create");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert!(matches!(
            FileProvider::open(&path),
            Err(RootKeyError::Permissions { mode: 0o640, .. })
        ));
    }

    #[test]
    fn refuses_malformed_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("root.key");
        std::fs::write(&path, "custos-root-key v1 development\nzz\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(matches!(
            FileProvider::open(&path),
            Err(RootKeyError::Malformed { .. })
        ));
    }
}
