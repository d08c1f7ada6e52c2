//! Test rig shared by the file-encryption tests: the real `custos server`
//! on a free port (its printed `export` lines are the whole client
//! configuration), the official AWS CLI and `aws-encryption-cli` from the
//! test virtualenv, and `custos` itself.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the rig"
)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Server {
    child: Child,
    pub(crate) env: HashMap<String, String>,
    /// What it printed at start.
    pub(crate) banner: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Stops the server (SIGKILL, as a crash would) and hands back its data
    /// directory.
    pub(crate) fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self._dir, tempfile::tempdir().expect("tempdir"))
    }

    /// Stops the server as an operator would (SIGTERM: it finishes what is
    /// in flight and closes its logs) and hands back its data directory.
    #[allow(dead_code, reason = "not every test binary stops gracefully")]
    pub(crate) fn stop_gracefully(mut self) -> tempfile::TempDir {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        std::mem::replace(&mut self._dir, tempfile::tempdir().expect("tempdir"))
    }

    /// The server's data directory.
    pub(crate) fn data_dir(&self) -> &Path {
        self._dir.path()
    }

    /// The server's standard error, when it was piped.
    pub(crate) fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The account id, from the printed banner.
    pub(crate) fn account(&self) -> String {
        self.env["CUSTOS_TEST_ACCOUNT"].clone()
    }
}

/// Starts the binary on a free port and reads the `export` lines it prints.
pub(crate) fn start_server() -> Server {
    start_server_in(tempfile::tempdir().expect("tempdir"))
}

/// [`start_server`] on the data directory `dir` (a new one, or one a
/// stopped server left).
pub(crate) fn start_server_in(dir: tempfile::TempDir) -> Server {
    start_server_with(dir, &[], &[])
}

/// [`start_server_in`] with more flags and environment variables.
pub(crate) fn start_server_with(
    dir: tempfile::TempDir,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Server {
    start_server_logging_to(dir, args, envs, Stdio::inherit())
}

/// [`start_server_with`], its standard error going to `stderr` (a pipe
/// the test reads, or never reads). `envs` may set `CUSTOS_LOG`.
pub(crate) fn start_server_logging_to(
    dir: tempfile::TempDir,
    args: &[&str],
    envs: &[(&str, &str)],
    stderr: Stdio,
) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(args)
        .env("CUSTOS_LOG", "warn")
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn custos");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut env = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    // The banner ends with the secret, or, on a data directory that printed
    // it before, with a comment saying so.
    let mut done = false;
    let mut banner = Vec::new();
    while !done {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("custos printed its environment in time");
        };
        if let Some(account) = line
            .trim()
            .strip_prefix("account: ")
            .and_then(|l| l.split_whitespace().next())
        {
            env.insert("CUSTOS_TEST_ACCOUNT".to_owned(), account.to_owned());
        }
        if let Some((k, v)) = line.strip_prefix("export ").and_then(|l| l.split_once('=')) {
            env.insert(k.to_owned(), v.to_owned());
        }
        done = env.contains_key("AWS_SECRET_ACCESS_KEY")
            || line.starts_with("# AWS_SECRET_ACCESS_KEY:")
            || line.starts_with("# SEALED:");
        banner.push(line);
    }
    Server {
        child,
        env,
        banner,
        _dir: dir,
    }
}

/// A command with only the server's printed environment (and PATH, and a
/// private HOME so that no `~/.aws` of the machine leaks in).
pub(crate) fn with_env(
    program: impl AsRef<OsStr>,
    server: Option<&Server>,
    home: &Path,
) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home);
    if let Some(s) = server {
        for (k, v) in &s.env {
            if k.starts_with("AWS_") {
                c.env(k, v);
            }
        }
    }
    c
}

/// Runs `aws kms <args>` and returns its JSON output.
pub(crate) fn aws_kms(server: &Server, home: &Path, args: &[&str]) -> serde_json::Value {
    let out = with_env("aws", Some(server), home)
        .arg("kms")
        .args(args)
        .args(["--output", "json"])
        .output()
        .expect("the AWS CLI (`aws`) is installed: run scripts/test");
    assert!(
        out.status.success(),
        "aws kms {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }
}

/// Creates a KMS key and returns its ARN.
pub(crate) fn create_key(server: &Server, home: &Path) -> String {
    let created = aws_kms(server, home, &["create-key"]);
    created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("Arn")
        .to_owned()
}

/// `aws-encryption-cli`, which `scripts/test` installs into the test
/// virtualenv; the test fails (never skips) without it.
pub(crate) fn encryption_cli() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("aws-encryption-cli"))
            .find(|p| p.is_file())
    });
    found.expect(
        "aws-encryption-cli is not on the PATH: run scripts/test, which installs \
         aws-encryption-sdk-cli into target/test-tools/venv (remove that directory if it \
         predates the package)",
    )
}

/// Runs `custos <args>` in `cwd`.
pub(crate) fn custos(server: Option<&Server>, home: &Path, cwd: &Path, args: &[&str]) -> Output {
    with_env(env!("CARGO_BIN_EXE_custos"), server, home)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run custos")
}

/// Asserts success and returns stderr, for messages.
pub(crate) fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts failure (exit status 1) and returns stderr.
pub(crate) fn fails(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what} should fail with status 1; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Deterministic bytes that do not compress.
pub(crate) fn data(len: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The files under `dir`, relative, sorted.
pub(crate) fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("ls") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(dir)
                        .expect("under dir")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}
