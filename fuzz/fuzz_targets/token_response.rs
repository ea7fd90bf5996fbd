#![no_main]
//! Fuzzes `passerelle_core::fuzzing::token_response` with arbitrary bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| passerelle_core::fuzzing::token_response(bytes));
