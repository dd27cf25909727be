//! `crypto.getRandomValues`, `crypto.randomUUID` and `crypto.subtle.digest` over the OS random
//! source and RustCrypto hashes. The rest of WebCrypto is not implemented yet and says so.

use md5::Md5;
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, TypedArray};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::limits::RANDOM_VALUES_BYTES_MAX;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_crypto_random", Func::from(op_crypto_random))?;
    ops.set("op_crypto_random_uuid", Func::from(op_crypto_random_uuid))?;
    ops.set("op_crypto_digest", Func::from(op_crypto_digest))?;
    Ok(())
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

/// The digest of `data` with a normalized algorithm name, or `None` if the name is unknown.
fn op_crypto_digest<'js>(
    ctx: Ctx<'js>,
    algorithm: String,
    data: TypedArray<'js, u8>,
) -> Result<Option<ArrayBuffer<'js>>> {
    let input = data.as_bytes().unwrap_or(&[]);
    let digest: Vec<u8> = match algorithm.as_str() {
        "SHA-1" => Sha1::digest(input).to_vec(),
        "SHA-256" => Sha256::digest(input).to_vec(),
        "SHA-384" => Sha384::digest(input).to_vec(),
        "SHA-512" => Sha512::digest(input).to_vec(),
        "MD5" => Md5::digest(input).to_vec(),
        _ => return Ok(None),
    };
    ArrayBuffer::new(ctx, digest).map(Some)
}
