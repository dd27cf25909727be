//! Durable Object ids: 32 bytes, shown as 64 lowercase hex digits, unforgeable.
//!
//! An id is 16 bytes of *body* and a 16-byte MAC of the body under the namespace's secret key.
//! The body of a named id is a keyed hash of the name (so `idFromName` is deterministic per
//! namespace); the body of a unique id is random. `idFromString` accepts only ids whose MAC
//! checks out, so nobody can make an id for a namespace without its key, and an id made for one
//! namespace is refused by every other.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn keyed(key: &[u8; 32], domain: &[u8], message: &[u8]) -> [u8; 32] {
    // An HMAC accepts keys of any length; a 32-byte key cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(domain);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn seal(key: &[u8; 32], body: &[u8]) -> [u8; 32] {
    let mac = keyed(key, b"kiln-id-mac\0", &body[..16]);
    let mut id = [0u8; 32];
    id[..16].copy_from_slice(&body[..16]);
    id[16..].copy_from_slice(&mac[..16]);
    id
}

pub fn from_name(key: &[u8; 32], name: &str) -> [u8; 32] {
    seal(key, &keyed(key, b"kiln-id-name\0", name.as_bytes()))
}

pub fn new_unique(key: &[u8; 32]) -> [u8; 32] {
    let mut body = [0u8; 16];
    if getrandom::fill(&mut body).is_err() {
        // No entropy source is a broken machine, not an input error.
        panic!("the operating system has no random source");
    }
    seal(key, &body)
}

/// Whether `id` was made for the namespace with `key`.
pub fn is_valid(key: &[u8; 32], id: &[u8; 32]) -> bool {
    let expected = seal(key, &id[..16]);
    // Constant-time comparison, so the MAC cannot be guessed byte by byte.
    expected[16..]
        .iter()
        .zip(&id[16..])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_per_name_and_bound_to_their_namespace() {
        let key = [1u8; 32];
        let other = [2u8; 32];
        assert_eq!(from_name(&key, "room"), from_name(&key, "room"));
        assert_ne!(from_name(&key, "room"), from_name(&key, "hall"));
        assert_ne!(from_name(&key, "room"), from_name(&other, "room"));
        assert!(is_valid(&key, &from_name(&key, "room")));
        assert!(!is_valid(&other, &from_name(&key, "room")));
        let unique = new_unique(&key);
        assert!(is_valid(&key, &unique));
        let mut forged = unique;
        forged[31] ^= 1;
        assert!(!is_valid(&key, &forged));
    }
}
