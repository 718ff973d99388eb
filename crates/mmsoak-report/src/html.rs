//! `SOAK_REPORT.html`: one self-contained page (inline CSS and SVG, a
//! six-line inline script that records page errors into a `data-errors`
//! attribute for the browser test; no network, no fonts).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use mmsoak_core::Param;
use mmsoak_verify::PairClass;

use mmsoak_gate::{Criterion, CriterionGroup, GateVerdict, GatedKpi as Kpi, Measure};

use crate::report::{
    opt_num, or_dash, show_measure, tuning_text, IterationRow, KpiView, SkipLabel, SoakReport,
};
use crate::svg::{self, esc, num, Chart, Mark, Point};

const STYLE: &str = r#"
:root { color-scheme: light dark;
  --bg:#ffffff; --fg:#1b1f24; --muted:#57606a; --card:#f6f8fa; --line:#d0d7de;
  --grid:#e4e8ec; --series:#0969da; --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700;
  --target:#8250df; --window:rgba(9,105,218,0.08); --bounds:rgba(130,80,223,0.08);
  --pass-bg:#dafbe1; --warn-bg:#fff8c5; --fail-bg:#ffebe9; }
@media (prefers-color-scheme: dark) { :root {
  --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --card:#161b22; --line:#30363d;
  --grid:#21262d; --series:#58a6ff; --ok:#3fb950; --bad:#f85149; --warn:#d29922;
  --target:#bc8cff; --window:rgba(88,166,255,0.12); --bounds:rgba(188,140,255,0.10);
  --pass-bg:#12361f; --warn-bg:#3b2e05; --fail-bg:#42161a; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1240px; padding: 16px 24px 48px; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.banner { border-radius: 8px; padding: 14px 18px; border: 1px solid var(--line); }
.banner.pass { background: var(--pass-bg); } .banner.warn { background: var(--warn-bg); } .banner.fail { background: var(--fail-bg); }
.verdict { font-size: 28px; font-weight: 700; letter-spacing: 0.5px; margin-right: 12px; }
.banner.pass .verdict { color: var(--ok); } .banner.warn .verdict { color: var(--warn); } .banner.fail .verdict { color: var(--bad); }
.banner ul { margin: 8px 0 0; padding-left: 20px; }
.meta { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 6px 18px; margin-top: 12px; }
.meta div { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; overflow-wrap: anywhere; }
.meta b { display: block; color: var(--muted); font-weight: 500; font-size: 12px; }
.grid2 { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 14px; }
.grid4 { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
.card .sub { color: var(--muted); font-size: 13px; margin: 0 4px 2px; }
.card .sub .ok { color: var(--ok); font-weight: 600; } .card .sub .bad { color: var(--bad); font-weight: 600; }
svg.chart { width: 100%; height: auto; display: block; }
svg .chart-title { fill: var(--fg); font-size: 13px; font-weight: 600; }
svg .tick { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .series { fill: none; stroke: var(--series); stroke-width: 2; }
svg .pt { fill: var(--series); stroke: var(--bg); stroke-width: 1; }
svg .pt.ok { fill: var(--ok); } svg .pt.bad { fill: var(--bad); }
svg .target { stroke: var(--target); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .target-label { fill: var(--target); font-size: 11px; }
svg .window { fill: var(--window); } svg .bounds { fill: var(--bounds); }
svg .mark { stroke: var(--bg); stroke-width: 1; }
.applied { fill: var(--ok); background: var(--ok); }
.skip-cooldown { fill: #6e7781; background: #6e7781; } .skip-velocity { fill: #bf8700; background: #bf8700; }
.skip-oscillation { fill: #e16f24; background: #e16f24; } .skip-freeze { fill: #0550ae; background: #0550ae; }
.skip-no_op { fill: #8c959f; background: #8c959f; } .skip-final_iteration { fill: #a475f9; background: #a475f9; }
.skip-other { fill: var(--bad); background: var(--bad); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; color: var(--muted); margin: 6px 2px; }
.legend i { display: inline-block; width: 10px; height: 10px; transform: rotate(45deg); margin-right: 5px; }
.legend i.dot { border-radius: 50%; transform: none; }
.legend i.ok { background: var(--ok); } .legend i.bad { background: var(--bad); } .legend i.win { background: var(--window); border: 1px solid var(--series); transform: none; }
.legend i.tgt { height: 2px; width: 16px; background: var(--target); transform: none; vertical-align: middle; }
.legend i.bnd { background: var(--bounds); border: 1px solid var(--target); transform: none; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.ok, span.ok { color: var(--ok); font-weight: 600; } td.bad, span.bad { color: var(--bad); font-weight: 600; }
.timeline { overflow-x: auto; } .timeline table { width: auto; }
.timeline td, .timeline th { text-align: center; padding: 2px 3px; min-width: 24px; border-bottom: 1px solid var(--grid); }
.timeline th.row { text-align: left; white-space: nowrap; padding-right: 10px; }
.timeline td.win { background: var(--window); }
.cell { display: inline-block; width: 12px; height: 12px; border-radius: 3px; }
.cell.fired { background: var(--series); } .cell.pass { background: var(--ok); } .cell.fail { background: var(--bad); }
details { border-bottom: 1px solid var(--line); padding: 4px 0; } details summary { cursor: pointer; }
details:target { background: var(--card); }
.muted { color: var(--muted); }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } .grid4 { grid-template-columns: repeat(2, minmax(0, 1fr)); } .meta { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
"#;

/// Records page errors into `<html data-errors="...">` (read by the browser test).
const ERROR_PROBE: &str = r#"<script>
(function(){var r=document.documentElement;function add(m){r.setAttribute('data-errors',(r.getAttribute('data-errors')||'')+m+'; ');}
window.addEventListener('error',function(e){add(e.message||('failed to load '+((e.target&&(e.target.src||e.target.href))||'resource')));},true);
window.addEventListener('unhandledrejection',function(e){add('unhandled rejection: '+e.reason);});
var ce=console.error;console.error=function(){add(Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};})();
</script>"#;

fn verdict_class(v: GateVerdict) -> &'static str {
    match v {
        GateVerdict::Pass => "pass",
        GateVerdict::Warn => "warn",
        GateVerdict::Fail => "fail",
    }
}

impl SoakReport {
    /// `SOAK_REPORT.html`: verdict banner, run metadata, the four KPI charts,
    /// parameter trajectories, the rules/guards timeline, delta quality and
    /// per-pair results linking to per-iteration details. Self-contained.
    pub fn to_html(&self) -> String {
        let mut s = String::with_capacity(64 * 1024);
        let g = &self.gate;
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n<title>Soak report: {}</title>\n{ERROR_PROBE}\n<style>{STYLE}</style>\n</head>\n<body>\n",
            g.verdict.as_str()
        );
        self.banner(&mut s);
        self.kpi_charts(&mut s);
        self.trading_section(&mut s);
        self.param_charts(&mut s);
        self.timeline(&mut s);
        self.rule_section(&mut s);
        self.delta_section(&mut s);
        self.details(&mut s);
        s.push_str("</body>\n</html>\n");
        s
    }

    fn banner(&self, s: &mut String) {
        let g = &self.gate;
        let _ = write!(
            s,
            "<h1>Soak report</h1>\n<section class=\"banner {}\" id=\"verdict\" data-verdict=\"{}\"><span class=\"verdict\">{}</span><span>{}</span>",
            verdict_class(g.verdict),
            g.verdict.as_str(),
            g.verdict.as_str(),
            esc(self.headline().split_once(": ").map_or("", |(_, r)| r))
        );
        if !g.findings.is_empty() {
            s.push_str("<ul class=\"findings\">");
            for f in &g.findings {
                let _ = write!(s, "<li>finding: {}</li>", esc(&f.to_string()));
            }
            s.push_str("</ul>");
        }
        let failed: Vec<_> = g.failed().collect();
        // The tuner answers for the KPIs, not for a run that stopped.
        let kpi_failed = failed.iter().any(|c| c.group() != CriterionGroup::Run);
        if !failed.is_empty() {
            s.push_str("<ul>");
            for c in failed {
                let _ = write!(
                    s,
                    "<li><code>{}</code>: <b>{}</b>, target {} {}{}</li>",
                    esc(c.name.as_str()),
                    esc(&show_measure(&c.value)),
                    c.op.as_str(),
                    esc(&show_measure(&c.target)),
                    c.failure_note()
                        .map_or_else(String::new, |n| format!(" <b>({})</b>", esc(&n)))
                );
            }
            s.push_str("</ul>");
            if kpi_failed && !self.rule_window.is_empty() {
                s.push_str(if self.meta.auto_tune == Some(false) {
                    "<p>The tuner was off (the run had no <code>--auto-tune</code>); what its rules would have done: <a href=\"#rules\">its rules over the window</a>.</p>"
                } else {
                    "<p>Why the tuner did not get there: <a href=\"#rules\">its rules over the window</a>, with the clauses that kept each from firing.</p>"
                });
            }
        }
        s.push_str("</section>\n");
        let m = &self.meta;
        let items: [(&str, String); 8] = [
            ("driver", or_dash(m.driver.as_deref())),
            ("scenario", or_dash(m.scenario.as_deref())),
            (
                "seed",
                m.seed.map_or_else(|| "—".to_owned(), |s| s.to_string()),
            ),
            (
                "iterations",
                match self.gate.completion {
                    Some(c) if c.completed < c.requested => format!(
                        "{} of {} (the run did not finish; window {}–{})",
                        self.iteration_count(),
                        c.requested,
                        self.window_from(),
                        self.iteration_count()
                    ),
                    _ => format!(
                        "{} (window {}–{})",
                        self.iteration_count(),
                        self.window_from(),
                        self.iteration_count()
                    ),
                },
            ),
            ("policy hash", or_dash(m.policy_hash.as_deref())),
            ("started (UTC)", or_dash(m.started_utc.as_deref())),
            ("last update (UTC)", or_dash(m.updated_utc.as_deref())),
            ("mmsoak version", or_dash(m.mmsoak_version.as_deref())),
        ];
        s.push_str("<section class=\"meta\" id=\"run\">");
        for (k, v) in items {
            let class = if k == "policy hash" {
                " class=\"mono\""
            } else {
                ""
            };
            let _ = write!(s, "<div><b>{k}</b><span{class}>{}</span></div>", esc(&v));
        }
        s.push_str("</section>\n");
    }

    /// PnL per hour per iteration, and the trading figures at the start
    /// and over the window (only when the bot reports its PnL).
    fn trading_section(&self, s: &mut String) {
        let Some(t) = self.trading() else {
            return;
        };
        s.push_str("<h2 id=\"trading\">Trading</h2>\n<p class=\"muted\">What the bot earned in absolute terms: a net edge bought by trading less shows as a falling PnL per hour.</p>\n<div class=\"grid2\">");
        let points: Vec<Point> = self
            .iterations
            .iter()
            .map(|r| Point {
                iteration: r.iteration,
                value: r.pnl_per_hour,
                ok: None,
            })
            .collect();
        let chart = Chart {
            id: "trading-pnl_per_hour",
            title: "PnL per hour (quote currency)",
            width: 580.0,
            height: 230.0,
            points: &points,
            target: None,
            bounds: None,
            window_from: Some(self.window_from()),
            marks: &[],
        };
        let _ = write!(s, "<div class=\"card\">{}</div>", svg::render(&chart));
        let _ = write!(
            s,
            "<div class=\"card\"><table><thead><tr><th>figure</th><th>unit</th><th>iteration {}</th><th>mean of {}–{}</th></tr></thead><tbody>",
            t.first_iteration, t.window_from, t.window_to
        );
        for r in &t.rows {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(r.name),
                esc(r.unit),
                esc(&opt_num(r.start, 2)),
                esc(&opt_num(r.window, 2))
            );
        }
        s.push_str("</tbody></table></div></div>\n");
    }

    fn kpi_charts(&self, s: &mut String) {
        let sp = &self.policy.snapshot;
        s.push_str("<h2 id=\"kpis\">KPIs per iteration</h2>\n<div class=\"legend\"><span><i class=\"dot ok\"></i>meets the per-iteration threshold</span><span><i class=\"dot bad\"></i>misses it</span><span><i class=\"tgt\"></i>gate target (window mean)</span><span><i class=\"win\"></i>gate window (last ");
        let _ = write!(
            s,
            "{})</span></div>\n<div class=\"grid2\">",
            self.policy.snapshot.window
        );
        for kpi in Kpi::ALL {
            let points: Vec<Point> = self
                .iterations
                .iter()
                .map(|r| {
                    let v = kpi.value(r);
                    Point {
                        iteration: r.iteration,
                        value: v,
                        ok: v.map(|v| kpi.meets(v, sp)),
                    }
                })
                .collect();
            let crit = self
                .gate
                .criteria
                .iter()
                .find(|c| c.name == kpi.criterion());
            let target = crit.and_then(|c| match c.target {
                Measure::Number(t) => Some((t, format!("{} {}", c.op.as_str(), num(t, 3)))),
                _ => None,
            });
            let id = format!("kpi-{}", kpi.key());
            let chart = Chart {
                id: &id,
                title: kpi.title(),
                width: 580.0,
                height: 230.0,
                points: &points,
                target,
                bounds: None,
                window_from: Some(self.window_from()),
                marks: &[],
            };
            let _ = write!(s, "<div class=\"card\">{}", svg::render(&chart));
            if let Some(c) = crit {
                let _ = write!(
                    s,
                    "<div class=\"sub\">window mean <b>{}</b> (target {} {}) <span class=\"{}\">{}</span></div>",
                    esc(&show_measure(&c.value)),
                    c.op.as_str(),
                    esc(&show_measure(&c.target)),
                    if c.ok { "ok" } else { "bad" },
                    if c.ok { "ok" } else { "FAIL" }
                );
            }
            s.push_str("</div>");
        }
        s.push_str("</div>\n");
    }

    fn param_charts(&self, s: &mut String) {
        s.push_str("<h2 id=\"params\">Parameter trajectories</h2>\n<div class=\"legend\"><span><i class=\"applied\"></i>applied change (value proposed)</span>");
        for kind in SkipLabel::LEGEND {
            let _ = write!(
                s,
                "<span><i class=\"skip-{k}\"></i>skipped: {k}</span>",
                k = kind.as_str()
            );
        }
        s.push_str("<span><i class=\"bnd\"></i>bounds</span></div>\n<div class=\"grid4\">");
        for param in Param::ALL {
            let spec = self.registry.spec(param);
            let points: Vec<Point> = self
                .iterations
                .iter()
                .map(|r| Point {
                    iteration: r.iteration,
                    value: r.params.as_ref().and_then(|m| m.get(&param).copied()),
                    ok: None,
                })
                .collect();
            let marks: Vec<Mark> = self
                .iterations
                .iter()
                .flat_map(|r| {
                    r.operations
                        .iter()
                        .filter(move |o| o.param == param)
                        .map(move |o| {
                            let (class, what) = if r.applied {
                                ("applied".to_owned(), "applied".to_owned())
                            } else {
                                let k = r.skip.map_or("other", SkipLabel::as_str);
                                (format!("skip-{k}"), format!("skipped ({k})"))
                            };
                            let rule = if o.rule.is_empty() {
                                String::new()
                            } else {
                                format!(" by {}", o.rule)
                            };
                            Mark {
                                iteration: r.iteration,
                                value: o.to,
                                class,
                                title: format!(
                                    "iteration {}: {} → {}{rule}, {what}{}",
                                    r.iteration,
                                    o.from.map_or_else(|| "?".to_owned(), |f| num(f, 6)),
                                    num(o.to, 6),
                                    if o.clamped { ", clamped" } else { "" }
                                ),
                            }
                        })
                })
                .collect();
            let id = format!("param-{}", param.name());
            let chart = Chart {
                id: &id,
                title: param.name(),
                width: 290.0,
                height: 170.0,
                points: &points,
                target: None,
                bounds: Some((spec.bounds.min, spec.bounds.max)),
                window_from: None,
                marks: &marks,
            };
            let _ = write!(s, "<div class=\"card\">{}</div>", svg::render(&chart));
        }
        s.push_str("</div>\n");
    }

    fn timeline(&self, s: &mut String) {
        let sp = &self.policy.snapshot;
        let wf = self.window_from();
        s.push_str("<h2 id=\"timeline\">Timeline: rules fired, guards, outcome</h2>\n<div class=\"timeline\"><table><thead><tr><th class=\"row\">iteration</th>");
        for r in &self.iterations {
            let win = if r.iteration >= wf {
                " class=\"win\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<th{win}><a href=\"#iter-{i}\">{i}</a></th>",
                i = r.iteration
            );
        }
        s.push_str("</tr></thead><tbody>");
        let rules: BTreeSet<&str> = self
            .iterations
            .iter()
            .flat_map(|r| r.rules_fired.iter().map(String::as_str))
            .collect();
        let row = |s: &mut String,
                   label: &str,
                   cell: &dyn Fn(&IterationRow) -> Option<(String, String)>| {
            let _ = write!(s, "<tr><th class=\"row\">{}</th>", esc(label));
            for r in &self.iterations {
                let win = if r.iteration >= wf {
                    " class=\"win\""
                } else {
                    ""
                };
                match cell(r) {
                    Some((class, title)) => {
                        let _ = write!(
                            s,
                            "<td{win}><span class=\"cell {class}\" title=\"{}\"></span></td>",
                            esc(&title)
                        );
                    }
                    None => {
                        let _ = write!(s, "<td{win}></td>");
                    }
                }
            }
            s.push_str("</tr>");
        };
        row(s, "passes thresholds", &|r| {
            r.passes(sp).map(|p| {
                if p {
                    (
                        "pass".to_owned(),
                        format!("iteration {}: passes", r.iteration),
                    )
                } else {
                    (
                        "fail".to_owned(),
                        format!("iteration {}: misses a threshold", r.iteration),
                    )
                }
            })
        });
        for rule in &rules {
            row(s, rule, &|r| {
                r.rules_fired.iter().any(|x| x == rule).then(|| {
                    (
                        "fired".to_owned(),
                        format!("iteration {}: {rule} fired", r.iteration),
                    )
                })
            });
        }
        row(s, "applied", &|r| {
            (r.applied && !r.operations.is_empty()).then(|| {
                (
                    "applied".to_owned(),
                    format!("iteration {}: {}", r.iteration, tuning_text(r)),
                )
            })
        });
        for kind in SkipLabel::LEGEND {
            if !self.iterations.iter().any(|r| r.skip == Some(kind)) {
                continue;
            }
            row(s, &format!("skipped: {}", kind.as_str()), &|r| {
                (r.skip == Some(kind)).then(|| {
                    (
                        format!("skip-{}", kind.as_str()),
                        format!("iteration {}: {}", r.iteration, tuning_text(r)),
                    )
                })
            });
        }
        if self.iterations.iter().any(|r| r.freeze_active) {
            row(s, "freeze lock active", &|r| {
                r.freeze_active.then(|| {
                    (
                        "skip-freeze".to_owned(),
                        format!("iteration {}: freeze lock", r.iteration),
                    )
                })
            });
        }
        if self.iterations.iter().any(|r| r.freeze_break.is_some()) {
            row(s, "freeze broken", &|r| {
                r.freeze_break.as_ref().map(|why| {
                    (
                        "skip-other".to_owned(),
                        format!("iteration {}: freeze broken: {why}", r.iteration),
                    )
                })
            });
        }
        s.push_str("</tbody></table></div>\n");
    }

    /// The tuner's rules over the gate's window, when evaluated.
    fn rule_section(&self, s: &mut String) {
        if self.rule_window.is_empty() {
            return;
        }
        let _ = write!(
            s,
            "<h2 id=\"rules\">Tuner rules over the window (iterations {}–{})</h2>\n<p class=\"muted\">How often each rule fired and its condition held in the gate's window, and which of its clauses failed in how many iterations.</p>\n<table><thead><tr><th>rule</th><th>fired</th><th>condition held</th><th>failing clauses (iterations)</th></tr></thead><tbody>",
            self.window_from(),
            self.iteration_count()
        );
        for r in &self.rule_window {
            let _ = write!(
                s,
                "<tr><td><code>{}</code></td><td class=\"num\">{}/{n}</td><td class=\"num\">{}/{n}</td><td>{}</td></tr>",
                esc(&r.rule),
                r.fired,
                r.held,
                esc(&r.failing_text()),
                n = r.iterations
            );
        }
        s.push_str("</tbody></table>\n");
    }

    fn delta_section(&self, s: &mut String) {
        let g = &self.gate;
        // The run's, the KPIs' and the window's criteria, then the delta
        // quality's own, each under its title.
        let table = |s: &mut String, id: &str, title: &str, rows: &[&Criterion]| {
            let _ = write!(
                s,
                "<h2 id=\"{id}\">{title}</h2>\n<table><thead><tr><th>criterion</th><th>value</th><th>target</th><th>result</th></tr></thead><tbody>"
            );
            for c in rows {
                let _ = write!(
                    s,
                    "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td>{} {}</td><td class=\"{}\">{}</td></tr>",
                    esc(c.name.as_str()),
                    esc(&show_measure(&c.value)),
                    c.op.as_str(),
                    esc(&show_measure(&c.target)),
                    if c.ok { "ok" } else { "bad" },
                    if c.ok { "ok" } else { "FAIL" }
                );
            }
            s.push_str("</tbody></table>\n");
        };
        let (delta, other): (Vec<&Criterion>, Vec<&Criterion>) = g
            .criteria
            .iter()
            .partition(|c| c.group() == CriterionGroup::Delta);
        table(s, "criteria", "Gate criteria: run, KPIs, window", &other);
        table(s, "delta", "Delta quality", &delta);
        let d = &g.delta;
        let _ = writeln!(
            s,
            "<p class=\"muted\">{} proposing pairs: {} full_apply, {} partial_ok, {} fail ({} signature_stuck); strict_apply_ratio {}.</p>",
            d.proposed_count,
            d.full_apply_count,
            d.partial_ok_count,
            d.fail_count,
            d.signature_stuck_count,
            num(d.strict_apply_ratio, 3)
        );
        s.push_str("<h2 id=\"pairs\">Verification per pair</h2>\n<table><thead><tr><th>pair</th><th>proposed</th><th>applied</th><th>guards</th><th>result</th><th>problems</th></tr></thead><tbody>");
        for p in &self.pairs {
            if p.class == PairClass::NoProposal {
                continue;
            }
            let result_class = if p.class == PairClass::Fail {
                "bad"
            } else {
                "ok"
            };
            let proposed: Vec<&str> = p.proposed.iter().map(|x| x.name()).collect();
            let guards: Vec<&str> = p.guards.names().collect();
            let problems: Vec<String> = p.problems.iter().map(|x| x.describe()).collect();
            let _ = write!(
                s,
                "<tr><td><a href=\"#iter-{a}\">{a}</a> → <a href=\"#iter-{b}\">{b}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{result_class}\">{}</td><td>{}</td></tr>",
                esc(&proposed.join(", ")),
                if p.applied { "yes" } else { "no" },
                esc(&if guards.is_empty() { "—".to_owned() } else { guards.join(", ") }),
                p.class.as_str(),
                esc(&if problems.is_empty() { "—".to_owned() } else { problems.join("; ") }),
                a = p.prev,
                b = p.next,
            );
        }
        s.push_str("</tbody></table>\n");
    }

    fn details(&self, s: &mut String) {
        let sp = &self.policy.snapshot;
        s.push_str("<h2 id=\"iterations\">Iterations</h2>\n");
        for r in &self.iterations {
            let pass = match r.passes(sp) {
                Some(true) => "<span class=\"ok\">pass</span>",
                Some(false) => "<span class=\"bad\">miss</span>",
                None => "—",
            };
            let _ = write!(
                s,
                "<details id=\"iter-{i}\"><summary>iteration {i}: maker/taker {}, risk {}, net {} bps, p95 {} ms — {pass} — {}</summary>",
                opt_num(r.maker_taker_ratio, 3),
                opt_num(r.risk_ratio, 3),
                opt_num(r.net_bps, 2),
                opt_num(r.p95_latency_ms, 1),
                esc(&tuning_text(r)),
                i = r.iteration
            );
            let _ = write!(
                s,
                "<p>Rules fired: {}. Guards: {}.{}{} <a href=\"ITER_SUMMARY_{i}.json\">ITER_SUMMARY_{i}.json</a></p>",
                esc(&if r.rules_fired.is_empty() { "none".to_owned() } else { r.rules_fired.join(", ") }),
                esc(&{
                    let g: Vec<&str> = r.guards.names().collect();
                    if g.is_empty() { "none".to_owned() } else { g.join(", ") }
                }),
                if r.freeze_active { " Freeze lock active." } else { "" },
                r.freeze_break
                    .as_ref()
                    .map_or_else(String::new, |b| format!(" Freeze broken: {}.", esc(b))),
                i = r.iteration
            );
            if !r.operations.is_empty() {
                s.push_str("<table><thead><tr><th>parameter</th><th>from</th><th>to</th><th>rule</th><th>clamped</th></tr></thead><tbody>");
                for o in &r.operations {
                    let _ = write!(
                        s,
                        "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
                        o.param.name(),
                        opt_num(o.from, 6),
                        num(o.to, 6),
                        esc(if o.rule.is_empty() { "—" } else { &o.rule }),
                        if o.clamped { "yes" } else { "no" }
                    );
                }
                s.push_str("</tbody></table>");
            }
            // The verifier emits pairs in iteration order.
            let pair = self
                .pairs
                .binary_search_by_key(&r.iteration, |p| p.prev)
                .ok()
                .map(|i| &self.pairs[i]);
            if let Some(p) = pair {
                if p.class != PairClass::NoProposal {
                    let _ = write!(
                        s,
                        "<p>Verifier ({} → {}): <b>{}</b>{}</p>",
                        p.prev,
                        p.next,
                        p.class.as_str(),
                        esc(&p
                            .problems
                            .iter()
                            .map(|x| format!("; {}", x.describe()))
                            .collect::<String>())
                    );
                }
            }
            s.push_str("</details>\n");
        }
    }
}
