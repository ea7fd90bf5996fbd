//! HubRise tokens (and codes waiting for a device) encrypted at rest: XChaCha20-Poly1305 with a
//! key from the environment. Each ciphertext names the key that sealed it (a short digest of the
//! key, never the key), so a rotation reads rows sealed with an earlier key while
//! `passerelle-bridge rotate-key` seals them again with the current one (see README).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::secret::{Secret, hex};

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

/// A 256-bit key. Its `Debug` shows only its id.
#[derive(Clone)]
pub struct Key {
    bytes: [u8; 32],
    id: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl Key {
    fn from_bytes(bytes: [u8; 32]) -> Self {
        let id = hex(&Sha256::new()
            .chain_update(b"passerelle-bridge key id\0")
            .chain_update(bytes)
            .finalize()[..6]);
        Key { bytes, id }
    }

    /// Base64 (standard or URL-safe) of exactly 32 bytes. The error never quotes the text.
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| "not base64".to_owned())?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("must be 32 bytes, got {}", b.len()))?;
        Ok(Key::from_bytes(bytes))
    }

    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Key::from_bytes(bytes)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.bytes).into())
    }
}

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("sealed with key {0}, which is not configured (current or old_encryption_keys)")]
    UnknownKey(String),
    #[error("sealed value is damaged or was moved to another row")]
    Damaged,
}

/// The current key, which seals, and earlier ones, which only open.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: Key,
    old: Vec<Key>,
}

impl Keyring {
    pub fn new(current: Key, old: Vec<Key>) -> Self {
        Keyring { current, old }
    }

    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// Seals `plain` for the row `context` (authenticated: a value copied to another row does
    /// not open there).
    pub fn seal(&self, plain: &Secret, context: &str) -> String {
        use rand::RngCore;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: plain.expose().as_bytes(),
            aad: context.as_bytes(),
        };
        // Encryption with a valid key and nonce cannot fail for inputs of this size; an empty
        // output would then fail to open, never leak.
        let sealed = self
            .current
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!(
            "{VERSION}.{}.{}",
            self.current.id(),
            URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    /// Opens a value sealed with the current key or an old one.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Secret, OpenError> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError::Damaged);
        };
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id() == id)
            .ok_or_else(|| OpenError::UnknownKey(id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| OpenError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError::Damaged);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let plain = key
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| OpenError::Damaged)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| OpenError::Damaged)
    }

    /// Whether a sealed value needs sealing again with the current key.
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed.split('.').nth(1) == Some(self.current.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() -> Result<(), OpenError> {
        let old = Key::generate();
        let ring = Keyring::new(old.clone(), vec![]);
        let token = Secret::new("b9922a78d3ffab6b95e9d72e88");
        let sealed = ring.seal(&token, "row-1");
        assert!(!sealed.contains("b9922a78"));
        assert_eq!(ring.open(&sealed, "row-1")?, token);
        assert_eq!(ring.open(&sealed, "row-2"), Err(OpenError::Damaged));
        // Rotated: the new key seals, the old one still opens what it sealed.
        let rotated = Keyring::new(Key::generate(), vec![old]);
        assert!(!rotated.is_current(&sealed));
        assert_eq!(rotated.open(&sealed, "row-1")?, token);
        assert!(rotated.is_current(&rotated.seal(&token, "row-1")));
        // Without the old key: a typed error naming the key id, not the data.
        let forgotten = Keyring::new(Key::generate(), vec![]);
        assert!(matches!(
            forgotten.open(&sealed, "row-1"),
            Err(OpenError::UnknownKey(_))
        ));
        Ok(())
    }

    #[test]
    fn keys_are_read_from_base64_of_32_bytes_only() {
        let key = Key::generate();
        assert_eq!(
            Key::from_base64(&key.to_base64()).map(|k| k.id().to_owned()),
            Ok(key.id().to_owned())
        );
        assert!(Key::from_base64("c2hvcnQ=").is_err());
        assert!(Key::from_base64("***").is_err());
        assert!(!format!("{key:?}").contains(&key.to_base64()));
    }
}
