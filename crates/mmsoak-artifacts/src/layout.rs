//! Every name in an artifacts directory.
//!
//! | name | written by |
//! |---|---|
//! | [`RUNTIME_OVERRIDES`], [`APPLY_JOURNAL`], [`LOCK_FILE`] | the apply pipeline |
//! | [`SOAK_RUN`], [`TUNING_REPORT`], `ITER_SUMMARY_{i}.json`, `iter_{i}/` | the runner |
//! | [`DELTA_VERIFY_REPORT`] | `mmsoak verify` |
//! | [`POST_SOAK_SNAPSHOT`] | `mmsoak snapshot` |
//! | [`POST_SOAK_METRICS`] | `mmsoak gate --prometheus` |
//! | [`SOAK_REPORT_HTML`], [`SOAK_REPORT_MD`] | `mmsoak report` |
//! | [`KPI_GATE`] | nobody (the predecessor's readers looked for it) |
//!
//! In an iteration directory: the overrides snapshot the bot ran with
//! ([`RUNTIME_OVERRIDES`]), [`EDGE_REPORT`], a fill log ([`FILL_LOGS`]),
//! and for the exec driver [`BOT_STDOUT_LOG`], [`BOT_STDERR_LOG`] and,
//! while the bot runs, [`BOT_RECORD`].

/// The runtime overrides: the directory's current state, and in each
/// iteration directory the snapshot the bot ran with.
pub const RUNTIME_OVERRIDES: &str = "runtime_overrides.json";
/// The apply pipeline's hash-chained journal.
pub const APPLY_JOURNAL: &str = "APPLY_JOURNAL.jsonl";
/// The directory lock (it holds the writer's pid). Every run leaves it.
pub const LOCK_FILE: &str = ".mmsoak.lock";
/// A run's configuration and progress, which `mmsoak run` writes (its
/// presence says that mmsoak wrote the directory).
pub const SOAK_RUN: &str = "SOAK_RUN.json";
/// The tuning report: one entry per iteration and counts.
pub const TUNING_REPORT: &str = "TUNING_REPORT.json";
/// The verifier's Markdown report.
pub const DELTA_VERIFY_REPORT: &str = "DELTA_VERIFY_REPORT.md";
/// The post-soak snapshot (schema 1.1).
pub const POST_SOAK_SNAPSHOT: &str = "POST_SOAK_SNAPSHOT.json";
/// The gate's Prometheus text.
pub const POST_SOAK_METRICS: &str = "POST_SOAK_METRICS.prom";
/// The soak report, HTML.
pub const SOAK_REPORT_HTML: &str = "SOAK_REPORT.html";
/// The soak report, Markdown.
pub const SOAK_REPORT_MD: &str = "SOAK_REPORT.md";
/// A KPI gate verdict the predecessor's snapshot compared itself with.
pub const KPI_GATE: &str = "KPI_GATE.json";

/// The bot's report, in its iteration directory.
pub const EDGE_REPORT: &str = "EDGE_REPORT.json";
/// The bot's optional fill log, in order of preference.
pub const FILL_LOGS: [&str; 2] = ["fills.jsonl", "fills.csv"];
/// The exec bot's stdout.
pub const BOT_STDOUT_LOG: &str = "bot.stdout.log";
/// The exec bot's stderr.
pub const BOT_STDERR_LOG: &str = "bot.stderr.log";
/// The record of a running exec bot (removed when it is gone).
pub const BOT_RECORD: &str = "bot.process.json";

/// The `schema` of an ITER_SUMMARY mmsoak writes.
pub const ITER_SUMMARY_SCHEMA: &str = "mmsoak.iter_summary.v1";
/// The `schema` of `SOAK_RUN.json`.
pub const SOAK_RUN_SCHEMA: &str = "mmsoak.soak_run.v1";

/// The prefix of the temporary directory of an atomic write in progress
/// (or interrupted).
pub const ATOMIC_WRITE_PREFIX: &str = ".atomicwrite";

/// File name of iteration `i`'s summary.
pub fn iter_summary_name(i: u64) -> String {
    format!("ITER_SUMMARY_{i}.json")
}

/// Name of iteration `i`'s directory.
pub fn iter_dir_name(i: u64) -> String {
    format!("iter_{i}")
}

/// Whether `name`, at the top of an artifacts directory, is something a
/// soak (run, verify, snapshot, gate, report, their atomic writes, the
/// lock) leaves there: what a fresh run may remove.
pub fn is_soak_artifact(name: &str) -> bool {
    const FILES: [&str; 10] = [
        SOAK_RUN,
        TUNING_REPORT,
        APPLY_JOURNAL,
        RUNTIME_OVERRIDES,
        DELTA_VERIFY_REPORT,
        POST_SOAK_SNAPSHOT,
        POST_SOAK_METRICS,
        SOAK_REPORT_HTML,
        SOAK_REPORT_MD,
        LOCK_FILE,
    ];
    let numbered = |prefix: &str, suffix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    FILES.contains(&name)
        || numbered("ITER_SUMMARY_", ".json")
        || numbered("iter_", "")
        || name.starts_with(ATOMIC_WRITE_PREFIX)
}

/// Whether `name`, in an iteration directory, is a file the runner or the
/// simulator or mock driver writes there.
pub fn is_iteration_artifact(name: &str) -> bool {
    [
        RUNTIME_OVERRIDES,
        EDGE_REPORT,
        BOT_STDOUT_LOG,
        BOT_STDERR_LOG,
        BOT_RECORD,
    ]
    .contains(&name)
        || FILL_LOGS.contains(&name)
        || name.starts_with(ATOMIC_WRITE_PREFIX)
}
