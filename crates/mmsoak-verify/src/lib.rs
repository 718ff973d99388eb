//! Reading soak artifact directories and verifying that proposed tuning
//! changes were really applied.
//!
//! * [`ArtifactDir`]: list a directory once (iterations `1..=N`, no gaps,
//!   `TUNING_REPORT.json` present) and read `ITER_SUMMARY_{i}.json` files in
//!   iteration order into [`IterSummary`], in mmsoak's format or the
//!   predecessor's, a bounded number ahead on [`default_reader_threads`]
//!   threads (same results on any count). [`IterSummary::from_bytes`]
//!   deserializes the fields used directly and falls back to the whole
//!   document (and its precise errors) for anything unusual.
//! * [`Verifier`] / [`verify_dir`]: classify each pair p → p + 1 as
//!   full_apply, partial_ok or fail (signature_stuck counted too) into a
//!   [`VerifyReport`] whose [`DeltaMetrics`] serialize with the predecessor's names.
//! * [`render_markdown`]: `DELTA_VERIFY_REPORT.md` as a string.
//! * [`check_journal`]: the hash chain of `APPLY_JOURNAL.jsonl`.
//! * [`stats`]: exactly rounded mean and median, Python-style rounding.
//! * [`testing`]: writes synthetic mmsoak-format runs (benchmarks, tests).
//!
//! Nothing here prints, writes or exits.
//!
//! ```
//! use mmsoak_verify::{render_markdown, testing, verify_dir, PairClass, STRICT_THRESHOLD};
//!
//! let dir = std::env::temp_dir().join(format!("mmsoak-verify-doc-{}", std::process::id()));
//! testing::write_run(&dir, &testing::generated_plans(12))?;
//! let report = verify_dir(&dir)?;
//! assert_eq!(report.pairs.len(), 11);
//! assert_eq!(report.metrics.fail_count, 0);
//! assert!(report.pairs.iter().any(|p| p.class == PairClass::FullApply));
//! assert!(render_markdown(&report, STRICT_THRESHOLD).contains("**PASS**"));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod artifacts;
mod error;
mod fast;
mod journal;
mod markdown;
mod reader;
pub mod stats;
pub mod testing;
mod verifier;

pub use artifacts::{
    ArtifactDir, IterSummary, RecordedOperation, RecordedSkip, RuntimeState, SkipFlags,
    SummaryKpis, TuningRecord,
};
pub use error::ArtifactError;
pub use journal::{
    check_journal, check_lines, ChainBreak, JournalCheck, MissingJournal, RuntimeMismatch,
};
pub use markdown::render_markdown;
pub use reader::default_reader_threads;
pub use verifier::{
    classify, verify, verify_dir, with_journal, DeltaMetrics, PairClass, PairProblem, PairResult,
    Verifier, VerifyReport, VerifyVerdict, DEFAULT_THRESHOLD, MAX_FINDINGS, STRICT_THRESHOLD,
    VALUE_TOLERANCE,
};
