//! The exec driver: runs a user's bot command once per iteration.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::bot_process::{
    become_subreaper, kill_tree, start_ticks, BotRecord, BOT_RECORD_FILE, BOT_TOKEN_VAR,
};
use super::{collect_output, Driver, DriverError, IterationInput, IterationOutput};
use crate::stop::StopRequest;

/// The bot's stdout, in its iteration directory.
pub(crate) const BOT_STDOUT_LOG: &str = "bot.stdout.log";
/// The bot's stderr, in its iteration directory.
pub(crate) const BOT_STDERR_LOG: &str = "bot.stderr.log";

/// Default per-iteration timeout: 10 minutes.
pub const DEFAULT_ITERATION_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs `sh -c COMMAND` for each iteration.
///
/// Placeholders in the command are replaced (shell-quoted, in one pass over
/// the command: see [`ExecDriver::command_line`]): `{overrides}` (path of
/// the runtime overrides file), `{out}` (the iteration directory),
/// `{iteration}`. The same values are in `MMSOAK_OVERRIDES`, `MMSOAK_OUT`,
/// `MMSOAK_ITERATION`, and the overrides document itself (canonical JSON, the
/// file's exact bytes) in `MM_RUNTIME_OVERRIDES_JSON`. The bot writes
/// `{out}/EDGE_REPORT.json` and optionally `{out}/fills.jsonl` (or
/// `fills.csv`). Its stdout and stderr go to `{out}/bot.stdout.log` and
/// `{out}/bot.stderr.log`.
///
/// The bot runs in its own process group, with a token of its own in
/// `MMSOAK_BOT_TOKEN`, recorded with its pid in `{out}/bot.process.json`
/// while it runs. On timeout, on a stop request ([`IterationInput::stop`],
/// which the binary makes on SIGINT and SIGTERM) and when the bot exits,
/// its whole tree is killed: the group, then every process still carrying
/// the token (a child that left the group with `setsid`). On Linux the
/// calling process becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`) so
/// that it reaps those children. A soak killed with SIGKILL cannot do
/// this; the next run in the directory does, from the record.
#[derive(Debug, Clone)]
pub struct ExecDriver {
    command: String,
    timeout: Duration,
}

impl ExecDriver {
    /// A driver for `command` with the given per-iteration timeout.
    pub fn new(command: impl Into<String>, timeout: Duration) -> Self {
        ExecDriver {
            command: command.into(),
            timeout,
        }
    }

    /// The command line `sh -c` runs: each placeholder of the template
    /// replaced by a reference to the environment variable holding its value
    /// (`{out}` by `"${MMSOAK_OUT}"`), quoted for where it stands in the
    /// template (bare, inside `"…"` or inside `'…'`).
    ///
    /// The values themselves (paths chosen by whoever runs the soak) never
    /// appear in the command text: the shell expands a variable but never
    /// runs what it holds, so a path holding `{out}`, quotes, `$(...)`,
    /// backticks or newlines reaches the bot as written and is never run,
    /// whatever quotes the template puts around its placeholder. (Inside a
    /// command substitution, `$(... {out} ...)`, the reference may be split
    /// at spaces: use `"$MMSOAK_OUT"` there.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use mmsoak_runner::ExecDriver;
    /// let driver = ExecDriver::new(
    ///     r#"./bot {overrides} --out "{out}" --tag 'it{iteration}'"#,
    ///     Duration::from_secs(60),
    /// );
    /// assert_eq!(
    ///     driver.command_line(),
    ///     r#"./bot "${MMSOAK_OVERRIDES}" --out "${MMSOAK_OUT}" --tag 'it'"${MMSOAK_ITERATION}"''"#
    /// );
    /// ```
    pub fn command_line(&self) -> String {
        substitute(&self.command, |name| match name {
            "overrides" => Some("MMSOAK_OVERRIDES"),
            "out" => Some("MMSOAK_OUT"),
            "iteration" => Some("MMSOAK_ITERATION"),
            _ => None,
        })
    }
}

/// Where a placeholder stands in a POSIX shell command.
#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    Bare,
    Single,
    Double,
}

/// `template` with every `{name}` for which `variable` answers replaced by
/// a reference to that environment variable, quoted for its place, in one
/// pass over the template; anything else (other braces, unknown names) is
/// kept as written.
fn substitute(template: &str, variable: impl Fn(&str) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut quoting = Quoting::Bare;
    let mut chars = template.char_indices();
    while let Some((i, c)) = chars.next() {
        let placeholder = (c == '{')
            .then(|| {
                let rest = &template[i + 1..];
                let name = &rest[..rest.find('}')?];
                Some((name.len(), variable(name)?))
            })
            .flatten();
        if let Some((len, var)) = placeholder {
            out.push_str(&match quoting {
                Quoting::Bare => format!("\"${{{var}}}\""),
                Quoting::Double => format!("${{{var}}}"),
                Quoting::Single => format!("'\"${{{var}}}\"'"),
            });
            for _ in 0..=len {
                chars.next();
            }
            continue;
        }
        out.push(c);
        match (quoting, c) {
            // A backslash outside single quotes takes the next character
            // as written.
            (Quoting::Bare | Quoting::Double, '\\') => {
                if let Some((_, next)) = chars.next() {
                    out.push(next);
                }
            }
            (Quoting::Bare, '\'') => quoting = Quoting::Single,
            (Quoting::Bare, '"') => quoting = Quoting::Double,
            (Quoting::Single, '\'') | (Quoting::Double, '"') => quoting = Quoting::Bare,
            _ => {}
        }
    }
    out
}

impl Driver for ExecDriver {
    fn name(&self) -> &'static str {
        "exec"
    }

    fn run_iteration(
        &mut self,
        input: &IterationInput<'_>,
    ) -> Result<IterationOutput, DriverError> {
        let iteration = input.iteration;
        let command = self.command_line();
        let io_err = |path: PathBuf| {
            move |source| DriverError::Io {
                iteration,
                path,
                source,
            }
        };
        let stdout_path = input.out_dir.join(BOT_STDOUT_LOG);
        let stderr_path = input.out_dir.join(BOT_STDERR_LOG);
        let stdout = File::create(&stdout_path).map_err(io_err(stdout_path.clone()))?;
        let stderr = File::create(&stderr_path).map_err(io_err(stderr_path.clone()))?;
        // The tail is read through a handle opened now, on the file just
        // made, never by the path later: the bot may replace it (by a
        // FIFO, a link to /dev/zero).
        let stderr_log =
            mmsoak_apply::open_artifact(&stderr_path, std::fs::OpenOptions::new().read(true))
                .map_err(io_err(stderr_path.clone()))?;
        let overrides_json =
            String::from_utf8_lossy(&input.overrides.to_canonical_bytes()).into_owned();

        // Recorded before it starts, so that a soak killed at any instant
        // leaves what the next run needs to find it.
        let record_path = input.out_dir.join(BOT_RECORD_FILE);
        let mut record = BotRecord::new(iteration);
        record
            .write(input.out_dir)
            .map_err(io_err(record_path.clone()))?;
        become_subreaper();
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(&command)
            .env("MMSOAK_OVERRIDES", input.overrides_path)
            .env("MMSOAK_OUT", input.out_dir)
            .env("MMSOAK_ITERATION", iteration.to_string())
            .env("MM_RUNTIME_OVERRIDES_JSON", overrides_json)
            .env(BOT_TOKEN_VAR, &record.token)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn()
            .map_err(|source| DriverError::Spawn {
                iteration,
                command: command.clone(),
                source,
            })?;
        let pid = child.id() as i32;
        record.pid = Some(pid);
        record.start_ticks = start_ticks(pid);
        let recorded = record.write(input.out_dir);

        let waited = match recorded {
            Ok(()) => wait_for_bot(&mut child, self.timeout, input.stop, &record.token),
            Err(e) => {
                kill_tree(pid, &record.token, Some(pid));
                let _ = child.wait();
                Err(e)
            }
        };
        // The bot and everything it started are gone: the record goes.
        let removed = std::fs::remove_file(&record_path);
        let status = match waited {
            Ok(Waited::Exited(status)) => status,
            Ok(Waited::TimedOut) => {
                return Err(DriverError::Timeout {
                    iteration,
                    command,
                    seconds: self.timeout.as_secs_f64(),
                    stderr_tail: stderr_tail(&stderr_log),
                })
            }
            Ok(Waited::Stopped(value)) => return Err(DriverError::Stopped { iteration, value }),
            Err(source) => {
                return Err(DriverError::Io {
                    iteration,
                    path: stderr_path,
                    source,
                })
            }
        };
        removed.map_err(io_err(record_path))?;
        let tail = stderr_tail(&stderr_log);
        if !status.success() {
            return Err(DriverError::Failed {
                iteration,
                command,
                status: status.to_string(),
                stderr_tail: tail,
            });
        }
        collect_output(iteration, input.out_dir, &tail)
    }
}

/// How the wait for the bot ended.
enum Waited {
    /// It exited.
    Exited(std::process::ExitStatus),
    /// It ran past the timeout.
    TimedOut,
    /// A stop was requested, with this value.
    Stopped(usize),
}

/// Wait for the child; its whole tree is killed (and the child reaped)
/// however the wait ends.
fn wait_for_bot(
    child: &mut Child,
    timeout: Duration,
    stop: &StopRequest,
    token: &str,
) -> std::io::Result<Waited> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(2);
    let pid = child.id() as i32;
    loop {
        if let Some(status) = child.try_wait()? {
            // Leftover children of the bot (its group, and any that left
            // it) must not outlive the iteration.
            kill_tree(pid, token, Some(pid));
            // The same signal may have stopped the bot before the soak saw it
            // (a SIGTERM to the whole process tree): a stop, not a failure.
            return Ok(match stop.requested() {
                Some(value) => Waited::Stopped(value),
                None => Waited::Exited(status),
            });
        }
        let ended = if let Some(value) = stop.requested() {
            Some(Waited::Stopped(value))
        } else if start.elapsed() >= timeout {
            Some(Waited::TimedOut)
        } else {
            None
        };
        if let Some(ended) = ended {
            kill_tree(pid, token, Some(pid));
            child.wait()?;
            return Ok(ended);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// The last 20 lines (at most 8 KiB) of the bot's stderr, read through the
/// handle the bot was given.
fn stderr_tail(log: &File) -> String {
    const MAX: u64 = 8 * 1024;
    let mut f = log;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if f.seek(SeekFrom::Start(len.saturating_sub(MAX))).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    if f.take(MAX).read_to_end(&mut buf).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_quoted_variable_references_in_one_pass() {
        let var = |name: &str| match name {
            "a" => Some("A"),
            "b" => Some("B"),
            _ => None,
        };
        assert_eq!(substitute("{a} {b}", var), r#""${A}" "${B}""#);
        assert_eq!(substitute(r#""x{a}y""#, var), r#""x${A}y""#);
        assert_eq!(substitute("'x{a}y'", var), r#"'x'"${A}"'y'"#);
        assert_eq!(substitute(r#"\'{a}"#, var), r#"\'"${A}""#);
        assert_eq!(substitute(r#""\"{a}""#, var), r#""\"${A}""#);
        assert_eq!(
            substitute("{} {c} {{a}} }{ {a", var),
            r#"{} {c} {"${A}"} }{ {a"#
        );
        assert_eq!(substitute("", var), "");
    }

    /// The command line through a real `sh -c`, the values in the
    /// environment as the driver sets them: each arrives as one argument,
    /// byte for byte, wherever the template quotes it, and nothing in it
    /// runs.
    #[test]
    fn hostile_values_reach_the_bot_as_written_whatever_the_quoting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hostile = [
            "w/y{out}$(touch pwned)",
            "w/{iteration}`touch pwned`",
            "w/it's \"q\" $HOME ;touch pwned",
            "w/new\nline & touch pwned |",
            "w/{overrides}{out}{iteration} sp  ace *",
        ];
        let templates = [
            "printf '%s\\0' {overrides} {out} {iteration}",
            r#"printf '%s\0' "{overrides}" "{out}" "{iteration}""#,
            r#"printf '%s\0' '{overrides}' '{out}' '{iteration}'"#,
        ];
        for out in hostile {
            for template in templates {
                let out_dir = dir.path().join(out).join("iter_7");
                let overrides_path = out_dir.join("runtime_overrides.json");
                let line = ExecDriver::new(template, Duration::from_secs(5)).command_line();
                let output = Command::new("/bin/sh")
                    .arg("-c")
                    .arg(&line)
                    .env("MMSOAK_OVERRIDES", &overrides_path)
                    .env("MMSOAK_OUT", &out_dir)
                    .env("MMSOAK_ITERATION", "7")
                    .current_dir(dir.path())
                    .output()
                    .expect("sh runs");
                assert!(output.status.success(), "{line}");
                let args: Vec<&[u8]> = output.stdout.split(|&b| b == 0).collect();
                assert_eq!(
                    args,
                    [
                        overrides_path.as_os_str().as_encoded_bytes(),
                        out_dir.as_os_str().as_encoded_bytes(),
                        b"7",
                        b"",
                    ],
                    "{template} -> {line}"
                );
                assert!(!dir.path().join("pwned").exists(), "{line} ran a command");
            }
        }
    }
}
