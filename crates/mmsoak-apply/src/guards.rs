//! Guards: whether a proposed change may be applied at this iteration, as a
//! pure function of the run history.
//!
//! Iterations are numbered from 1. The apply step of iteration `i` runs after
//! the bot ran iteration `i` with the current overrides; what it writes is
//! observed from iteration `i + 1` on. The history holds the records of
//! iterations before `i`; the KPIs of iteration `i` itself come with the
//! [`GuardContext`].
//!
//! The guards, in priority order (the first that holds is the skip reason):
//!
//! 1. **freeze**: after `freeze_consecutive_iters` (2) consecutive steady
//!    iterations (risk_ratio ≤ 0.35, net_bps ≥ 2.7, no hard-limit breach) the
//!    apply step of that iteration and of the next `freeze_lock_iters` (4)
//!    iterations is skipped. An iteration inside the lock that breaches a
//!    hard limit (risk_ratio > 0.50, net_bps < 2.0, p95 latency > 400 ms)
//!    breaks the lock: its apply step proceeds and [`FreezeBreak`] records it.
//! 2. **oscillation**: the prospective state hash equals the state before the
//!    last applied step (A → B → A), or a parameter's move would flip sign for
//!    the 3rd time within the last 4 iterations (this one included).
//! 3. **velocity**: a parameter the proposal moves has moved in each of the
//!    last 3 iterations, or its total travel (sum of absolute moves) over those
//!    iterations plus the proposed move exceeds 50% of its bounds range.
//! 4. **cooldown**: an applied move larger than 10% of a parameter's bounds
//!    range skips every change in the next 3 iterations; the note says
//!    through which iteration and how many follow this one (`"held through
//!    iter 5: 2 more iterations after this one"`, then `"...: this is its
//!    last iteration"`).
//! 5. **no-op**: after rounding and clamping no parameter's value changes
//!    (an empty proposal included): `"no effective change"`.
//! 6. **final iteration**: `iteration >= total_iterations`; the changes are
//!    recorded in the outcome but not applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use mmsoak_core::{
    legacy_deltas, Change, DeltaOp, IterationKpis, Param, ParamKind, ParamRegistry,
    RuntimeOverrides, StateHash,
};

use crate::error::GuardError;
pub use mmsoak_artifacts::skip::{SkipKind, SkipReason};

/// Thresholds of the guards. Every key is optional in a policy file (the
/// `[guards]` table of the soak policy); unknown keys are rejected.
///
/// ```
/// let p: mmsoak_apply::GuardPolicy = serde_json::from_str(r#"{"cooldown_iters": 5}"#).unwrap();
/// assert_eq!((p.cooldown_iters, p.freeze_lock_iters), (5, 4));
/// assert!(serde_json::from_str::<mmsoak_apply::GuardPolicy>(r#"{"cooldown": 5}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardPolicy {
    /// An iteration is steady when its risk_ratio is at most this (0.35).
    pub freeze_risk_ratio_max: f64,
    /// ... and its net_bps at least this (2.7) ...
    pub freeze_net_bps_min: f64,
    /// ... and its maker share at least this (0: the seed's table does not
    /// look at it) ...
    pub freeze_maker_taker_ratio_min: f64,
    /// ... and its p95 latency at most this, in ms (400: the seed's table
    /// looks at it only through the hard limit).
    pub freeze_p95_latency_ms_max: f64,
    /// Consecutive steady iterations that trigger the freeze (2).
    pub freeze_consecutive_iters: u32,
    /// Iterations locked after the triggering one (4).
    pub freeze_lock_iters: u32,
    /// Hard limit: risk_ratio above this breaks a freeze (0.50).
    pub hard_risk_ratio_max: f64,
    /// Hard limit: net_bps below this breaks a freeze (2.0).
    pub hard_net_bps_min: f64,
    /// Hard limit: p95 latency above this, in ms, breaks a freeze (400).
    pub hard_p95_latency_ms_max: f64,
    /// Iterations (the current one included) in which sign flips are counted (4).
    pub oscillation_window_iters: u32,
    /// Sign flips within the window that count as oscillation (3).
    pub oscillation_sign_flips: u32,
    /// Past iterations the velocity guard looks at (3).
    pub velocity_window_iters: u32,
    /// Share of the bounds range the travel over the window may not exceed (0.5).
    pub velocity_range_share: f64,
    /// A move larger than this share of the bounds range starts a cooldown (0.10).
    pub cooldown_range_share: f64,
    /// Iterations of cooldown after a large move (3).
    pub cooldown_iters: u32,
}

impl Default for GuardPolicy {
    fn default() -> Self {
        GuardPolicy {
            freeze_risk_ratio_max: 0.35,
            freeze_net_bps_min: 2.7,
            freeze_maker_taker_ratio_min: 0.0,
            freeze_p95_latency_ms_max: 400.0,
            freeze_consecutive_iters: 2,
            freeze_lock_iters: 4,
            hard_risk_ratio_max: 0.50,
            hard_net_bps_min: 2.0,
            hard_p95_latency_ms_max: 400.0,
            oscillation_window_iters: 4,
            oscillation_sign_flips: 3,
            velocity_window_iters: 3,
            velocity_range_share: 0.5,
            cooldown_range_share: 0.10,
            cooldown_iters: 3,
        }
    }
}

impl GuardPolicy {
    /// Check that every threshold is usable: finite numbers, positive shares
    /// and windows of at least one iteration.
    pub fn validate(&self) -> Result<(), GuardError> {
        let bad = |field, problem: String| Err(GuardError::Policy { field, problem });
        for (field, v) in [
            ("freeze_risk_ratio_max", self.freeze_risk_ratio_max),
            ("freeze_net_bps_min", self.freeze_net_bps_min),
            ("hard_risk_ratio_max", self.hard_risk_ratio_max),
            ("hard_net_bps_min", self.hard_net_bps_min),
            ("hard_p95_latency_ms_max", self.hard_p95_latency_ms_max),
            (
                "freeze_maker_taker_ratio_min",
                self.freeze_maker_taker_ratio_min,
            ),
            ("freeze_p95_latency_ms_max", self.freeze_p95_latency_ms_max),
        ] {
            if !v.is_finite() {
                return bad(field, format!("is {v}, not a finite number"));
            }
        }
        for (field, v) in [
            ("velocity_range_share", self.velocity_range_share),
            ("cooldown_range_share", self.cooldown_range_share),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(field, format!("is {v}, should be a positive number"));
            }
        }
        for (field, v) in [
            ("freeze_consecutive_iters", self.freeze_consecutive_iters),
            ("oscillation_window_iters", self.oscillation_window_iters),
            ("oscillation_sign_flips", self.oscillation_sign_flips),
            ("velocity_window_iters", self.velocity_window_iters),
        ] {
            if v == 0 {
                return bad(field, "is 0, should be at least 1".to_owned());
            }
        }
        Ok(())
    }
}

/// The KPIs of one iteration that the guards look at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardKpis {
    /// Share of order requests blocked by risk limits, 0–1.
    pub risk_ratio: f64,
    /// Maker share of the filled volume, 0–1; `None` when unknown (never
    /// steady under a policy that asks for it).
    #[serde(default)]
    pub maker_taker_ratio: Option<f64>,
    /// Net edge, bps; `None` when the bot reported none (never steady, never a breach).
    pub net_bps: Option<f64>,
    /// p95 order latency, ms; `None` when unknown (never a breach).
    pub p95_latency_ms: Option<f64>,
}

impl From<&IterationKpis> for GuardKpis {
    fn from(k: &IterationKpis) -> Self {
        GuardKpis {
            risk_ratio: k.risk_ratio,
            maker_taker_ratio: Some(k.maker_taker_ratio),
            net_bps: k.net_bps,
            p95_latency_ms: k.p95_latency_ms,
        }
    }
}

/// What happened at one iteration, as the guards of later iterations need it.
/// The runner appends one per iteration (see [`IterationRecord::from_outcome`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IterationRecord {
    /// Iteration number (from 1).
    pub iteration: u32,
    /// The iteration's KPIs.
    pub kpis: GuardKpis,
    /// The changes applied at this iteration's apply step; empty when skipped.
    pub changes: Vec<Change>,
    /// State before the apply step.
    pub old_hash: StateHash,
    /// State after the apply step (equal to `old_hash` when skipped).
    pub state_hash: StateHash,
    /// Why the apply step was skipped; `None` when applied.
    pub skip_reason: Option<SkipReason>,
}

impl IterationRecord {
    /// The record of an iteration whose apply step gave `outcome`.
    pub fn from_outcome(kpis: GuardKpis, outcome: &crate::ApplyOutcome) -> Self {
        IterationRecord {
            iteration: outcome.iteration,
            kpis,
            changes: if outcome.applied {
                outcome.changes.clone()
            } else {
                Vec::new()
            },
            old_hash: outcome.old_hash,
            state_hash: outcome.state_hash,
            skip_reason: outcome.skip_reason.clone(),
        }
    }

    /// Whether the apply step changed the state.
    pub fn applied(&self) -> bool {
        self.skip_reason.is_none() && self.old_hash != self.state_hash
    }

    /// Net move of each parameter at this step (`to - from`), non-zero only;
    /// empty when nothing was applied.
    pub fn moves(&self) -> BTreeMap<Param, f64> {
        if !self.applied() {
            return BTreeMap::new();
        }
        legacy_deltas(&self.changes)
            .into_iter()
            .filter(|(_, m)| *m != 0.0)
            .collect()
    }
}

/// The records of a run's iterations, in increasing iteration order: the
/// recent ones whole, the older ones folded into what the guards still need
/// of them ([`RunHistory::compact`]), so that a run's history, and the time
/// to evaluate the guards, stay bounded however long the run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunHistory {
    /// The records; iteration numbers strictly increase (gaps are allowed).
    pub iterations: Vec<IterationRecord>,
    /// What the records before `iterations` left behind; `None` when no
    /// record was folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folded: Option<FoldedHistory>,
}

/// What folded records leave for the guards: the freeze state after the
/// last of them, and the last one that changed the state (the oscillation
/// guard's return-to-a-previous-state check looks back that far).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldedHistory {
    /// The last folded iteration.
    pub last_iteration: u32,
    /// Consecutive steady iterations up to it.
    pub steady_streak: u32,
    /// The last iteration its freeze lock covers, if one holds.
    pub freeze_until: Option<u32>,
    /// The last folded record whose apply step changed the state.
    pub last_applied: Option<IterationRecord>,
}

impl RunHistory {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append a record; its iteration must be after the last one.
    pub fn push(&mut self, record: IterationRecord) -> Result<(), GuardError> {
        if let Some(last) = self.iterations.last() {
            if record.iteration <= last.iteration {
                return Err(GuardError::HistoryOrder {
                    previous: last.iteration,
                    found: record.iteration,
                });
            }
        }
        self.iterations.push(record);
        Ok(())
    }

    /// Fold every record the guards under `policy` can no longer look at
    /// one by one into [`RunHistory::folded`]: those older than the longest
    /// window (oscillation, velocity, cooldown) before the next iteration.
    /// The guards' verdicts are the same as with the whole history
    /// (property-tested), provided the same policy judges the run.
    pub fn compact(&mut self, policy: &GuardPolicy) {
        let Some(last) = self.iterations.last().map(|r| r.iteration) else {
            return;
        };
        let reach = policy
            .oscillation_window_iters
            .max(policy.velocity_window_iters)
            .max(policy.cooldown_iters)
            .saturating_add(1);
        let keep_from = last.saturating_add(1).saturating_sub(reach);
        let fold = self.iterations.partition_point(|r| r.iteration < keep_from);
        if fold == 0 {
            return;
        }
        let mut folded = FreezeWalk::after(self.folded.as_ref());
        let mut last_applied = self.folded.take().and_then(|f| f.last_applied);
        for record in self.iterations.drain(..fold) {
            folded.step(policy, record.iteration, &record.kpis);
            if record.applied() {
                last_applied = Some(record);
            }
        }
        self.folded = Some(FoldedHistory {
            last_iteration: folded.prev.unwrap_or(0),
            steady_streak: folded.streak,
            freeze_until: folded.until,
            last_applied,
        });
    }

    /// The last record whose apply step changed the state, folded or not.
    fn last_applied(&self) -> Option<&IterationRecord> {
        self.iterations
            .iter()
            .rev()
            .find(|r| r.applied())
            .or_else(|| self.folded.as_ref()?.last_applied.as_ref())
    }

    /// The record of one iteration.
    pub fn get(&self, iteration: u32) -> Option<&IterationRecord> {
        self.iterations
            .binary_search_by_key(&iteration, |r| r.iteration)
            .ok()
            .and_then(|i| self.iterations.get(i))
    }

    fn check_before(&self, current: u32) -> Result<(), GuardError> {
        let folded = self.folded.as_ref().map(|f| f.last_iteration);
        if let (Some(folded), Some(first)) = (folded, self.iterations.first()) {
            if first.iteration <= folded {
                return Err(GuardError::HistoryOrder {
                    previous: folded,
                    found: first.iteration,
                });
            }
        }
        if let Some(folded) = folded.filter(|f| *f >= current) {
            return Err(GuardError::HistoryAhead {
                found: folded,
                current,
            });
        }
        for pair in self.iterations.windows(2) {
            if pair[1].iteration <= pair[0].iteration {
                return Err(GuardError::HistoryOrder {
                    previous: pair[0].iteration,
                    found: pair[1].iteration,
                });
            }
        }
        match self.iterations.last() {
            Some(last) if last.iteration >= current => Err(GuardError::HistoryAhead {
                found: last.iteration,
                current,
            }),
            _ => Ok(()),
        }
    }
}

/// Everything the guards look at besides the proposal and the current state.
#[derive(Debug, Clone, Copy)]
pub struct GuardContext<'a> {
    /// Records of the iterations before this one.
    pub history: &'a RunHistory,
    /// This iteration (from 1).
    pub iteration: u32,
    /// Iterations in the run; the last one is `total_iterations`.
    pub total_iterations: u32,
    /// KPIs of this iteration.
    pub kpis: GuardKpis,
    /// Thresholds.
    pub policy: &'a GuardPolicy,
    /// Parameter bounds.
    pub registry: &'a ParamRegistry,
}

/// A freeze lock broken early by a hard-limit breach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeBreak {
    /// The iteration that breached.
    pub iteration: u32,
    /// The last iteration the lock would have covered.
    pub locked_until: u32,
    /// Which limit, e.g. `"risk_ratio 0.62 > 0.5"`.
    pub reason: String,
}

/// Every guard's state at one iteration, whatever the skip reason.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardStates {
    /// A freeze was triggered at this iteration.
    pub freeze_triggered: bool,
    /// A freeze lock covers this iteration (triggered now or earlier).
    pub freeze_active: bool,
    /// The oscillation guard holds.
    pub oscillation_detected: bool,
    /// The velocity guard holds.
    pub velocity_violation: bool,
    /// A cooldown covers this iteration.
    pub cooldown_active: bool,
    /// Locked iterations after this one (0 when no lock).
    pub freeze_iters_left: u32,
    /// Cooldown iterations after this one (0 when no cooldown).
    pub cooldown_iters_left: u32,
    /// A freeze lock broken at this iteration.
    pub freeze_break: Option<FreezeBreak>,
}

/// The result of evaluating the guards on a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardVerdict {
    /// Every guard's state.
    pub flags: GuardStates,
    /// The first guard that holds (priority order), or `None`: apply.
    pub skip_reason: Option<SkipReason>,
    /// What each operation resolves to, in order, against the current state
    /// (rounded, clamped; later operations on a parameter see earlier ones).
    pub changes: Vec<Change>,
    /// Parameters whose value would change, in registry order.
    pub changed_keys: Vec<Param>,
    /// State hash after the proposal.
    pub prospective_hash: StateHash,
}

/// A proposal resolved against the current state, in memory.
#[derive(Debug, Clone)]
pub(crate) struct Prospect {
    /// The prospective state's canonical bytes (what an apply writes).
    pub(crate) bytes: Vec<u8>,
    pub(crate) changes: Vec<Change>,
    /// Net move per parameter, non-zero only.
    pub(crate) moves: BTreeMap<Param, f64>,
    pub(crate) hash: StateHash,
}

impl Prospect {
    pub(crate) fn resolve(
        current: &RuntimeOverrides,
        ops: &[DeltaOp],
        registry: &ParamRegistry,
    ) -> Result<Self, GuardError> {
        let mut overrides = current.clone();
        let mut changes = Vec::with_capacity(ops.len());
        for op in ops {
            let change = overrides
                .apply(op, registry)
                .map_err(|source| GuardError::NonFinite {
                    param: op.param,
                    source,
                })?;
            changes.push(change);
        }
        let moves = Param::ALL
            .into_iter()
            .filter_map(|p| {
                let m = ParamKind::Real
                    .quantize(overrides.value(p, registry) - current.value(p, registry));
                (m != 0.0).then_some((p, m))
            })
            .collect();
        let bytes = overrides.to_canonical_bytes();
        let hash = StateHash::of_canonical_bytes(&bytes);
        Ok(Prospect {
            bytes,
            changes,
            moves,
            hash,
        })
    }
}

/// Evaluate the guards on `ops` proposed at `ctx.iteration` against the
/// `current` overrides. Pure: nothing is read or written.
///
/// ```
/// use mmsoak_apply::{evaluate_guards, GuardContext, GuardKpis, GuardPolicy, RunHistory, SkipKind};
/// use mmsoak_core::{Delta, DeltaOp, Param, ParamRegistry, RuntimeOverrides};
/// let (history, policy, registry) = (RunHistory::new(), GuardPolicy::default(), ParamRegistry::default());
/// let ctx = GuardContext {
///     history: &history, iteration: 3, total_iterations: 3,
///     kpis: GuardKpis { risk_ratio: 0.4, maker_taker_ratio: None, net_bps: Some(2.5), p95_latency_ms: Some(300.0) },
///     policy: &policy, registry: &registry,
/// };
/// let ops = [DeltaOp::new(Param::MinIntervalMs, Delta::Add(5.0))];
/// let v = evaluate_guards(&ctx, &RuntimeOverrides::new(), &ops).unwrap();
/// assert_eq!(v.skip_reason.map(|r| r.kind), Some(SkipKind::FinalIteration));
/// assert_eq!(v.changes[0].to, 65.0);
/// ```
pub fn evaluate_guards(
    ctx: &GuardContext<'_>,
    current: &RuntimeOverrides,
    ops: &[DeltaOp],
) -> Result<GuardVerdict, GuardError> {
    let (verdict, _) = evaluate(ctx, current, ops)?;
    Ok(verdict)
}

/// [`evaluate_guards`], also giving the prospective state's canonical bytes
/// to write (their hash is the verdict's `prospective_hash`).
pub(crate) fn evaluate(
    ctx: &GuardContext<'_>,
    current: &RuntimeOverrides,
    ops: &[DeltaOp],
) -> Result<(GuardVerdict, Vec<u8>), GuardError> {
    ctx.policy.validate()?;
    if ctx.iteration == 0 || ctx.iteration > ctx.total_iterations {
        return Err(GuardError::IterationOutOfRange {
            iteration: ctx.iteration,
            total: ctx.total_iterations,
        });
    }
    ctx.history.check_before(ctx.iteration)?;
    let prospect = Prospect::resolve(current, ops, ctx.registry)?;
    let (flags, skip_reason) = judge(ctx, &prospect);
    let verdict = GuardVerdict {
        flags,
        skip_reason,
        changes: prospect.changes,
        changed_keys: prospect.moves.keys().copied().collect(),
        prospective_hash: prospect.hash,
    };
    Ok((verdict, prospect.bytes))
}

fn judge(ctx: &GuardContext<'_>, prospect: &Prospect) -> (GuardStates, Option<SkipReason>) {
    let i = ctx.iteration;
    let freeze = freeze_state(ctx);
    let oscillation = oscillation(ctx, prospect);
    let velocity = velocity(ctx, prospect);
    let cooldown_until = cooldown_until(ctx);

    let mut flags = GuardStates {
        freeze_triggered: freeze.triggered,
        freeze_active: freeze.locked_until.is_some(),
        oscillation_detected: oscillation.is_some(),
        velocity_violation: velocity.is_some(),
        cooldown_active: cooldown_until.is_some(),
        freeze_iters_left: 0,
        cooldown_iters_left: 0,
        freeze_break: freeze.broken,
    };
    let mut candidates: Vec<SkipReason> = Vec::new();
    if let Some(until) = freeze.locked_until {
        flags.freeze_iters_left = until.saturating_sub(i);
        candidates.push(SkipReason::new(
            SkipKind::Freeze,
            held_through("steady state, ", until, i),
        ));
    }
    if let Some(note) = oscillation {
        candidates.push(SkipReason::new(SkipKind::Oscillation, note));
    }
    if let Some(note) = velocity {
        candidates.push(SkipReason::new(SkipKind::Velocity, note));
    }
    if let Some(until) = cooldown_until {
        flags.cooldown_iters_left = until.saturating_sub(i);
        candidates.push(SkipReason::new(
            SkipKind::Cooldown,
            held_through("", until, i),
        ));
    }
    if prospect.moves.is_empty() {
        candidates.push(SkipReason::new(SkipKind::NoOp, "no effective change"));
    }
    if i >= ctx.total_iterations {
        candidates.push(SkipReason::new(
            SkipKind::FinalIteration,
            "final iteration: changes recorded, not applied",
        ));
    }
    (flags, candidates.into_iter().next())
}

struct FreezeState {
    triggered: bool,
    locked_until: Option<u32>,
    broken: Option<FreezeBreak>,
}

fn breach(p: &GuardPolicy, k: &GuardKpis) -> Option<String> {
    if k.risk_ratio > p.hard_risk_ratio_max {
        return Some(format!(
            "risk_ratio {} > {}",
            k.risk_ratio, p.hard_risk_ratio_max
        ));
    }
    if let Some(net) = k.net_bps.filter(|n| *n < p.hard_net_bps_min) {
        return Some(format!("net_bps {net} < {}", p.hard_net_bps_min));
    }
    if let Some(lat) = k.p95_latency_ms.filter(|l| *l > p.hard_p95_latency_ms_max) {
        return Some(format!(
            "p95_latency_ms {lat} > {}",
            p.hard_p95_latency_ms_max
        ));
    }
    None
}

fn steady(p: &GuardPolicy, k: &GuardKpis) -> bool {
    // An unknown maker share or latency does not keep an iteration from
    // being steady unless the policy looks at it (a bound that every value
    // meets does not).
    let maker_ok = p.freeze_maker_taker_ratio_min <= 0.0
        || k.maker_taker_ratio
            .is_some_and(|m| m >= p.freeze_maker_taker_ratio_min);
    let latency_ok = p.freeze_p95_latency_ms_max >= p.hard_p95_latency_ms_max
        || k.p95_latency_ms
            .is_some_and(|l| l <= p.freeze_p95_latency_ms_max);
    k.risk_ratio <= p.freeze_risk_ratio_max
        && k.net_bps.is_some_and(|n| n >= p.freeze_net_bps_min)
        && maker_ok
        && latency_ok
        && breach(p, k).is_none()
}

/// The freeze state machine, one iteration at a time.
#[derive(Debug, Clone, Copy, Default)]
struct FreezeWalk {
    /// The previous iteration walked.
    prev: Option<u32>,
    /// Consecutive steady iterations up to it.
    streak: u32,
    /// The last iteration the current lock covers.
    until: Option<u32>,
}

impl FreezeWalk {
    /// The state after the folded records (the start without any).
    fn after(folded: Option<&FoldedHistory>) -> Self {
        folded.map_or(FreezeWalk::default(), |f| FreezeWalk {
            prev: Some(f.last_iteration),
            streak: f.steady_streak,
            until: f.freeze_until,
        })
    }

    /// Walk iteration `j` with KPIs `k`: whether a freeze triggers there,
    /// and the lock it breaks, if any.
    fn step(&mut self, p: &GuardPolicy, j: u32, k: &GuardKpis) -> (bool, Option<FreezeBreak>) {
        let consecutive = self.prev.is_some_and(|q| q + 1 == j);
        self.prev = Some(j);
        self.streak = match (steady(p, k), consecutive) {
            (false, _) => 0,
            (true, true) => self.streak.saturating_add(1),
            (true, false) => 1,
        };
        let mut triggered = false;
        let mut broken = None;
        match self.until {
            Some(u) if j <= u => {
                if let Some(reason) = breach(p, k) {
                    broken = Some(FreezeBreak {
                        iteration: j,
                        locked_until: u,
                        reason,
                    });
                    self.until = None;
                }
            }
            _ => {
                self.until = None;
                if self.streak >= p.freeze_consecutive_iters {
                    self.until = Some(j.saturating_add(p.freeze_lock_iters));
                    triggered = true;
                }
            }
        }
        (triggered, broken)
    }
}

/// Walk the run from the folded state (or its first recorded iteration) to
/// this one.
fn freeze_state(ctx: &GuardContext<'_>) -> FreezeState {
    let p = ctx.policy;
    let mut walk = FreezeWalk::after(ctx.history.folded.as_ref());
    for r in &ctx.history.iterations {
        walk.step(p, r.iteration, &r.kpis);
    }
    let (triggered, broken) = walk.step(p, ctx.iteration, &ctx.kpis);
    FreezeState {
        triggered,
        locked_until: walk.until,
        broken,
    }
}

fn oscillation(ctx: &GuardContext<'_>, prospect: &Prospect) -> Option<String> {
    if prospect.moves.is_empty() {
        return None;
    }
    if let Some(last) = ctx.history.last_applied() {
        if last.old_hash == prospect.hash {
            return Some(format!(
                "oscillation: state would return to {} (before iter {})",
                prospect.hash.short(),
                last.iteration
            ));
        }
    }
    let window = ctx.policy.oscillation_window_iters;
    let first = ctx.iteration.saturating_sub(window - 1).max(1);
    for (param, amount) in &prospect.moves {
        let mut signs: Vec<bool> = (first..ctx.iteration)
            .filter_map(|j| ctx.history.get(j))
            .filter_map(|r| r.moves().get(param).map(|m| *m > 0.0))
            .collect();
        signs.push(*amount > 0.0);
        let flips = signs.windows(2).filter(|w| w[0] != w[1]).count();
        if flips >= ctx.policy.oscillation_sign_flips as usize {
            return Some(format!(
                "oscillation: {param} would flip sign {flips} times within iters {first}..={}",
                ctx.iteration
            ));
        }
    }
    None
}

fn velocity(ctx: &GuardContext<'_>, prospect: &Prospect) -> Option<String> {
    let w = ctx.policy.velocity_window_iters;
    let i = ctx.iteration;
    let window: Vec<u32> = (i.saturating_sub(w).max(1)..i).collect();
    for (param, amount) in &prospect.moves {
        let past: Vec<Option<f64>> = window
            .iter()
            .map(|j| {
                ctx.history
                    .get(*j)
                    .and_then(|r| r.moves().get(param).copied())
            })
            .collect();
        if window.len() == w as usize && past.iter().all(Option::is_some) {
            return Some(format!(
                "velocity: {param} changed in each of the last {w} iters"
            ));
        }
        // Both sides on the 1e-9 grid, so that float noise in `max - min`
        // never decides a comparison at the threshold.
        let travel = grid(past.iter().flatten().map(|m| m.abs()).sum::<f64>() + amount.abs());
        let limit = share_of_range(ctx, *param, ctx.policy.velocity_range_share);
        if travel > limit {
            return Some(format!(
                "velocity: {param} would travel {travel} over the last {w} iters and this one, more than {limit} ({}% of its range)",
                grid(ctx.policy.velocity_range_share * 100.0)
            ));
        }
    }
    None
}

fn grid(x: f64) -> f64 {
    ParamKind::Real.quantize(x)
}

/// `share` of the parameter's bounds range, on the 1e-9 grid.
fn share_of_range(ctx: &GuardContext<'_>, param: Param, share: f64) -> f64 {
    grid(share * grid(ctx.registry.spec(param).bounds.range()))
}

/// The last iteration of the cooldown covering this one, if any.
fn cooldown_until(ctx: &GuardContext<'_>) -> Option<u32> {
    let p = ctx.policy;
    let i = ctx.iteration;
    ctx.history
        .iterations
        .iter()
        .filter(|r| r.iteration.saturating_add(p.cooldown_iters) >= i)
        .filter(|r| {
            r.moves()
                .iter()
                .any(|(param, m)| m.abs() > share_of_range(ctx, *param, p.cooldown_range_share))
        })
        .map(|r| r.iteration.saturating_add(p.cooldown_iters))
        .max()
}

/// The note of a guard that holds every change through iteration `until`,
/// said at iteration `i` (the skip reason names the guard; `why` may say
/// what started it): `"held through iter 5: 2 more iterations after this
/// one"`, and at the last one `"...: this is its last iteration"` (not "0
/// left", which read as if the guard were over while it still held).
fn held_through(why: &str, until: u32, i: u32) -> String {
    match until.saturating_sub(i) {
        0 => format!("{why}held through iter {until}: this is its last iteration"),
        1 => format!("{why}held through iter {until}: 1 more iteration after this one"),
        n => format!("{why}held through iter {until}: {n} more iterations after this one"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsoak_core::Delta;

    const CALM: GuardKpis = GuardKpis {
        risk_ratio: 0.45,
        maker_taker_ratio: None,
        net_bps: Some(2.4),
        p95_latency_ms: Some(300.0),
    };
    const STEADY: GuardKpis = GuardKpis {
        risk_ratio: 0.30,
        maker_taker_ratio: None,
        net_bps: Some(2.9),
        p95_latency_ms: Some(250.0),
    };

    /// Builds a history by "applying" per-iteration ops in memory.
    struct Run {
        history: RunHistory,
        state: RuntimeOverrides,
        policy: GuardPolicy,
        registry: ParamRegistry,
        total: u32,
    }

    impl Run {
        fn new() -> Self {
            let registry = ParamRegistry::default();
            Run {
                history: RunHistory::new(),
                state: crate::apply::with_every_param(&RuntimeOverrides::new(), &registry),
                policy: GuardPolicy::default(),
                registry,
                total: 100,
            }
        }

        fn next_iteration(&self) -> u32 {
            self.history
                .iterations
                .last()
                .map_or(1, |r| r.iteration + 1)
        }

        fn verdict(&self, kpis: GuardKpis, ops: &[DeltaOp]) -> GuardVerdict {
            let ctx = GuardContext {
                history: &self.history,
                iteration: self.next_iteration(),
                total_iterations: self.total,
                kpis,
                policy: &self.policy,
                registry: &self.registry,
            };
            evaluate_guards(&ctx, &self.state, ops).expect("guards evaluate")
        }

        /// Evaluate and record like the pipeline would.
        fn step(&mut self, kpis: GuardKpis, ops: &[DeltaOp]) -> GuardVerdict {
            let v = self.verdict(kpis, ops);
            let old_hash = self.state.state_hash();
            let mut changes = Vec::new();
            if v.skip_reason.is_none() {
                for op in ops {
                    changes.push(self.state.apply(op, &self.registry).expect("finite"));
                }
            }
            let record = IterationRecord {
                iteration: self.next_iteration(),
                kpis,
                changes,
                old_hash,
                state_hash: self.state.state_hash(),
                skip_reason: v.skip_reason.clone(),
            };
            self.history.push(record).expect("in order");
            v
        }
    }

    fn add(p: Param, x: f64) -> DeltaOp {
        DeltaOp::new(p, Delta::Add(x))
    }

    #[track_caller]
    fn assert_skip(v: &GuardVerdict, kind: SkipKind, note: &str) {
        let r = v.skip_reason.as_ref().expect("skipped");
        assert_eq!(r.kind, kind, "{r}");
        assert!(r.note.contains(note), "note {:?} lacks {note:?}", r.note);
    }

    #[test]
    fn freeze_after_two_steady_iterations_locks_the_next_four() {
        let mut run = Run::new();
        let op = [add(Param::TailAgeMs, 10.0)];
        let v1 = run.step(STEADY, &op);
        assert!(v1.skip_reason.is_none() && !v1.flags.freeze_active);
        let v2 = run.step(STEADY, &op);
        assert!(v2.flags.freeze_triggered && v2.flags.freeze_active);
        assert_skip(
            &v2,
            SkipKind::Freeze,
            "steady state, held through iter 6: 4 more iterations after this one",
        );
        for left in [3, 2, 1, 0] {
            let v = run.step(CALM, &op);
            assert!(!v.flags.freeze_triggered && v.flags.freeze_active);
            assert_eq!(v.flags.freeze_iters_left, left);
            assert_skip(
                &v,
                SkipKind::Freeze,
                &held_through("steady state, ", 6, 6 - left),
            );
        }
        let v7 = run.step(CALM, &op);
        assert!(v7.skip_reason.is_none(), "{:?}", v7.skip_reason);
        assert!(!v7.flags.freeze_active);
    }

    #[test]
    fn freeze_breaks_early_on_a_hard_limit_breach() {
        let mut run = Run::new();
        let op = [add(Param::TailAgeMs, 10.0)];
        run.step(STEADY, &op);
        assert!(run.step(STEADY, &op).flags.freeze_triggered);
        assert_skip(
            &run.step(STEADY, &op),
            SkipKind::Freeze,
            ": 3 more iterations after this one",
        );
        let breach = GuardKpis {
            p95_latency_ms: Some(450.0),
            ..STEADY
        };
        let v = run.step(breach, &op);
        assert!(v.skip_reason.is_none(), "{:?}", v.skip_reason);
        assert!(!v.flags.freeze_active);
        assert_eq!(
            v.flags.freeze_break,
            Some(FreezeBreak {
                iteration: 4,
                locked_until: 6,
                reason: "p95_latency_ms 450 > 400".into()
            })
        );
        // The break is reported once; later iterations are simply unlocked.
        assert_eq!(run.step(CALM, &[]).flags.freeze_break, None);
        for (kpis, reason) in [
            (
                GuardKpis {
                    risk_ratio: 0.62,
                    ..STEADY
                },
                "risk_ratio 0.62 > 0.5",
            ),
            (
                GuardKpis {
                    net_bps: Some(1.5),
                    ..CALM
                },
                "net_bps 1.5 < 2",
            ),
        ] {
            let mut run = Run::new();
            run.step(STEADY, &[]);
            run.step(STEADY, &[]);
            let v = run.step(kpis, &[]);
            assert_eq!(
                v.flags.freeze_break.map(|b| b.reason),
                Some(reason.to_owned())
            );
        }
    }

    #[test]
    fn steady_needs_consecutive_iterations_and_a_net_value() {
        let mut run = Run::new();
        run.step(STEADY, &[]);
        run.step(CALM, &[]);
        assert!(!run.step(STEADY, &[]).flags.freeze_triggered);
        let no_net = GuardKpis {
            net_bps: None,
            ..STEADY
        };
        assert!(!run.step(no_net, &[]).flags.freeze_triggered);
        // A gap in the history breaks the streak.
        let mut run = Run::new();
        run.step(STEADY, &[]);
        let ctx = GuardContext {
            history: &run.history,
            iteration: 3,
            total_iterations: 10,
            kpis: STEADY,
            policy: &run.policy,
            registry: &run.registry,
        };
        let v = evaluate_guards(&ctx, &run.state, &[]).expect("evaluates");
        assert!(!v.flags.freeze_triggered);
    }

    #[test]
    fn oscillation_a_b_a_is_blocked() {
        let mut run = Run::new();
        assert!(run
            .step(CALM, &[add(Param::MinIntervalMs, 5.0)])
            .skip_reason
            .is_none());
        let v = run.step(CALM, &[add(Param::MinIntervalMs, -5.0)]);
        assert!(v.flags.oscillation_detected);
        assert_skip(&v, SkipKind::Oscillation, "state would return to");
        // Skipped steps do not count as applied steps: A -> B, skip, then
        // another parameter moves: B -> C; going back to B is A -> B -> C -> B.
        let v = run.step(CALM, &[add(Param::ConcurrencyLimit, 1.0)]);
        assert!(v.skip_reason.is_none(), "{:?}", v.skip_reason);
        let v = run.step(CALM, &[add(Param::ConcurrencyLimit, -1.0)]);
        assert_skip(&v, SkipKind::Oscillation, "before iter 3");
    }

    #[test]
    fn oscillation_three_sign_flips_in_four_iterations() {
        let mut run = Run::new();
        // Different magnitudes so no state repeats; velocity off to reach the flips.
        run.policy.velocity_window_iters = 10;
        run.policy.velocity_range_share = 100.0;
        for x in [4.0, -3.0, 1.0] {
            assert!(run
                .step(CALM, &[add(Param::MinIntervalMs, x)])
                .skip_reason
                .is_none());
        }
        let v = run.step(CALM, &[add(Param::MinIntervalMs, -5.0)]);
        assert!(v.flags.oscillation_detected);
        assert_skip(
            &v,
            SkipKind::Oscillation,
            "min_interval_ms would flip sign 3 times within iters 1..=4",
        );
        // The same direction does not flip.
        let mut run2 = Run::new();
        run2.policy = run.policy.clone();
        for x in [4.0, -3.0, 1.0] {
            run2.step(CALM, &[add(Param::MinIntervalMs, x)]);
        }
        assert!(run2
            .step(CALM, &[add(Param::MinIntervalMs, 2.0)])
            .skip_reason
            .is_none());
    }

    #[test]
    fn velocity_every_iteration_or_too_far() {
        let mut run = Run::new();
        for x in [1.0, 2.0, 1.0] {
            assert!(run
                .step(CALM, &[add(Param::MinIntervalMs, x)])
                .skip_reason
                .is_none());
        }
        let v = run.step(CALM, &[add(Param::MinIntervalMs, 1.0)]);
        assert!(v.flags.velocity_violation && !v.flags.oscillation_detected);
        assert_skip(
            &v,
            SkipKind::Velocity,
            "min_interval_ms changed in each of the last 3 iters",
        );
        // Another parameter is not affected.
        assert!(run
            .verdict(CALM, &[add(Param::TailAgeMs, 10.0)])
            .skip_reason
            .is_none());

        // Travel: range of min_interval_ms is 60, half is 30. Moves of 5, 5, -, 4
        // (under the cooldown threshold of 6): at iteration 5 the window is
        // iterations 2..=4 (5 + 0 + 4), so a move of 22 travels 31 > 30.
        let mut run = Run::new();
        run.step(CALM, &[add(Param::MinIntervalMs, -5.0)]);
        run.step(CALM, &[add(Param::MinIntervalMs, -5.0)]);
        run.step(CALM, &[]);
        let v = run.step(CALM, &[add(Param::MinIntervalMs, 4.0)]);
        assert!(v.skip_reason.is_none(), "{:?}", v.skip_reason);
        let v = run.verdict(CALM, &[add(Param::MinIntervalMs, 22.0)]);
        assert_skip(
            &v,
            SkipKind::Velocity,
            "would travel 31 over the last 3 iters and this one, more than 30",
        );
        let v = run.verdict(CALM, &[add(Param::MinIntervalMs, 21.0)]);
        assert!(!v.flags.velocity_violation, "30 is not more than 30");
    }

    #[test]
    fn a_held_guard_says_through_when_and_never_zero_left() {
        assert_eq!(
            held_through("", 5, 3),
            "held through iter 5: 2 more iterations after this one"
        );
        assert_eq!(
            held_through("", 5, 4),
            "held through iter 5: 1 more iteration after this one"
        );
        assert_eq!(
            held_through("", 5, 5),
            "held through iter 5: this is its last iteration"
        );
        assert_eq!(
            held_through("steady state, ", 5, 5),
            "steady state, held through iter 5: this is its last iteration"
        );
    }

    #[test]
    fn cooldown_counts_down_after_a_large_move() {
        let mut run = Run::new();
        // tail_age_ms range is 900; 10% is 90.
        assert!(run
            .step(CALM, &[add(Param::TailAgeMs, 100.0)])
            .skip_reason
            .is_none());
        for left in [2, 1, 0] {
            let v = run.step(CALM, &[add(Param::ConcurrencyLimit, 1.0)]);
            assert!(v.flags.cooldown_active);
            assert_eq!(v.flags.cooldown_iters_left, left);
            assert_skip(&v, SkipKind::Cooldown, &held_through("", 4, 4 - left));
        }
        let v = run.step(CALM, &[add(Param::ConcurrencyLimit, 1.0)]);
        assert!(v.skip_reason.is_none() && !v.flags.cooldown_active);
        // Exactly 10% does not start a cooldown.
        let mut run = Run::new();
        run.step(CALM, &[add(Param::TailAgeMs, 90.0)]);
        assert!(
            !run.verdict(CALM, &[add(Param::ConcurrencyLimit, 1.0)])
                .flags
                .cooldown_active
        );
    }

    #[test]
    fn no_op_and_final_iteration() {
        let mut run = Run::new();
        run.policy.cooldown_range_share = 1.0; // no move is larger than the whole range
        let set = [DeltaOp::new(Param::MinIntervalMs, Delta::Set(70.0))];
        assert!(run.step(CALM, &set).skip_reason.is_none());
        assert_skip(&run.step(CALM, &set), SkipKind::NoOp, "no effective change");
        assert_skip(&run.step(CALM, &[]), SkipKind::NoOp, "no effective change");
        // Clamped at the bound: no-op, and the change says it was clamped.
        let v = run.step(
            CALM,
            &[DeltaOp::new(Param::ImpactCapRatio, Delta::Set(0.12))],
        );
        assert!(v.skip_reason.is_none());
        let v = run.verdict(CALM, &[add(Param::ImpactCapRatio, 0.05)]);
        assert_skip(&v, SkipKind::NoOp, "no effective change");
        assert!(v.changes[0].clamped && v.changed_keys.is_empty());
        // Final iteration: recorded, not applied.
        run.total = run.next_iteration();
        let v = run.verdict(CALM, &[add(Param::TailAgeMs, 10.0)]);
        assert_skip(&v, SkipKind::FinalIteration, "final iteration");
        assert_eq!(v.changed_keys, vec![Param::TailAgeMs]);
        // No-op comes before final iteration.
        assert_skip(
            &run.verdict(CALM, &[]),
            SkipKind::NoOp,
            "no effective change",
        );
    }

    #[test]
    fn priority_order_freeze_first() {
        let mut run = Run::new();
        run.step(CALM, &[add(Param::TailAgeMs, 100.0)]); // starts a cooldown
        let v = run.step(STEADY, &[add(Param::TailAgeMs, -100.0)]); // would be A -> B -> A
        assert!(v.flags.cooldown_active && v.flags.oscillation_detected);
        assert_skip(&v, SkipKind::Oscillation, "state would return");
        let v = run.step(STEADY, &[add(Param::TailAgeMs, -100.0)]);
        assert!(
            v.flags.freeze_triggered && v.flags.cooldown_active && v.flags.oscillation_detected
        );
        assert_skip(&v, SkipKind::Freeze, "4 more iterations after this one");
    }

    #[test]
    fn context_errors() {
        let run = Run::new();
        let mut ctx = GuardContext {
            history: &run.history,
            iteration: 0,
            total_iterations: 5,
            kpis: CALM,
            policy: &run.policy,
            registry: &run.registry,
        };
        let err = evaluate_guards(&ctx, &run.state, &[]).expect_err("iteration 0");
        assert_eq!(err.to_string(), "iteration 0 is outside 1..=5");
        ctx.iteration = 1;
        let op = [DeltaOp::new(Param::TailAgeMs, Delta::Scale(f64::INFINITY))];
        assert!(matches!(
            evaluate_guards(&ctx, &run.state, &op),
            Err(GuardError::NonFinite {
                param: Param::TailAgeMs,
                ..
            })
        ));
        let policy = GuardPolicy {
            cooldown_range_share: f64::NAN,
            ..GuardPolicy::default()
        };
        ctx.policy = &policy;
        let err = evaluate_guards(&ctx, &run.state, &[]).expect_err("nan policy");
        assert_eq!(
            err.to_string(),
            "invalid guard policy: `guards.cooldown_range_share` is NaN, should be a positive number"
        );
        let mut ahead = Run::new();
        ahead.step(CALM, &[]);
        ahead.step(CALM, &[]);
        let ctx = GuardContext {
            history: &ahead.history,
            iteration: 2,
            policy: &run.policy,
            ..ctx
        };
        assert_eq!(
            evaluate_guards(&ctx, &run.state, &[]),
            Err(GuardError::HistoryAhead {
                found: 2,
                current: 2
            })
        );
    }

    #[test]
    fn skip_reason_reads_the_legacy_shape() {
        let legacy = r#"{"cooldown": false, "velocity": true, "oscillation": false, "freeze": false, "no_op": false, "note": "v"}"#;
        let r: SkipReason = serde_json::from_str(legacy).expect("legacy shape");
        assert_eq!(r, SkipReason::new(SkipKind::Velocity, "v"));
        let none = r#"{"cooldown": false, "note": "x"}"#;
        assert!(serde_json::from_str::<SkipReason>(none).is_err());
        for kind in SkipKind::ALL {
            let r = SkipReason::new(kind, "n");
            let back: SkipReason =
                serde_json::from_str(&serde_json::to_string(&r).expect("ser")).expect("de");
            assert_eq!(back, r);
        }
    }

    #[test]
    fn policy_defaults_match_the_issue() {
        let p: GuardPolicy = serde_json::from_str("{}").expect("empty table");
        assert_eq!(p, GuardPolicy::default());
        assert_eq!((p.freeze_risk_ratio_max, p.freeze_net_bps_min), (0.35, 2.7));
        assert_eq!((p.freeze_consecutive_iters, p.freeze_lock_iters), (2, 4));
        assert_eq!(
            (
                p.hard_risk_ratio_max,
                p.hard_net_bps_min,
                p.hard_p95_latency_ms_max
            ),
            (0.5, 2.0, 400.0)
        );
        assert_eq!(
            (p.oscillation_window_iters, p.oscillation_sign_flips),
            (4, 3)
        );
        assert_eq!((p.velocity_window_iters, p.velocity_range_share), (3, 0.5));
        assert_eq!((p.cooldown_range_share, p.cooldown_iters), (0.10, 3));
        assert!(p.validate().is_ok());
        let zero = GuardPolicy {
            velocity_window_iters: 0,
            ..GuardPolicy::default()
        };
        assert!(zero.validate().is_err());
    }

    mod compaction {
        use super::*;
        use proptest::prelude::*;

        fn kpis() -> impl Strategy<Value = GuardKpis> {
            (
                // Mostly steady (a freeze needs runs of steady iterations),
                // sometimes a breach that breaks a lock.
                prop_oneof![4 => Just(0.2), 2 => Just(0.45), 1 => Just(0.6)],
                prop_oneof![1 => Just(None), 1 => Just(Some(1.5)), 5 => Just(Some(3.5))],
                prop_oneof![Just(None), Just(Some(300.0)), Just(Some(450.0))],
            )
                .prop_map(|(risk_ratio, net_bps, p95_latency_ms)| GuardKpis {
                    risk_ratio,
                    maker_taker_ratio: None,
                    net_bps,
                    p95_latency_ms,
                })
        }

        fn ops() -> impl Strategy<Value = Vec<DeltaOp>> {
            prop::collection::vec(
                (
                    prop_oneof![Just(Param::MinIntervalMs), Just(Param::TailAgeMs)],
                    prop_oneof![Just(-40.0), Just(-5.0), Just(5.0), Just(40.0)],
                )
                    .prop_map(|(p, a)| DeltaOp::new(p, Delta::Add(a))),
                0..3,
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
            /// Folding what the guards can no longer see changes no verdict,
            /// whatever the windows, over runs much longer than them.
            #[test]
            fn a_compacted_history_gives_the_same_verdicts(
                steps in prop::collection::vec((kpis(), ops()), 1..60),
                windows in (1u32..6, 1u32..6, 0u32..6, 1u32..4, 0u32..4),
            ) {
                let (osc, vel, cool, consecutive, lock) = windows;
                let policy = GuardPolicy {
                    oscillation_window_iters: osc.max(2),
                    oscillation_sign_flips: 2,
                    velocity_window_iters: vel,
                    cooldown_iters: cool,
                    freeze_consecutive_iters: consecutive,
                    freeze_lock_iters: lock,
                    ..GuardPolicy::default()
                };
                let mut whole = Run::new();
                whole.policy = policy.clone();
                let mut compacted = Run::new();
                compacted.policy = policy.clone();
                for (k, ops) in &steps {
                    let a = whole.step(*k, ops);
                    let b = compacted.step(*k, ops);
                    prop_assert_eq!(a, b);
                    compacted.history.compact(&policy);
                    let kept = compacted.history.iterations.len() as u32;
                    prop_assert!(kept <= osc.max(2).max(vel).max(cool) + 1);
                }
            }
        }
    }
}
