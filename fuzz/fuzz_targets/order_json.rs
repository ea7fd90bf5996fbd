#![no_main]
//! Fuzzes `passerelle_core::fuzzing::order_json` with arbitrary bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| passerelle_core::fuzzing::order_json(bytes));
