//! Runs Workers' JavaScript on QuickJS-ng isolates with Cloudflare's Web APIs and limits.
//!
//! The boundary: callers build a [`Worker`] from a [`WorkerScript`], start a [`Runtime`] (the
//! JS thread pool) and deliver events to it with `http` types and [`Body`]. No rquickjs type
//! crosses this boundary, so another engine can sit behind the same API.

pub mod assets;
mod body;
mod bytecode;
pub mod cf;
pub mod compat;
mod connect;
pub mod content_coding;
pub mod dispatch;
mod error;
mod event;
mod isolate;
pub mod kv;
pub mod limits;
mod loader;
pub mod object;
mod pool;
pub mod queue;
pub mod r2;
pub mod script_format;
pub mod service;
pub mod site;
mod socket;
mod sql;
pub mod trace;
mod web;
mod worker;

pub use body::{boxed, empty, full, Body, BoxError, ChannelBody};
pub use error::Error;
pub use event::email::Envelope as EmailEnvelope;
pub use isolate::allocator::configure_mimalloc;
pub use kv::KvBinding;
pub use object::{
    d1_id, d1_namespace, workflow_class, workflow_namespace, DurableObjectBinding, ObjectPlacement,
    ObjectStore, ObjectTarget, PlacedFuture, StoreError, D1_CLASS, D1_OBJECT_NAME,
    WORKFLOW_CLASS_PREFIX,
};
pub use pool::{Runtime, RuntimeOptions};
pub use service::ServiceBinding;
pub use socket::moved::{MovedSocket, MOVED_CLOSE_CODE, MOVED_CLOSE_REASON};
pub use socket::wire::{pump_websocket, websocket_config};
pub use socket::{Frame, PeerGone, WebSocketEnd, WebSocketUpgrade, NO_STATUS_CODE};
pub use worker::{
    ModuleKind, ModuleSource, Outbound, ScriptError, Worker, WorkerLimits, WorkerScript,
};
