//! Snapshots of the full proposal for each KPI fixture in `kpis/` (one
//! snapshot per file, `insta::glob!`), made with the default registry,
//! policy and memory and no overrides.

use std::path::Path;

use mmsoak_core::{IterationKpis, ParamRegistry, RuntimeOverrides};
use mmsoak_tuner::{propose, Proposal, TunerMemory, TuningPolicy};

fn proposal_for(file: &Path) -> Proposal {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
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
fn proposal() {
    let mut files = 0;
    insta::glob!("kpis/*.json", |file| {
        files += 1;
        insta::assert_json_snapshot!(proposal_for(file));
    });
    assert_eq!(files, 5, "the KPI fixtures");
}
