//! The node's Prometheus metrics, served as text at [`PATH`] on the HTTP port.
//!
//! Counters are bumped where things happen (the edge); gauges that mirror state (open
//! WebSockets, shard leaderships) are read when scraped. Labels have a small, fixed set of
//! values, except the script and dispatch namespace of the per-script counters, which the
//! runtime bounds (`kiln_runtime::trace::stats::SCRIPTS_MAX`, the rest counted as `(other)`).

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
pub struct ScriptLabels {
    /// `script` or `namespace` (a dispatch namespace, all its scripts together).
    pub scope: &'static str,
    pub name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub scope: &'static str,
    pub name: String,
    /// `cpu`, `memory` or `subrequests`.
    pub limit: &'static str,
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
    pub script_requests: Family<ScriptLabels, Counter>,
    pub script_errors: Family<ScriptLabels, Counter>,
    pub script_cpu_seconds: Family<ScriptLabels, Counter<f64, std::sync::atomic::AtomicU64>>,
    pub script_limits: Family<LimitLabels, Counter>,
    /// The runtime's totals at the last scrape, so each scrape adds what is new.
    scripts_seen:
        Mutex<std::collections::HashMap<(&'static str, String), kiln_runtime::trace::ScriptStats>>,
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
        let script_requests = Family::<ScriptLabels, Counter>::default();
        registry.register(
            "script_invocations",
            "Invocations per script and per dispatch namespace",
            script_requests.clone(),
        );
        let script_errors = Family::<ScriptLabels, Counter>::default();
        registry.register(
            "script_errors",
            "Invocations that did not end ok (exception, a limit), per script and namespace",
            script_errors.clone(),
        );
        let script_cpu_seconds =
            Family::<ScriptLabels, Counter<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "script_cpu_seconds",
            "CPU time of invocations, per script and namespace",
            script_cpu_seconds.clone(),
        );
        let script_limits = Family::<LimitLabels, Counter>::default();
        registry.register(
            "script_limit_exceeded",
            "Invocations stopped by a limit (cpu, memory, subrequests), per script and namespace",
            script_limits.clone(),
        );
        Arc::new(Metrics {
            registry,
            script_requests,
            script_errors,
            script_cpu_seconds,
            script_limits,
            scripts_seen: Mutex::default(),
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

    /// Brings the per-script counters up to the runtime's totals.
    pub fn sync_scripts(&self, stats: &kiln_runtime::trace::Stats) {
        let mut seen = self.scripts_seen.lock().unwrap_or_else(|p| p.into_inner());
        let scopes = [
            ("script", stats.scripts()),
            ("namespace", stats.namespaces()),
        ];
        for (scope, entries) in scopes {
            for (name, now) in entries {
                let before = seen.entry((scope, name.clone())).or_default();
                let labels = ScriptLabels {
                    scope,
                    name: name.clone(),
                };
                self.script_requests
                    .get_or_create(&labels)
                    .inc_by(now.requests.saturating_sub(before.requests));
                self.script_errors
                    .get_or_create(&labels)
                    .inc_by(now.errors.saturating_sub(before.errors));
                self.script_cpu_seconds
                    .get_or_create(&labels)
                    .inc_by((now.cpu_seconds - before.cpu_seconds).max(0.0));
                for (limit, now_count, before_count) in [
                    ("cpu", now.exceeded_cpu, before.exceeded_cpu),
                    ("memory", now.exceeded_memory, before.exceeded_memory),
                    (
                        "subrequests",
                        now.exceeded_subrequests,
                        before.exceeded_subrequests,
                    ),
                ] {
                    self.script_limits
                        .get_or_create(&LimitLabels {
                            scope,
                            name: name.clone(),
                            limit,
                        })
                        .inc_by(now_count.saturating_sub(before_count));
                }
                *before = now;
            }
        }
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
