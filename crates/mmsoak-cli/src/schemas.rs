//! `mmsoak __schemas DIR [--check]` (hidden; run by `cargo xtask codegen`):
//! write the JSON Schemas of mmsoak's files into DIR, or check they are current.

use std::path::PathBuf;

use crate::Outcome;
use mmsoak_artifacts::schema::ALL;

/// Write (or with --check, compare) the JSON Schemas of every artifact.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Output directory, e.g. docs/schemas.
    dir: PathBuf,
    /// Do not write; exit 1 when a file is missing, differs, or is not ours.
    #[arg(long)]
    check: bool,
}

pub(crate) fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut stale = Vec::new();
    if !args.check {
        std::fs::create_dir_all(&args.dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.dir.display()))?;
    }
    for s in ALL {
        let path = args.dir.join(s.file);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(s.text) {
            continue;
        }
        if args.check {
            stale.push(path.display().to_string());
        } else {
            crate::write_file(&path, s.text.as_bytes())?;
            outln!("wrote {}", path.display());
        }
    }
    if args.check {
        if let Ok(entries) = std::fs::read_dir(&args.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with(".schema.json") && !ALL.iter().any(|s| s.file == name) {
                    stale.push(format!("{} (not generated)", entry.path().display()));
                }
            }
        }
        stale.sort();
        if !stale.is_empty() {
            errln!(
                "stale schemas (run `cargo xtask codegen`):\n  {}",
                stale.join("\n  ")
            );
            return Ok(Outcome::GateFailed);
        }
        outln!(
            "{} schemas in {} are current",
            ALL.len(),
            args.dir.display()
        );
    }
    Ok(Outcome::Success)
}
