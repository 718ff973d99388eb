//! The apply pipeline of mmsoak: a proposed change to the bot's
//! `runtime_overrides.json` either lands exactly and provably, or is skipped
//! for a recorded reason, even if the process is killed at any instant.
//!
//! * [`SoakDirLock`]: one writer per artifacts directory; every function
//!   that reads or writes the directory takes the held lock.
//! * [`initialize`]: write a run's initial runtime state and start the journal.
//! * [`evaluate_guards`]: freeze, oscillation, velocity, cooldown, no-op and
//!   final-iteration guards, a pure function of the [`RunHistory`].
//! * [`apply_with_tracking`]: guards, then journal intent, atomic write,
//!   verification barrier, journal commit; returns an [`ApplyOutcome`].
//! * [`recover`] after a crash and [`verify_chain`] at any time;
//!   [`replay_decided`] rebuilds the outcome of an iteration the journal has
//!   already decided (resume after a crash between apply and the caller's records).
//!
//! # Journal protocol (`APPLY_JOURNAL.jsonl`)
//!
//! One JSON object per line, appended with a single write and fsynced:
//!
//! | `kind`   | fields                                          | written                                  |
//! |----------|-------------------------------------------------|------------------------------------------|
//! | `init`   | `new_hash`                                      | by [`initialize`], as the only line      |
//! | `intent` | `iteration`, `old_hash`, `new_hash`, `changes`  | before the runtime file is replaced      |
//! | `commit` | `iteration`, `old_hash`, `new_hash` (`recovered`)| after the replacement is verified        |
//! | `skip`   | `iteration`, `state_hash`, `skip_reason`        | when a guard holds                       |
//! | `abort`  | `iteration`, `old_hash`, `new_hash`             | by [`recover`]: the intent never landed  |
//!
//! The hashes form a chain: the `init` hash is the first head; each intent
//! starts from the head, and its commit moves the head to `new_hash` (so each
//! commit's `old_hash` is the previous commit's `new_hash`); skips and aborts
//! leave it. The runtime file always holds the head, except between an
//! intent and its commit, when it holds the intent's old or new state — the
//! file is only ever replaced by an atomic rename. [`recover`] decides which
//! (and writes the commit or abort); any other content means the file was
//! changed outside mmsoak.
//!
//! # Example
//!
//! ```
//! use mmsoak_apply::{apply_with_tracking, initialize, verify_chain, GuardContext, GuardKpis,
//!     GuardPolicy, RunHistory, SoakDirLock, IterationRecord};
//! use mmsoak_core::{Delta, DeltaOp, Param, ParamRegistry, RuntimeOverrides, StateHash};
//!
//! let dir = tempfile::tempdir()?;
//! let lock = SoakDirLock::acquire(dir.path())?;
//! let registry = ParamRegistry::default();
//! let initial = RuntimeOverrides::parse(br#"{"min_interval_ms": 60, "desk": "eu"}"#, "profile.json".as_ref())?;
//! initialize(&lock, &initial, &registry)?;
//!
//! let mut history = RunHistory::new();
//! let policy = GuardPolicy::default();
//! let kpis = GuardKpis { risk_ratio: 0.45, maker_taker_ratio: None, net_bps: Some(2.4), p95_latency_ms: Some(310.0) };
//! let ctx = GuardContext { history: &history, iteration: 1, total_iterations: 6, kpis,
//!     policy: &policy, registry: &registry };
//! let ops = [DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0))];
//! let outcome = apply_with_tracking(&lock, &ops, &ctx)?;
//!
//! assert!(outcome.applied && outcome.skip_reason.is_none());
//! assert_eq!((outcome.changes[0].from, outcome.changes[0].to), (60.0, 65.0));
//! assert_eq!(outcome.changed_keys, vec![Param::MinIntervalMs]);
//! let on_disk = std::fs::read(lock.runtime_path())?;
//! assert_eq!(outcome.state_hash, StateHash::of_canonical_bytes(&on_disk));
//! assert_eq!(outcome.bytes_written, on_disk.len() as u64);
//! assert_eq!(verify_chain(&lock)?.state_hash, outcome.state_hash);
//! history.push(IterationRecord::from_outcome(kpis, &outcome))?;
//!
//! // The outcome serializes with the predecessor's key names.
//! let json = serde_json::to_value(&outcome)?;
//! assert_eq!(json["skip_reason"], serde_json::Value::Null);
//! assert_eq!(json["changed_keys"], serde_json::json!(["min_interval_ms"]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apply;
mod error;
mod guards;
mod journal;
mod lock;
mod recover;

pub use apply::{apply_with_tracking, initialize, replay_decided, ApplyOutcome, InitOutcome};
pub use error::{ApplyError, GuardError, LockError};
pub use guards::{
    evaluate_guards, FoldedHistory, FreezeBreak, GuardContext, GuardKpis, GuardPolicy, GuardStates,
    GuardVerdict, IterationRecord, RunHistory, SkipKind, SkipReason,
};
pub use journal::JournalEntry;
pub use lock::{ReportWriteLock, SoakDirLock};
pub use recover::{recover, verify_chain, ChainSummary, Recovery, RecoveryKind};
