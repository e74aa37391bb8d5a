//! An in-memory ring buffer of recent log lines for the dashboard (`GET /api/logs`), fed by a
//! `tracing_subscriber` layer that `main.rs` installs next to the stderr formatter. Bounded:
//! the oldest lines fall off. Holds what was logged, nothing more (no secrets are logged).

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Lines the process-wide buffer keeps.
pub const CAPACITY: usize = 2000;

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    /// trace, debug, info, warn or error.
    pub level: String,
    pub target: String,
    /// The message followed by the event's other fields as `key=value`.
    pub message: String,
}

/// The ring buffer. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct LogBuffer {
    lines: Mutex<VecDeque<LogLine>>,
    capacity: usize,
    /// Least severe level kept: 0 = trace .. 4 = error.
    min_level: AtomicU8,
}

/// Severity rank: trace 0, debug 1, info 2, warn 3, error 4.
pub fn rank(level: &str) -> Option<u8> {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(0),
        "debug" => Some(1),
        "info" => Some(2),
        "warn" | "warning" => Some(3),
        "error" => Some(4),
        _ => None,
    }
}

fn level_rank(l: &Level) -> u8 {
    match *l {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        Level::ERROR => 4,
    }
}

impl LogBuffer {
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer {
            lines: Mutex::new(VecDeque::with_capacity(capacity.min(4096))),
            capacity: capacity.max(1),
            min_level: AtomicU8::new(2),
        }
    }

    /// Keeps only lines at `level` or more severe from now on (unknown names are ignored).
    pub fn set_min_level(&self, level: &str) {
        if let Some(r) = rank(level) {
            self.min_level.store(r, Ordering::Relaxed);
        }
    }

    pub fn push(&self, line: LogLine) {
        let keep = rank(&line.level).unwrap_or(4) >= self.min_level.load(Ordering::Relaxed);
        if !keep {
            return;
        }
        // A poisoned lock only means a panic mid-push; the deque is still usable.
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() >= self.capacity {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// Lines at `min_level` or more severe whose message or target contains `q`
    /// (case-insensitive), oldest first, at most the newest `limit`.
    pub fn query(&self, min_level: Option<u8>, q: Option<&str>, limit: usize) -> Vec<LogLine> {
        let q = q.map(str::to_lowercase).filter(|q| !q.is_empty());
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<LogLine> = lines
            .iter()
            .rev()
            .filter(|l| min_level.is_none_or(|m| rank(&l.level).unwrap_or(4) >= m))
            .filter(|l| {
                q.as_deref().is_none_or(|q| {
                    l.message.to_lowercase().contains(q) || l.target.to_lowercase().contains(q)
                })
            })
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// Empties the buffer; returns how many lines were dropped.
    pub fn clear(&self) -> usize {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let n = lines.len();
        lines.clear();
        n
    }

    /// The layer that feeds this buffer.
    pub fn layer(self: &Arc<Self>) -> LogLayer {
        LogLayer {
            buffer: self.clone(),
        }
    }
}

/// The process-wide buffer `main.rs` feeds and the web door reads.
pub fn global() -> Arc<LogBuffer> {
    static GLOBAL: OnceLock<Arc<LogBuffer>> = OnceLock::new();
    GLOBAL
        .get_or_init(|| Arc::new(LogBuffer::new(CAPACITY)))
        .clone()
}

/// A `tracing_subscriber` layer writing each event into a `LogBuffer`.
pub struct LogLayer {
    buffer: Arc<LogBuffer>,
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.rest, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if level_rank(meta.level()) < self.buffer.min_level.load(Ordering::Relaxed) {
            return;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        self.buffer.push(LogLine {
            at: Utc::now(),
            level: meta.level().as_str().to_ascii_lowercase(),
            target: meta.target().to_owned(),
            message: format!("{}{}", f.message, f.rest),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn the_layer_records_events_with_fields_and_drops_the_oldest_beyond_capacity() {
        let buf = Arc::new(LogBuffer::new(3));
        let subscriber = tracing_subscriber::registry().with(buf.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!("not kept at info");
            for i in 0..4 {
                tracing::info!(n = i, "line");
            }
            tracing::warn!(user = "ann", "careful");
        });
        let all = buf.query(None, None, 100);
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].message, "line n=2");
        assert_eq!(
            (all[2].level.as_str(), all[2].message.as_str()),
            ("warn", "careful user=ann")
        );
        assert_eq!(buf.query(Some(3), None, 100).len(), 1);
        assert_eq!(buf.query(None, Some("N=3"), 100).len(), 1);
        assert_eq!(buf.query(None, None, 1)[0].level, "warn");
        assert_eq!(buf.clear(), 3);
        assert!(buf.query(None, None, 10).is_empty());
    }
}
