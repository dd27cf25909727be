//! Response bodies of `stub.fetch()` calls between nodes, streamed: the owner sends the head as
//! soon as the object answers and then the body chunk by chunk (`Objects.FetchStream`), so a
//! Server-Sent Events stream or a large download from an object on another node flows as it
//! is written instead of after it ends.
//!
//! Guarantees: chunks keep their order; at most [`FETCH_PARTS_QUEUED_MAX`] parts of at most
//! [`FETCH_PART_BYTES_MAX`] bytes wait each way, so a slow reader holds back the object rather
//! than growing memory; a body that fails on the owner, or a connection that drops mid-body,
//! ends the caller's body with an error, never with a truncated body that looks complete.

use bytes::Bytes;
use futures_util::Stream;
use http_body_util::BodyExt;
use kiln_proto::cluster::{fetch_part, FetchPart, FetchReply};
use kiln_runtime::{Body, BoxError, ChannelBody};
use tokio::sync::mpsc;

use super::wire;

/// The largest chunk one part carries (a body's larger chunks are split).
pub const FETCH_PART_BYTES_MAX: usize = 256 * 1024;
/// Parts queued between the body and the gRPC stream, and between the stream and the caller.
pub const FETCH_PARTS_QUEUED_MAX: usize = 16;

/// The owner's side: the head, then `body`'s chunks, as the stream the RPC answers with.
pub fn send(
    head: FetchReply,
    body: Option<Body>,
) -> impl Stream<Item = Result<FetchPart, tonic::Status>> + Send + 'static {
    let (sender, receiver) = mpsc::channel::<FetchPart>(FETCH_PARTS_QUEUED_MAX);
    let part = |kind| FetchPart { kind: Some(kind) };
    // The channel has room for the head: it is the first message.
    let _ = sender.try_send(part(fetch_part::Kind::Head(head)));
    if let Some(body) = body {
        tokio::spawn(pump(body, sender));
    }
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|part| (Ok(part), receiver))
    })
}

/// Sends `body` to the caller until it ends, fails, or the caller goes away (the body is then
/// dropped, which cancels the object's stream).
async fn pump(mut body: Body, sender: mpsc::Sender<FetchPart>) {
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue, // trailers: not carried
            },
            Err(err) => {
                let failed = FetchPart {
                    kind: Some(fetch_part::Kind::Error(err.to_string())),
                };
                let _ = sender.send(failed).await;
                return;
            }
        };
        for piece in data.chunks(FETCH_PART_BYTES_MAX) {
            let chunk = FetchPart {
                kind: Some(fetch_part::Kind::Chunk(piece.to_vec())),
            };
            if sender.send(chunk).await.is_err() {
                return;
            }
        }
    }
}

/// The caller's side: an HTTP response from the head, whose body is the rest of `parts`.
pub fn receive(
    head: FetchReply,
    parts: tonic::Streaming<FetchPart>,
    node: u64,
) -> http::Response<Body> {
    let (sender, body) = ChannelBody::channel_of_length(FETCH_PARTS_QUEUED_MAX, head.body_length);
    tokio::spawn(forward(parts, sender, node, head.body_length));
    let mut response = http::Response::new(body);
    *response.status_mut() = http::StatusCode::from_u16(u16::try_from(head.status).unwrap_or(500))
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = wire::header_map(&head.headers);
    response
}

fn failed(message: String) -> Result<Bytes, BoxError> {
    Err(message.into())
}

/// Feeds the caller's body from the peer's parts. With a known length, a body that ends short
/// of it is an error (the channel body would otherwise end early without one).
async fn forward(
    mut parts: tonic::Streaming<FetchPart>,
    sender: mpsc::Sender<Result<Bytes, BoxError>>,
    node: u64,
    length: Option<u64>,
) {
    let mut received: u64 = 0;
    loop {
        let item = match parts.message().await {
            Ok(Some(FetchPart {
                kind: Some(fetch_part::Kind::Chunk(chunk)),
            })) => {
                received += chunk.len() as u64;
                if length.is_some_and(|length| received > length) {
                    failed(format!("node {node} sent more body than it announced"))
                } else {
                    Ok(Bytes::from(chunk))
                }
            }
            Ok(Some(FetchPart {
                kind: Some(fetch_part::Kind::Error(message)),
            })) => failed(message),
            Ok(Some(_)) => failed(format!("node {node} sent a malformed response body")),
            Ok(None) => {
                if length.is_some_and(|length| received != length) {
                    let _ = sender
                        .send(failed(format!("node {node} ended the body early")))
                        .await;
                }
                return;
            }
            Err(status) => failed(format!(
                "the connection to node {node} failed mid-body: {}",
                status.message()
            )),
        };
        let stop = item.is_err();
        if sender.send(item).await.is_err() || stop {
            return;
        }
    }
}
