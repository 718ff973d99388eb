//! Initializing a run's runtime state and applying proposals to it.

use std::io::Write;
use std::path::Path;

use atomicwrites::{AtomicFile, OverwriteBehavior};
use serde::{Deserialize, Serialize};

use mmsoak_core::{Change, DeltaOp, Param, ParamRegistry, RuntimeOverrides, StateHash};

use crate::error::ApplyError;
use crate::guards::{evaluate, GuardContext, GuardStates, GuardVerdict, SkipKind, SkipReason};
use crate::journal::{self, JournalEntry};
use crate::lock::SoakDirLock;

/// What one apply step did.
///
/// Serialized with the predecessor's `tuning` key names; `skip_reason` is
/// `null` when applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyOutcome {
    /// The iteration.
    pub iteration: u32,
    /// The runtime file now holds the changes.
    pub applied: bool,
    /// Skipped because nothing would change.
    pub no_op: bool,
    /// State before (hash of the file as read, in canonical form).
    pub old_hash: StateHash,
    /// State after; equal to `old_hash` when nothing was applied.
    pub state_hash: StateHash,
    /// What each operation resolved to (rounded, clamped). Applied when
    /// `applied`, otherwise only recorded.
    pub changes: Vec<Change>,
    /// Parameters whose value changed in the file, in registry order; empty
    /// when nothing was applied.
    pub changed_keys: Vec<Param>,
    /// Bytes written to the runtime file (0 when nothing was applied).
    pub bytes_written: u64,
    /// Why nothing was applied; `None` when applied.
    pub skip_reason: Option<SkipReason>,
    /// Every guard's state (also when applied).
    pub guards: GuardStates,
}

impl ApplyOutcome {
    /// The outcome of a step the guards skipped: nothing written.
    fn skipped(
        iteration: u32,
        state: StateHash,
        reason: SkipReason,
        verdict: GuardVerdict,
    ) -> Self {
        ApplyOutcome {
            iteration,
            applied: false,
            no_op: reason.kind == SkipKind::NoOp,
            old_hash: state,
            state_hash: state,
            changes: verdict.changes,
            changed_keys: Vec::new(),
            bytes_written: 0,
            skip_reason: Some(reason),
            guards: verdict.flags,
        }
    }

    /// The outcome of a step that replaced the runtime file.
    fn applied(
        iteration: u32,
        old_hash: StateHash,
        new_hash: StateHash,
        bytes: usize,
        verdict: GuardVerdict,
    ) -> Self {
        ApplyOutcome {
            iteration,
            applied: true,
            no_op: false,
            old_hash,
            state_hash: new_hash,
            changes: verdict.changes,
            changed_keys: verdict.changed_keys,
            bytes_written: bytes as u64,
            skip_reason: None,
            guards: verdict.flags,
        }
    }
}

/// The runtime state a run starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitOutcome {
    /// Hash of the initial state (the `init` line of the journal).
    pub state_hash: StateHash,
    /// Bytes written to the runtime file.
    pub bytes_written: u64,
}

/// `overrides` with every parameter written out (registry default where
/// absent), so that equal values mean equal state hashes.
pub(crate) fn with_every_param(
    overrides: &RuntimeOverrides,
    registry: &ParamRegistry,
) -> RuntimeOverrides {
    let mut full = overrides.clone();
    for p in Param::ALL {
        if full.get(p).is_none() {
            // Registry defaults are finite (the registry validates its table).
            let _ = full.set(p, registry.spec(p).default);
        }
    }
    full
}

/// Start a run: write `overrides` as the run's runtime file and start a
/// fresh journal whose single line is `{"kind":"init","new_hash":...}`.
///
/// Every parameter is written out (the registry default where `overrides`
/// does not set one), so the state hash identifies the values in force.
/// Order: delete the old journal (fsync the directory), write the runtime
/// file atomically and verify it, then create the journal atomically. A
/// crash leaves either no journal (initialize again) or a complete one.
pub fn initialize(
    lock: &SoakDirLock,
    overrides: &RuntimeOverrides,
    registry: &ParamRegistry,
) -> Result<InitOutcome, ApplyError> {
    let journal = lock.journal_path();
    match std::fs::remove_file(&journal) {
        Ok(()) => sync_dir(lock.dir())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ApplyError::io("remove", &journal)(e)),
    }
    let state = with_every_param(overrides, registry);
    let bytes = state.to_canonical_bytes();
    let hash = StateHash::of_canonical_bytes(&bytes);
    write_verified(&lock.runtime_path(), &bytes, hash)?;
    let line = JournalEntry::Init { new_hash: hash }.to_line(&journal)?;
    write_atomically(&journal, &line)?;
    Ok(InitOutcome {
        state_hash: hash,
        bytes_written: bytes.len() as u64,
    })
}

/// Apply `ops` at iteration `ctx.iteration` to the locked directory's
/// `runtime_overrides.json`, unless a guard holds.
///
/// 1. The journal must end in a decided state (else [`ApplyError::NeedsRecovery`])
///    and the file must hold the journal's head state (else
///    [`ApplyError::ChangedOutside`]).
/// 2. The guards are evaluated ([`evaluate_guards`](crate::evaluate_guards)).
///    A skip appends a `skip` line and returns.
/// 3. Otherwise: `intent` line (fsynced), atomic replacement of the file,
///    verification barrier (read back, re-hash), `commit` line (fsynced).
pub fn apply_with_tracking(
    lock: &SoakDirLock,
    ops: &[DeltaOp],
    ctx: &GuardContext<'_>,
) -> Result<ApplyOutcome, ApplyError> {
    let journal_path = lock.journal_path();
    let runtime_path = lock.runtime_path();
    let tail = journal::read_tail(&journal_path)?;
    if tail.torn_at.is_some() {
        return Err(ApplyError::NeedsRecovery {
            journal: journal_path,
            iteration: None,
        });
    }
    let Some(last) = tail.last else {
        return Err(ApplyError::Journal {
            journal: journal_path,
            location: "line 1".into(),
            problem: "the journal is empty".into(),
        });
    };
    let head = match (&last, last.head()) {
        (_, Some(head)) => head,
        (entry, None) => {
            return Err(ApplyError::NeedsRecovery {
                journal: journal_path,
                iteration: entry.iteration(),
            })
        }
    };
    // Each iteration is decided once; an aborted one may be retried.
    let too_early = match last {
        JournalEntry::Commit { iteration: d, .. } | JournalEntry::Skip { iteration: d, .. } => {
            (ctx.iteration <= d).then_some((d, true))
        }
        JournalEntry::Abort { iteration: d, .. } => (ctx.iteration < d).then_some((d, false)),
        _ => None,
    };
    if let Some((journal_iteration, decided)) = too_early {
        return Err(ApplyError::IterationOutOfOrder {
            iteration: ctx.iteration,
            journal_iteration,
            decided,
        });
    }

    let current = RuntimeOverrides::from_path(&runtime_path)?;
    let old_hash = current.state_hash();
    if old_hash != head {
        return Err(ApplyError::ChangedOutside {
            file: runtime_path,
            found: old_hash,
            expected: head.to_string(),
            last_good_iteration: last_good_iteration(&journal_path)
                .unwrap_or_else(|| last_good(&last)),
        });
    }

    let (mut verdict, bytes) = evaluate(ctx, &current, ops)?;
    if let Some(reason) = verdict.skip_reason.take() {
        journal::append(
            &journal_path,
            &JournalEntry::Skip {
                iteration: ctx.iteration,
                state_hash: old_hash,
                skip_reason: reason.clone(),
            },
        )?;
        return Ok(ApplyOutcome::skipped(
            ctx.iteration,
            old_hash,
            reason,
            verdict,
        ));
    }

    let new_hash = verdict.prospective_hash;
    journal::append(
        &journal_path,
        &JournalEntry::Intent {
            iteration: ctx.iteration,
            old_hash,
            new_hash,
            changes: verdict.changes.clone(),
        },
    )?;
    write_verified(&runtime_path, &bytes, new_hash)?;
    journal::append(
        &journal_path,
        &JournalEntry::Commit {
            iteration: ctx.iteration,
            old_hash,
            new_hash,
            recovered: false,
        },
    )?;
    Ok(ApplyOutcome::applied(
        ctx.iteration,
        old_hash,
        new_hash,
        bytes.len(),
        verdict,
    ))
}

/// The last good iteration according to the whole journal (slow path, for errors).
fn last_good_iteration(journal_path: &Path) -> Option<Option<u32>> {
    let entries = journal::read_all(journal_path).ok()?.entries;
    journal::walk(journal_path, &entries)
        .ok()
        .map(|c| c.last_good_iteration)
}

/// Rebuild the outcome of an iteration the journal has already decided,
/// without writing anything: the resume path after a crash between an
/// apply and the caller's own records.
///
/// `before` is the state that was in force when the iteration was applied
/// (the caller's snapshot of it). The guards are evaluated again on
/// `before` and `ops`; the decision must be the one the journal recorded
/// for `ctx.iteration` (its last line): the same skip reason on the same
/// state, or a commit from `before` to the same new state. Otherwise
/// [`ApplyError::ReplayMismatch`].
pub fn replay_decided(
    lock: &SoakDirLock,
    ops: &[DeltaOp],
    ctx: &GuardContext<'_>,
    before: &RuntimeOverrides,
) -> Result<ApplyOutcome, ApplyError> {
    let journal_path = lock.journal_path();
    let mismatch = |problem: String| ApplyError::ReplayMismatch {
        iteration: ctx.iteration,
        problem,
    };
    let tail = journal::read_tail(&journal_path)?;
    let decided = match tail.last {
        Some(entry @ (JournalEntry::Commit { .. } | JournalEntry::Skip { .. }))
            if entry.iteration() == Some(ctx.iteration) =>
        {
            entry
        }
        other => {
            return Err(mismatch(format!(
                "the journal's last line is not its decision ({})",
                other.map_or("empty journal".to_owned(), |e| format!("{e:?}"))
            )))
        }
    };
    let old_hash = before.state_hash();
    let (mut verdict, bytes) = evaluate(ctx, before, ops)?;
    match (decided, verdict.skip_reason.take()) {
        (
            JournalEntry::Skip {
                state_hash,
                skip_reason,
                ..
            },
            Some(reason),
        ) => {
            if state_hash != old_hash || skip_reason != reason {
                return Err(mismatch(format!(
                    "journal skipped state {state_hash} ({}), replay skips state {old_hash} ({})",
                    skip_reason.note, reason.note
                )));
            }
            Ok(ApplyOutcome::skipped(
                ctx.iteration,
                old_hash,
                reason,
                verdict,
            ))
        }
        (
            JournalEntry::Commit {
                old_hash: j_old,
                new_hash: j_new,
                ..
            },
            None,
        ) => {
            let new_hash = verdict.prospective_hash;
            if j_old != old_hash || j_new != new_hash {
                return Err(mismatch(format!(
                    "journal committed {j_old} -> {j_new}, replay gives {old_hash} -> {new_hash}"
                )));
            }
            Ok(ApplyOutcome::applied(
                ctx.iteration,
                old_hash,
                new_hash,
                bytes.len(),
                verdict,
            ))
        }
        (entry, reason) => Err(mismatch(format!(
            "journal recorded {}, replay {}",
            if matches!(entry, JournalEntry::Commit { .. }) {
                "a commit"
            } else {
                "a skip"
            },
            match reason {
                Some(r) => format!("skips ({})", r.note),
                None => "applies".to_owned(),
            }
        ))),
    }
}

/// The last iteration a decided entry vouches for.
pub(crate) fn last_good(entry: &JournalEntry) -> Option<u32> {
    match entry {
        JournalEntry::Commit { iteration, .. } | JournalEntry::Skip { iteration, .. } => {
            Some(*iteration)
        }
        _ => None,
    }
}

/// Replace `path` atomically with `bytes`: temporary file in a fresh
/// `.atomicwrite*` directory beside it, fsync, rename over `path`, fsync of
/// both directories (atomicwrites 0.4, `AllowOverwrite`).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ApplyError> {
    AtomicFile::new(path, OverwriteBehavior::AllowOverwrite)
        .write(|f| f.write_all(bytes))
        .map_err(|e| ApplyError::io("atomically replace", path)(e.into()))
}

/// Write atomically, then the verification barrier: read the file back and
/// compare its hash, and the hash of its parsed canonical form, with `expected`.
fn write_verified(path: &Path, bytes: &[u8], expected: StateHash) -> Result<(), ApplyError> {
    write_atomically(path, bytes)?;
    let back = std::fs::read(path).map_err(ApplyError::io("read back", path))?;
    let raw = StateHash::of_canonical_bytes(&back);
    let parsed = RuntimeOverrides::parse(&back, path)?.state_hash();
    for found in [raw, parsed] {
        if found != expected {
            return Err(ApplyError::VerificationFailed {
                file: path.to_owned(),
                expected,
                found,
            });
        }
    }
    Ok(())
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), ApplyError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(ApplyError::io("fsync directory", dir))
}
