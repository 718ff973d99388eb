//! Small inline SVG charts for the soak report: one series over iterations,
//! with an optional target line, bounds band, shaded window and markers.
//!
//! Colours come from CSS classes (`.ok`, `.bad`, `.series`, ...) that the
//! report's stylesheet defines for light and dark mode; the SVG itself holds
//! no colour, so one chart reads in both.

use std::fmt::Write as _;

/// One point of a series: iteration (1-based) and value, `None` when absent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub iteration: u64,
    pub value: Option<f64>,
    /// Whether the point meets its per-iteration threshold (colours the dot).
    pub ok: Option<bool>,
}

/// A marker drawn at an iteration (an applied change, a skipped proposal).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mark {
    pub iteration: u64,
    pub value: f64,
    /// CSS class, e.g. `applied` or `skip-cooldown`.
    pub class: String,
    /// Tooltip.
    pub title: String,
}

/// What a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart<'a> {
    /// `data-chart` attribute, e.g. `kpi-net_bps`.
    pub id: &'a str,
    pub title: &'a str,
    pub width: f64,
    pub height: f64,
    pub points: &'a [Point],
    /// A horizontal target line and its label (`>= 2.7`).
    pub target: Option<(f64, String)>,
    /// A band of allowed values (parameter bounds).
    pub bounds: Option<(f64, f64)>,
    /// Iterations from here to the last are shaded (the gate's window).
    pub window_from: Option<u64>,
    pub marks: &'a [Mark],
}

const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 26.0;
const BOTTOM: f64 = 26.0;

/// Deterministic short number text: at most `digits` decimals, trailing zeros cut.
pub(crate) fn num(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    };
    if s == "-0" {
        "0".to_owned()
    } else {
        s
    }
}

/// Coordinates with one decimal.
fn c(x: f64) -> String {
    num(x, 1)
}

/// Escape text for HTML/SVG content and attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A "nice" tick step (1, 2 or 5 × 10^k) for about `count` ticks over `span`.
pub(crate) fn nice_step(span: f64, count: f64) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / count.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The y range: every value, the target and the bounds, padded, snapped to ticks.
fn y_range(chart: &Chart<'_>) -> (f64, f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut see = |v: f64| {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    chart
        .points
        .iter()
        .filter_map(|p| p.value)
        .for_each(&mut see);
    chart.marks.iter().map(|m| m.value).for_each(&mut see);
    if let Some((t, _)) = chart.target {
        see(t);
    }
    if let Some((a, b)) = chart.bounds {
        see(a);
        see(b);
    }
    if !lo.is_finite() {
        return (0.0, 1.0, 0.25);
    }
    if hi - lo < 1e-12 {
        let pad = if lo.abs() > 1e-12 {
            lo.abs() * 0.1
        } else {
            1.0
        };
        lo -= pad;
        hi += pad;
    }
    let step = nice_step(hi - lo, 4.0);
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    (lo, hi, step)
}

/// Digits needed to show multiples of `step`.
fn digits_for(step: f64) -> usize {
    let mut d = 0;
    let mut s = step;
    while d < 6 && (s - s.round()).abs() > 1e-9 {
        s *= 10.0;
        d += 1;
    }
    d
}

/// Render the chart as an `<svg>` element.
pub(crate) fn render(chart: &Chart<'_>) -> String {
    let (w, h) = (chart.width, chart.height);
    let plot_w = w - LEFT - RIGHT;
    let plot_h = h - TOP - BOTTOM;
    let n = chart
        .points
        .iter()
        .map(|p| p.iteration)
        .chain(chart.marks.iter().map(|m| m.iteration))
        .max()
        .unwrap_or(1)
        .max(1);
    let (lo, hi, step) = y_range(chart);
    let x = |i: f64| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + (i - 1.0) / (n as f64 - 1.0) * plot_w
        }
    };
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * plot_h;
    let half = if n > 1 {
        plot_w / (n as f64 - 1.0) / 2.0
    } else {
        plot_w / 2.0
    };

    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" data-chart="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg">"#,
        id = esc(chart.id),
        w = c(w),
        h = c(h),
        title = esc(chart.title),
    );
    let _ = write!(s, "<title>{}</title>", esc(chart.title));
    let _ = write!(
        s,
        r#"<text class="chart-title" x="{}" y="16">{}</text>"#,
        c(LEFT),
        esc(chart.title)
    );
    // Window shading.
    if let Some(from) = chart.window_from.filter(|&f| f <= n) {
        let x0 = (x(from as f64) - half).max(LEFT);
        let x1 = (x(n as f64) + half).min(LEFT + plot_w);
        let _ = write!(
            s,
            r#"<rect class="window" x="{}" y="{}" width="{}" height="{}"><title>last {} iterations: the gate's window</title></rect>"#,
            c(x0),
            c(TOP),
            c(x1 - x0),
            c(plot_h),
            n - from + 1
        );
    }
    // Bounds band.
    if let Some((a, b)) = chart.bounds {
        let _ = write!(
            s,
            r#"<rect class="bounds" x="{}" y="{}" width="{}" height="{}"><title>bounds {} … {}</title></rect>"#,
            c(LEFT),
            c(y(b)),
            c(plot_w),
            c((y(a) - y(b)).max(0.0)),
            num(a, 6),
            num(b, 6)
        );
    }
    // Grid and y ticks.
    let digits = digits_for(step);
    let ticks = ((hi - lo) / step).round() as u64;
    for k in 0..=ticks {
        let v = lo + k as f64 * step;
        let yy = y(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{}" y1="{yy}" x2="{}" y2="{yy}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"#,
            c(LEFT),
            c(LEFT + plot_w),
            c(LEFT - 6.0),
            c(yy + 4.0),
            num(v, digits),
            yy = c(yy),
        );
    }
    // x ticks: about 8 labels.
    let every = (nice_step(n as f64, 8.0) as u64).max(1);
    for i in 1..=n {
        if i == 1 || i % every == 0 {
            let _ = write!(
                s,
                r#"<text class="tick" x="{}" y="{}" text-anchor="middle">{i}</text>"#,
                c(x(i as f64)),
                c(TOP + plot_h + 16.0)
            );
        }
    }
    // Target line.
    if let Some((t, label)) = &chart.target {
        let yy = c(y(*t));
        let _ = write!(
            s,
            r#"<line class="target" x1="{}" y1="{yy}" x2="{}" y2="{yy}"/><text class="target-label" x="{}" y="{}" text-anchor="end">target {}</text>"#,
            c(LEFT),
            c(LEFT + plot_w),
            c(LEFT + plot_w - 2.0),
            c(y(*t) - 4.0),
            esc(label)
        );
    }
    // The series line (broken where a value is absent).
    let mut d = String::new();
    let mut pen_down = false;
    for p in chart.points {
        match p.value {
            Some(v) if v.is_finite() => {
                let _ = write!(
                    d,
                    "{}{},{}",
                    if pen_down { " L" } else { " M" },
                    c(x(p.iteration as f64)),
                    c(y(v))
                );
                pen_down = true;
            }
            _ => pen_down = false,
        }
    }
    if !d.is_empty() {
        let _ = write!(s, r#"<path class="series" d="{}"/>"#, d.trim_start());
    }
    // One dot per iteration with a value.
    let _ = write!(s, r#"<g class="points">"#);
    for p in chart.points {
        if let Some(v) = p.value.filter(|v| v.is_finite()) {
            let class = match p.ok {
                Some(true) => "pt ok",
                Some(false) => "pt bad",
                None => "pt",
            };
            let state = match p.ok {
                Some(true) => " (meets threshold)",
                Some(false) => " (misses threshold)",
                None => "",
            };
            let _ = write!(
                s,
                r#"<circle class="{class}" data-iter="{i}" data-value="{val}" cx="{}" cy="{}" r="3.5"><title>iteration {i}: {val}{state}</title></circle>"#,
                c(x(p.iteration as f64)),
                c(y(v)),
                i = p.iteration,
                val = num(v, 6),
            );
        }
    }
    let _ = write!(s, "</g>");
    // Markers (diamonds) for tuning events.
    for m in chart.marks {
        let (cx, cy) = (x(m.iteration as f64), y(m.value));
        let _ = write!(
            s,
            r#"<path class="mark {}" data-mark-iter="{}" d="M{},{} L{},{} L{},{} L{},{} Z"><title>{}</title></path>"#,
            esc(&m.class),
            m.iteration,
            c(cx),
            c(cy - 5.0),
            c(cx + 5.0),
            c(cy),
            c(cx),
            c(cy + 5.0),
            c(cx - 5.0),
            c(cy),
            esc(&m.title)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[Option<f64>]) -> Vec<Point> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                iteration: i as u64 + 1,
                value: *v,
                ok: v.map(|v| v >= 1.0),
            })
            .collect()
    }

    fn chart<'a>(points: &'a [Point], marks: &'a [Mark]) -> Chart<'a> {
        Chart {
            id: "kpi-test",
            title: "test <chart>",
            width: 400.0,
            height: 200.0,
            points,
            target: Some((1.0, ">= 1".into())),
            bounds: None,
            window_from: Some(3),
            marks,
        }
    }

    #[test]
    fn one_dot_per_present_value_and_a_broken_line_at_gaps() {
        let pts = points(&[Some(0.5), Some(1.5), None, Some(2.0)]);
        let svg = render(&chart(&pts, &[]));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert_eq!(svg.matches("data-iter=").count(), 3);
        assert!(svg.contains(r#"data-iter="4" data-value="2""#));
        // Two segments: M … L …, then M … for the last point.
        let d = svg
            .split(r#"class="series" d=""#)
            .nth(1)
            .expect("series path");
        let d = &d[..d.find('"').expect("end of d")];
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert_eq!(svg.matches(r#"class="pt ok""#).count(), 2);
        assert_eq!(svg.matches(r#"class="pt bad""#).count(), 1);
    }

    #[test]
    fn title_is_escaped_and_target_and_window_are_drawn() {
        let pts = points(&[Some(0.5), Some(1.5), Some(1.0)]);
        let svg = render(&chart(&pts, &[]));
        assert!(svg.contains("test &lt;chart&gt;"));
        assert!(!svg.contains("<chart>"));
        assert!(svg.contains(r#"class="target""#));
        assert!(svg.contains("target &gt;= 1"));
        assert!(svg.contains(r#"class="window""#));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn points_lie_inside_the_plot_area() {
        let pts = points(&[Some(-3.0), Some(7.25), Some(0.0), Some(100.0)]);
        let svg = render(&chart(&pts, &[]));
        for part in svg.split("<circle").skip(1) {
            let get = |attr: &str| -> f64 {
                let at = part.find(&format!(" {attr}=\"")).expect("attr") + attr.len() + 3;
                part[at..at + part[at..].find('"').expect("quote")]
                    .parse()
                    .expect("number")
            };
            let (cx, cy) = (get("cx"), get("cy"));
            assert!((LEFT..=400.0 - RIGHT).contains(&cx), "cx {cx}");
            assert!((TOP..=200.0 - BOTTOM).contains(&cy), "cy {cy}");
        }
    }

    #[test]
    fn higher_values_are_drawn_higher() {
        let pts = points(&[Some(1.0), Some(2.0)]);
        let svg = render(&chart(&pts, &[]));
        let cy: Vec<f64> = svg
            .split(" cy=\"")
            .skip(1)
            .map(|s| s[..s.find('"').expect("quote")].parse().expect("number"))
            .collect();
        assert_eq!(cy.len(), 2);
        assert!(cy[1] < cy[0], "{cy:?}");
    }

    #[test]
    fn marks_and_bounds_render_with_their_class() {
        let pts = points(&[Some(60.0), Some(65.0)]);
        let marks = [Mark {
            iteration: 1,
            value: 65.0,
            class: "skip-cooldown".into(),
            title: "skipped: cooldown".into(),
        }];
        let mut ch = chart(&pts, &marks);
        ch.bounds = Some((20.0, 120.0));
        ch.target = None;
        let svg = render(&ch);
        assert!(svg.contains(r#"class="mark skip-cooldown" data-mark-iter="1""#));
        assert!(svg.contains(r#"class="bounds""#));
        assert!(svg.contains("bounds 20 … 120"));
    }

    #[test]
    fn a_flat_or_empty_series_still_renders() {
        let flat = points(&[Some(0.0), Some(0.0)]);
        assert!(render(&chart(&flat, &[])).contains("data-iter=\"2\""));
        let empty = points(&[None, None]);
        let svg = render(&chart(&empty, &[]));
        assert!(!svg.contains("<circle"));
        assert!(!svg.contains("class=\"series\""));
    }

    #[test]
    fn numbers_are_short_and_deterministic() {
        assert_eq!(num(2.50, 3), "2.5");
        assert_eq!(num(-0.0001, 2), "0");
        assert_eq!(num(340.0, 3), "340");
        assert_eq!(nice_step(0.9, 4.0), 0.5);
        assert_eq!(nice_step(300.0, 4.0), 100.0);
        assert_eq!(esc("a\"b'&"), "a&quot;b&#39;&amp;");
    }
}
