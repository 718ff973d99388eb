//! The integration tests of `mmsoak-tuner`, in one binary (one link of the
//! dependency graph instead of one per file).

mod docs;
mod fixtures;
mod markers;
mod properties;
mod rules;
