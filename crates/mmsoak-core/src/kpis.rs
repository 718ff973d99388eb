//! [`IterationKpis`]: what one iteration of the bot achieved.

use serde::{Deserialize, Serialize};

use crate::report::{EdgeComponents, EdgeReport, FillTotals};

/// Where a maker/taker ratio came from, best first.
///
/// Serialized exactly as the predecessor spelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MakerTakerSource {
    /// maker_volume / (maker_volume + taker_volume).
    FillsVolume,
    /// maker_count / (maker_count + taker_count).
    FillsCount,
    /// 1 − weekly rollup's median taker share.
    WeeklyRollup,
    /// Legacy internal `maker_fills`/`taker_fills` counters.
    InternalFills,
    /// 0.80, only in mock runs.
    MockDefault,
    /// 0.60 when nothing else is known.
    Fallback,
}

impl MakerTakerSource {
    /// The serialized name, e.g. `"fills_volume"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MakerTakerSource::FillsVolume => "fills_volume",
            MakerTakerSource::FillsCount => "fills_count",
            MakerTakerSource::WeeklyRollup => "weekly_rollup",
            MakerTakerSource::InternalFills => "internal_fills",
            MakerTakerSource::MockDefault => "mock_default",
            MakerTakerSource::Fallback => "fallback",
        }
    }
}

/// A maker share with the source it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MakerTaker {
    /// Maker share, 0–1.
    pub ratio: f64,
    /// Where it came from.
    pub source: MakerTakerSource,
}

/// The KPIs of one iteration, as the tuner, guards and gate see them.
///
/// Serializes with the predecessor's `ITER_SUMMARY.summary` key names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IterationKpis {
    /// Maker share of fills.
    pub maker_taker_ratio: f64,
    /// Where [`Self::maker_taker_ratio`] came from.
    pub maker_taker_source: MakerTakerSource,
    /// Share of order requests blocked by risk limits, 0–1.
    pub risk_ratio: f64,
    /// Net edge, bps; `None` when the bot did not report one.
    pub net_bps: Option<f64>,
    /// Components of the net edge.
    #[serde(flatten)]
    pub edge: EdgeComponents,
    /// p95 order latency, ms.
    pub p95_latency_ms: Option<f64>,
    /// The latency floor, ms (p95 of round trips as if sent alone), when
    /// the bot reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_floor_ms: Option<f64>,
    /// p95 adverse selection, bps (falls back to the mean when absent).
    pub adverse_bps_p95: Option<f64>,
    /// p95 slippage, bps (falls back to the mean when absent).
    pub slippage_bps_p95: Option<f64>,
    /// p95 resting order age, ms.
    pub order_age_p95_ms: Option<f64>,
    /// Share of requests blocked by min_interval, 0–1.
    pub min_interval_ratio: f64,
    /// Share of requests blocked by the concurrency limit, 0–1.
    pub concurrency_ratio: f64,
    /// What drove the edge negative.
    pub neg_edge_drivers: Vec<String>,
    /// Fill totals (from the fill log when there was one, else the report).
    pub fills: Option<FillTotals>,
    /// The iteration's PnL, quote currency, when the bot reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl: Option<f64>,
    /// Notional traded, quote currency, when the bot reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traded_notional: Option<f64>,
    /// PnL per hour, quote currency, when the bot reported it: a net edge
    /// that rises while this falls is bought by trading less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl_per_hour: Option<f64>,
    /// Markouts by horizon (ms → bps), when the bot reported them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub markouts: std::collections::BTreeMap<u64, f64>,
}

impl IterationKpis {
    /// Summarize a report. `fill_log` (totals of the iteration's fill log)
    /// takes priority over the report's own counters; `maker_taker` is the
    /// resolved maker share (see the `mmsoak-ratio` crate).
    ///
    /// ```
    /// use mmsoak_core::{EdgeReport, IterationKpis, MakerTaker, MakerTakerSource};
    /// let r = EdgeReport::parse(br#"{"totals": {"net_bps": 2.8, "adverse_bps": 1.2,
    ///     "block_reasons": {"risk": {"ratio": 0.3}}}}"#, "EDGE_REPORT.json".as_ref()).unwrap();
    /// let k = IterationKpis::summarize(&r, None, MakerTaker { ratio: 0.6, source: MakerTakerSource::Fallback });
    /// assert_eq!((k.risk_ratio, k.net_bps, k.adverse_bps_p95), (0.3, Some(2.8), Some(1.2)));
    /// ```
    pub fn summarize(
        report: &EdgeReport,
        fill_log: Option<&FillTotals>,
        maker_taker: MakerTaker,
    ) -> Self {
        let t = &report.totals;
        let ratio = |b: Option<crate::report::BlockReason>| b.map_or(0.0, |b| b.ratio);
        IterationKpis {
            maker_taker_ratio: maker_taker.ratio,
            maker_taker_source: maker_taker.source,
            risk_ratio: ratio(t.block_reasons.risk),
            net_bps: t.net_bps,
            edge: t.components,
            p95_latency_ms: t.p95_latency_ms,
            latency_floor_ms: t.latency_floor_ms,
            adverse_bps_p95: t.adverse_bps_p95.or(t.components.adverse_bps),
            slippage_bps_p95: t.slippage_bps_p95.or(t.components.slippage_bps),
            order_age_p95_ms: t.order_age_p95_ms,
            min_interval_ratio: ratio(t.block_reasons.min_interval),
            concurrency_ratio: ratio(t.block_reasons.concurrency),
            neg_edge_drivers: t.neg_edge_drivers.clone(),
            fills: fill_log.copied().or(t.fills),
            pnl: t.pnl,
            traded_notional: t.traded_notional,
            pnl_per_hour: t.pnl_per_hour,
            markouts: t.markouts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_are_the_legacy_spellings() {
        use MakerTakerSource::*;
        for (s, name) in [
            (FillsVolume, "fills_volume"),
            (FillsCount, "fills_count"),
            (WeeklyRollup, "weekly_rollup"),
            (InternalFills, "internal_fills"),
            (MockDefault, "mock_default"),
            (Fallback, "fallback"),
        ] {
            assert_eq!(s.as_str(), name);
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(name))
            );
        }
    }

    #[test]
    fn fill_log_overrides_report_counters() {
        let r = EdgeReport::parse(
            br#"{"totals": {"fills": {"maker_count": 1, "taker_count": 1}}}"#,
            "r.json".as_ref(),
        )
        .expect("parses");
        let log = FillTotals {
            maker_count: 9,
            taker_count: 1,
            maker_volume: 90.0,
            taker_volume: 10.0,
        };
        let mt = MakerTaker {
            ratio: 0.9,
            source: MakerTakerSource::FillsVolume,
        };
        assert_eq!(
            IterationKpis::summarize(&r, Some(&log), mt).fills,
            Some(log)
        );
        assert_eq!(
            IterationKpis::summarize(&r, None, mt)
                .fills
                .map(|f| f.maker_count),
            Some(1)
        );
    }

    #[test]
    fn serializes_with_legacy_summary_keys() {
        let k = IterationKpis::summarize(
            &EdgeReport::default(),
            None,
            MakerTaker {
                ratio: 0.6,
                source: MakerTakerSource::Fallback,
            },
        );
        let v = serde_json::to_value(&k).expect("serialize");
        for key in [
            "maker_taker_ratio",
            "maker_taker_source",
            "risk_ratio",
            "net_bps",
            "gross_bps",
            "fees_eff_bps",
            "slippage_bps",
            "adverse_bps",
            "inventory_bps",
            "p95_latency_ms",
            "adverse_bps_p95",
            "slippage_bps_p95",
            "order_age_p95_ms",
            "min_interval_ratio",
            "concurrency_ratio",
            "neg_edge_drivers",
            "fills",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        let back: IterationKpis = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, k);
    }
}
