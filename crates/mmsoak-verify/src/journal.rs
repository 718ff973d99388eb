//! The hash chain of `APPLY_JOURNAL.jsonl`.
//!
//! Only the fields of the chain are read (`kind`, `iteration`, `old_hash`,
//! `new_hash`); other fields are ignored. Each commit's `old_hash` must equal
//! the previous commit's `new_hash`, the first one the init line's hash; and
//! the runtime file beside the journal must hold the state the chain ends
//! at ([`JournalCheck::check_runtime`]), else it was changed outside mmsoak.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use mmsoak_core::input::{limits, read_line_capped, LineRead};
use mmsoak_core::{InputError, RuntimeOverrides, StateHash};
use serde::{Deserialize, Serialize};

use crate::error::ArtifactError;

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RecordKind {
    Init,
    Intent,
    Commit,
    Skip,
    Abort,
}

#[derive(Deserialize)]
struct Record {
    kind: RecordKind,
    #[serde(default)]
    iteration: Option<u64>,
    #[serde(default)]
    old_hash: Option<StateHash>,
    #[serde(default)]
    new_hash: Option<StateHash>,
}

/// A place where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    /// 1-based line of the offending record.
    pub line: usize,
    /// Its iteration, when recorded.
    pub iteration: Option<u64>,
    /// The hash the chain leads to (`None`: no init line before it).
    pub expected: Option<StateHash>,
    /// The record's `old_hash` (`None`: absent).
    pub found: Option<StateHash>,
}

/// Result of checking the journal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct JournalCheck {
    /// Records read (blank lines are not counted).
    pub records: usize,
    /// Commit records.
    pub commits: usize,
    /// The state the chain ends at (the last commit's `new_hash`, else the init hash).
    pub head: Option<StateHash>,
    /// Every break, in file order.
    pub breaks: Vec<ChainBreak>,
    /// The runtime file, when it does not hold the state the chain ends at.
    pub runtime_mismatch: Option<RuntimeMismatch>,
    /// The state a trailing `intent` (no commit or abort after it) leads
    /// to: the runtime file may already hold it (a run stopped between the
    /// write and the commit, which `run --resume` completes).
    pub pending: Option<StateHash>,
    /// The journal of a run mmsoak wrote is absent or not a regular file:
    /// the chain cannot be followed at all, a break of its own.
    pub missing: Option<MissingJournal>,
}

/// A run mmsoak wrote (its directory holds `SOAK_RUN.json`, or its
/// summaries carry mmsoak's schema tag) has no usable apply journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingJournal {
    /// Where the journal should be.
    pub file: PathBuf,
    /// What is there instead: `"nothing"`, `"a directory"`, ...
    pub found: String,
}

/// The runtime file does not hold the state the journal's chain ends at:
/// it was changed (or removed) outside mmsoak after the last commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeMismatch {
    /// The runtime file.
    pub file: PathBuf,
    /// The state the chain ends at.
    pub expected: StateHash,
    /// The file's state (`None`: the file is missing).
    pub found: Option<StateHash>,
}

impl JournalCheck {
    /// Whether the chain is unbroken and ends at the runtime file's state
    /// (when that was checked).
    pub fn is_intact(&self) -> bool {
        self.break_count() == 0
    }

    /// Breaks of the chain, the runtime file's mismatch and a missing
    /// journal counted as one each.
    pub fn break_count(&self) -> usize {
        self.breaks.len()
            + usize::from(self.runtime_mismatch.is_some())
            + usize::from(self.missing.is_some())
    }

    /// The check of a run whose journal is missing (or not a regular
    /// file): one break, nothing else known.
    pub fn missing(file: &Path) -> JournalCheck {
        let found = match std::fs::symlink_metadata(file) {
            Err(_) => "nothing",
            Ok(m) if m.is_dir() => "a directory",
            Ok(m) if m.file_type().is_symlink() => "a symbolic link",
            Ok(m) if m.is_file() => "a file",
            Ok(_) => "a FIFO, socket or device",
        };
        JournalCheck {
            missing: Some(MissingJournal {
                file: file.to_owned(),
                found: found.to_owned(),
            }),
            ..JournalCheck::default()
        }
    }

    /// Compare the state the chain ends at with `runtime_file`'s (the
    /// runtime file the journal records: `runtime_overrides.json` beside
    /// it). A file that cannot be read as runtime overrides is an error
    /// naming it; a missing one or another state is a
    /// [`RuntimeMismatch`].
    pub fn check_runtime(&mut self, runtime_file: &Path) -> Result<(), ArtifactError> {
        let Some(expected) = self.head else {
            return Ok(()); // no init line: already a break
        };
        // Missing: a mismatch; anything there but a readable regular file
        // (a directory, a FIFO, a huge file): an error naming it.
        let found = if std::fs::symlink_metadata(runtime_file).is_ok() {
            Some(RuntimeOverrides::from_path(runtime_file)?.state_hash())
        } else {
            None
        };
        let legitimate = found == Some(expected) || (found.is_some() && found == self.pending);
        self.runtime_mismatch = (!legitimate).then(|| RuntimeMismatch {
            file: runtime_file.to_owned(),
            expected,
            found,
        });
        Ok(())
    }
}

/// Read and check a journal file, one line at a time.
pub fn check_journal(file: &Path) -> Result<JournalCheck, ArtifactError> {
    let handle = mmsoak_core::input::open_regular(file)?;
    check_lines(file, std::io::BufReader::new(handle))
}

fn parse_record(line: &str) -> Result<Record, serde_json::Error> {
    // StateHash parses its hex where it lies: no allocation per line.
    serde_json::from_str::<Record>(line)
}

/// Check journal text that came from `file` (named in errors).
pub fn check_lines(file: &Path, mut reader: impl BufRead) -> Result<JournalCheck, ArtifactError> {
    let mut check = JournalCheck::default();
    let mut seen_init = false;
    let mut bytes = Vec::new();
    let mut line_no = 0;
    loop {
        let read = read_line_capped(&mut reader, &mut bytes, limits::LINE).map_err(|source| {
            InputError::Io {
                file: file.to_owned(),
                source,
            }
        })?;
        line_no += 1;
        let not_a_record = |why: String| {
            ArtifactError::JournalLine {
            file: file.to_owned(),
            line: line_no,
            message: format!(
                "not a journal record ({why}); expected {{\"kind\": \"init\"|\"intent\"|\"commit\"|\"skip\"|\"abort\", \"iteration\", \"old_hash\", \"new_hash\", ...}}"
            ),
        }
        };
        match read {
            LineRead::End => break,
            LineRead::Line => {}
            LineRead::TooLong => {
                return Err(not_a_record(format!("longer than {} bytes", limits::LINE)))
            }
        }
        let text = std::str::from_utf8(&bytes).map_err(|e| not_a_record(e.to_string()))?;
        // As `BufRead::lines`: without the `\n` or `\r\n` ending.
        let line = match text.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => text,
        };
        if line.trim().is_empty() {
            continue;
        }
        let record = parse_record(line)
            .map_err(|e| not_a_record(mmsoak_core::input::excerpt(&e.to_string()).into_owned()))?;
        check.records += 1;
        match record.kind {
            RecordKind::Init => {
                seen_init = true;
                check.head = record.new_hash.or(record.old_hash);
                check.pending = None;
            }
            RecordKind::Intent => check.pending = record.new_hash,
            RecordKind::Abort => check.pending = None,
            RecordKind::Commit => {
                check.pending = None;
                check.commits += 1;
                let chained = seen_init && check.head.is_some() && record.old_hash == check.head;
                if !chained {
                    check.breaks.push(ChainBreak {
                        line: line_no,
                        iteration: record.iteration,
                        expected: check.head,
                        found: record.old_hash,
                    });
                }
                check.head = record.new_hash;
            }
            RecordKind::Skip => {}
        }
    }
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(c: char) -> String {
        c.to_string().repeat(64)
    }

    fn check(text: &str) -> Result<JournalCheck, ArtifactError> {
        check_lines(Path::new("APPLY_JOURNAL.jsonl"), text.as_bytes())
    }

    #[test]
    fn an_unbroken_chain_with_extra_fields_and_kinds() {
        let text = format!(
            "{{\"kind\":\"init\",\"iteration\":0,\"old_hash\":null,\"new_hash\":\"{a}\",\"ts\":1}}\n\
             {{\"kind\":\"intent\",\"iteration\":1,\"old_hash\":\"{a}\",\"new_hash\":\"{b}\",\"ops\":[]}}\n\
             {{\"kind\":\"commit\",\"iteration\":1,\"old_hash\":\"{a}\",\"new_hash\":\"{b}\"}}\n\
             \n\
             {{\"kind\":\"skip\",\"iteration\":2,\"old_hash\":\"{b}\",\"new_hash\":\"{b}\"}}\n\
             {{\"kind\":\"commit\",\"iteration\":3,\"old_hash\":\"{b}\",\"new_hash\":\"{c}\"}}\n",
            a = h('a'),
            b = h('b'),
            c = h('c')
        );
        let c = check(&text).expect("valid journal");
        assert!(c.is_intact(), "{c:?}");
        assert_eq!((c.records, c.commits), (5, 2));
        assert_eq!(c.head.map(|x| x.to_string()), Some(h('c')));
    }

    #[test]
    fn a_commit_that_does_not_continue_the_chain_is_a_break() {
        let text = format!(
            "{{\"kind\":\"init\",\"new_hash\":\"{a}\"}}\n{{\"kind\":\"commit\",\"iteration\":1,\"old_hash\":\"{a}\",\"new_hash\":\"{b}\"}}\n{{\"kind\":\"commit\",\"iteration\":2,\"old_hash\":\"{a}\",\"new_hash\":\"{c}\"}}\n",
            a = h('a'),
            b = h('b'),
            c = h('c')
        );
        let c = check(&text).expect("valid journal");
        assert_eq!(c.breaks.len(), 1);
        assert_eq!(c.breaks[0].line, 3);
        assert_eq!(c.breaks[0].iteration, Some(2));
        assert_eq!(c.breaks[0].expected.map(|x| x.to_string()), Some(h('b')));
    }

    #[test]
    fn a_commit_before_any_init_is_a_break() {
        let text = format!(
            "{{\"kind\":\"commit\",\"old_hash\":\"{a}\",\"new_hash\":\"{a}\"}}\n",
            a = h('a')
        );
        let c = check(&text).expect("valid journal");
        assert_eq!(c.breaks.len(), 1);
        assert_eq!(c.breaks[0].expected, None);
    }

    #[test]
    fn crlf_endings_and_escaped_hashes_read_as_plain_ones() {
        let plain = format!(
            "{{\"kind\":\"init\",\"new_hash\":\"{a}\"}}\n{{\"kind\":\"commit\",\"iteration\":1,\"old_hash\":\"{a}\",\"new_hash\":\"{b}\"}}\n",
            a = h('a'),
            b = h('b')
        );
        // `\u0061` is `a`: the borrowing reader declines it, the owning one reads it.
        let escaped = plain
            .replacen(&h('a'), &format!("\\u0061{}", "a".repeat(63)), 1)
            .replace('\n', "\r\n");
        assert_ne!(escaped, plain);
        assert_eq!(
            check(&escaped).expect("valid journal"),
            check(&plain).expect("valid journal")
        );
        // A last line without a newline keeps a lone `\r` (as `BufRead::lines`),
        // which JSON reads as whitespace.
        assert_eq!(check("{\"kind\":\"init\"}\r").expect("valid").records, 1);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let err = check("{\"kind\":\"init\"}\n{\"kind\":\"commit\",\"old_hash\":\"xyz\"}\n")
            .expect_err("bad hash");
        let msg = err.to_string();
        assert!(msg.starts_with("APPLY_JOURNAL.jsonl: line 2:"), "{msg}");
        let err = check("{\"kind\":\"rollback\"}\n").expect_err("unknown kind");
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = check("{\"kind\":\"init\"").expect_err("truncated");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
