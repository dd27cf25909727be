//! Events delivered to a worker's handlers: `fetch` and `scheduled`.

pub mod fetch;
pub mod object;
pub mod scheduled;
