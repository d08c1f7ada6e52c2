//! Fuzz target `kms_json`: see `custos_fuzz::targets::kms_json` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_fuzz::targets::kms_json(data));
