//! `POST_SOAK_METRICS.prom`: the gate's figures in the Prometheus text
//! exposition format (one HELP and one TYPE per family, base units; every
//! figure describes a finished run, so every family is a gauge). Every
//! sample carries the run's `driver`, `scenario`, `seed` and `policy_hash`
//! (those `SOAK_RUN.json` records), so that many soaks scraped into one
//! Prometheus stay apart.

use std::fmt::Write;

use mmsoak_verify::stats::round_to;

use crate::gate::{GateReport, GateVerdict, Measure};
use crate::run_meta::RunMeta;
use crate::snapshot::SnapshotVerdict;

struct Family<'a> {
    out: &'a mut String,
    /// The run's labels, `k="v"` joined by commas (may be empty).
    run: String,
}

impl Family<'_> {
    /// A family whose samples have their own labels (`k="v"`, without
    /// braces; empty for none) beside the run's.
    fn family(&mut self, name: &str, help: &str, samples: &[(&str, f64)]) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} gauge");
        for (own, value) in samples {
            let labels = match (self.run.is_empty(), own.is_empty()) {
                (true, true) => String::new(),
                (false, true) => format!("{{{}}}", self.run),
                (true, false) => format!("{{{own}}}"),
                (false, false) => format!("{{{},{own}}}", self.run),
            };
            let _ = writeln!(self.out, "{name}{labels} {value}");
        }
    }
}

/// A label value in the text format: `\`, `"` and newlines escaped.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The run's labels, those `SOAK_RUN.json` has, in name order.
fn run_labels(run: &RunMeta) -> String {
    let seed = run.seed.map(|s| s.to_string());
    [
        ("driver", run.driver.as_deref()),
        ("policy_hash", run.policy_hash.as_deref()),
        ("scenario", run.scenario.as_deref()),
        ("seed", seed.as_deref()),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k}=\"{}\"", label_value(v))))
    .collect::<Vec<_>>()
    .join(",")
}

/// Seconds since the Unix epoch of an RFC 3339 time in UTC or with an
/// offset (`2024-11-01T10:01:00Z`, `...T10:01:00.5+02:00`); `None` when it
/// is not one.
pub(crate) fn unix_seconds(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut frac = 0.0;
    if let Some(after) = rest.strip_prefix('.') {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        frac = format!("0.{}", &after[..digits]).parse().ok()?;
        rest = &after[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let mi: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (h * 3600 + mi * 60)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's days_from_civil).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss - offset) as f64 + frac)
}

/// 0 PASS, 1 WARN, 2 FAIL: one series a dashboard maps to a colour and a word.
fn verdict_code(word: &str) -> f64 {
    match word {
        "PASS" => 0.0,
        "WARN" => 1.0,
        _ => 2.0,
    }
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// Render the gate report as Prometheus text, every sample labelled with
/// `run`'s driver, scenario, seed and policy hash (those it has; a
/// predecessor's directory has none).
pub fn render_prometheus(report: &GateReport, run: &RunMeta) -> String {
    let mut out = String::with_capacity(4096);
    let mut f = Family {
        out: &mut out,
        run: run_labels(run),
    };
    let s = &report.snapshot;
    let k = &s.kpi_last8;
    let d = &report.delta;
    f.family(
        "mmsoak_kpi_risk_ratio_mean",
        "Mean share of order requests blocked by risk limits over the snapshot window.",
        &[("", k.risk_ratio.mean)],
    );
    f.family(
        "mmsoak_kpi_maker_taker_ratio_mean",
        "Mean maker share of fills over the snapshot window.",
        &[("", k.maker_taker_ratio.mean)],
    );
    f.family(
        "mmsoak_kpi_net_bps_mean",
        "Mean net edge over the snapshot window, in basis points of traded notional.",
        &[("", k.net_bps.mean)],
    );
    f.family(
        "mmsoak_kpi_p95_latency_seconds",
        "Mean over the snapshot window of each iteration's p95 order latency, in seconds.",
        &[("", round_to(k.p95_latency_ms.mean / 1000.0, 6))],
    );
    f.family(
        "mmsoak_snapshot_passing_iterations",
        "Iterations of the snapshot window that met every per-iteration KPI threshold.",
        &[("", s.pass_count_last8 as f64)],
    );
    f.family(
        "mmsoak_snapshot_freeze_seen",
        "1 if a freeze was triggered or blocked a step in the snapshot window.",
        &[("", flag(s.freeze_seen))],
    );
    f.family(
        "mmsoak_snapshot_freeze_ready",
        "1 if the run is ready to freeze its parameters (snapshot freeze_ready).",
        &[("", flag(s.freeze_ready))],
    );
    f.family(
        "mmsoak_snapshot_anomalies",
        "KPI anomalies in the snapshot window.",
        &[("", s.anomalies_count as f64)],
    );
    f.family(
        "mmsoak_snapshot_signature_loops",
        "A->B->A returns among the runtime states applied in the snapshot window.",
        &[("", s.signature_loops as f64)],
    );
    let sv = [
        SnapshotVerdict::Pass,
        SnapshotVerdict::Warn,
        SnapshotVerdict::Fail,
    ];
    let labels: Vec<String> = sv
        .iter()
        .map(|v| format!("verdict=\"{}\"", v.as_str()))
        .collect();
    let samples: Vec<(&str, f64)> = sv
        .iter()
        .zip(&labels)
        .map(|(v, l)| (l.as_str(), flag(*v == s.verdict)))
        .collect();
    f.family(
        "mmsoak_snapshot_verdict",
        "1 for the snapshot's verdict, 0 for the others.",
        &samples,
    );
    f.family(
        "mmsoak_snapshot_verdict_code",
        "The snapshot's verdict as one number: 0 PASS, 1 WARN, 2 FAIL.",
        &[("", verdict_code(s.verdict.as_str()))],
    );
    let g = &s.guards_last8;
    f.family(
        "mmsoak_guard_iterations",
        "Iterations of the snapshot window in which each tuning guard was active.",
        &[
            ("guard=\"cooldown\"", g.cooldown_count as f64),
            ("guard=\"freeze\"", g.freeze_events as f64),
            ("guard=\"oscillation\"", g.oscillation_count as f64),
            ("guard=\"velocity\"", g.velocity_count as f64),
        ],
    );
    f.family("mmsoak_delta_full_apply_ratio", "Share of proposing iteration pairs whose changes were applied or correctly held back by a guard.", &[("", d.full_apply_ratio)]);
    f.family(
        "mmsoak_delta_strict_apply_ratio",
        "full_apply / (full_apply + fail) over proposing iteration pairs.",
        &[("", d.strict_apply_ratio)],
    );
    f.family(
        "mmsoak_delta_pairs",
        "Proposing iteration pairs by verification result.",
        &[
            ("result=\"full_apply\"", d.full_apply_count as f64),
            ("result=\"partial_ok\"", d.partial_ok_count as f64),
            ("result=\"fail\"", d.fail_count as f64),
        ],
    );
    f.family(
        "mmsoak_delta_proposed_pairs",
        "Iteration pairs in which the first iteration proposed a change.",
        &[("", d.proposed_count as f64)],
    );
    f.family(
        "mmsoak_delta_signature_stuck_pairs",
        "Pairs marked applied whose state hash did not change.",
        &[("", d.signature_stuck_count as f64)],
    );
    f.family(
        "mmsoak_delta_journal_chain_breaks",
        "Breaks in the APPLY_JOURNAL hash chain.",
        &[("", report.journal_chain_breaks as f64)],
    );
    let labels: Vec<String> = report
        .criteria
        .iter()
        .map(|c| format!("criterion=\"{}\"", c.name))
        .collect();
    let samples: Vec<(&str, f64)> = report
        .criteria
        .iter()
        .zip(&labels)
        .map(|(c, l)| (l.as_str(), flag(c.ok)))
        .collect();
    f.family(
        "mmsoak_gate_criterion_ok",
        "1 if the gate criterion is met, 0 if not.",
        &samples,
    );
    // The targets of the numeric criteria, as the policy set them, so that
    // a dashboard draws the gate's own lines instead of restating them.
    let targets: Vec<(String, f64)> = report
        .criteria
        .iter()
        .filter_map(|c| {
            let target = match c.target {
                Measure::Number(x) => x,
                Measure::Count(n) => n as f64,
                _ => return None,
            };
            // Latency in base units, as mmsoak_kpi_p95_latency_seconds.
            let (name, target) = match c.name.as_str() {
                "kpi.p95_latency_ms_mean" => ("kpi.p95_latency_seconds_mean", target / 1000.0),
                name => (name, target),
            };
            Some((
                format!("criterion=\"{name}\",op=\"{}\"", c.op.as_str()),
                target,
            ))
        })
        .collect();
    let samples: Vec<(&str, f64)> = targets.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    f.family(
        "mmsoak_gate_criterion_target",
        "The policy's target of each numeric gate criterion (op: how the value is compared); latency in seconds.",
        &samples,
    );
    let labels: Vec<String> = GateVerdict::ALL
        .iter()
        .map(|v| format!("verdict=\"{}\"", v.as_str()))
        .collect();
    let samples: Vec<(&str, f64)> = GateVerdict::ALL
        .iter()
        .zip(&labels)
        .map(|(v, l)| (l.as_str(), flag(*v == report.verdict)))
        .collect();
    f.family(
        "mmsoak_gate_verdict",
        "1 for the gate's verdict, 0 for the others.",
        &samples,
    );
    f.family(
        "mmsoak_gate_verdict_code",
        "The gate's verdict as one number: 0 PASS, 1 WARN, 2 FAIL.",
        &[("", verdict_code(report.verdict.as_str()))],
    );
    // When the soak last ran: its last iteration, else SOAK_RUN.json's update.
    let last = s
        .time_range
        .to
        .as_deref()
        .and_then(unix_seconds)
        .or_else(|| run.updated_utc.as_deref().and_then(unix_seconds));
    if let Some(t) = last {
        f.family(
            "mmsoak_soak_last_run_timestamp_seconds",
            "When the soak's last iteration ran (Unix time); a staleness alert reads it.",
            &[("", t)],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_become_unix_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(unix_seconds("2024-11-01T10:01:00Z"), Some(1_730_455_260.0));
        assert_eq!(unix_seconds("2000-02-29T23:59:59Z"), Some(951_868_799.0));
        assert_eq!(
            unix_seconds("2024-11-01T12:01:00.5+02:00"),
            Some(1_730_455_260.5)
        );
        assert_eq!(
            unix_seconds("2024-11-01T05:01:00-05:00"),
            Some(1_730_455_260.0)
        );
        for bad in [
            "",
            "2024-11-01",
            "2024-13-01T00:00:00Z",
            "2024-11-01T10:01:00",
            "x024-11-01T10:01:00Z",
            "2024-11-01T10:01:00.Z",
        ] {
            assert_eq!(unix_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(label_value("a\nb"), r"a\nb");
        let run = RunMeta {
            driver: Some("sim".into()),
            seed: Some(7),
            scenario: Some("de\"fault".into()),
            ..RunMeta::default()
        };
        assert_eq!(
            run_labels(&run),
            r#"driver="sim",scenario="de\"fault",seed="7""#
        );
        assert_eq!(run_labels(&RunMeta::default()), "");
    }
}
