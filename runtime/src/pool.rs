//! The JS thread pool: a fixed set of threads, each an event loop driving many isolates.
//!
//! Jobs wait in one bounded queue that every idle thread is woken for, so a thread stuck in a long
//! script (until its CPU limit stops it) never holds up requests other threads can take. Each
//! thread keeps its own isolate per worker version, reused across requests: requests to one
//! isolate interleave at `await` points, as on Cloudflare. A full queue answers
//! [`Error::Overloaded`] at once instead of growing.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::oneshot;

use crate::body::Body;
use crate::error::Error;
use crate::event;
use crate::isolate::Isolate;
use crate::limits::{ISOLATES_PER_THREAD_MAX, JOB_QUEUE_DEPTH_MAX};
use crate::worker::Worker;

/// How the pool is built.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// JS threads; defaults to one per core.
    pub threads: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

enum Job {
    Fetch {
        worker: Arc<Worker>,
        request: Box<http::Request<Body>>,
        entrypoint: Option<String>,
        responder: event::fetch::Responder,
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
}

/// The jobs waiting for a JS thread. A new job wakes *every* idle thread, and a thread takes
/// one job at a time, so a thread stuck in JavaScript can never swallow the wake-up that an
/// idle thread needed (a one-waiter channel would hand it to whichever thread waited first).
struct Queue {
    jobs: Mutex<VecDeque<Job>>,
    ready: tokio::sync::Notify,
}

impl Queue {
    fn pop(&self) -> Option<Job> {
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
    }
}

/// The handle to the JS thread pool; cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    queue: Arc<Queue>,
}

impl Runtime {
    pub fn new(options: RuntimeOptions) -> Runtime {
        assert!(options.threads > 0, "the pool needs at least one thread");
        let queue = Arc::new(Queue {
            jobs: Mutex::new(VecDeque::new()),
            ready: tokio::sync::Notify::new(),
        });
        for index in 0..options.threads {
            let jobs = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("kiln-js-{index}"))
                .spawn(move || js_thread(jobs))
                .expect("spawning a JS thread at startup");
        }
        Runtime { queue }
    }

    fn submit(&self, job: Job) -> Result<(), Error> {
        {
            let mut jobs = self.queue.jobs.lock().unwrap_or_else(|p| p.into_inner());
            if jobs.len() >= JOB_QUEUE_DEPTH_MAX {
                return Err(Error::Overloaded);
            }
            jobs.push_back(job);
            assert!(jobs.len() <= JOB_QUEUE_DEPTH_MAX);
        }
        self.queue.ready.notify_waiters();
        Ok(())
    }

    /// Delivers a `fetch` event to `entrypoint` (the default export when `None`).
    pub async fn fetch(
        &self,
        worker: &Arc<Worker>,
        request: http::Request<Body>,
        entrypoint: Option<String>,
    ) -> Result<http::Response<Body>, Error> {
        let (responder, response) = oneshot::channel();
        self.submit(Job::Fetch {
            worker: Arc::clone(worker),
            request: Box::new(request),
            entrypoint,
            responder,
        })?;
        response.await.map_err(|_| Error::Shutdown)?
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
#[derive(Default)]
struct ThreadState {
    isolates: RefCell<HashMap<u64, Slot>>,
}

impl ThreadState {
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
            .get_or_try_init(|| Isolate::start(Arc::clone(worker)))
            .await
            .cloned();
        match &result {
            Ok(isolate) if isolate.shared.terminated().is_some() => {
                self.forget(worker.id(), &cell);
                return Box::pin(self.isolate(worker)).await;
            }
            Err(_) => self.forget(worker.id(), &cell),
            Ok(_) => {}
        }
        result
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

fn js_thread(jobs: Arc<Queue>) {
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
    let state = Rc::new(ThreadState::default());
    local.block_on(&runtime, async move {
        loop {
            let ready = jobs.ready.notified();
            tokio::pin!(ready);
            // Register before looking, so a job pushed in between still wakes this thread.
            ready.as_mut().enable();
            match jobs.pop() {
                Some(job) => {
                    tokio::task::spawn_local(run_job(Rc::clone(&state), job));
                    // Let the job run to its first await before taking another.
                    tokio::task::yield_now().await;
                }
                None => ready.await,
            }
        }
    });
}

async fn run_job(state: Rc<ThreadState>, job: Job) {
    match job {
        Job::Fetch {
            worker,
            request,
            entrypoint,
            responder,
        } => match state.isolate(&worker).await {
            Ok(isolate) => {
                event::fetch::run(Rc::clone(&isolate), *request, entrypoint, responder).await;
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
        Job::Load { worker, responder } => {
            let _ = responder.send(state.isolate(&worker).await.map(|_| ()));
        }
    }
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
