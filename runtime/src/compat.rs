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
    /// The flag that keeps it off after its date ("" when there is none).
    pub disable: &'static str,
    /// The compatibility date from which it is on by default (YYYY-MM-DD), if any.
    pub default_from: Option<&'static str>,
    /// By date it applies only to a worker that also names one of these flags.
    pub by_date_needs: &'static [&'static str],
}

/// The changes Kiln implements both ways.
pub const CHANGES: &[Change] = &[
    Change {
        // A WebSocket's `binaryType` starts as "blob" (binary messages arrive as Blob), as the
        // WebSocket standard says, instead of "arraybuffer".
        enable: "websocket_standard_binary_type",
        disable: "no_websocket_standard_binary_type",
        default_from: Some("2026-03-17"),
        by_date_needs: &[],
    },
    Change {
        // Node.js APIs (Kiln has `node:buffer`); no default date.
        enable: "nodejs_compat",
        disable: "",
        default_from: None,
        by_date_needs: &[],
    },
    Change {
        // With `nodejs_compat` from 2025-04-01: `process.env` holds the worker's text bindings.
        enable: "nodejs_compat_populate_process_env",
        disable: "nodejs_compat_do_not_populate_process_env",
        default_from: Some("2025-04-01"),
        by_date_needs: &["nodejs_compat"],
    },
    Change {
        // With `nodejs_compat` from 2024-09-23: Node's globals (`Buffer`, `process`).
        enable: "nodejs_compat_v2",
        disable: "no_nodejs_compat_v2",
        default_from: Some("2024-09-23"),
        by_date_needs: &["nodejs_compat"],
    },
];

/// Whether `change` applies to a worker with these date and flags.
pub fn applies(change: &Change, date: &str, flags: &[String]) -> bool {
    let named = |name: &str| !name.is_empty() && flags.iter().any(|f| f == name);
    if named(change.enable) {
        return true;
    }
    if named(change.disable) {
        return false;
    }
    if !change.by_date_needs.is_empty() && !change.by_date_needs.iter().any(|f| named(f)) {
        return false;
    }
    // Dates are YYYY-MM-DD, so they compare as strings.
    change.default_from.is_some_and(|from| date >= from)
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

    #[test]
    fn node_globals_need_nodejs_compat_and_its_date() {
        let v2 = CHANGES
            .iter()
            .find(|c| c.enable == "nodejs_compat_v2")
            .expect("listed");
        let node = vec!["nodejs_compat".to_owned()];
        assert!(applies(v2, "2024-09-23", &node));
        assert!(!applies(v2, "2024-09-22", &node));
        assert!(!applies(v2, "2026-01-01", &[]));
        let explicit = vec!["nodejs_compat_v2".to_owned()];
        assert!(applies(v2, "2020-01-01", &explicit));
        let compat = CHANGES
            .iter()
            .find(|c| c.enable == "nodejs_compat")
            .expect("listed");
        assert!(!applies(compat, "2026-01-01", &[]));
    }
}
