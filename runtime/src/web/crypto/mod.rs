//! `crypto` and `crypto.subtle` (WebCrypto, as Cloudflare Workers expose it) over the OS random
//! source and RustCrypto.
//!
//! The API surface — algorithm normalization, `CryptoKey`, usages, JWK members, the
//! `DOMException`s — is JavaScript in `05_crypto.js`. Each algorithm is a Rust module of plain
//! functions over bytes plus thin `op_crypto_*` wrappers: `hmac`, `aes`, `ec` (ECDSA, ECDH),
//! `okp` (Ed25519, X25519), `rsa`, `kdf` (PBKDF2, HKDF), `digest`; `jwk` is base64url.
//!
//! **Key material** lives in JavaScript, in private fields of `CryptoKey` objects that only the
//! prelude can read, and is handed to the op of each operation; the ops are stateless. Secret
//! keys are their bytes; asymmetric keys are fixed canonical forms (see each module), so an op
//! never trusts JavaScript for more than "these are bytes this module produced or validated".

mod aes;
mod digest;
mod ec;
mod error;
mod hmac;
mod jwk;
mod kdf;
mod okp;
mod rsa;
#[cfg(test)]
mod tests;

use rquickjs::prelude::Func;
use rquickjs::{Ctx, Exception, Object, Result, TypedArray};

use crate::limits::RANDOM_VALUES_BYTES_MAX;

pub fn register(ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_crypto_random", Func::from(op_crypto_random))?;
    ops.set("op_crypto_random_uuid", Func::from(op_crypto_random_uuid))?;
    ops.set(
        "op_crypto_timing_safe_equal",
        Func::from(op_crypto_timing_safe_equal),
    )?;
    digest::register(ctx, ops)?;
    hmac::register(ops)?;
    aes::register(ops)?;
    ec::register(ops)?;
    okp::register(ops)?;
    rsa::register(ops)?;
    kdf::register(ops)?;
    jwk::register(ops)?;
    Ok(())
}

/// The bytes of a typed array the prelude passed (always a fresh copy); a detached one is empty.
fn bytes<'a>(array: &'a TypedArray<'_, u8>) -> &'a [u8] {
    array.as_bytes().unwrap_or(&[])
}

/// Compares equal-length byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

fn random_bytes(ctx: &Ctx<'_>, buffer: &mut [u8]) -> Result<()> {
    getrandom::fill(buffer)
        .map_err(|err| Exception::throw_internal(ctx, &format!("random source failed: {err}")))
}

fn op_crypto_random<'js>(ctx: Ctx<'js>, length: usize) -> Result<TypedArray<'js, u8>> {
    assert!(
        length <= RANDOM_VALUES_BYTES_MAX,
        "the prelude checks the quota"
    );
    let mut bytes = vec![0u8; length];
    random_bytes(&ctx, &mut bytes)?;
    TypedArray::new(ctx, bytes)
}

fn op_crypto_random_uuid(ctx: Ctx<'_>) -> Result<String> {
    let mut b = [0u8; 16];
    random_bytes(&ctx, &mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// `crypto.subtle.timingSafeEqual` once the prelude has checked the lengths match.
fn op_crypto_timing_safe_equal(a: TypedArray<'_, u8>, b: TypedArray<'_, u8>) -> bool {
    constant_time_eq(bytes(&a), bytes(&b))
}
