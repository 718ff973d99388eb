//! The integration tests of `mmsoak-apply`, in one binary (one link of the
//! dependency graph instead of one per file).

mod fault_injection;
mod pipeline;
