//! Fuzz target `policy`: see `custos_fuzz::targets::policy` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_fuzz::targets::policy(data));
