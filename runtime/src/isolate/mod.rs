//! One isolate: a QuickJS runtime and context with its own heap, running one worker's modules.
//!
//! Guarantees:
//! - The heap never grows past the worker's memory limit, and JavaScript never runs past its
//!   CPU budget: the interrupt handler terminates the isolate, and every request in flight on it
//!   fails with [`Error::CpuLimit`] or [`Error::MemoryLimit`]. A terminated isolate is dropped.
//! - All of the isolate's futures run on the JS thread that created it, and are charged to its
//!   [`CpuMeter`].

pub mod allocator;
pub mod async_context;
mod code_generation;
pub mod commonjs;
pub mod cpu_meter;
mod import_attributes;
pub mod loader;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rquickjs::{
    async_with, AsyncContext, AsyncRuntime, Ctx, JsLifetime, Module, Object, Persistent,
};
use tokio::sync::watch;

use crate::body::Body;
use crate::error::Error;
use crate::limits;
use crate::pool::Services;
use crate::script_format::ScriptFormat;
use crate::web;
use crate::worker::Worker;

use allocator::{CappedAllocator, HeapAccount, RuntimeCount};
use cpu_meter::{CpuMeter, Metered};

/// Why an isolate was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    Cpu,
    Memory,
}

impl Termination {
    pub fn error(self) -> Error {
        match self {
            Termination::Cpu => Error::CpuLimit,
            Termination::Memory => Error::MemoryLimit,
        }
    }
}

/// State of an isolate shared by its Rust-side tasks (not reachable from JavaScript).
#[derive(Debug)]
pub struct IsolateShared {
    /// Unique among the isolates of this process: RPC stubs name the isolate they call by it.
    pub serial: u64,
    pub cpu: Rc<CpuMeter>,
    pub heap: Arc<HeapAccount>,
    /// Set when the isolate is given its worker.
    pub cpu_limit: Cell<Duration>,
    pub termination: watch::Sender<Option<Termination>>,
    /// Invocations being traced (for Tail Workers and `kiln tail`); `console` writes to each.
    pub traces: Rc<RefCell<Vec<crate::trace::SharedRecorder>>>,
    /// The waker of the task that drives the isolate's spawned futures (see [`drive`]).
    pub driver: RefCell<Option<std::task::Waker>>,
}

impl IsolateShared {
    /// Called by QuickJS while JavaScript runs; `true` stops the script with an uncatchable error.
    fn interrupt(&self) -> bool {
        let stop = self.termination.borrow().is_some() || {
            let reason = if self.heap.exceeded.load(Ordering::Relaxed) {
                Some(Termination::Memory)
            } else if self.cpu.exhausted() || self.cpu.over_budget(self.cpu_limit.get()) {
                Some(Termination::Cpu)
            } else {
                None
            };
            if let Some(reason) = reason {
                self.termination.send_replace(Some(reason));
            }
            reason.is_some()
        };
        if stop {
            // Native code whose exceptions QuickJS drops (see `web::engine`) sees this and gets
            // out of the way, so a later check stops the isolate.
            self.cpu.mark_terminating();
        }
        stop
    }

    pub fn terminated(&self) -> Option<Termination> {
        if self.termination.borrow().is_none() && self.heap.exceeded.load(Ordering::Relaxed) {
            self.termination.send_replace(Some(Termination::Memory));
        }
        if self.termination.borrow().is_none() && self.cpu.exhausted() {
            self.termination.send_replace(Some(Termination::Cpu));
        }
        *self.termination.borrow()
    }

    /// Resolves once the isolate is terminated.
    pub async fn wait_terminated(&self) -> Termination {
        let mut receiver = self.termination.subscribe();
        loop {
            if let Some(reason) = *receiver.borrow_and_update() {
                return reason;
            }
            if receiver.changed().await.is_err() {
                // The sender lives as long as `self`; it cannot be gone while we borrow it.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Per-isolate state reachable from ops, stored as the context's userdata.
pub struct IsolateData {
    pub worker: Arc<Worker>,
    /// The pool and object storage, for calls that leave the isolate.
    pub services: Rc<Services>,
    /// The functions the prelude exports for Rust to call (`dispatchFetch`, ...).
    pub internals: Persistent<Object<'static>>,
    /// The worker's `env` object.
    pub env: Persistent<Object<'static>>,
    /// The main module's namespace, set once it has evaluated.
    pub exports: RefCell<Option<Persistent<Object<'static>>>>,
    /// Bodies streaming from Rust into JavaScript, by id.
    pub bodies: RefCell<HashMap<u32, Body>>,
    pub next_body_id: Cell<u32>,
    /// Pending timers: id -> cancellation.
    pub timers: RefCell<HashMap<u32, Rc<tokio::sync::Notify>>>,
    pub next_timer_id: Cell<u32>,
    /// The isolate's CPU meter, which also counts subrequests.
    pub meter: Rc<CpuMeter>,
    /// WebSocket ends this isolate holds (not hibernatable ones, which belong to their
    /// object): closed when the isolate goes away.
    pub sockets: RefCell<std::collections::HashSet<u64>>,
    /// The isolate's [`IsolateShared::serial`].
    pub serial: u64,
    /// The isolate's [`IsolateShared::traces`].
    pub traces: Rc<RefCell<Vec<crate::trace::SharedRecorder>>>,
    /// SQL databases of this isolate's live Durable Objects (`ctx.storage.sql`).
    pub sql: RefCell<crate::sql::Databases>,
    /// Outbound TCP sockets (`connect()`).
    pub tcp: RefCell<crate::connect::TcpSockets>,
}

impl Drop for IsolateData {
    fn drop(&mut self) {
        let table = self.services.runtime.sockets();
        for id in self.sockets.get_mut().drain() {
            table.remove(id);
        }
    }
}

// SAFETY: `IsolateData` holds only `'static` data and `Persistent` handles, which carry no
// borrowed lifetime.
unsafe impl<'js> JsLifetime<'js> for IsolateData {
    type Changed<'to> = IsolateData;
}

impl IsolateData {
    /// Counts a subrequest (`fetch()`, a service or object call) against the worker's limit;
    /// past it, the error Cloudflare throws.
    pub fn count_subrequest(&self, ctx: &rquickjs::Ctx<'_>) -> rquickjs::Result<()> {
        if self
            .meter
            .count_subrequest(self.worker.script().limits.subrequests)
        {
            Ok(())
        } else {
            Err(crate::web::throw_error(ctx, "Too many subrequests."))
        }
    }

    pub fn register_body(&self, body: Body) -> u32 {
        let id = self.next_body_id.get().wrapping_add(1);
        self.next_body_id.set(id);
        self.bodies.borrow_mut().insert(id, body);
        id
    }
}

/// Returns the isolate data of the context running now.
pub fn data<'a, 'js>(
    ctx: &'a Ctx<'js>,
) -> rquickjs::Result<rquickjs::runtime::UserDataGuard<'a, IsolateData>> {
    ctx.userdata::<IsolateData>()
        .ok_or_else(|| rquickjs::Exception::throw_internal(ctx, "isolate data missing"))
}

pub struct Isolate {
    pub worker: Arc<Worker>,
    pub shared: Rc<IsolateShared>,
    /// The pool and storage this isolate's events reach.
    pub services: Rc<Services>,
    /// Declared before the runtime, so it stops counting the runtime's bytes before it drops.
    _counting: RuntimeCount,
    pub runtime: AsyncRuntime,
    pub context: AsyncContext,
}

/// An isolate with the Web APIs installed and no worker yet: the worker-independent part of
/// [`Isolate::start`], which a JS thread prepares ahead of time (its spare) so that a cold
/// start only has to bind a worker and evaluate its modules.
pub struct Blank {
    shared: Rc<IsolateShared>,
    counting: RuntimeCount,
    runtime: AsyncRuntime,
    context: AsyncContext,
    internals: Persistent<Object<'static>>,
}

impl Blank {
    pub async fn new() -> Result<Blank, Error> {
        let heap = Arc::new(HeapAccount::new(limits::ISOLATE_MEMORY_BYTES_DEFAULT));
        let runtime = AsyncRuntime::new_with_alloc(CappedAllocator::new(Arc::clone(&heap)))
            .map_err(|err| Error::Startup(format!("cannot create isolate: {err}")))?;
        let (termination, _) = watch::channel(None);
        static NEXT_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let shared = Rc::new(IsolateShared {
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            cpu: Rc::new(CpuMeter::default()),
            heap,
            cpu_limit: Cell::new(Duration::from_millis(limits::REQUEST_CPU_MS_DEFAULT)),
            termination,
            traces: Rc::default(),
            driver: RefCell::new(None),
        });
        runtime
            .set_max_stack_size(limits::ISOLATE_STACK_BYTES_MAX)
            .await;
        let interrupt_shared = Rc::clone(&shared);
        runtime
            .set_interrupt_handler(Some(Box::new(move || interrupt_shared.interrupt())))
            .await;
        let context = AsyncContext::full(&runtime)
            .await
            .map_err(|err| Error::Startup(format!("cannot create context: {err}")))?;
        let heap = Arc::clone(&shared.heap);
        let (internals, counting) = async_with!(context => |ctx| {
            // SAFETY: the runtime is alive and allocates on this thread; `counting` is kept in
            // a field declared before the runtime's.
            let counting = unsafe {
                RuntimeCount::start(heap, rquickjs::qjs::JS_GetRuntime(ctx.as_raw().as_ptr()))
            };
            let internals = web::install_globals(&ctx)
                .map(|internals| Persistent::save(&ctx, internals))
                .map_err(|e| startup_error(&ctx, e));
            code_generation::forbid(&ctx);
            internals.map(|internals| (internals, counting))
        })
        .await?;
        Ok(Blank {
            shared,
            counting,
            runtime,
            context,
            internals,
        })
    }
}

impl Isolate {
    /// Gives `blank` (or a new blank isolate) its worker and evaluates the worker's main module.
    pub async fn start(
        worker: Arc<Worker>,
        services: Rc<Services>,
        blank: Option<Blank>,
    ) -> Result<Rc<Isolate>, Error> {
        let began = std::time::Instant::now();
        let had_spare = blank.is_some();
        let blank = match blank {
            Some(blank) => blank,
            None => Blank::new().await?,
        };
        let Blank {
            shared,
            counting,
            runtime,
            context,
            internals,
        } = blank;
        let limits = worker.script().limits;
        shared
            .heap
            .limit_bytes
            .store(limits.memory_bytes, Ordering::Relaxed);
        shared.cpu_limit.set(Duration::from_millis(limits.cpu_ms));
        runtime
            .set_loader(
                loader::WorkerResolver {
                    worker: Arc::clone(&worker),
                },
                loader::WorkerLoader {
                    worker: Arc::clone(&worker),
                },
            )
            .await;
        let isolate = Rc::new(Isolate {
            worker: Arc::clone(&worker),
            shared: Rc::clone(&shared),
            services: Rc::clone(&services),
            _counting: counting,
            runtime,
            context,
        });
        tokio::task::spawn_local(Metered::new(
            Rc::clone(&shared.cpu),
            drive(Rc::downgrade(&isolate)),
        ));

        let charge = shared.cpu.begin_request();
        let evaluated = isolate
            .run(initialize(
                isolate.context.clone(),
                Arc::clone(&worker),
                services,
                Rc::clone(&shared.cpu),
                (shared.serial, Rc::clone(&shared.traces)),
                internals,
            ))
            .await;
        drop(charge);
        evaluated?;
        tracing::debug!(
            worker = %isolate.worker.script().name,
            heap_bytes = isolate.shared.heap.used_bytes.load(Ordering::Relaxed),
            cpu_us = isolate.shared.cpu.used_now().as_micros() as u64,
            wall_us = began.elapsed().as_micros() as u64,
            had_spare,
            "isolate started"
        );
        Ok(isolate)
    }

    /// Runs a future with the isolate's context, charged to its CPU meter, ending early with the
    /// limit error if the isolate is terminated meanwhile.
    pub async fn run<F, R>(&self, work: F) -> Result<R, Error>
    where
        F: std::future::Future<Output = Result<R, Error>>,
    {
        if let Some(reason) = self.shared.terminated() {
            return Err(reason.error());
        }
        let metered = Metered::new(Rc::clone(&self.shared.cpu), work);
        let result = tokio::select! {
            biased;
            reason = self.shared.wait_terminated() => Err(reason.error()),
            result = metered => match self.shared.terminated() {
                Some(reason) => Err(reason.error()),
                None => result,
            },
        };
        // The finished task may have been the last to poll the isolate's spawned futures, and
        // QuickJS's scheduler remembers only the last poller's waker: hand the job back to the
        // driver, or a timer that fires after this task ended would wake nobody.
        if let Some(driver) = self.shared.driver.borrow().as_ref() {
            driver.wake_by_ref();
        }
        result
    }
}

/// Keeps the isolate's spawned futures (timers, body pumps) moving while no request polls it.
async fn drive(isolate: std::rc::Weak<Isolate>) {
    let Some(strong) = isolate.upgrade() else {
        return;
    };
    let shared = Rc::clone(&strong.shared);
    let drive = Driver {
        inner: Box::pin(strong.runtime.drive()),
        shared: Rc::clone(&shared),
    };
    drop(strong);
    tokio::select! {
        _ = drive => {}
        _ = shared.wait_terminated() => {}
    }
}

/// The isolate's drive future, recording its task's waker so [`Isolate::run`] can wake it.
struct Driver<F> {
    inner: std::pin::Pin<Box<F>>,
    shared: Rc<IsolateShared>,
}

impl<F: std::future::Future> std::future::Future for Driver<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        {
            let mut driver = self.shared.driver.borrow_mut();
            if !driver.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *driver = Some(cx.waker().clone());
            }
        }
        self.inner.as_mut().poll(cx)
    }
}

/// Installs `env` and the bindings, then evaluates the main module.
async fn initialize(
    context: AsyncContext,
    worker: Arc<Worker>,
    services: Rc<Services>,
    meter: Rc<CpuMeter>,
    (serial, traces): (u64, Rc<RefCell<Vec<crate::trace::SharedRecorder>>>),
    internals: Persistent<Object<'static>>,
) -> Result<(), Error> {
    {
        async_with!(context => |ctx| {
            let result: Result<(), Error> = async {
                let internals = internals.restore(&ctx).map_err(|e| startup_error(&ctx, e))?;
                web::install_worker(&ctx, internals, Arc::clone(&worker), Rc::clone(&services), Rc::clone(&meter), serial, traces).map_err(|e| startup_error(&ctx, e))?;
                let namespace = match worker.format() {
                    ScriptFormat::Modules => {
                        let main = worker.script().main_module.clone();
                        let promise = Module::import(&ctx, main).map_err(|e| startup_error(&ctx, e))?;
                        promise
                            .into_future::<Object>()
                            .await
                            .map_err(|e| startup_error(&ctx, e))?
                    }
                    ScriptFormat::ServiceWorker => run_service_worker(&ctx, &worker).map_err(|e| startup_error(&ctx, e))?,
                };
                let data = data(&ctx).map_err(|e| startup_error(&ctx, e))?;
                *data.exports.borrow_mut() = Some(Persistent::save(&ctx, namespace));
                Ok(())
            }.await;
            result
        })
        .await
    }
}

/// Runs a service-worker script as Cloudflare does: a classic script at global scope, in sloppy
/// mode, with the worker's bindings as globals. Its events go to the listeners it added, so its
/// "exports" are an empty object.
fn run_service_worker<'js>(ctx: &Ctx<'js>, worker: &Worker) -> rquickjs::Result<Object<'js>> {
    let env = data(ctx)?.env.clone().restore(ctx)?;
    let install: rquickjs::Function = web::internal(ctx, "installServiceWorkerGlobals")?;
    install.call::<_, ()>((env,))?;
    let main = &worker.script().main_module;
    let source = worker
        .module(main)
        .map(|m| m.content.clone())
        .unwrap_or_default();
    // EvalOptions is non-exhaustive: it cannot be built with a struct expression.
    let mut options = rquickjs::context::EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(main.clone());
    ctx.eval_with_options::<(), _>(source.to_vec(), options)?;
    Object::new(ctx.clone())
}

fn startup_error(ctx: &Ctx<'_>, err: rquickjs::Error) -> Error {
    Error::Startup(web::describe_error(ctx, err))
}
