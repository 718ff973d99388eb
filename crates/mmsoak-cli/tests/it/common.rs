//! Helpers shared by the CLI's end-to-end tests.

use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `mmsoak ARGS` (in `cwd` when given) and returns
/// (exit code, stdout, stderr).
#[track_caller]
pub fn mmsoak_in(cwd: Option<&Path>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mmsoak"));
    cmd.args(args).stdin(Stdio::null());
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let out = cmd.output().expect("spawn mmsoak");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("mmsoak {args:?} was killed by a signal: {:?}", out.status));
    (
        code,
        String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    )
}

/// [`mmsoak_in`] in the test's own directory.
#[track_caller]
pub fn mmsoak(args: &[&str]) -> (i32, String, String) {
    mmsoak_in(None, args)
}

/// A path as the `&str` a command line takes.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// A fresh 24-iteration mock soak with auto-tune and the fixed clock into
/// `dir`, run from `dir`'s parent; asserts it succeeded and returns its
/// stdout.
#[track_caller]
pub fn mock_soak(dir: &Path) -> String {
    let (code, stdout, stderr) = mmsoak_in(
        Some(dir.parent().expect("a parent")),
        &[
            "run",
            "--iterations",
            "24",
            "--auto-tune",
            "--mock",
            // The mock's scripted KPIs replay the predecessor's runs: the
            // parity runs use the predecessor's table.
            "--policy",
            "seed",
            "--out",
            s(dir),
            "--fixed-clock",
        ],
    );
    assert_eq!(code, 0, "mock soak failed:\n{stderr}");
    stdout
}

/// Copy the directory `from` to `to` (created), recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the source dir") {
        let entry = entry.expect("a dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Every file and folder under `dir` with its bytes (None for folders).
pub fn tree(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Option<Vec<u8>>> {
    fn walk(
        root: &Path,
        dir: &Path,
        out: &mut std::collections::BTreeMap<std::path::PathBuf, Option<Vec<u8>>>,
    ) {
        for entry in std::fs::read_dir(dir).expect("read a dir") {
            let path = entry.expect("a dir entry").path();
            let rel = path.strip_prefix(root).expect("under root").to_owned();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(std::fs::read(&path).expect("read a file")));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
