//! `--resume`: continue a killed run from its last complete iteration, to
//! the artifacts an uninterrupted run writes.

use std::path::Path;

use mmsoak_apply::{recover, verify_chain, RecoveryKind, SoakDirLock};
use mmsoak_artifacts::layout::{
    APPLY_JOURNAL, ITER_SUMMARY_SCHEMA, SOAK_RUN as SOAK_RUN_FILE,
    TUNING_REPORT as TUNING_REPORT_FILE,
};
use mmsoak_core::input::{excerpt, limits, read_document, read_line_capped, LineRead};
use mmsoak_core::{ErrorChain, StateHash};

use crate::artifacts::{iter_dir_name, iter_summary_name, RunConfig, SoakRun};

use super::dir::{remove_iteration_dir, stop_leftover_bot};
use super::run::{io_err, Progress, SoakError};

/// The first setting in which `wanted` differs from the killed run's
/// `stored` one: (what, stored value, wanted value).
pub(super) fn config_difference(
    stored: &RunConfig,
    wanted: &RunConfig,
) -> Option<(String, String, String)> {
    fn show<T: std::fmt::Debug>(v: &Option<T>) -> String {
        v.as_ref()
            .map_or_else(|| "none".to_owned(), |v| format!("{v:?}"))
    }
    // Compared in full, shown short unless the short forms agree.
    let same_short = stored.policy_hash.short() == wanted.policy_hash.short();
    let policy = |h: &StateHash| if same_short { h.to_string() } else { h.short() };
    let fields = [
        ("driver", stored.driver.clone(), wanted.driver.clone()),
        ("scenario", show(&stored.scenario), show(&wanted.scenario)),
        (
            "exec command",
            show(&stored.exec_command),
            show(&wanted.exec_command),
        ),
        ("seed", stored.seed.to_string(), wanted.seed.to_string()),
        (
            "iterations",
            stored.iterations.to_string(),
            wanted.iterations.to_string(),
        ),
        (
            "auto-tune",
            stored.auto_tune.to_string(),
            wanted.auto_tune.to_string(),
        ),
        (
            "policy",
            policy(&stored.policy_hash),
            policy(&wanted.policy_hash),
        ),
    ];
    let settings = stored
        .driver_settings
        .keys()
        .chain(wanted.driver_settings.keys())
        .map(|k| {
            let get = |c: &RunConfig| show(&c.driver_settings.get(k));
            (format!("driver setting {k}"), get(stored), get(wanted))
        });
    fields
        .into_iter()
        .map(|(what, was, now)| (what.to_owned(), was, now))
        .chain(settings)
        .find(|(_, was, now)| was != now)
}

/// What a run that got further than its first record left in `dir`, said
/// in words: iteration summaries, or an apply journal with decisions.
/// `None` when nothing complete is there (a run killed before its first
/// run record).
pub(super) fn recorded_work(dir: &Path) -> Option<String> {
    let summaries = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("ITER_SUMMARY_") && name.ends_with(".json")
        })
        .count();
    if summaries > 0 {
        return Some(format!("{summaries} iteration summaries"));
    }
    // More than its `init` line: an iteration was decided.
    let journal = mmsoak_artifacts::open_artifact(
        &dir.join(APPLY_JOURNAL),
        std::fs::OpenOptions::new().read(true),
    )
    .ok()?;
    let mut reader = std::io::BufReader::new(journal);
    let mut line = Vec::new();
    let mut lines = 0;
    while lines < 2 {
        match read_line_capped(&mut reader, &mut line, limits::LINE) {
            Ok(LineRead::Line) if !line.trim_ascii().is_empty() => lines += 1,
            Ok(LineRead::Line) => {}
            _ => break,
        }
    }
    (lines >= 2).then(|| "an apply journal with decided iterations".to_owned())
}

/// Continue a killed run: recover the journal, check the configuration,
/// drop any partial iteration's records. Also returns the journal's last
/// decided iteration.
pub(super) fn resume_state(
    lock: &SoakDirLock,
    wanted: &RunConfig,
    owns_iteration_dirs: bool,
    notices: &mut Vec<String>,
) -> Result<(Progress, RecoveryKind, Option<u32>), SoakError> {
    let dir = lock.dir().to_owned();
    let resume_err = |problem: String| SoakError::Resume {
        dir: dir.clone(),
        problem,
    };
    let run_path = dir.join(SOAK_RUN_FILE);
    let run: SoakRun = serde_json::from_value(read_document(&run_path, limits::SOAK_RUN)?)
        .map_err(|e| {
            resume_err(format!(
                "{}: {}",
                run_path.display(),
                excerpt(&e.to_string())
            ))
        })?;
    let stored = &run.config;
    if stored.driver == wanted.driver
        && stored.driver_settings.is_empty()
        && !wanted.driver_settings.is_empty()
    {
        return Err(resume_err(format!(
            "the killed run's {SOAK_RUN_FILE} records no settings of the {} driver (it was written by an mmsoak that did not record them), so its market cannot be checked: start the run again",
            stored.driver
        )));
    }
    if let Some((what, was, now)) = config_difference(stored, wanted) {
        return Err(resume_err(format!(
            "the {what} differs from the killed run's ({SOAK_RUN_FILE}): it was {was}, now {now}; resume with the same command line"
        )));
    }
    // The complete iterations' summaries are what verify, gate and report
    // read: a resumed run must not finish on a directory they refuse.
    // Checked before recovery writes anything.
    for i in 1..=run.completed_iterations {
        let path = dir.join(iter_summary_name(i));
        let unusable = |why: String| {
            resume_err(format!(
                "{} of complete iteration {i} {why}; a resumed run would end unreadable: start the run again",
                path.display()
            ))
        };
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(unusable("is missing".to_owned()));
        }
        let doc = read_document(&path, limits::ITER_SUMMARY)
            .map_err(|e| unusable(format!("cannot be read ({})", ErrorChain(&e))))?;
        let schema = doc.get("schema").and_then(|v| v.as_str());
        let iteration = doc.get("iteration").and_then(serde_json::Value::as_u64);
        if schema != Some(ITER_SUMMARY_SCHEMA) || iteration != Some(u64::from(i)) {
            return Err(unusable(format!(
                "is not this run's summary (schema {}, iteration {iteration:?})",
                excerpt(&format!("{schema:?}"))
            )));
        }
    }
    let recovery = recover(lock)?;
    let chain = verify_chain(lock)?;
    let k = run.completed_iterations;
    match chain.last_iteration {
        Some(j) if j == k || j == k + 1 => {}
        None if k == 0 => {}
        other => {
            return Err(resume_err(format!(
                "{SOAK_RUN_FILE} says {k} iterations are complete but the apply journal's last decided iteration is {}",
                other.map_or("none".to_owned(), |j| j.to_string())
            )))
        }
    }
    // The tuning report back to the last complete iteration's.
    let report_path = dir.join(TUNING_REPORT_FILE);
    let report = run.tuning_report.ok_or_else(|| {
        resume_err(format!(
            "{SOAK_RUN_FILE} does not record where {TUNING_REPORT_FILE} ends (it was written by an earlier mmsoak): start the run again"
        ))
    })?;
    if report.counts.count != k {
        return Err(resume_err(format!(
            "{SOAK_RUN_FILE} says {k} iterations are complete but records {} {TUNING_REPORT_FILE} entries",
            report.counts.count
        )));
    }
    report
        .restore(&report_path)
        .map_err(|e| resume_err(format!("{}: {e}", report_path.display())))?;
    // Records of iterations after the last complete one are partial.
    for i in k + 1..=run.config.iterations.max(k + 1) {
        let summary = dir.join(iter_summary_name(i));
        if summary.exists() {
            std::fs::remove_file(&summary).map_err(io_err(&summary))?;
        }
        // The next iteration's directory is kept when the journal already
        // decided it: its report is replayed, not re-run.
        let decided = chain.last_iteration == Some(i);
        let iter_dir = dir.join(iter_dir_name(i));
        match std::fs::symlink_metadata(&iter_dir).map(|m| m.file_type()) {
            // A link is removed itself, never what it points to.
            Ok(kind) if kind.is_symlink() => {
                std::fs::remove_file(&iter_dir).map_err(io_err(&iter_dir))?
            }
            Ok(kind) if kind.is_dir() => {
                stop_leftover_bot(&iter_dir, notices)?;
                if !decided {
                    remove_iteration_dir(&iter_dir, owns_iteration_dirs)?
                }
            }
            _ => {}
        }
    }
    Ok((
        Progress { run, report },
        recovery.kind,
        chain.last_iteration,
    ))
}
