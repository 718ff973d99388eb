//! Every reader of an input mmsoak takes, fed arbitrary bytes and mutations
//! of a valid file (bytes flipped, inserted, deleted, duplicated, the file
//! cut): each answers a value or an error naming the file, with a message
//! of bounded length, and never panics. The readers are called on files,
//! as the binary calls them, so the size caps and the regular-file checks
//! are on the path.
//!
//! 48 cases per reader and input kind by default; 512 with
//! `MMSOAK_SLOW_TESTS=1` (as `.ci/run` sets), where the inputs may also
//! grow past 1 MiB (the cap of the smaller kinds).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Flip(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Delete(prop::sample::Index, usize),
    Duplicate(prop::sample::Index, usize),
    Cut(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to JSON and TOML more often than others.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}[]\",:=.-0123456789eE \n\\#'tfn".to_vec()),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(byte, 1..8)
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<prop::sample::Index>(), 1usize..32).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<prop::sample::Index>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        any::<prop::sample::Index>().prop_map(Edit::Cut),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let at = |i: &prop::sample::Index, len: usize| if len == 0 { 0 } else { i.index(len) };
        match e {
            Edit::Flip(i, b) if !bytes.is_empty() => {
                let k = at(i, bytes.len());
                bytes[k] = *b;
            }
            Edit::Insert(i, b) => {
                let k = at(i, bytes.len() + 1);
                bytes.splice(k..k, b.iter().copied());
            }
            Edit::Delete(i, n) if !bytes.is_empty() => {
                let k = at(i, bytes.len());
                let end = (k + n).min(bytes.len());
                bytes.drain(k..end);
            }
            Edit::Duplicate(i, n) if !bytes.is_empty() => {
                let k = at(i, bytes.len());
                let end = (k + n).min(bytes.len());
                let span = bytes[k..end].to_vec();
                bytes.splice(end..end, span);
            }
            Edit::Cut(i) => {
                let k = at(i, bytes.len() + 1);
                bytes.truncate(k);
            }
            _ => {}
        }
    }
    bytes
}

/// Inputs: a valid file mutated, or arbitrary bytes.
fn inputs(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let big = slow();
    prop_oneof![
        4 => prop::collection::vec(edit(), 1..6).prop_map(move |edits| apply(valid.clone(), &edits)),
        1 => prop::collection::vec(any::<u8>(), 0..512),
        1 => (any::<u8>(), 0usize..if big { 3 << 19 } else { 4096 }).prop_map(|(b, n)| vec![b; n]),
    ]
}

fn slow() -> bool {
    std::env::var("MMSOAK_SLOW_TESTS").is_ok_and(|v| v == "1")
}

/// Run `check` on `cases` inputs derived from `valid`, each written to
/// `name` in a fresh directory; `check` returns the error message, if any.
#[track_caller]
fn fuzz(name: &str, valid: Vec<u8>, check: impl Fn(&Path) -> Option<String>) {
    let cases = if slow() { 512 } else { 48 };
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&inputs(valid), |bytes| {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(name);
        std::fs::write(&file, &bytes).expect("write");
        if let Some(message) = check(&file) {
            // The file, or (from the apply journal's reader) the runtime
            // file it disagrees with.
            prop_assert!(
                message.contains(name) || message.contains("runtime_overrides.json"),
                "the error does not name {name}: {message}"
            );
            prop_assert!(
                message.len() < 4_000,
                "a {} byte message: {}…",
                message.len(),
                &message[..200.min(message.len())]
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

fn err<T, E: std::fmt::Display>(r: Result<T, E>) -> Option<String> {
    r.err().map(|e| e.to_string())
}

fn data(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
}

/// A three-iteration mock soak, once: valid files of every artifact kind.
fn soak() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir").keep().join("soak");
        let (code, _, stderr) = common::mmsoak(&[
            "run",
            "--mock",
            "--auto-tune",
            "--iterations",
            "3",
            "--fixed-clock",
            "--out",
            common::s(&dir),
        ]);
        assert_eq!(code, 0, "{stderr}");
        dir
    })
}

use crate::common;

#[test]
fn runtime_overrides() {
    let valid = std::fs::read(soak().join("runtime_overrides.json")).expect("read");
    fuzz("runtime_overrides.json", valid, |f| {
        err(mmsoak_core::RuntimeOverrides::from_path(f))
    });
}

#[test]
fn edge_report() {
    fuzz(
        "EDGE_REPORT.json",
        data("tests/data/EDGE_REPORT_maker_boost.json"),
        |f| err(mmsoak_core::EdgeReport::from_path(f)),
    );
}

#[test]
fn policy() {
    let valid = mmsoak_runner::SoakPolicy::default().to_toml_string();
    fuzz("soak_policy.toml", valid.into_bytes(), |f| {
        err(mmsoak_runner::SoakPolicy::from_path(f))
    });
}

#[test]
fn scenario() {
    fuzz(
        "scenario.toml",
        data("../mmsoak-sim/scenarios/default.toml"),
        |f| err(mmsoak_sim::Scenario::from_path(f)),
    );
}

#[test]
fn fill_logs() {
    let jsonl = b"{\"is_maker\": true, \"price\": 100.5, \"qty\": 9}\n{\"liquidity\": \"taker\", \"price\": 100, \"qty\": 1, \"fee\": -0.01}\n";
    fuzz("fills.jsonl", jsonl.to_vec(), |f| {
        err(mmsoak_ratio::read_fill_log(f))
    });
    let csv = b"is_maker,price,qty,fee\ntrue,100.5,9,0.01\nfalse,100,1,-0.02\n";
    fuzz("fills.csv", csv.to_vec(), |f| {
        err(mmsoak_ratio::read_fill_log(f))
    });
}

/// A summary in a directory with two good ones: the verifier (both reader
/// paths) and the snapshot read it.
#[test]
fn iter_summary() {
    let valid = std::fs::read(soak().join("ITER_SUMMARY_2.json")).expect("read");
    fuzz("ITER_SUMMARY_2.json", valid, |f| {
        let dir = f.parent().expect("dir");
        for name in [
            "ITER_SUMMARY_1.json",
            "ITER_SUMMARY_3.json",
            "TUNING_REPORT.json",
        ] {
            std::fs::copy(soak().join(name), dir.join(name)).expect("copy");
        }
        let verified = err(mmsoak_verify::verify_dir(dir));
        let opened = mmsoak_verify::ArtifactDir::open(dir).expect("the directory lists");
        let read = err(opened.read_summary(2));
        assert_eq!(
            verified.is_some(),
            read.is_some(),
            "verify and a direct read disagree: {verified:?} / {read:?}"
        );
        verified
    });
}

#[test]
fn tuning_report() {
    let valid = std::fs::read(soak().join("TUNING_REPORT.json")).expect("read");
    fuzz("TUNING_REPORT.json", valid, |f| {
        let dir = f.parent().expect("dir");
        std::fs::copy(
            soak().join("ITER_SUMMARY_1.json"),
            dir.join("ITER_SUMMARY_1.json"),
        )
        .expect("copy");
        err(mmsoak_verify::ArtifactDir::open(dir))
    });
}

#[test]
fn journal() {
    let valid = std::fs::read(soak().join("APPLY_JOURNAL.jsonl")).expect("read");
    fuzz("APPLY_JOURNAL.jsonl", valid, |f| {
        err(mmsoak_verify::check_journal(f))
    });
}

#[test]
fn recorded_market() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = mmsoak_sim::Scenario::builtin("default").expect("default");
    let tape = mmsoak_sim::generate(&scenario.market, 7, 2_000);
    let file = dir.path().join("market.npz");
    mmsoak_sim::write_market_npz(&tape, &file).expect("write");
    let valid = std::fs::read(&file).expect("read");
    fuzz("market.npz", valid, |f| {
        err(mmsoak_sim::RecordedMarket::open(&scenario, f))
    });
}

/// The apply pipeline's own journal reader (`recover`, `verify_chain`),
/// which a resume runs on the journal a killed soak left.
#[test]
fn apply_journal() {
    let valid = std::fs::read(soak().join("APPLY_JOURNAL.jsonl")).expect("read");
    fuzz("APPLY_JOURNAL.jsonl", valid, |f| {
        let dir = f.parent().expect("dir");
        std::fs::copy(
            soak().join("runtime_overrides.json"),
            dir.join("runtime_overrides.json"),
        )
        .expect("copy");
        let lock = mmsoak_apply::SoakDirLock::acquire(dir).expect("lock");
        let chain = err(mmsoak_apply::verify_chain(&lock));
        let recovered = err(mmsoak_apply::recover(&lock));
        recovered.or(chain)
    });
}
