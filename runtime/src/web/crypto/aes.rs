//! AES in the four WebCrypto modes: AES-GCM (any tag length the spec allows), AES-CBC with
//! PKCS#7 padding, AES-CTR with a counter of 1 to 128 bits, and AES-KW (RFC 3394).
//!
//! AES-CTR is written here over the block cipher rather than with the `ctr` crate because
//! WebCrypto's counter is the rightmost `length` bits of the block, wrapping without carrying
//! into the rest, which `ctr` only offers for 32, 64 and 128 bits. GCM tags shorter than 128
//! bits (which `aes-gcm` does not verify) are checked by recomputing the full tag and comparing
//! its prefix: GCM's tag truncation is exactly that prefix.

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256};
use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::{AeadInPlace, AesGcm};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Object, Result, TypedArray};

use super::bytes;
use super::error::{self, check, Error};

pub fn register(ops: &Object<'_>) -> Result<()> {
    ops.set(
        "op_crypto_aes_gcm_encrypt",
        Func::from(op_crypto_aes_gcm_encrypt),
    )?;
    ops.set(
        "op_crypto_aes_gcm_decrypt",
        Func::from(op_crypto_aes_gcm_decrypt),
    )?;
    ops.set(
        "op_crypto_aes_cbc_encrypt",
        Func::from(op_crypto_aes_cbc_encrypt),
    )?;
    ops.set(
        "op_crypto_aes_cbc_decrypt",
        Func::from(op_crypto_aes_cbc_decrypt),
    )?;
    ops.set("op_crypto_aes_ctr", Func::from(op_crypto_aes_ctr))?;
    ops.set("op_crypto_aes_kw_wrap", Func::from(op_crypto_aes_kw_wrap))?;
    ops.set(
        "op_crypto_aes_kw_unwrap",
        Func::from(op_crypto_aes_kw_unwrap),
    )?;
    Ok(())
}

const BLOCK_BYTES: usize = 16;

/// The message workerd gives for every failed decryption, so callers cannot tell a bad tag
/// from bad padding.
fn decryption_failed(algorithm: &str, input_bytes: usize) -> Error {
    Error::operation(format!(
        "Decryption failed. This could be due to a ciphertext authentication failure, bad \
         padding, incorrect CryptoKey, or another algorithm-specific reason. Input length was \
         {input_bytes} for {algorithm}."
    ))
}

fn bad_key_length(bytes: usize) -> Error {
    Error::data(format!(
        "AES key length must be 128, 192, or 256 bits but provided {}.",
        bytes * 8
    ))
}

/// Runs `$body` with `$aes` bound to the AES type matching `$key`'s length.
macro_rules! with_aes {
    ($key:expr, $aes:ident => $body:expr) => {
        match $key.len() {
            16 => {
                type $aes = Aes128;
                $body
            }
            24 => {
                type $aes = Aes192;
                $body
            }
            32 => {
                type $aes = Aes256;
                $body
            }
            other => Err(bad_key_length(other)),
        }
    };
}

fn gcm_tag_bytes(tag_bits: u32) -> error::Result<usize> {
    match tag_bits {
        32 | 64 | 96 | 104 | 112 | 120 | 128 => Ok(tag_bits as usize / 8),
        other => Err(Error::operation(format!(
            "Invalid AES-GCM tag length {other}."
        ))),
    }
}

fn unsupported_iv(iv_bytes: usize) -> Error {
    if iv_bytes == 0 {
        Error::operation("AES-GCM IV must not be empty.")
    } else {
        Error::not_supported(format!(
            "AES-GCM IVs of {iv_bytes} bytes are not supported by Kiln (use 12 or 16 bytes)."
        ))
    }
}

fn gcm_seal<C: AeadInPlace>(
    cipher: &C,
    iv: &[u8],
    aad: &[u8],
    tag_bytes: usize,
    data: &[u8],
) -> error::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() + tag_bytes);
    out.extend_from_slice(data);
    let tag = cipher
        .encrypt_in_place_detached(GenericArray::from_slice(iv), aad, &mut out)
        .map_err(|_| {
            Error::operation("AES-GCM can only encrypt up to 2^39 - 256 bits at a time")
        })?;
    out.extend_from_slice(&tag[..tag_bytes]);
    Ok(out)
}

fn gcm_open<C: AeadInPlace>(
    cipher: &C,
    iv: &[u8],
    aad: &[u8],
    tag_bytes: usize,
    data: &[u8],
) -> error::Result<Vec<u8>> {
    let nonce = GenericArray::from_slice(iv);
    let Some(split) = data.len().checked_sub(tag_bytes) else {
        return Err(Error::operation(format!(
            "Ciphertext length of {} bits must be greater than or equal to the size of the \
             AES-GCM tag length of {} bits.",
            data.len() * 8,
            tag_bytes * 8
        )));
    };
    let (ciphertext, tag) = data.split_at(split);
    let mut plaintext = ciphertext.to_vec();
    if tag_bytes == BLOCK_BYTES {
        cipher
            .decrypt_in_place_detached(nonce, aad, &mut plaintext, GenericArray::from_slice(tag))
            .map_err(|_| decryption_failed("AES-GCM", data.len()))?;
        return Ok(plaintext);
    }
    // GCM encryption is a keystream XOR, so "encrypting" the ciphertext recovers the plaintext;
    // encrypting that plaintext again reproduces the ciphertext and its full tag.
    cipher
        .encrypt_in_place_detached(nonce, &[], &mut plaintext)
        .map_err(|_| decryption_failed("AES-GCM", data.len()))?;
    let mut again = plaintext.clone();
    let full_tag = cipher
        .encrypt_in_place_detached(nonce, aad, &mut again)
        .map_err(|_| decryption_failed("AES-GCM", data.len()))?;
    if !super::constant_time_eq(&full_tag[..tag_bytes], tag) {
        return Err(decryption_failed("AES-GCM", data.len()));
    }
    Ok(plaintext)
}

pub fn gcm_encrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    tag_bits: u32,
    data: &[u8],
) -> error::Result<Vec<u8>> {
    let tag_bytes = gcm_tag_bytes(tag_bits)?;
    with_aes!(key, A => match iv.len() {
        12 => gcm_seal(&gcm::<A, U12>(key)?, iv, aad, tag_bytes, data),
        16 => gcm_seal(&gcm::<A, U16>(key)?, iv, aad, tag_bytes, data),
        other => Err(unsupported_iv(other)),
    })
}

pub fn gcm_decrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    tag_bits: u32,
    data: &[u8],
) -> error::Result<Vec<u8>> {
    let tag_bytes = gcm_tag_bytes(tag_bits)?;
    with_aes!(key, A => match iv.len() {
        12 => gcm_open(&gcm::<A, U12>(key)?, iv, aad, tag_bytes, data),
        16 => gcm_open(&gcm::<A, U16>(key)?, iv, aad, tag_bytes, data),
        other => Err(unsupported_iv(other)),
    })
}

fn gcm<A, N>(key: &[u8]) -> error::Result<AesGcm<A, N>>
where
    AesGcm<A, N>: KeyInit,
{
    <AesGcm<A, N> as KeyInit>::new_from_slice(key).map_err(|_| bad_key_length(key.len()))
}

fn check_cbc_iv(iv: &[u8]) -> error::Result<()> {
    if iv.len() != BLOCK_BYTES {
        return Err(Error::operation(format!(
            "AES-CBC IV must be 16 bytes long (provided {} bytes).",
            iv.len()
        )));
    }
    Ok(())
}

pub fn cbc_encrypt(key: &[u8], iv: &[u8], data: &[u8]) -> error::Result<Vec<u8>> {
    check_cbc_iv(iv)?;
    with_aes!(key, A => cbc::Encryptor::<A>::new_from_slices(key, iv)
        .map(|cipher| cipher.encrypt_padded_vec_mut::<Pkcs7>(data))
        .map_err(|_| bad_key_length(key.len())))
}

pub fn cbc_decrypt(key: &[u8], iv: &[u8], data: &[u8]) -> error::Result<Vec<u8>> {
    check_cbc_iv(iv)?;
    with_aes!(key, A => cbc::Decryptor::<A>::new_from_slices(key, iv)
        .map_err(|_| bad_key_length(key.len()))?
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .map_err(|_| decryption_failed("AES-CBC", data.len())))
}

/// AES-CTR (encryption and decryption are the same): the rightmost `length_bits` of `counter`
/// count blocks, wrapping to zero; the rest of the block stays fixed.
pub fn ctr(key: &[u8], counter: &[u8], length_bits: u32, data: &[u8]) -> error::Result<Vec<u8>> {
    let counter: [u8; BLOCK_BYTES] = counter.try_into().map_err(|_| {
        Error::operation(format!(
            "Counter must have length of 16 bytes (provided {}).",
            counter.len()
        ))
    })?;
    if length_bits == 0 || length_bits > 128 {
        return Err(Error::operation(format!(
            "Invalid counter of {length_bits} bits length provided."
        )));
    }
    let blocks = data.len().div_ceil(BLOCK_BYTES) as u128;
    if length_bits < 128 && blocks > 1u128 << length_bits {
        return Err(Error::operation("Counter block values will repeat"));
    }
    let mask = if length_bits == 128 {
        u128::MAX
    } else {
        (1u128 << length_bits) - 1
    };
    let initial = u128::from_be_bytes(counter);
    with_aes!(key, A => {
        let cipher = A::new_from_slice(key).map_err(|_| bad_key_length(key.len()))?;
        let mut out = data.to_vec();
        let mut count = initial & mask;
        for chunk in out.chunks_mut(BLOCK_BYTES) {
            let mut block = GenericArray::from(((initial & !mask) | count).to_be_bytes());
            cipher.encrypt_block(&mut block);
            for (byte, key_byte) in chunk.iter_mut().zip(block.iter()) {
                *byte ^= key_byte;
            }
            count = count.wrapping_add(1) & mask;
        }
        Ok(out)
    })
}

pub fn kw_wrap(key: &[u8], data: &[u8]) -> error::Result<Vec<u8>> {
    if !data.len().is_multiple_of(8) || data.len() < 16 {
        return Err(Error::operation(format!(
            "Unwrapped key bit length must be a multiple of 64 bits and at least 128 bits but \
             unwrapped key has a length of {} bits.",
            data.len() * 8
        )));
    }
    with_aes!(key, A => aes_kw::Kek::<A>::new(GenericArray::from_slice(key))
        .wrap_vec(data)
        .map_err(|_| Error::operation("AES-KW key wrapping failed")))
}

pub fn kw_unwrap(key: &[u8], data: &[u8]) -> error::Result<Vec<u8>> {
    if !data.len().is_multiple_of(8) || data.len() < 24 {
        return Err(Error::operation(format!(
            "Provided a wrapped key to unwrap that is {} bits, which is not a multiple of 64 \
             bits of at least 192 bits.",
            data.len() * 8
        )));
    }
    with_aes!(key, A => aes_kw::Kek::<A>::new(GenericArray::from_slice(key))
        .unwrap_vec(data)
        .map_err(|_| Error::operation("AES-KW key unwrapping failed")))
}

fn buffer<'js>(ctx: Ctx<'js>, result: error::Result<Vec<u8>>) -> Result<ArrayBuffer<'js>> {
    let bytes = check(&ctx, result)?;
    ArrayBuffer::new_copy(ctx, bytes)
}

fn op_crypto_aes_gcm_encrypt<'js>(
    ctx: Ctx<'js>,
    key: TypedArray<'js, u8>,
    iv: TypedArray<'js, u8>,
    aad: TypedArray<'js, u8>,
    tag_bits: u32,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = gcm_encrypt(bytes(&key), bytes(&iv), bytes(&aad), tag_bits, bytes(&data));
    buffer(ctx, result)
}

fn op_crypto_aes_gcm_decrypt<'js>(
    ctx: Ctx<'js>,
    key: TypedArray<'js, u8>,
    iv: TypedArray<'js, u8>,
    aad: TypedArray<'js, u8>,
    tag_bits: u32,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = gcm_decrypt(bytes(&key), bytes(&iv), bytes(&aad), tag_bits, bytes(&data));
    buffer(ctx, result)
}

fn op_crypto_aes_cbc_encrypt<'js>(
    ctx: Ctx<'js>,
    key: TypedArray<'js, u8>,
    iv: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = cbc_encrypt(bytes(&key), bytes(&iv), bytes(&data));
    buffer(ctx, result)
}

fn op_crypto_aes_cbc_decrypt<'js>(
    ctx: Ctx<'js>,
    key: TypedArray<'js, u8>,
    iv: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = cbc_decrypt(bytes(&key), bytes(&iv), bytes(&data));
    buffer(ctx, result)
}

fn op_crypto_aes_ctr<'js>(
    ctx: Ctx<'js>,
    key: TypedArray<'js, u8>,
    counter: TypedArray<'js, u8>,
    length_bits: u32,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = ctr(bytes(&key), bytes(&counter), length_bits, bytes(&data));
    buffer(ctx, result)
}

fn op_crypto_aes_kw_wrap<'js>(
    ctx: Ctx<'js>,
    key: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = kw_wrap(bytes(&key), bytes(&data));
    buffer(ctx, result)
}

fn op_crypto_aes_kw_unwrap<'js>(
    ctx: Ctx<'js>,
    key: TypedArray<'js, u8>,
    data: TypedArray<'js, u8>,
) -> Result<ArrayBuffer<'js>> {
    let result = kw_unwrap(bytes(&key), bytes(&data));
    buffer(ctx, result)
}
