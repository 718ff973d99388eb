//! Marker events reach a `tracing` subscriber with a `marker` field, in the
//! order of `rules_fired`.

use std::sync::{Arc, Mutex};

use mmsoak_core::{IterationKpis, ParamRegistry, RuntimeOverrides};
use mmsoak_tuner::{propose, Proposal, TunerMemory, TuningPolicy};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records the `marker` field of every event.
#[derive(Clone, Default)]
struct Markers(Arc<Mutex<Vec<String>>>);

struct MarkerField(Option<String>);

impl Visit for MarkerField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "marker" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "marker" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl Subscriber for Markers {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut marker = MarkerField(None);
        event.record(&mut marker);
        if let Some(m) = marker.0 {
            self.0.lock().expect("not poisoned").push(m);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn run(kpis_json: &str, policy: &TuningPolicy) -> (Proposal, Vec<String>) {
    let kpis: IterationKpis = serde_json::from_str(kpis_json).expect("KPIs");
    let markers = Markers::default();
    let proposal = tracing::subscriber::with_default(markers.clone(), || {
        propose(
            &kpis,
            &RuntimeOverrides::new(),
            &ParamRegistry::default(),
            policy,
            &TunerMemory::default(),
        )
    })
    .expect("proposal");
    let seen = markers.0.lock().expect("not poisoned").clone();
    (proposal, seen)
}

#[test]
fn every_fired_rule_emits_its_marker() {
    let (p, seen) = run(
        r#"{"maker_taker_ratio": 0.7, "maker_taker_source": "fills_volume", "risk_ratio": 0.65, "net_bps": 2.9,
            "p95_latency_ms": 400.0, "adverse_bps_p95": 4.0, "slippage_bps_p95": 3.0,
            "min_interval_ratio": 0.0, "concurrency_ratio": 0.0, "neg_edge_drivers": []}"#,
        &TuningPolicy::default(),
    );
    let fired: Vec<&str> = p.rules_fired.iter().map(|m| m.name()).collect();
    assert_eq!(
        fired,
        [
            "RISK_AGGRESSIVE",
            "LATENCY_HARD",
            "DRIVER_ADVERSE",
            "DRIVER_SLIPPAGE"
        ]
    );
    assert_eq!(
        seen,
        ["RISK_AGGRESSIVE", "LATENCY_HARD", "DRIVER", "DRIVER"]
    );
}

#[test]
fn stable_and_guard_markers_are_emitted() {
    let calm = r#"{"maker_taker_ratio": 0.9, "maker_taker_source": "fills_volume", "risk_ratio": 0.36, "net_bps": 2.0,
        "min_interval_ratio": 0.0, "concurrency_ratio": 0.0, "neg_edge_drivers": []}"#;
    assert_eq!(run(calm, &TuningPolicy::default()).1, ["STABLE"]);
    let mut policy = TuningPolicy::default();
    policy.conflict.risk_ratio_min = 0.30;
    let conflict = r#"{"maker_taker_ratio": 0.9, "maker_taker_source": "fills_volume", "risk_ratio": 0.32, "net_bps": 3.0,
        "slippage_bps_p95": 3.0, "min_interval_ratio": 0.0, "concurrency_ratio": 0.0, "neg_edge_drivers": []}"#;
    assert_eq!(
        run(conflict, &policy).1,
        ["RISK_NORMALIZE", "DRIVER", "GUARD"]
    );
}
