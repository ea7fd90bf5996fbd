#![no_main]
//! Fuzzes `passerelle_core::fuzzing::money` with arbitrary text.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| passerelle_core::fuzzing::money(input));
