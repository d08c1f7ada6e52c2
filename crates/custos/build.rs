//! Build information for `custos --version`: the commit the binary was
//! built from (when built from a git checkout), the compiler, the target
//! and the profile.

use std::process::Command;

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = output("git", &["rev-parse", "--short=12", "HEAD"]).map_or_else(
        || "unknown commit".to_owned(),
        |c| {
            let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"]).is_some();
            format!("commit {c}{}", if dirty { ", modified" } else { "" })
        },
    );
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let compiler = output(&rustc, &["--version"]).unwrap_or_else(|| "rustc unknown".into());
    let target = std::env::var("TARGET").unwrap_or_default();
    let profile = std::env::var("PROFILE").unwrap_or_default();
    println!(
        "cargo:rustc-env=CUSTOS_BUILD_INFO={} ({commit}; {compiler}; {target}; {profile})",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default()
    );
    // Rebuilt when the checked-out commit changes, not on every build.
    for path in ["../../.git/HEAD", "../../.git/index"] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
