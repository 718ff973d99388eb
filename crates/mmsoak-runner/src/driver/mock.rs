//! The scripted mock driver: a fixed KPI sequence that ignores the parameters.

use serde_json::json;

use super::{
    collect_output, write_output, Driver, DriverError, IterationInput, IterationOutput,
    EDGE_REPORT_FILE,
};

/// A deterministic scripted bot shaped like the predecessor's mock.
///
/// It **ignores the runtime overrides**: it exists to test the pipeline
/// (summarize → propose → apply → verify → gate), not a bot. The sequence,
/// with n = iteration − 1:
///
/// * iterations 1–2: negative net edge (−1.5, −0.8 bps) with high adverse and
///   slippage p95;
/// * from iteration 3: net_bps = 2.8 + 0.1·n; maker share
///   min(0.85, 0.50 + 0.05·n) from 1,000 fills of 50 notional each; p95
///   latency max(180, 320 − 5·n) ms; risk ratio max(0.30, 0.68 · 0.83^(n−2));
///   adverse p95 max(1.5, 3.5 − 0.2·n); slippage p95 max(1.0, 2.5 − 0.15·n).
#[derive(Debug, Clone, Default)]
pub struct MockDriver;

impl MockDriver {
    /// The report of iteration `i` (1-based), as JSON.
    pub fn report_json(i: u32) -> serde_json::Value {
        let n = f64::from(i.saturating_sub(1));
        let (net, risk, maker_share, p95, adverse, slippage, drivers) = match i {
            0 | 1 => (
                -1.5,
                0.17,
                0.50,
                250.0,
                4.2,
                3.1,
                vec!["adverse", "slippage"],
            ),
            2 => (
                -0.8,
                0.33,
                0.60,
                280.0,
                3.8,
                2.8,
                vec!["adverse", "slippage"],
            ),
            _ => (
                2.8 + 0.1 * n,
                (0.68 * 0.83f64.powf(n - 2.0)).max(0.30),
                (0.50 + 0.05 * n).min(0.85),
                (320.0 - 5.0 * n).max(180.0),
                (3.5 - 0.2 * n).max(1.5),
                (2.5 - 0.15 * n).max(1.0),
                vec![],
            ),
        };
        let r = |x: f64| (x * 1e6).round() / 1e6;
        let maker_count = (1000.0 * maker_share).round() as u64;
        let taker_count = 1000 - maker_count;
        json!({
            "totals": {
                "net_bps": r(net),
                "gross_bps": r(net + 2.0),
                "fees_eff_bps": -0.5,
                "slippage_bps": r(slippage / 2.0),
                "adverse_bps": r(adverse / 2.0),
                "inventory_bps": 0.1,
                "adverse_bps_p95": r(adverse),
                "slippage_bps_p95": r(slippage),
                "order_age_p95_ms": 350.0,
                "p95_latency_ms": r(p95),
                "fills": {
                    "maker_count": maker_count,
                    "taker_count": taker_count,
                    "maker_volume": maker_count as f64 * 50.0,
                    "taker_volume": taker_count as f64 * 50.0,
                },
                "block_reasons": {
                    "risk": {"count": (r(risk) * 1000.0).round() as u64, "ratio": r(risk)},
                    "min_interval": {"count": 0, "ratio": 0.0},
                    "concurrency": {"count": 0, "ratio": 0.0},
                },
                "neg_edge_drivers": drivers,
            },
            "runtime": {"utc": null, "version": "mmsoak-mock"},
        })
    }
}

impl Driver for MockDriver {
    fn name(&self) -> &'static str {
        "mock"
    }

    fn is_mock(&self) -> bool {
        true
    }

    fn run_iteration(
        &mut self,
        input: &IterationInput<'_>,
    ) -> Result<IterationOutput, DriverError> {
        let mut bytes =
            serde_json::to_vec_pretty(&Self::report_json(input.iteration)).unwrap_or_default();
        bytes.push(b'\n');
        write_output(input.iteration, input.out_dir, EDGE_REPORT_FILE, &bytes)?;
        // Read it back through the same reader a real bot's report goes through.
        collect_output(input.iteration, input.out_dir, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsoak_core::RuntimeOverrides;

    #[test]
    fn sequence_has_the_documented_shape() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ov = RuntimeOverrides::new();
        let mut d = MockDriver;
        let mut reports = Vec::new();
        for i in 1..=24 {
            let out = dir.path().join(format!("iter_{i}"));
            std::fs::create_dir_all(&out).expect("mkdir");
            let input = IterationInput {
                iteration: i,
                overrides: &ov,
                overrides_path: &dir.path().join("x"),
                out_dir: &out,
                stop: &Default::default(),
            };
            reports.push(
                d.run_iteration(&input)
                    .expect("mock iteration")
                    .report
                    .totals,
            );
        }
        assert!(reports[0].net_bps < Some(0.0) && reports[1].net_bps < Some(0.0));
        assert!(reports[2..].iter().all(|t| t.net_bps >= Some(2.9)));
        let share = |t: &mmsoak_core::EdgeTotals| {
            t.fills
                .map(|f| f.maker_volume / (f.maker_volume + f.taker_volume))
        };
        assert_eq!(share(&reports[0]), Some(0.5));
        assert_eq!(share(&reports[23]), Some(0.85));
        assert_eq!(reports[2].p95_latency_ms, Some(310.0));
        assert_eq!(reports[23].p95_latency_ms, Some(205.0));
        assert_eq!(reports[2].block_reasons.risk.map(|b| b.ratio), Some(0.68));
        assert_eq!(reports[23].block_reasons.risk.map(|b| b.ratio), Some(0.30));
        // Deterministic: the same iteration gives the same bytes.
        assert_eq!(MockDriver::report_json(7), MockDriver::report_json(7));
    }
}
