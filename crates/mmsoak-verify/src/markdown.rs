//! `DELTA_VERIFY_REPORT.md`, rendered to a string.

use std::fmt::Write;

use crate::verifier::{PairClass, PairProblem, VerifyReport, VerifyVerdict};

fn yn(b: bool) -> &'static str {
    if b {
        "Y"
    } else {
        "N"
    }
}

fn percent(n: u64, of: u64) -> String {
    if of == 0 {
        "n/a".into()
    } else {
        format!("{:.1}%", n as f64 * 100.0 / of as f64)
    }
}

/// Render the report as Markdown, judging `full_apply_ratio` against `threshold`.
///
/// The text depends only on the report (no paths, no clock), so it is
/// byte-for-byte reproducible.
pub fn render_markdown(report: &VerifyReport, threshold: f64) -> String {
    let mut out = String::with_capacity(256 + report.pairs.len() * 96);
    let m = &report.metrics;
    let format = if report.written_by_mmsoak {
        "mmsoak"
    } else {
        "predecessor"
    };
    let _ = writeln!(out, "# Delta Verification Report\n");
    let _ = writeln!(
        out,
        "Were the changes proposed in iteration p in force during iteration p + 1? {} iterations, {} pairs ({format} format).\n",
        report.iterations,
        report.pairs.len()
    );
    let _ = writeln!(out, "## Summary Table\n");
    let _ = writeln!(out, "| Iter (p → c) | Proposed Keys | Applied | Guards | Hash Changed | Params Match | Result |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for pair in &report.pairs {
        let keys = if pair.proposed.is_empty() {
            "-".to_owned()
        } else {
            pair.proposed
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let guards: Vec<&str> = pair.guards.names().collect();
        let guards = if guards.is_empty() {
            "-".to_owned()
        } else {
            guards.join(", ")
        };
        let hash = pair.hash_changed.map_or("?", yn);
        let mismatch = pair
            .problems
            .iter()
            .any(|p| matches!(p, PairProblem::ParamMismatch { .. }));
        let params = match pair.class {
            PairClass::NoProposal => "N/A",
            PairClass::PartialOk => "unchanged",
            _ => yn(!mismatch),
        };
        let result = if pair.signature_stuck {
            "fail (signature_stuck)"
        } else {
            pair.class.as_str()
        };
        let _ = writeln!(
            out,
            "| {} → {} | {keys} | {} | {guards} | {hash} | {params} | {result} |",
            pair.prev,
            pair.next,
            yn(pair.applied)
        );
    }
    let _ = writeln!(out, "\n## Metrics\n");
    let _ = writeln!(out, "- Total pairs: {}", report.pairs.len());
    let _ = writeln!(out, "- Pairs with proposals: {}", m.proposed_count);
    let _ = writeln!(
        out,
        "- full_apply: {} ({})",
        m.full_apply_count,
        percent(m.full_apply_count, m.proposed_count)
    );
    let _ = writeln!(
        out,
        "- partial_ok: {} ({})",
        m.partial_ok_count,
        percent(m.partial_ok_count, m.proposed_count)
    );
    let _ = writeln!(
        out,
        "- fail: {} ({})",
        m.fail_count,
        percent(m.fail_count, m.proposed_count)
    );
    let _ = writeln!(out, "- signature_stuck: {}", m.signature_stuck_count);
    let _ = writeln!(
        out,
        "- full_apply_ratio = (full_apply + partial_ok) / proposed: {:.3}",
        m.full_apply_ratio
    );
    let _ = writeln!(
        out,
        "- strict_apply_ratio = full_apply / (full_apply + fail): {:.3}",
        m.strict_apply_ratio
    );
    if let Some(j) = &report.journal {
        let _ = writeln!(out, "\n## Apply Journal\n");
        let chain = if j.is_intact() {
            "intact".to_owned()
        } else {
            format!("{} break(s)", j.break_count())
        };
        let _ = writeln!(
            out,
            "- Records: {}, commits: {}, hash chain: {chain}",
            j.records, j.commits
        );
        for b in &j.breaks {
            let show =
                |h: Option<mmsoak_core::StateHash>| h.map_or("none".to_owned(), |h| h.to_string());
            let iteration = b.iteration.map_or("?".to_owned(), |i| i.to_string());
            let _ = writeln!(
                out,
                "- line {} (iteration {iteration}): old_hash {} but the chain is at {}",
                b.line,
                show(b.found),
                show(b.expected)
            );
        }
        if let Some(m) = &j.missing {
            let _ = writeln!(
                out,
                "- {} is {}: this run was written by mmsoak, so its journal must be there; without it no change can be proven",
                m.file.display(),
                if m.found == "nothing" { "missing".to_owned() } else { m.found.clone() }
            );
        }
        if let Some(r) = &j.runtime_mismatch {
            let name = r
                .file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let _ = match r.found {
                Some(found) => writeln!(
                    out,
                    "- {name} holds state {found}, but the chain ends at {}: it was changed outside mmsoak",
                    r.expected
                ),
                None => writeln!(
                    out,
                    "- {name} is missing, but the chain ends at state {}: it was removed outside mmsoak",
                    r.expected
                ),
            };
        }
    }
    let failures: Vec<_> = report.failures().collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n## Detailed Mismatches\n");
        for pair in failures {
            let _ = writeln!(out, "### {} → {}\n", pair.prev, pair.next);
            for problem in &pair.problems {
                let _ = writeln!(out, "- {}", problem.describe());
            }
            out.push('\n');
        }
        out.pop();
    }
    let params = report.problematic_params();
    if !params.is_empty() {
        let _ = writeln!(out, "\n## Problematic Parameters\n");
        let _ = writeln!(out, "| Parameter | Failed pairs |");
        let _ = writeln!(out, "|---|---|");
        for (param, n) in params {
            let _ = writeln!(out, "| {param} | {n} |");
        }
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\n## Findings in the predecessor's files\n");
        let _ = writeln!(
            out,
            "Read as the predecessor's bot read them (flat keys in force); each is also an anomaly of the gate.\n"
        );
        for finding in &report.findings {
            let _ = writeln!(out, "- {finding}");
        }
        if report.findings_omitted > 0 {
            let _ = writeln!(out, "- … and {} more", report.findings_omitted);
        }
    }
    let _ = writeln!(out, "\n## Verdict\n");
    let verdict = report.verdict(threshold);
    let word = match verdict {
        VerifyVerdict::Pass => "PASS",
        VerifyVerdict::Fail => "FAIL",
    };
    let chain = match &report.journal {
        None => "no apply journal",
        Some(j) if j.is_intact() => "journal chain intact",
        Some(_) => "journal chain broken",
    };
    let findings = match report.findings.len() as u64 + report.findings_omitted {
        0 => String::new(),
        n => format!("; {n} finding(s) in the predecessor's files"),
    };
    let _ = writeln!(
        out,
        "**{word}**: full_apply_ratio {:.3} (threshold >= {threshold:.2}); {chain}{findings}.",
        m.full_apply_ratio
    );
    out
}
