//! The fast readers give the reference answers: typed fast path vs the
//! whole-document path on the same bytes, parallel vs serial reading,
//! parameters-only vs full runtimes.

use std::path::{Path, PathBuf};

use mmsoak_artifacts::layout::iter_summary_name;
use mmsoak_core::input::parse_bytes;
use mmsoak_core::ParamRegistry;
use mmsoak_verify::testing::{generated_plans, write_run};
use mmsoak_verify::{
    render_markdown, verify, ArtifactDir, IterSummary, Verifier, STRICT_THRESHOLD,
};
use serde_json::Value;

fn legacy(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/legacy")
        .join(name)
}

/// Directories of every shape: mmsoak runs (compact, and rewritten
/// pretty-printed with the runtime in the legacy flat layout) and the
/// predecessor's fixtures.
fn directories(tmp: &Path) -> Vec<PathBuf> {
    let generated = tmp.join("generated");
    write_run(&generated, &generated_plans(75)).expect("run");
    let reshaped = tmp.join("reshaped");
    write_run(&reshaped, &generated_plans(20)).expect("run");
    for i in 1..=20 {
        let file = reshaped.join(iter_summary_name(i));
        let mut doc: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        if i % 2 == 0 {
            // Flat legacy keys for the runtime, keys in another order.
            let runtime = doc["runtime_overrides"].take();
            let mut flat = serde_json::Map::new();
            for section in ["engine", "risk"] {
                if let Some(Value::Object(m)) = runtime.get(section) {
                    flat.extend(m.clone());
                }
            }
            flat.insert("symbols".into(), runtime["symbols"].clone());
            doc["runtime_overrides"] = Value::Object(flat);
        }
        let bytes = if i % 3 == 0 {
            serde_json::to_vec_pretty(&doc)
        } else {
            serde_json::to_vec(&doc)
        };
        std::fs::write(&file, bytes.expect("serialize")).expect("write");
    }
    let mut dirs = vec![generated, reshaped];
    dirs.extend(
        [
            "clean_run",
            "guard_skips",
            "predecessor_said_full_apply",
            "runtime_in_parent/latest",
        ]
        .map(legacy),
    );
    dirs
}

#[test]
fn the_fast_path_reads_every_file_as_the_reference_path_does() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = 0;
    for dir in directories(tmp.path()) {
        let opened = ArtifactDir::open(&dir).expect("opens");
        for i in 1..=opened.iteration_count() {
            let file = opened.summary_path(i);
            let bytes = std::fs::read(&file).expect("read");
            let fallback = || Ok(opened.read_summary(i)?.runtime);
            let fast = IterSummary::from_bytes(&file, i, &bytes, fallback).expect("fast");
            let doc = parse_bytes(&file, &bytes).expect("json");
            let reference = IterSummary::from_document(&file, i, doc, fallback).expect("reference");
            assert_eq!(fast, reference, "{}", file.display());
            assert_eq!(opened.read_summary(i).expect("reads"), reference);
            files += 1;
        }
    }
    assert!(files > 100, "{files}");
}

#[test]
fn bad_bytes_give_the_reference_error_on_the_fast_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_run(tmp.path(), &generated_plans(3)).expect("run");
    let file = tmp.path().join(iter_summary_name(2));
    let text = std::fs::read_to_string(&file).expect("read");
    let none = || Ok(None);
    for bad in [
        text[..text.len() / 2].to_owned(),
        text.replacen("\"risk_ratio\":", "\"risk_ratio\":NaN,\"x\":", 1),
        text.replacen("\"maker_volume\":", "\"maker_volume\":-", 1),
        text.replacen("\"iteration\":2", "\"iteration\":3", 1),
        text.replacen("\"tail_age_ms\":", "\"tail_age_ms\":\"600\",\"y\":", 1),
    ] {
        let fast = IterSummary::from_bytes(&file, 2, bad.as_bytes(), none)
            .expect_err("bad input")
            .to_string();
        let reference = parse_bytes(&file, bad.as_bytes())
            .map_err(mmsoak_verify::ArtifactError::from)
            .and_then(|doc| IterSummary::from_document(&file, 2, doc, none))
            .expect_err("bad input")
            .to_string();
        assert_eq!(fast, reference);
        assert!(fast.contains("ITER_SUMMARY_2.json"), "{fast}");
    }
}

fn outcomes(
    items: impl Iterator<Item = Result<IterSummary, mmsoak_verify::ArtifactError>>,
) -> Vec<Result<IterSummary, String>> {
    items.map(|r| r.map_err(|e| e.to_string())).collect()
}

#[test]
fn reader_threads_change_nothing_errors_included() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Several blocks per thread, and a last block that is not full.
    write_run(tmp.path(), &generated_plans(333)).expect("run");
    let registry = ParamRegistry::default();
    let open = |threads| {
        ArtifactDir::open(tmp.path())
            .expect("opens")
            .with_reader_threads(threads)
    };
    let serial = open(1);
    let all = outcomes(serial.summaries());
    let parameters = outcomes(serial.summaries_parameters_only());
    let report = verify(&serial, &registry).expect("verifies");
    let markdown = render_markdown(&report, STRICT_THRESHOLD);
    for threads in [2, 3, 7] {
        let parallel = open(threads);
        assert_eq!(parallel.reader_threads(), threads);
        assert_eq!(outcomes(parallel.summaries()), all, "{threads}");
        assert_eq!(outcomes(parallel.summaries_parameters_only()), parameters);
        assert_eq!(outcomes(parallel.summaries_from(300)), all[299..].to_vec());
        let again = verify(&parallel, &registry).expect("verifies");
        assert_eq!(again, report);
        assert_eq!(render_markdown(&again, STRICT_THRESHOLD), markdown);
    }
    // Broken files in blocks read by different threads: the same sequence of
    // results, and the first error is the one reported.
    for i in [70, 101, 260] {
        let file = tmp.path().join(iter_summary_name(i));
        let text = std::fs::read_to_string(&file).expect("read");
        std::fs::write(&file, &text[..100]).expect("truncate");
    }
    let broken = outcomes(open(1).summaries());
    assert_eq!(broken.iter().filter(|r| r.is_err()).count(), 3);
    let first = verify(&open(1), &registry).expect_err("broken").to_string();
    assert!(first.contains("ITER_SUMMARY_70.json"), "{first}");
    for threads in [2, 3] {
        assert_eq!(outcomes(open(threads).summaries()), broken);
        assert_eq!(
            verify(&open(threads), &registry)
                .expect_err("broken")
                .to_string(),
            first
        );
    }
    // Stopping early (dropping the iterator) stops the reader threads.
    let dir = open(2);
    let taken: Vec<_> = dir.summaries().take(5).collect();
    assert_eq!(taken.len(), 5);
}

#[test]
fn parameters_only_summaries_are_the_full_ones_without_unknown_keys() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let registry = ParamRegistry::default();
    for dir in directories(tmp.path()) {
        let opened = ArtifactDir::open(&dir).expect("opens");
        let full: Vec<IterSummary> = opened.summaries().map(|s| s.expect("reads")).collect();
        let only: Vec<IterSummary> = opened
            .summaries_parameters_only()
            .map(|s| s.expect("reads"))
            .collect();
        assert_eq!(full.len(), only.len());
        let mut verifier = Verifier::new(&dir, registry.clone());
        for (f, o) in full.iter().zip(&only) {
            match (&f.runtime, &o.runtime) {
                (Some(f), Some(o)) => {
                    assert_eq!(f.hash, o.hash, "{}", dir.display());
                    assert!(o.overrides.params().eq(f.overrides.params()));
                    assert!(o.overrides.unknown().is_empty());
                }
                (None, None) => {}
                other => panic!("{}: {other:?}", dir.display()),
            }
            let strip = |s: &IterSummary| IterSummary {
                runtime: None,
                ..s.clone()
            };
            assert_eq!(strip(f), strip(o));
            verifier.push(f.clone()).expect("in order");
        }
        // The verifier (which reads parameters only) answers as on full summaries.
        let journal = opened
            .journal_path()
            .map(|p| mmsoak_verify::check_journal(&p).expect("journal"));
        assert_eq!(
            verify(&opened, &registry).expect("verifies"),
            verifier.finish(journal),
            "{}",
            dir.display()
        );
    }
}
