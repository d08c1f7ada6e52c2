//! Fuzz target `ciphertext_blob`: see `custos_fuzz::targets::ciphertext_blob` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_fuzz::targets::ciphertext_blob(data));
