//! Compatibility dates and flags: which of Cloudflare's behaviour changes apply to a worker.
//!
//! A change applies when the worker names its flag in `compatibility_flags`, or when its
//! `compatibility_date` is on or after the change's default date and it does not name the
//! change's opt-out flag; as on Cloudflare, naming the opt-in flag wins over the date.

use crate::worker::WorkerScript;

/// One behaviour change, as Cloudflare names and dates it.
#[derive(Debug, Clone, Copy)]
pub struct Change {
    /// The flag that turns it on (and its name inside the runtime).
    pub enable: &'static str,
    /// The flag that keeps it off after its date.
    pub disable: &'static str,
    /// The compatibility date from which it is on by default (YYYY-MM-DD).
    pub default_from: &'static str,
}

/// The changes Kiln implements both ways.
pub const CHANGES: &[Change] = &[Change {
    // A WebSocket's `binaryType` starts as "blob" (binary messages arrive as Blob), as the
    // WebSocket standard says, instead of "arraybuffer".
    enable: "websocket_standard_binary_type",
    disable: "no_websocket_standard_binary_type",
    default_from: "2026-03-17",
}];

/// Whether `change` applies to a worker with these date and flags.
pub fn applies(change: &Change, date: &str, flags: &[String]) -> bool {
    if flags.iter().any(|f| f == change.enable) {
        return true;
    }
    if flags.iter().any(|f| f == change.disable) {
        return false;
    }
    // Dates are YYYY-MM-DD, so they compare as strings.
    date >= change.default_from
}

/// The names of the changes that apply to `script`.
pub fn enabled(script: &WorkerScript) -> Vec<&'static str> {
    CHANGES
        .iter()
        .filter(|change| {
            applies(
                change,
                &script.compatibility_date,
                &script.compatibility_flags,
            )
        })
        .map(|change| change.enable)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BINARY_TYPE: &Change = &CHANGES[0];

    #[test]
    fn a_change_follows_the_date_unless_a_flag_says_otherwise() {
        let none: Vec<String> = Vec::new();
        assert!(!applies(BINARY_TYPE, "2026-03-16", &none));
        assert!(applies(BINARY_TYPE, "2026-03-17", &none));
        let off = vec!["no_websocket_standard_binary_type".to_owned()];
        assert!(!applies(BINARY_TYPE, "2026-11-01", &off));
        let on = vec!["websocket_standard_binary_type".to_owned()];
        assert!(applies(BINARY_TYPE, "2024-01-01", &on));
    }
}
