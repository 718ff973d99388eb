//! The delta verifier: for each consecutive pair of iterations, were the
//! changes iteration p proposed really in force during iteration p + 1?

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mmsoak_core::{Param, ParamRegistry, RuntimeFinding, StateHash};
use serde::{Deserialize, Serialize};

use crate::artifacts::{ArtifactDir, IterSummary, RuntimeState, SkipFlags};
use crate::error::ArtifactError;
use crate::journal::{check_journal, JournalCheck};
use crate::stats::round_to;

/// Two parameter values closer than this are equal.
pub const VALUE_TOLERANCE: f64 = 1e-9;
/// Threshold of `full_apply_ratio` under `--strict`.
pub const STRICT_THRESHOLD: f64 = 0.95;
/// Threshold of `full_apply_ratio` without `--strict` (only warns).
pub const DEFAULT_THRESHOLD: f64 = 0.60;

/// How a pair of iterations p → c was classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairClass {
    /// p proposed nothing: not counted.
    NoProposal,
    /// Applied, and every changed parameter is in force in c with consistent hashes.
    FullApply,
    /// Not applied for a recorded guard reason, and c runs p's values unchanged.
    PartialOk,
    /// Anything else among proposing pairs (a stuck signature included).
    Fail,
}

impl PairClass {
    /// Lowercase name, as in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            PairClass::NoProposal => "no_proposal",
            PairClass::FullApply => "full_apply",
            PairClass::PartialOk => "partial_ok",
            PairClass::Fail => "fail",
        }
    }
}

/// One thing wrong with a pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PairProblem {
    /// A parameter's value in c is not the expected one.
    ParamMismatch {
        /// The parameter.
        param: Param,
        /// Its value during p.
        before: f64,
        /// What it should be during c.
        expected: f64,
        /// What it is during c.
        observed: f64,
    },
    /// p says applied but its state hash did not change.
    SignatureStuck {
        /// The unchanged hash.
        hash: StateHash,
    },
    /// A hash needed to prove the application is absent.
    HashMissing {
        /// The iteration whose hash is missing.
        iteration: u64,
        /// Which one: `tuning.state_hash` or `tuning.old_hash`.
        field: &'static str,
    },
    /// c did not start from the state p ended at.
    ChainBroken {
        /// `state_hash` of p.
        state_hash: StateHash,
        /// `old_hash` of c.
        next_old_hash: StateHash,
    },
    /// (mmsoak) c's `old_hash` is not the hash of the runtime overrides it ran with.
    RuntimeHashMismatch {
        /// `old_hash` of c.
        declared: StateHash,
        /// StateHash of c's `runtime_overrides`.
        actual: StateHash,
    },
    /// p did not apply and recorded no guard flag for it.
    NotAppliedWithoutGuard {
        /// The skip reason as written.
        skip_reason: String,
    },
}

impl PairProblem {
    /// One line of text for reports.
    pub fn describe(&self) -> String {
        match self {
            PairProblem::ParamMismatch {
                param,
                before,
                expected,
                observed,
            } => {
                format!("{param}: before {before}, expected {expected}, observed {observed}")
            }
            PairProblem::SignatureStuck { hash } => {
                format!("applied but state_hash = old_hash = {}", hash.short())
            }
            PairProblem::HashMissing { iteration, field } => {
                format!("iteration {iteration}: `{field}` is missing")
            }
            PairProblem::ChainBroken {
                state_hash,
                next_old_hash,
            } => format!(
                "state_hash {} of p is not old_hash {} of c",
                state_hash.short(),
                next_old_hash.short()
            ),
            PairProblem::RuntimeHashMismatch { declared, actual } => format!(
                "old_hash {} of c is not the hash {} of its runtime_overrides",
                declared.short(),
                actual.short()
            ),
            PairProblem::NotAppliedWithoutGuard { skip_reason } => {
                format!("not applied, and no guard flag explains it (skip_reason {skip_reason})")
            }
        }
    }
}

/// The verdict on one pair p → c.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairResult {
    /// Iteration p.
    pub prev: u64,
    /// Iteration c = p + 1.
    pub next: u64,
    /// Parameters p proposed to change.
    pub proposed: Vec<Param>,
    /// Whether p says it applied them.
    pub applied: bool,
    /// p's guard flags (skip reason and tuning flags together).
    #[serde(serialize_with = "serialize_flags")]
    pub guards: SkipFlags,
    /// Whether p's state hash differs from its old hash (`None`: one is absent).
    pub hash_changed: Option<bool>,
    /// The classification.
    pub class: PairClass,
    /// Whether the pair is a stuck signature (then also [`PairClass::Fail`]).
    pub signature_stuck: bool,
    /// Why it is not a clean pair; empty for full_apply, partial_ok and no_proposal.
    pub problems: Vec<PairProblem>,
}

fn serialize_flags<S: serde::Serializer>(flags: &SkipFlags, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(flags.names())
}

/// Delta-quality metrics, serialized with the predecessor's names and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeltaMetrics {
    /// (full_apply + partial_ok) / proposed_count, rounded to 3 places; 1.0 when nothing was proposed.
    pub full_apply_ratio: f64,
    /// Pairs classified full_apply.
    pub full_apply_count: u64,
    /// Pairs classified partial_ok.
    pub partial_ok_count: u64,
    /// Pairs classified fail (stuck ones included).
    pub fail_count: u64,
    /// Pairs whose state hash did not change although applied.
    pub signature_stuck_count: u64,
    /// full_apply + partial_ok + fail.
    pub proposed_count: u64,
    /// full_apply / (full_apply + fail), rounded to 3 places; 1.0 when that is 0 / 0.
    pub strict_apply_ratio: f64,
}

impl DeltaMetrics {
    fn from_counts(full: u64, partial: u64, fail: u64, stuck: u64) -> Self {
        let ratio = |num: u64, den: u64| {
            if den == 0 {
                1.0
            } else {
                round_to(num as f64 / den as f64, 3)
            }
        };
        let proposed = full + partial + fail;
        DeltaMetrics {
            full_apply_ratio: ratio(full + partial, proposed),
            full_apply_count: full,
            partial_ok_count: partial,
            fail_count: fail,
            signature_stuck_count: stuck,
            proposed_count: proposed,
            strict_apply_ratio: ratio(full, full + fail),
        }
    }
}

/// PASS or FAIL of the verifier against a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VerifyVerdict {
    /// Ratio at or above the threshold and the journal chain intact.
    Pass,
    /// Otherwise.
    Fail,
}

/// Everything the verifier found in a directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// The directory.
    pub dir: PathBuf,
    /// Number of iterations N.
    pub iterations: u64,
    /// Whether the summaries were written by mmsoak (the last one decides).
    pub written_by_mmsoak: bool,
    /// Every pair 1→2 … N−1→N.
    pub pairs: Vec<PairResult>,
    /// The metrics.
    pub metrics: DeltaMetrics,
    /// The journal check, when the directory has `APPLY_JOURNAL.jsonl`.
    pub journal: Option<JournalCheck>,
    /// What the predecessor's runtime documents say that cannot all be
    /// true (each once, in the order first met); empty for mmsoak's runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<RuntimeFinding>,
    /// Findings met once [`MAX_FINDINGS`] distinct ones were listed: counted, not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub findings_omitted: u64,
}

/// How many distinct findings a report lists; the rest are counted.
pub const MAX_FINDINGS: usize = 100;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl VerifyReport {
    /// PASS when `full_apply_ratio >= threshold` and the journal chain (if any) is intact.
    pub fn verdict(&self, threshold: f64) -> VerifyVerdict {
        if self.fail_reasons(threshold).is_empty() {
            VerifyVerdict::Pass
        } else {
            VerifyVerdict::Fail
        }
    }

    /// Why the verdict at `threshold` is FAIL, one sentence per reason
    /// (empty for PASS): the ratio below the threshold, a missing journal,
    /// breaks in its chain, a runtime file that is not the chain's end.
    pub fn fail_reasons(&self, threshold: f64) -> Vec<String> {
        let mut reasons = Vec::new();
        if self.metrics.full_apply_ratio < threshold {
            reasons.push(format!(
                "full_apply_ratio {:.3} < {threshold}",
                self.metrics.full_apply_ratio
            ));
        }
        let Some(journal) = &self.journal else {
            return reasons;
        };
        if let Some(missing) = &journal.missing {
            reasons.push(format!(
                "the apply journal {} is {}",
                missing.file.display(),
                if missing.found == "nothing" {
                    "missing"
                } else {
                    &missing.found
                }
            ));
        }
        if !journal.breaks.is_empty() {
            reasons.push(format!(
                "the journal's hash chain breaks {} time(s) (first at line {})",
                journal.breaks.len(),
                journal.breaks[0].line
            ));
        }
        if let Some(m) = &journal.runtime_mismatch {
            reasons.push(format!(
                "{} does not hold the state the journal's chain ends at",
                m.file.display()
            ));
        }
        reasons
    }

    /// Breaks in the journal chain (0 without a journal).
    pub fn journal_breaks(&self) -> usize {
        self.journal.as_ref().map_or(0, JournalCheck::break_count)
    }

    /// Pairs that failed, with their problems.
    pub fn failures(&self) -> impl Iterator<Item = &PairResult> {
        self.pairs.iter().filter(|p| p.class == PairClass::Fail)
    }

    /// Parameters involved in mismatches, with how many pairs each.
    pub fn problematic_params(&self) -> BTreeMap<Param, usize> {
        let mut out = BTreeMap::new();
        for pair in self.failures() {
            for problem in &pair.problems {
                if let PairProblem::ParamMismatch { param, .. } = problem {
                    *out.entry(*param).or_insert(0) += 1;
                }
            }
        }
        out
    }

    /// The metrics as the `--json` output: `{full_apply_ratio, ...}` with a
    /// trailing newline, and `findings` (with `findings_omitted`) when the
    /// predecessor's runtime files had any.
    pub fn metrics_json(&self) -> String {
        let mut s = serde_json::to_string(&self.metrics).unwrap_or_default();
        // The metrics' keys stay first and in their order.
        if !self.findings.is_empty() && s.ends_with('}') {
            s.pop();
            let findings = serde_json::to_string(&self.findings).unwrap_or_default();
            let _ = write!(s, ",\"findings\":{findings}");
            if self.findings_omitted > 0 {
                let _ = write!(s, ",\"findings_omitted\":{}", self.findings_omitted);
            }
            s.push('}');
        }
        s.push('\n');
        s
    }
}

/// The verifier as a streaming accumulator: feed summaries in iteration
/// order; only the previous one is held.
#[derive(Debug)]
pub struct Verifier {
    dir: PathBuf,
    registry: ParamRegistry,
    prev: Option<IterSummary>,
    pairs: Vec<PairResult>,
    iterations: u64,
    written_by_mmsoak: bool,
    findings: Vec<RuntimeFinding>,
    findings_omitted: u64,
}

impl Verifier {
    /// A verifier for `dir` (only used to name it in the report) with the
    /// registry whose defaults stand for parameters a runtime does not set.
    pub fn new(dir: &Path, registry: ParamRegistry) -> Self {
        Verifier {
            dir: dir.to_owned(),
            registry,
            prev: None,
            pairs: Vec::new(),
            iterations: 0,
            written_by_mmsoak: false,
            findings: Vec::new(),
            findings_omitted: 0,
        }
    }

    /// Feed the next summary. Its iteration must follow the previous one.
    pub fn push(&mut self, summary: IterSummary) -> Result<(), ArtifactError> {
        if let Some(prev) = self.prev.take() {
            if summary.iteration != prev.iteration + 1 {
                return Err(ArtifactError::MissingIteration {
                    missing: prev
                        .file
                        .with_file_name(mmsoak_artifacts::layout::iter_summary_name(
                            prev.iteration + 1,
                        )),
                    next_present: summary.iteration,
                });
            }
            let pair = classify(&prev, &summary, &self.registry)?;
            self.pairs.push(pair);
        }
        self.iterations += 1;
        self.written_by_mmsoak = summary.written_by_mmsoak;
        for finding in summary.runtime.iter().flat_map(|r| &r.findings) {
            if self.findings.contains(finding) {
                continue;
            }
            if self.findings.len() < MAX_FINDINGS {
                self.findings.push(finding.clone());
            } else {
                self.findings_omitted += 1;
            }
        }
        self.prev = Some(summary);
        Ok(())
    }

    /// The report, with the journal check if given.
    pub fn finish(self, journal: Option<JournalCheck>) -> VerifyReport {
        let count = |class| self.pairs.iter().filter(|p| p.class == class).count() as u64;
        let stuck = self.pairs.iter().filter(|p| p.signature_stuck).count() as u64;
        let metrics = DeltaMetrics::from_counts(
            count(PairClass::FullApply),
            count(PairClass::PartialOk),
            count(PairClass::Fail),
            stuck,
        );
        VerifyReport {
            dir: self.dir,
            iterations: self.iterations,
            written_by_mmsoak: self.written_by_mmsoak,
            pairs: self.pairs,
            metrics,
            journal,
            findings: self.findings,
            findings_omitted: self.findings_omitted,
        }
    }
}

/// Verify an opened directory: stream its summaries (parameters only, see
/// [`ArtifactDir::summaries_parameters_only`]), check the journal.
///
/// With more than one reader thread, the journal is checked on its own
/// thread during the pass; errors are reported in the same order either way
/// (summaries first).
pub fn verify(dir: &ArtifactDir, registry: &ParamRegistry) -> Result<VerifyReport, ArtifactError> {
    with_journal(dir, || {
        let mut verifier = Verifier::new(dir.path(), registry.clone());
        for summary in dir.summaries_parameters_only() {
            verifier.push(summary?)?;
        }
        Ok(verifier)
    })
    .map(|(verifier, journal)| verifier.finish(journal))
}

/// Run `pass` and check `dir`'s apply journal (if any), concurrently when
/// `dir` reads with more than one thread. `pass`'s error comes first; the
/// journal's error, if any, after that.
pub fn with_journal<T>(
    dir: &ArtifactDir,
    pass: impl FnOnce() -> Result<T, ArtifactError>,
) -> Result<(T, Option<JournalCheck>), ArtifactError> {
    let Some(file) = dir.journal_path() else {
        let value = pass()?;
        // A run mmsoak wrote must have its journal: without it the chain
        // check would silently be skipped.
        let journal = dir.journal_required()?.then(|| {
            JournalCheck::missing(&dir.path().join(mmsoak_artifacts::layout::APPLY_JOURNAL))
        });
        return Ok((value, journal));
    };
    // The chain, then the runtime file beside the journal against its end.
    let check = || {
        let mut check = check_journal(&file)?;
        check.check_runtime(&dir.path().join(mmsoak_artifacts::layout::RUNTIME_OVERRIDES))?;
        Ok::<_, ArtifactError>(check)
    };
    if dir.reader_threads() < 2 {
        let value = pass()?;
        return Ok((value, Some(check()?)));
    }
    std::thread::scope(|scope| {
        let journal = std::thread::Builder::new()
            .name("mmsoak-journal".into())
            .spawn_scoped(scope, check);
        let value = pass()?;
        let journal = match journal.map(|h| h.join()) {
            Ok(Ok(result)) => result,
            // Not started, or panicked: check here.
            _ => check(),
        }?;
        Ok((value, Some(journal)))
    })
}

/// Open and verify a directory with the default registry.
///
/// ```no_run
/// let report = mmsoak_verify::verify_dir("artifacts/soak/latest".as_ref())?;
/// println!("{}", report.metrics_json());
/// # Ok::<(), mmsoak_verify::ArtifactError>(())
/// ```
pub fn verify_dir(dir: &Path) -> Result<VerifyReport, ArtifactError> {
    verify(&ArtifactDir::open(dir)?, &ParamRegistry::default())
}

fn runtime_of(s: &IterSummary) -> Result<&RuntimeState, ArtifactError> {
    s.runtime
        .as_deref()
        .ok_or_else(|| ArtifactError::MissingRuntime {
            file: s.file.clone(),
        })
}

fn differs(a: f64, b: f64) -> bool {
    (a - b).abs() > VALUE_TOLERANCE
}

/// Classify the pair p → c.
pub fn classify(
    p: &IterSummary,
    c: &IterSummary,
    registry: &ParamRegistry,
) -> Result<PairResult, ArtifactError> {
    let t = &p.tuning;
    let proposed = t.proposed_params();
    let guards = t.guard_flags();
    let hash_changed = match (t.state_hash, t.old_hash) {
        (Some(a), Some(b)) => Some(a != b),
        _ => None,
    };
    let mut result = PairResult {
        prev: p.iteration,
        next: c.iteration,
        proposed,
        applied: t.applied,
        guards,
        hash_changed,
        class: PairClass::NoProposal,
        signature_stuck: false,
        problems: Vec::new(),
    };
    if !t.proposed_anything() {
        return Ok(result);
    }
    let rp = &runtime_of(p)?.overrides;
    let rc_state = runtime_of(c)?;
    let rc = &rc_state.overrides;
    let problems = &mut result.problems;
    if t.applied {
        if hash_changed == Some(false) {
            if let Some(hash) = t.state_hash {
                result.signature_stuck = true;
                problems.push(PairProblem::SignatureStuck { hash });
            }
        }
        for (field, value) in [
            ("tuning.state_hash", t.state_hash),
            ("tuning.old_hash", t.old_hash),
        ] {
            if value.is_none() {
                problems.push(PairProblem::HashMissing {
                    iteration: p.iteration,
                    field,
                });
            }
        }
        // Expected values: mmsoak's recorded `to` (clamping included), else R_p + delta.
        let targets: Vec<(Param, f64, f64)> = if t.operations.is_empty() {
            t.proposed
                .iter()
                .map(|&(param, delta)| {
                    let before = rp.value(param, registry);
                    (param, before, before + delta)
                })
                .collect()
        } else {
            t.operations
                .iter()
                .map(|op| {
                    (
                        op.param,
                        op.from.unwrap_or_else(|| rp.value(op.param, registry)),
                        op.to,
                    )
                })
                .collect()
        };
        for (param, before, expected) in targets {
            let observed = rc.value(param, registry);
            if differs(observed, expected) {
                problems.push(PairProblem::ParamMismatch {
                    param,
                    before,
                    expected,
                    observed,
                });
            }
        }
        if let (Some(state_hash), Some(next_old_hash)) = (t.state_hash, c.tuning.old_hash) {
            if state_hash != next_old_hash {
                problems.push(PairProblem::ChainBroken {
                    state_hash,
                    next_old_hash,
                });
            }
        }
        if c.written_by_mmsoak {
            match c.tuning.old_hash {
                None => problems.push(PairProblem::HashMissing {
                    iteration: c.iteration,
                    field: "tuning.old_hash",
                }),
                Some(declared) if declared != rc_state.hash => {
                    problems.push(PairProblem::RuntimeHashMismatch {
                        declared,
                        actual: rc_state.hash,
                    })
                }
                Some(_) => {}
            }
        }
        result.class = if problems.is_empty() {
            PairClass::FullApply
        } else {
            PairClass::Fail
        };
    } else {
        for &param in &result.proposed {
            let before = rp.value(param, registry);
            let observed = rc.value(param, registry);
            if differs(observed, before) {
                problems.push(PairProblem::ParamMismatch {
                    param,
                    before,
                    expected: before,
                    observed,
                });
            }
        }
        if !guards.any() {
            problems.push(PairProblem::NotAppliedWithoutGuard {
                skip_reason: t.skip_reason.describe(),
            });
        }
        result.class = if problems.is_empty() {
            PairClass::PartialOk
        } else {
            PairClass::Fail
        };
    }
    Ok(result)
}
