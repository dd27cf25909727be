//! Key derivation from secrets: PBKDF2 (RFC 8018) and HKDF (RFC 5869), as `deriveBits` runs
//! them. PBKDF2 refuses more than `PBKDF2_ITERATIONS_MAX` iterations, as Cloudflare does: a
//! single call is not interruptible, so an unbounded count would stall the isolate's thread.

use hkdf::Hkdf;
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Object, Result, TypedArray};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use super::bytes;
use super::digest::Hash;
use super::error::{self, check, Error};

/// Cloudflare's cap on PBKDF2 iterations per call.
pub const PBKDF2_ITERATIONS_MAX: u32 = 100_000;

pub fn register(ops: &Object<'_>) -> Result<()> {
    ops.set("op_crypto_pbkdf2", Func::from(op_crypto_pbkdf2))?;
    ops.set("op_crypto_hkdf", Func::from(op_crypto_hkdf))?;
    ops.set("op_crypto_scrypt", Func::from(op_crypto_scrypt))?;
    Ok(())
}

/// Checks a `deriveBits` length for the byte-oriented KDFs and returns it in bytes.
fn length_bytes(algorithm: &str, length_bits: u32) -> error::Result<usize> {
    if !length_bits.is_multiple_of(8) {
        return Err(Error::operation(format!(
            "{algorithm} requires a derived key length that is a multiple of eight (requested \
             {length_bits})."
        )));
    }
    Ok(length_bits as usize / 8)
}

pub fn pbkdf2(
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    length_bits: u32,
) -> error::Result<Vec<u8>> {
    let length = length_bytes("PBKDF2", length_bits)?;
    if iterations == 0 {
        return Err(Error::operation(
            "PBKDF2 requires a positive iteration count (requested 0).",
        ));
    }
    if iterations > PBKDF2_ITERATIONS_MAX {
        return Err(Error::not_supported(format!(
            "Pbkdf2 failed: iteration counts above {PBKDF2_ITERATIONS_MAX} are not supported \
             (requested {iterations})."
        )));
    }
    if length > hash.output_bytes() * 255 {
        return Err(Error::operation(
            "Pbkdf2 failed: derived key length exceeds maximum for this hash",
        ));
    }
    let mut out = vec![0u8; length];
    match hash {
        Hash::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out),
        Hash::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out),
        Hash::Sha384 => pbkdf2::pbkdf2_hmac::<Sha384>(password, salt, iterations, &mut out),
        Hash::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out),
    }
    Ok(out)
}

pub fn hkdf(
    hash: Hash,
    key: &[u8],
    salt: &[u8],
    info: &[u8],
    length_bits: u32,
) -> error::Result<Vec<u8>> {
    let length = length_bytes("HKDF", length_bits)?;
    let length_max = hash.output_bytes() * 255;
    if length > length_max {
        return Err(Error::operation(format!(
            "HKDF cannot derive more than {} bits with this hash (requested {length_bits}).",
            length_max * 8
        )));
    }
    let mut out = vec![0u8; length];
    let expanded = match hash {
        Hash::Sha1 => Hkdf::<Sha1>::new(Some(salt), key).expand(info, &mut out),
        Hash::Sha256 => Hkdf::<Sha256>::new(Some(salt), key).expand(info, &mut out),
        Hash::Sha384 => Hkdf::<Sha384>::new(Some(salt), key).expand(info, &mut out),
        Hash::Sha512 => Hkdf::<Sha512>::new(Some(salt), key).expand(info, &mut out),
    };
    expanded.map_err(|_| Error::operation("HKDF deriveBits failed."))?;
    Ok(out)
}

fn op_crypto_pbkdf2<'js>(
    ctx: Ctx<'js>,
    hash: String,
    password: TypedArray<'js, u8>,
    salt: TypedArray<'js, u8>,
    iterations: u32,
    length_bits: u32,
) -> Result<ArrayBuffer<'js>> {
    let result = Hash::parse(&hash).and_then(|hash| {
        pbkdf2(
            hash,
            bytes(&password),
            bytes(&salt),
            iterations,
            length_bits,
        )
    });
    let out = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, out)
}

fn op_crypto_hkdf<'js>(
    ctx: Ctx<'js>,
    hash: String,
    key: TypedArray<'js, u8>,
    salt: TypedArray<'js, u8>,
    info: TypedArray<'js, u8>,
    length_bits: u32,
) -> Result<ArrayBuffer<'js>> {
    let result = Hash::parse(&hash)
        .and_then(|hash| hkdf(hash, bytes(&key), bytes(&salt), bytes(&info), length_bits));
    let out = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, out)
}

/// The most memory one scrypt call may use (Node's default `maxmem`: 32 MiB).
pub const SCRYPT_MEMORY_BYTES_MAX: u64 = 32 * 1024 * 1024;
/// The longest key scrypt derives here.
pub const SCRYPT_KEY_BYTES_MAX: u32 = 64 * 1024;

/// `node:crypto`'s scrypt; `params` is `[key bytes, cost (N, a power of two), block size (r),
/// parallelization (p), max memory bytes]` (128 * N * r bytes must fit).
fn op_crypto_scrypt<'js>(
    ctx: Ctx<'js>,
    password: TypedArray<'js, u8>,
    salt: TypedArray<'js, u8>,
    params: Vec<f64>,
) -> Result<ArrayBuffer<'js>> {
    let [key_bytes, cost, block_size, parallelization, max_memory] = params[..] else {
        return Err(rquickjs::Exception::throw_type(
            &ctx,
            "scrypt: five parameters",
        ));
    };
    let whole = |v: f64| {
        if v.is_finite() && v >= 0.0 {
            v.min(f64::from(u32::MAX)) as u32
        } else {
            0
        }
    };
    let (key_bytes, block_size, parallelization) =
        (whole(key_bytes), whole(block_size), whole(parallelization));
    let invalid = |what: &str| {
        rquickjs::Exception::throw_range(&ctx, &format!("Invalid scrypt params: {what}"))
    };
    if !(cost >= 2.0 && cost.log2().fract() == 0.0 && cost <= f64::from(u32::MAX)) {
        return Err(invalid("N must be a power of two greater than 1"));
    }
    let log_n = cost.log2() as u8;
    let memory = 128u64 * cost as u64 * u64::from(block_size);
    let limit = if max_memory.is_finite() && max_memory > 0.0 {
        (max_memory as u64).min(SCRYPT_MEMORY_BYTES_MAX * 32)
    } else {
        SCRYPT_MEMORY_BYTES_MAX
    };
    if memory > limit {
        return Err(invalid("memory limit exceeded"));
    }
    if key_bytes == 0 || key_bytes > SCRYPT_KEY_BYTES_MAX {
        return Err(invalid("key length out of range"));
    }
    let params = scrypt::Params::new(log_n, block_size, parallelization, key_bytes as usize)
        .map_err(|err| invalid(&err.to_string()))?;
    let mut out = vec![0u8; key_bytes as usize];
    scrypt::scrypt(bytes(&password), bytes(&salt), &params, &mut out)
        .map_err(|err| invalid(&err.to_string()))?;
    ArrayBuffer::new_copy(ctx, out)
}
