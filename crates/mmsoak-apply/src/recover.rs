//! Crash recovery and verification of the journal's hash chain.

use serde::{Deserialize, Serialize};

use mmsoak_core::{RuntimeOverrides, StateHash};

use crate::error::ApplyError;
use crate::journal::{self, JournalEntry};
use crate::lock::SoakDirLock;

/// What [`recover`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecoveryKind {
    /// The journal ended in a decided state and the file holds it.
    Clean,
    /// An intent without commit whose new state is in the file: a `commit`
    /// line (marked `recovered`) was appended.
    Completed {
        /// The iteration.
        iteration: u32,
    },
    /// An intent without commit whose old state is in the file: an `abort`
    /// line was appended.
    Aborted {
        /// The iteration.
        iteration: u32,
    },
}

/// The result of [`recover`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// What was found.
    pub kind: RecoveryKind,
    /// Bytes of a torn last journal line that were cut off (0 when none).
    pub torn_bytes_dropped: u64,
    /// Leftover `.atomicwrite*` temporary directories removed.
    pub stale_temp_dirs_removed: usize,
    /// The state the file holds, now the journal's head.
    pub state_hash: StateHash,
}

/// Bring the directory back to a decided state after a crash.
///
/// * A torn last journal line (a write cut short) is cut off.
/// * A trailing intent without commit is completed when the file holds its
///   new state, or aborted when it holds its old state.
/// * Leftover temporary directories of interrupted atomic writes are removed.
///
/// Any other file state means the runtime file was changed outside mmsoak:
/// [`ApplyError::ChangedOutside`] names the last good iteration, and nothing
/// is written.
pub fn recover(lock: &SoakDirLock) -> Result<Recovery, ApplyError> {
    let journal_path = lock.journal_path();
    let runtime_path = lock.runtime_path();
    let journal::Entries { entries, torn_at } = journal::read_all(&journal_path)?;
    let chain = journal::walk(&journal_path, &entries)?;
    let current = RuntimeOverrides::from_path(&runtime_path)?.state_hash();
    let changed_outside = |expected: String| ApplyError::ChangedOutside {
        file: runtime_path.clone(),
        found: current,
        expected,
        last_good_iteration: chain.last_good_iteration,
    };
    // Decide before writing anything.
    let (kind, entry) = match chain.pending {
        None if current == chain.head => (RecoveryKind::Clean, None),
        None => return Err(changed_outside(chain.head.to_string())),
        Some((iteration, old_hash, new_hash)) if current == new_hash => (
            RecoveryKind::Completed { iteration },
            Some(JournalEntry::Commit {
                iteration,
                old_hash,
                new_hash,
                recovered: true,
            }),
        ),
        Some((iteration, old_hash, new_hash)) if current == old_hash => (
            RecoveryKind::Aborted { iteration },
            Some(JournalEntry::Abort {
                iteration,
                old_hash,
                new_hash,
            }),
        ),
        Some((_, old_hash, new_hash)) => {
            return Err(changed_outside(format!("{old_hash} or {new_hash}")))
        }
    };
    let mut torn_bytes_dropped = 0;
    if let Some(at) = torn_at {
        let len = std::fs::metadata(&journal_path)
            .map_err(ApplyError::io("stat", &journal_path))?
            .len();
        torn_bytes_dropped = len.saturating_sub(at);
        journal::truncate(&journal_path, at)?;
    }
    if let Some(entry) = entry {
        journal::append(&journal_path, &entry)?;
    }
    let stale_temp_dirs_removed = remove_stale_temp_dirs(lock)?;
    Ok(Recovery {
        kind,
        torn_bytes_dropped,
        stale_temp_dirs_removed,
        state_hash: current,
    })
}

/// Temporary directories atomicwrites creates beside the target.
const TEMP_DIR_PREFIX: &str = mmsoak_artifacts::layout::ATOMIC_WRITE_PREFIX;

fn remove_stale_temp_dirs(lock: &SoakDirLock) -> Result<usize, ApplyError> {
    let dir = lock.dir();
    let mut removed = 0;
    let listing = std::fs::read_dir(dir).map_err(ApplyError::io("list", dir))?;
    for entry in listing {
        let entry = entry.map_err(ApplyError::io("list", dir))?;
        let is_temp = entry
            .file_name()
            .to_string_lossy()
            .starts_with(TEMP_DIR_PREFIX);
        if is_temp && entry.file_type().is_ok_and(|t| t.is_dir()) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(ApplyError::io("remove", &path))?;
            removed += 1;
        }
    }
    if removed > 0 {
        crate::apply::sync_dir(dir)?;
    }
    Ok(removed)
}

/// What [`verify_chain`] established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSummary {
    /// Journal lines.
    pub entries: usize,
    /// `commit` lines.
    pub commits: usize,
    /// `skip` lines.
    pub skips: usize,
    /// `abort` lines.
    pub aborts: usize,
    /// The initial state.
    pub initial_hash: StateHash,
    /// The state the journal ends in, which the runtime file holds.
    pub state_hash: StateHash,
    /// The last iteration committed or skipped; `None` before the first.
    pub last_iteration: Option<u32>,
}

/// Walk the whole journal and check it against the runtime file.
///
/// The first line is `init`; every `intent` starts from the current head and
/// is followed by its `commit` or `abort`; every commit's `old_hash` is the
/// previous head and its `new_hash` the next; every `skip` records the head;
/// iterations never decrease and each is decided once; the journal ends in a
/// decided state (no torn line, no unfinished intent) and the runtime file's
/// hash is the head.
pub fn verify_chain(lock: &SoakDirLock) -> Result<ChainSummary, ApplyError> {
    let journal_path = lock.journal_path();
    let runtime_path = lock.runtime_path();
    let journal::Entries { entries, torn_at } = journal::read_all(&journal_path)?;
    if torn_at.is_some() {
        return Err(ApplyError::NeedsRecovery {
            journal: journal_path,
            iteration: None,
        });
    }
    let chain = journal::walk(&journal_path, &entries)?;
    if let Some((iteration, _, _)) = chain.pending {
        return Err(ApplyError::NeedsRecovery {
            journal: journal_path,
            iteration: Some(iteration),
        });
    }
    let current = RuntimeOverrides::from_path(&runtime_path)?.state_hash();
    if current != chain.head {
        return Err(ApplyError::ChangedOutside {
            file: runtime_path,
            found: current,
            expected: chain.head.to_string(),
            last_good_iteration: chain.last_good_iteration,
        });
    }
    Ok(ChainSummary {
        entries: chain.entries,
        commits: chain.commits,
        skips: chain.skips,
        aborts: chain.aborts,
        initial_hash: chain.initial,
        state_hash: chain.head,
        last_iteration: chain.last_decided,
    })
}
