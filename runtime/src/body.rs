//! Kiln's HTTP body type at the runtime's boundary: a boxed `http_body::Body` of `Bytes`, so a
//! body streams from the network into a worker and back out without being collected.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streaming request or response body.
pub type Body = BoxBody<Bytes, BoxError>;

pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Wraps any body whose error converts into [`BoxError`].
pub fn boxed<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed()
}

/// The receiving end of a body that a task produces chunk by chunk.
pub struct ChannelBody {
    receiver: tokio::sync::mpsc::Receiver<Result<Bytes, BoxError>>,
    /// The body's length when it is known before it is sent (a `Content-Length` for HTTP/1).
    length: Option<u64>,
}

impl ChannelBody {
    /// A body and the sender that feeds it; at most `capacity` chunks wait in between. With a
    /// `length` (known before it is sent), the sender must send exactly that many bytes.
    pub fn channel_of_length(
        capacity: usize,
        length: Option<u64>,
    ) -> (tokio::sync::mpsc::Sender<Result<Bytes, BoxError>>, Body) {
        let (sender, receiver) = tokio::sync::mpsc::channel(capacity);
        (sender, ChannelBody { receiver, length }.boxed())
    }
}

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        self.receiver
            .poll_recv(cx)
            .map(|chunk| chunk.map(|result| result.map(http_body::Frame::data)))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self.length {
            Some(length) => http_body::SizeHint::with_exact(length),
            None => http_body::SizeHint::default(),
        }
    }
}
