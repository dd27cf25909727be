//! Object calls on the wire: turning runtime requests, responses and errors into the
//! `kiln.cluster` messages and back. Every conversion from a peer's message is checked; a
//! malformed one is an error, never a panic.

use bytes::Bytes;
use http_body_util::BodyExt;
use kiln_proto::cluster::{call_error, CallError, Header, ObjectAddress};
use kiln_runtime::{Body, Error, ObjectTarget, Worker};

/// The largest request or response body an object call carries between nodes.
pub const CALL_BODY_BYTES_MAX: usize = 32 * 1024 * 1024;

pub fn address(worker: &Worker, target: &ObjectTarget) -> ObjectAddress {
    ObjectAddress {
        worker: worker.name().to_owned(),
        binding: target.binding as u32,
        id: target.id.to_vec(),
        name: target.name.clone(),
    }
}

pub fn target(address: &ObjectAddress) -> Result<ObjectTarget, String> {
    let id: [u8; 32] = address
        .id
        .as_slice()
        .try_into()
        .map_err(|_| format!("an object id is 32 bytes, not {}", address.id.len()))?;
    Ok(ObjectTarget {
        binding: address.binding as usize,
        id,
        name: address.name.clone(),
    })
}

pub fn headers(map: &http::HeaderMap) -> Vec<Header> {
    map.iter()
        .map(|(name, value)| Header {
            name: name.as_str().to_owned(),
            value: value.as_bytes().to_vec(),
        })
        .collect()
}

pub fn header_map(headers: &[Header]) -> http::HeaderMap {
    let mut map = http::HeaderMap::with_capacity(headers.len());
    for header in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(header.name.as_bytes()),
            http::HeaderValue::from_bytes(&header.value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// Reads a body whole, refusing one past [`CALL_BODY_BYTES_MAX`].
pub async fn collect(mut body: Body) -> Result<Bytes, Error> {
    let mut whole = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|err| {
            Error::Exception(format!("Error: a Durable Object call's body failed: {err}"))
        })?;
        if let Ok(data) = frame.into_data() {
            if whole.len() + data.len() > CALL_BODY_BYTES_MAX {
                return Err(Error::Exception(format!(
                    "Error: a Durable Object call's body is larger than {CALL_BODY_BYTES_MAX} bytes"
                )));
            }
            whole.extend_from_slice(&data);
        }
    }
    Ok(whole.freeze())
}

/// A runtime error as the caller's node will see it.
pub fn call_error(err: &Error) -> CallError {
    let kind = match err {
        Error::Overloaded | Error::Shutdown => call_error::Kind::Unavailable,
        _ => call_error::Kind::Failed,
    };
    CallError {
        kind: kind as i32,
        message: match err {
            Error::Exception(text) | Error::Startup(text) | Error::NoHandler(text) => text.clone(),
            other => other.to_string(),
        },
        leader_hint: None,
        http_status: u32::from(err.http_status()),
    }
}

pub fn not_leader(leader: Option<u64>) -> CallError {
    CallError {
        kind: call_error::Kind::NotLeader as i32,
        message: "this node does not own the object".into(),
        leader_hint: leader,
        http_status: 503,
    }
}

/// The runtime error a peer's answer stands for.
pub fn runtime_error(err: &CallError) -> Error {
    match err.message.as_str() {
        "Worker exceeded CPU time limit." => Error::CpuLimit,
        "Worker exceeded memory limit." => Error::MemoryLimit,
        _ if err.http_status == 503 => Error::Overloaded,
        message => Error::Exception(message.to_owned()),
    }
}

/// A moved hibernatable socket on the wire.
pub fn moved_to_wire(moved: kiln_runtime::MovedSocket) -> kiln_proto::cluster::MovedSocket {
    let (request, response) = moved.auto_response.unzip();
    kiln_proto::cluster::MovedSocket {
        object: Some(ObjectAddress {
            worker: moved.worker,
            binding: moved.binding as u32,
            id: moved.id.to_vec(),
            name: moved.name,
        }),
        tags: moved.tags,
        attachment: moved.attachment,
        auto_response_request: request,
        auto_response_response: response,
        pending: moved
            .pending
            .into_iter()
            .filter(|frame| !matches!(frame, kiln_runtime::Frame::Moved(_)))
            .map(super::tunnel::to_wire)
            .collect(),
    }
}

/// A peer's moved socket, checked.
pub fn moved_from_wire(
    moved: kiln_proto::cluster::MovedSocket,
) -> Result<kiln_runtime::MovedSocket, String> {
    let address = moved.object.ok_or("a moved socket names no object")?;
    let target = target(&address)?;
    Ok(kiln_runtime::MovedSocket {
        worker: address.worker,
        binding: target.binding,
        id: target.id,
        name: target.name,
        tags: moved.tags,
        attachment: moved.attachment,
        auto_response: moved
            .auto_response_request
            .zip(moved.auto_response_response),
        pending: moved
            .pending
            .into_iter()
            .filter_map(super::tunnel::from_wire)
            .filter(|frame| !matches!(frame, kiln_runtime::Frame::Moved(_)))
            .collect(),
    })
}
