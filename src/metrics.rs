//! The process's Prometheus metrics: one registry of counters, gauges and histograms that the
//! parts of Coffer bump as things happen (commands, commits, Discord REST answers, SSE clients,
//! events, backups), rendered in the text exposition format by `render` for `GET /metrics`.
//! A leaf module: it imports nothing from the crate, so anything may record into it.
//!
//! Hand-written rather than a crate: a dozen series with fixed labels need only atomics and a
//! small map, and the text format is a few lines per series (no new dependency to build).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the latency histograms' buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A latency histogram with `LATENCY_BUCKETS`.
#[derive(Default)]
pub struct Histogram {
    /// Cumulative counts are computed at render time; these are per-bucket (+Inf last).
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    count: AtomicU64,
    /// Sum in microseconds (an integer, so one atomic add).
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        cumulative += self.buckets[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

/// Counters keyed by their label values.
#[derive(Default)]
struct Labelled(Mutex<BTreeMap<Vec<String>, u64>>);

impl Labelled {
    fn inc(&self, labels: &[&str]) {
        let key: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(key).or_insert(0) += 1;
    }

    fn get(&self, labels: &[&str]) -> u64 {
        let key: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.get(&key).copied().unwrap_or(0)
    }

    fn render(&self, out: &mut String, name: &str, help: &str, label_names: &[&str]) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        let m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for (values, n) in m.iter() {
            let _ = writeln!(out, "{name}{{{}}} {n}", labels(label_names, values));
        }
    }
}

fn labels(names: &[&str], values: &[String]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Every metric Coffer records.
pub struct Metrics {
    started: Instant,
    commands: Labelled,
    command_latency: Histogram,
    commit_latency: Histogram,
    discord_rest: Labelled,
    sse_clients: AtomicI64,
    events_published: AtomicU64,
    backup_last_success: AtomicI64,
    backup_last_bytes: AtomicU64,
    backups_failed: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            commands: Labelled::default(),
            command_latency: Histogram::default(),
            commit_latency: Histogram::default(),
            discord_rest: Labelled::default(),
            sse_clients: AtomicI64::new(0),
            events_published: AtomicU64::new(0),
            backup_last_success: AtomicI64::new(0),
            backup_last_bytes: AtomicU64::new(0),
            backups_failed: AtomicU64::new(0),
        }
    }
}

/// The process-wide registry.
pub fn global() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::default)
}

/// Values read at scrape time by the caller (they live in the store).
#[derive(Debug, Default, Clone)]
pub struct Scraped {
    /// Discord message sync records by state (`pending`, `synced`, `orphaned`, `failed`).
    pub sync_states: Vec<(String, u64)>,
}

impl Metrics {
    /// A Discord command, button or custom command finished with `outcome` (`ok` or an error
    /// kind) after `took`.
    pub fn command(&self, name: &str, outcome: &str, took: Duration) {
        self.commands.inc(&[name, outcome]);
        self.command_latency.observe(took);
    }

    pub fn commands_total(&self, name: &str, outcome: &str) -> u64 {
        self.commands.get(&[name, outcome])
    }

    /// One store commit (a group-commit batch) took `took`.
    pub fn commit(&self, took: Duration) {
        self.commit_latency.observe(took);
    }

    pub fn commits_observed(&self) -> u64 {
        self.commit_latency.count()
    }

    /// Discord answered a REST call with `status` (0: no answer, a network error) and JSON
    /// error `code` (0 when none).
    pub fn discord_response(&self, status: u16, code: i64) {
        self.discord_rest
            .inc(&[&status.to_string(), &code.to_string()]);
    }

    pub fn sse_client_opened(&self) {
        self.sse_clients.fetch_add(1, Ordering::Relaxed);
    }

    pub fn sse_client_closed(&self) {
        self.sse_clients.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn event_published(&self) {
        self.events_published.fetch_add(1, Ordering::Relaxed);
    }

    /// A backup of `bytes` was written at `unix_seconds`.
    pub fn backup_succeeded(&self, unix_seconds: i64, bytes: u64) {
        self.backup_last_success
            .store(unix_seconds, Ordering::Relaxed);
        self.backup_last_bytes.store(bytes, Ordering::Relaxed);
    }

    pub fn backup_failed(&self) {
        self.backups_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self, scraped: &Scraped) -> String {
        let mut out = String::with_capacity(4096);
        self.commands.render(
            &mut out,
            "coffer_commands_total",
            "Discord commands, buttons and custom commands by name and outcome.",
            &["command", "outcome"],
        );
        self.command_latency.render(
            &mut out,
            "coffer_command_duration_seconds",
            "Time from a command's arrival to its reply.",
        );
        self.commit_latency.render(
            &mut out,
            "coffer_store_commit_duration_seconds",
            "Durable commit of one write batch (group commit).",
        );
        gauge_header(
            &mut out,
            "coffer_sync_records",
            "Discord message sync records by state.",
        );
        for (state, n) in &scraped.sync_states {
            let _ = writeln!(
                out,
                "coffer_sync_records{{state=\"{}\"}} {n}",
                escape(state)
            );
        }
        self.discord_rest.render(
            &mut out,
            "coffer_discord_rest_responses_total",
            "Discord REST answers by HTTP status (0 = no answer) and JSON error code (0 = none).",
            &["status", "code"],
        );
        gauge(
            &mut out,
            "coffer_sse_clients",
            "Open live update streams.",
            self.sse_clients.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "coffer_events_published_total",
            "Change events published on the bus.",
            self.events_published.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "coffer_backup_last_success_timestamp_seconds",
            "Unix time of the last successful backup (0: none since start).",
            self.backup_last_success.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "coffer_backup_last_size_bytes",
            "Size of the last successful backup.",
            self.backup_last_bytes.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "coffer_backups_failed_total",
            "Backups that failed.",
            self.backups_failed.load(Ordering::Relaxed),
        );
        self.render_process(&mut out);
        out
    }

    fn render_process(&self, out: &mut String) {
        let p = ProcessStats::read();
        if let Some(rss) = p.resident_bytes {
            gauge(
                out,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                rss,
            );
        }
        if let Some(cpu) = p.cpu_seconds {
            let _ = writeln!(
                out,
                "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
                 # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {cpu}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP process_uptime_seconds Seconds since Coffer started.\n\
             # TYPE process_uptime_seconds gauge\nprocess_uptime_seconds {}",
            self.started.elapsed().as_secs_f64()
        );
    }
}

fn gauge_header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

fn gauge(out: &mut String, name: &str, help: &str, v: impl std::fmt::Display) {
    gauge_header(out, name, help);
    let _ = writeln!(out, "{name} {v}");
}

fn counter(out: &mut String, name: &str, help: &str, v: impl std::fmt::Display) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
    );
}

/// Memory and CPU from `/proc/self` (Linux); `None` elsewhere or when unreadable.
#[derive(Debug, Default)]
pub struct ProcessStats {
    pub resident_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
}

impl ProcessStats {
    pub fn read() -> ProcessStats {
        // Both files count in pages / clock ticks; 4096 and 100 are what Linux uses on the
        // platforms Coffer runs on (reading sysconf would need libc).
        const PAGE: u64 = 4096;
        const TICKS: f64 = 100.0;
        let resident_bytes = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|pages| pages * PAGE);
        let cpu_seconds = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                // Fields after the `(comm)`, which may itself hold spaces: utime is the 14th
                // field overall, the 12th after the closing parenthesis.
                let rest = &s[s.rfind(')')? + 1..];
                let f: Vec<&str> = rest.split_whitespace().collect();
                let utime: u64 = f.get(11)?.parse().ok()?;
                let stime: u64 = f.get(12)?.parse().ok()?;
                Some((utime + stime) as f64 / TICKS)
            });
        ProcessStats {
            resident_bytes,
            cpu_seconds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_count_everything() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(20));
        let mut out = String::new();
        h.render(&mut out, "x", "help");
        assert!(out.contains("x_bucket{le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.05\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"10\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped_and_counters_grow() {
        let m = Metrics::default();
        m.command("give", "ok", Duration::from_millis(3));
        m.command("give", "ok", Duration::from_millis(3));
        m.command("we\"ird", "error", Duration::from_millis(3));
        let text = m.render(&Scraped::default());
        assert!(text.contains("coffer_commands_total{command=\"give\",outcome=\"ok\"} 2\n"));
        assert!(text.contains("command=\"we\\\"ird\""), "{text}");
        assert_eq!(m.commands_total("give", "ok"), 2);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn process_memory_and_cpu_come_from_proc() {
        let p = ProcessStats::read();
        assert!(p.resident_bytes.unwrap() > 1024 * 1024);
        assert!(p.cpu_seconds.unwrap() >= 0.0);
    }
}
