//! `cargo xtask codegen [--check]`: the JSON Schemas in `docs/schemas/`,
//! written by the hidden `mmsoak __schemas` subcommand (xtask stays
//! dependency-free); `--check` fails when they are stale.

use crate::{cargo, project_root, sh};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        other => return Err(format!("codegen takes only --check, got {other:?}")),
    };
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "--package",
        "mmsoak-cli",
        "--bin",
        "mmsoak",
        "--",
        "__schemas",
    ])
    .arg(project_root().join("docs").join("schemas"));
    if check {
        cmd.arg("--check");
    }
    sh(&mut cmd).map_err(|e| {
        if check {
            format!("{e}: the schemas in docs/schemas are stale; run `cargo xtask codegen`")
        } else {
            e
        }
    })?;
    Ok(())
}
