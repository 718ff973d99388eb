//! Snapshots of the full proposal for the KPI fixtures in `fixtures/kpis/`,
//! made with the default registry, policy and memory and no overrides.

use std::path::PathBuf;

use mmsoak_core::{IterationKpis, ParamRegistry, RuntimeOverrides};
use mmsoak_tuner::{propose, Proposal, TunerMemory, TuningPolicy};

fn proposal_for(fixture: &str) -> Proposal {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/kpis")
        .join(format!("{fixture}.json"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let kpis: IterationKpis =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let proposal = propose(
        &kpis,
        &RuntimeOverrides::new(),
        &ParamRegistry::default(),
        &TuningPolicy::default(),
        &TunerMemory::default(),
    )
    .expect("fixture KPIs are finite");
    // The JSON form reads back to the same proposal.
    let json = serde_json::to_string(&proposal).expect("serialize");
    assert_eq!(
        serde_json::from_str::<Proposal>(&json).expect("deserialize"),
        proposal
    );
    proposal
}

#[test]
fn latency_hard() {
    insta::assert_json_snapshot!(proposal_for("latency-hard"));
}

#[test]
fn maker_boost() {
    insta::assert_json_snapshot!(proposal_for("maker-boost"));
}

#[test]
fn aggressive_risk() {
    insta::assert_json_snapshot!(proposal_for("aggressive-risk"));
}

#[test]
fn two_driver() {
    insta::assert_json_snapshot!(proposal_for("two-driver"));
}

#[test]
fn stable() {
    insta::assert_json_snapshot!(proposal_for("stable"));
}
