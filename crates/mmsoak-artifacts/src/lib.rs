//! The artifacts directory of an mmsoak soak: the name of every file in it,
//! how iterations are named, which entries a soak may remove, and how files
//! are written there (atomically) and opened in place (never through a
//! symbolic link, never blocking on a FIFO), and the JSON Schemas of its
//! files ([`schema`]).
//!
//! Every crate that reads or writes an artifacts directory takes its names
//! from here, so that a writer and its readers cannot disagree on one.
//!
//! ```
//! use mmsoak_artifacts::layout::{iter_dir_name, iter_summary_name, is_soak_artifact, SOAK_RUN};
//! assert_eq!(iter_summary_name(3), "ITER_SUMMARY_3.json");
//! assert_eq!(iter_dir_name(3), "iter_3");
//! assert!(is_soak_artifact(SOAK_RUN) && is_soak_artifact("iter_12"));
//! assert!(!is_soak_artifact("notes.txt") && !is_soak_artifact("ITER_SUMMARY_x.json"));
//! ```

pub mod fs;
pub mod layout;
pub mod schema;
pub mod skip;

pub use fs::{open_artifact, write_atomically};
pub use skip::{SkipFlags, SkipKind, SkipReason};
