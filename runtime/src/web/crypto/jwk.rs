//! JWK member encoding: base64url without padding (RFC 7515 §2). Decoding also accepts padded
//! input, which some JWK producers emit; anything else is a `DataError` in the prelude.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use rquickjs::prelude::Func;
use rquickjs::{Ctx, Object, Result, TypedArray};

use super::bytes;

pub fn register(ops: &Object<'_>) -> Result<()> {
    ops.set(
        "op_crypto_base64url_encode",
        Func::from(op_crypto_base64url_encode),
    )?;
    ops.set(
        "op_crypto_base64url_decode",
        Func::from(op_crypto_base64url_decode),
    )?;
    Ok(())
}

const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn encode(data: &[u8]) -> String {
    BASE64URL.encode(data)
}

pub fn decode(text: &str) -> Option<Vec<u8>> {
    BASE64URL.decode(text).ok()
}

fn op_crypto_base64url_encode(data: TypedArray<'_, u8>) -> String {
    encode(bytes(&data))
}

/// The decoded bytes, or `null` if `text` is not base64url.
fn op_crypto_base64url_decode<'js>(
    ctx: Ctx<'js>,
    text: String,
) -> Result<Option<TypedArray<'js, u8>>> {
    match decode(&text) {
        Some(data) => TypedArray::new(ctx, data).map(Some),
        None => Ok(None),
    }
}
