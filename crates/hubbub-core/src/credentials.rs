//! Secrets: generation, hashing and constant-time comparison.
//!
//! Client secrets and access tokens are 256-bit random values, so a single SHA-256 is
//! a sound way to store them (no dictionary to attack, unlike passwords). Comparison
//! of hashes is constant-time all the same.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A random URL-safe token of `bytes` random bytes, hex encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new application's public client id.
pub fn new_client_id() -> String {
    format!("hb_{}", random_token(12))
}

/// A new client secret (shown once, stored hashed).
pub fn new_client_secret() -> String {
    format!("hbs_{}", random_token(32))
}

/// A new OAuth access token.
pub fn new_access_token() -> String {
    format!("hbt_{}", random_token(32))
}

/// The stored form of a high-entropy secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// True when `secret` hashes to `stored_hash`, compared in constant time.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    let candidate = hash_secret(secret);
    candidate.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// A wrapper that keeps a secret out of `Debug` output and logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T> std::fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_verify_against_their_hash_only() {
        let s = new_client_secret();
        let h = hash_secret(&s);
        assert!(verify_secret(&s, &h));
        assert!(!verify_secret("nope", &h));
        assert_ne!(new_client_secret(), s);
    }

    #[test]
    fn redacted_hides_the_value() {
        assert_eq!(format!("{:?}", Redacted("hunter2")), "[redacted]");
    }
}
