//! The artifacts directory of a fresh run: which one may be used, what is
//! removed from it, and a killed soak's bot stopped before its iteration
//! directory is reused.

use std::path::Path;

use mmsoak_apply::SoakDirLock;
use mmsoak_artifacts::layout::{
    is_iteration_artifact, is_soak_artifact, BOT_RECORD as BOT_RECORD_FILE, BOT_STDOUT_LOG,
    LOCK_FILE, SOAK_RUN as SOAK_RUN_FILE,
};

use crate::driver::bot_process::kill_recorded;

use super::run::{io_err, SoakError};

/// Whether a fresh run may use `dir`: it is absent, empty, or a soak's (it
/// holds the lock file every run leaves, or a SOAK_RUN.json). Otherwise an
/// error naming its first entry: a fresh run empties what a soak wrote in
/// its directory, and must never be pointed at yours.
pub(super) fn check_fresh_dir(dir: &Path) -> Result<(), SoakError> {
    if dir.as_os_str().is_empty() {
        return Err(SoakError::Config(
            "the artifacts directory is empty (\"\")".into(),
        ));
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        names.push(
            entry
                .map_err(io_err(dir))?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    let is_a_soaks = names.iter().any(|n| n == LOCK_FILE || n == SOAK_RUN_FILE);
    match names.into_iter().min() {
        Some(entry) if !is_a_soaks => Err(SoakError::ForeignFile {
            dir: dir.to_owned(),
            entry,
        }),
        _ => Ok(()),
    }
}

/// Whether iteration directory `dir` was a bot's own output directory (a
/// driver that owns its iteration directories, the exec driver, logs the
/// bot's output there: whatever else is in it is the bot's).
pub(super) fn was_a_bots(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(BOT_STDOUT_LOG)).is_ok()
}

/// Remove what a soak wrote (`is_soak_artifact`) from the locked directory,
/// but the lock; anything else (an editor's or the OS's leftovers) stays.
/// An iteration directory that was a bot's output directory goes whole;
/// another loses only the files a soak writes there, and stays if anything
/// else is left in it.
pub(super) fn clean_dir(lock: &SoakDirLock, notices: &mut Vec<String>) -> Result<(), SoakError> {
    let dir = lock.dir();
    let entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == LOCK_FILE || !is_soak_artifact(&name) {
            continue; // the lock we hold, or not ours to remove
        }
        // `file_type` does not follow links: a linked iter_N is unlinked only.
        if !entry.file_type().map_err(io_err(&path))?.is_dir() {
            std::fs::remove_file(&path).map_err(io_err(&path))?;
        } else if name.starts_with("iter_") {
            stop_leftover_bot(&path, notices)?;
            remove_iteration_dir(&path, was_a_bots(&path))?;
        } else {
            // An interrupted atomic write's temporary directory.
            std::fs::remove_dir_all(&path).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

/// Kill what the bot of a killed soak left running in iteration directory
/// `dir` (as its record says), before the directory is reused or removed.
pub(super) fn stop_leftover_bot(dir: &Path, notices: &mut Vec<String>) -> Result<(), SoakError> {
    if let Some(notice) = kill_recorded(dir).map_err(io_err(&dir.join(BOT_RECORD_FILE)))? {
        notices.push(notice);
    }
    Ok(())
}

/// Remove an iteration directory: whole when it was an exec bot's output
/// directory (`bots`), else only the files a soak writes in it, and the
/// directory when nothing else is left.
pub(super) fn remove_iteration_dir(dir: &Path, bots: bool) -> Result<(), SoakError> {
    if bots {
        return std::fs::remove_dir_all(dir).map_err(io_err(dir));
    }
    clean_iteration_dir(dir)?;
    match std::fs::remove_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => Ok(()),
        other => other.map_err(io_err(dir)),
    }
}

/// Remove the files a soak writes in an iteration directory, and what an
/// interrupted atomic write left there (an `.atomicwrite*` directory).
pub(super) fn clean_iteration_dir(dir: &Path) -> Result<(), SoakError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        if !is_iteration_artifact(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let removed = if entry.file_type().map_err(io_err(&path))?.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(io_err(&path))?;
    }
    Ok(())
}
