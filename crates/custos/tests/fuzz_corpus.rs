//! Replays the fuzz corpus: every file of `fuzz/corpus/<target>/` through
//! the body of fuzz target `<target>`, compiled from the very file the
//! cargo-fuzz binaries use (`fuzz/src/targets.rs`). A file that makes a
//! parser panic, or breaks one of the properties the targets check, fails
//! this test with the file's path. It needs no nightly toolchain and no
//! libFuzzer; `docs/fuzzing.md` says how to fuzz for real.
//!
//! `write_seed_corpus` (ignored) writes the seeds into `fuzz/corpus/`
//! again; see `fuzz/src/seeds.rs`.

#[allow(unreachable_pub, dead_code, reason = "shared with the fuzz crate")]
#[path = "../../../fuzz/src/targets.rs"]
mod targets;

#[allow(unreachable_pub, reason = "shared with the fuzz crate")]
#[path = "../../../fuzz/src/seeds.rs"]
mod seeds;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus() -> PathBuf {
    repo().join("fuzz/corpus")
}

/// The files of `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_target_has_a_corpus_and_a_binary() {
    let mut binaries: Vec<String> = files(&repo().join("fuzz/fuzz_targets"))
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
        .collect();
    binaries.sort();
    let mut listed: Vec<String> = targets::TARGETS.iter().map(|t| (*t).to_owned()).collect();
    listed.sort();
    assert_eq!(
        binaries, listed,
        "fuzz/fuzz_targets and targets::TARGETS differ"
    );
    for target in targets::TARGETS {
        assert!(
            !files(&corpus().join(target)).is_empty(),
            "fuzz/corpus/{target} is empty"
        );
    }
}

#[test]
fn every_corpus_file_runs_clean() {
    let mut failures = Vec::new();
    let mut total = 0;
    for &target in targets::TARGETS {
        let dir = corpus().join(target);
        let files = files(&dir);
        for file in &files {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            // The panic message and its location go to stderr through the
            // default hook; the path is collected here.
            let outcome = catch_unwind(AssertUnwindSafe(|| targets::run(target, &data)));
            match outcome {
                Ok(true) => {}
                Ok(false) => failures.push(format!("{target}: no such target")),
                Err(_) => failures.push(format!("{target}: {}", file.display())),
            }
        }
        println!("{target}: {} corpus files", files.len());
        total += files.len();
    }
    println!("{total} corpus files replayed");
    assert!(
        failures.is_empty(),
        "{} corpus file(s) made a fuzz target fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
#[ignore = "writes fuzz/corpus; run by hand, see docs/fuzzing.md"]
fn write_seed_corpus() {
    let shared = std::env::var_os("CUSTOS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    for (target, count) in seeds::write_all(&corpus(), &repo(), &shared) {
        println!("{target}: {count} seeds");
    }
}
