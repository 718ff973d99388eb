//! `cargo xtask ci`: the checks CI runs, in the order that fails fastest.

use crate::{cargo, sh};

pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    sh(cargo().args(["fmt", "--all", "--check"]))?;
    sh(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    sh(cargo()
        .args(["test", "--workspace", "--locked"])
        .args(extra)
        .env("INSTA_UPDATE", "no"))?;
    Ok(())
}
