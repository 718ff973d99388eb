//! `docs/policy.md` stays true: its complete example is the default policy,
//! it documents every key, and its example proposal is what the tuner says.

use std::path::{Path, PathBuf};

use mmsoak_core::{IterationKpis, ParamRegistry, RuntimeOverrides};
use mmsoak_tuner::{propose, TunerMemory, TuningPolicy};

fn repo_file(relative: &str) -> String {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

/// The first fenced block of the given language.
fn block<'a>(doc: &'a str, language: &str) -> &'a str {
    let fence = format!("```{language}\n");
    let start = doc
        .find(&fence)
        .map(|i| i + fence.len())
        .expect("block present");
    let len = doc[start..].find("```").expect("block closed");
    &doc[start..start + len]
}

#[test]
fn complete_example_is_the_default_policy() {
    let doc = repo_file("docs/policy.md");
    let policy = TuningPolicy::from_toml_str(block(&doc, "toml"), Path::new("docs/policy.md"))
        .expect("example parses");
    assert_eq!(policy, TuningPolicy::default());
}

#[test]
fn every_key_is_documented() {
    let doc = repo_file("docs/policy.md");
    let printed = TuningPolicy::default().to_toml_string();
    let optional = [
        "base_spread_bps_cap",
        "replace_rate_per_min_floor",
        "concurrency_limit_floor",
        "base_spread_bps_delta_cap",
        "tail_age_ms_cap",
    ];
    let mut keys: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
        .collect();
    keys.extend(optional);
    assert!(keys.len() > 40, "{keys:?}");
    for key in keys {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/policy.md does not document `{key}`"
        );
    }
    for table in printed.lines().filter(|l| l.starts_with("[tuner.")) {
        assert!(
            doc.contains(&format!("`{table}`")),
            "docs/policy.md has no section for {table}"
        );
    }
}

#[test]
fn example_proposal_is_what_the_tuner_says() {
    let doc = repo_file("docs/policy.md");
    let documented: serde_json::Value =
        serde_json::from_str(block(&doc, "json")).expect("example JSON");
    let kpis: IterationKpis = serde_json::from_str(&repo_file(
        "crates/mmsoak-tuner/tests/it/kpis/aggressive-risk.json",
    ))
    .expect("fixture");
    let proposal = propose(
        &kpis,
        &RuntimeOverrides::new(),
        &ParamRegistry::default(),
        &TuningPolicy::default(),
        &TunerMemory::default(),
    )
    .expect("proposal");
    assert_eq!(serde_json::to_value(&proposal).expect("json"), documented);
}
