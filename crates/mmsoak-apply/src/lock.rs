//! [`SoakDirLock`]: one writer per artifacts directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::LockError;
use crate::{JOURNAL_FILE_NAME, RUNTIME_OVERRIDES_FILE_NAME};

/// Name of the lock file inside the artifacts directory. Whoever cleans the
/// directory must leave it in place.
pub const LOCK_FILE_NAME: &str = ".mmsoak.lock";

/// An exclusive lock on an artifacts directory, held until dropped.
///
/// Everything that reads, cleans or writes the directory takes a
/// `&SoakDirLock`, so holding the lock is a precondition expressed in types.
/// The lock is an OS file lock on [`LOCK_FILE_NAME`]: the kernel releases it
/// when the holder exits, however it exits (no stale locks after SIGKILL).
///
/// ```
/// use mmsoak_apply::SoakDirLock;
/// let dir = tempfile::tempdir()?;
/// let lock = SoakDirLock::acquire(dir.path())?;
/// let err = SoakDirLock::acquire(dir.path()).unwrap_err(); // refused at once, not a hang
/// assert!(err.to_string().contains(&format!("pid {}", std::process::id())));
/// drop(lock);
/// assert!(SoakDirLock::acquire(dir.path()).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SoakDirLock {
    dir: PathBuf,
    /// Holding the open file holds the lock.
    _file: File,
}

impl SoakDirLock {
    /// Lock `dir` (created if missing), without waiting. When another
    /// process holds it, fails at once with [`LockError::Held`] naming the
    /// holder (its pid and start time).
    pub fn acquire(dir: impl AsRef<Path>) -> Result<Self, LockError> {
        let dir = dir.as_ref().to_owned();
        std::fs::create_dir_all(&dir).map_err(|source| LockError::Io {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(LOCK_FILE_NAME);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        // No truncation before the lock is ours: the holder's note must survive.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut note = String::new();
                // Best effort: the holder may be writing its note right now.
                let holder = match file.read_to_string(&mut note) {
                    Ok(_) if !note.trim().is_empty() => note.trim().to_owned(),
                    _ => "holder unknown: its lock note is not written yet".to_owned(),
                };
                return Err(LockError::Held { dir, holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let note = format!(
            "pid {}, started at unix time {started}\n",
            std::process::id()
        );
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(note.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(SoakDirLock { dir, _file: file })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `runtime_overrides.json` in the directory: the file the bot reads.
    pub fn runtime_path(&self) -> PathBuf {
        self.dir.join(RUNTIME_OVERRIDES_FILE_NAME)
    }

    /// `APPLY_JOURNAL.jsonl` in the directory.
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL_FILE_NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_and_names_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sub = dir.path().join("soak").join("latest");
        let lock = SoakDirLock::acquire(&sub).expect("first lock");
        assert_eq!(lock.dir(), sub);
        assert_eq!(lock.runtime_path(), sub.join("runtime_overrides.json"));
        let err = SoakDirLock::acquire(&sub).expect_err("second lock");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}, started at unix time", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("in use by another mmsoak process"), "{msg}");
        drop(lock);
        let again = SoakDirLock::acquire(&sub).expect("lock after release");
        drop(again);
    }

    #[test]
    fn unusable_directory_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("plain-file");
        std::fs::write(&file, b"x").expect("write");
        let err = SoakDirLock::acquire(&file).expect_err("not a directory");
        assert!(matches!(err, LockError::Io { .. }));
        assert!(err.to_string().contains("plain-file"), "{err}");
    }
}
