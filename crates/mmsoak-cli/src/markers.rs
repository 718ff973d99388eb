//! The tuner's marker events (`tracing` events with a `marker` field),
//! collected for the terminal: a tiny subscriber, so the binary needs no
//! logging framework.

use std::fmt::Debug;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

static MARKERS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Install the collector as the process-wide subscriber (once; later calls do nothing).
pub(crate) fn install() {
    let _ = tracing::subscriber::set_global_default(MarkerCollector);
}

/// The marker lines collected since the last call, e.g.
/// `MAKER_BOOST: risk=0.3 <= 0.4, maker/taker=0.72 < 0.85 -> ...`.
pub(crate) fn drain() -> Vec<String> {
    match MARKERS.lock() {
        Ok(mut m) => std::mem::take(&mut *m),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    }
}

struct MarkerCollector;

#[derive(Default)]
struct Fields {
    marker: Option<String>,
    message: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "marker" => self.marker = Some(value.to_owned()),
            "message" => self.message = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        match field.name() {
            "marker" => self.marker = Some(format!("{value:?}").trim_matches('"').to_owned()),
            "message" => self.message = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl Subscriber for MarkerCollector {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::INFO
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let (Some(marker), Some(message)) = (fields.marker, fields.message) {
            // The message starts with the rule's name; say the marker once.
            let line = if message.starts_with(&marker) {
                message
            } else {
                format!("{marker}: {message}")
            };
            if let Ok(mut m) = MARKERS.lock() {
                m.push(line);
            }
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_events_are_collected_and_others_ignored() {
        let _guard = tracing::subscriber::set_default(MarkerCollector);
        drain();
        tracing::info!(
            marker = "MAKER_BOOST",
            rule = "MAKER_BOOST",
            "MAKER_BOOST: maker/taker=0.72 < 0.85"
        );
        tracing::info!(marker = "DRIVER", "adverse_bps_p95=3.8 > 3.5");
        tracing::info!("no marker: not collected");
        tracing::debug!(marker = "STABLE", "below INFO: not collected");
        assert_eq!(
            drain(),
            [
                "MAKER_BOOST: maker/taker=0.72 < 0.85",
                "DRIVER: adverse_bps_p95=3.8 > 3.5"
            ]
        );
        assert!(drain().is_empty());
    }
}
