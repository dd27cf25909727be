//! HMAC `sign` and `verify` (SHA-1/256/384/512). Verification compares in constant time.

use hmac::{Hmac, Mac};
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Object, Result, TypedArray};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

use super::bytes;
use super::digest::Hash;
use super::error::{self, check};

pub fn register(ops: &Object<'_>) -> Result<()> {
    ops.set("op_crypto_hmac_sign", Func::from(op_crypto_hmac_sign))?;
    ops.set("op_crypto_hmac_verify", Func::from(op_crypto_hmac_verify))?;
    Ok(())
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> M {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <M as Mac>::new_from_slice(key).expect("hmac takes keys of any length");
    mac.update(data);
    mac
}

pub fn sign(hash: Hash, key: &[u8], data: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha1 => mac::<Hmac<Sha1>>(key, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        Hash::Sha256 => mac::<Hmac<Sha256>>(key, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        Hash::Sha384 => mac::<Hmac<Sha384>>(key, data)
            .finalize()
            .into_bytes()
            .to_vec(),
        Hash::Sha512 => mac::<Hmac<Sha512>>(key, data)
            .finalize()
            .into_bytes()
            .to_vec(),
    }
}

/// Whether `signature` is the full-length HMAC of `data` (compared in constant time).
pub fn verify(hash: Hash, key: &[u8], data: &[u8], signature: &[u8]) -> bool {
    match hash {
        Hash::Sha1 => mac::<Hmac<Sha1>>(key, data).verify_slice(signature).is_ok(),
        Hash::Sha256 => mac::<Hmac<Sha256>>(key, data)
            .verify_slice(signature)
            .is_ok(),
        Hash::Sha384 => mac::<Hmac<Sha384>>(key, data)
            .verify_slice(signature)
            .is_ok(),
        Hash::Sha512 => mac::<Hmac<Sha512>>(key, data)
            .verify_slice(signature)
            .is_ok(),
    }
}

fn op_crypto_hmac_sign<'js>(
    ctx: Ctx<'js>,
    hash: String,
    key: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let hash = check(&ctx, Hash::parse(&hash))?;
    ArrayBuffer::new_copy(ctx, sign(hash, bytes(&key), bytes(&data)))
}

fn op_crypto_hmac_verify<'js>(
    ctx: Ctx<'js>,
    hash: String,
    key: TypedArray<'js, u8>,
    signature: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<bool> {
    let hash: error::Result<Hash> = Hash::parse(&hash);
    let hash = check(&ctx, hash)?;
    Ok(verify(hash, bytes(&key), bytes(&data), bytes(&signature)))
}
