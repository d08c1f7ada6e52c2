//! What several test binaries of the workspace share, so that each does
//! not carry its own copy: where the test Python is, and temporary mounts
//! for storage-fault tests. A dev-dependency only; nothing here is built
//! into Custos.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with boto3, the AWS CLI and the Encryption SDK that
/// `scripts/test` installs: `CUSTOS_PYTHON` (relative to the workspace
/// root, or absolute), else `CUSTOS_ESDK_PYTHON`, else the virtualenv in
/// `target/test-tools`. Panics, saying what to do, if there is none.
pub fn python() -> PathBuf {
    let root = workspace_root();
    for var in ["CUSTOS_PYTHON", "CUSTOS_ESDK_PYTHON"] {
        if let Some(p) = std::env::var_os(var) {
            let p = PathBuf::from(p);
            return if p.is_relative() { root.join(p) } else { p };
        }
    }
    let venv = root.join("target/test-tools/venv/bin/python");
    assert!(
        venv.exists(),
        "set CUSTOS_PYTHON to a Python with boto3 (scripts/test installs one)"
    );
    venv
}

/// A filesystem mounted for a test, unmounted (lazily) when dropped.
/// Mounting needs root (CAP_SYS_ADMIN).
#[derive(Debug)]
pub struct Mount {
    path: PathBuf,
}

fn mount(args: &[&str]) -> bool {
    Command::new("mount")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

impl Mount {
    /// A tmpfs of `size` (as `mount` takes it: `4m`) at `at`, or `None` if
    /// this machine cannot mount.
    pub fn tmpfs(at: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(at).expect("mount point");
        let options = format!("size={size},mode=0700");
        mount(&["-t", "tmpfs", "-o", &options, "tmpfs", utf8(at)]).then(|| Mount {
            path: at.to_owned(),
        })
    }

    /// A bind mount of `from` at `at`.
    pub fn bind(from: &Path, at: &Path) -> Mount {
        std::fs::create_dir_all(at).expect("mount point");
        assert!(mount(&["--bind", utf8(from), utf8(at)]), "bind mount");
        Mount {
            path: at.to_owned(),
        }
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remounts with `options` (`ro`, `rw`, `size=16m`, …); a bind mount's
    /// options need `bind,` first. Whether the kernel allowed it.
    pub fn remount(&self, options: &str) -> bool {
        mount(&["-o", &format!("remount,{options}"), utf8(&self.path)])
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Whether this machine was declared unable to mount
/// (`CUSTOS_SKIP_MOUNT_TESTS=1`): a mount test then skips rather than
/// fails; without the declaration it fails, so that it never passes
/// without testing anything.
pub fn mount_tests_skipped() -> bool {
    std::env::var("CUSTOS_SKIP_MOUNT_TESTS").is_ok_and(|v| v == "1")
}
