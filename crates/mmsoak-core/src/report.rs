//! The bot's per-iteration report, `EDGE_REPORT.json`, in the format bots
//! already emit.
//!
//! Keys the reader does not use (`symbols`, `component_breakdown`,
//! `cancel_ratio`, ...) are ignored: bots add fields freely and a soak must
//! not break on them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::input::{parse_bytes, read_document, FieldProblem, Fields, InputError};

/// Maker and taker totals: counts and notional volumes.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct FillTotals {
    /// Fills where we provided liquidity.
    pub maker_count: u64,
    /// Fills where we took liquidity.
    pub taker_count: u64,
    /// Notional volume of maker fills.
    pub maker_volume: f64,
    /// Notional volume of taker fills.
    pub taker_volume: f64,
}

/// The legacy internal fill counters (`maker_fills`/`taker_fills`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InternalFills {
    /// Maker fills.
    pub maker_fills: u64,
    /// Taker fills.
    pub taker_fills: u64,
}

/// One block reason: how many order requests it blocked and what share.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BlockReason {
    /// Requests blocked, when reported.
    pub count: Option<u64>,
    /// Share of requests blocked, 0–1 (a report's percentage is normalized).
    pub ratio: f64,
}

/// Block reasons reported by the bot.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BlockReasons {
    /// Blocked by risk limits.
    pub risk: Option<BlockReason>,
    /// Blocked by the minimum requote interval.
    pub min_interval: Option<BlockReason>,
    /// Blocked by the concurrency limit.
    pub concurrency: Option<BlockReason>,
    /// Blocked by the requote-rate throttle.
    pub throttle: Option<BlockReason>,
}

/// Where a net edge came from, in bps of traded notional.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EdgeComponents {
    /// Spread captured.
    pub gross_bps: Option<f64>,
    /// Fees paid (or rebates earned), effective.
    pub fees_eff_bps: Option<f64>,
    /// Slippage.
    pub slippage_bps: Option<f64>,
    /// Adverse selection.
    pub adverse_bps: Option<f64>,
    /// Inventory mark-to-market.
    pub inventory_bps: Option<f64>,
}

/// `totals` of an EDGE_REPORT.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EdgeTotals {
    /// Net edge in bps of traded notional; absent when the bot did not trade.
    pub net_bps: Option<f64>,
    /// Its components.
    #[serde(flatten)]
    pub components: EdgeComponents,
    /// p95 of adverse selection per fill, bps.
    pub adverse_bps_p95: Option<f64>,
    /// p95 of slippage per fill, bps.
    pub slippage_bps_p95: Option<f64>,
    /// p95 of resting order age, ms.
    pub order_age_p95_ms: Option<f64>,
    /// p95 order round-trip latency, ms.
    pub p95_latency_ms: Option<f64>,
    /// The latency floor, ms: the p95 of round trips as they would have been
    /// with nothing else of the bot's in flight (what no concurrency setting
    /// can go below), when the bot reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_floor_ms: Option<f64>,
    /// Fill totals, when reported.
    pub fills: Option<FillTotals>,
    /// Legacy internal counters, when reported.
    pub internal_fills: Option<InternalFills>,
    /// Block reasons.
    pub block_reasons: BlockReasons,
    /// Names of what drove the edge negative.
    pub neg_edge_drivers: Vec<String>,
    /// Profit and loss of the iteration in quote currency (fills at their
    /// prices, fees, the inventory marked to the mid at the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl: Option<f64>,
    /// Notional traded (maker and taker), quote currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traded_notional: Option<f64>,
    /// [`EdgeTotals::pnl`] per hour of the iteration, quote currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pnl_per_hour: Option<f64>,
    /// Markouts: horizon in ms → the mid's move over that horizon after
    /// each fill, from the mid at the fill (before any move it causes), in
    /// the fill's direction, in bps of traded notional (negative: the mid
    /// went against the fills, adverse selection).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub markouts: BTreeMap<u64, f64>,
}

/// `runtime` of an EDGE_REPORT.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportRuntime {
    /// When the report was made.
    pub utc: Option<String>,
    /// Bot version.
    pub version: Option<String>,
}

/// A parsed `EDGE_REPORT.json`.
///
/// ```
/// use mmsoak_core::EdgeReport;
/// let json = br#"{"totals": {"net_bps": 3.1, "p95_latency_ms": 250,
///   "fills": {"maker_count": 80, "taker_count": 20, "maker_volume": 4000, "taker_volume": 1000},
///   "block_reasons": {"risk": {"count": 3, "ratio": 12.5}}}}"#;
/// let r = EdgeReport::parse(json, "EDGE_REPORT.json".as_ref()).unwrap();
/// assert_eq!(r.totals.net_bps, Some(3.1));
/// assert_eq!(r.totals.block_reasons.risk.unwrap().ratio, 0.125); // percent normalized
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EdgeReport {
    /// The totals.
    pub totals: EdgeTotals,
    /// Report metadata.
    pub runtime: Option<ReportRuntime>,
}

impl EdgeReport {
    /// Read a file.
    pub fn from_path(file: &Path) -> Result<Self, InputError> {
        let doc = read_document(file, crate::input::limits::EDGE_REPORT)?;
        Self::from_document(file, &doc)
    }

    /// Parse bytes that came from `file` (named in errors).
    pub fn parse(bytes: &[u8], file: &Path) -> Result<Self, InputError> {
        let doc = parse_bytes(file, bytes)?;
        Self::from_document(file, &doc)
    }

    /// Interpret a parsed document.
    pub fn from_document(file: &Path, doc: &serde_json::Value) -> Result<Self, InputError> {
        let root = Fields::root(file, doc)?;
        let totals = match root.opt_object("totals")? {
            Some(t) => t,
            None => match root.opt_object("total")? {
                Some(t) => t,
                None => return Err(root.error("totals", FieldProblem::Missing)),
            },
        };
        let runtime = match root.opt_object("runtime")? {
            Some(rt) => Some(ReportRuntime {
                utc: rt.opt_str("utc")?.map(str::to_owned),
                version: rt.opt_str("version")?.map(str::to_owned),
            }),
            None => None,
        };
        Ok(EdgeReport {
            totals: read_totals(&totals)?,
            runtime,
        })
    }
}

fn read_totals(t: &Fields<'_>) -> Result<EdgeTotals, InputError> {
    let components = EdgeComponents {
        gross_bps: t.opt_f64("gross_bps")?,
        fees_eff_bps: t.opt_f64("fees_eff_bps")?,
        slippage_bps: t.opt_f64("slippage_bps")?,
        adverse_bps: t.opt_f64("adverse_bps")?,
        inventory_bps: t.opt_f64("inventory_bps")?,
    };
    let (fills, mut internal_fills) = match t.opt_object("fills")? {
        Some(f) => read_fills(&f)?,
        None => (None, None),
    };
    if internal_fills.is_none() {
        internal_fills = read_internal(t)?;
    }
    let block_reasons = match t.opt_object("block_reasons")? {
        Some(b) => BlockReasons {
            risk: read_block(&b, "risk")?,
            min_interval: read_block(&b, "min_interval")?,
            concurrency: read_block(&b, "concurrency")?,
            throttle: read_block(&b, "throttle")?,
        },
        None => BlockReasons::default(),
    };
    Ok(EdgeTotals {
        net_bps: t.opt_f64("net_bps")?,
        components,
        adverse_bps_p95: t.opt_f64("adverse_bps_p95")?,
        slippage_bps_p95: t.opt_f64("slippage_bps_p95")?,
        order_age_p95_ms: t.opt_non_negative("order_age_p95_ms")?,
        p95_latency_ms: t.opt_non_negative("p95_latency_ms")?,
        latency_floor_ms: t.opt_non_negative("latency_floor_ms")?,
        fills,
        internal_fills,
        block_reasons,
        neg_edge_drivers: t.opt_strings("neg_edge_drivers")?.unwrap_or_default(),
        pnl: t.opt_f64("pnl")?,
        traded_notional: t.opt_non_negative("traded_notional")?,
        pnl_per_hour: t.opt_f64("pnl_per_hour")?,
        markouts: read_markouts(t)?,
    })
}

/// `totals.markouts`: `{"<horizon ms>": bps, ...}`.
fn read_markouts(t: &Fields<'_>) -> Result<BTreeMap<u64, f64>, InputError> {
    let Some(m) = t.opt_object("markouts")? else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for key in m.map().keys() {
        // Every value is a number (or null); a key that is not a horizon in
        // whole milliseconds is a bot's own addition, and ignored.
        let bps = m.opt_f64(key)?;
        if let (Ok(horizon), Some(bps)) = (key.parse::<u64>(), bps) {
            out.insert(horizon, bps);
        }
    }
    Ok(out)
}

fn read_fills(f: &Fields<'_>) -> Result<(Option<FillTotals>, Option<InternalFills>), InputError> {
    let maker_count = f.opt_count("maker_count")?;
    let taker_count = f.opt_count("taker_count")?;
    let maker_volume = f.opt_non_negative("maker_volume")?;
    let taker_volume = f.opt_non_negative("taker_volume")?;
    let any = maker_count.is_some()
        || taker_count.is_some()
        || maker_volume.is_some()
        || taker_volume.is_some();
    let totals = any.then(|| FillTotals {
        maker_count: maker_count.unwrap_or(0),
        taker_count: taker_count.unwrap_or(0),
        maker_volume: maker_volume.unwrap_or(0.0),
        taker_volume: taker_volume.unwrap_or(0.0),
    });
    Ok((totals, read_internal(f)?))
}

fn read_internal(f: &Fields<'_>) -> Result<Option<InternalFills>, InputError> {
    let maker = f.opt_count("maker_fills")?;
    let taker = f.opt_count("taker_fills")?;
    Ok((maker.is_some() || taker.is_some()).then(|| InternalFills {
        maker_fills: maker.unwrap_or(0),
        taker_fills: taker.unwrap_or(0),
    }))
}

/// Normalize a reported ratio: values above 1.0 are percentages.
/// Exactly 1.0 is a ratio (100%), not 1%.
pub fn normalize_ratio(value: f64) -> f64 {
    if value > 1.0 {
        value / 100.0
    } else {
        value
    }
}

fn read_block(b: &Fields<'_>, key: &str) -> Result<Option<BlockReason>, InputError> {
    let Some(r) = b.opt_object(key)? else {
        return Ok(None);
    };
    let count = r.opt_count("count")?;
    let ratio = match r.opt_f64("ratio")? {
        Some(v) if !(0.0..=100.0).contains(&v) => {
            return Err(r.error(
                "ratio",
                FieldProblem::OutOfRange {
                    value: v,
                    min: 0.0,
                    max: 100.0,
                },
            ))
        }
        Some(v) => normalize_ratio(v),
        None => 0.0,
    };
    Ok(Some(BlockReason { count, ratio }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<EdgeReport, InputError> {
        EdgeReport::parse(s.as_bytes(), Path::new("iter_3/EDGE_REPORT.json"))
    }

    #[track_caller]
    fn check_err(s: &str, path: &str) {
        let err = parse(s).expect_err("should be rejected");
        assert_eq!(err.field_path(), Some(path), "{err}");
        assert!(
            crate::ErrorChain(&err)
                .to_string()
                .starts_with("iter_3/EDGE_REPORT.json: "),
            "{err}"
        );
    }

    #[test]
    fn reads_the_predecessor_mock_report() {
        let r = parse(
            r#"{"totals": {"net_bps": 2.9, "gross_bps": 5.1, "adverse_bps_p95": 3.3, "slippage_bps_p95": 2.35,
                "order_age_p95_ms": 350, "p95_latency_ms": 315.0, "neg_edge_drivers": ["adverse"],
                "fills": {"maker_count": 550, "taker_count": 450, "maker_volume": 27500, "taker_volume": 22500},
                "block_reasons": {"risk": {"count": 10, "ratio": 0.68}, "min_interval": {"ratio": 1.0},
                                  "concurrency": {"ratio": 0.0}, "throttle": {"count": 1, "ratio": 0.1}},
                "component_breakdown": {"net_bps": 2.9}, "cancel_ratio": 0.4, "maker_share_pct": 90.5},
                "symbols": {}, "runtime": {"utc": "2026-01-01T00:00:00Z", "version": "0.1"}}"#,
        )
        .expect("mock report parses");
        let t = &r.totals;
        assert_eq!(t.net_bps, Some(2.9));
        assert_eq!(t.components.gross_bps, Some(5.1));
        assert_eq!(t.fills.map(|f| f.maker_count), Some(550));
        let br = t.block_reasons;
        assert_eq!(br.risk.map(|b| (b.count, b.ratio)), Some((Some(10), 0.68)));
        assert_eq!(br.min_interval.map(|b| b.ratio), Some(1.0)); // exactly 1.0 is a ratio
        assert_eq!(t.neg_edge_drivers, vec!["adverse".to_owned()]);
        assert_eq!(r.runtime.and_then(|r| r.version), Some("0.1".into()));
    }

    #[test]
    fn percent_normalization_boundaries() {
        let ratio = |v: &str| {
            parse(&format!(
                r#"{{"totals": {{"block_reasons": {{"risk": {{"ratio": {v}}}}}}}}}"#
            ))
            .map(|r| r.totals.block_reasons.risk.map(|b| b.ratio))
        };
        assert_eq!(ratio("1.0").expect("ok"), Some(1.0));
        assert_eq!(ratio("1.5").expect("ok"), Some(0.015));
        assert_eq!(ratio("100").expect("ok"), Some(1.0));
        assert_eq!(ratio("0").expect("ok"), Some(0.0));
        assert!(ratio("100.5").is_err());
        assert!(ratio("-0.1").is_err());
    }

    #[test]
    fn accepts_total_as_alias_and_legacy_counters() {
        let r =
            parse(r#"{"total": {"net_bps": 1, "fills": {"maker_fills": 7, "taker_fills": 3}}}"#)
                .expect("parses");
        assert_eq!(r.totals.fills, None);
        assert_eq!(
            r.totals.internal_fills,
            Some(InternalFills {
                maker_fills: 7,
                taker_fills: 3
            })
        );
    }

    #[test]
    fn bad_input_names_file_and_path() {
        check_err(r#"{"runtime": {}}"#, "totals");
        check_err(r#"{"totals": {"net_bps": NaN}}"#, "totals.net_bps");
        check_err(
            r#"{"totals": {"fills": {"maker_volume": -5}}}"#,
            "totals.fills.maker_volume",
        );
        check_err(
            r#"{"totals": {"fills": {"taker_count": -1}}}"#,
            "totals.fills.taker_count",
        );
        check_err(
            r#"{"totals": {"block_reasons": {"risk": {"ratio": 250}}}}"#,
            "totals.block_reasons.risk.ratio",
        );
        check_err(r#"{"totals": {"net_bps": "3.1"}}"#, "totals.net_bps");
        check_err(
            r#"{"totals": {"neg_edge_drivers": ["a", 3]}}"#,
            "totals.neg_edge_drivers[1]",
        );
        check_err(
            r#"{"totals": {"p95_latency_ms": -1}}"#,
            "totals.p95_latency_ms",
        );
        check_err(r#"{"totals": []}"#, "totals");
        assert!(matches!(
            parse(r#"{"totals": {"net_bps": 1"#),
            Err(InputError::Json { .. })
        ));
    }
}
