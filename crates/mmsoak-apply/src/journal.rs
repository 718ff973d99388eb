//! `APPLY_JOURNAL.jsonl`: the append-only, fsynced record of every apply step.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use mmsoak_core::input::{limits, read_line_capped, LineRead};
use mmsoak_core::{Change, StateHash};

use crate::error::ApplyError;
use crate::guards::SkipReason;
use mmsoak_artifacts::open_artifact;

/// One line of the journal, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum JournalEntry {
    /// First line: the run's initial state was written.
    Init {
        /// Hash of the initial runtime overrides.
        new_hash: StateHash,
    },
    /// Written and fsynced before the runtime file is replaced.
    Intent {
        /// The iteration.
        iteration: u32,
        /// State before.
        old_hash: StateHash,
        /// State the replacement holds.
        new_hash: StateHash,
        /// The changes, as resolved.
        changes: Vec<Change>,
    },
    /// The replacement is in place and verified.
    Commit {
        /// The iteration.
        iteration: u32,
        /// State before (the previous head).
        old_hash: StateHash,
        /// State after (the new head).
        new_hash: StateHash,
        /// Written by recovery, which found the new state in place.
        #[serde(default, skip_serializing_if = "is_false")]
        recovered: bool,
    },
    /// The step was skipped; the state did not change.
    Skip {
        /// The iteration.
        iteration: u32,
        /// The state (unchanged).
        state_hash: StateHash,
        /// Why.
        skip_reason: SkipReason,
    },
    /// Written by recovery: the intent never reached the file.
    Abort {
        /// The iteration.
        iteration: u32,
        /// State before (still the head).
        old_hash: StateHash,
        /// State that was not written.
        new_hash: StateHash,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl JournalEntry {
    /// The iteration of the entry (`None` for `init`).
    pub fn iteration(&self) -> Option<u32> {
        match self {
            JournalEntry::Init { .. } => None,
            JournalEntry::Intent { iteration, .. }
            | JournalEntry::Commit { iteration, .. }
            | JournalEntry::Skip { iteration, .. }
            | JournalEntry::Abort { iteration, .. } => Some(*iteration),
        }
    }

    /// The state the runtime file holds once this entry is the last one;
    /// `None` for an intent (old or new, recovery decides).
    pub fn head(&self) -> Option<StateHash> {
        match self {
            JournalEntry::Init { new_hash } | JournalEntry::Commit { new_hash, .. } => {
                Some(*new_hash)
            }
            JournalEntry::Skip { state_hash, .. } => Some(*state_hash),
            JournalEntry::Abort { old_hash, .. } => Some(*old_hash),
            JournalEntry::Intent { .. } => None,
        }
    }

    /// The line, newline included.
    pub(crate) fn to_line(&self, journal: &Path) -> Result<Vec<u8>, ApplyError> {
        let mut line = serde_json::to_vec(self).map_err(|e| ApplyError::Journal {
            journal: journal.to_owned(),
            location: "new line".to_owned(),
            problem: format!("cannot serialize entry: {e}"),
        })?;
        line.push(b'\n');
        Ok(line)
    }

    fn parse(
        journal: &Path,
        location: impl Fn() -> String,
        bytes: &[u8],
    ) -> Result<Self, ApplyError> {
        serde_json::from_slice(bytes).map_err(|e| ApplyError::Journal {
            journal: journal.to_owned(),
            location: location(),
            problem: format!(
                "not a journal entry: {}",
                mmsoak_core::input::excerpt(&e.to_string())
            ),
        })
    }
}

/// Append one entry and fsync it.
pub(crate) fn append(journal: &Path, entry: &JournalEntry) -> Result<(), ApplyError> {
    let line = entry.to_line(journal)?;
    let mut file = open_artifact(journal, OpenOptions::new().append(true)).map_err(|source| {
        match source.kind() {
            std::io::ErrorKind::NotFound => ApplyError::JournalMissing {
                journal: journal.to_owned(),
            },
            _ => ApplyError::Io {
                action: "open for appending",
                path: journal.to_owned(),
                source,
            },
        }
    })?;
    // One write call: a killed process leaves the whole line or none of it.
    file.write_all(&line)
        .map_err(ApplyError::io("append to", journal))?;
    file.sync_all().map_err(ApplyError::io("fsync", journal))
}

/// The end of a journal, read without reading the whole file.
#[derive(Debug)]
pub(crate) struct Tail {
    /// The last complete line.
    pub(crate) last: Option<JournalEntry>,
    /// Offset where a torn (newline-less) last line starts.
    pub(crate) torn_at: Option<u64>,
}

fn open_journal(journal: &Path) -> Result<File, ApplyError> {
    open_artifact(journal, OpenOptions::new().read(true)).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ApplyError::JournalMissing {
            journal: journal.to_owned(),
        },
        _ => ApplyError::Io {
            action: "open",
            path: journal.to_owned(),
            source,
        },
    })
}

/// Read the last complete entry and detect a torn last line.
pub(crate) fn read_tail(journal: &Path) -> Result<Tail, ApplyError> {
    let mut file = open_journal(journal)?;
    let len = file
        .metadata()
        .map_err(ApplyError::io("stat", journal))?
        .len();
    let mut window: u64 = 4096;
    loop {
        let start = len.saturating_sub(window);
        let mut buf = Vec::with_capacity((len - start) as usize);
        file.seek(SeekFrom::Start(start))
            .map_err(ApplyError::io("seek in", journal))?;
        (&mut file)
            .take(len - start)
            .read_to_end(&mut buf)
            .map_err(ApplyError::io("read", journal))?;
        // Split off a torn last line.
        let (complete, torn_at) = match buf.last() {
            None => (0, None),
            Some(b'\n') => (buf.len(), None),
            Some(_) => match buf.iter().rposition(|b| *b == b'\n') {
                Some(q) => (q + 1, Some(start + q as u64 + 1)),
                None if start == 0 => (0, Some(0)),
                None => {
                    window = grow(journal, window)?;
                    continue;
                }
            },
        };
        if complete == 0 {
            return Ok(Tail {
                last: None,
                torn_at,
            });
        }
        let body = &buf[..complete - 1];
        let line = match body.iter().rposition(|b| *b == b'\n') {
            Some(q) => &body[q + 1..],
            None if start == 0 => body,
            None => {
                window = grow(journal, window)?;
                continue;
            }
        };
        let entry = JournalEntry::parse(journal, || "last line".to_owned(), line)?;
        return Ok(Tail {
            last: Some(entry),
            torn_at,
        });
    }
}

/// The next, doubled window of [`read_tail`]; an error once it would hold
/// more than two lines of the longest length a journal line may have.
fn grow(journal: &Path, window: u64) -> Result<u64, ApplyError> {
    if window > 2 * limits::LINE {
        return Err(ApplyError::Journal {
            journal: journal.to_owned(),
            location: "last line".into(),
            problem: format!("longer than {} bytes: not a journal entry", limits::LINE),
        });
    }
    Ok(window.saturating_mul(2))
}

/// Cut a torn last line off.
pub(crate) fn truncate(journal: &Path, at: u64) -> Result<(), ApplyError> {
    let file = open_artifact(journal, OpenOptions::new().write(true))
        .map_err(ApplyError::io("open for truncating", journal))?;
    file.set_len(at)
        .map_err(ApplyError::io("truncate", journal))?;
    file.sync_all().map_err(ApplyError::io("fsync", journal))
}

/// Every complete entry with its 1-based line number, and the byte offset
/// of a torn last line if there is one.
#[derive(Debug)]
pub(crate) struct Entries {
    pub(crate) entries: Vec<(usize, JournalEntry)>,
    pub(crate) torn_at: Option<u64>,
}

/// Read every complete entry, one line at a time (a line may have at most
/// [`limits::LINE`] bytes).
pub(crate) fn read_all(journal: &Path) -> Result<Entries, ApplyError> {
    let mut reader = std::io::BufReader::new(open_journal(journal)?);
    let mut entries = Vec::new();
    let mut line = Vec::new();
    let mut offset = 0u64;
    let mut number = 0usize;
    loop {
        let read = read_line_capped(&mut reader, &mut line, limits::LINE)
            .map_err(ApplyError::io("read", journal))?;
        number += 1;
        match read {
            LineRead::End => {
                return Ok(Entries {
                    entries,
                    torn_at: None,
                })
            }
            LineRead::TooLong => {
                return Err(ApplyError::Journal {
                    journal: journal.to_owned(),
                    location: format!("line {number}"),
                    problem: format!("longer than {} bytes: not a journal entry", limits::LINE),
                })
            }
            LineRead::Line => {}
        }
        let Some(text) = line.strip_suffix(b"\n") else {
            // A last line without its newline: torn by a crash.
            return Ok(Entries {
                entries,
                torn_at: Some(offset),
            });
        };
        entries.push((
            number,
            JournalEntry::parse(journal, || format!("line {number}"), text)?,
        ));
        offset += line.len() as u64;
    }
}

/// The facts the hash chain establishes about a journal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chain {
    pub(crate) initial: StateHash,
    /// State after the last decided entry.
    pub(crate) head: StateHash,
    /// Last iteration whose state was committed (or confirmed by a skip).
    pub(crate) last_good_iteration: Option<u32>,
    /// Last iteration with a commit or skip.
    pub(crate) last_decided: Option<u32>,
    /// A trailing intent without commit/abort: (iteration, old, new).
    pub(crate) pending: Option<(u32, StateHash, StateHash)>,
    pub(crate) entries: usize,
    pub(crate) commits: usize,
    pub(crate) skips: usize,
    pub(crate) aborts: usize,
}

/// Walk the entries and check every link of the chain. A trailing intent is
/// left in `pending`; anything else out of place is an error.
pub(crate) fn walk(journal: &Path, entries: &[(usize, JournalEntry)]) -> Result<Chain, ApplyError> {
    let broken = |line: usize, problem: String| ApplyError::Journal {
        journal: journal.to_owned(),
        location: format!("line {line}"),
        problem,
    };
    let mut iter = entries.iter();
    let initial = match iter.next() {
        Some((_, JournalEntry::Init { new_hash })) => *new_hash,
        Some((line, _)) => return Err(broken(*line, "the first entry must be `init`".into())),
        None => {
            return Err(ApplyError::Journal {
                journal: journal.to_owned(),
                location: "line 1".into(),
                problem: "the journal is empty".into(),
            })
        }
    };
    let mut chain = Chain {
        initial,
        head: initial,
        last_good_iteration: None,
        last_decided: None,
        pending: None,
        entries: entries.len(),
        commits: 0,
        skips: 0,
        aborts: 0,
    };
    let mut last_iteration: u32 = 0;
    for (line, entry) in iter {
        let line = *line;
        if let Some(i) = entry.iteration() {
            if i == 0 {
                return Err(broken(line, "iteration 0 (iterations start at 1)".into()));
            }
            if i < last_iteration {
                return Err(broken(
                    line,
                    format!("iteration {i} after iteration {last_iteration}"),
                ));
            }
            last_iteration = i;
        }
        let decided_before = |i: u32| chain.last_decided.is_some_and(|d| i <= d);
        match entry {
            JournalEntry::Init { .. } => return Err(broken(line, "a second `init` entry".into())),
            JournalEntry::Intent {
                iteration,
                old_hash,
                new_hash,
                ..
            } => {
                if let Some((p, _, _)) = chain.pending {
                    return Err(broken(
                        line,
                        format!("intent while the intent of iteration {p} is unfinished"),
                    ));
                }
                if decided_before(*iteration) {
                    return Err(broken(
                        line,
                        format!("iteration {iteration} was already decided"),
                    ));
                }
                if *old_hash != chain.head {
                    return Err(broken(
                        line,
                        format!(
                            "intent starts from {old_hash}, but the state is {}",
                            chain.head
                        ),
                    ));
                }
                if old_hash == new_hash {
                    return Err(broken(line, "intent does not change the state".into()));
                }
                chain.pending = Some((*iteration, *old_hash, *new_hash));
            }
            JournalEntry::Commit {
                iteration,
                old_hash,
                new_hash,
                ..
            }
            | JournalEntry::Abort {
                iteration,
                old_hash,
                new_hash,
            } => {
                let what = if matches!(entry, JournalEntry::Commit { .. }) {
                    "commit"
                } else {
                    "abort"
                };
                match chain.pending.take() {
                    Some(p) if p == (*iteration, *old_hash, *new_hash) => {}
                    Some((p, _, _)) => {
                        return Err(broken(
                            line,
                            format!("{what} does not match the intent of iteration {p}"),
                        ))
                    }
                    None => return Err(broken(line, format!("{what} without an intent"))),
                }
                if matches!(entry, JournalEntry::Commit { .. }) {
                    chain.head = *new_hash;
                    chain.last_good_iteration = Some(*iteration);
                    chain.last_decided = Some(*iteration);
                    chain.commits += 1;
                } else {
                    chain.aborts += 1;
                }
            }
            JournalEntry::Skip {
                iteration,
                state_hash,
                ..
            } => {
                if let Some((p, _, _)) = chain.pending {
                    return Err(broken(
                        line,
                        format!("skip while the intent of iteration {p} is unfinished"),
                    ));
                }
                if decided_before(*iteration) {
                    return Err(broken(
                        line,
                        format!("iteration {iteration} was already decided"),
                    ));
                }
                if *state_hash != chain.head {
                    return Err(broken(
                        line,
                        format!(
                            "skip records state {state_hash}, but the state is {}",
                            chain.head
                        ),
                    ));
                }
                chain.last_good_iteration = Some(*iteration);
                chain.last_decided = Some(*iteration);
                chain.skips += 1;
            }
        }
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guards::SkipKind;
    use std::path::PathBuf;

    fn h(b: u8) -> StateHash {
        StateHash::from_bytes([b; 32])
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("APPLY_JOURNAL.jsonl");
        std::fs::write(&p, text).expect("write journal");
        p
    }

    fn line(e: &JournalEntry) -> String {
        String::from_utf8(e.to_line(Path::new("j")).expect("serializes")).expect("utf-8")
    }

    #[test]
    fn line_shapes() {
        let skip = JournalEntry::Skip {
            iteration: 2,
            state_hash: h(1),
            skip_reason: SkipReason::new(SkipKind::NoOp, "no effective change"),
        };
        let text =
            String::from_utf8(skip.to_line(Path::new("j")).expect("serializes")).expect("utf-8");
        assert!(
            text.starts_with(r#"{"kind":"skip","iteration":2,"state_hash":"0101"#),
            "{text}"
        );
        assert!(
            text.ends_with(
                "\"no_op\":true,\"final_iteration\":false,\"note\":\"no effective change\"}}\n"
            ),
            "{text}"
        );
        let commit = JournalEntry::Commit {
            iteration: 3,
            old_hash: h(1),
            new_hash: h(2),
            recovered: false,
        };
        assert!(
            !String::from_utf8(commit.to_line(Path::new("j")).expect("serializes"))
                .expect("utf-8")
                .contains("recovered")
        );
        let back: JournalEntry =
            serde_json::from_slice(&commit.to_line(Path::new("j")).expect("serializes"))
                .expect("parse");
        assert_eq!(back, commit);
        assert!(serde_json::from_str::<JournalEntry>(r#"{"kind":"init","new_hash":"x"}"#).is_err());
        let extra = format!(r#"{{"kind":"init","new_hash":"{}","extra":1}}"#, h(1));
        assert!(serde_json::from_str::<JournalEntry>(&extra).is_err());
    }

    #[test]
    fn tail_finds_last_line_and_torn_tail_across_windows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut text = line(&JournalEntry::Init { new_hash: h(0) });
        // Enough lines that the tail window must grow (a skip line with a long note).
        for i in 1..=40 {
            text += &line(&JournalEntry::Skip {
                iteration: i,
                state_hash: h(0),
                skip_reason: SkipReason::new(SkipKind::NoOp, "n".repeat(300)),
            });
        }
        let p = write(dir.path(), &text);
        let tail = read_tail(&p).expect("tail");
        assert_eq!(tail.last.and_then(|e| e.iteration()), Some(40));
        assert_eq!(tail.torn_at, None);
        let torn = text.clone() + &"x".repeat(5000);
        let p = write(dir.path(), &torn);
        let tail = read_tail(&p).expect("tail");
        assert_eq!(tail.last.and_then(|e| e.iteration()), Some(40));
        assert_eq!(tail.torn_at, Some(text.len() as u64));
        let Entries { entries, torn_at } = read_all(&p).expect("all");
        assert_eq!((entries.len(), torn_at), (41, Some(text.len() as u64)));
        truncate(&p, text.len() as u64).expect("truncate");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), text);
        // Only a torn line, or nothing at all.
        let p = write(dir.path(), "{\"kind\":");
        let tail = read_tail(&p).expect("tail");
        assert!(tail.last.is_none() && tail.torn_at == Some(0));
        let p = write(dir.path(), "");
        assert!(read_tail(&p).expect("tail").last.is_none());
        assert!(read_all(&p).expect("all").entries.is_empty());
    }

    #[test]
    fn walk_checks_every_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let init = JournalEntry::Init { new_hash: h(0) };
        let intent = |i, a, b| JournalEntry::Intent {
            iteration: i,
            old_hash: h(a),
            new_hash: h(b),
            changes: vec![],
        };
        let commit = |i, a, b| JournalEntry::Commit {
            iteration: i,
            old_hash: h(a),
            new_hash: h(b),
            recovered: false,
        };
        let abort = |i, a, b| JournalEntry::Abort {
            iteration: i,
            old_hash: h(a),
            new_hash: h(b),
        };
        #[track_caller]
        fn check(
            dir: &Path,
            entries: &[JournalEntry],
            expect: Result<(StateHash, Option<u32>), &str>,
        ) {
            let text: String = entries.iter().map(line).collect();
            let p = write(dir, &text);
            let all = read_all(&p).expect("parse").entries;
            match (walk(&p, &all), expect) {
                (Ok(c), Ok((head, good))) => {
                    assert_eq!((c.head, c.last_good_iteration), (head, good));
                }
                (Err(e), Err(msg)) => assert!(e.to_string().contains(msg), "{e}"),
                (got, want) => panic!("got {got:?}, want {want:?}"),
            }
        }
        let d = dir.path();
        check(d, std::slice::from_ref(&init), Ok((h(0), None)));
        check(
            d,
            &[init.clone(), intent(1, 0, 1), commit(1, 0, 1)],
            Ok((h(1), Some(1))),
        );
        check(
            d,
            &[
                init.clone(),
                intent(1, 0, 1),
                abort(1, 0, 1),
                intent(1, 0, 2),
                commit(1, 0, 2),
            ],
            Ok((h(2), Some(1))),
        );
        check(d, &[], Err("the journal is empty"));
        check(
            d,
            &[commit(1, 0, 1)],
            Err("line 1: the first entry must be `init`"),
        );
        check(
            d,
            &[init.clone(), init.clone()],
            Err("line 2: a second `init` entry"),
        );
        check(
            d,
            &[init.clone(), intent(1, 5, 1)],
            Err("line 2: intent starts from"),
        );
        check(
            d,
            &[init.clone(), intent(1, 0, 1), commit(1, 0, 2)],
            Err("line 3: commit does not match"),
        );
        check(
            d,
            &[init.clone(), commit(1, 0, 1)],
            Err("commit without an intent"),
        );
        check(
            d,
            &[
                init.clone(),
                intent(2, 0, 1),
                commit(2, 0, 1),
                intent(2, 1, 3),
            ],
            Err("line 4: iteration 2 was already decided"),
        );
        check(
            d,
            &[
                init.clone(),
                intent(2, 0, 1),
                commit(2, 0, 1),
                intent(1, 1, 3),
            ],
            Err("iteration 1 after iteration 2"),
        );
        check(
            d,
            &[init, intent(1, 0, 0)],
            Err("intent does not change the state"),
        );
        // A malformed line is named by number.
        let p = write(d, &(line(&JournalEntry::Init { new_hash: h(0) }) + "{}\n"));
        let err = read_all(&p).expect_err("bad line");
        assert!(
            err.to_string()
                .contains("APPLY_JOURNAL.jsonl: line 2: not a journal entry"),
            "{err}"
        );
    }
}
