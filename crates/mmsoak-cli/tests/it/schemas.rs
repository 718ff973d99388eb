//! The JSON Schemas in `docs/schemas/` are true: every file of a real mock
//! soak validates against its schema, wrong files do not, and the
//! committed schemas are the generated ones.

use std::fs;
use std::path::Path;

use mmsoak_artifacts::schema::{schema, validate};
use serde_json::Value;

use crate::common;
use common::mmsoak;

fn json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).expect("read")).expect("json")
}

#[track_caller]
fn assert_valid(file: &str, doc: &Value, what: &str) {
    let s = schema(file).expect("schema").value().expect("schema json");
    let problems = validate(&s, doc);
    assert!(
        problems.is_empty(),
        "{what} against {file}:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_artifact_of_a_mock_soak_validates() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("latest");
    let d = dir.to_str().expect("utf-8");
    let run = [
        "run",
        "--iterations",
        "24",
        "--auto-tune",
        "--mock",
        "--policy",
        "seed",
        "--fixed-clock",
        "--out",
        d,
    ];
    assert_eq!(mmsoak(&run).0, 0);
    assert_eq!(
        mmsoak(&["gate", "--strict", "--policy", "seed", "--path", d]).0,
        0
    );

    let mut checked = 0;
    for i in 1..=24 {
        let summary = dir.join(format!("ITER_SUMMARY_{i}.json"));
        assert_valid(
            "iter_summary.schema.json",
            &json(&summary),
            &summary.display().to_string(),
        );
        let it = dir.join(format!("iter_{i}"));
        assert_valid(
            "edge_report.schema.json",
            &json(&it.join("EDGE_REPORT.json")),
            "EDGE_REPORT",
        );
        assert_valid(
            "runtime_overrides.schema.json",
            &json(&it.join("runtime_overrides.json")),
            "snapshot",
        );
        checked += 3;
    }
    for (file, schema_file) in [
        ("TUNING_REPORT.json", "tuning_report.schema.json"),
        ("SOAK_RUN.json", "soak_run.schema.json"),
        ("POST_SOAK_SNAPSHOT.json", "post_soak_snapshot.schema.json"),
        ("runtime_overrides.json", "runtime_overrides.schema.json"),
    ] {
        assert_valid(schema_file, &json(&dir.join(file)), file);
        checked += 1;
    }
    let journal = fs::read_to_string(dir.join("APPLY_JOURNAL.jsonl")).expect("journal");
    let kinds: std::collections::BTreeSet<String> = journal
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("journal line");
            assert_valid("apply_journal_line.schema.json", &v, line);
            checked += 1;
            v["kind"].as_str().expect("kind").to_owned()
        })
        .collect();
    assert!(
        kinds.contains("intent") && kinds.contains("commit") && kinds.contains("skip"),
        "{kinds:?}"
    );
    assert!(checked > 90, "{checked}");
}

/// `None` caps are omitted in TOML; drop the nulls serde_json writes for them.
/// Every optional key (a cap or floor that is `null` by default) given a
/// number, so the schema must know every key a policy file may set.
fn nulls_as_numbers(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, nulls_as_numbers(v)))
                .collect(),
        ),
        Value::Null => Value::from(1.0),
        other => other,
    }
}

#[test]
fn the_default_policy_validates_and_an_unknown_key_does_not() {
    // The policy file's tables, as `mmsoak policy` prints them.
    let p = mmsoak_runner::SoakPolicy::default();
    let bounds: serde_json::Map<String, Value> = p
        .registry
        .specs()
        .iter()
        .map(|s| {
            let b = serde_json::json!({"min": s.bounds.min, "max": s.bounds.max});
            (s.param.name().to_owned(), b)
        })
        .collect();
    let policy = serde_json::json!({
        "tuner": serde_json::to_value(&p.tuner).expect("tuner"),
        "guards": serde_json::to_value(&p.guards).expect("guards"),
        "gate": serde_json::to_value(&p.gate).expect("gate"),
        "bounds": bounds,
    });
    let mut policy = nulls_as_numbers(policy);
    assert_valid(
        "policy.schema.json",
        &policy,
        "the default policy, every optional cap and floor set",
    );
    policy["gate"]["net_bps_min"] = Value::from(3.0);
    let s = schema("policy.schema.json")
        .expect("schema")
        .value()
        .expect("json");
    assert_eq!(
        validate(&s, &policy),
        ["`gate.net_bps_min` is not a known key"]
    );
}

#[test]
fn wrong_artifacts_fail_with_the_field_named() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("latest");
    let d = dir.to_str().expect("utf-8");
    assert_eq!(
        mmsoak(&[
            "run",
            "--iterations",
            "3",
            "--auto-tune",
            "--mock",
            "--fixed-clock",
            "--out",
            d
        ])
        .0,
        0
    );
    let s = schema("iter_summary.schema.json")
        .expect("schema")
        .value()
        .expect("json");
    let good = json(&dir.join("ITER_SUMMARY_1.json"));

    let mut doc = good.clone();
    doc["tuning"]
        .as_object_mut()
        .expect("tuning")
        .remove("state_hash");
    doc["schema"] = Value::from("mmsoak.iter_summary.v2");
    doc["summary"]["risk_ratio"] = Value::from(1.5);
    doc["summary"]["fills"]["maker_volume"] = Value::from(-1.0);
    doc["tuning"]["operations"][0]["param"] = Value::from("spread");
    doc["extra"] = Value::from(1);
    let problems = validate(&s, &doc);
    for expected in [
        "`schema` should be \"mmsoak.iter_summary.v1\"",
        "`summary.risk_ratio` is 1.5, above the maximum 1",
        "`summary.fills.maker_volume` is -1, below the minimum 0",
        "`tuning.state_hash` is missing",
        "`tuning.operations[0].param` is \"spread\"",
        "`extra` is not a known key",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected}\nin {problems:#?}"
        );
    }
    let mut doc = good;
    doc["tuning"]["old_hash"] = Value::from("abc");
    assert_eq!(
        validate(&s, &doc),
        ["`tuning.old_hash` has 3 characters, fewer than 64"]
    );
}

#[test]
fn the_committed_schemas_are_current_and_check_detects_staleness() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas");
    let (code, _, stderr) = mmsoak(&["__schemas", docs.to_str().expect("utf-8"), "--check"]);
    assert_eq!(code, 0, "run `cargo xtask codegen`: {stderr}");

    let tmp = tempfile::tempdir().expect("temp dir");
    let d = tmp.path().to_str().expect("utf-8");
    assert_eq!(mmsoak(&["__schemas", d]).0, 0);
    assert_eq!(mmsoak(&["__schemas", d, "--check"]).0, 0);
    fs::write(tmp.path().join("soak_run.schema.json"), "{}\n").expect("write");
    let (code, _, stderr) = mmsoak(&["__schemas", d, "--check"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("soak_run.schema.json"), "{stderr}");
}

#[test]
fn every_built_in_scenario_validates_and_an_unknown_key_does_not() {
    let s = schema("scenario.schema.json")
        .expect("schema")
        .value()
        .expect("json");
    for name in ["default", "calm", "volatile", "latency-spike", "toxic"] {
        let scenario = mmsoak_runner::Scenario::builtin(name).expect("built-in scenario");
        let doc = serde_json::to_value(&scenario).expect("scenario as JSON");
        assert_eq!(validate(&s, &doc), Vec::<String>::new(), "scenario {name}");
    }
    let mut doc =
        serde_json::to_value(mmsoak_runner::Scenario::builtin("default").expect("default"))
            .expect("json");
    doc["latency"]["base"] = Value::from(300.0);
    doc["market"]["levels"] = Value::from(-1);
    assert_eq!(
        validate(&s, &doc),
        [
            "`latency.base` is not a known key",
            "`market.levels` is -1, below the minimum 0"
        ]
    );
}
