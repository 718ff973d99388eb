//! [`SoakDirLock`]: one writer per artifacts directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use mmsoak_artifacts::layout::{APPLY_JOURNAL, LOCK_FILE, RUNTIME_OVERRIDES};
use mmsoak_artifacts::open_artifact;

use crate::error::LockError;

/// An exclusive lock on an artifacts directory, held until dropped.
///
/// Everything that reads, cleans or writes the directory takes a
/// `&SoakDirLock`, so holding the lock is a precondition expressed in types.
/// The lock is an OS file lock on [`LOCK_FILE`](mmsoak_artifacts::layout::LOCK_FILE): the kernel releases it
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
    /// Lock `dir` (created if missing). When another soak holds it, fails
    /// at once (within 0.2 s) with [`LockError::Held`] naming the holder
    /// (its pid and start time); while report commands write there
    /// ([`ReportWriteLock`]), waits up to 3 s for them, then fails with
    /// [`LockError::Busy`].
    pub fn acquire(dir: impl AsRef<Path>) -> Result<Self, LockError> {
        let dir = dir.as_ref().to_owned();
        std::fs::create_dir_all(&dir).map_err(|source| LockError::Io {
            path: dir.clone(),
            source,
        })?;
        let path = dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        // No truncation before the lock is ours: the holder's note must survive.
        let mut file = open_artifact(
            &path,
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .map_err(io)?;
        // Report writers (ReportWriteLock) share the lock for the moment of
        // a write, and take it alone for the moment of a cleanup: wait for
        // them a little. A soak holds it alone for its whole run.
        let started = std::time::Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
            let shared_only = match file.try_lock_shared() {
                Ok(()) => {
                    file.unlock().map_err(io)?;
                    true
                }
                Err(TryLockError::WouldBlock) => false,
                Err(TryLockError::Error(e)) => return Err(io(e)),
            };
            let waited = started.elapsed();
            if shared_only && waited > std::time::Duration::from_secs(3) {
                return Err(LockError::Busy { dir });
            }
            if !shared_only && waited > std::time::Duration::from_millis(200) {
                let mut note = String::new();
                // Best effort: the holder may be writing its note right now.
                let holder = match file.read_to_string(&mut note) {
                    Ok(_) if !note.trim().is_empty() => note.trim().to_owned(),
                    _ => "holder unknown: its lock note is not written yet".to_owned(),
                };
                return Err(LockError::Held { dir, holder });
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
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
        self.dir.join(RUNTIME_OVERRIDES)
    }

    /// `APPLY_JOURNAL.jsonl` in the directory.
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(APPLY_JOURNAL)
    }
}

/// What a command that writes report files into an artifacts directory
/// (`verify`, `snapshot`, `gate`, `report`) holds while it writes: a shared
/// lock on the directory's lock file, so that no other such command removes
/// its temporary files in flight.
///
/// Taking it first removes what interrupted atomic writes left at the top
/// of the directory (the `.atomicwrite*` temporary directories of a killed
/// writer, which may hold a large partial file), when nothing else holds
/// the lock: no soak runs there and no other report writer writes. A soak
/// directory only (one with a lock file); elsewhere nothing is locked or
/// removed. When a soak holds the lock, the writer goes on without it
/// after a second (a soak that ends during such a write, followed at once
/// by another writer's cleanup, is the one case left in which a write in
/// flight can lose its temporary file: it then fails, naming the file).
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let soak = mmsoak_apply::SoakDirLock::acquire(dir.path())?;
/// drop(soak); // the lock file stays
/// std::fs::create_dir(dir.path().join(".atomicwriteXYZ"))?;
/// std::fs::write(dir.path().join(".atomicwriteXYZ/SOAK_REPORT.md"), b"half a rep")?;
/// let writing = mmsoak_apply::ReportWriteLock::acquire(dir.path())?;
/// assert_eq!(writing.removed(), 1);
/// // A second writer shares the lock and removes nothing of the first's.
/// std::fs::create_dir(dir.path().join(".atomicwriteABC"))?;
/// let second = mmsoak_apply::ReportWriteLock::acquire(dir.path())?;
/// assert_eq!(second.removed(), 0);
/// assert!(dir.path().join(".atomicwriteABC").exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ReportWriteLock {
    _file: Option<File>,
    removed: usize,
}

impl ReportWriteLock {
    /// Take the shared lock of `dir` (removing interrupted writes when it
    /// is free), waiting up to a second for another report writer's
    /// cleanup; without a lock file, or while a soak holds it, nothing is
    /// held.
    pub fn acquire(dir: &Path) -> std::io::Result<ReportWriteLock> {
        let lock_path = dir.join(LOCK_FILE);
        let file = match open_artifact(&lock_path, OpenOptions::new().read(true).write(true)) {
            Ok(file) => file,
            // Not a soak directory, or a lock file that is not one (a
            // link, a directory): nothing to share, nothing removed.
            Err(_) => {
                return Ok(ReportWriteLock {
                    _file: None,
                    removed: 0,
                })
            }
        };
        match file.try_lock() {
            Ok(()) => {
                let removed = remove_interrupted_writes(dir)?;
                // Exclusive to shared, so that other writers may go on
                // (never blocking: the conversion is not atomic everywhere).
                let file = match file.try_lock_shared() {
                    Ok(()) => Some(file),
                    Err(TryLockError::WouldBlock) => None,
                    Err(TryLockError::Error(e)) => return Err(e),
                };
                return Ok(ReportWriteLock {
                    _file: file,
                    removed,
                });
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(e),
        }
        // Another writer (sharing, or cleaning for a moment) or a soak.
        for _ in 0..100 {
            match file.try_lock_shared() {
                Ok(()) => {
                    return Ok(ReportWriteLock {
                        _file: Some(file),
                        removed: 0,
                    })
                }
                Err(TryLockError::WouldBlock) => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
        // A soak holds it: its own writes are its business.
        Ok(ReportWriteLock {
            _file: None,
            removed: 0,
        })
    }

    /// How many interrupted writes were removed when it was taken.
    pub fn removed(&self) -> usize {
        self.removed
    }
}

/// Remove the `.atomicwrite*` entries at the top of `dir` (the caller holds
/// its lock exclusively).
fn remove_interrupted_writes(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(mmsoak_artifacts::layout::ATOMIC_WRITE_PREFIX)
        {
            continue;
        }
        // `file_type` does not follow links: a link is removed itself.
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A soak starting while report commands write waits for them; one
    /// that keeps writing makes it give up with its own message, not the
    /// last soak's pid.
    #[test]
    fn a_soak_waits_for_report_writers_and_says_when_they_keep_writing() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(SoakDirLock::acquire(dir.path()).expect("lock file"));
        let writer = ReportWriteLock::acquire(dir.path()).expect("shared");
        let released = std::thread::scope(|scope| {
            scope.spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(300));
                drop(writer);
            });
            SoakDirLock::acquire(dir.path())
        });
        drop(released.expect("acquired once the writer is done"));
        let _writer = ReportWriteLock::acquire(dir.path()).expect("shared");
        let err = SoakDirLock::acquire(dir.path()).expect_err("busy");
        assert!(matches!(err, LockError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("report commands"), "{err}");
    }

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
