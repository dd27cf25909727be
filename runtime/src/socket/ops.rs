//! The JavaScript-facing operations of WebSockets (`op_ws_*`): pairs, sending and closing,
//! `accept()`, and the hibernation API's bookkeeping. Nothing here trusts what JavaScript
//! passes: unknown ids, oversized messages and bad close codes become exceptions.

use bytes::Bytes;
use rquickjs::prelude::Func;
use rquickjs::{ArrayBuffer, Ctx, Exception, Object, Result, TypedArray, Value};

use super::hibernation;
use super::moved::{MOVED_CLOSE_CODE, MOVED_CLOSE_REASON};
use super::table::{ObjectKey, SendOutcome, SocketHome, TableError};
use super::{Frame, WebSocketEnd, NO_STATUS_CODE};
use crate::isolate;
use crate::limits::WEBSOCKET_MESSAGE_BYTES_MAX;
use crate::object::ops::{binding, target};
use crate::web;

pub fn register(_ctx: &Ctx<'_>, ops: &Object<'_>) -> Result<()> {
    ops.set("op_ws_pair", Func::from(op_ws_pair))?;
    ops.set("op_ws_send", Func::from(op_ws_send))?;
    ops.set("op_ws_close", Func::from(op_ws_close))?;
    ops.set("op_ws_accept", Func::from(op_ws_accept))?;
    ops.set("op_ws_hibernate", Func::from(op_ws_hibernate))?;
    ops.set("op_ws_object_sockets", Func::from(op_ws_object_sockets))?;
    ops.set("op_ws_tags", Func::from(op_ws_tags))?;
    ops.set("op_ws_attachment_set", Func::from(op_ws_attachment_set))?;
    ops.set("op_ws_attachment_get", Func::from(op_ws_attachment_get))?;
    ops.set(
        "op_ws_auto_response_set",
        Func::from(op_ws_auto_response_set),
    )?;
    ops.set(
        "op_ws_auto_response_get",
        Func::from(op_ws_auto_response_get),
    )?;
    ops.set(
        "op_ws_auto_response_timestamp",
        Func::from(op_ws_auto_response_timestamp),
    )?;
    Ok(())
}

fn socket_id(ctx: &Ctx<'_>, id: f64) -> Result<u64> {
    if id.is_finite() && id >= 1.0 && id.fract() == 0.0 && id < 9_007_199_254_740_992.0 {
        Ok(id as u64)
    } else {
        Err(Exception::throw_internal(ctx, "malformed WebSocket id"))
    }
}

fn throw(ctx: &Ctx<'_>, err: TableError) -> rquickjs::Error {
    Exception::throw_type(ctx, &err.to_string())
}

fn object_key(ctx: &Ctx<'_>, index: u32, id_hex: &str) -> Result<ObjectKey> {
    let namespace = binding(ctx, index)?.namespace;
    let id = target(ctx, index, id_hex, None)?.id;
    Ok(ObjectKey { namespace, id })
}

/// Registers an end that arrived in this isolate (a new pair, or a response from another
/// worker) and returns its id. The isolate owns it until it is handed out or hibernated.
pub fn adopt(ctx: &Ctx<'_>, end: WebSocketEnd) -> Result<u64> {
    let data = isolate::data(ctx)?;
    let id = data
        .services
        .runtime
        .sockets()
        .insert(end)
        .map_err(|err| throw(ctx, err))?;
    data.sockets.borrow_mut().insert(id);
    Ok(id)
}

/// Hands an unaccepted end out of the isolate (a response's `webSocket`).
pub fn release(ctx: &Ctx<'_>, id: f64) -> Result<WebSocketEnd> {
    let id = socket_id(ctx, id)?;
    let data = isolate::data(ctx)?;
    let end = data
        .services
        .runtime
        .sockets()
        .take(id)
        .map_err(|err| match err {
            TableError::AlreadyAccepted => Exception::throw_type(
                ctx,
                "Can't return WebSocket in a Response after calling accept().",
            ),
            other => throw(ctx, other),
        })?;
    data.sockets.borrow_mut().remove(&id);
    Ok(end)
}

fn op_ws_pair(ctx: Ctx<'_>) -> Result<Vec<f64>> {
    let (a, b) = WebSocketEnd::pair();
    let a = adopt(&ctx, a)?;
    let b = adopt(&ctx, b)?;
    Ok(vec![a as f64, b as f64])
}

/// Sends a string or bytes. Returns false if the peer is gone (the frame is dropped, as
/// Cloudflare drops sends on a disconnected socket).
fn op_ws_send<'js>(ctx: Ctx<'js>, id: f64, message: Value<'js>) -> Result<bool> {
    let id = socket_id(&ctx, id)?;
    let frame = if let Some(text) = message.as_string() {
        Frame::Text(text.to_string()?)
    } else if let Some(buffer) = ArrayBuffer::from_value(message.clone()) {
        Frame::Binary(Bytes::copy_from_slice(buffer.as_bytes().unwrap_or(&[])))
    } else if let Ok(array) = TypedArray::<u8>::from_value(message) {
        Frame::Binary(Bytes::copy_from_slice(array.as_bytes().unwrap_or(&[])))
    } else {
        return Err(Exception::throw_type(
            &ctx,
            "WebSocket send() accepts only a string, an ArrayBuffer or an ArrayBufferView.",
        ));
    };
    let size = match &frame {
        Frame::Text(text) => text.len(),
        Frame::Binary(bytes) => bytes.len(),
        Frame::Close { .. } | Frame::Error(_) | Frame::Moved(_) | Frame::State(_) => 0,
    };
    if size > WEBSOCKET_MESSAGE_BYTES_MAX {
        return Err(Exception::throw_range(
            &ctx,
            &format!("WebSocket message is too large: {size} bytes (at most {WEBSOCKET_MESSAGE_BYTES_MAX})."),
        ));
    }
    let table = isolate::data(&ctx)?.services.runtime.sockets();
    match table.send(id, frame) {
        Ok(SendOutcome::Sent) => Ok(true),
        Ok(SendOutcome::PeerGone) | Err(TableError::Unknown) => Ok(false),
        Ok(SendOutcome::Full) => Err(crate::web::throw_error(
            &ctx,
            "WebSocket send buffer is full: the other end is not reading.",
        )),
        Err(err) => Err(throw(&ctx, err)),
    }
}

fn op_ws_close(ctx: Ctx<'_>, id: f64, code: u16, reason: String) -> Result<()> {
    let id = socket_id(&ctx, id)?;
    if code != NO_STATUS_CODE && !super::is_valid_close_code(code) {
        return Err(Exception::throw_range(
            &ctx,
            &format!("Invalid WebSocket close code: {code}."),
        ));
    }
    let table = isolate::data(&ctx)?.services.runtime.sockets();
    let _ = table.send(id, Frame::Close { code, reason });
    Ok(())
}

/// `accept()`: the peer's frames are delivered to the prelude's `dispatchSocketEvent` on this
/// isolate, in order, until the close; then the end leaves the table.
fn op_ws_accept(ctx: Ctx<'_>, id: f64) -> Result<()> {
    let id = socket_id(&ctx, id)?;
    let table = isolate::data(&ctx)?.services.runtime.sockets();
    let mut frames = table.take_receiver(id).map_err(|err| throw(&ctx, err))?;
    let task_ctx = ctx.clone();
    ctx.spawn(async move {
        loop {
            let frame = frames.recv().await;
            if matches!(frame, Some(Frame::State(_))) {
                continue;
            }
            let closing = !matches!(frame, Some(Frame::Text(_)) | Some(Frame::Binary(_)));
            if let Err(err) = deliver(&task_ctx, id, frame) {
                let text = web::describe_error(&task_ctx, err);
                tracing::error!(target: "kiln::worker", "Uncaught (in WebSocket event) {text}");
            }
            if closing {
                break;
            }
        }
        if let Ok(data) = isolate::data(&task_ctx) {
            data.sockets.borrow_mut().remove(&id);
            data.services.runtime.sockets().remove(id);
        }
    });
    Ok(())
}

/// Calls `dispatchSocketEvent(id, kind, data, code, reason, wasClean)`.
fn deliver(ctx: &Ctx<'_>, id: u64, frame: Option<Frame>) -> Result<()> {
    web::run_microtasks(ctx);
    let dispatch = web::internal(ctx, "dispatchSocketEvent")?;
    let id = id as f64;
    match frame {
        Some(Frame::Text(text)) => dispatch.call((id, "message", text)),
        Some(Frame::Binary(bytes)) => {
            let buffer = ArrayBuffer::new_copy(ctx.clone(), &bytes)?;
            dispatch.call((id, "message", buffer))
        }
        Some(Frame::Close { code, reason }) => {
            dispatch.call((id, "close", rquickjs::Undefined, code, reason, true))
        }
        Some(Frame::Error(message)) => dispatch.call((id, "error", message)),
        Some(Frame::State(_)) => Ok(()),
        // JavaScript's end cannot follow its peer to another node.
        Some(Frame::Moved(_)) => dispatch.call((
            id,
            "close",
            rquickjs::Undefined,
            MOVED_CLOSE_CODE,
            MOVED_CLOSE_REASON,
            true,
        )),
        None => dispatch.call((
            id,
            "close",
            rquickjs::Undefined,
            1006,
            super::DISCONNECTED_REASON,
            false,
        )),
    }
}

/// `ctx.acceptWebSocket(ws, tags)`: the socket becomes the object's; its frames are delivered
/// as events to the object by a pump outside the isolate (see [`hibernation`]).
fn op_ws_hibernate(
    ctx: Ctx<'_>,
    id: f64,
    index: u32,
    id_hex: String,
    name: Option<String>,
    tags: Vec<String>,
) -> Result<()> {
    let socket = socket_id(&ctx, id)?;
    let key = object_key(&ctx, index, &id_hex)?;
    let target = target(&ctx, index, &id_hex, name)?;
    let data = isolate::data(&ctx)?;
    let runtime = data.services.runtime.clone();
    let home = SocketHome {
        worker: data.worker.name().to_owned(),
        binding: target.binding,
        name: target.name.clone(),
    };
    let frames = runtime
        .sockets()
        .hibernate(socket, key, home, tags, None)
        .map_err(|err| match err {
            TableError::AlreadyAccepted => crate::web::throw_error(
                &ctx,
                "Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`",
            ),
            other => crate::web::throw_error(&ctx, &other.to_string()),
        })?;
    data.sockets.borrow_mut().remove(&socket);
    let worker = std::sync::Arc::clone(&data.worker);
    drop(data);
    tokio::task::spawn_local(hibernation::pump(runtime, worker, target, socket, frames));
    Ok(())
}

fn op_ws_object_sockets(
    ctx: Ctx<'_>,
    index: u32,
    id_hex: String,
    tag: Option<String>,
) -> Result<Vec<f64>> {
    let key = object_key(&ctx, index, &id_hex)?;
    let table = isolate::data(&ctx)?.services.runtime.sockets();
    Ok(table
        .object_sockets(&key, tag.as_deref())
        .into_iter()
        .map(|id| id as f64)
        .collect())
}

fn op_ws_tags(ctx: Ctx<'_>, id: f64) -> Result<Option<Vec<String>>> {
    let id = socket_id(&ctx, id)?;
    Ok(isolate::data(&ctx)?.services.runtime.sockets().tags(id))
}

fn op_ws_attachment_set(ctx: Ctx<'_>, id: f64, attachment: Option<String>) -> Result<()> {
    let id = socket_id(&ctx, id)?;
    let table = isolate::data(&ctx)?.services.runtime.sockets();
    table
        .set_attachment(id, attachment)
        .map_err(|err| throw(&ctx, err))
}

fn op_ws_attachment_get(ctx: Ctx<'_>, id: f64) -> Result<Option<String>> {
    let id = socket_id(&ctx, id)?;
    Ok(isolate::data(&ctx)?
        .services
        .runtime
        .sockets()
        .attachment(id))
}

fn op_ws_auto_response_set(
    ctx: Ctx<'_>,
    index: u32,
    id_hex: String,
    request: Option<String>,
    response: Option<String>,
) -> Result<()> {
    let key = object_key(&ctx, index, &id_hex)?;
    let pair = request.zip(response);
    isolate::data(&ctx)?
        .services
        .runtime
        .sockets()
        .set_auto_response(key, pair);
    Ok(())
}

fn op_ws_auto_response_get(
    ctx: Ctx<'_>,
    index: u32,
    id_hex: String,
) -> Result<Option<Vec<String>>> {
    let key = object_key(&ctx, index, &id_hex)?;
    let table = isolate::data(&ctx)?.services.runtime.sockets();
    Ok(table
        .auto_response(&key)
        .map(|(request, response)| vec![request, response]))
}

fn op_ws_auto_response_timestamp(ctx: Ctx<'_>, id: f64) -> Result<Option<f64>> {
    let id = socket_id(&ctx, id)?;
    Ok(isolate::data(&ctx)?
        .services
        .runtime
        .sockets()
        .auto_response_timestamp(id))
}
