//! The fuzz targets of Custos, as plain functions of the input bytes.
//!
//! `fuzz_targets/<name>.rs` hands libFuzzer's input to
//! [`targets`]`::<name>`; the replay test of the main workspace
//! (`crates/custos/tests/fuzz_corpus.rs`) compiles the same `targets.rs`
//! and runs every file of `corpus/<name>/` through it. See
//! `docs/fuzzing.md`.

#![forbid(unsafe_code)]

pub mod targets;
