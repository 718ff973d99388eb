//! [`ArtifactError`]: an artifacts directory could not be read.

use std::path::PathBuf;

use mmsoak_core::InputError;

/// An artifacts directory (or one of its files) could not be used. Every
/// variant names the file; field errors also name the JSON path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// A file is unreadable, not JSON, or has a bad field.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The directory itself could not be listed.
    #[error("cannot list {}", dir.display())]
    ListDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The directory holds no `ITER_SUMMARY_{i}.json` file.
    #[error("{}: no ITER_SUMMARY_{{i}}.json files: not an artifacts directory, or the soak never ran", dir.display())]
    NoIterations {
        /// The directory.
        dir: PathBuf,
    },
    /// An iteration is missing: the numbers are not 1, 2, ..., N.
    #[error("{}: missing (iterations must be numbered 1..=N without gaps; the next one present is {next_present})", missing.display())]
    MissingIteration {
        /// The ITER_SUMMARY file that should exist.
        missing: PathBuf,
        /// The next iteration number found.
        next_present: u64,
    },
    /// A file name looks like an ITER_SUMMARY but its number is not a plain
    /// 1-based decimal (e.g. `ITER_SUMMARY_03.json`).
    #[error("{}: unexpected ITER_SUMMARY file name (expected ITER_SUMMARY_{{i}}.json with i = 1, 2, ...)", file.display())]
    BadIterationName {
        /// The file.
        file: PathBuf,
    },
    /// `TUNING_REPORT.json` is absent.
    #[error("{}: missing (every artifacts directory has a tuning report)", file.display())]
    MissingTuningReport {
        /// Where it should be.
        file: PathBuf,
    },
    /// An iteration has no runtime overrides: neither a `runtime_overrides`
    /// key in its ITER_SUMMARY nor a `runtime_overrides.json` in the directory or its parent.
    #[error("{}: `runtime_overrides` is missing and there is no runtime_overrides.json in the directory or its parent", file.display())]
    MissingRuntime {
        /// The ITER_SUMMARY file.
        file: PathBuf,
    },
    /// A line of `APPLY_JOURNAL.jsonl` is not a journal record.
    #[error("{}: line {line}: {message}", file.display())]
    JournalLine {
        /// The journal file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl ArtifactError {
    /// The file (or directory) the error is about.
    pub fn file(&self) -> &std::path::Path {
        match self {
            ArtifactError::Input(e) => e.file(),
            ArtifactError::ListDir { dir: file, .. }
            | ArtifactError::NoIterations { dir: file }
            | ArtifactError::MissingIteration { missing: file, .. }
            | ArtifactError::BadIterationName { file }
            | ArtifactError::MissingTuningReport { file }
            | ArtifactError::MissingRuntime { file }
            | ArtifactError::JournalLine { file, .. } => file,
        }
    }

    /// The JSON path of the offending field, when the error is about one.
    pub fn field_path(&self) -> Option<&str> {
        match self {
            ArtifactError::Input(e) => e.field_path(),
            ArtifactError::MissingRuntime { .. } => Some("runtime_overrides"),
            _ => None,
        }
    }
}
