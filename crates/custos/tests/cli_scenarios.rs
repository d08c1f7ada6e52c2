//! The behaviour of `custos encrypt|decrypt|inspect`, pinned by scenario
//! files: `tests/scenarios/*.toml`, one situation each, run in a fresh
//! directory with local keys only (no server).
//!
//! A scenario is a list of `[[step]]`s, each one of:
//!
//! - `run = "encrypt -i a -o b …"`: runs `custos` with these arguments
//!   (split on whitespace), optionally with `stdin = "<file>"` and
//!   `stdout_file = "<file>"` (stdout saved there). Checks `status`
//!   (default 0), and `stdout` / `stderr` exactly or
//!   `stdout_contains` / `stderr_contains`;
//! - `exists = [..]`, `absent = [..]`: files that must (not) exist;
//!   `same = ["a", "b"]`: two files with equal contents; `listing = ["dir",
//!   [..]]`: the files under `dir`, exactly; `mode = ["file", "600"]`;
//! - `flip = ["file", offset]` (negative: from the end), `truncate =
//!   ["file", length]` (negative: drop that many), `chmod = ["file",
//!   "644"]`, `write = ["file", "text"]`: change files between runs.
//!
//! Every directory starts with: `plain.txt` (text), `big.bin` (300 kB),
//! `empty`, `tree/` (`a.txt`, `sub/b.txt`, `sub/deeper/c.bin`), `aes.key` and
//! `other.key` (32 random bytes, mode 0600), `rsa-private.pem` (mode 0600)
//! and `rsa-public.pem`.

mod common;

use std::path::Path;
use std::process::Stdio;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[allow(dead_code, reason = "documentation for readers of the file")]
    description: String,
    step: Vec<Step>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Step {
    run: Option<String>,
    stdin: Option<String>,
    stdout_file: Option<String>,
    status: Option<i32>,
    stdout: Option<String>,
    stderr: Option<String>,
    stdout_contains: Vec<String>,
    stderr_contains: Vec<String>,
    exists: Vec<String>,
    absent: Vec<String>,
    same: Vec<String>,
    listing: Option<(String, Vec<String>)>,
    mode: Option<(String, String)>,
    flip: Option<(String, i64)>,
    truncate: Option<(String, i64)>,
    chmod: Option<(String, String)>,
    write: Option<(String, String)>,
}

fn fixtures(dir: &Path) {
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, bytes).expect("write fixture");
    };
    write(
        "plain.txt",
        b"The quick brown fox jumps over the lazy dog.\n",
    );
    write("big.bin", &common::data(300_000, 1));
    write("empty", b"");
    write("tree/a.txt", b"a\n");
    write("tree/sub/b.txt", b"b\n");
    write("tree/sub/deeper/c.bin", &common::data(10_000, 2));
    write("aes.key", &common::data(32, 3));
    write("other.key", &common::data(32, 4));
    let key = custos_crypto::rsa::RsaPrivateKey::generate(2048).expect("rsa key");
    let private = key.to_pkcs8_der().expect("der");
    let public = key.public_key().to_der().expect("der");
    write(
        "rsa-private.pem",
        pem("PRIVATE KEY", private.expose_secret()).as_bytes(),
    );
    write("rsa-public.pem", pem("PUBLIC KEY", &public).as_bytes());
    for secret in ["aes.key", "other.key", "rsa-private.pem"] {
        chmod(&dir.join(secret), "600");
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn chmod(path: &Path, mode: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = u32::from_str_radix(mode, 8).expect("octal mode");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

fn run_scenario(name: &str, scenario: &Scenario) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let home = tempfile::tempdir().expect("home");
    fixtures(dir);
    for (i, step) in scenario.step.iter().enumerate() {
        let at = format!("{name} step {}", i + 1);
        run_step(dir, home.path(), step).map_err(|e| format!("{at}: {e}"))?;
    }
    Ok(())
}

fn run_step(dir: &Path, home: &Path, step: &Step) -> Result<(), String> {
    if let Some(args) = &step.run {
        let args: Vec<&str> = args.split_whitespace().collect();
        let mut cmd = common::with_env(env!("CARGO_BIN_EXE_custos"), None, home);
        cmd.current_dir(dir).args(&args).stdout(Stdio::piped());
        match &step.stdin {
            Some(f) => cmd.stdin(std::fs::File::open(dir.join(f)).map_err(|e| e.to_string())?),
            None => cmd.stdin(Stdio::null()),
        };
        let out = cmd.output().map_err(|e| e.to_string())?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = format!(
            "`custos {}`\nstdout: {stdout}\nstderr: {stderr}",
            args.join(" ")
        );
        let status = step.status.unwrap_or(0);
        if out.status.code() != Some(status) {
            return Err(format!(
                "exit {:?}, expected {status}: {shown}",
                out.status.code()
            ));
        }
        if let Some(f) = &step.stdout_file {
            std::fs::write(dir.join(f), &out.stdout).map_err(|e| e.to_string())?;
        }
        if let Some(expected) = &step.stdout
            && stdout != *expected
        {
            return Err(format!("stdout differs: expected {expected:?}: {shown}"));
        }
        if let Some(expected) = &step.stderr
            && stderr != *expected
        {
            return Err(format!("stderr differs: expected {expected:?}: {shown}"));
        }
        for s in &step.stdout_contains {
            if !stdout.contains(s.as_str()) {
                return Err(format!("stdout lacks {s:?}: {shown}"));
            }
        }
        for s in &step.stderr_contains {
            if !stderr.contains(s.as_str()) {
                return Err(format!("stderr lacks {s:?}: {shown}"));
            }
        }
    }
    for f in &step.exists {
        if !dir.join(f).exists() {
            return Err(format!(
                "{f} does not exist; files: {:?}",
                common::tree(dir)
            ));
        }
    }
    for f in &step.absent {
        if dir.join(f).exists() {
            return Err(format!("{f} exists"));
        }
    }
    if let [a, b] = step.same.as_slice() {
        let read = |f: &str| std::fs::read(dir.join(f)).map_err(|e| format!("{f}: {e}"));
        if read(a)? != read(b)? {
            return Err(format!("{a} and {b} differ"));
        }
    } else if !step.same.is_empty() {
        return Err("same = [a, b] takes two files".into());
    }
    if let Some((d, expected)) = &step.listing {
        let found = common::tree(&dir.join(d));
        if found != *expected {
            return Err(format!("{d} holds {found:?}, expected {expected:?}"));
        }
    }
    #[cfg(unix)]
    if let Some((f, mode)) = &step.mode {
        use std::os::unix::fs::PermissionsExt as _;
        let found = std::fs::metadata(dir.join(f))
            .map_err(|e| format!("{f}: {e}"))?
            .permissions()
            .mode()
            & 0o777;
        if format!("{found:o}") != *mode {
            return Err(format!("{f} has mode {found:o}, expected {mode}"));
        }
    }
    if let Some((f, offset)) = &step.flip {
        let mut bytes = std::fs::read(dir.join(f)).map_err(|e| e.to_string())?;
        let i = if *offset < 0 {
            bytes.len() - offset.unsigned_abs() as usize
        } else {
            *offset as usize
        };
        bytes[i] ^= 0x01;
        std::fs::write(dir.join(f), bytes).map_err(|e| e.to_string())?;
    }
    if let Some((f, len)) = &step.truncate {
        let bytes = std::fs::read(dir.join(f)).map_err(|e| e.to_string())?;
        let keep = if *len < 0 {
            bytes.len() - len.unsigned_abs() as usize
        } else {
            *len as usize
        };
        std::fs::write(dir.join(f), &bytes[..keep]).map_err(|e| e.to_string())?;
    }
    if let Some((f, mode)) = &step.chmod {
        chmod(&dir.join(f), mode);
    }
    if let Some((f, text)) = &step.write {
        std::fs::write(dir.join(f), text).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[test]
fn scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .expect("tests/scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(file).expect("read scenario");
        let scenario: Scenario =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: bad scenario: {e}"));
        match run_scenario(&name, &scenario) {
            Ok(()) => println!("ok   {name}"),
            Err(e) => {
                println!("FAIL {e}");
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} scenario(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `custos decrypt -o - | head -c 1`: the reader closing the pipe early is
/// not a failure.
#[test]
fn a_closed_standard_output_is_success() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("home");
    fixtures(dir.path());
    let w = ["-w", "provider=raw-aes", "key-file=aes.key", "name=k"];
    let mut args = vec![
        "encrypt",
        "-i",
        "big.bin",
        "-o",
        "big.ct",
        "--algorithm",
        "0x0478",
    ];
    args.extend(w);
    let out = common::custos(None, home.path(), dir.path(), &args);
    common::ok(&out, "encrypt");
    let mut args = vec!["decrypt", "-i", "big.ct", "-o", "-"];
    args.extend(w);
    let mut child = common::with_env(env!("CARGO_BIN_EXE_custos"), None, home.path())
        .current_dir(dir.path())
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).expect("read");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `-o /dev/null` (or a FIFO) is written directly: it must never be
/// replaced by a renamed temporary file.
#[cfg(unix)]
#[test]
fn devices_are_written_not_replaced() {
    use std::os::unix::fs::FileTypeExt as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("home");
    fixtures(dir.path());
    let out = common::custos(
        None,
        home.path(),
        dir.path(),
        &[
            "encrypt",
            "-i",
            "big.bin",
            "-o",
            "/dev/null",
            "-w",
            "provider=raw-aes",
            "key-file=aes.key",
            "name=k",
        ],
    );
    common::ok(&out, "encrypt to /dev/null");
    let meta = std::fs::metadata("/dev/null").expect("/dev/null");
    assert!(meta.file_type().is_char_device());
}

#[test]
fn the_long_version_says_what_was_built_and_how() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_custos"))
        .arg("--version")
        .output()
        .expect("custos runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let expected_start = format!("custos {} (", env!("CARGO_PKG_VERSION"));
    assert!(text.starts_with(&expected_start), "{text}");
    // The commit (or that it is unknown), the compiler, the target.
    assert!(text.contains("commit "), "{text}");
    assert!(text.contains("; rustc "), "{text}");
    assert!(text.contains("-linux-"), "{text}");
}
