//! Error types of the apply pipeline.

use std::io;
use std::path::PathBuf;

use mmsoak_core::{InputError, NonFiniteNumber, Param, StateHash};

/// The artifacts directory could not be locked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Another process holds the lock. Nothing in the directory was read,
    /// cleaned or written.
    #[error("{} is in use by another mmsoak process ({holder}); refusing to read, clean or write it", dir.display())]
    Held {
        /// The directory.
        dir: PathBuf,
        /// What the holder wrote into the lock file (pid and start time).
        holder: String,
    },
    /// Report commands (`verify`, `snapshot`, `gate`, `report`) kept
    /// writing there for seconds. Nothing was read, cleaned or written.
    #[error("{} is busy: report commands (verify, snapshot, gate, report) are writing there; try again when they have finished", dir.display())]
    Busy {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory or its lock file could not be created or locked.
    #[error("cannot lock {}", path.display())]
    Io {
        /// The directory or lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// A guard evaluation could not be made: bad policy, inconsistent history
/// or an operation without a finite result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// A threshold of the guard policy is unusable.
    #[error("invalid guard policy: `guards.{field}` {problem}")]
    Policy {
        /// The policy key.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The run history is not in increasing iteration order.
    #[error("run history is out of order: iteration {found} follows iteration {previous}")]
    HistoryOrder {
        /// The record before.
        previous: u32,
        /// The offending record.
        found: u32,
    },
    /// The run history already holds the current (or a later) iteration.
    #[error(
        "run history holds iteration {found}, which is not before the current iteration {current}"
    )]
    HistoryAhead {
        /// The offending record.
        found: u32,
        /// The iteration being evaluated.
        current: u32,
    },
    /// The iteration number is outside `1..=total_iterations`.
    #[error("iteration {iteration} is outside 1..={total}")]
    IterationOutOfRange {
        /// The iteration.
        iteration: u32,
        /// Total iterations of the run.
        total: u32,
    },
    /// An operation has no finite result.
    #[error("operation on {param}")]
    NonFinite {
        /// The parameter.
        param: Param,
        /// The offending value.
        #[source]
        source: NonFiniteNumber,
    },
}

/// Applying, initializing, recovering or verifying failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The guards could not be evaluated.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// The runtime overrides file is missing or malformed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A file operation failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done, e.g. `"append to"`.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The directory has no journal: the run was never initialized.
    #[error("{}: no apply journal; the run was not initialized", journal.display())]
    JournalMissing {
        /// The journal path.
        journal: PathBuf,
    },
    /// A journal line is malformed or breaks the hash chain.
    #[error("{}: {location}: {problem}", journal.display())]
    Journal {
        /// The journal path.
        journal: PathBuf,
        /// Where, e.g. `"line 7"`.
        location: String,
        /// What is wrong.
        problem: String,
    },
    /// The journal ends in an unfinished apply (an intent without commit, or
    /// a torn last line): run recovery first.
    #[error("{}: {}; run recovery first", journal.display(), describe_unfinished(*iteration))]
    NeedsRecovery {
        /// The journal path.
        journal: PathBuf,
        /// Iteration of the dangling intent; `None` for a torn last line.
        iteration: Option<u32>,
    },
    /// The runtime file holds a state the journal does not know: it was
    /// changed outside mmsoak.
    #[error("{}: state {found} is not the state the apply journal expects ({expected}): the file was changed outside mmsoak; last good state: {}", file.display(), describe_good(*last_good_iteration))]
    ChangedOutside {
        /// The runtime overrides file.
        file: PathBuf,
        /// Hash of the file as found.
        found: StateHash,
        /// Hash(es) the journal allows, joined by `" or "`.
        expected: String,
        /// The last iteration whose state the journal records as good;
        /// `None` for the initial state.
        last_good_iteration: Option<u32>,
    },
    /// The verification barrier failed: the file read back is not what was written.
    #[error("{}: verification failed after writing: expected state {expected}, read back {found}", file.display())]
    VerificationFailed {
        /// The file.
        file: PathBuf,
        /// Hash that was written.
        expected: StateHash,
        /// Hash of what was read back.
        found: StateHash,
    },
    /// The iteration was already decided (committed or skipped) in the
    /// journal, or comes before the journal's last (aborted) iteration.
    #[error("iteration {iteration} cannot be applied: the apply journal has already {} iteration {journal_iteration}", if *decided { "decided" } else { "reached" })]
    IterationOutOfOrder {
        /// The iteration asked for.
        iteration: u32,
        /// The journal's last iteration.
        journal_iteration: u32,
        /// Whether that iteration was decided (committed or skipped) rather than aborted.
        decided: bool,
    },
    /// Replaying a decided iteration gave a different decision than the
    /// journal recorded (the inputs of that iteration were not the same).
    #[error("iteration {iteration} cannot be replayed: {problem}")]
    ReplayMismatch {
        /// The iteration.
        iteration: u32,
        /// What differs.
        problem: String,
    },
}

fn describe_unfinished(iteration: Option<u32>) -> String {
    match iteration {
        Some(i) => format!("unfinished apply of iteration {i} (intent without commit)"),
        None => "torn last line".to_owned(),
    }
}

fn describe_good(iteration: Option<u32>) -> String {
    match iteration {
        Some(i) => format!("iteration {i}"),
        None => "the initial state".to_owned(),
    }
}

impl ApplyError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> ApplyError {
        let path = path.into();
        move |source| ApplyError::Io {
            action,
            path,
            source,
        }
    }
}
