//! The benchmark's pieces: the load runner, the table, and the systems under test.

pub mod baselines;
pub mod big;
pub mod coffer;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

pub struct Settings {
    pub accounts: u64,
    pub run_for: Duration,
    pub callers: Vec<usize>,
    /// Ledger entries for the export, backup and start-up rows.
    pub big_entries: u64,
}

/// One line of the table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub system: String,
    pub callers: usize,
    pub ops_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Anything else worth saying (ops per commit, bytes written per op, sizes).
    pub note: String,
}

/// A fast, seedable generator for picking accounts (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
    /// Two different accounts in 1..=n.
    pub fn pair(&mut self, n: u64) -> (u64, u64) {
        let a = self.below(n) + 1;
        let mut b = self.below(n) + 1;
        if b == a {
            b = a % n + 1;
        }
        (a, b)
    }
}

/// What a load run measured.
pub struct Measured {
    pub ops: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub lat_us: Vec<f64>,
    /// Bytes the process wrote to storage during the run.
    pub written: u64,
}

impl Measured {
    pub fn empty() -> Measured {
        Measured {
            ops: 0,
            failed: 0,
            elapsed: Duration::ZERO,
            lat_us: Vec::new(),
            written: 0,
        }
    }

    /// Adds another run of the same system (the interleaved comparison's slices).
    pub fn absorb(&mut self, other: Measured) {
        self.ops += other.ops;
        self.failed += other.failed;
        self.elapsed += other.elapsed;
        self.lat_us.extend(other.lat_us);
        self.written += other.written;
    }

    pub fn row(&self, system: &str, callers: usize, note: String) -> Row {
        let mut lat = self.lat_us.clone();
        lat.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)]
        };
        let mut note = note;
        if self.written > 0 {
            let kib = self.written as f64 / self.ops.max(1) as f64 / 1024.0;
            note = format!(
                "{kib:.1} KiB written/op{}{note}",
                if note.is_empty() { "" } else { ", " }
            );
        }
        if self.failed > 0 {
            note.push_str(&format!(" ({} refused)", self.failed));
        }
        Row {
            system: system.to_owned(),
            callers,
            ops_per_s: self.ops as f64 / self.elapsed.as_secs_f64(),
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            note,
        }
    }
}

/// Runs `callers` threads for `run_for`, each calling its own `op` (made by `make(i)`) in a
/// loop; `op` returns whether the operation succeeded. Latency is taken around each call.
pub fn run_load<F, Op>(callers: usize, run_for: Duration, make: F) -> Measured
where
    F: Fn(usize) -> Op,
    Op: FnMut(&mut Rng) -> bool + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(callers + 1));
    let handles: Vec<_> = (0..callers)
        .map(|i| {
            let mut op = make(i);
            let (stop, start) = (stop.clone(), start.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::new(i as u64 + 1);
                let mut lat = Vec::with_capacity(100_000);
                let mut failed = 0u64;
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if !op(&mut rng) {
                        failed += 1;
                    }
                    lat.push(t.elapsed().as_secs_f64() * 1e6);
                }
                (lat, failed)
            })
        })
        .collect();
    start.wait();
    let bytes0 = written_bytes();
    let t0 = Instant::now();
    std::thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    let mut out = Measured::empty();
    for h in handles {
        let (lat, failed) = h.join().expect("load thread");
        out.ops += lat.len() as u64 - failed;
        out.failed += failed;
        out.lat_us.extend(lat);
    }
    out.elapsed = t0.elapsed();
    out.written = written_bytes() - bytes0;
    out
}

/// Bytes this process has caused to be written to storage so far (`/proc/self/io`).
pub fn written_bytes() -> u64 {
    proc_field("/proc/self/io", "write_bytes:")
}

/// The process's resident size now and at its peak, in KiB.
pub fn rss_kib() -> (u64, u64) {
    (
        proc_field("/proc/self/status", "VmRSS:"),
        proc_field("/proc/self/status", "VmHWM:"),
    )
}

pub fn proc_field(path: &str, name: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l[name.len()..].split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// A scratch directory on the same disk as the build (not /tmp, which may be memory).
pub fn scratch() -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-tmp");
    std::fs::create_dir_all(&base).expect("target/bench-tmp");
    tempfile::tempdir_in(base).expect("scratch dir")
}

pub fn report(s: &Settings, rows: &[Row]) {
    println!();
    println!(
        "{:<34} {:>7} {:>12} {:>10} {:>10}  note",
        "system", "callers", "ops/s", "p50 us", "p99 us"
    );
    for r in rows {
        println!(
            "{:<34} {:>7} {:>12.0} {:>10.1} {:>10.1}  {}",
            r.system, r.callers, r.ops_per_s, r.p50_us, r.p99_us, r.note
        );
    }
    let find = |sys: &str, c: usize| {
        rows.iter()
            .find(|r| r.system == sys && r.callers == c)
            .map(|r| r.ops_per_s)
    };
    println!();
    if let Some(d) = find("disk: 4 KiB write + fdatasync", 1) {
        println!("this disk: {d:.0} one-page fsyncs/s (the issue's machine: 10,800)");
        if let Some(a) = find("coffer service transfer", 1) {
            println!("coffer at 1 / one-page fsync: {:.2}x", a / d);
        }
    }
    for c in &s.callers {
        if let (Some(a), Some(b)) = (
            find("coffer service transfer", *c),
            find("redb plain, 1 txn/op", *c),
        ) {
            println!("coffer / redb plain at {c}: {:.1}x", a / b);
        }
        if let (Some(a), Some(b)) = (
            find("coffer service transfer", *c),
            find("sqlite WAL FULL, group commit", *c),
        ) {
            println!("coffer / sqlite group commit at {c}: {:.2}x", a / b);
        }
        if let (Some(a), Some(b)) = (
            find("coffer service transfer", *c),
            find("sqlite WAL FULL, 1 txn/op", *c),
        ) {
            println!("coffer / sqlite 1 txn/op at {c}: {:.1}x", a / b);
        }
    }
    for c in &s.callers {
        if let (Some(a), Some(b)) = (
            find("coffer service, leaderboard index live", *c),
            find("coffer service transfer", *c),
        ) {
            println!("leaderboard index live / off at {c}: {:.2}x", a / b);
        }
    }
    if let (Some(a), Some(b)) = (
        find("redb plain + rank index table, interleaved", 1),
        find("redb plain, interleaved", 1),
    ) {
        println!(
            "redb plain with / without an on-disk rank index at 1: {:.2}x",
            a / b
        );
    }
    if let (Some(a), Some(b)) = (
        find("coffer service transfer, interleaved", 1),
        find("redb plain, interleaved", 1),
    ) {
        println!("coffer / redb plain at 1, interleaved: {:.2}x", a / b);
    }
    if let (Some(a), Some(b)) = (
        find("coffer service transfer", 1),
        find("json file rewrite (1,000 users)", 1),
    ) {
        println!("coffer / old JSON design at 1: {:.0}x", a / b);
    }
    if let (Some(a), Some(b)) = (
        find("leaderboard rank, index", 1),
        find("leaderboard rank, BTreeSet count", 1),
    ) {
        println!("rank at scale, index / BTreeSet count: {:.0}x", a / b);
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-store.json");
    let json = serde_json::json!({
        "accounts": s.accounts,
        "seconds_per_row": s.run_for.as_secs_f64(),
        "rows": rows,
    });
    match std::fs::write(&out, serde_json::to_vec_pretty(&json).unwrap_or_default()) {
        Ok(()) => println!("\nwritten to {}", out.display()),
        Err(e) => eprintln!("could not write {}: {e}", out.display()),
    }
}
