//! What customer code did, for Tail Workers (`tail_consumers`), `kiln tail` and per-script
//! metrics: one [`TraceItem`] per invocation, in the shape Cloudflare gives a `tail()` handler
//! (outcome, event, `console` logs, exceptions, CPU and wall time).
//!
//! Logs are attributed to every invocation in flight on the isolate when they are written
//! (JavaScript cannot tell which interleaved request wrote them); with one request at a time,
//! exactly its own. Bounded: at most [`LOGS_PER_ITEM_MAX`] logs and [`LOG_BYTES_PER_ITEM_MAX`]
//! bytes per item, past which the item says `truncated`.

pub mod hub;
pub mod stats;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::Error;

pub use hub::TailHub;
pub use stats::{ScriptStats, Stats};

/// Logs kept per invocation.
pub const LOGS_PER_ITEM_MAX: usize = 256;
/// Bytes of log text kept per invocation (Cloudflare truncates tail events near 256 KB).
pub const LOG_BYTES_PER_ITEM_MAX: usize = 256 * 1024;
/// Exceptions kept per invocation.
pub const EXCEPTIONS_PER_ITEM_MAX: usize = 16;

pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceLog {
    pub timestamp: f64,
    pub level: String,
    pub message: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceException {
    pub timestamp: f64,
    pub name: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceRequest {
    pub url: String,
    pub method: String,
    pub headers: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceResponse {
    pub status: u16,
}

/// The event that started an invocation.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TraceEvent {
    Fetch {
        request: TraceRequest,
        #[serde(skip_serializing_if = "Option::is_none")]
        response: Option<TraceResponse>,
    },
    Scheduled {
        cron: String,
        #[serde(rename = "scheduledTime")]
        scheduled_time: f64,
    },
}

/// One invocation, as a `tail()` handler receives it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceItem {
    pub script_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispatch_namespace: Option<String>,
    pub outcome: String,
    pub event_timestamp: f64,
    pub event: Option<TraceEvent>,
    pub logs: Vec<TraceLog>,
    pub exceptions: Vec<TraceException>,
    pub diagnostics_channel_events: Vec<serde_json::Value>,
    pub execution_model: String,
    pub truncated: bool,
    pub cpu_time: f64,
    pub wall_time: f64,
}

/// Tail Workers named by wrangler's `tail_consumers` (or an upload's): `[{ "service": name }]`.
pub fn consumers_from_json(value: Option<&serde_json::Value>) -> Result<Vec<String>, String> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let list = value
        .as_array()
        .ok_or("tail_consumers must be a list of { service = \"name\" }")?;
    list.iter()
        .enumerate()
        .map(|(i, consumer)| {
            consumer
                .get("service")
                .and_then(|s| s.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("tail_consumers[{i}] needs a \"service\""))
        })
        .collect()
}

/// Cloudflare's outcome for how an invocation ended.
pub fn outcome(result: Result<(), &Error>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(Error::CpuLimit) => "exceededCpu",
        Err(Error::MemoryLimit) => "exceededMemory",
        Err(Error::Overloaded) => "loadShed",
        Err(Error::Shutdown) => "canceled",
        Err(Error::Startup(_) | Error::Exception(_) | Error::NoHandler(_)) => "exception",
    }
}

/// `Name: message` of an error the runtime reported, as an exception entry.
pub fn exception_of(err: &Error) -> TraceException {
    let text = match err {
        Error::Exception(text) | Error::Startup(text) | Error::NoHandler(text) => text.clone(),
        other => format!("Error: {other}"),
    };
    let first = text.lines().next().unwrap_or_default();
    let (name, message) = match first.split_once(": ") {
        Some((name, message)) if !name.contains(' ') => (name.to_owned(), message.to_owned()),
        _ => ("Error".to_owned(), first.to_owned()),
    };
    TraceException {
        timestamp: now_ms(),
        name,
        message,
    }
}

/// An invocation being recorded.
#[derive(Debug)]
pub struct Recorder {
    pub item: TraceItem,
    log_bytes: usize,
}

pub type SharedRecorder = Rc<RefCell<Recorder>>;

impl Recorder {
    pub fn new(script_name: &str, dispatch_namespace: Option<String>, event: TraceEvent) -> Self {
        Recorder {
            item: TraceItem {
                script_name: script_name.to_owned(),
                dispatch_namespace,
                outcome: "unknown".into(),
                event_timestamp: now_ms(),
                event: Some(event),
                logs: Vec::new(),
                exceptions: Vec::new(),
                diagnostics_channel_events: Vec::new(),
                execution_model: "stateless".into(),
                truncated: false,
                cpu_time: 0.0,
                wall_time: 0.0,
            },
            log_bytes: 0,
        }
    }

    pub fn log(&mut self, level: &str, line: &str) {
        if self.item.logs.len() >= LOGS_PER_ITEM_MAX
            || self.log_bytes + line.len() > LOG_BYTES_PER_ITEM_MAX
        {
            self.item.truncated = true;
            return;
        }
        self.log_bytes += line.len();
        self.item.logs.push(TraceLog {
            timestamp: now_ms(),
            level: level.to_owned(),
            message: vec![line.to_owned()],
        });
    }

    pub fn exception(&mut self, exception: TraceException) {
        if self.item.exceptions.len() >= EXCEPTIONS_PER_ITEM_MAX {
            self.item.truncated = true;
            return;
        }
        self.item.exceptions.push(exception);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_serialize_in_cloudflares_shape_and_stay_bounded() {
        let mut recorder = Recorder::new(
            "shop",
            Some("customers".into()),
            TraceEvent::Fetch {
                request: TraceRequest {
                    url: "https://x/".into(),
                    method: "GET".into(),
                    headers: serde_json::Map::new(),
                },
                response: Some(TraceResponse { status: 200 }),
            },
        );
        for _ in 0..LOGS_PER_ITEM_MAX + 5 {
            recorder.log("log", "hello");
        }
        recorder.exception(exception_of(&Error::Exception(
            "TypeError: boom\n    at x".into(),
        )));
        recorder.item.outcome = outcome(Ok(())).into();
        let json = serde_json::to_value(&recorder.item).expect("serializes");
        assert_eq!(json["scriptName"], "shop");
        assert_eq!(json["dispatchNamespace"], "customers");
        assert_eq!(json["event"]["request"]["method"], "GET");
        assert_eq!(json["event"]["response"]["status"], 200);
        assert_eq!(
            json["logs"].as_array().map(Vec::len),
            Some(LOGS_PER_ITEM_MAX)
        );
        assert_eq!(json["truncated"], true);
        assert_eq!(json["exceptions"][0]["name"], "TypeError");
        assert_eq!(json["exceptions"][0]["message"], "boom");
        assert_eq!(outcome(Err(&Error::CpuLimit)), "exceededCpu");
    }
}
