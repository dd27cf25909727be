//! The node's Prometheus metrics, served as text at [`PATH`] on the HTTP port.
//!
//! Counters are bumped where things happen (the edge); gauges that mirror state (open
//! WebSockets, shard leaderships) are read when scraped. Every label has a small, fixed set of
//! values, so the series cannot grow with traffic.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

pub const PATH: &str = "/__kiln/metrics";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// `2xx`, `3xx`, `4xx`, `5xx` or `other`.
    pub class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// `cpu`, `memory`, `exception`, `overloaded` or `other`.
    pub kind: &'static str,
}

/// What the scrape reads from the running node.
pub type Probe = Box<dyn Fn(&Metrics) + Send + Sync>;

pub struct Metrics {
    registry: Registry,
    pub requests: Family<StatusLabels, Counter>,
    pub request_seconds: Histogram,
    pub failures: Family<FailureLabels, Counter>,
    pub websockets_open: Gauge,
    pub shards_led: Gauge,
    pub shards: Gauge,
    probes: Mutex<Vec<Probe>>,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("kiln");
        let requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered at the edge",
            requests.clone(),
        );
        let request_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response head",
            request_seconds.clone(),
        );
        let failures = Family::<FailureLabels, Counter>::default();
        registry.register(
            "worker_failures",
            "Requests a worker failed, by cause",
            failures.clone(),
        );
        let websockets_open = Gauge::default();
        registry.register(
            "websockets_open",
            "WebSocket ends held by workers",
            websockets_open.clone(),
        );
        let shards_led = Gauge::default();
        registry.register(
            "shards_led",
            "Shards this node leads (owns)",
            shards_led.clone(),
        );
        let shards = Gauge::default();
        registry.register(
            "shards",
            "Shards of the cluster (1 for kiln dev)",
            shards.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            request_seconds,
            failures,
            websockets_open,
            shards_led,
            shards,
            probes: Mutex::new(Vec::new()),
        })
    }

    /// Adds a function the scrape runs first, to bring gauges up to date.
    pub fn probe(&self, probe: Probe) {
        self.probes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(probe);
    }

    pub fn observe(&self, status: u16, seconds: f64) {
        let class = match status {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "other",
        };
        self.requests.get_or_create(&StatusLabels { class }).inc();
        self.request_seconds.observe(seconds);
    }

    pub fn failed(&self, err: &kiln_runtime::Error) {
        let kind = match err {
            kiln_runtime::Error::CpuLimit => "cpu",
            kiln_runtime::Error::MemoryLimit => "memory",
            kiln_runtime::Error::Exception(_) | kiln_runtime::Error::Startup(_) => "exception",
            kiln_runtime::Error::Overloaded => "overloaded",
            _ => "other",
        };
        self.failures.get_or_create(&FailureLabels { kind }).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        for probe in self.probes.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            probe(self);
        }
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
