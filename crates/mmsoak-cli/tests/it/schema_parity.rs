//! Parity of each JSON Schema with the reader of its file: the same wrong
//! files, made by mutating a good one in every place (a key removed, a
//! value of the wrong type, a negative or fractional number, an unknown
//! key), go to both, and both must come to the same verdict.
//!
//! For the files a user writes for mmsoak to read (EDGE_REPORT, runtime
//! overrides, a policy, a scenario) the verdicts must agree both ways. For
//! the files mmsoak writes, whose readers also accept the predecessor's
//! looser shapes, one way: what the schema accepts, the reader reads.

use std::fs;
use std::path::Path;

use mmsoak_artifacts::schema::{schema, validate};
use serde_json::{Map, Value};

use crate::common::{mmsoak, s};

/// Which verdicts must agree.
#[derive(Clone, Copy, PartialEq)]
enum Parity {
    /// Accepted by the schema if and only if accepted by the reader.
    Exact,
    /// Accepted by the schema only if accepted by the reader.
    SchemaImpliesReader,
}

/// What readers check between keys, which a JSON Schema (as ours are
/// written) cannot state: a bound's `min <= max`, and the tuner's risk and
/// latency zones in order. The schemas' descriptions say so; a file the
/// schema accepts and a reader refuses for one of these is no disagreement.
const BETWEEN_KEYS: [&str; 2] = ["(need finite min <= max)", "the zones would overlap"];

/// A reader's verdict on a document: `Err` with its message when it refuses.
type Reader<'a> = &'a dyn Fn(&Value) -> Result<(), String>;

/// Every mutation of `doc`: (where, what was done, the mutated document).
fn mutations(doc: &Value, toml: bool) -> Vec<(String, &'static str, Value)> {
    let mut out = Vec::new();
    mutate(doc, &mut Vec::new(), doc, toml, &mut out);
    out
}

fn mutate(
    root: &Value,
    path: &mut Vec<PathStep>,
    here: &Value,
    toml: bool,
    out: &mut Vec<(String, &'static str, Value)>,
) {
    let mut replace = |what: &'static str, with: Option<Value>| {
        let mut doc = root.clone();
        set(&mut doc, path, with);
        out.push((shown(path), what, doc));
    };
    if !path.is_empty() {
        replace("removed", None);
        match here {
            Value::Number(n) => {
                replace("given a string", Some(Value::from("1")));
                if n.as_f64().is_some_and(|x| x.fract() == 0.0) {
                    replace("made negative", Some(Value::from(-1)));
                    replace("given a fraction", Some(Value::from(2.5)));
                } else {
                    replace("made negative", Some(Value::from(-1.5)));
                }
            }
            Value::String(_) => {
                replace("given a number", Some(Value::from(1)));
                replace("given another string", Some(Value::from("x")));
            }
            Value::Bool(_) => replace("given a number", Some(Value::from(1))),
            Value::Object(_) | Value::Array(_) => {
                replace("given a number", Some(Value::from(1)));
            }
            Value::Null => replace("given a string", Some(Value::from("x"))),
        }
        if !toml && !here.is_null() {
            replace("made null", Some(Value::Null));
        }
    }
    match here {
        Value::Object(map) => {
            let mut doc = root.clone();
            if let Some(Value::Object(m)) = get_mut(&mut doc, path) {
                m.insert("no_such_key".into(), Value::from(1));
            }
            out.push((shown(path), "given an unknown key", doc));
            for (key, value) in map {
                path.push(PathStep::Key(key.clone()));
                mutate(root, path, value, toml, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            // The first item stands for the rest.
            if let Some(first) = items.first() {
                path.push(PathStep::Index(0));
                mutate(root, path, first, toml, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn shown(path: &[PathStep]) -> String {
    let mut out = String::from("$");
    for step in path {
        match step {
            PathStep::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            PathStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn get_mut<'v>(doc: &'v mut Value, path: &[PathStep]) -> Option<&'v mut Value> {
    path.iter().try_fold(doc, |v, step| match step {
        PathStep::Key(k) => v.get_mut(k.as_str()),
        PathStep::Index(i) => v.get_mut(*i),
    })
}

/// Set the value at `path` (`None`: remove it; from an array, the item).
fn set(doc: &mut Value, path: &[PathStep], with: Option<Value>) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let Some(parent) = get_mut(doc, parent) else {
        return;
    };
    match (last, parent, with) {
        (PathStep::Key(k), Value::Object(m), Some(v)) => {
            m.insert(k.clone(), v);
        }
        (PathStep::Key(k), Value::Object(m), None) => {
            m.remove(k);
        }
        (PathStep::Index(i), Value::Array(a), Some(v)) => a[*i] = v,
        (PathStep::Index(i), Value::Array(a), None) => {
            a.remove(*i);
        }
        _ => {}
    }
}

/// The disagreements between the schema `file` and `reader` over every
/// mutation of `good` (which both must accept).
fn disagreements(
    file: &str,
    good: &Value,
    parity: Parity,
    toml: bool,
    reader: Reader<'_>,
) -> Vec<String> {
    let schema = schema(file).expect("schema").value().expect("schema json");
    let problems = validate(&schema, good);
    assert!(
        problems.is_empty(),
        "{file}: the good document: {problems:?}"
    );
    if let Err(e) = reader(good) {
        panic!("{file}: the reader refuses the good document: {e}");
    }
    let mut out = Vec::new();
    for (at, what, doc) in mutations(good, toml) {
        let by_schema = validate(&schema, &doc);
        let by_reader = reader(&doc);
        match (by_schema.is_empty(), by_reader) {
            (true, Err(e)) if !BETWEEN_KEYS.iter().any(|rule| e.contains(rule)) => out.push(
                format!("{file}: {at} {what}: the schema accepts it, the reader refuses: {e}"),
            ),
            (false, Ok(())) if parity == Parity::Exact => out.push(format!(
                "{file}: {at} {what}: the reader accepts it, the schema refuses: {}",
                by_schema.join("; ")
            )),
            _ => {}
        }
    }
    out
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    mmsoak_core::ErrorChain(e).to_string().replace('\n', " ")
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("read")).expect("json")
}

fn toml_text(doc: &Value) -> Result<String, String> {
    toml::to_string(doc).map_err(|e| format!("not TOML: {e}"))
}

/// A mock soak of 12 iterations (enough for SOAK_RUN.json to fold its
/// history) with its snapshot, in a temporary directory.
fn soak() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("latest");
    let run = [
        "run",
        "--iterations",
        "12",
        "--auto-tune",
        "--mock",
        "--fixed-clock",
        "--out",
        s(&dir),
    ];
    assert_eq!(mmsoak(&run).0, 0);
    assert_eq!(mmsoak(&["snapshot", "--path", s(&dir)]).0, 0);
    tmp
}

#[test]
fn the_files_users_write_agree_with_their_schemas_both_ways() {
    let tmp = soak();
    let dir = tmp.path().join("latest");
    let file = Path::new("f.json");
    let mut found = Vec::new();

    // The mock's report, and the simulator's (PnL, markouts).
    let sim = tmp.path().join("sim");
    let run = [
        "run",
        "--driver",
        "sim",
        "--iterations",
        "1",
        "--sim-duration",
        "60",
        "--fixed-clock",
        "--out",
        s(&sim),
    ];
    assert_eq!(mmsoak(&run).0, 0);
    for edge in [
        json(&dir.join("iter_1/EDGE_REPORT.json")),
        json(&sim.join("iter_1/EDGE_REPORT.json")),
    ] {
        found.extend(disagreements(
            "edge_report.schema.json",
            &edge,
            Parity::Exact,
            false,
            &|doc| {
                mmsoak_core::EdgeReport::from_document(file, doc)
                    .map(drop)
                    .map_err(|e| chain(&e))
            },
        ));
    }

    let overrides = json(&dir.join("iter_1/runtime_overrides.json"));
    found.extend(disagreements(
        "runtime_overrides.schema.json",
        &overrides,
        Parity::Exact,
        false,
        &|doc| {
            mmsoak_core::RuntimeOverrides::from_document(file, doc.clone())
                .map(drop)
                .map_err(|e| chain(&e))
        },
    ));

    let scenario =
        serde_json::to_value(mmsoak_runner::Scenario::builtin("default").expect("default"))
            .expect("json");
    found.extend(disagreements(
        "scenario.schema.json",
        &scenario,
        Parity::Exact,
        true,
        &|doc| {
            mmsoak_runner::Scenario::parse(&toml_text(doc)?, Path::new("s.toml"))
                .map(drop)
                .map_err(|e| chain(&e))
        },
    ));

    let policy = default_policy();
    found.extend(disagreements(
        "policy.schema.json",
        &policy,
        Parity::Exact,
        true,
        &|doc| {
            mmsoak_runner::SoakPolicy::from_toml_str(&toml_text(doc)?, Path::new("p.toml"))
                .map(drop)
                .map_err(|e| chain(&e))
        },
    ));

    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The default policy file, every table and key written out (a cap or
/// floor that is unset by default left out: TOML has no null).
fn default_policy() -> Value {
    fn without_nulls(v: Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, without_nulls(v)))
                    .collect::<Map<String, Value>>(),
            ),
            other => other,
        }
    }
    let p = mmsoak_runner::SoakPolicy::default();
    let bounds: Map<String, Value> = p
        .registry
        .specs()
        .iter()
        .map(|s| {
            let b = serde_json::json!({"min": s.bounds.min, "max": s.bounds.max});
            (s.param.name().to_owned(), b)
        })
        .collect();
    without_nulls(serde_json::json!({
        "tuner": serde_json::to_value(&p.tuner).expect("tuner"),
        "guards": serde_json::to_value(&p.guards).expect("guards"),
        "gate": serde_json::to_value(&p.gate).expect("gate"),
        "bounds": bounds,
    }))
}

#[test]
fn the_files_mmsoak_writes_are_read_whenever_their_schemas_accept_them() {
    let tmp = soak();
    let dir = tmp.path().join("latest");
    let mut found = Vec::new();

    let summary = json(&dir.join("ITER_SUMMARY_2.json"));
    found.extend(disagreements(
        "iter_summary.schema.json",
        &summary,
        Parity::SchemaImpliesReader,
        false,
        &|doc| {
            mmsoak_verify::IterSummary::from_document(
                Path::new("ITER_SUMMARY_2.json"),
                2,
                doc.clone(),
                || Ok(None),
            )
            .map(drop)
            .map_err(|e| chain(&e))
        },
    ));

    let snapshot = json(&dir.join("POST_SOAK_SNAPSHOT.json"));
    let scratch = tempfile::tempdir().expect("temp dir");
    found.extend(disagreements(
        "post_soak_snapshot.schema.json",
        &snapshot,
        Parity::SchemaImpliesReader,
        false,
        &|doc| {
            let file = scratch.path().join("POST_SOAK_SNAPSHOT.json");
            fs::write(&file, doc.to_string()).expect("write");
            mmsoak_gate::read_baseline(&file)
                .map(drop)
                .map_err(|e| chain(&e))
        },
    ));

    let run = json(&dir.join("SOAK_RUN.json"));
    found.extend(disagreements(
        "soak_run.schema.json",
        &run,
        Parity::SchemaImpliesReader,
        false,
        &|doc| {
            // Two readers: the gate's, and the runner's on --resume.
            fs::write(scratch.path().join("SOAK_RUN.json"), doc.to_string()).expect("write");
            mmsoak_gate::RunMeta::read(scratch.path()).map_err(|e| chain(&e))?;
            serde_json::from_value::<mmsoak_runner::SoakRun>(doc.clone())
                .map(drop)
                .map_err(|e| format!("as the runner reads it: {e}"))
        },
    ));

    let report = json(&dir.join("TUNING_REPORT.json"));
    found.extend(disagreements(
        "tuning_report.schema.json",
        &report,
        Parity::SchemaImpliesReader,
        false,
        &|doc| {
            fs::write(dir.join("TUNING_REPORT.json"), doc.to_string()).expect("write");
            mmsoak_verify::ArtifactDir::open(&dir)
                .map(drop)
                .map_err(|e| chain(&e))
        },
    ));

    let journal = fs::read_to_string(dir.join("APPLY_JOURNAL.jsonl")).expect("journal");
    let mut kinds = std::collections::BTreeSet::new();
    for line in journal.lines() {
        let doc: Value = serde_json::from_str(line).expect("a journal line");
        let kind = doc["kind"].as_str().expect("kind").to_owned();
        if !kinds.insert(kind) {
            continue;
        }
        found.extend(disagreements(
            "apply_journal_line.schema.json",
            &doc,
            Parity::SchemaImpliesReader,
            false,
            &|doc| {
                let text = format!("{doc}\n");
                mmsoak_verify::check_lines(Path::new("APPLY_JOURNAL.jsonl"), text.as_bytes())
                    .map(drop)
                    .map_err(|e| chain(&e))
            },
        ));
    }
    assert!(kinds.len() >= 3, "{kinds:?}");

    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_mutations_reach_every_place() {
    let doc = serde_json::json!({"a": {"b": [1, "x"]}, "c": true});
    let made: Vec<(String, &str)> = mutations(&doc, false)
        .into_iter()
        .map(|(at, what, _)| (at, what))
        .collect();
    for expected in [
        ("$", "given an unknown key"),
        ("$.a", "removed"),
        ("$.a.b[0]", "given a fraction"),
        ("$.a.b[0]", "made negative"),
        ("$.c", "given a number"),
    ] {
        assert!(
            made.iter()
                .any(|(at, what)| (at.as_str(), *what) == expected),
            "{expected:?} in {made:?}"
        );
    }
}
