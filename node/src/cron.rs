//! Cron triggers: fires the worker's `scheduled` handler on each `triggers.crons` schedule (UTC).

use std::sync::Arc;

use kiln_runtime::{Runtime, Worker};

/// Parses every schedule, so a bad one is reported at startup.
pub fn parse(crons: &[String]) -> Result<Vec<(String, croner::Cron)>, String> {
    crons
        .iter()
        .map(|text| {
            croner::Cron::new(text)
                .parse()
                .map(|cron| (text.clone(), cron))
                .map_err(|err| format!("triggers.crons: invalid schedule {text:?}: {err}"))
        })
        .collect()
}

/// Runs one schedule forever.
pub async fn run(runtime: Runtime, worker: Arc<Worker>, text: String, cron: croner::Cron) {
    loop {
        let now = chrono::Utc::now();
        let next = match cron.find_next_occurrence(&now, false) {
            Ok(next) => next,
            Err(err) => {
                tracing::error!(cron = text, ?err, "cron schedule has no next occurrence");
                return;
            }
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        let time = next.timestamp_millis() as f64;
        match runtime.scheduled(&worker, text.clone(), time).await {
            Ok(()) => {
                tracing::info!(target: "kiln::request", worker = worker.name(), cron = text, "scheduled")
            }
            Err(err) => {
                tracing::error!(target: "kiln::request", worker = worker.name(), cron = text, %err, "scheduled handler failed")
            }
        }
    }
}
