//! The exec driver: runs a user's bot command once per iteration.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::bot_process::{become_subreaper, kill_tree, start_ticks, BotRecord, BOT_TOKEN_VAR};
use mmsoak_artifacts::layout::{BOT_RECORD as BOT_RECORD_FILE, BOT_STDERR_LOG, BOT_STDOUT_LOG};

use super::{collect_output, Driver, DriverError, IterationInput, IterationOutput};
use crate::stop::StopRequest;

/// Default per-iteration timeout: 10 minutes.
pub const DEFAULT_ITERATION_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs `sh -c COMMAND` for each iteration.
///
/// Placeholders in the command stand for the iteration's values:
/// `{overrides}` (path of the runtime overrides file), `{out}` (the
/// iteration directory), `{iteration}`, `{seed}` (the soak's seed, see
/// [`ExecDriver::with_seed`]) and `{scenario}` (a market name the bot
/// interprets, see [`ExecDriver::with_scenario`]). The values themselves
/// are in the environment, `MMSOAK_OVERRIDES`, `MMSOAK_OUT`,
/// `MMSOAK_ITERATION`, `MMSOAK_SEED`, `MMSOAK_SCENARIO`, and a placeholder
/// becomes a quoted reference to its variable (see
/// [`ExecDriver::command_line`]); the overrides document itself (canonical
/// JSON, the file's exact bytes) is in `MM_RUNTIME_OVERRIDES_JSON`. The bot
/// writes `{out}/EDGE_REPORT.json` and optionally `{out}/fills.jsonl` (or
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
    line: String,
    timeout: Duration,
    seed: u64,
    scenario: Option<String>,
    needs_scenario: bool,
}

/// The placeholders of an `--exec` command and the environment variables
/// that hold their values.
const PLACEHOLDERS: [(&str, &str); 5] = [
    ("overrides", "MMSOAK_OVERRIDES"),
    ("out", "MMSOAK_OUT"),
    ("iteration", "MMSOAK_ITERATION"),
    ("seed", "MMSOAK_SEED"),
    ("scenario", "MMSOAK_SCENARIO"),
];

/// An `--exec` command in which a placeholder cannot stand for its value
/// safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecCommandError {
    /// A placeholder inside quotes, an arithmetic expansion or a
    /// here-document.
    #[error("--exec: the placeholder `{placeholder}` at byte {at} stands {place}; a placeholder must stand outside quotes, where it becomes exactly one argument. In a script that another shell runs (`sh -c '...'`, `bash -c \"...\"`, a here-document), write \"$MMSOAK_OUT\" (or $MMSOAK_OVERRIDES, $MMSOAK_ITERATION, $MMSOAK_SEED, $MMSOAK_SCENARIO) instead: that shell expands the variable itself")]
    Placeholder {
        /// The placeholder, e.g. `{out}`.
        placeholder: String,
        /// Its byte offset in the command.
        at: usize,
        /// Where it stands, e.g. `"inside quotes"`.
        place: &'static str,
    },
    /// A quote or substitution opened and never closed.
    #[error("--exec: the {what} opened at byte {at} is never closed")]
    Unclosed {
        /// What, e.g. `"single quote"`.
        what: &'static str,
        /// Its byte offset in the command.
        at: usize,
    },
}

impl ExecDriver {
    /// A driver for `command` with the given per-iteration timeout; an
    /// error when a placeholder stands where it cannot be replaced safely
    /// ([`ExecDriver::command_line`]).
    pub fn new(command: impl Into<String>, timeout: Duration) -> Result<Self, ExecCommandError> {
        let command = command.into();
        let found = std::cell::Cell::new(false);
        let line = substitute(&command, |name| {
            let var = PLACEHOLDERS.iter().find(|(p, _)| *p == name)?.1;
            if name == "scenario" {
                found.set(true);
            }
            Some(var)
        })?;
        Ok(ExecDriver {
            command,
            line,
            timeout,
            seed: 0,
            scenario: None,
            needs_scenario: found.get(),
        })
    }

    /// The soak's seed, for `{seed}` and `MMSOAK_SEED` (default 0): a bot
    /// with a random part seeds it from there, so that a sweep over seeds
    /// sees independent runs and a rerun of one seed the same one.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The name of the market the bot is to run in, for `{scenario}` and
    /// `MMSOAK_SCENARIO` (the bot interprets it, e.g. a recorded day); it
    /// is recorded in `SOAK_RUN.json`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mmsoak_runner::{Driver, ExecDriver};
    /// let driver = ExecDriver::new("./bot --day {scenario} --seed {seed} --out {out}", Duration::from_secs(60))?;
    /// assert!(driver.needs_scenario() && driver.scenario().is_none());
    /// let driver = driver.with_scenario("2026-11-02").with_seed(7);
    /// assert_eq!(driver.scenario(), Some("2026-11-02"));
    /// # Ok::<(), mmsoak_runner::ExecCommandError>(())
    /// ```
    pub fn with_scenario(mut self, scenario: impl Into<String>) -> Self {
        self.scenario = Some(scenario.into());
        self
    }

    /// Whether the command has a `{scenario}` placeholder, which needs
    /// [`ExecDriver::with_scenario`] (without it the value is empty).
    pub fn needs_scenario(&self) -> bool {
        self.needs_scenario
    }

    /// The command line `sh -c` runs: each placeholder replaced by a quoted
    /// reference to the environment variable holding its value (`{out}` by
    /// `"${MMSOAK_OUT}"`), in one pass over the command.
    ///
    /// The values themselves (paths chosen by whoever runs the soak) never
    /// appear in the command text, and the shell expands a variable but
    /// never runs what it holds: a path holding `{out}`, quotes, `$(...)`,
    /// backticks or newlines reaches the bot as written and is never run.
    /// For that, a placeholder must stand outside quotes (a comment is
    /// skipped): inside `'...'` or `"..."` its value would become part of a
    /// string that may be a script another shell runs (`sh -c '... {out}'`),
    /// and inside an arithmetic expansion or after a here-document operator
    /// part of an expression or a document; [`ExecDriver::new`] refuses
    /// those, and a command whose quotes are not balanced.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mmsoak_runner::ExecDriver;
    /// let driver = ExecDriver::new("./bot {overrides} --out {out} # the bot's run", Duration::from_secs(60))?;
    /// assert_eq!(
    ///     driver.command_line(),
    ///     r#"./bot "${MMSOAK_OVERRIDES}" --out "${MMSOAK_OUT}" # the bot's run"#
    /// );
    /// let err = ExecDriver::new("sh -c './bot {out}'", Duration::from_secs(60)).unwrap_err();
    /// assert!(err.to_string().starts_with("--exec: the placeholder `{out}` at byte 13 stands inside quotes"));
    /// # Ok::<(), mmsoak_runner::ExecCommandError>(())
    /// ```
    pub fn command_line(&self) -> &str {
        &self.line
    }

    /// The command as given, placeholders and all.
    pub fn command(&self) -> &str {
        &self.command
    }
}

/// A context the scan of a command is in, innermost last.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    /// `'...'`
    Single,
    /// `"..."`
    Double,
    /// `$(...)`, with the parentheses open inside it.
    Command(u32),
    /// `` `...` ``
    Backquote,
    /// `$((...))`, with the parentheses open.
    Arithmetic(u32),
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Single => "single quote",
            Context::Double => "double quote",
            Context::Command(_) => "command substitution $(",
            Context::Backquote => "command substitution `",
            Context::Arithmetic(_) => "arithmetic expansion $((",
        }
    }
}

/// `template` with every `{name}` for which `variable` answers replaced by
/// `"${VARIABLE}"`, in one pass; anything else (other braces, unknown
/// names, comments) is kept as written. A placeholder must stand where the
/// shell would take `"${VARIABLE}"` as one word of a command line: not
/// inside quotes (at any depth: the quoted text may be a script another
/// shell runs), an arithmetic expansion, or after a here-document
/// operator. Command substitutions are followed; an unclosed quote or
/// substitution is an error.
fn substitute(
    template: &str,
    variable: impl Fn(&str) -> Option<&'static str>,
) -> Result<String, ExecCommandError> {
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len() + 64);
    // Open contexts with where they opened; empty: the top level.
    let mut open: Vec<(Context, usize)> = Vec::new();
    let mut here_document = false;
    let mut i = 0;
    while i < bytes.len() {
        let top = open.last().map(|(c, _)| *c);
        let unquoted = matches!(top, None | Some(Context::Command(_) | Context::Backquote));
        let c = bytes[i];
        if c == b'{' {
            let rest = &template[i + 1..];
            let found = rest
                .find('}')
                .and_then(|end| variable(&rest[..end]).map(|var| (end, var)));
            if let Some((end, var)) = found {
                let refuse = |place| ExecCommandError::Placeholder {
                    placeholder: template[i..i + end + 2].to_owned(),
                    at: i,
                    place,
                };
                if open
                    .iter()
                    .any(|(c, _)| matches!(c, Context::Single | Context::Double))
                {
                    return Err(refuse("inside quotes"));
                }
                if open
                    .iter()
                    .any(|(c, _)| matches!(c, Context::Arithmetic(_)))
                {
                    return Err(refuse("inside an arithmetic expansion $((...))"));
                }
                if here_document {
                    return Err(refuse("after a here-document operator <<"));
                }
                out.push_str(&format!("\"${{{var}}}\""));
                i += end + 2;
                continue;
            }
        }
        let word_start = i == 0 || b" \t\n;&|()<>`".contains(&bytes[i - 1]);
        let mut step = template[i..].chars().next().map_or(1, char::len_utf8);
        match (top, c) {
            (_, b'#') if unquoted && word_start => {
                // A comment, to the end of the line, as written.
                step = template[i..].find('\n').unwrap_or(bytes.len() - i);
            }
            (None | Some(Context::Command(_) | Context::Backquote | Context::Double), b'\\') => {
                // The next character as written.
                step += template[i + 1..].chars().next().map_or(0, char::len_utf8);
            }
            (Some(Context::Single), b'\'') | (Some(Context::Double), b'"') => {
                open.pop();
            }
            (_, b'\'') if unquoted => open.push((Context::Single, i)),
            (_, b'"') if unquoted => open.push((Context::Double, i)),
            (Some(Context::Backquote), b'`') => {
                open.pop();
            }
            (None | Some(Context::Command(_) | Context::Double), b'`') => {
                open.push((Context::Backquote, i));
            }
            (None | Some(Context::Command(_) | Context::Backquote | Context::Double), b'$')
                if template[i..].starts_with("$((") =>
            {
                open.push((Context::Arithmetic(2), i));
                step = 3;
            }
            (None | Some(Context::Command(_) | Context::Backquote | Context::Double), b'$')
                if template[i..].starts_with("$(") =>
            {
                open.push((Context::Command(0), i));
                step = 2;
            }
            (Some(Context::Command(n)), b'(') => {
                let at = open.pop().map_or(i, |(_, at)| at);
                open.push((Context::Command(n + 1), at));
            }
            (Some(Context::Command(n)), b')') => {
                let at = open.pop().map_or(i, |(_, at)| at);
                if n > 0 {
                    open.push((Context::Command(n - 1), at));
                }
            }
            (Some(Context::Arithmetic(n)), b'(') => {
                let at = open.pop().map_or(i, |(_, at)| at);
                open.push((Context::Arithmetic(n + 1), at));
            }
            (Some(Context::Arithmetic(n)), b')') => {
                let at = open.pop().map_or(i, |(_, at)| at);
                if n > 1 {
                    open.push((Context::Arithmetic(n - 1), at));
                }
            }
            (_, b'<') if unquoted && bytes.get(i + 1) == Some(&b'<') => here_document = true,
            _ => {}
        }
        let end = (i + step).min(bytes.len());
        out.push_str(&template[i..end]);
        i = end;
    }
    if let Some((context, at)) = open.pop() {
        return Err(ExecCommandError::Unclosed {
            what: context.name(),
            at,
        });
    }
    Ok(out)
}

impl Driver for ExecDriver {
    fn name(&self) -> &'static str {
        "exec"
    }

    fn owns_iteration_dir(&self) -> bool {
        true
    }

    fn scenario(&self) -> Option<&str> {
        self.scenario.as_deref()
    }

    fn run_iteration(
        &mut self,
        input: &IterationInput<'_>,
    ) -> Result<IterationOutput, DriverError> {
        let iteration = input.iteration;
        let command = self.line.clone();
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
            mmsoak_artifacts::open_artifact(&stderr_path, std::fs::OpenOptions::new().read(true))
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
            .env("MMSOAK_SEED", self.seed.to_string())
            .env("MMSOAK_SCENARIO", self.scenario.as_deref().unwrap_or(""))
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

        if let Err(e) = recorded {
            kill_tree(pid, &record.token, Some(pid));
            let _ = child.wait();
            return Err(io_err(record_path)(e));
        }
        let waited = wait_for_bot(&mut child, self.timeout, input.stop, &record.token);
        // The bot and everything it started are gone: the record goes
        // (unless the bot removed it, or its whole directory, itself).
        let removed = match std::fs::remove_file(&record_path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
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

    fn vars(name: &str) -> Option<&'static str> {
        match name {
            "a" => Some("A"),
            "b" => Some("B"),
            _ => None,
        }
    }

    #[test]
    fn placeholders_become_quoted_variable_references_in_one_pass() {
        let ok = |template: &str| substitute(template, vars).expect(template);
        assert_eq!(ok("{a} {b}"), r#""${A}" "${B}""#);
        assert_eq!(ok("x{a}y"), r#"x"${A}"y"#);
        assert_eq!(ok("{} {c} {{a}} }{ {a"), r#"{} {c} {"${A}"} }{ {a"#);
        // Not a placeholder: after a backslash, in a comment.
        assert_eq!(ok(r"\{a} {a}"), r#"\{a} "${A}""#);
        assert_eq!(
            ok("./bot {a} # it's {b}\n./bot {b}"),
            "./bot \"${A}\" # it's {b}\n./bot \"${B}\""
        );
        // Quotes that close, and substitutions, are followed.
        assert_eq!(ok(r#"'x' "y" {a} 'it''s'"#), r#"'x' "y" "${A}" 'it''s'"#);
        assert_eq!(
            ok("cd $(dirname {a}) && `echo {b}`"),
            r#"cd $(dirname "${A}") && `echo "${B}"`"#
        );
        assert_eq!(ok("$( (cd x) ; echo {a})"), r#"$( (cd x) ; echo "${A}")"#);
        assert_eq!(ok("x=$((1 + 2)) {a}"), r#"x=$((1 + 2)) "${A}""#);
        assert_eq!(ok(""), "");
    }

    /// Where the value would become part of a script, an expression or a
    /// document, the command is refused, saying where.
    #[test]
    fn placeholders_where_a_value_is_not_one_word_are_refused() {
        let place = |template: &str| match substitute(template, vars) {
            Err(ExecCommandError::Placeholder { place, .. }) => place,
            other => panic!("{template}: {other:?}"),
        };
        for template in [
            r#"./bot "{a}""#,
            "./bot '{a}'",
            "sh -c './bot {a}'",
            r#"bash -c "./bot {a}""#,
            r#"./bot "$(dirname "{a}")""#,
            r#"x="$(echo {a})""#,
        ] {
            assert_eq!(place(template), "inside quotes", "{template}");
        }
        assert_eq!(
            place("echo $(( {a} + 1 ))"),
            "inside an arithmetic expansion $((...))"
        );
        assert_eq!(
            place("cat <<EOF\n{a}\nEOF"),
            "after a here-document operator <<"
        );
        for (template, what) in [
            ("./bot 'x", "single quote"),
            (r#"./bot "x"#, "double quote"),
            ("./bot $(echo x", "command substitution $("),
            ("./bot `echo x", "command substitution `"),
        ] {
            match substitute(template, vars) {
                Err(ExecCommandError::Unclosed { what: w, at: 6 }) => assert_eq!(w, what),
                other => panic!("{template}: {other:?}"),
            }
        }
        let err =
            ExecDriver::new("sh -c './bot {out}'", Duration::from_secs(1)).expect_err("quoted");
        let msg = err.to_string();
        assert!(
            msg.contains("`{out}` at byte 13 stands inside quotes"),
            "{msg}"
        );
        assert!(msg.contains("$MMSOAK_OUT"), "{msg}");
    }

    /// The command line through a real `sh -c`, the values in the
    /// environment as the driver sets them: each arrives as one argument,
    /// byte for byte, and nothing in it runs.
    #[test]
    fn hostile_values_reach_the_bot_as_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hostile = [
            "w/y{out}$(touch pwned)",
            "w/{iteration}`touch pwned`",
            "w/it's \"q\" $HOME ;touch pwned",
            "w/new\nline & touch pwned |",
            "w/{overrides}{out}{iteration} sp  ace *",
        ];
        let templates = [
            "printf '%s\\0' {overrides} {out} {iteration} {scenario} {seed}",
            "printf '%s\\0' {overrides} \"$(printf %s \"$MMSOAK_OUT\")\" $(printf %s {iteration}) {scenario} {seed} # it's",
        ];
        for out in hostile {
            for template in templates {
                let out_dir = dir.path().join(out).join("iter_7");
                let overrides_path = out_dir.join("runtime_overrides.json");
                let driver = ExecDriver::new(template, Duration::from_secs(5)).expect(template);
                let line = driver.command_line();
                let output = Command::new("/bin/sh")
                    .arg("-c")
                    .arg(line)
                    .env("MMSOAK_OVERRIDES", &overrides_path)
                    .env("MMSOAK_OUT", &out_dir)
                    .env("MMSOAK_ITERATION", "7")
                    .env("MMSOAK_SCENARIO", out)
                    .env("MMSOAK_SEED", "18446744073709551615")
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
                        out.as_bytes(),
                        b"18446744073709551615",
                        b"",
                    ],
                    "{template} -> {line}"
                );
                assert!(!dir.path().join("pwned").exists(), "{line} ran a command");
            }
        }
    }
}
