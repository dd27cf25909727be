//! Service bindings: a worker's `env.SVC` reaches another worker (or itself) by name, through
//! `fetch()` or JS RPC on one of its entrypoints. Only the workers a binding names are
//! reachable; the runtime's registry maps names to the running version.

pub mod ops;
pub mod targets;

/// A `services` binding.
#[derive(Debug, Clone)]
pub struct ServiceBinding {
    /// The name in `env`.
    pub binding: String,
    /// The worker it reaches (its `name`).
    pub service: String,
    /// The named export to call (the default export when `None`).
    pub entrypoint: Option<String>,
    /// `ctx.props` the callee sees, as JSON.
    pub props: Option<String>,
}
