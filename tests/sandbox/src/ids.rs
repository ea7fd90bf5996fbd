//! Random identifiers in HubRise's style.
//!
//! HubRise ids are short lowercase alphanumeric strings ("5dpm9"); tokens and codes are long
//! random strings. Nothing here is cryptographic in intent beyond being unguessable in tests.

use rand::Rng;
use rand::distributions::Alphanumeric;

const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A short HubRise-style id such as `"5dpm9"`.
pub(crate) fn short_id() -> String {
    let mut rng = rand::thread_rng();
    (0..5)
        .map(|_| char::from(ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())]))
        .collect()
}

/// A short id that `taken` does not already contain.
pub(crate) fn fresh_short_id(taken: impl Fn(&str) -> bool) -> String {
    loop {
        let id = short_id();
        if !taken(&id) {
            return id;
        }
    }
}

/// A lowercase hex string of `len` characters (access tokens, codes).
pub(crate) fn hex_secret(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
        .collect()
}

/// A mixed-case alphanumeric secret (client secrets, POS tokens, session cookies).
pub(crate) fn alnum_secret(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(short_id().len(), 5);
        assert!(hex_secret(32).chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(alnum_secret(40).len(), 40);
    }
}
