//! `mmsoak explain`: one iteration, end to end — its KPIs, the rules that
//! fired and what they proposed, the guard state and why the change was
//! applied, clamped or skipped, and what the verifier concluded.
//!
//! Rule conditions against the KPIs ([`RuleCheck`]) need the tuner's policy,
//! which this crate does not know: the caller fills
//! [`Explanation::rule_checks`] (the CLI does, from the soak policy).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mmsoak_core::input::{limits, read_document, Fields};
use mmsoak_core::ParamRegistry;
use mmsoak_verify::{classify, ArtifactDir, ArtifactError, PairClass};
use serde::Serialize;
use serde_json::Value;

use crate::report::{read_extras, skip_label};
use crate::svg::num;

/// An iteration could not be explained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// The directory or a file in it is unreadable.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// The iteration is not in the run.
    #[error("{}: no iteration {iteration}: the run has iterations 1..={last}", dir.display())]
    NoSuchIteration {
        /// The artifacts directory.
        dir: PathBuf,
        /// The iteration asked for.
        iteration: u64,
        /// The last iteration present.
        last: u64,
    },
}

/// One tuner rule's condition evaluated against the iteration's KPIs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleCheck {
    /// Rule name, e.g. `RISK_AGGRESSIVE`.
    pub rule: String,
    /// The condition with the values filled in, e.g. `risk_ratio=0.68 >= 0.6`.
    pub condition: String,
    /// Whether the condition holds on these KPIs (`None`: the rule is
    /// disabled, or a KPI is absent and no other clause already fails).
    pub holds: Option<bool>,
    /// Whether the rule is in the iteration's `rules_fired`.
    pub fired: bool,
}

/// One proposed operation and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationOutcome {
    /// The parameter.
    pub param: String,
    /// The rule that proposed it.
    pub rule: String,
    /// Value before.
    pub from: Option<f64>,
    /// Value proposed (after rounding and clamping).
    pub to: f64,
    /// Whether the bounds clamped it.
    pub clamped: bool,
    /// `applied`, `applied (clamped)` or `skipped: <reason>`.
    pub outcome: String,
}

/// The verifier's verdict on a pair p → p + 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairVerdict {
    /// Iteration p.
    pub prev: u64,
    /// Iteration p + 1.
    pub next: u64,
    /// `no_proposal`, `full_apply`, `partial_ok` or `fail`.
    pub class: String,
    /// What is wrong, one line each.
    pub problems: Vec<String>,
}

/// Everything `mmsoak explain` says about one iteration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The iteration.
    pub iteration: u64,
    /// Iterations in the run.
    pub iterations: u64,
    /// The scalar KPIs of `summary` (numbers, strings, null), sorted by name.
    pub kpis: BTreeMap<String, Value>,
    /// `tuning.rules_fired`.
    pub rules_fired: Vec<String>,
    /// `tuning.rationale`, one sentence per rule.
    pub rationale: Vec<String>,
    /// Each rule's condition against the KPIs (filled by the caller; may be empty).
    pub rule_checks: Vec<RuleCheck>,
    /// The operations proposed and their outcome.
    pub operations: Vec<OperationOutcome>,
    /// Whether the changes were applied.
    pub applied: bool,
    /// Why not, when something was proposed and not applied.
    pub skip_reason: Option<String>,
    /// The skip reason's note.
    pub skip_note: String,
    /// Guard flags raised at this iteration.
    pub guards: Vec<String>,
    /// A freeze lock covers this iteration.
    pub freeze_active: bool,
    /// Why a freeze lock broke here.
    pub freeze_break: Option<String>,
    /// State hash before the step.
    pub old_hash: Option<String>,
    /// State hash after the step.
    pub state_hash: Option<String>,
    /// Did the previous iteration's proposal land here? (pair i−1 → i)
    pub verified_from_previous: Option<PairVerdict>,
    /// Did this iteration's proposal land in the next one? (pair i → i+1)
    pub verified_in_next: Option<PairVerdict>,
}

/// Explain iteration `iteration` of the run in `dir`.
pub fn explain_iteration(
    dir: &Path,
    iteration: u64,
    registry: &ParamRegistry,
) -> Result<Explanation, ExplainError> {
    let artifacts = ArtifactDir::open(dir)?;
    let last = artifacts.iteration_count();
    if iteration == 0 || iteration > last {
        return Err(ExplainError::NoSuchIteration {
            dir: dir.to_owned(),
            iteration,
            last,
        });
    }
    let this = artifacts.read_summary(iteration)?;
    let pair = |p: &mmsoak_verify::IterSummary,
                c: &mmsoak_verify::IterSummary|
     -> Result<PairVerdict, ArtifactError> {
        let r = classify(p, c, registry)?;
        Ok(PairVerdict {
            prev: r.prev,
            next: r.next,
            class: r.class.as_str().to_owned(),
            problems: r.problems.iter().map(|x| x.describe()).collect(),
        })
    };
    let verified_from_previous = if iteration > 1 {
        let prev = artifacts.read_summary(iteration - 1)?;
        Some(pair(&prev, &this)?)
    } else {
        None
    };
    let verified_in_next = if iteration < last {
        let next = artifacts.read_summary(iteration + 1)?;
        Some(pair(&this, &next)?)
    } else {
        None
    };

    let doc = read_document(&this.file, limits::ITER_SUMMARY).map_err(ArtifactError::from)?;
    let extras = read_extras(&this.file, &doc).map_err(ArtifactError::from)?;
    let root = Fields::root(&this.file, &doc).map_err(ArtifactError::from)?;
    let mut kpis = BTreeMap::new();
    if let Some(Value::Object(summary)) = root.get("summary") {
        for (k, v) in summary {
            if !v.is_object() && !v.is_array() {
                kpis.insert(k.clone(), v.clone());
            }
        }
    }
    let rationale = match root.get("tuning").and_then(|t| t.get("rationale")) {
        Some(Value::String(r)) if !r.is_empty() => r.split(" | ").map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    let t = &this.tuning;
    let guards = t.guard_flags();
    let proposed = !extras.operations.is_empty() || !t.proposed.is_empty();
    let skip =
        (!t.applied && proposed).then(|| skip_label(&t.skip_reason, &guards).as_str().to_owned());
    let skip_note = t.skip_reason.note();
    let operations = extras
        .operations
        .iter()
        .map(|o| OperationOutcome {
            param: o.param.name().to_owned(),
            rule: o.rule.clone(),
            from: o.from,
            to: o.to,
            clamped: o.clamped,
            outcome: match (&skip, o.clamped) {
                (Some(k), _) => format!("skipped: {k}"),
                (None, true) => "applied (clamped to bounds)".to_owned(),
                (None, false) => "applied".to_owned(),
            },
        })
        .collect();
    Ok(Explanation {
        iteration,
        iterations: last,
        kpis,
        rules_fired: extras.rules_fired,
        rationale,
        rule_checks: Vec::new(),
        operations,
        applied: t.applied,
        skip_reason: skip,
        skip_note,
        guards: guards.names().map(str::to_owned).collect(),
        freeze_active: extras.freeze_active,
        freeze_break: extras.freeze_break,
        old_hash: t.old_hash.map(|h| h.to_string()),
        state_hash: t.state_hash.map(|h| h.to_string()),
        verified_from_previous,
        verified_in_next,
    })
}

fn show_value(v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |x| num(x, 6)),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn pair_text(p: &PairVerdict) -> String {
    let mut s = format!("{} → {}: {}", p.prev, p.next, p.class);
    if p.class == PairClass::NoProposal.as_str() {
        s.push_str(" (nothing proposed)");
    }
    for problem in &p.problems {
        let _ = write!(s, "\n    - {problem}");
    }
    s
}

impl Explanation {
    /// The `--json` output, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Plain text for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Iteration {} of {}\n", self.iteration, self.iterations);
        let _ = writeln!(s, "KPIs");
        for (k, v) in &self.kpis {
            let _ = writeln!(s, "  {k:<22} {}", show_value(v));
        }
        let _ = writeln!(s, "\nRules");
        if self.rule_checks.is_empty() {
            let _ = writeln!(s, "  (conditions not evaluated)");
            let fired = if self.rules_fired.is_empty() {
                "none".to_owned()
            } else {
                self.rules_fired.join(", ")
            };
            let _ = writeln!(s, "  fired: {fired}");
        }
        for r in &self.rule_checks {
            let state = match (r.holds, r.fired) {
                (_, true) => "FIRED",
                (Some(true), false) => "holds, not fired",
                (Some(false), false) => "no",
                (None, false) => "n/a",
            };
            let _ = writeln!(s, "  {:<22} {:<17} {}", r.rule, state, r.condition);
        }
        if !self.rationale.is_empty() {
            let _ = writeln!(s, "\nWhat they proposed (rationale)");
            for r in &self.rationale {
                let _ = writeln!(s, "  - {r}");
            }
        }
        let _ = writeln!(s, "\nOperations");
        if self.operations.is_empty() {
            let _ = writeln!(s, "  none proposed");
        }
        for o in &self.operations {
            let _ = writeln!(
                s,
                "  {:<22} {} → {} by {}: {}",
                o.param,
                o.from.map_or_else(|| "?".to_owned(), |f| num(f, 6)),
                num(o.to, 6),
                if o.rule.is_empty() { "?" } else { &o.rule },
                o.outcome
            );
        }
        let _ = writeln!(s, "\nGuards");
        let _ = writeln!(
            s,
            "  flags: {}",
            if self.guards.is_empty() {
                "none".to_owned()
            } else {
                self.guards.join(", ")
            }
        );
        let _ = writeln!(
            s,
            "  freeze lock: {}",
            if self.freeze_active { "active" } else { "no" }
        );
        if let Some(b) = &self.freeze_break {
            let _ = writeln!(s, "  freeze broken: {b}");
        }
        let outcome = match (&self.skip_reason, self.applied) {
            (Some(k), _) if self.skip_note.is_empty() => format!("skipped ({k})"),
            (Some(k), _) => format!("skipped ({k}): {}", self.skip_note),
            (None, true) => "applied".to_owned(),
            (None, false) => "nothing to apply".to_owned(),
        };
        let _ = writeln!(s, "  outcome: {outcome}");
        let _ = writeln!(
            s,
            "  state: {} → {}",
            self.old_hash.as_deref().unwrap_or("—"),
            self.state_hash.as_deref().unwrap_or("—")
        );
        let _ = writeln!(s, "\nVerifier");
        match &self.verified_from_previous {
            Some(p) => {
                let _ = writeln!(s, "  previous step landed? {}", pair_text(p));
            }
            None => {
                let _ = writeln!(s, "  previous step landed? — (first iteration)");
            }
        }
        match &self.verified_in_next {
            Some(p) => {
                let _ = writeln!(s, "  this step landed?     {}", pair_text(p));
            }
            None => {
                let _ = writeln!(
                    s,
                    "  this step landed?     — (last iteration: nothing applied after it)"
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsoak_verify::testing;

    fn run(n: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        testing::write_run(dir.path(), &testing::generated_plans(n)).expect("write run");
        dir
    }

    #[test]
    fn an_iteration_is_explained_with_both_pairs() {
        let dir = run(10);
        let e = explain_iteration(dir.path(), 5, &ParamRegistry::default()).expect("explain");
        assert_eq!((e.iteration, e.iterations), (5, 10));
        assert!(e.kpis.contains_key("net_bps"));
        let prev = e.verified_from_previous.as_ref().expect("pair 4 → 5");
        let next = e.verified_in_next.as_ref().expect("pair 5 → 6");
        assert_eq!((prev.prev, prev.next, next.prev, next.next), (4, 5, 5, 6));
        let text = e.to_text();
        assert!(text.starts_with("Iteration 5 of 10\n"), "{text}");
        assert!(text.contains("previous step landed? 4 → 5"), "{text}");
        let json: Value = serde_json::from_str(&e.to_json()).expect("json");
        assert_eq!(json["iteration"], 5);
        assert_eq!(json["verified_in_next"]["prev"], 5);
    }

    #[test]
    fn first_and_last_iterations_have_one_pair() {
        let dir = run(4);
        let first = explain_iteration(dir.path(), 1, &ParamRegistry::default()).expect("first");
        assert!(first.verified_from_previous.is_none() && first.verified_in_next.is_some());
        let last = explain_iteration(dir.path(), 4, &ParamRegistry::default()).expect("last");
        assert!(last.verified_in_next.is_none() && last.verified_from_previous.is_some());
        assert!(last.to_text().contains("last iteration"));
    }

    #[test]
    fn an_iteration_outside_the_run_is_an_error_naming_the_range() {
        let dir = run(4);
        for bad in [0, 5] {
            let err =
                explain_iteration(dir.path(), bad, &ParamRegistry::default()).expect_err("outside");
            assert!(err.to_string().contains("1..=4"), "{err}");
        }
    }
}
