//! The policy lint: regions of KPI space where a gated KPI misses its
//! target and no rule moves a parameter to help it (dead zones).
//!
//! Each rule's condition is a conjunction of clauses `kpi op threshold`,
//! so the region where it fires is a box in KPI space (one interval per
//! KPI). For each gated KPI, the region where it misses is a box too; the
//! rules whose declared aims ([`mmsoak_tuner::Aim`]) push that KPI the
//! helping way cover part of it. What remains (the miss box minus the
//! union of the helpers' boxes, computed exactly as a union of boxes) is
//! where the loop cannot close on that KPI whatever the bot does: a dead
//! zone. For each, the lint names, for every helping rule, the clause
//! that never holds there.
//!
//! The lint reads the conditions only: a rule's memory (the fallback's
//! streak and cooldown) delays it but does not stop it from firing in its
//! region, and whether a move really helps on a given market is the
//! simulator's question (docs/sim.md), not the lint's.

use std::fmt;

use mmsoak_tuner::{ClauseOp, Direction, Kpi, Rule, RuleInputs};

use crate::SoakPolicy;

/// The KPIs the lint's boxes span, in [`Kpi`] order.
const AXES: [Kpi; 6] = [
    Kpi::MakerTakerRatio,
    Kpi::RiskRatio,
    Kpi::NetBps,
    Kpi::P95LatencyMs,
    Kpi::AdverseBpsP95,
    Kpi::SlippageBpsP95,
];

/// Net edge below −100% of notional is taken as impossible: a clause
/// `net_bps >= -10000` is "no precondition on net".
const NET_BPS_FLOOR: f64 = -10_000.0;

/// A clause of a rule's condition: its KPI, where it holds, and how it reads.
type ClauseBox = (Kpi, Interval, String);

fn axis(kpi: Kpi) -> usize {
    AXES.iter().position(|&k| k == kpi).unwrap_or(0)
}

/// An interval of one KPI's values; infinite ends are open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Whether `lo` belongs to it.
    pub lo_closed: bool,
    /// Upper end.
    pub hi: f64,
    /// Whether `hi` belongs to it.
    pub hi_closed: bool,
}

impl Interval {
    const ALL: Interval = Interval {
        lo: f64::NEG_INFINITY,
        lo_closed: false,
        hi: f64::INFINITY,
        hi_closed: false,
    };

    /// The values a KPI can take.
    fn domain(kpi: Kpi) -> Interval {
        match kpi {
            Kpi::MakerTakerRatio | Kpi::RiskRatio => Interval {
                lo: 0.0,
                lo_closed: true,
                hi: 1.0,
                hi_closed: true,
            },
            Kpi::P95LatencyMs => Interval {
                lo: 0.0,
                lo_closed: true,
                ..Interval::ALL
            },
            Kpi::NetBps => Interval {
                lo: NET_BPS_FLOOR,
                lo_closed: true,
                ..Interval::ALL
            },
            Kpi::AdverseBpsP95 | Kpi::SlippageBpsP95 => Interval::ALL,
        }
    }

    /// The values for which `value op threshold` holds.
    fn of_clause(op: ClauseOp, t: f64) -> Interval {
        match op {
            ClauseOp::Below => Interval {
                hi: t,
                ..Interval::ALL
            },
            ClauseOp::AtMost => Interval {
                hi: t,
                hi_closed: true,
                ..Interval::ALL
            },
            ClauseOp::Above => Interval {
                lo: t,
                ..Interval::ALL
            },
            ClauseOp::AtLeast => Interval {
                lo: t,
                lo_closed: true,
                ..Interval::ALL
            },
        }
    }

    fn is_empty(&self) -> bool {
        self.lo > self.hi || (self.lo == self.hi && !(self.lo_closed && self.hi_closed))
    }

    fn intersect(&self, o: &Interval) -> Interval {
        let (lo, lo_closed) = if self.lo > o.lo {
            (self.lo, self.lo_closed)
        } else if o.lo > self.lo {
            (o.lo, o.lo_closed)
        } else {
            (self.lo, self.lo_closed && o.lo_closed)
        };
        let (hi, hi_closed) = if self.hi < o.hi {
            (self.hi, self.hi_closed)
        } else if o.hi < self.hi {
            (o.hi, o.hi_closed)
        } else {
            (self.hi, self.hi_closed && o.hi_closed)
        };
        Interval {
            lo,
            lo_closed: lo_closed && lo.is_finite(),
            hi,
            hi_closed: hi_closed && hi.is_finite(),
        }
    }

    /// The part of `self` below `o`, and the part above it.
    fn outside(&self, o: &Interval) -> [Interval; 2] {
        let below = Interval {
            hi: o.lo,
            hi_closed: !o.lo_closed && o.lo.is_finite(),
            ..Interval::ALL
        };
        let above = Interval {
            lo: o.hi,
            lo_closed: !o.hi_closed && o.hi.is_finite(),
            ..Interval::ALL
        };
        [self.intersect(&below), self.intersect(&above)]
    }

    /// `a` then `b` with nothing between and nothing shared.
    fn joins(a: &Interval, b: &Interval) -> bool {
        a.hi == b.lo && a.hi_closed != b.lo_closed
    }

    fn show(&self, kpi: &str, domain: &Interval) -> Option<String> {
        let lo = (self.lo > domain.lo || self.lo_closed != domain.lo_closed)
            .then(|| format!("{} {} ", self.lo, if self.lo_closed { "<=" } else { "<" }));
        let hi = (self.hi < domain.hi || self.hi_closed != domain.hi_closed)
            .then(|| format!(" {} {}", if self.hi_closed { "<=" } else { "<" }, self.hi));
        (lo.is_some() || hi.is_some())
            .then(|| format!("{}{kpi}{}", lo.unwrap_or_default(), hi.unwrap_or_default()))
    }
}

/// A box of KPI space: one interval per KPI the rules read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region([Interval; 6]);

impl Region {
    fn domain() -> Region {
        Region(AXES.map(Interval::domain))
    }

    fn is_empty(&self) -> bool {
        self.0.iter().any(Interval::is_empty)
    }

    fn intersect(&self, o: &Region) -> Region {
        let mut r = *self;
        for (a, b) in r.0.iter_mut().zip(o.0.iter()) {
            *a = a.intersect(b);
        }
        r
    }

    /// `self` minus `o`, as disjoint boxes.
    fn minus(&self, o: &Region) -> Vec<Region> {
        if self.intersect(o).is_empty() {
            return vec![*self];
        }
        let mut out = Vec::new();
        let mut rest = *self;
        for i in 0..AXES.len() {
            for part in rest.0[i].outside(&o.0[i]) {
                let mut piece = rest;
                piece.0[i] = part;
                if !piece.is_empty() {
                    out.push(piece);
                }
            }
            rest.0[i] = rest.0[i].intersect(&o.0[i]);
        }
        out
    }

    /// The interval of one KPI.
    pub fn interval(&self, kpi: Kpi) -> Interval {
        self.0[axis(kpi)]
    }
}

impl fmt::Display for Region {
    /// The KPIs it constrains, e.g. `0 <= net_bps < 2.7, adverse_bps_p95 <= 3.5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = AXES
            .iter()
            .zip(self.0.iter())
            .filter_map(|(k, i)| i.show(k.key(), &Interval::domain(*k)))
            .collect();
        if parts.is_empty() {
            f.write_str("everywhere")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Merge boxes that differ on one KPI only, where they meet.
fn merge(mut regions: Vec<Region>) -> Vec<Region> {
    loop {
        let mut merged = None;
        'search: for i in 0..regions.len() {
            for j in 0..regions.len() {
                if i == j {
                    continue;
                }
                let (a, b) = (&regions[i], &regions[j]);
                let differ: Vec<usize> = (0..AXES.len()).filter(|&k| a.0[k] != b.0[k]).collect();
                if let [k] = differ[..] {
                    if Interval::joins(&a.0[k], &b.0[k]) {
                        let mut m = *a;
                        m.0[k].hi = b.0[k].hi;
                        m.0[k].hi_closed = b.0[k].hi_closed;
                        merged = Some((i, j, m));
                        break 'search;
                    }
                }
            }
        }
        match merged {
            Some((i, j, m)) => {
                regions[i] = m;
                regions.remove(j);
            }
            None => return regions,
        }
    }
}

/// Why a rule meant to help a KPI does not fire in a dead zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    /// The rule.
    pub rule: Rule,
    /// What keeps it from firing there: the clause of its condition that
    /// never holds in the region (e.g. `net_bps >= 2.7`), or `disabled`.
    pub clause: String,
}

/// A region where a gated KPI misses its target and no rule helps it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadZone {
    /// The gated KPI.
    pub kpi: Kpi,
    /// Which way it misses: `Down` when below a minimum, `Up` when above
    /// a maximum.
    pub miss: Direction,
    /// The gate's target for its window mean.
    pub target: f64,
    /// Where (a box of KPI space).
    pub region: Region,
    /// Each rule meant to help it, and why it does not fire there (empty
    /// when no rule aims at the KPI at all).
    pub blocked: Vec<Blocked>,
}

impl fmt::Display for DeadZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (side, op, verb) = match self.miss {
            Direction::Down => ("below", ">=", "raises"),
            Direction::Up => ("above", "<=", "lowers"),
        };
        writeln!(
            f,
            "dead zone: {} {side} its target (gate: mean {op} {})",
            self.kpi.key(),
            self.target
        )?;
        writeln!(f, "  region: {}", self.region)?;
        if self.blocked.is_empty() {
            write!(f, "  no rule {verb} {}", self.kpi.key())
        } else {
            let lines: Vec<String> = self
                .blocked
                .iter()
                .map(|b| format!("  {} would help; it needs {}", b.rule, b.clause))
                .collect();
            f.write_str(&lines.join("\n"))
        }
    }
}

/// The dead zones of `policy`, gated KPI by gated KPI (none: the loop can
/// act on every miss).
///
/// ```
/// use mmsoak_policy::{lint, SoakPolicy};
/// let zones = lint(&SoakPolicy::seed());
/// // The seed's table: nothing raises net edge between 0 and 2.7 bps.
/// assert!(zones.iter().any(|z| z.kpi.key() == "net_bps"));
/// assert!(lint(&SoakPolicy::default()).is_empty());
/// ```
pub fn lint(policy: &SoakPolicy) -> Vec<DeadZone> {
    let g = &policy.gate;
    let gated = [
        (
            Kpi::MakerTakerRatio,
            Direction::Down,
            g.maker_taker_ratio_mean_min,
        ),
        (Kpi::RiskRatio, Direction::Up, g.risk_ratio_mean_max),
        (Kpi::NetBps, Direction::Down, g.net_bps_mean_min),
        (Kpi::P95LatencyMs, Direction::Up, g.p95_latency_ms_mean_max),
    ];
    let probe = RuleInputs::default();
    let mut zones = Vec::new();
    for (kpi, miss, target) in gated {
        let mut missing = Region::domain();
        let i = axis(kpi);
        let side = match miss {
            Direction::Down => Interval::of_clause(ClauseOp::Below, target),
            Direction::Up => Interval::of_clause(ClauseOp::Above, target),
        };
        missing.0[i] = missing.0[i].intersect(&side);
        if missing.is_empty() {
            continue;
        }
        let helps = match miss {
            Direction::Down => Direction::Up,
            Direction::Up => Direction::Down,
        };
        // The helping rules and the boxes where they fire.
        let helpers: Vec<(Rule, Option<Vec<ClauseBox>>)> = policy
            .tuner
            .rules()
            .into_iter()
            .filter(|r| {
                r.aims()
                    .iter()
                    .any(|a| a.kpi == kpi && a.direction == helps)
            })
            .map(|r| {
                let clauses = r.enabled().then(|| {
                    r.condition(&policy.tuner, &probe)
                        .iter()
                        .filter_map(|c| {
                            let k = AXES.iter().copied().find(|k| k.key() == c.kpi)?;
                            Some((k, Interval::of_clause(c.op, c.threshold), c.requirement()))
                        })
                        .collect()
                });
                (r.rule(), clauses)
            })
            .collect();
        let mut left = vec![missing];
        for (_, clauses) in &helpers {
            let Some(clauses) = clauses else { continue };
            let mut fires = Region::domain();
            for (k, interval, _) in clauses {
                let a = axis(*k);
                fires.0[a] = fires.0[a].intersect(interval);
            }
            left = left.iter().flat_map(|r| r.minus(&fires)).collect();
        }
        for region in merge(left) {
            let blocked = helpers
                .iter()
                .map(|(rule, clauses)| Blocked {
                    rule: *rule,
                    clause: match clauses {
                        None => "to be enabled".to_owned(),
                        Some(clauses) => clauses
                            .iter()
                            .find(|(k, interval, _)| {
                                region.0[axis(*k)].intersect(interval).is_empty()
                            })
                            .map_or_else(|| "(none found)".to_owned(), |c| c.2.clone()),
                    },
                })
                .collect();
            zones.push(DeadZone {
                kpi,
                miss,
                target,
                region,
                blocked,
            });
        }
    }
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(lo: f64, lo_closed: bool, hi: f64, hi_closed: bool) -> Interval {
        Interval {
            lo,
            lo_closed,
            hi,
            hi_closed,
        }
    }

    #[test]
    fn intervals_meet_and_part_at_the_right_ends() {
        let a = iv(0.0, true, 2.7, false);
        assert!(a.intersect(&iv(2.7, true, 5.0, true)).is_empty());
        assert!(!a.intersect(&iv(2.0, false, 5.0, true)).is_empty());
        let [below, above] = a.outside(&iv(1.0, true, 2.0, false));
        assert_eq!(below, iv(0.0, true, 1.0, false));
        assert_eq!(above, iv(2.0, true, 2.7, false));
        assert!(Interval::joins(&below, &iv(1.0, true, 2.0, false)));
    }

    #[test]
    fn a_box_minus_a_box_leaves_exactly_the_rest() {
        let mut whole = Region::domain();
        whole.0[axis(Kpi::NetBps)] = iv(0.0, true, 10.0, false);
        let mut hole = Region::domain();
        hole.0[axis(Kpi::NetBps)] = iv(2.0, true, 3.0, false);
        hole.0[axis(Kpi::RiskRatio)] = iv(0.0, true, 0.4, true);
        let rest = whole.minus(&hole);
        // Every piece is disjoint from the hole and inside the whole.
        for r in &rest {
            assert!(r.intersect(&hole).is_empty(), "{r}");
            assert_eq!(r.intersect(&whole), *r);
        }
        // Points: inside the hole is gone; just outside it is kept.
        let contains = |regions: &[Region], net: f64, risk: f64| {
            regions.iter().any(|r| {
                let n = r.0[axis(Kpi::NetBps)];
                let k = r.0[axis(Kpi::RiskRatio)];
                !n.intersect(&iv(net, true, net, true)).is_empty()
                    && !k.intersect(&iv(risk, true, risk, true)).is_empty()
            })
        };
        assert!(!contains(&rest, 2.5, 0.2));
        assert!(contains(&rest, 2.5, 0.41));
        assert!(contains(&rest, 3.0, 0.2));
        assert!(contains(&rest, 1.99, 0.2));
    }

    #[test]
    fn the_seed_is_flagged_where_nothing_widens_the_spread() {
        let zones = lint(&SoakPolicy::seed());
        let net: Vec<&DeadZone> = zones.iter().filter(|z| z.kpi == Kpi::NetBps).collect();
        assert!(!net.is_empty(), "{zones:?}");
        // Between 0 and 2.7 bps (DRIVER_ADVERSE helps only when adverse p95 > 3.5).
        let shown = net[0].to_string();
        assert!(shown.contains("0 <= net_bps < 2.7"), "{shown}");
        assert!(
            shown.contains("MAKER_BOOST would help; it needs net_bps >= 2.7"),
            "{shown}"
        );
        assert!(
            shown.contains("FALLBACK_CONSERVATIVE would help; it needs net_bps < 0"),
            "{shown}"
        );
        // And maker share below 0.85 while net is below 2.7.
        let maker: Vec<String> = zones
            .iter()
            .filter(|z| z.kpi == Kpi::MakerTakerRatio)
            .map(|z| z.region.to_string())
            .collect();
        assert!(
            maker
                .iter()
                .any(|r| r.contains("maker_taker_ratio < 0.85") && r.contains("net_bps < 2.7")),
            "{maker:?}"
        );
        // Risk and latency have a rule on every side they can miss.
        assert!(zones
            .iter()
            .all(|z| z.kpi != Kpi::RiskRatio && z.kpi != Kpi::P95LatencyMs));
    }

    #[test]
    fn the_default_policy_has_no_dead_zone_and_disabling_a_rule_opens_one() {
        assert_eq!(lint(&SoakPolicy::default()), []);
        let mut p = SoakPolicy::default();
        p.tuner.latency_hard.enabled = false;
        let zones = lint(&p);
        assert_eq!(zones.len(), 1, "{zones:?}");
        assert_eq!(zones[0].region.to_string(), "360 < p95_latency_ms");
        assert!(zones[0]
            .blocked
            .iter()
            .any(|b| b.rule == Rule::LatencyHard && b.clause == "to be enabled"));
    }

    #[test]
    fn a_kpi_no_rule_aims_at_is_dead_wherever_it_misses() {
        let mut p = SoakPolicy::default();
        p.tuner.risk_moderate.enabled = false;
        p.tuner.risk_aggressive.enabled = false;
        let zones = lint(&p);
        let risk: Vec<String> = zones
            .iter()
            .filter(|z| z.kpi == Kpi::RiskRatio)
            .map(|z| z.region.to_string())
            .collect();
        assert_eq!(risk, ["0.42 < risk_ratio"]);
    }
}
