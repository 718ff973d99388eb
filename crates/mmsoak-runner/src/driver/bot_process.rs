//! The exec bot's processes: marked, recorded, and killed whole.
//!
//! Every bot is started with a token of its own in its environment
//! (`MMSOAK_BOT_TOKEN`), which its children inherit, and in a process group
//! of its own. Before it starts, the token is recorded in its iteration
//! directory ([`BOT_RECORD_FILE`]); once it runs, its pid, process group and
//! start time are added. When the bot ends (exit, timeout, stop) its group
//! is killed, then every process still carrying its token (a child that
//! left the group with `setsid` and so escaped the group kill), and the
//! record is removed.
//!
//! A soak killed with SIGKILL cannot do that: its bot goes on running and
//! writing into its iteration directory. The record is still there, and
//! the next `run` or `run --resume` in the directory kills the recorded
//! group (verified to be the same process by its start time) and every
//! process with the token before it reuses the directory
//! ([`kill_recorded`]).
//!
//! On Linux mmsoak also becomes a child subreaper: a bot's orphaned
//! descendants are re-parented to it instead of to init, so that it can
//! reap them once killed. Finding processes by token reads `/proc`; on
//! other systems only the group is killed.

use std::path::Path;

use mmsoak_artifacts::layout::BOT_RECORD as BOT_RECORD_FILE;
use serde::{Deserialize, Serialize};

/// The environment variable holding a bot's token.
pub(crate) const BOT_TOKEN_VAR: &str = "MMSOAK_BOT_TOKEN";

/// What is recorded of a running bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BotRecord {
    /// The token in the bot's environment (and its descendants').
    pub(crate) token: String,
    /// The bot's pid, which is also its process group; `None` while it is
    /// being started.
    pub(crate) pid: Option<i32>,
    /// Its start time, in clock ticks after boot (`/proc/PID/stat` field
    /// 22): a recycled pid has another.
    pub(crate) start_ticks: Option<u64>,
}

impl BotRecord {
    /// A record with a fresh token, for a bot of `iteration` about to start.
    pub(crate) fn new(iteration: u32) -> BotRecord {
        use std::sync::atomic::{AtomicU64, Ordering};
        static STARTED: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Unique, not secret: this process, this instant, this bot.
        let seed = format!(
            "{nanos} {} {iteration} {}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        let mut token = mmsoak_core::StateHash::of_canonical_bytes(seed.as_bytes()).to_string();
        token.truncate(32);
        BotRecord {
            token,
            pid: None,
            start_ticks: None,
        }
    }

    /// Write the record into `dir` (atomically).
    pub(crate) fn write(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        mmsoak_artifacts::write_atomically(&dir.join(BOT_RECORD_FILE), &bytes)
    }
}

/// Make this process a child subreaper (Linux; elsewhere nothing), once.
pub(crate) fn become_subreaper() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // Without it, escaped processes are still found by their token;
            // only their reaping is left to init.
            let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
        });
    }
}

/// The start time of process `pid` in clock ticks after boot, when it runs
/// (Linux).
pub(crate) fn start_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name (which may hold spaces and parentheses):
    // field 3 (state) onwards; the start time is field 22.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None; // a zombie is not running
    }
    fields.get(19)?.parse().ok()
}

/// Kill a bot's whole tree: its process group `pgid`, then, until none is
/// left, every process carrying `token` (found in `/proc/*/environ`) and
/// the children those leave behind; reap what is re-parented to this
/// process, except `direct_child` (its `Child` handle reaps it).
pub(crate) fn kill_tree(pgid: i32, token: &str, direct_child: Option<i32>) {
    use rustix::process::{kill_process, kill_process_group, Pid, Signal};
    if let Some(group) = Pid::from_raw(pgid) {
        // ESRCH (already gone) is the normal case after a clean exit.
        let _ = kill_process_group(group, Signal::KILL);
    }
    let mut seen: Vec<i32> = Vec::new();
    for round in 0..200 {
        let marked = processes_with_token(token);
        for &pid in &marked {
            if let Some(p) = Pid::from_raw(pid) {
                let _ = kill_process(p, Signal::KILL);
            }
            if !seen.contains(&pid) {
                seen.push(pid);
            }
        }
        reap(&mut seen, direct_child);
        if marked.is_empty() && seen.is_empty() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(if round < 10 {
            1
        } else {
            10
        }));
    }
}

/// Reap those of `pids` that have ended and were re-parented to this
/// process; drop from `pids` every one that is gone or not ours to reap.
fn reap(pids: &mut Vec<i32>, direct_child: Option<i32>) {
    use rustix::process::{waitpid, Pid, WaitOptions};
    pids.retain(|&pid| {
        if Some(pid) == direct_child {
            return false;
        }
        let Some(p) = Pid::from_raw(pid) else {
            return false;
        };
        match waitpid(Some(p), WaitOptions::NOHANG) {
            Ok(Some(_)) => false, // reaped
            // Ours, still running (just killed): look again.
            Ok(None) => true,
            // Not our child: its own parent reaps it; keep it while it
            // runs (a zombie has no start time here).
            Err(_) => start_ticks(pid).is_some(),
        }
    });
}

/// Every process but this one whose environment holds `MMSOAK_BOT_TOKEN=token`
/// (Linux; elsewhere none are found).
fn processes_with_token(token: &str) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let needle = format!("{BOT_TOKEN_VAR}={token}");
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        // Another user's process, or one that just ended: unreadable.
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|&b| b == 0)
            .any(|var| var == needle.as_bytes())
        {
            found.push(pid);
        }
    }
    found
}

/// Kill what a killed soak's bot left running in iteration directory
/// `dir`, as its record says, and remove the record. Returns a sentence
/// saying what was killed, when anything was.
pub(crate) fn kill_recorded(dir: &Path) -> std::io::Result<Option<String>> {
    let file = dir.join(BOT_RECORD_FILE);
    let bytes = match mmsoak_artifacts::open_artifact(&file, std::fs::OpenOptions::new().read(true))
    {
        Ok(f) => {
            use std::io::Read;
            let mut bytes = Vec::new();
            f.take(4096).read_to_end(&mut bytes)?;
            bytes
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // A torn or foreign record names no process: nothing to kill.
    let Ok(record) = serde_json::from_slice::<BotRecord>(&bytes) else {
        std::fs::remove_file(&file)?;
        return Ok(None);
    };
    // The group is killed only when its leader is the recorded process
    // (same start time: not a recycled pid); the token finds the rest.
    let leader = record
        .pid
        .filter(|&pid| record.start_ticks.is_some() && start_ticks(pid) == record.start_ticks);
    let marked = processes_with_token(&record.token);
    let message = (leader.is_some() || !marked.is_empty()).then(|| {
        let mut pids = marked.clone();
        if let Some(pid) = leader {
            if !pids.contains(&pid) {
                pids.push(pid);
            }
        }
        pids.sort_unstable();
        let list: Vec<String> = pids.iter().map(i32::to_string).collect();
        format!(
            "killed the bot a killed soak left running in {} (pid {}{})",
            dir.display(),
            list.join(", "),
            leader.map_or(String::new(), |g| format!("; process group {g}"))
        )
    });
    if message.is_some() {
        kill_tree(leader.unwrap_or(0), &record.token, None);
    }
    std::fs::remove_file(&file)?;
    Ok(message)
}
