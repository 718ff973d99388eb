//! Project automation: `cargo xtask <task>`.
//!
//! * `ci`: the first checks CI runs (`.ci/run` runs these and more) —
//!   `cargo fmt --check`, `cargo clippy -D warnings`,
//!   the libraries' `cargo doc` (`-D warnings`),
//!   `cargo test --workspace` (with `INSTA_UPDATE=no`).
//! * `mini-soak`: the main job — a 24-iteration soak with auto-tune, then
//!   snapshot, verify, gate and report; exits with the gate's code.
//! * `codegen`: the JSON Schemas in `docs/schemas/` (`--check` fails when stale).

use std::process::{Command, ExitCode};

/// `println!`/`eprintln!` that never panic on a closed stream (`cargo xtask
/// mini-soak | head`): the steps still run and the exit code still counts.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
/// [`outln!`] to stderr.
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

mod ci;
mod codegen;
mod mini_soak;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("codegen") => codegen::run(&args[1..]),
        // Its exit code is the gate's (0 PASS/WARN, 1 FAIL); anything else
        // that stops it (a bad flag, a failed build) is 2, never a FAIL.
        Some("mini-soak") => {
            let code = mini_soak::run(&args[1..]).unwrap_or_else(|e| {
                errln!("xtask: {e}");
                2
            });
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown task `{other}`; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn print_help() {
    outln!(
        "cargo xtask <task>\n\n\
         tasks:\n  \
         mini-soak  clean, run 24 iterations with auto-tune, snapshot, verify, gate, report\n             \
         exit: the gate's (0 PASS/WARN, 1 FAIL), 2 for anything else (bad flag, failed build, bad input)\n             \
         on the embedded simulator's `default` market unless --driver / --scenario / --market say otherwise\n             \
         flags passed through: --iterations --driver --exec --seed --out --scenario --sim-duration --market --policy\n  \
         ci         fmt --check, clippy -D warnings, doc (libraries, -D warnings), test --workspace (INSTA_UPDATE=no)\n  \
         codegen    write the JSON Schemas into docs/schemas (--check: fail when stale)"
    );
}

/// The workspace root (xtask lives one level below it).
pub(crate) fn project_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Run a command in the project root, echoing it; an error if it fails.
pub(crate) fn sh(cmd: &mut Command) -> Result<(), String> {
    let (shown, status) = run_status(cmd)?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Run a command, echoing it, in the project root unless it has a directory
/// of its own; the command line and its exit status.
pub(crate) fn run_status(cmd: &mut Command) -> Result<(String, std::process::ExitStatus), String> {
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    errln!("$ {shown}");
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(project_root());
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    Ok((shown, status))
}

pub(crate) fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}
