//! `TextEncoder`/`TextDecoder` over `encoding_rs` (every WHATWG encoding and label), and the
//! byte work behind `atob`/`btoa`. Class shapes and DOM errors live in `02_encoding.js`.

use base64::Engine;
use encoding_rs::{DecoderResult, Encoding, REPLACEMENT};
use rquickjs::class::Trace;
use rquickjs::prelude::Func;
use rquickjs::{Class, Ctx, Exception, JsLifetime, Object, Result, TypedArray};

pub fn register(ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    Class::<Decoder>::define(&ops.clone())?;
    let _ = ctx;
    ops.set(
        "op_encoding_decoder_new",
        Func::from(op_encoding_decoder_new),
    )?;
    ops.set("op_encoding_encode", Func::from(op_encoding_encode))?;
    ops.set("op_encoding_btoa", Func::from(op_encoding_btoa))?;
    ops.set("op_encoding_atob", Func::from(op_encoding_atob))?;
    ops.set("op_text_bytes", Func::from(op_text_bytes))?;
    Ok(())
}

/// `text`'s size in UTF-8 (a lone surrogate counts as U+FFFD, as `TextEncoder` writes it), and
/// whether every character fits one byte (V8 then stores and serializes it as Latin-1): what
/// Kiln's size limits measure, in native code rather than a JavaScript loop per character.
/// `[-1, 0]` when the text holds a lone surrogate the engine will not convert (the caller then
/// counts in JavaScript).
/// `check_latin1` false skips the scan for one-byte characters (the second answer is then 0).
fn op_text_bytes(text: rquickjs::String<'_>, check_latin1: bool) -> Vec<f64> {
    let Ok(text) = text.to_string() else {
        return vec![-1.0, 0.0];
    };
    let latin1 = check_latin1 && text.chars().all(|c| u32::from(c) <= 0xff);
    vec![text.len() as f64, if latin1 { 1.0 } else { 0.0 }]
}

/// The state of one `TextDecoder`.
#[derive(Trace, JsLifetime)]
#[rquickjs::class(rename = "KilnDecoder")]
pub struct Decoder {
    #[qjs(skip_trace)]
    encoding: &'static Encoding,
    #[qjs(skip_trace)]
    decoder: encoding_rs::Decoder,
    fatal: bool,
    ignore_bom: bool,
}

fn new_decoder(encoding: &'static Encoding, ignore_bom: bool) -> encoding_rs::Decoder {
    if ignore_bom {
        encoding.new_decoder_without_bom_handling()
    } else {
        encoding.new_decoder_with_bom_removal()
    }
}

#[rquickjs::methods]
impl Decoder {
    /// The encoding's name, lowercased as `TextDecoder.prototype.encoding` returns it.
    #[qjs(get)]
    pub fn encoding(&self) -> String {
        self.encoding.name().to_ascii_lowercase()
    }

    pub fn decode(
        &mut self,
        ctx: Ctx<'_>,
        bytes: Option<TypedArray<'_, u8>>,
        stream: Option<bool>,
    ) -> Result<String> {
        let stream = stream.unwrap_or(false);
        let input: &[u8] = match &bytes {
            Some(array) => array.as_bytes().unwrap_or(&[]),
            None => &[],
        };
        let last = !stream;
        let capacity = self
            .decoder
            .max_utf8_buffer_length(input.len())
            .unwrap_or(input.len().saturating_mul(3) + 16);
        let mut out = String::with_capacity(capacity);
        let failed = if self.fatal {
            let (result, _read) = self
                .decoder
                .decode_to_string_without_replacement(input, &mut out, last);
            matches!(result, DecoderResult::Malformed(..))
        } else {
            let (_result, _read, _replaced) = self.decoder.decode_to_string(input, &mut out, last);
            false
        };
        if last || failed {
            self.decoder = new_decoder(self.encoding, self.ignore_bom);
        }
        if failed {
            return Err(Exception::throw_type(
                &ctx,
                &format!(
                    "The encoded data was not valid for encoding {}",
                    self.encoding.name().to_ascii_lowercase()
                ),
            ));
        }
        Ok(out)
    }
}

/// A decoder for `label`, or `None` for a label the Encoding Standard does not know (or the
/// `replacement` encoding, which `TextDecoder` refuses).
fn op_encoding_decoder_new(label: String, fatal: bool, ignore_bom: bool) -> Option<Decoder> {
    let encoding = Encoding::for_label(label.trim().as_bytes())?;
    if encoding == REPLACEMENT {
        return None;
    }
    Some(Decoder {
        encoding,
        decoder: new_decoder(encoding, ignore_bom),
        fatal,
        ignore_bom,
    })
}

fn op_encoding_encode<'js>(ctx: Ctx<'js>, text: String) -> Result<TypedArray<'js, u8>> {
    TypedArray::new(ctx, text.into_bytes())
}

/// `btoa`: `None` when a character is above U+00FF.
fn op_encoding_btoa(text: String) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        let code = u32::from(c);
        if code > 0xFF {
            return None;
        }
        bytes.push(code as u8);
    }
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `atob` with the HTML "forgiving-base64 decode": `None` when the input is not base64.
fn op_encoding_atob(text: String) -> Option<String> {
    let mut compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r'))
        .collect();
    if !text.is_ascii() {
        return None;
    }
    if compact.len().is_multiple_of(4) {
        for _ in 0..2 {
            if compact.last() == Some(&b'=') {
                compact.pop();
            }
        }
    }
    if compact.len() % 4 == 1
        || compact
            .iter()
            .any(|b| !(b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'))
    {
        return None;
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let bytes = engine.decode(&compact).ok()?;
    Some(bytes.into_iter().map(char::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgiving_base64() {
        assert_eq!(op_encoding_atob(" aGk= ".into()).as_deref(), Some("hi"));
        assert_eq!(op_encoding_atob("aGk".into()).as_deref(), Some("hi"));
        assert_eq!(op_encoding_atob("a".into()), None);
        assert_eq!(op_encoding_atob("a*==".into()), None);
        assert_eq!(op_encoding_btoa("\u{100}".into()), None);
        assert_eq!(op_encoding_btoa("hi".into()).as_deref(), Some("aGk="));
    }
}
