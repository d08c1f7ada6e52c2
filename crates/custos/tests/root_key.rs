//! The root key as an operator meets it: a passphrase store opens only
//! with its passphrase (from the environment or a 0600 file), nothing in
//! the data directory opens it; the development key file is refused off
//! loopback unless allowed; and the server process keeps keys out of core
//! dumps and its files private.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{aws_kms, create_key, start_server_with};

const PASSPHRASE: &str = "correct horse battery staple";

/// `custos server` that is expected to refuse to start: its stderr.
fn refused(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(args)
        .envs(envs.iter().copied())
        .env("CUSTOS_LOG", "warn")
        .output()
        .expect("custos runs");
    assert!(!out.status.success(), "it started: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_passphrase_store_opens_only_with_its_passphrase() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let home = tempfile::tempdir().expect("home");
    let server = start_server_with(
        tempfile::tempdir().expect("data"),
        &["--root-key", "passphrase"],
        &[("CUSTOS_ROOT_PASSPHRASE", PASSPHRASE)],
    );
    assert!(
        server
            .banner
            .iter()
            .any(|l| l.trim() == "root key: passphrase"),
        "{:?}",
        server.banner
    );
    let key = create_key(&server, home.path());
    // The bootstrap secret is printed once, at the first start.
    let secret = server.env["AWS_SECRET_ACCESS_KEY"].clone();
    let plain = home.path().join("plain");
    std::fs::write(&plain, b"hello").expect("write");
    let plain_arg = format!("fileb://{}", plain.display());
    let blob = aws_kms(
        &server,
        home.path(),
        &["encrypt", "--key-id", &key, "--plaintext", &plain_arg],
    )["CiphertextBlob"]
        .as_str()
        .expect("ciphertext")
        .to_owned();
    let blob_file = home.path().join("blob");
    std::fs::write(&blob_file, b64.decode(&blob).expect("base64")).expect("write");
    let blob_arg = format!("fileb://{}", blob_file.display());
    let dir = server.stop_gracefully();
    // No key file: nothing in the directory opens the store.
    assert!(!dir.path().join("root.key").exists());

    // The wrong passphrase, none, or the development key: refused.
    let wrong = refused(
        dir.path(),
        &["--root-key", "passphrase"],
        &[("CUSTOS_ROOT_PASSPHRASE", "correct horse battery stable")],
    );
    assert!(wrong.contains("does not unwrap"), "{wrong}");
    let missing = refused(dir.path(), &["--root-key", "passphrase"], &[]);
    assert!(missing.contains("CUSTOS_ROOT_PASSPHRASE"), "{missing}");
    let other = refused(dir.path(), &[], &[]);
    assert!(other.contains("--root-key"), "{other}");
    assert!(!dir.path().join("root.key").exists());

    // The right one, from a private file (with the newline an editor
    // leaves): every ciphertext decrypts.
    let file = home.path().join("passphrase");
    std::fs::write(&file, format!("{PASSPHRASE}\n")).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let loose = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--root-key",
            "passphrase",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--root-passphrase-file")
        .arg(&file)
        .output()
        .expect("custos runs");
    assert!(!loose.status.success());
    assert!(
        String::from_utf8_lossy(&loose.stderr).contains("chmod 600"),
        "{loose:?}"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let file_arg = file.to_str().expect("utf-8 path");
    let mut server = start_server_with(
        dir,
        &[
            "--root-key",
            "passphrase",
            "--root-passphrase-file",
            file_arg,
        ],
        &[],
    );
    server
        .env
        .insert("AWS_SECRET_ACCESS_KEY".to_owned(), secret);
    let back = aws_kms(
        &server,
        home.path(),
        &["decrypt", "--ciphertext-blob", &blob_arg],
    )["Plaintext"]
        .as_str()
        .expect("plaintext")
        .to_owned();
    assert_eq!(b64.decode(back).expect("base64"), b"hello");
}

#[test]
fn the_development_key_file_is_refused_off_loopback_unless_allowed_explicitly() {
    let dir = tempfile::tempdir().expect("data");
    let out = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["server", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("custos runs");
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("only on a loopback address"), "{said}");
    assert!(
        !dir.path().join("custos.redb").exists(),
        "nothing was created"
    );

    // Allowed explicitly, it starts, and says the key is unsafe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args([
            "server",
            "--listen",
            "0.0.0.0:0",
            "--allow-development-root-key",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .env("CUSTOS_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("custos runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut banner = Vec::new();
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
        let line = line.expect("line");
        let started = line.starts_with("export AWS_ENDPOINT_URL_KMS=");
        banner.push(line);
        if started {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        banner
            .iter()
            .any(|l| l.contains("UNSAFE development key file")),
        "{banner:?}"
    );
}

#[test]
fn keys_stay_out_of_core_dumps_and_files_stay_private() {
    let server = start_server_with(tempfile::tempdir().expect("data"), &[], &[]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).expect("limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .expect("core line");
    assert_eq!(
        core.split_whitespace().skip(4).take(2).collect::<Vec<_>>(),
        ["0", "0"],
        "{core}"
    );
    let dir = server.stop_gracefully();
    let mut seen = 0;
    let mut stack = vec![dir.path().to_owned()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::metadata(&path).expect("meta");
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", path.display());
        seen += 1;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read_dir") {
                stack.push(entry.expect("entry").path());
            }
        }
    }
    // The store, the key file, TLS, the audit log and its keys at least.
    assert!(seen >= 8, "{seen} entries");
}

/// Locked memory, from the kernel's account of the process (kB).
fn locked_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmLck line")
}

#[test]
fn the_open_files_limit_is_raised_to_the_hard_limit() {
    let limits = |pid: u32| -> (String, String) {
        let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
        let line = text
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .expect("open files line")
            .to_owned();
        let mut fields = line.split_whitespace().skip(3);
        (
            fields.next().expect("soft").to_owned(),
            fields.next().expect("hard").to_owned(),
        )
    };
    // A shell's soft limit of 512, as a service manager may hand down.
    let dir = tempfile::tempdir().expect("data");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -S -n 512 && exec {} server --listen 127.0.0.1:0 --data-dir {}",
            env!("CARGO_BIN_EXE_custos"),
            dir.path().display()
        ))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sh runs");
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut first,
    )
    .expect("banner");
    assert!(first.starts_with("Custos"), "{first}");
    let (soft, hard) = limits(child.id());
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(soft, hard, "soft {soft}, hard {hard}");
    assert_ne!(soft, "512");
}

#[test]
fn with_mlock_the_servers_memory_is_locked_and_it_serves() {
    let home = tempfile::tempdir().expect("home");
    let plain = start_server_with(tempfile::tempdir().expect("data"), &[], &[]);
    assert_eq!(locked_kb(plain.pid()), 0);
    drop(plain);
    let locked = start_server_with(tempfile::tempdir().expect("data"), &["--mlock"], &[]);
    // At least the binary and the heap: far more than a page or two.
    assert!(
        locked_kb(locked.pid()) > 1024,
        "{}",
        locked_kb(locked.pid())
    );
    create_key(&locked, home.path());
}

/// Encrypts `text` under a new key with the AWS CLI; the ciphertext's
/// file (in `home`).
fn encrypt_to_file(server: &common::Server, home: &Path, text: &[u8]) -> std::path::PathBuf {
    use base64::Engine as _;
    let key = create_key(server, home);
    let plain = home.join("plain");
    std::fs::write(&plain, text).expect("write");
    let blob = aws_kms(
        server,
        home,
        &[
            "encrypt",
            "--key-id",
            &key,
            "--plaintext",
            &format!("fileb://{}", plain.display()),
        ],
    )["CiphertextBlob"]
        .as_str()
        .expect("ciphertext")
        .to_owned();
    let blob_file = home.join("blob");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&blob)
        .expect("base64");
    std::fs::write(&blob_file, bytes).expect("write");
    blob_file
}

/// What the AWS CLI's Decrypt of the ciphertext in `blob_file` gives.
fn decrypt_file(server: &common::Server, home: &Path, blob_file: &Path) -> Vec<u8> {
    use base64::Engine as _;
    let back = aws_kms(
        server,
        home,
        &[
            "decrypt",
            "--ciphertext-blob",
            &format!("fileb://{}", blob_file.display()),
        ],
    )["Plaintext"]
        .as_str()
        .expect("plaintext")
        .to_owned();
    base64::engine::general_purpose::STANDARD
        .decode(back)
        .expect("base64")
}

/// Starts a server on a new data directory with the root key of `args`
/// and `env`, checks the banner names `kind`, encrypts under a new key,
/// stops it, starts it again the same way and checks the ciphertext
/// decrypts; returns the data directory, stopped.
fn encrypt_restart_decrypt(
    kind: &str,
    args: &[&str],
    env: &[(&str, &str)],
    home: &Path,
) -> tempfile::TempDir {
    let server = start_server_with(tempfile::tempdir().expect("data"), args, env);
    let banner = format!("root key: {kind}");
    assert!(
        server.banner.iter().any(|l| l.trim() == banner),
        "{:?}",
        server.banner
    );
    let blob_file = encrypt_to_file(&server, home, b"under the root key");
    // The bootstrap secret is printed once, at the first start.
    let secret = server.env["AWS_SECRET_ACCESS_KEY"].clone();
    let dir = server.stop_gracefully();
    assert!(!dir.path().join("root.key").exists());

    let mut server = start_server_with(dir, args, env);
    server
        .env
        .insert("AWS_SECRET_ACCESS_KEY".to_owned(), secret);
    assert_eq!(
        decrypt_file(&server, home, &blob_file),
        b"under the root key"
    );
    server.stop_gracefully()
}

#[test]
fn a_store_whose_root_key_is_in_another_custos_unseals_itself_through_it() {
    let home = tempfile::tempdir().expect("home");
    // Custos A holds the root key.
    let root = common::start_server();
    let root_key = create_key(&root, home.path());
    let to_root: Vec<(&str, &str)> = [
        "AWS_ENDPOINT_URL_KMS",
        "AWS_CA_BUNDLE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
    ]
    .iter()
    .map(|k| (*k, root.env[*k].as_str()))
    .collect();
    let kms_args = ["--root-key", "kms", "--root-key-id", root_key.as_str()];

    // Custos B's store key is wrapped by A's key; restarted, B unseals
    // itself through A and decrypts what it made.
    let dir = encrypt_restart_decrypt("kms", &kms_args, &to_root, home.path());

    // Without A's consent (the key disabled), B stays shut and says why.
    aws_kms(&root, home.path(), &["disable-key", "--key-id", &root_key]);
    let shut = refused(dir.path(), &kms_args, &to_root);
    assert!(shut.contains("DisabledException"), "{shut}");
    // Nor with another key of A's: the store key does not unwrap.
    let other = create_key(&root, home.path());
    let other_args = ["--root-key", "kms", "--root-key-id", other.as_str()];
    let wrong = refused(dir.path(), &other_args, &to_root);
    assert!(wrong.contains("does not unwrap"), "{wrong}");
}

/// A SoftHSM2 token of its own (`SOFTHSM2_CONF` names a directory of the
/// test's), initialised with `softhsm2-util`, holding one AES-256 key made
/// inside the token by `pkcs11-tool` (sensitive, never extractable), as an
/// HSM's operators would make it. `scripts/test` installs both tools.
struct SoftHsm {
    dir: tempfile::TempDir,
}

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const USER_PIN: &str = "1234-user-pin";

impl SoftHsm {
    fn new() -> SoftHsm {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("tokens")).expect("tokens");
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .expect("conf");
        let hsm = SoftHsm { dir };
        hsm.run(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                "custos",
                "--so-pin",
                "5678",
                "--pin",
                USER_PIN,
            ],
        );
        hsm.make_aes_key("custos-root");
        hsm
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = Command::new(tool)
            .args(args)
            .env("SOFTHSM2_CONF", self.conf())
            .output()
            .unwrap_or_else(|e| {
                panic!("{tool} runs (scripts/test installs softhsm2 and opensc): {e}")
            });
        assert!(out.status.success(), "{tool}: {out:?}");
    }

    /// An AES-256 key made inside the token (sensitive, never
    /// extractable), labelled `label`.
    fn make_aes_key(&self, label: &str) {
        self.run(
            "pkcs11-tool",
            &[
                "--module",
                SOFTHSM_MODULE,
                "--token-label",
                "custos",
                "--login",
                "--pin",
                USER_PIN,
                "--keygen",
                "--key-type",
                "AES:32",
                "--label",
                label,
                "--sensitive",
            ],
        );
    }

    fn conf(&self) -> String {
        self.dir.path().join("softhsm2.conf").display().to_string()
    }
}

#[test]
fn a_store_whose_root_key_is_in_an_hsm_unseals_itself_with_the_token() {
    let home = tempfile::tempdir().expect("home");
    let hsm = SoftHsm::new();
    let conf = hsm.conf();
    let args = [
        "--root-key",
        "pkcs11",
        "--pkcs11-module",
        SOFTHSM_MODULE,
        "--pkcs11-token",
        "custos",
        "--pkcs11-key",
        "custos-root",
    ];
    let env = [
        ("SOFTHSM2_CONF", conf.as_str()),
        ("CUSTOS_PKCS11_PIN", USER_PIN),
    ];
    // Restarted, it unseals itself with the token and decrypts.
    let dir = encrypt_restart_decrypt("pkcs11", &args, &env, home.path());

    // A wrong PIN, or a key the token does not hold: shut, saying why.
    let wrong_pin = refused(
        dir.path(),
        &args,
        &[
            ("SOFTHSM2_CONF", conf.as_str()),
            ("CUSTOS_PKCS11_PIN", "0000-wrong"),
        ],
    );
    assert!(wrong_pin.contains("cannot log in"), "{wrong_pin}");
    let mut other = args.to_vec();
    other[7] = "no-such-key";
    let missing = refused(dir.path(), &other, &env);
    assert!(missing.contains("no secret key labelled"), "{missing}");
    // Another AES key of the token does not unwrap the store key.
    hsm.make_aes_key("another");
    other[7] = "another";
    let wrong = refused(dir.path(), &other, &env);
    assert!(wrong.contains("does not unwrap"), "{wrong}");
}

/// `custos <args>` with `stdin` as its input (shares, say).
fn custos_with_input(args: &[&std::ffi::OsStr], stdin: &str) -> std::process::Output {
    custos_with_input_and_env(args, &[], stdin)
}

/// [`custos_with_input`] with environment variables.
fn custos_with_input_and_env(
    args: &[&std::ffi::OsStr],
    envs: &[(&str, &str)],
    stdin: &str,
) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("custos runs");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).expect("write input");
    drop(input);
    child.wait_with_output().expect("custos ends")
}

/// `custos operator <args> --data-dir <dir>`, with `stdin` as its input.
fn operator(dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut all: Vec<&std::ffi::OsStr> = vec!["operator".as_ref()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    all.extend(["--data-dir".as_ref(), dir.as_os_str()]);
    custos_with_input(&all, stdin)
}

/// `custos operator init` into a new data directory: the directory, the
/// shares, and the bootstrap credentials it printed.
fn init_shares(
    shares: u8,
    threshold: u8,
) -> (tempfile::TempDir, Vec<String>, Vec<(String, String)>) {
    let dir = tempfile::tempdir().expect("data");
    let out = operator(
        dir.path(),
        &[
            "init",
            "--shares",
            &shares.to_string(),
            "--threshold",
            &threshold.to_string(),
        ],
        "",
    );
    assert!(out.status.success(), "init: {out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let shares = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Share ")?
                .split_once(": ")
                .map(|(_, s)| s.to_owned())
        })
        .collect();
    let env = text
        .lines()
        .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    (dir, shares, env)
}

/// Enters `share`; what `custos operator unseal` printed, and its stderr.
fn unseal(dir: &Path, share: &str) -> (bool, String, String) {
    let out = operator(dir, &["unseal"], &format!("{share}\n"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether a KMS request is refused as AWS refuses an unavailable key.
fn refused_as_sealed(server: &common::Server, home: &Path) -> bool {
    let out = common::with_env("aws", Some(server), home)
        .env("AWS_MAX_ATTEMPTS", "1")
        .args(["kms", "list-keys"])
        .output()
        .expect("aws runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    !out.status.success() && stderr.contains("KeyUnavailableException") && stderr.contains("sealed")
}

#[test]
fn a_shares_store_starts_sealed_and_opens_with_any_three_of_its_five_shares() {
    let home = tempfile::tempdir().expect("home");
    let (dir, shares, creds) = init_shares(5, 3);
    assert_eq!(shares.len(), 5);
    let (_, foreign, _) = init_shares(5, 3);

    let mut server = start_server_with(dir, &["--root-key", "shares"], &[]);
    server.env.extend(creds);
    assert!(
        server.banner.iter().any(|l| l.trim() == "root key: shares")
            && server.banner.iter().any(|l| l.starts_with("# SEALED")),
        "{:?}",
        server.banner
    );
    let data = server.data_dir().to_owned();
    assert!(refused_as_sealed(&server, home.path()));
    let status = operator(&data, &["status"], "");
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "sealed (root key: shares); unseal progress 0/3 (5 shares exist)"
    );

    // A mistyped share, another installation's and a repeated one are
    // named and not counted.
    let mut typo = shares[0].clone();
    typo.replace_range(20..21, if &typo[20..21] == "a" { "b" } else { "a" });
    let (ok, _, err) = unseal(&data, &typo);
    assert!(!ok && err.contains("mistyped"), "{err}");
    let (ok, _, err) = unseal(&data, &foreign[1]);
    assert!(
        !ok && err.contains("share 2 is not one of this installation's shares"),
        "{err}"
    );
    let (ok, said, _) = unseal(&data, &shares[0]);
    assert!(
        ok && said.ends_with("progress 1/3 (5 shares exist)"),
        "{said}"
    );
    let (ok, _, err) = unseal(&data, &shares[0]);
    assert!(!ok && err.contains("share 1 was already entered"), "{err}");
    let (ok, said, _) = unseal(&data, &shares[2]);
    assert!(ok && said.contains("progress 2/3"), "{said}");
    // Two shares open nothing.
    assert!(refused_as_sealed(&server, home.path()));
    let (ok, said, _) = unseal(&data, &shares[4]);
    assert!(ok && said == "unsealed (root key: shares)", "{said}");

    let blob_file = encrypt_to_file(&server, home.path(), b"behind three shares");
    let decrypts = |server: &common::Server| {
        decrypt_file(server, home.path(), &blob_file) == b"behind three shares"
    };
    assert!(decrypts(&server));

    // Sealed by an operator: refused again until three more shares.
    let sealed = operator(&data, &["seal"], "");
    assert!(sealed.status.success(), "{sealed:?}");
    assert!(refused_as_sealed(&server, home.path()));
    for share in [&shares[1], &shares[3]] {
        assert!(unseal(&data, share).0);
    }
    assert!(refused_as_sealed(&server, home.path()));
    assert!(unseal(&data, &shares[4]).0);
    assert!(decrypts(&server));

    // A restart starts sealed; yet another three open it.
    let creds: Vec<(String, String)> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .map(|k| ((*k).to_owned(), server.env[*k].clone()))
        .collect();
    let dir = server.stop_gracefully();
    assert!(
        !dir.path()
            .join(custos_server::operator::SOCKET_NAME)
            .exists()
    );
    let mut server = start_server_with(dir, &["--root-key", "shares"], &[]);
    server.env.extend(creds);
    let data = server.data_dir().to_owned();
    assert!(refused_as_sealed(&server, home.path()));
    for share in &shares[..3] {
        assert!(unseal(&data, share).0);
    }
    assert!(decrypts(&server));

    // A backup, taken online; restored elsewhere, it opens only with
    // shares of this installation, and a restored server starts sealed.
    let backup = home.path().join("custos.backup");
    let taken = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["backup", "--data-dir"])
        .arg(&data)
        .arg("--out")
        .arg(&backup)
        .output()
        .expect("custos runs");
    assert!(taken.status.success(), "{taken:?}");
    let restore = |target: &Path, input: &str| {
        custos_with_input(
            &[
                "restore".as_ref(),
                "--from".as_ref(),
                backup.as_os_str(),
                "--data-dir".as_ref(),
                target.as_os_str(),
            ],
            input,
        )
    };
    let elsewhere = tempfile::tempdir().expect("restore target");
    let two = restore(elsewhere.path(), &format!("{}\n{}\n", shares[0], shares[4]));
    assert!(
        String::from_utf8_lossy(&two.stderr).contains("3 of them are needed, 2 were given"),
        "{two:?}"
    );
    let wrong = restore(elsewhere.path(), &format!("{}\n", foreign[0]));
    assert!(!wrong.status.success());
    let three = restore(
        elsewhere.path(),
        &format!("{}\n{}\n{}\n", shares[0], shares[2], shares[4]),
    );
    assert!(three.status.success(), "{three:?}");

    // Nothing in the data directory is a share or the root key: the
    // audit log records the operators' seals and unseals, by user id.
    let server_env = server.env.clone();
    let dir = server.stop_gracefully();
    let verified = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["audit", "verify", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("custos runs");
    assert!(verified.status.success(), "{verified:?}");
    let mut log = Vec::new();
    for entry in std::fs::read_dir(dir.path().join("audit")).expect("audit dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "log") {
            log.extend(std::fs::read(&path).expect("read log"));
        }
    }
    let log = String::from_utf8_lossy(&log);
    assert_eq!(log.matches(r#""eventName":"Unseal""#).count(), 3);
    assert_eq!(log.matches(r#""eventName":"Seal""#).count(), 1);
    assert!(log.contains(r#""principalId":"uid:"#));
    for file in common::tree(dir.path()) {
        let bytes = std::fs::read(dir.path().join(&file)).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        for share in &shares {
            // The share's value, in hex as printed and as raw bytes.
            let hex_part = &share["custos-share-1-".len() + 4..share.len() - 8];
            let raw = hex::decode(hex_part).expect("hex");
            assert!(!text.contains(hex_part), "{file}");
            assert!(!bytes.windows(raw.len()).any(|w| w == raw), "{file}");
        }
    }
    let creds: Vec<(String, String)> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .map(|k| ((*k).to_owned(), server_env[*k].clone()))
        .collect();
    let mut restored = start_server_with(elsewhere, &["--root-key", "shares"], &[]);
    restored.env.extend(creds);
    let data = restored.data_dir().to_owned();
    assert!(refused_as_sealed(&restored, home.path()));
    for share in &shares[1..4] {
        assert!(unseal(&data, share).0);
    }
    assert!(decrypts(&restored));
}

/// `custos operator rekey --data-dir <dir> <args>`, with the current
/// root key's variables in `envs` and shares on `stdin`.
fn rekey(dir: &Path, args: &[&str], envs: &[(&str, &str)], stdin: &str) -> std::process::Output {
    let mut all: Vec<&std::ffi::OsStr> = vec!["operator".as_ref(), "rekey".as_ref()];
    all.extend(["--data-dir".as_ref(), dir.as_os_str()]);
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    custos_with_input_and_env(&all, envs, stdin)
}

#[test]
fn a_rekey_moves_the_store_between_providers_and_every_ciphertext_still_decrypts() {
    let home = tempfile::tempdir().expect("home");
    let server = start_server_with(
        tempfile::tempdir().expect("data"),
        &["--root-key", "passphrase"],
        &[("CUSTOS_ROOT_PASSPHRASE", PASSPHRASE)],
    );
    let blob_file = encrypt_to_file(&server, home.path(), b"through two rekeys");
    let creds: Vec<(String, String)> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .iter()
        .map(|k| ((*k).to_owned(), server.env[*k].clone()))
        .collect();
    let dir = server.stop_gracefully();
    // The wrong current passphrase changes nothing.
    let wrong = rekey(
        dir.path(),
        &["--to", "shares", "--shares", "3", "--threshold", "2"],
        &[
            ("CUSTOS_ROOT_KEY", "passphrase"),
            ("CUSTOS_ROOT_PASSPHRASE", "correct horse battery stable"),
        ],
        "",
    );
    assert!(!wrong.status.success(), "{wrong:?}");
    // Passphrase → 2-of-3 shares.
    let to_shares = rekey(
        dir.path(),
        &["--to", "shares", "--shares", "3", "--threshold", "2"],
        &[
            ("CUSTOS_ROOT_KEY", "passphrase"),
            ("CUSTOS_ROOT_PASSPHRASE", PASSPHRASE),
        ],
        "",
    );
    assert!(to_shares.status.success(), "{to_shares:?}");
    // The TLS key moved out of the seal (it must serve while sealed);
    // the CA clients trust did not change.
    let tls = dir.path().join("tls");
    assert!(tls.join("server-key.pem").exists() && !tls.join("server-key.sealed").exists());
    let ca = std::fs::read(tls.join("ca.pem")).expect("ca");
    let text = String::from_utf8(to_shares.stdout).expect("utf-8");
    let shares: Vec<String> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("Share ")?
                .split_once(": ")
                .map(|(_, s)| s.to_owned())
        })
        .collect();
    assert_eq!(shares.len(), 3, "{text}");
    // The old passphrase opens nothing now.
    let old = refused(
        dir.path(),
        &["--root-key", "passphrase"],
        &[("CUSTOS_ROOT_PASSPHRASE", PASSPHRASE)],
    );
    assert!(old.contains("shares"), "{old}");
    let mut server = start_server_with(dir, &["--root-key", "shares"], &[]);
    server.env.extend(creds.clone());
    let data = server.data_dir().to_owned();
    for share in &shares[1..] {
        assert!(unseal(&data, share).0);
    }
    assert_eq!(
        decrypt_file(&server, home.path(), &blob_file),
        b"through two rekeys"
    );
    let dir = server.stop_gracefully();

    // Shares → a new passphrase: two of the shares authorise it.
    let one = rekey(
        dir.path(),
        &["--to", "passphrase"],
        &[("CUSTOS_NEW_ROOT_PASSPHRASE", "a new and longer passphrase")],
        &format!("{}\n", shares[0]),
    );
    assert!(
        String::from_utf8_lossy(&one.stderr).contains("2 of them are needed, 1 were given"),
        "{one:?}"
    );
    let back = rekey(
        dir.path(),
        &["--to", "passphrase"],
        &[("CUSTOS_NEW_ROOT_PASSPHRASE", "a new and longer passphrase")],
        &format!("{}\n{}\n", shares[0], shares[2]),
    );
    assert!(back.status.success(), "{back:?}");
    assert!(!tls.join("server-key.pem").exists() && tls.join("server-key.sealed").exists());
    assert_eq!(std::fs::read(tls.join("ca.pem")).expect("ca"), ca);
    let mut server = start_server_with(
        dir,
        &["--root-key", "passphrase"],
        &[("CUSTOS_ROOT_PASSPHRASE", "a new and longer passphrase")],
    );
    server.env.extend(creds);
    assert_eq!(
        decrypt_file(&server, home.path(), &blob_file),
        b"through two rekeys"
    );
}
