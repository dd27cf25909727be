//! The byte work behind `CompressionStream` and `DecompressionStream` (`32_compression.js`):
//! gzip, deflate (zlib) and deflate-raw through `flate2`, and Brotli (`node:zlib`'s) through
//! `brotli`; one codec per stream, owned by its JavaScript object so it goes away with it.
//!
//! Guarantees: a decompression that would produce more than
//! [`DECOMPRESSED_CHUNK_BYTES_MAX`] bytes from one chunk fails instead of allocating it (a
//! decompression bomb stops there); corrupt input fails with a `TypeError`.

use std::io::Write;

use flate2::write::{
    DeflateDecoder, DeflateEncoder, GzDecoder, GzEncoder, ZlibDecoder, ZlibEncoder,
};
use flate2::Compression;
use rquickjs::class::Trace;
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Class, Ctx, Exception, JsLifetime, Object, Result, TypedArray};

/// The most bytes one chunk may decompress to.
pub const DECOMPRESSED_CHUNK_BYTES_MAX: usize = 64 * 1024 * 1024;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    Class::<Codec>::define(&ops.clone())?;
    ops.set("op_compression_new", Func::from(op_compression_new))?;
    Ok(())
}

enum State {
    GzipEncode(GzEncoder<Vec<u8>>),
    DeflateEncode(ZlibEncoder<Vec<u8>>),
    RawEncode(DeflateEncoder<Vec<u8>>),
    GzipDecode(GzDecoder<Vec<u8>>),
    DeflateDecode(ZlibDecoder<Vec<u8>>),
    RawDecode(DeflateDecoder<Vec<u8>>),
    BrotliEncode(Box<brotli::CompressorWriter<Vec<u8>>>),
    BrotliDecode(Box<brotli::DecompressorWriter<Vec<u8>>>),
    Finished,
}

/// Brotli's buffer, its default window (`BROTLI_PARAM_LGWIN`) and quality (Node's default).
const BROTLI_BUFFER_BYTES: usize = 16 * 1024;
const BROTLI_WINDOW_BITS: u32 = 22;
const BROTLI_QUALITY_DEFAULT: u32 = 11;

/// One stream's codec.
#[derive(Trace, JsLifetime)]
#[rquickjs::class(rename = "KilnCodec")]
pub struct Codec {
    #[qjs(skip_trace)]
    state: State,
}

/// A codec for `format` ("gzip", "deflate", "deflate-raw", "br"); `decompress` picks the
/// direction and `level` (0 to 9, `node:zlib`'s option; Brotli's quality, 0 to 11) the
/// compression level. `None` for an unknown format (the JavaScript side has checked it already).
fn op_compression_new(decompress: bool, format: String, level: Option<i32>) -> Option<Codec> {
    let out = Vec::new();
    if format == "br" {
        let state = if decompress {
            State::BrotliDecode(Box::new(brotli::DecompressorWriter::new(
                out,
                BROTLI_BUFFER_BYTES,
            )))
        } else {
            let quality = match level {
                Some(quality @ 0..=11) => quality as u32,
                _ => BROTLI_QUALITY_DEFAULT,
            };
            State::BrotliEncode(Box::new(brotli::CompressorWriter::new(
                out,
                BROTLI_BUFFER_BYTES,
                quality,
                BROTLI_WINDOW_BITS,
            )))
        };
        return Some(Codec { state });
    }
    let level = match level {
        Some(level @ 0..=9) => Compression::new(level as u32),
        _ => Compression::default(),
    };
    let state = match (decompress, format.as_str()) {
        (false, "gzip") => State::GzipEncode(GzEncoder::new(out, level)),
        (false, "deflate") => State::DeflateEncode(ZlibEncoder::new(out, level)),
        (false, "deflate-raw") => State::RawEncode(DeflateEncoder::new(out, level)),
        (true, "gzip") => State::GzipDecode(GzDecoder::new(out)),
        (true, "deflate") => State::DeflateDecode(ZlibDecoder::new(out)),
        (true, "deflate-raw") => State::RawDecode(DeflateDecoder::new(out)),
        _ => return None,
    };
    Some(Codec { state })
}

fn corrupt(ctx: &Ctx<'_>, err: &std::io::Error) -> rquickjs::Error {
    Exception::throw_type(ctx, &format!("Decompression failed: {err}"))
}

/// Input is written in slices of this size, so a bomb is caught before it grows far past the
/// limit.
const PUMP_SLICE_BYTES: usize = 16 * 1024;

/// Writes `input` and takes what came out of `writer` (through `take`) so far.
fn pump<W: Write>(
    ctx: &Ctx<'_>,
    writer: &mut W,
    take: fn(&mut W) -> Vec<u8>,
    input: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for slice in input.chunks(PUMP_SLICE_BYTES) {
        writer.write_all(slice).map_err(|err| corrupt(ctx, &err))?;
        out.extend(take(writer));
        if out.len() > DECOMPRESSED_CHUNK_BYTES_MAX {
            return Err(Exception::throw_range(
                ctx,
                &format!("A chunk decompressed to more than {DECOMPRESSED_CHUNK_BYTES_MAX} bytes."),
            ));
        }
    }
    Ok(out)
}

#[rquickjs::methods]
impl Codec {
    /// Feeds a chunk; returns the bytes produced so far.
    pub fn push<'js>(
        &mut self,
        ctx: Ctx<'js>,
        chunk: TypedArray<'js, u8>,
    ) -> Result<ArrayBuffer<'js>> {
        let input = chunk.as_bytes().unwrap_or(&[]);
        let out = match &mut self.state {
            State::GzipEncode(w) => pump(&ctx, w, |w| std::mem::take(w.get_mut()), input)?,
            State::DeflateEncode(w) => pump(&ctx, w, |w| std::mem::take(w.get_mut()), input)?,
            State::RawEncode(w) => pump(&ctx, w, |w| std::mem::take(w.get_mut()), input)?,
            State::GzipDecode(w) => pump(&ctx, w, |w| std::mem::take(w.get_mut()), input)?,
            State::DeflateDecode(w) => pump(&ctx, w, |w| std::mem::take(w.get_mut()), input)?,
            State::RawDecode(w) => pump(&ctx, w, |w| std::mem::take(w.get_mut()), input)?,
            State::BrotliEncode(w) => pump(&ctx, &mut **w, |w| std::mem::take(w.get_mut()), input)?,
            State::BrotliDecode(w) => pump(&ctx, &mut **w, |w| std::mem::take(w.get_mut()), input)?,
            State::Finished => {
                return Err(Exception::throw_type(&ctx, "The stream is already closed."))
            }
        };
        ArrayBuffer::new_copy(ctx, &out)
    }

    /// Flushes what was written so far (a sync flush for a compressor: the output up to here
    /// decodes on its own); returns the bytes it produced. `node:zlib`'s `flush()`.
    pub fn flush<'js>(&mut self, ctx: Ctx<'js>) -> Result<ArrayBuffer<'js>> {
        fn flushed<W: Write>(
            ctx: &Ctx<'_>,
            w: &mut W,
            take: fn(&mut W) -> Vec<u8>,
        ) -> Result<Vec<u8>> {
            w.flush().map_err(|err| corrupt(ctx, &err))?;
            Ok(take(w))
        }
        let out = match &mut self.state {
            State::GzipEncode(w) => flushed(&ctx, w, |w| std::mem::take(w.get_mut()))?,
            State::DeflateEncode(w) => flushed(&ctx, w, |w| std::mem::take(w.get_mut()))?,
            State::RawEncode(w) => flushed(&ctx, w, |w| std::mem::take(w.get_mut()))?,
            State::GzipDecode(w) => flushed(&ctx, w, |w| std::mem::take(w.get_mut()))?,
            State::DeflateDecode(w) => flushed(&ctx, w, |w| std::mem::take(w.get_mut()))?,
            State::RawDecode(w) => flushed(&ctx, w, |w| std::mem::take(w.get_mut()))?,
            State::BrotliEncode(w) => flushed(&ctx, &mut **w, |w| std::mem::take(w.get_mut()))?,
            State::BrotliDecode(w) => flushed(&ctx, &mut **w, |w| std::mem::take(w.get_mut()))?,
            State::Finished => Vec::new(),
        };
        ArrayBuffer::new_copy(ctx, &out)
    }

    /// Ends the stream; returns the last bytes. A decompression whose input stopped early fails.
    pub fn finish<'js>(&mut self, ctx: Ctx<'js>) -> Result<ArrayBuffer<'js>> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        let out = match state {
            State::GzipEncode(w) => w.finish(),
            State::DeflateEncode(w) => w.finish(),
            State::RawEncode(w) => w.finish(),
            State::GzipDecode(w) => w.finish(),
            State::DeflateDecode(w) => w.finish(),
            State::RawDecode(w) => w.finish(),
            State::BrotliEncode(w) => Ok(w.into_inner()),
            State::BrotliDecode(w) => w.into_inner().map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "unexpected end of file")
            }),
            State::Finished => Ok(Vec::new()),
        }
        .map_err(|err| corrupt(&ctx, &err))?;
        ArrayBuffer::new_copy(ctx, &out)
    }
}
