//! What `SOAK_RUN.json` says of a run, read leniently: a predecessor's
//! directory has none, and an mmsoak of another version may add keys.

use std::path::Path;

use mmsoak_artifacts::layout::SOAK_RUN;
use mmsoak_core::input::{limits, read_document, Fields};
use mmsoak_core::InputError;

/// Run metadata from `SOAK_RUN.json`; every field `None` when the directory
/// has no such file (a predecessor's run).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunMeta {
    /// `config.driver`: `mock`, `exec`, `sim`.
    pub driver: Option<String>,
    /// `config.scenario` (sim driver), when recorded.
    pub scenario: Option<String>,
    /// `config.seed`.
    pub seed: Option<u64>,
    /// `config.auto_tune`: whether the tuner proposed changes.
    pub auto_tune: Option<bool>,
    /// `config.policy_hash`.
    pub policy_hash: Option<String>,
    /// `started_utc`.
    pub started_utc: Option<String>,
    /// `updated_utc`: when the last iteration was recorded.
    pub updated_utc: Option<String>,
    /// `mmsoak_version`.
    pub mmsoak_version: Option<String>,
    /// `finished`.
    pub finished: Option<bool>,
    /// `config.iterations`: iterations the run was asked for.
    pub iterations: Option<u64>,
    /// `completed_iterations`.
    pub completed_iterations: Option<u64>,
}

impl RunMeta {
    /// Read `SOAK_RUN.json` from `dir`; `Ok(default)` when it does not exist.
    pub fn read(dir: &Path) -> Result<Self, InputError> {
        let file = dir.join(SOAK_RUN);
        // Absent: a predecessor's run; anything else there (a directory, a
        // FIFO) must read as a run record, never count as absent.
        if std::fs::symlink_metadata(&file).is_err() {
            return Ok(RunMeta::default());
        }
        let doc = read_document(&file, limits::SOAK_RUN)?;
        let root = Fields::root(&file, &doc)?;
        let config = root.opt_object("config")?;
        let cfg_str = |key: &str| -> Result<Option<String>, InputError> {
            Ok(match &config {
                Some(c) => c.opt_str(key)?.map(str::to_owned),
                None => None,
            })
        };
        Ok(RunMeta {
            driver: cfg_str("driver")?,
            scenario: cfg_str("scenario")?,
            seed: match &config {
                Some(c) => c.opt_count("seed")?,
                None => None,
            },
            auto_tune: match &config {
                Some(c) => c.opt_bool("auto_tune")?,
                None => None,
            },
            policy_hash: cfg_str("policy_hash")?,
            started_utc: root.opt_str("started_utc")?.map(str::to_owned),
            updated_utc: root.opt_str("updated_utc")?.map(str::to_owned),
            mmsoak_version: root.opt_str("mmsoak_version")?.map(str::to_owned),
            finished: root.opt_bool("finished")?,
            iterations: match &config {
                Some(c) => c.opt_count("iterations")?,
                None => None,
            },
            completed_iterations: root.opt_count("completed_iterations")?,
        })
    }
}
