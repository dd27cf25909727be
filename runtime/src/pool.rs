//! The JS thread pool: a fixed set of threads, each an event loop driving many isolates.
//!
//! Requests from outside wait in one bounded queue; each wakes one idle thread, so a thread
//! stuck in a long script (until its CPU limit stops it) never holds up requests other threads
//! can take. Work a thread's own JavaScript asks for, and objects' events, wait in that thread's
//! own queue. Each
//! thread keeps its own isolate per worker version, reused across requests: requests to one
//! isolate interleave at `await` points, as on Cloudflare. A full queue answers
//! [`Error::Overloaded`] at once instead of growing.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::oneshot;

use crate::body::Body;
use crate::error::Error;
use crate::event;
use crate::event::fetch::Target;
use crate::isolate::{Blank, Isolate};
use crate::limits::{ISOLATES_PER_THREAD_MAX, JOB_QUEUE_DEPTH_MAX};
use crate::object::{ObjectPlacement, ObjectStore, ObjectTarget};
use crate::socket::hibernation::SocketEvent;
use crate::socket::moved::MovedSocket;
use crate::socket::table::SocketTable;
use crate::socket::WebSocketEnd;
use crate::worker::Worker;

/// How the pool is built.
#[derive(Clone)]
pub struct RuntimeOptions {
    /// JS threads; defaults to one per core.
    pub threads: usize,
    /// Durable Object storage; without it, Durable Object bindings throw when used.
    pub store: Option<Arc<dyn ObjectStore>>,
    /// Where objects run; `None` runs every object here.
    pub placement: Option<Arc<dyn ObjectPlacement>>,
    /// This node's id in its cluster (0 for `kiln dev`); RPC routes name it.
    pub node_id: u64,
    /// The heap bytes a JS thread's cached isolates may hold together before idle ones are
    /// dropped, least recently used first (see `ThreadState::shed`).
    pub isolate_cache_bytes: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            store: None,
            placement: None,
            node_id: 0,
            isolate_cache_bytes: crate::limits::ISOLATE_CACHE_BYTES_PER_THREAD,
        }
    }
}

/// What isolates reach beyond themselves: the pool (to call objects) and object storage.
pub struct Services {
    pub runtime: Runtime,
    pub store: Option<Arc<dyn ObjectStore>>,
}

/// An event for one Durable Object.
pub enum ObjectEvent {
    Fetch {
        request: Box<http::Request<Body>>,
        responder: event::fetch::Responder,
    },
    /// A JS RPC call; `args` and the result are serialized by the prelude. A call with a
    /// request id is run at most once per id (a retry gets the first run's result).
    Call {
        method: String,
        args: String,
        request_id: Option<[u8; crate::object::REQUEST_ID_BYTES]>,
        responder: oneshot::Sender<Result<String, Error>>,
    },
    Alarm {
        retry_count: u32,
        responder: oneshot::Sender<Result<(), Error>>,
    },
    /// A frame or the close of a hibernatable WebSocket the object accepted.
    Socket {
        socket: u64,
        event: SocketEvent,
        responder: oneshot::Sender<Result<(), Error>>,
    },
}

enum Job {
    Fetch {
        worker: Arc<Worker>,
        request: Box<http::Request<Body>>,
        entrypoint: Option<String>,
        props: Option<String>,
        responder: event::fetch::Responder,
    },
    /// A JS RPC call to a worker's entrypoint (a service binding).
    Call {
        worker: Arc<Worker>,
        entrypoint: Option<String>,
        props: Option<String>,
        method: String,
        args: String,
        responder: oneshot::Sender<Result<String, Error>>,
    },
    Scheduled {
        worker: Arc<Worker>,
        cron: String,
        scheduled_time_ms: f64,
        responder: oneshot::Sender<Result<(), Error>>,
    },
    Load {
        worker: Arc<Worker>,
        responder: oneshot::Sender<Result<(), Error>>,
    },
    /// An incoming email for the worker's `email()` handler; answers the reason the handler
    /// rejected it with, if it did.
    Email {
        worker: Arc<Worker>,
        envelope: event::email::Envelope,
        responder: oneshot::Sender<Result<Option<String>, Error>>,
    },
    /// A batch of a queue's messages for the worker's `queue()` handler.
    Queue {
        worker: Arc<Worker>,
        queue: String,
        messages: String,
        responder: oneshot::Sender<Result<String, Error>>,
    },
    /// Resets every live object of `shard` (of `shards`) on this thread.
    Fence { shard: u32, shards: u32 },
    /// Trace items for a Tail Worker's `tail()` handler (a JSON array).
    Tail {
        worker: Arc<Worker>,
        events: String,
        responder: oneshot::Sender<Result<(), Error>>,
    },
    /// A call on an RPC target (an `RpcTarget` or function) an isolate on this thread exported.
    Target {
        route: crate::service::targets::Route,
        method: String,
        args: String,
        responder: oneshot::Sender<Result<String, Error>>,
    },
    Object {
        worker: Arc<Worker>,
        target: ObjectTarget,
        event: ObjectEvent,
    },
}

/// Jobs waiting for a JS thread: the pool's shared queue, or one thread's own. Each thread's
/// own queue carries its doorbell (`ready`), rung for a job pushed to that queue, or for one
/// pushed to the shared queue when the thread is idle.
struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: tokio::sync::Notify,
}

impl Queue {
    fn new() -> Arc<Queue> {
        Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: tokio::sync::Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Job>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pop(&self) -> Option<Job> {
        self.lock().pop_front()
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn push(&self, job: Job) -> Result<(), Error> {
        let mut jobs = self.lock();
        if jobs.len() >= JOB_QUEUE_DEPTH_MAX {
            return Err(Error::Overloaded);
        }
        jobs.push_back(job);
        assert!(jobs.len() <= JOB_QUEUE_DEPTH_MAX);
        Ok(())
    }
}

/// The JS threads that wait for work, most recently idle last. A job pushed to the shared queue
/// wakes one of them, and only an idle one: a thread stuck in JavaScript is never in this list,
/// so it cannot swallow a wake-up that an idle thread needed.
#[derive(Default)]
struct IdleThreads(Mutex<Vec<usize>>);

impl IdleThreads {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

thread_local! {
    /// On a JS thread: its pool (the address of the pool's shared queue) and its index.
    static JS_THREAD: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// The index of the JS thread this code runs on, if it runs on one.
pub(crate) fn current_thread() -> Option<usize> {
    JS_THREAD.get().map(|(_, index)| index)
}

/// The handle to the JS thread pool; cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    /// Stateless work, taken by whichever thread is free.
    queue: Arc<Queue>,
    /// Each thread's own queue: events for the Durable Objects that live on it, and the
    /// stateless work its own isolates ask for (service bindings, Dynamic Workers).
    threads: Arc<[Arc<Queue>]>,
    idle: Arc<IdleThreads>,
    /// The WebSocket ends JavaScript holds, shared by every thread.
    sockets: Arc<SocketTable>,
    placement: Option<Arc<dyn ObjectPlacement>>,
    /// This node's id in its cluster (0 for `kiln dev`).
    node_id: u64,
    /// Workers reachable through service bindings, by name.
    workers: Arc<std::sync::RwLock<HashMap<String, Arc<Worker>>>>,
    /// Dynamic Workers built by `env.LOADER`.
    dynamic: Arc<crate::loader::DynamicWorkers>,
    /// Live tails of scripts (`kiln tail`).
    tails: Arc<crate::trace::TailHub>,
    /// Counters per script and dispatch namespace.
    stats: Arc<crate::trace::Stats>,
}

impl Runtime {
    pub fn new(options: RuntimeOptions) -> Runtime {
        assert!(options.threads > 0, "the pool needs at least one thread");
        crate::isolate::allocator::configure_mimalloc();
        let queue = Queue::new();
        let threads: Arc<[Arc<Queue>]> = (0..options.threads).map(|_| Queue::new()).collect();
        let runtime = Runtime {
            queue: Arc::clone(&queue),
            threads: Arc::clone(&threads),
            idle: Arc::default(),
            sockets: Arc::default(),
            placement: options.placement.clone(),
            node_id: options.node_id,
            workers: Arc::default(),
            dynamic: Arc::default(),
            tails: Arc::default(),
            stats: Arc::default(),
        };
        for index in 0..options.threads {
            let services = (
                runtime.clone(),
                options.store.clone(),
                options.isolate_cache_bytes,
            );
            std::thread::Builder::new()
                .name(format!("kiln-js-{index}"))
                .stack_size(crate::limits::JS_THREAD_STACK_BYTES)
                .spawn(move || js_thread(index, services))
                .expect("spawning a JS thread at startup");
        }
        runtime
    }

    /// Fencing: this node no longer owns `shard` (of `shards`). Every live object of the shard
    /// is reset at once (queued events fail, held output is dropped, the next event re-creates
    /// it from storage), and its hibernatable WebSockets are handed to their peers to be
    /// re-attached to the new owner (`socket::moved`).
    pub fn fence(&self, shard: u32, shards: u32) {
        for index in 0..self.threads.len() {
            let _ = self.push_to(index, Job::Fence { shard, shards });
        }
        self.sockets
            .move_where(|id| kiln_router::shard_of(id, shards) == shard);
    }

    /// The WebSocket ends JavaScript holds on this runtime's isolates.
    pub fn sockets(&self) -> Arc<SocketTable> {
        Arc::clone(&self.sockets)
    }

    /// Delivers a hibernatable WebSocket's frame or close to its object.
    pub async fn object_socket(
        &self,
        worker: &Arc<Worker>,
        target: ObjectTarget,
        socket: u64,
        event: SocketEvent,
    ) -> Result<(), Error> {
        let (responder, result) = oneshot::channel();
        let event = ObjectEvent::Socket {
            socket,
            event,
            responder,
        };
        self.submit_object(worker, target, event)?;
        result.await.map_err(|_| Error::Shutdown)?
    }

    /// Queues stateless work. Asked for by JavaScript on one of this pool's threads (a service
    /// binding, a Dynamic Worker), it runs on that same thread, as Cloudflare runs a service
    /// binding's callee beside its caller: the caller is waiting anyway, and no other thread
    /// has to wake. Otherwise any thread takes it, and one idle thread is woken for it.
    fn submit(&self, job: Job) -> Result<(), Error> {
        if let Some((pool, index)) = JS_THREAD.get() {
            if pool == self.pool_id() {
                return self.push_to(index, job);
            }
        }
        self.queue.push(job)?;
        let idle = self.idle.lock().pop();
        if let Some(index) = idle {
            self.threads[index].ready.notify_one();
        }
        Ok(())
    }

    /// Queues a job on thread `index`'s own queue and rings its doorbell.
    fn push_to(&self, index: usize, job: Job) -> Result<(), Error> {
        self.threads[index].push(job)?;
        self.threads[index].ready.notify_one();
        Ok(())
    }

    fn pool_id(&self) -> usize {
        Arc::as_ptr(&self.queue) as usize
    }

    /// Queues an event on the thread that runs the object, so it has exactly one instance.
    fn submit_object(
        &self,
        worker: &Arc<Worker>,
        target: ObjectTarget,
        event: ObjectEvent,
    ) -> Result<(), Error> {
        let thread = kiln_router::thread_of(&target.id, self.threads.len());
        self.push_to(
            thread,
            Job::Object {
                worker: Arc::clone(worker),
                target,
                event,
            },
        )
    }

    /// Delivers a `fetch` event to a Durable Object.
    /// The object's placement, when it runs on another node.
    fn remote(&self, worker: &Worker, target: &ObjectTarget) -> Option<&Arc<dyn ObjectPlacement>> {
        self.placement
            .as_ref()
            .filter(|placement| !placement.is_local(worker, target))
    }

    /// `stub.fetch()`: runs the object's `fetch` here or on the node that owns it.
    pub async fn object_fetch(
        &self,
        worker: &Arc<Worker>,
        target: ObjectTarget,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>, Error> {
        if let Some(placement) = self.remote(worker, &target) {
            return placement.fetch(Arc::clone(worker), target, request).await;
        }
        self.object_fetch_here(worker, target, request).await
    }

    /// Re-attaches a hibernatable WebSocket whose object moved ([`MovedSocket`]) to the object's
    /// owner, here or on another node; returns the end the client's connection now talks to.
    pub async fn reattach_socket(&self, moved: MovedSocket) -> Result<WebSocketEnd, Error> {
        let worker = self.worker(&moved.worker).ok_or_else(|| {
            Error::Exception(format!(
                "Error: no worker {:?} on this node to re-attach a WebSocket to",
                moved.worker
            ))
        })?;
        let (edge, object) = WebSocketEnd::pair();
        let target = moved.target();
        match self.remote(&worker, &target) {
            Some(placement) => placement.reattach(worker, moved, object).await?,
            None => self.adopt_socket_here(&worker, moved, object)?,
        }
        Ok(edge)
    }

    /// Makes `end` a hibernatable socket of the moved socket's object on this node (the
    /// caller checked that this node owns it); the next message wakes the object.
    pub fn adopt_socket_here(
        &self,
        worker: &Arc<Worker>,
        moved: MovedSocket,
        end: WebSocketEnd,
    ) -> Result<(), Error> {
        let target = moved.target();
        let namespace = worker
            .script()
            .durable_objects
            .get(target.binding)
            .map(|binding| binding.namespace.clone())
            .ok_or_else(|| Error::Exception("Error: no such Durable Object binding".into()))?;
        let key = crate::socket::table::ObjectKey {
            namespace,
            id: target.id,
        };
        let (socket, frames) = self
            .sockets
            .adopt_moved(end, key, moved)
            .map_err(|err| Error::Exception(format!("Error: {err}")))?;
        tokio::spawn(crate::socket::hibernation::pump(
            self.clone(),
            Arc::clone(worker),
            target,
            socket,
            frames,
        ));
        Ok(())
    }

    /// Runs the object's `fetch` on this node, whoever owns it (the caller checked).
    pub async fn object_fetch_here(
        &self,
        worker: &Arc<Worker>,
        target: ObjectTarget,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>, Error> {
        let (responder, response) = oneshot::channel();
        let request = Box::new(request);
        self.submit_object(worker, target, ObjectEvent::Fetch { request, responder })?;
        response.await.map_err(|_| Error::Shutdown)?
    }

    /// Calls a Durable Object's method with serialized arguments; returns its serialized result.
    /// A JS RPC call, run here or on the node that owns the object.
    pub async fn object_call(
        &self,
        worker: &Arc<Worker>,
        target: ObjectTarget,
        method: String,
        args: String,
    ) -> Result<String, Error> {
        if let Some(placement) = self.remote(worker, &target) {
            return placement
                .call(Arc::clone(worker), target, method, args)
                .await;
        }
        self.object_call_here(worker, target, method, args, None)
            .await
    }

    /// Runs a JS RPC call on this node, whoever owns the object (the caller checked). With a
    /// `request_id`, a call this object already ran (its result recorded with its writes, or
    /// still running) is answered with that result instead of running again.
    pub async fn object_call_here(
        &self,
        worker: &Arc<Worker>,
        target: ObjectTarget,
        method: String,
        args: String,
        request_id: Option<[u8; crate::object::REQUEST_ID_BYTES]>,
    ) -> Result<String, Error> {
        let (responder, result) = oneshot::channel();
        let event = ObjectEvent::Call {
            method,
            args,
            request_id,
            responder,
        };
        self.submit_object(worker, target, event)?;
        result.await.map_err(|_| Error::Shutdown)?
    }

    /// Runs an object's `alarm()` handler; `Err` when it threw (the caller retries).
    pub async fn object_alarm(
        &self,
        worker: &Arc<Worker>,
        namespace: &str,
        id: [u8; 32],
        retry_count: u32,
    ) -> Result<(), Error> {
        let binding = worker
            .script()
            .durable_objects
            .iter()
            .position(|b| b.namespace == namespace)
            .ok_or_else(|| {
                Error::NoHandler(format!("no Durable Object namespace {namespace:?}"))
            })?;
        let target = ObjectTarget {
            binding,
            id,
            name: None,
        };
        let (responder, result) = oneshot::channel();
        let event = ObjectEvent::Alarm {
            retry_count,
            responder,
        };
        self.submit_object(worker, target, event)?;
        result.await.map_err(|_| Error::Shutdown)?
    }

    /// Delivers a `fetch` event to `entrypoint` (the default export when `None`).
    pub async fn fetch(
        &self,
        worker: &Arc<Worker>,
        request: http::Request<Body>,
        entrypoint: Option<String>,
    ) -> Result<http::Response<Body>, Error> {
        self.fetch_with_props(worker, request, entrypoint, None)
            .await
    }

    /// A `fetch` event with `ctx.props` (JSON), as a service binding delivers it.
    pub async fn fetch_with_props(
        &self,
        worker: &Arc<Worker>,
        request: http::Request<Body>,
        entrypoint: Option<String>,
        props: Option<String>,
    ) -> Result<http::Response<Body>, Error> {
        let (responder, response) = oneshot::channel();
        self.submit(Job::Fetch {
            worker: Arc::clone(worker),
            request: Box::new(request),
            entrypoint,
            props,
            responder,
        })?;
        response.await.map_err(|_| Error::Shutdown)?
    }

    /// A JS RPC call to `entrypoint` (the default export when `None`); the arguments and the
    /// result are serialized values.
    pub async fn entrypoint_call(
        &self,
        worker: &Arc<Worker>,
        entrypoint: Option<String>,
        props: Option<String>,
        method: String,
        args: String,
    ) -> Result<String, Error> {
        let (responder, result) = oneshot::channel();
        self.submit(Job::Call {
            worker: Arc::clone(worker),
            entrypoint,
            props,
            method,
            args,
            responder,
        })?;
        result.await.map_err(|_| Error::Shutdown)?
    }

    /// Live tails: `kiln tail` subscribes to a script's trace items here.
    pub fn tails(&self) -> &crate::trace::TailHub {
        &self.tails
    }

    /// Requests, errors, CPU time and limits hit, per script and per dispatch namespace.
    pub fn stats(&self) -> &crate::trace::Stats {
        &self.stats
    }

    /// Whether invocations of `worker` are traced: it has Tail Workers or someone tails it.
    pub(crate) fn traced(&self, worker: &Worker) -> bool {
        !worker.script().tail_consumers.is_empty() || self.tails.watched(worker.name())
    }

    /// Hands a finished invocation's trace to `kiln tail` watchers and the worker's Tail
    /// Workers (their `tail()` runs later, on any thread; a failing one is only logged).
    pub(crate) fn publish_trace(&self, worker: &Worker, item: &crate::trace::TraceItem) {
        let Ok(json) = serde_json::to_string(item) else {
            return;
        };
        self.tails.publish(worker.name(), Arc::from(json.as_str()));
        for consumer in &worker.script().tail_consumers {
            let Some(tail_worker) = self.worker(consumer) else {
                tracing::warn!(
                    worker = worker.name(),
                    consumer,
                    "tail consumer is not running"
                );
                continue;
            };
            let (responder, done) = oneshot::channel();
            let events = format!("[{json}]");
            if self
                .submit(Job::Tail {
                    worker: tail_worker,
                    events,
                    responder,
                })
                .is_err()
            {
                continue;
            }
            let consumer = consumer.clone();
            tokio::spawn(async move {
                if let Ok(Err(err)) = done.await {
                    tracing::warn!(consumer, %err, "tail() failed");
                }
            });
        }
    }

    /// Calls `method` on the RPC target `route` names, in the isolate that exported it; the
    /// arguments and the result are serialized values.
    /// This node's id in its cluster (0 for `kiln dev`).
    pub fn node_id(&self) -> u64 {
        self.node_id
    }

    /// A call on an RPC stub: here when its route names this node, else through the placement.
    pub(crate) async fn target_call_anywhere(
        &self,
        route: crate::service::targets::Route,
        encoded: String,
        method: String,
        args: String,
    ) -> Result<String, Error> {
        if route.node != self.node_id {
            return match &self.placement {
                Some(placement) => {
                    placement
                        .target_call(route.node, encoded, method, args)
                        .await
                }
                None => Err(crate::service::targets::disconnected()),
            };
        }
        self.target_call(encoded, method, args).await
    }

    /// A call on an RPC stub whose target lives on this node (`route` as encoded); a route of
    /// another process (this node before a restart) or a malformed one is disconnected.
    pub async fn target_call(
        &self,
        route: String,
        method: String,
        args: String,
    ) -> Result<String, Error> {
        let route = crate::service::targets::Route::decode(&route)
            .filter(crate::service::targets::is_ours)
            .ok_or_else(crate::service::targets::disconnected)?;
        let Some(_) = self.threads.get(route.thread) else {
            return Err(crate::service::targets::disconnected());
        };
        let (responder, result) = oneshot::channel();
        let thread = route.thread;
        self.push_to(
            thread,
            Job::Target {
                route,
                method,
                args,
                responder,
            },
        )?;
        result.await.map_err(|_| Error::Shutdown)?
    }

    /// The Dynamic Workers built on this runtime.
    pub fn dynamic_workers(&self) -> Arc<crate::loader::DynamicWorkers> {
        Arc::clone(&self.dynamic)
    }

    /// Makes `worker` reachable by its name from service bindings (replacing an older version).
    pub fn register(&self, worker: &Arc<Worker>) {
        self.workers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(worker.name().to_owned(), Arc::clone(worker));
    }

    /// Makes `worker` reachable under `name` (a derived version of a worker).
    pub fn register_as(&self, name: &str, worker: &Arc<Worker>) {
        self.workers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), Arc::clone(worker));
    }

    /// Makes the worker registered under `name` unreachable (a deleted upload). Its isolates
    /// finish what they are running and age out of the threads' caches.
    pub fn unregister(&self, name: &str) {
        self.workers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    /// Every registered worker.
    pub fn workers(&self) -> Vec<Arc<Worker>> {
        self.workers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The worker registered under `name`.
    pub fn worker(&self, name: &str) -> Option<Arc<Worker>> {
        self.workers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Delivers a batch of `queue`'s messages (a JSON array of stored messages) to the worker's
    /// `queue()` handler; the answer is each message's outcome, as JSON.
    pub async fn queue(
        &self,
        worker: &Arc<Worker>,
        queue: String,
        messages: String,
    ) -> Result<String, Error> {
        let (responder, done) = oneshot::channel();
        self.submit(Job::Queue {
            worker: Arc::clone(worker),
            queue,
            messages,
            responder,
        })?;
        done.await.map_err(|_| Error::Shutdown)?
    }

    /// Delivers a `scheduled` event, as a cron trigger does.
    pub async fn scheduled(
        &self,
        worker: &Arc<Worker>,
        cron: String,
        scheduled_time_ms: f64,
    ) -> Result<(), Error> {
        let (responder, done) = oneshot::channel();
        self.submit(Job::Scheduled {
            worker: Arc::clone(worker),
            cron,
            scheduled_time_ms,
            responder,
        })?;
        done.await.map_err(|_| Error::Shutdown)?
    }

    /// Delivers an email to the worker's `email()` handler, as Email Routing does; `Some`
    /// reason when the handler rejected it (`message.setReject`).
    pub async fn email(
        &self,
        worker: &Arc<Worker>,
        envelope: event::email::Envelope,
    ) -> Result<Option<String>, Error> {
        let (responder, done) = oneshot::channel();
        self.submit(Job::Email {
            worker: Arc::clone(worker),
            envelope,
            responder,
        })?;
        done.await.map_err(|_| Error::Shutdown)?
    }

    /// Starts an isolate of `worker` (evaluating its modules), reporting a startup error.
    pub async fn load(&self, worker: &Arc<Worker>) -> Result<(), Error> {
        let (responder, done) = oneshot::channel();
        self.submit(Job::Load {
            worker: Arc::clone(worker),
            responder,
        })?;
        done.await.map_err(|_| Error::Shutdown)?
    }
}

struct Slot {
    cell: Rc<tokio::sync::OnceCell<Rc<Isolate>>>,
    last_used: Instant,
}

/// The isolates one JS thread holds, by worker id.
struct ThreadState {
    isolates: RefCell<HashMap<u64, Slot>>,
    /// The heap bytes the cached isolates may hold together (`RuntimeOptions`).
    cache_bytes: usize,
    services: Rc<Services>,
    spare: Spare,
    /// Jobs started on this thread and not yet finished.
    active_jobs: Cell<usize>,
    /// Jobs ever started on this thread.
    jobs_started: Cell<u64>,
}

/// How long a JS thread must have been idle before it prepares its spare isolate.
const SPARE_IDLE_DELAY: std::time::Duration = std::time::Duration::from_millis(2);

/// A JS thread's spare [`Blank`] isolate (Web APIs installed, no worker yet), made while the
/// thread is idle so that a cold start only binds a worker. At most one per thread.
#[derive(Default)]
struct Spare {
    blank: RefCell<Option<Blank>>,
    filling: Cell<bool>,
}

/// Counts a job as running on its thread while it lives; the last one to end lets the thread
/// prepare its spare isolate.
struct ActiveJob(Rc<ThreadState>);

impl ActiveJob {
    fn new(state: &Rc<ThreadState>) -> ActiveJob {
        state.active_jobs.set(state.active_jobs.get() + 1);
        state
            .jobs_started
            .set(state.jobs_started.get().wrapping_add(1));
        ActiveJob(Rc::clone(state))
    }
}

impl Drop for ActiveJob {
    fn drop(&mut self) {
        let active = self.0.active_jobs.get();
        debug_assert!(active > 0);
        self.0.active_jobs.set(active.saturating_sub(1));
        self.0.when_idle();
    }
}

impl ThreadState {
    /// Prepares a spare isolate if the thread runs no job and has none, once it has stayed so
    /// for [`SPARE_IDLE_DELAY`]: a job that just ended may still be streaming its response body
    /// from this thread, and the spare must not hold that up.
    fn when_idle(self: &Rc<Self>) {
        if self.active_jobs.get() > 0
            || self.spare.filling.get()
            || self.spare.blank.borrow().is_some()
        {
            return;
        }
        self.spare.filling.set(true);
        let state = Rc::clone(self);
        let started = self.jobs_started.get();
        tokio::task::spawn_local(async move {
            tokio::time::sleep(SPARE_IDLE_DELAY).await;
            if state.active_jobs.get() == 0 && state.jobs_started.get() == started {
                match Blank::new().await {
                    Ok(blank) => *state.spare.blank.borrow_mut() = Some(blank),
                    Err(err) => tracing::warn!(%err, "cannot prepare a spare isolate"),
                }
            }
            state.spare.filling.set(false);
        });
    }

    async fn isolate(&self, worker: &Arc<Worker>) -> Result<Rc<Isolate>, Error> {
        let cell = {
            let mut isolates = self.isolates.borrow_mut();
            if !isolates.contains_key(&worker.id()) && isolates.len() >= ISOLATES_PER_THREAD_MAX {
                let oldest = isolates
                    .iter()
                    .min_by_key(|(_, slot)| slot.last_used)
                    .map(|(id, _)| *id);
                if let Some(oldest) = oldest {
                    isolates.remove(&oldest);
                }
            }
            let slot = isolates.entry(worker.id()).or_insert_with(|| Slot {
                cell: Rc::new(tokio::sync::OnceCell::new()),
                last_used: Instant::now(),
            });
            slot.last_used = Instant::now();
            Rc::clone(&slot.cell)
        };
        let result = cell
            .get_or_try_init(|| {
                Isolate::start(
                    Arc::clone(worker),
                    Rc::clone(&self.services),
                    self.spare.blank.borrow_mut().take(),
                )
            })
            .await
            .cloned();
        match &result {
            Ok(isolate) if isolate.shared.terminated().is_some() => {
                self.forget(worker.id(), &cell);
                return Box::pin(self.isolate(worker)).await;
            }
            Err(_) => self.forget(worker.id(), &cell),
            Ok(_) => self.shed(worker.id()),
        }
        result
    }

    /// Keeps the cached isolates' heaps within `cache_bytes`: while they hold more, drops idle
    /// ones (no event holds them) of workers without Durable Objects (whose objects live in
    /// their isolate and evict themselves), least recently used first, never `keep`'s.
    fn shed(&self, keep: u64) {
        let mut isolates = self.isolates.borrow_mut();
        let bytes = |slot: &Slot| {
            slot.cell.get().map_or(0, |i| {
                i.shared
                    .heap
                    .used_bytes
                    .load(std::sync::atomic::Ordering::Relaxed)
            })
        };
        let mut total: usize = isolates.values().map(bytes).sum();
        if total <= self.cache_bytes {
            return;
        }
        let mut idle: Vec<(Instant, u64, usize)> = isolates
            .iter()
            .filter(|(id, _)| **id != keep)
            .filter_map(|(id, slot)| {
                let isolate = slot.cell.get()?;
                let evictable = Rc::strong_count(isolate) == 1
                    && isolate.worker.script().durable_objects.is_empty();
                evictable.then(|| (slot.last_used, *id, bytes(slot)))
            })
            .collect();
        idle.sort_unstable();
        for (_, id, held) in idle {
            if total <= self.cache_bytes {
                break;
            }
            isolates.remove(&id);
            total -= held;
        }
    }

    /// Drops the isolate in `cell` if it is still the one registered for `worker_id`.
    fn forget(&self, worker_id: u64, cell: &Rc<tokio::sync::OnceCell<Rc<Isolate>>>) {
        let mut isolates = self.isolates.borrow_mut();
        if isolates
            .get(&worker_id)
            .is_some_and(|slot| Rc::ptr_eq(&slot.cell, cell))
        {
            isolates.remove(&worker_id);
        }
    }

    fn forget_isolate(&self, isolate: &Rc<Isolate>) {
        let mut isolates = self.isolates.borrow_mut();
        let id = isolate.worker.id();
        if isolates
            .get(&id)
            .and_then(|slot| slot.cell.get())
            .is_some_and(|current| Rc::ptr_eq(current, isolate))
        {
            isolates.remove(&id);
        }
    }
}

fn js_thread(index: usize, services: (Runtime, Option<Arc<dyn ObjectStore>>, usize)) {
    let (pool, store, cache_bytes) = services;
    JS_THREAD.set(Some((pool.pool_id(), index)));
    let shared = Arc::clone(&pool.queue);
    let own = Arc::clone(&pool.threads[index]);
    let idle = Arc::clone(&pool.idle);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(?err, "cannot start a JS thread's event loop");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    let state = Rc::new(ThreadState {
        isolates: RefCell::default(),
        cache_bytes,
        services: Rc::new(Services {
            runtime: pool,
            store,
        }),
        spare: Spare::default(),
        active_jobs: Cell::new(0),
        jobs_started: Cell::new(0),
    });
    local.spawn_local({
        let state = Rc::clone(&state);
        async move { state.when_idle() }
    });
    local.block_on(&runtime, async move {
        loop {
            let doorbell = own.ready.notified();
            tokio::pin!(doorbell);
            // Listen before looking, so a job pushed to the own queue in between still rings.
            doorbell.as_mut().enable();
            match own.pop().or_else(|| shared.pop()) {
                Some(job) => {
                    tokio::task::spawn_local(run_job(Rc::clone(&state), job));
                    // Let the job run to its first await before taking another.
                    tokio::task::yield_now().await;
                }
                None => {
                    idle.lock().push(index);
                    // A job pushed to the shared queue before this thread was listed as idle
                    // woke nobody: look once more before sleeping.
                    if own.is_empty() && shared.is_empty() {
                        doorbell.await;
                    }
                    idle.lock().retain(|&i| i != index);
                }
            }
        }
    });
}

async fn run_job(state: Rc<ThreadState>, job: Job) {
    let _active = ActiveJob::new(&state);
    match job {
        Job::Tail {
            worker,
            events,
            responder,
        } => match state.isolate(&worker).await {
            Ok(isolate) => {
                let result = event::tail::run(Rc::clone(&isolate), events).await;
                after_event(&state, &isolate);
                let _ = responder.send(result);
            }
            Err(err) => {
                let _ = responder.send(Err(err));
            }
        },
        Job::Target {
            route,
            method,
            args,
            responder,
        } => {
            let isolate = state.isolates.borrow().get(&route.worker).and_then(|slot| {
                slot.cell
                    .get()
                    .filter(|isolate| isolate.shared.serial == route.isolate)
                    .cloned()
            });
            let Some(isolate) = isolate else {
                let _ = responder.send(Err(crate::service::targets::disconnected()));
                return;
            };
            let result = event::target::call(Rc::clone(&isolate), route.export, method, args).await;
            after_event(&state, &isolate);
            let _ = responder.send(result);
        }
        Job::Call {
            worker,
            entrypoint,
            props,
            method,
            args,
            responder,
        } => match state.isolate(&worker).await {
            Ok(isolate) => {
                let result =
                    event::entrypoint::call(Rc::clone(&isolate), entrypoint, props, method, args)
                        .await;
                after_event(&state, &isolate);
                let _ = responder.send(result);
            }
            Err(err) => {
                let _ = responder.send(Err(err));
            }
        },
        Job::Fetch {
            worker,
            request,
            entrypoint,
            props,
            responder,
        } => match state.isolate(&worker).await {
            Ok(isolate) => {
                let target = Target::Entrypoint {
                    name: entrypoint,
                    props,
                };
                event::fetch::run(Rc::clone(&isolate), *request, target, responder).await;
                after_event(&state, &isolate);
            }
            Err(err) => {
                let _ = responder.send(Err(err));
            }
        },
        Job::Scheduled {
            worker,
            cron,
            scheduled_time_ms,
            responder,
        } => match state.isolate(&worker).await {
            Ok(isolate) => {
                let result =
                    event::scheduled::run(Rc::clone(&isolate), cron, scheduled_time_ms).await;
                after_event(&state, &isolate);
                let _ = responder.send(result);
            }
            Err(err) => {
                let _ = responder.send(Err(err));
            }
        },
        Job::Email {
            worker,
            envelope,
            responder,
        } => match state.isolate(&worker).await {
            Ok(isolate) => {
                let result = event::email::run(Rc::clone(&isolate), envelope).await;
                after_event(&state, &isolate);
                let _ = responder.send(result);
            }
            Err(err) => {
                let _ = responder.send(Err(err));
            }
        },
        Job::Queue {
            worker,
            queue,
            messages,
            responder,
        } => match state.isolate(&worker).await {
            Ok(isolate) => {
                let result = event::queue::run(Rc::clone(&isolate), queue, messages).await;
                after_event(&state, &isolate);
                let _ = responder.send(result);
            }
            Err(err) => {
                let _ = responder.send(Err(err));
            }
        },
        Job::Load { worker, responder } => {
            let _ = responder.send(state.isolate(&worker).await.map(|_| ()));
        }
        Job::Fence { shard, shards } => {
            let isolates: Vec<Rc<Isolate>> = state
                .isolates
                .borrow()
                .values()
                .filter_map(|slot| slot.cell.get().cloned())
                .collect();
            for isolate in isolates {
                event::object::fence(isolate, shard, shards).await;
            }
        }
        Job::Object {
            worker,
            target,
            event,
        } => {
            let kind = match &event {
                ObjectEvent::Fetch { .. } => "fetch",
                ObjectEvent::Call { .. } => "rpc",
                ObjectEvent::Alarm { .. } => "alarm",
                ObjectEvent::Socket { .. } => "websocket",
            };
            let span = tracing::info_span!(
                "object_turn",
                worker = worker.name(),
                object = %crate::object::to_hex(&target.id[..8]),
                kind
            );
            tracing::Instrument::instrument(run_object_event(&state, &worker, target, event), span)
                .await
        }
    }
}

async fn run_object_event(
    state: &Rc<ThreadState>,
    worker: &Arc<Worker>,
    target: ObjectTarget,
    event: ObjectEvent,
) {
    let isolate = match state.isolate(worker).await {
        Ok(isolate) => isolate,
        Err(err) => {
            match event {
                ObjectEvent::Fetch { responder, .. } => drop(responder.send(Err(err))),
                ObjectEvent::Call { responder, .. } => drop(responder.send(Err(err))),
                ObjectEvent::Alarm { responder, .. } => drop(responder.send(Err(err))),
                ObjectEvent::Socket { responder, .. } => drop(responder.send(Err(err))),
            }
            return;
        }
    };
    match event {
        ObjectEvent::Fetch { request, responder } => {
            let target = Target::Object(target);
            event::fetch::run(Rc::clone(&isolate), *request, target, responder).await;
        }
        ObjectEvent::Call {
            method,
            args,
            request_id,
            responder,
        } => {
            let result =
                event::object::call(Rc::clone(&isolate), target, method, args, request_id).await;
            let _ = responder.send(result);
        }
        ObjectEvent::Alarm {
            retry_count,
            responder,
        } => {
            let result = event::object::alarm(Rc::clone(&isolate), target, retry_count).await;
            let _ = responder.send(result);
        }
        ObjectEvent::Socket {
            socket,
            event,
            responder,
        } => {
            let result = event::object::socket(Rc::clone(&isolate), target, socket, event).await;
            let _ = responder.send(result);
        }
    }
    after_event(state, &isolate);
}

/// Discards an isolate that a limit terminated, so the next request gets a fresh one.
fn after_event(state: &ThreadState, isolate: &Rc<Isolate>) {
    if let Some(reason) = isolate.shared.terminated() {
        tracing::warn!(
            worker = isolate.worker.name(),
            ?reason,
            "isolate terminated by a limit and discarded"
        );
        state.forget_isolate(isolate);
    }
}
