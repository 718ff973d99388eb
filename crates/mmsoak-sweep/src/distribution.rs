//! The per-KPI distributions of `SWEEP_REPORT.html`: for each gated KPI, a
//! row per cell with one dot per seed's window mean, its p10–p90 range and
//! median, against the gate's target (the side that fails is shaded).

use std::fmt::Write as _;

use crate::report::{esc, CellReport};

/// The KPIs drawn, in the order of the page's table.
const KPIS: [&str; 4] = [
    "maker_taker_ratio",
    "risk_ratio",
    "net_bps",
    "p95_latency_ms",
];

/// Width of the plot area and of the labels on its left, pixels.
const PLOT_W: f64 = 520.0;
const LABEL_W: f64 = 200.0;
/// Height of a cell's row, and of the axis under the rows.
const ROW_H: f64 = 24.0;
const AXIS_H: f64 = 34.0;

/// A number as the page shows it: fewer decimals for larger values.
fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// The range the axis spans: every value and the target, padded by 5% on
/// each side (a unit around a single value).
fn axis_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|x| x.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, x| {
            Some(acc.map_or((x, x), |(lo, hi)| (lo.min(x), hi.max(x))))
        })?;
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    Some((lo - pad, hi + pad))
}

/// Append a section with one SVG per KPI that some cell has values for.
pub(crate) fn write_distributions(s: &mut String, cells: &[CellReport]) {
    s.push_str("<h2>KPI distributions (each seed's window mean; bar p10–p90, tick median; dashed: the gate's target, shaded: its failing side)</h2>\n");
    for kpi in KPIS {
        let target = cells.iter().find_map(|c| c.targets.get(kpi));
        let values = cells
            .iter()
            .filter_map(|c| c.window_means.get(kpi))
            .flatten()
            .copied()
            .chain(target.map(|t| t.value));
        let Some((lo, hi)) = axis_range(values) else {
            continue;
        };
        let x = |v: f64| LABEL_W + (v - lo) / (hi - lo) * PLOT_W;
        let rows_h = ROW_H * cells.len() as f64;
        let _ = write!(
            s,
            "<h3><code>{kpi}</code></h3><svg width=\"{}\" height=\"{}\" role=\"img\" aria-label=\"{kpi} over the seeds\" data-kpi=\"{kpi}\">",
            LABEL_W + PLOT_W + 20.0,
            rows_h + AXIS_H
        );
        if let Some(t) = target {
            let tx = x(t.value);
            // The failing side: below an at-least target, above an at-most one.
            let (from, to) = if t.op == ">=" {
                (LABEL_W, tx)
            } else {
                (tx, LABEL_W + PLOT_W)
            };
            let _ = write!(
                s,
                "<rect x=\"{from:.1}\" y=\"0\" width=\"{:.1}\" height=\"{rows_h:.1}\" fill=\"#d33\" fill-opacity=\"0.08\"/>\
                 <line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"0\" y2=\"{rows_h:.1}\" stroke=\"#d33\" stroke-dasharray=\"4 3\" data-target=\"{} {}\"/>",
                (to - from).max(0.0),
                esc(&t.op),
                t.value
            );
        }
        for (i, c) in cells.iter().enumerate() {
            let y = i as f64 * ROW_H + ROW_H / 2.0;
            let _ = write!(
                s,
                "<text x=\"0\" y=\"{:.1}\" fill=\"currentColor\">{} / {}</text>",
                y + 5.0,
                esc(&c.scenario),
                esc(&c.policy)
            );
            if let Some(spread) = c.kpis.get(kpi) {
                let _ = write!(
                    s,
                    "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#4a7ac7\" stroke-opacity=\"0.35\" stroke-width=\"8\"/>\
                     <line x1=\"{m:.1}\" x2=\"{m:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"currentColor\" stroke-width=\"2\"/>",
                    x(spread.p10),
                    x(spread.p90),
                    y - 7.0,
                    y + 7.0,
                    m = x(spread.median)
                );
            }
            for &v in c.window_means.get(kpi).into_iter().flatten() {
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#4a7ac7\" fill-opacity=\"0.6\" data-value=\"{v}\"/>",
                    x(v)
                );
            }
        }
        // The axis: both ends, the middle, and the target.
        let base = rows_h + 4.0;
        let _ = write!(
            s,
            "<line x1=\"{LABEL_W}\" x2=\"{:.1}\" y1=\"{base:.1}\" y2=\"{base:.1}\" stroke=\"currentColor\"/>",
            LABEL_W + PLOT_W
        );
        let mut ticks = vec![(lo, "start"), ((lo + hi) / 2.0, "middle"), (hi, "end")];
        if let Some(t) = target {
            ticks.push((t.value, "middle"));
        }
        for (v, anchor) in ticks {
            let is_target = target.is_some_and(|t| t.value == v);
            let label = match target {
                Some(t) if is_target => format!("gate {} {}", esc(&t.op), num(v)),
                _ => num(v),
            };
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" fill=\"{}\" font-size=\"12\">{label}</text>",
                x(v),
                base + if is_target { 28.0 } else { 15.0 },
                if is_target { "#d33" } else { "currentColor" }
            );
        }
        s.push_str("</svg>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_spans_every_value_and_the_target_with_a_margin() {
        assert_eq!(axis_range([1.0, 3.0, 2.0].into_iter()), Some((0.9, 3.1)));
        assert_eq!(axis_range([2.0].into_iter()), Some((1.5, 2.5)));
        assert_eq!(axis_range([f64::NAN].into_iter()), None);
        assert_eq!(axis_range(std::iter::empty()), None);
    }

    #[test]
    fn numbers_keep_the_decimals_that_matter() {
        assert_eq!(num(338.4), "338");
        assert_eq!(num(2.7), "2.70");
        assert_eq!(num(0.4213), "0.421");
        assert_eq!(num(-1.25), "-1.25");
    }
}
