//! The bytes of everything a seeded, fixed-clock soak writes: the run's
//! artifacts and the report commands' files, as a manifest of sizes and
//! blake3 hashes (the lock file, which names the writer's pid, aside).
//!
//! A refactoring that must not change behaviour keeps this snapshot as it
//! is; a change of format shows here first, file by file, and is then
//! reviewed (and the snapshot accepted with `cargo insta review`) on
//! purpose. The contents themselves are reviewed in the focused snapshots
//! of the other tests.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common;

/// `path  size  blake3` for every file under `dir`, sorted.
fn manifest(dir: &Path) -> String {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (usize, String)>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
                continue;
            }
            if path.file_name().is_some_and(|n| n == ".mmsoak.lock") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read");
            let hash = mmsoak_core::StateHash::of_canonical_bytes(&bytes).to_string();
            let rel = path.strip_prefix(root).expect("below root");
            out.insert(
                rel.to_string_lossy().into_owned(),
                (bytes.len(), hash[..16].to_owned()),
            );
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
        .iter()
        .map(|(path, (size, hash))| format!("{path:<28} {size:>8}  {hash}\n"))
        .collect()
}

/// Run a soak with `run_args` into `<tmp>/soak` (a relative path, run from
/// `<tmp>`: no absolute path can reach a file), then every report command.
fn soak_and_reports(run_args: &[&str], policy: &str) -> String {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["run"];
    args.extend_from_slice(run_args);
    args.extend_from_slice(&["--policy", policy, "--fixed-clock", "--out", "soak"]);
    let (code, _, stderr) = common::mmsoak_in(Some(tmp.path()), &args);
    assert_eq!(code, 0, "{stderr}");
    for command in [
        &["snapshot", "--path", "soak", "--policy", policy][..],
        &["verify", "--path", "soak"],
        &["gate", "--path", "soak", "--prometheus", "--policy", policy],
        &["report", "--path", "soak", "--policy", policy],
    ] {
        let (code, _, stderr) = common::mmsoak_in(Some(tmp.path()), command);
        assert!(code <= 1, "{command:?}: {stderr}");
    }
    manifest(&tmp.path().join("soak"))
}

#[test]
fn a_mock_soak_writes_the_same_bytes() {
    let manifest =
        // The mock replays the predecessor's runs: under its table.
        soak_and_reports(
            &["--mock", "--iterations", "24", "--auto-tune", "--seed", "7"],
            "seed",
        );
    insta::assert_snapshot!("mock_soak_manifest", manifest);
}

#[test]
fn a_simulated_soak_writes_the_same_bytes() {
    let manifest = soak_and_reports(
        &[
            "--iterations",
            "8",
            "--auto-tune",
            "--seed",
            "3",
            "--sim-duration",
            "900",
        ],
        "default",
    );
    insta::assert_snapshot!("sim_soak_manifest", manifest);
}
