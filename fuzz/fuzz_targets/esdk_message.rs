//! Fuzz target `esdk_message`: see `custos_fuzz::targets::esdk_message` and docs/fuzzing.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| custos_fuzz::targets::esdk_message(data));
