//! Fuzz target `sigv4`: see `custos_fuzz::targets::sigv4` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_fuzz::targets::sigv4(data));
