//! Writing files into the artifacts directory (atomically) and opening
//! them in place: never through a symbolic link, never blocking on a FIFO,
//! only regular files.
//!
//! A link planted in the directory (`.mmsoak.lock`, `APPLY_JOURNAL.jsonl`
//! pointing elsewhere) would otherwise have its target overwritten or
//! appended to, or, dangling, a file created outside the directory.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Write `bytes` to `path` atomically (temporary file in the same directory,
/// fsync, rename): readers see the old file or the new one, never a part,
/// and a link at `path` is replaced, not written through.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let file = dir.path().join("SOAK_REPORT.md");
/// mmsoak_artifacts::write_atomically(&file, b"# Soak report")?;
/// assert_eq!(std::fs::read(&file)?, b"# Soak report");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    atomicwrites::AtomicFile::new(path, atomicwrites::AllowOverwrite)
        .write(|f| f.write_all(bytes))
        .map_err(|e| match e {
            atomicwrites::Error::Internal(e) | atomicwrites::Error::User(e) => e,
        })
}

/// Open `path` with `options`, refusing a symbolic link (`O_NOFOLLOW`) and
/// anything but a regular file (checked on the opened handle; `O_NONBLOCK`
/// so that a FIFO cannot block the open). The error says which. For every
/// file a soak opens in place inside its artifacts directory.
///
/// ```
/// # #[cfg(unix)] {
/// use std::fs::OpenOptions;
/// let dir = tempfile::tempdir()?;
/// let link = dir.path().join("APPLY_JOURNAL.jsonl");
/// std::os::unix::fs::symlink("/etc/passwd", &link)?;
/// let err = mmsoak_artifacts::open_artifact(&link, OpenOptions::new().append(true)).unwrap_err();
/// assert!(err.to_string().starts_with("it is a symbolic link"));
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_artifact(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        options.custom_flags(flags.bits() as i32);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        // Refused by a flag (a link: ELOOP; a FIFO without reader: ENXIO),
        // or by the open itself (a directory opened for writing): say why.
        Err(e) => {
            return Err(match std::fs::symlink_metadata(path) {
                Ok(m) if !m.file_type().is_file() => refused(m.file_type()),
                _ => e,
            })
        }
    };
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        Ok(file)
    } else {
        Err(refused(kind))
    }
}

fn refused(kind: std::fs::FileType) -> io::Error {
    let what = if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file (a FIFO, socket or device)"
    };
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}; mmsoak reads and writes only regular files in its artifacts directory, never through a link (remove it)"),
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_directories_are_refused_and_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("target");
        std::fs::write(&target, b"keep").expect("write");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).expect("symlink");
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success());
        for (path, what) in [
            (&link, "a symbolic link"),
            (&dangling, "a symbolic link"),
            (&fifo, "not a regular file"),
            (&dir.path().to_owned(), "a directory"),
        ] {
            let err = open_artifact(path, OpenOptions::new().append(true).create(true))
                .expect_err("refused");
            assert!(err.to_string().contains(what), "{}: {err}", path.display());
        }
        assert_eq!(std::fs::read(&target).expect("target"), b"keep");
        assert!(!dir.path().join("nowhere").exists());
        let plain = dir.path().join("plain");
        open_artifact(&plain, OpenOptions::new().append(true).create(true)).expect("regular");
    }
}
