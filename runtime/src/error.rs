//! The runtime's errors, as its callers branch on them.

/// Why a request to a worker did not produce a response from the worker's code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The worker ran past its CPU budget; its isolate was discarded.
    #[error("Worker exceeded CPU time limit.")]
    CpuLimit,
    /// The worker allocated past its memory limit; its isolate was discarded.
    #[error("Worker exceeded memory limit.")]
    MemoryLimit,
    /// Too many requests are queued for the JS threads.
    #[error("worker is overloaded: the request queue is full")]
    Overloaded,
    /// The worker's code failed to load: a syntax error or a throw at the top level.
    #[error("worker failed to start: {0}")]
    Startup(String),
    /// The worker's handler threw, or returned something other than a `Response`.
    #[error("worker threw an exception: {0}")]
    Exception(String),
    /// The worker has no handler for this event.
    #[error("{0}")]
    NoHandler(String),
    /// The runtime is shutting down.
    #[error("runtime is shut down")]
    Shutdown,
}

impl Error {
    /// The HTTP status Kiln answers with when a request fails this way.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::CpuLimit | Error::MemoryLimit | Error::Overloaded | Error::Shutdown => 503,
            Error::Startup(_) | Error::Exception(_) | Error::NoHandler(_) => 500,
        }
    }
}
