//! Maker/taker sourcing for mmsoak.
//!
//! A soak needs one number, the maker share of the bot's fills, and it must
//! say where the number came from. [`resolve`] picks the best available
//! source, in this order (first that applies wins):
//!
//! 1. `fills_volume`: maker_volume / (maker_volume + taker_volume), total > 0;
//! 2. `fills_count`: maker_count / (maker_count + taker_count), total > 0;
//! 3. `weekly_rollup`: 1 − taker_share_pct.median / 100, clamped to 0–1;
//! 4. `internal_fills`: the legacy `maker_fills`/`taker_fills` counters;
//! 5. `mock_default` = 0.80, only in a mock run;
//! 6. `fallback` = 0.60.
//!
//! Fill totals come from the iteration's fill log when there is one with at
//! least one fill ([`read_fill_log`], streaming JSONL or CSV, constant
//! memory), else from the report's own counters: an empty log says nothing
//! about the maker share, and must not turn a report's 1,000 fills into the
//! `fallback` constant.
//!
//! ```
//! use mmsoak_core::{EdgeReport, MakerTakerSource};
//! use mmsoak_ratio::{read_jsonl, resolve, MakerTakerInputs};
//!
//! let log = "{\"is_maker\": true, \"price\": 100.0, \"qty\": 3}\n{\"liquidity\": \"T\", \"price\": 100.0, \"qty\": 1}\n";
//! let stats = read_jsonl(log.as_bytes(), "fills.jsonl".as_ref())?;
//! let report = EdgeReport::parse(br#"{"totals": {"net_bps": 3.0}}"#, "EDGE_REPORT.json".as_ref())?;
//! let inputs = MakerTakerInputs::from_report(&report).with_fill_log(&stats);
//! let mt = resolve(&inputs);
//! assert_eq!((mt.ratio, mt.source), (0.75, MakerTakerSource::FillsVolume));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod fill_log;
mod rollup;

pub use fill_log::{read_csv, read_fill_log, read_jsonl, FillLogError, FillLogFormat, FillStats};
pub use mmsoak_core::{MakerTaker, MakerTakerSource};
pub use rollup::WeeklyRollup;

use mmsoak_core::{EdgeReport, FillTotals, InternalFills};

/// Maker share assumed in mock runs when nothing better is known.
pub const MOCK_DEFAULT_RATIO: f64 = 0.80;
/// Maker share assumed when nothing at all is known.
pub const FALLBACK_RATIO: f64 = 0.60;

/// Everything the maker share may be computed from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MakerTakerInputs {
    /// Fill totals: the fill log's when there is one, else the report's.
    pub fills: Option<FillTotals>,
    /// The weekly rollup, when one is given.
    pub weekly_rollup: Option<WeeklyRollup>,
    /// Legacy internal counters.
    pub internal_fills: Option<InternalFills>,
    /// Whether this is a mock run (enables `mock_default`).
    pub mock_run: bool,
}

impl MakerTakerInputs {
    /// The inputs a report carries (its fill totals and legacy counters).
    pub fn from_report(report: &EdgeReport) -> Self {
        MakerTakerInputs {
            fills: report.totals.fills,
            internal_fills: report.totals.internal_fills,
            ..Self::default()
        }
    }

    /// Use a fill log's totals; they take priority over the report's
    /// counters, unless the log holds no fill at all (then it is ignored).
    pub fn with_fill_log(mut self, stats: &FillStats) -> Self {
        if has_fills(stats) {
            self.fills = Some(stats.totals);
        }
        self
    }

    /// Add a weekly rollup.
    pub fn with_weekly_rollup(mut self, rollup: WeeklyRollup) -> Self {
        self.weekly_rollup = Some(rollup);
        self
    }

    /// Mark the run as a mock run.
    pub fn mock(mut self, mock_run: bool) -> Self {
        self.mock_run = mock_run;
        self
    }
}

/// Whether a fill log holds at least one fill.
fn has_fills(stats: &FillStats) -> bool {
    stats.totals.maker_count + stats.totals.taker_count > 0
}

/// Pick the maker share from the best available source.
///
/// ```
/// use mmsoak_core::{FillTotals, MakerTakerSource};
/// use mmsoak_ratio::{resolve, MakerTakerInputs};
///
/// // Zero volume falls through to counts.
/// let fills = FillTotals { maker_count: 3, taker_count: 1, maker_volume: 0.0, taker_volume: 0.0 };
/// let mt = resolve(&MakerTakerInputs { fills: Some(fills), ..Default::default() });
/// assert_eq!((mt.ratio, mt.source), (0.75, MakerTakerSource::FillsCount));
///
/// // Nothing known at all.
/// assert_eq!(resolve(&MakerTakerInputs::default()).source, MakerTakerSource::Fallback);
/// ```
pub fn resolve(inputs: &MakerTakerInputs) -> MakerTaker {
    let share = |maker: f64, taker: f64| {
        let total = maker + taker;
        (total > 0.0).then(|| maker / total)
    };
    let pick = |ratio, source| MakerTaker { ratio, source };
    if let Some(f) = inputs.fills {
        if let Some(r) = share(f.maker_volume, f.taker_volume) {
            return pick(r, MakerTakerSource::FillsVolume);
        }
        if let Some(r) = share(f.maker_count as f64, f.taker_count as f64) {
            return pick(r, MakerTakerSource::FillsCount);
        }
    }
    if let Some(w) = inputs.weekly_rollup {
        return pick(w.maker_share(), MakerTakerSource::WeeklyRollup);
    }
    if let Some(i) = inputs.internal_fills {
        if let Some(r) = share(i.maker_fills as f64, i.taker_fills as f64) {
            return pick(r, MakerTakerSource::InternalFills);
        }
    }
    if inputs.mock_run {
        return pick(MOCK_DEFAULT_RATIO, MakerTakerSource::MockDefault);
    }
    pick(FALLBACK_RATIO, MakerTakerSource::Fallback)
}

/// One iteration's KPIs from its report and, when there is one, its fill
/// log (whose totals take priority over the report's counters unless it
/// holds no fill), with the maker/taker ratio resolved as [`resolve`] does.
///
/// ```
/// use mmsoak_core::EdgeReport;
/// let report = EdgeReport::parse(
///     br#"{"totals": {"net_bps": 3.1, "fills": {"maker_count": 3, "taker_count": 1}}}"#,
///     "EDGE_REPORT.json".as_ref(),
/// ).unwrap();
/// let kpis = mmsoak_ratio::summarize(&report, None, false);
/// assert_eq!(kpis.maker_taker_ratio, 0.75);
/// assert_eq!(kpis.net_bps, Some(3.1));
/// ```
pub fn summarize(
    report: &EdgeReport,
    fill_log: Option<&FillStats>,
    mock_run: bool,
) -> mmsoak_core::IterationKpis {
    let fill_log = fill_log.filter(|s| has_fills(s));
    let mut inputs = MakerTakerInputs::from_report(report).mock(mock_run);
    if let Some(stats) = fill_log {
        inputs = inputs.with_fill_log(stats);
    }
    mmsoak_core::IterationKpis::summarize(report, fill_log.map(|s| &s.totals), resolve(&inputs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fills(mc: u64, tc: u64, mv: f64, tv: f64) -> Option<FillTotals> {
        Some(FillTotals {
            maker_count: mc,
            taker_count: tc,
            maker_volume: mv,
            taker_volume: tv,
        })
    }

    #[track_caller]
    fn check(inputs: MakerTakerInputs, expect: (f64, MakerTakerSource)) {
        let mt = resolve(&inputs);
        assert_eq!((mt.ratio, mt.source), expect);
    }

    #[test]
    fn priority_order_and_zero_totals() {
        use MakerTakerSource::{Fallback, FillsCount, FillsVolume, MockDefault};
        let rollup = Some(WeeklyRollup {
            taker_share_pct_median: 20.0,
        });
        let internal = Some(InternalFills {
            maker_fills: 1,
            taker_fills: 3,
        });
        let all = MakerTakerInputs {
            fills: fills(1, 1, 30.0, 10.0),
            weekly_rollup: rollup,
            internal_fills: internal,
            mock_run: true,
        };
        check(all, (0.75, FillsVolume));
        // volume total exactly 0 -> counts
        check(
            MakerTakerInputs {
                fills: fills(1, 1, 0.0, 0.0),
                ..all
            },
            (0.5, FillsCount),
        );
        // counts total 0 too -> rollup
        check(
            MakerTakerInputs {
                fills: fills(0, 0, 0.0, 0.0),
                ..all
            },
            (0.8, MakerTakerSource::WeeklyRollup),
        );
        check(
            MakerTakerInputs {
                fills: None,
                weekly_rollup: None,
                ..all
            },
            (0.25, MakerTakerSource::InternalFills),
        );
        let zero_internal = Some(InternalFills {
            maker_fills: 0,
            taker_fills: 0,
        });
        check(
            MakerTakerInputs {
                fills: None,
                weekly_rollup: None,
                internal_fills: zero_internal,
                mock_run: true,
            },
            (0.80, MockDefault),
        );
        check(
            MakerTakerInputs {
                mock_run: false,
                ..MakerTakerInputs::default()
            },
            (0.60, Fallback),
        );
        // all-maker and all-taker volume are real answers, not "unknown"
        check(
            MakerTakerInputs {
                fills: fills(0, 0, 5.0, 0.0),
                ..Default::default()
            },
            (1.0, FillsVolume),
        );
        check(
            MakerTakerInputs {
                fills: fills(0, 0, 0.0, 5.0),
                ..Default::default()
            },
            (0.0, FillsVolume),
        );
    }

    /// An empty fill log is ignored: the report's counters give the share
    /// and the summary's fills; a log with fills wins over them.
    #[test]
    fn an_empty_fill_log_leaves_the_reports_counters() {
        let report = EdgeReport::parse(
            br#"{"totals": {"fills": {"maker_count": 9, "taker_count": 1, "maker_volume": 900, "taker_volume": 100}}}"#,
            "EDGE_REPORT.json".as_ref(),
        )
        .expect("report");
        let empty = read_jsonl(&b""[..], "fills.jsonl".as_ref()).expect("empty log");
        let kpis = summarize(&report, Some(&empty), false);
        assert_eq!(
            (kpis.maker_taker_ratio, kpis.maker_taker_source),
            (0.9, MakerTakerSource::FillsVolume)
        );
        assert_eq!(kpis.fills.map(|f| f.maker_count), Some(9));
        let inputs = MakerTakerInputs::from_report(&report).with_fill_log(&empty);
        assert_eq!(resolve(&inputs).ratio, 0.9);

        let log = read_jsonl(
            &b"{\"is_maker\": true, \"price\": 1, \"qty\": 1}\n{\"is_maker\": false, \"price\": 1, \"qty\": 1}\n"[..],
            "fills.jsonl".as_ref(),
        )
        .expect("log");
        let kpis = summarize(&report, Some(&log), false);
        assert_eq!(kpis.maker_taker_ratio, 0.5);
        assert_eq!(kpis.fills.map(|f| f.maker_count), Some(1));
    }

    #[test]
    fn rollup_is_clamped() {
        use MakerTakerSource::WeeklyRollup as W;
        let with = |pct| MakerTakerInputs {
            weekly_rollup: Some(WeeklyRollup {
                taker_share_pct_median: pct,
            }),
            ..Default::default()
        };
        check(with(0.0), (1.0, W));
        check(with(100.0), (0.0, W));
        check(with(150.0), (0.0, W));
        check(with(-10.0), (1.0, W));
        check(with(15.0), (0.85, W));
    }

    proptest! {
        #[test]
        fn ratio_always_in_unit_interval(mc in 0u64..1_000_000, tc in 0u64..1_000_000,
                                         mv in 0.0f64..1e12, tv in 0.0f64..1e12,
                                         pct in -1e3f64..1e3, mock in any::<bool>()) {
            let inputs = MakerTakerInputs {
                fills: fills(mc, tc, mv, tv),
                weekly_rollup: Some(WeeklyRollup { taker_share_pct_median: pct }),
                internal_fills: None,
                mock_run: mock,
            };
            let mt = resolve(&inputs);
            prop_assert!((0.0..=1.0).contains(&mt.ratio), "{:?}", mt);
        }
    }
}
