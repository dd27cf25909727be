//! HTTP content codings as Cloudflare's runtime handles them: a `fetch()` response compressed
//! with gzip or deflate reaches the worker decoded (its `Content-Encoding` header stays), and a
//! response leaving the node for a client is compressed as its `Content-Encoding` header says,
//! unless the worker made it with `encodeBody: "manual"` (its body is already encoded).
//!
//! Guarantees: decoding works in bounded steps (at most [`CODING_INPUT_STEP_BYTES`] of input
//! at a time, so one compressed chunk cannot expand into one huge buffer); a corrupt stream
//! ends the body with an error; a coding Kiln cannot produce (br, zstd) is never claimed for a
//! body it did not encode: the header is dropped and the body goes out as it is.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use flate2::write::{GzDecoder, GzEncoder, ZlibDecoder, ZlibEncoder};
use http::header::{HeaderMap, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH};
use http_body::Frame;
use http_body_util::BodyExt;

use crate::body::{Body, BoxError};

/// Compressed input fed to a decoder per step.
pub const CODING_INPUT_STEP_BYTES: usize = 8 * 1024;
/// The zlib level Kiln compresses responses with (speed over the last few percent of size).
pub const CODING_LEVEL: u32 = 4;

/// Marks a response whose body the worker encoded itself (`encodeBody: "manual"`).
#[derive(Debug, Clone, Copy)]
pub struct ManualEncoding;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
}

fn coding_of(headers: &HeaderMap) -> Option<Result<Coding, ()>> {
    let value = headers.get(CONTENT_ENCODING)?.to_str().unwrap_or("").trim();
    if value.is_empty() || value.eq_ignore_ascii_case("identity") {
        return None;
    }
    Some(
        if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
            Ok(Coding::Gzip)
        } else if value.eq_ignore_ascii_case("deflate") {
            Ok(Coding::Deflate)
        } else {
            Err(())
        },
    )
}

/// Keeps only the codings Kiln can decode in an outgoing request's `Accept-Encoding`, so an
/// origin never answers in one the worker could not read.
pub fn restrict_accept_encoding(headers: &mut HeaderMap) {
    let Some(value) = headers.get(ACCEPT_ENCODING) else {
        return;
    };
    let text = value.to_str().unwrap_or("");
    let kept: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|item| {
            let coding = item.split(';').next().unwrap_or("").trim();
            ["gzip", "x-gzip", "deflate", "identity"]
                .iter()
                .any(|known| coding.eq_ignore_ascii_case(known))
        })
        .collect();
    match http::HeaderValue::from_str(&kept.join(", ")) {
        Ok(value) if !kept.is_empty() => {
            headers.insert(ACCEPT_ENCODING, value);
        }
        _ => {
            headers.remove(ACCEPT_ENCODING);
        }
    }
}

/// A fetched body, decoded when its headers say gzip or deflate. The decoded length is not
/// the header's, so `Content-Length` goes.
pub fn decode_fetched(headers: &mut HeaderMap, body: Body) -> Body {
    match coding_of(headers) {
        Some(Ok(coding)) => {
            headers.remove(CONTENT_LENGTH);
            Transcoded::boxed(body, Transcoder::decoder(coding))
        }
        _ => body,
    }
}

/// A response about to leave the node: compressed as its `Content-Encoding` says, unless the
/// worker encoded it itself.
pub fn encode_for_client(response: http::Response<Body>) -> http::Response<Body> {
    let status = response.status();
    let bodiless = status.is_informational()
        || status == http::StatusCode::NO_CONTENT
        || status == http::StatusCode::NOT_MODIFIED;
    if bodiless || response.extensions().get::<ManualEncoding>().is_some() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    match coding_of(&parts.headers) {
        None => http::Response::from_parts(parts, body),
        Some(Ok(coding)) => {
            parts.headers.remove(CONTENT_LENGTH);
            let body = Transcoded::boxed(body, Transcoder::encoder(coding));
            http::Response::from_parts(parts, body)
        }
        Some(Err(())) => {
            parts.headers.remove(CONTENT_ENCODING);
            http::Response::from_parts(parts, body)
        }
    }
}

/// One direction of one coding, writing into a buffer that is drained after each step.
enum Transcoder {
    GzipDecode(GzDecoder<Vec<u8>>),
    DeflateDecode(ZlibDecoder<Vec<u8>>),
    GzipEncode(GzEncoder<Vec<u8>>),
    DeflateEncode(ZlibEncoder<Vec<u8>>),
}

impl Transcoder {
    fn decoder(coding: Coding) -> Transcoder {
        match coding {
            Coding::Gzip => Transcoder::GzipDecode(GzDecoder::new(Vec::new())),
            Coding::Deflate => Transcoder::DeflateDecode(ZlibDecoder::new(Vec::new())),
        }
    }

    fn encoder(coding: Coding) -> Transcoder {
        let level = flate2::Compression::new(CODING_LEVEL);
        match coding {
            Coding::Gzip => Transcoder::GzipEncode(GzEncoder::new(Vec::new(), level)),
            Coding::Deflate => Transcoder::DeflateEncode(ZlibEncoder::new(Vec::new(), level)),
        }
    }

    /// Feeds `input` and flushes, so everything it decodes (or a sync-flushed block of what it
    /// encodes) comes out now: a stream of events (SSE, NDJSON) keeps its pace through a coding.
    fn write(&mut self, input: &[u8]) -> std::io::Result<()> {
        match self {
            Transcoder::GzipDecode(w) => w.write_all(input).and_then(|()| w.flush()),
            Transcoder::DeflateDecode(w) => w.write_all(input).and_then(|()| w.flush()),
            Transcoder::GzipEncode(w) => w.write_all(input).and_then(|()| w.flush()),
            Transcoder::DeflateEncode(w) => w.write_all(input).and_then(|()| w.flush()),
        }
    }

    /// Ends the stream: whatever the coder still holds goes out.
    fn finish(&mut self) -> std::io::Result<()> {
        match self {
            Transcoder::GzipDecode(w) => w.try_finish(),
            Transcoder::DeflateDecode(w) => w.try_finish(),
            Transcoder::GzipEncode(w) => w.try_finish(),
            Transcoder::DeflateEncode(w) => w.try_finish(),
        }
    }

    fn take_output(&mut self) -> Vec<u8> {
        let buffer = match self {
            Transcoder::GzipDecode(w) => w.get_mut(),
            Transcoder::DeflateDecode(w) => w.get_mut(),
            Transcoder::GzipEncode(w) => w.get_mut(),
            Transcoder::DeflateEncode(w) => w.get_mut(),
        };
        std::mem::take(buffer)
    }
}

/// A body run through a [`Transcoder`].
struct Transcoded {
    inner: Body,
    coder: Transcoder,
    /// Input not yet fed to the coder.
    pending: Bytes,
    finished: bool,
}

impl Transcoded {
    fn boxed(inner: Body, coder: Transcoder) -> Body {
        Transcoded {
            inner,
            coder,
            pending: Bytes::new(),
            finished: false,
        }
        .boxed()
    }
}

impl http_body::Body for Transcoded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            if !this.pending.is_empty() {
                let step = this
                    .pending
                    .split_to(this.pending.len().min(CODING_INPUT_STEP_BYTES));
                if let Err(err) = this.coder.write(&step) {
                    this.finished = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
                let output = this.coder.take_output();
                if !output.is_empty() {
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(output)))));
                }
                continue;
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(err))) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(err)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers are dropped: they describe the coded bytes.
                    if let Ok(data) = frame.into_data() {
                        this.pending = data;
                    }
                }
                Poll::Ready(None) => {
                    this.finished = true;
                    if let Err(err) = this.coder.finish() {
                        return Poll::Ready(Some(Err(err.into())));
                    }
                    let output = this.coder.take_output();
                    if !output.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(output)))));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(body: Body) -> Result<Vec<u8>, BoxError> {
        Ok(body.collect().await?.to_bytes().to_vec())
    }

    #[tokio::test]
    async fn gzip_round_trips_through_the_encoder_and_decoder() {
        let text = "hello ".repeat(50_000);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, "gzip".parse().unwrap());
        headers.insert(CONTENT_LENGTH, "300000".parse().unwrap());
        let mut response = http::Response::new(crate::body::full(text.clone()));
        *response.headers_mut() = headers.clone();
        let encoded = encode_for_client(response);
        assert!(encoded.headers().get(CONTENT_LENGTH).is_none());
        let compressed = collect(encoded.into_body()).await.unwrap();
        assert!(compressed.len() < text.len() / 10, "{}", compressed.len());
        let decoded = decode_fetched(&mut headers, crate::body::full(compressed));
        assert_eq!(collect(decoded).await.unwrap(), text.as_bytes());
        assert_eq!(headers.get(CONTENT_ENCODING).unwrap(), "gzip");
        assert!(headers.get(CONTENT_LENGTH).is_none());
    }

    #[tokio::test]
    async fn each_chunk_comes_out_when_it_goes_in() {
        // Two events compressed with a flush after each, as a streaming origin sends them.
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"event one\n").unwrap();
        encoder.flush().unwrap();
        let first = encoder.get_mut().split_off(0);
        encoder.write_all(b"event two\n").unwrap();
        let rest = encoder.finish().unwrap();
        let (sender, body) = crate::body::ChannelBody::channel_of_length(4, None);
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, "gzip".parse().unwrap());
        let mut decoded = decode_fetched(&mut headers, body);
        sender.send(Ok(Bytes::from(first))).await.unwrap();
        let frame = decoded.frame().await.unwrap().unwrap();
        assert_eq!(
            frame.into_data().unwrap(),
            &b"event one\n"[..],
            "not held back for the next chunk"
        );
        sender.send(Ok(Bytes::from(rest))).await.unwrap();
        drop(sender);
        assert_eq!(collect(decoded).await.unwrap(), b"event two\n");
    }

    #[tokio::test]
    async fn corrupt_input_ends_the_body_with_an_error() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, "deflate".parse().unwrap());
        let decoded = decode_fetched(&mut headers, crate::body::full(&b"not deflate at all"[..]));
        assert!(collect(decoded).await.is_err());
    }

    #[test]
    fn accept_encoding_keeps_only_what_kiln_decodes() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, "gzip, deflate, br, zstd".parse().unwrap());
        restrict_accept_encoding(&mut headers);
        assert_eq!(headers.get(ACCEPT_ENCODING).unwrap(), "gzip, deflate");
        headers.insert(ACCEPT_ENCODING, "br;q=1.0, zstd".parse().unwrap());
        restrict_accept_encoding(&mut headers);
        assert!(headers.get(ACCEPT_ENCODING).is_none());
    }

    #[tokio::test]
    async fn a_response_without_a_body_is_left_alone() {
        let mut response = http::Response::new(crate::body::empty());
        *response.status_mut() = http::StatusCode::NOT_MODIFIED;
        response
            .headers_mut()
            .insert(CONTENT_ENCODING, "gzip".parse().unwrap());
        let out = encode_for_client(response);
        assert_eq!(out.headers().get(CONTENT_ENCODING).unwrap(), "gzip");
        assert!(collect(out.into_body()).await.unwrap().is_empty());
    }

    #[test]
    fn a_coding_kiln_cannot_produce_is_not_claimed() {
        let mut response = http::Response::new(crate::body::full("plain"));
        response
            .headers_mut()
            .insert(CONTENT_ENCODING, "br".parse().unwrap());
        let out = encode_for_client(response);
        assert!(out.headers().get(CONTENT_ENCODING).is_none());
    }
}
