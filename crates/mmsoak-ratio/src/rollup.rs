//! The weekly rollup file: `{"taker_share_pct": {"median": 12.5}}`.

use std::path::Path;

use mmsoak_core::input::{read_document, Fields};
use mmsoak_core::InputError;

/// A weekly rollup of the bot's taker share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeeklyRollup {
    /// Median taker share over the week, in percent.
    pub taker_share_pct_median: f64,
}

impl WeeklyRollup {
    /// Read a rollup file; `taker_share_pct.median` is required.
    pub fn from_path(file: &Path) -> Result<Self, InputError> {
        let doc = read_document(file, mmsoak_core::input::limits::SMALL_REPORT)?;
        let root = Fields::root(file, &doc)?;
        let median = root.object("taker_share_pct")?.f64("median")?;
        Ok(WeeklyRollup {
            taker_share_pct_median: median,
        })
    }

    /// The maker share it implies: `1 − median / 100`, clamped to 0–1.
    pub fn maker_share(&self) -> f64 {
        (1.0 - self.taker_share_pct_median / 100.0).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_rejects() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("WEEKLY_ROLLUP.json");
        std::fs::write(&p, r#"{"taker_share_pct": {"median": 12.5, "p90": 30}}"#).expect("write");
        let r = WeeklyRollup::from_path(&p).expect("reads");
        assert_eq!(r.maker_share(), 0.875);

        std::fs::write(&p, r#"{"taker_share_pct": {"p90": 30}}"#).expect("write");
        let err = WeeklyRollup::from_path(&p).expect_err("missing median");
        assert_eq!(err.field_path(), Some("taker_share_pct.median"));
        assert!(err.to_string().contains("WEEKLY_ROLLUP.json"), "{err}");

        std::fs::write(&p, r#"{"taker_share_pct": {"median": NaN}}"#).expect("write");
        assert!(WeeklyRollup::from_path(&p).is_err());
        assert!(WeeklyRollup::from_path(&dir.path().join("absent.json")).is_err());
    }
}
