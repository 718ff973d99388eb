//! `cargo xtask ci`: the first checks CI runs, in the order that fails
//! fastest (`.ci/run` adds the slow, browser, schema, promtool and mini-soak
//! steps).

use crate::{cargo, sh};

/// `cargo doc` over the library crates (the binary's doc comments are its
/// `--help`, where `[gate]` means a TOML table, not a link).
const DOC_ARGS: [&str; 8] = [
    "doc",
    "--workspace",
    "--no-deps",
    "--locked",
    "--exclude",
    "mmsoak-cli",
    "--exclude",
    "xtask",
];

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
    // The libraries' rustdoc (every public item documented, links resolve).
    sh(cargo().args(DOC_ARGS).env("RUSTDOCFLAGS", "-D warnings"))?;
    sh(cargo()
        .args(["test", "--workspace", "--locked"])
        .args(extra)
        .env("INSTA_UPDATE", "no"))?;
    Ok(())
}
