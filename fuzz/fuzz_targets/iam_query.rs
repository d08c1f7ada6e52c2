//! Fuzz target `iam_query`: see `custos_fuzz::targets::iam_query` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_fuzz::targets::iam_query(data));
