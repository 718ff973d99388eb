//! The integration tests of `mmsoak-cli`, in one binary (one link of the
//! dependency graph instead of one per file).

mod browser;
mod cli;
mod common;
mod deploy;
mod golden;
mod hardening;
mod readers;
mod report;
mod resume;
mod schema_parity;
mod schemas;
