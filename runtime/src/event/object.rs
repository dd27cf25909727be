//! Events for Durable Objects other than `fetch`: JS RPC calls and alarms. (`fetch` to an
//! object goes through `event::fetch` with an object target.)
//!
//! The prelude's actor delivers each event through the object's mailbox and input gate, and
//! resolves only once the output gate opens: every write the event made is durable.

use std::rc::Rc;

use rquickjs::{async_with, Array, Ctx};

use crate::error::Error;
use crate::isolate::{self, Isolate};
use crate::object::{to_hex, ObjectTarget};
use crate::socket::hibernation::SocketEvent;
use crate::socket::Frame;
use crate::web;

/// `[binding index, class name, id hex, name]`: how the prelude addresses an object.
pub fn address<'js>(ctx: &Ctx<'js>, target: &ObjectTarget) -> rquickjs::Result<Array<'js>> {
    let class = {
        let data = isolate::data(ctx)?;
        let bindings = &data.worker.script().durable_objects;
        match bindings.get(target.binding) {
            Some(binding) => binding.class_name.clone(),
            None => {
                return Err(rquickjs::Exception::throw_internal(
                    ctx,
                    "unknown Durable Object namespace",
                ))
            }
        }
    };
    let address = Array::new(ctx.clone())?;
    address.set(0, target.binding as u32)?;
    address.set(1, class)?;
    address.set(2, to_hex(&target.id))?;
    address.set(3, target.name.clone())?;
    Ok(address)
}

/// What a dispatch function gets after the object's address.
enum Args {
    /// A packed string and a number (RPC calls, alarms).
    Plain(String, u32),
    /// A hibernatable socket's id and event.
    Socket(u64, SocketEvent),
}

/// Calls the prelude's `dispatch` with the worker's exports and env, the object's address and
/// `args`, and waits for the promise it returns.
async fn dispatch<R>(
    isolate: Rc<Isolate>,
    function: &'static str,
    target: ObjectTarget,
    args: Args,
) -> Result<R, Error>
where
    R: for<'js> rquickjs::FromJs<'js> + Send + 'static,
{
    super::dispatch(isolate, function, move |ctx, call, exports, env| {
        let address = address(ctx, &target)?;
        match args {
            Args::Plain(text, number) => call.call((exports, env, address, text, number)),
            Args::Socket(socket, event) => {
                let event = socket_event(ctx, event)?;
                call.call((exports, env, address, socket as f64, event))
            }
        }
    })
    .await
}

/// A JS RPC call: the result is the prelude's serialization of `[ok, value or error]`.
pub async fn call(
    isolate: Rc<Isolate>,
    target: ObjectTarget,
    method: String,
    args: String,
    request_id: Option<[u8; crate::object::REQUEST_ID_BYTES]>,
) -> Result<String, Error> {
    // The request id in hex (empty without one), the method, the arguments.
    let request_hex = request_id
        .map(|id| crate::object::to_hex(&id))
        .unwrap_or_default();
    let packed = format!("{request_hex}\u{0}{method}\u{0}{args}");
    dispatch(
        isolate,
        "dispatchObjectCall",
        target,
        Args::Plain(packed, 0),
    )
    .await
}

/// Delivers a hibernatable WebSocket's message or close to the object (`webSocketMessage`,
/// `webSocketClose`); resolves once the handler finished and its writes are durable.
pub async fn socket(
    isolate: Rc<Isolate>,
    target: ObjectTarget,
    socket: u64,
    event: SocketEvent,
) -> Result<(), Error> {
    let args = Args::Socket(socket, event);
    let _: Option<bool> = dispatch(isolate, "dispatchObjectSocket", target, args).await?;
    Ok(())
}

/// Resets the isolate's live objects of `shard` (see [`crate::Runtime::fence`]).
pub async fn fence(isolate: Rc<Isolate>, shard: u32, shards: u32) {
    let context = isolate.context.clone();
    let _ = isolate
        .run(async move {
            async_with!(context => |ctx| {
                let failed = |err: rquickjs::Error| Error::Exception(web::describe_error(&ctx, err));
                web::run_microtasks(&ctx);
                let fence = web::internal(&ctx, "fenceObjects").map_err(failed)?;
                let belongs = rquickjs::Function::new(ctx.clone(), move |id_hex: String| {
                    crate::object::from_hex(&id_hex)
                        .is_some_and(|id| kiln_router::shard_of(&id, shards) == shard)
                })
                .map_err(failed)?;
                fence.call::<_, ()>((belongs,)).map_err(failed)
            })
            .await
        })
        .await;
}

/// `[kind, data, code, reason, wasClean]` for the prelude.
fn socket_event<'js>(ctx: &Ctx<'js>, event: SocketEvent) -> rquickjs::Result<Array<'js>> {
    let array = Array::new(ctx.clone())?;
    match event {
        SocketEvent::Message(Frame::Text(text)) => {
            array.set(0, "message")?;
            array.set(1, text)?;
        }
        SocketEvent::Message(Frame::Binary(bytes)) => {
            array.set(0, "message")?;
            array.set(1, rquickjs::ArrayBuffer::new_copy(ctx.clone(), &bytes)?)?;
        }
        SocketEvent::Message(Frame::Moved(_) | Frame::State(_)) => {
            array.set(0, "close")?;
            array.set(2, crate::socket::moved::MOVED_CLOSE_CODE)?;
            array.set(3, crate::socket::moved::MOVED_CLOSE_REASON)?;
            array.set(4, true)?;
        }
        SocketEvent::Message(Frame::Close { code, reason }) => {
            array.set(0, "close")?;
            array.set(2, code)?;
            array.set(3, reason)?;
            array.set(4, true)?;
        }
        SocketEvent::Close {
            code,
            reason,
            was_clean,
        } => {
            array.set(0, "close")?;
            array.set(2, code)?;
            array.set(3, reason)?;
            array.set(4, was_clean)?;
        }
        SocketEvent::Message(Frame::Error(message)) | SocketEvent::Error(message) => {
            array.set(0, "error")?;
            array.set(1, message)?;
        }
    }
    Ok(array)
}

/// Runs the object's `alarm()` handler; `Err` if it threw.
pub async fn alarm(
    isolate: Rc<Isolate>,
    target: ObjectTarget,
    retry_count: u32,
) -> Result<(), Error> {
    let _: Option<bool> = dispatch(
        isolate,
        "dispatchObjectAlarm",
        target,
        Args::Plain(String::new(), retry_count),
    )
    .await?;
    Ok(())
}
