//! The `email` event: a message delivered to `email(message, env, ctx)`, as Cloudflare Email
//! Routing delivers one (and `wrangler dev` does at `/cdn-cgi/handler/email`).

use std::rc::Rc;

use rquickjs::TypedArray;

use crate::error::Error;
use crate::isolate::Isolate;
use crate::limits::EMAIL_BYTES_MAX;

/// One message: the envelope's sender and recipient, and the raw RFC 5322 message.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub from: String,
    pub to: String,
    pub raw: Vec<u8>,
}

/// Runs the worker's `email` handler and waits for it and its `waitUntil()` work. `Some` is
/// the reason the handler gave `message.setReject()`.
pub async fn run(isolate: Rc<Isolate>, envelope: Envelope) -> Result<Option<String>, Error> {
    if envelope.raw.len() > EMAIL_BYTES_MAX {
        return Err(Error::Exception(format!(
            "Error: an email may be at most {EMAIL_BYTES_MAX} bytes"
        )));
    }
    super::dispatch::<Option<String>, _>(
        isolate,
        "dispatchEmail",
        move |ctx, dispatch, exports, env| {
            let raw = TypedArray::<u8>::new(ctx.clone(), envelope.raw)?;
            dispatch.call((exports, env, envelope.from, envelope.to, raw))
        },
    )
    .await
}
