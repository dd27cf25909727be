//! Counters per script and per dispatch namespace (requests, errors, CPU time, limits hit),
//! for the node's `/metrics`.
//!
//! Bounded: past [`SCRIPTS_MAX`] distinct names, new ones are counted under `(other)`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Distinct scripts (and namespaces) counted by name.
pub const SCRIPTS_MAX: usize = 10_000;
const OTHER: &str = "(other)";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptStats {
    pub requests: u64,
    pub errors: u64,
    pub cpu_seconds: f64,
    pub exceeded_cpu: u64,
    pub exceeded_memory: u64,
    pub exceeded_subrequests: u64,
}

#[derive(Default)]
pub struct Stats {
    scripts: Mutex<BTreeMap<String, ScriptStats>>,
    namespaces: Mutex<BTreeMap<String, ScriptStats>>,
}

fn lock(
    map: &Mutex<BTreeMap<String, ScriptStats>>,
) -> MutexGuard<'_, BTreeMap<String, ScriptStats>> {
    map.lock().unwrap_or_else(|p| p.into_inner())
}

fn entry<'a>(map: &'a mut BTreeMap<String, ScriptStats>, name: &str) -> &'a mut ScriptStats {
    let name = if map.contains_key(name) || map.len() < SCRIPTS_MAX {
        name
    } else {
        OTHER
    };
    if !map.contains_key(name) {
        map.insert(name.to_owned(), ScriptStats::default());
    }
    map.get_mut(name).expect("inserted above")
}

impl Stats {
    /// Counts one invocation of `script` (in `namespace`, for a dispatch namespace's script).
    pub fn record(
        &self,
        script: &str,
        namespace: Option<&str>,
        outcome: &str,
        exceptions: &[String],
        cpu_seconds: f64,
    ) {
        let apply = |stats: &mut ScriptStats| {
            stats.requests += 1;
            stats.cpu_seconds += cpu_seconds;
            if outcome != "ok" {
                stats.errors += 1;
            }
            match outcome {
                "exceededCpu" => stats.exceeded_cpu += 1,
                "exceededMemory" => stats.exceeded_memory += 1,
                _ => {}
            }
            if exceptions
                .iter()
                .any(|e| e.contains("Too many subrequests"))
            {
                stats.exceeded_subrequests += 1;
            }
        };
        apply(entry(&mut lock(&self.scripts), script));
        if let Some(namespace) = namespace {
            apply(entry(&mut lock(&self.namespaces), namespace));
        }
    }

    pub fn scripts(&self) -> Vec<(String, ScriptStats)> {
        lock(&self.scripts)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn namespaces(&self) -> Vec<(String, ScriptStats)> {
        lock(&self.namespaces)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_count_per_script_and_namespace() {
        let stats = Stats::default();
        stats.record("a", None, "ok", &[], 0.5);
        stats.record("b", Some("ns"), "exceededCpu", &[], 1.0);
        stats.record(
            "b",
            Some("ns"),
            "exception",
            &["Error: Too many subrequests.".into()],
            0.0,
        );
        let scripts = stats.scripts();
        assert_eq!(scripts[0].1.requests, 1);
        assert_eq!(scripts[1].1.errors, 2);
        assert_eq!(scripts[1].1.exceeded_cpu, 1);
        assert_eq!(scripts[1].1.exceeded_subrequests, 1);
        assert_eq!(stats.namespaces()[0].1.requests, 2);
    }
}
