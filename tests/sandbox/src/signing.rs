//! HMAC-SHA256, as HubRise signs what it sends to apps (`X-HubRise-Hmac-SHA256`, hex).

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// RFC 2104 HMAC with SHA-256.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Lowercase hex of the HMAC, the header's format.
pub(crate) fn hmac_hex(key: &str, message: &[u8]) -> String {
    hmac_sha256(key.as_bytes(), message)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares a received signature with the expected one without early exit.
pub(crate) fn signature_matches(key: &str, message: &[u8], received: &str) -> bool {
    let expected = hmac_hex(key, message);
    expected.len() == received.len()
        && expected
            .bytes()
            .zip(received.to_ascii_lowercase().bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_case_2() {
        assert_eq!(
            hmac_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(signature_matches(
            "Jefe",
            b"what do ya want for nothing?",
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
        ));
    }
}
