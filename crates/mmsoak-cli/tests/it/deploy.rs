//! The Grafana dashboard and the Prometheus rules in deploy/ agree with
//! what `mmsoak gate --prometheus` writes: every expression names a metric
//! it exports, the verdict panels map each verdict to a colour and a word,
//! every time series has a unit, and the rules never restate a target.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common;

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(file)
}

/// The metric families a gated soak's POST_SOAK_METRICS.prom declares.
fn exported_metrics() -> BTreeSet<String> {
    let tmp = tempfile::tempdir().expect("tmp");
    common::mock_soak(tmp.path());
    let (code, _, stderr) =
        common::mmsoak(&["gate", "--path", common::s(tmp.path()), "--prometheus"]);
    assert!(code == 0 || code == 1, "{stderr}");
    let text = fs::read_to_string(tmp.path().join("POST_SOAK_METRICS.prom")).expect("metrics");
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// The `mmsoak_*` names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("mmsoak_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.push(name);
    }
    names
}

#[test]
fn the_dashboard_reads_only_exported_metrics_maps_verdicts_and_has_units() {
    let exported = exported_metrics();
    assert!(
        exported.contains("mmsoak_gate_verdict_code"),
        "{exported:?}"
    );
    let text = fs::read_to_string(deploy("grafana/mmsoak.json")).expect("dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard JSON");
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .expect("variables")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    for v in ["datasource", "job", "instance", "scenario"] {
        assert!(
            variables.contains(&v),
            "variable {v} missing: {variables:?}"
        );
    }
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty());
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("?");
        let kind = panel["type"].as_str().unwrap_or("?");
        let exprs: Vec<&str> = panel["targets"]
            .as_array()
            .map(|t| t.iter().filter_map(|t| t["expr"].as_str()).collect())
            .unwrap_or_default();
        assert!(!exprs.is_empty(), "{title}: no query");
        for expr in &exprs {
            let names = metric_names(expr);
            assert!(
                !names.is_empty(),
                "{title}: `{expr}` names no mmsoak metric"
            );
            for name in names {
                assert!(
                    exported.contains(&name),
                    "{title}: `{name}` is not exported ({exported:?})"
                );
            }
            for var in ["$job", "$instance", "$scenario"] {
                assert!(expr.contains(var), "{title}: `{expr}` ignores {var}");
            }
        }
        let defaults = &panel["fieldConfig"]["defaults"];
        if kind == "timeseries" {
            let unit = defaults["unit"].as_str().unwrap_or("");
            assert!(!unit.is_empty(), "{title}: a time series without a unit");
        }
        if kind == "stat" && exprs.iter().any(|e| e.contains("verdict")) {
            assert!(
                exprs.iter().all(|e| e.contains("_verdict_code")),
                "{title}: a verdict panel reads the verdict code, one series per soak"
            );
            let options = &defaults["mappings"][0]["options"];
            for (code, word, colour) in [
                ("0", "PASS", "green"),
                ("1", "WARN", "orange"),
                ("2", "FAIL", "red"),
            ] {
                let m = &options[code];
                assert_eq!(m["text"], word, "{title}: code {code}");
                assert_eq!(m["color"], colour, "{title}: code {code}");
            }
        }
    }
    // Targets come from the gate (mmsoak_gate_criterion_target), never
    // from numbers written into the dashboard: no threshold step but the base.
    for panel in panels {
        let steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"].as_array();
        for step in steps.into_iter().flatten() {
            assert!(
                step["value"].is_null(),
                "{}: a restated target {step}",
                panel["title"]
            );
        }
    }
    let kpi_panels = panels
        .iter()
        .filter(|p| p["targets"].to_string().contains("mmsoak_kpi_"))
        .count();
    let with_target = panels
        .iter()
        .filter(|p| {
            p["targets"]
                .to_string()
                .contains("mmsoak_gate_criterion_target")
        })
        .count();
    assert_eq!(
        (kpi_panels, with_target),
        (4, 5),
        "each KPI panel and the apply ratio draw the gate's target"
    );
}

#[test]
fn the_alert_rules_read_exported_metrics_and_restate_no_target() {
    let exported = exported_metrics();
    let rules = fs::read_to_string(deploy("prometheus/mmsoak-rules.yml")).expect("rules");
    let exprs: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("expr:"))
        .collect();
    assert!(exprs.len() >= 3, "{exprs:?}");
    for expr in &exprs {
        for name in metric_names(expr) {
            assert!(
                exported.contains(&name),
                "`{name}` in `{expr}` is not exported"
            );
        }
        // A gate target restated (0.95, 2.7, 0.42 ...) would disagree with
        // a policy that sets another; the verdict code and the criteria are
        // the gate's own answers.
        assert!(
            !expr.contains("ratio") && !expr.contains("_mean"),
            "`{expr}` judges a KPI itself instead of reading the gate's verdict"
        );
    }
    let alerts = rules.matches("- alert:").count();
    assert_eq!(
        alerts, 3,
        "one per failed gate, one per warned gate, one for staleness"
    );
}
