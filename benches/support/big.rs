//! The 1,000,000-entry rows: CSV export through the export path, a snapshot backup while a
//! writer keeps going, and the real binary's start-up time and memory on that database.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer::domain::{Money, OpMeta, TxKind, UserId};
use coffer::economy::{Economy, TxFilter};
use coffer::store::accounts::NewEntry;
use coffer::store::{Store, StoreError};

use super::coffer::{open, G};
use super::{proc_field, rss_kib, Row, Settings};

/// Writes `entries` ledger entries spread over `accounts` accounts, 10,000 per commit.
fn seed_entries(store: &Store, accounts: u64, entries: u64) {
    let mut next = 0;
    while next < entries {
        let end = (next + 10_000).min(entries);
        store
            .write(G, |w| {
                for i in next..end {
                    w.append_entry(NewEntry::new(
                        UserId(i % accounts + 1),
                        Money::new(1_000 + (i % 7) as i64),
                        TxKind::AdminAdd,
                        "seed",
                    ))?;
                }
                Ok::<_, StoreError>(())
            })
            .expect("seed");
        next = end;
    }
}

/// Forgets the process's peak resident size, so the next `VmHWM` is this step's peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn single(system: &str, secs: f64, note: String) -> Row {
    Row {
        system: system.to_owned(),
        callers: 1,
        ops_per_s: 1.0 / secs.max(1e-9),
        p50_us: secs * 1e6,
        p99_us: secs * 1e6,
        note,
    }
}

pub fn rows(s: &Settings) -> Vec<Row> {
    let dir = super::scratch();
    let path = dir.path().join("coffer.redb");
    let t = Instant::now();
    {
        let store = open(&path);
        seed_entries(&store, s.accounts, s.big_entries);
    }
    eprintln!(
        "  seeded {} entries over {} accounts in {:.1} s",
        s.big_entries,
        s.accounts,
        t.elapsed().as_secs_f64()
    );
    let mut rows = vec![export(&path, s), backup(&path, s)];
    rows.extend(startup(dir.path(), s));
    rows
}

/// The ledger as CSV through the same producer the `/transactions/export` endpoint streams.
fn export(path: &Path, s: &Settings) -> Row {
    let store = open(path);
    let economy = Economy::new(store);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (rss0, _) = rss_kib();
    reset_peak();
    let t = Instant::now();
    let (bytes, rows) = rt.block_on(async {
        use tokio_stream::StreamExt;
        let (body, rows) = coffer::web::export::export_body(
            economy,
            G,
            TxFilter::default(),
            coffer::web::export::Format::Csv,
        );
        let mut stream = body.into_data_stream();
        let mut bytes = 0u64;
        while let Some(chunk) = stream.next().await {
            bytes += chunk.expect("export chunk").len() as u64;
        }
        (bytes, rows.load(Ordering::Relaxed))
    });
    let secs = t.elapsed().as_secs_f64();
    let (_, peak) = rss_kib();
    assert_eq!(rows, s.big_entries, "every entry exported");
    let row = single(
        &format!("csv export, {} entries", s.big_entries),
        secs,
        format!(
            "{:.0} rows/s, {:.0} MiB out, peak +{:.1} MiB over {:.1} MiB",
            rows as f64 / secs,
            bytes as f64 / 1048576.0,
            peak.saturating_sub(rss0) as f64 / 1024.0,
            rss0 as f64 / 1024.0
        ),
    );
    eprintln!("  {row:?}");
    row
}

/// A snapshot of the 1M-entry database while one caller keeps transferring: how long the copy
/// takes and the longest any transfer waited meanwhile.
fn backup(path: &Path, s: &Settings) -> Row {
    let store = open(path);
    let economy = Economy::new(store.clone());
    let backups_dir = path.parent().expect("dir").join("backups");
    let backups = coffer::backup::Backups::new(store, backups_dir, Default::default());
    let stop = Arc::new(AtomicBool::new(false));
    let n = s.accounts;
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut rng = super::Rng::new(7);
            let meta = OpMeta::system();
            let mut lat: Vec<(Instant, f64)> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (a, b) = rng.pair(n);
                let t = Instant::now();
                economy
                    .transfer(G, UserId(a), UserId(b), Money::new(1), &meta)
                    .expect("transfer");
                lat.push((t, t.elapsed().as_secs_f64() * 1e6));
            }
            lat
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let (rss0, _) = rss_kib();
    reset_peak();
    let t0 = Instant::now();
    let file = backups.create(Some("bench")).expect("backup");
    let secs = t0.elapsed().as_secs_f64();
    let (_, peak) = rss_kib();
    let t1 = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let lat = writer.join().expect("writer");
    let during: Vec<f64> = lat
        .iter()
        .filter(|(at, us)| *at + Duration::from_secs_f64(us / 1e6) >= t0 && *at <= t1)
        .map(|(_, us)| *us)
        .collect();
    let before: Vec<f64> = lat
        .iter()
        .filter(|(at, _)| *at < t0)
        .map(|(_, us)| *us)
        .collect();
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let size = file.bytes;
    let row = single(
        &format!("snapshot backup, {} entries", s.big_entries),
        secs,
        format!(
            "{:.0} MiB; longest writer stall {:.1} ms during ({} transfers), {:.1} ms before; peak +{:.1} MiB over {:.1} MiB",
            size as f64 / 1048576.0,
            max(&during) / 1e3,
            during.len(),
            max(&before) / 1e3,
            peak.saturating_sub(rss0) as f64 / 1024.0,
            rss0 as f64 / 1024.0
        ),
    );
    eprintln!("  {row:?}");
    row
}

/// Starts the real `coffer` binary on the 1M-entry database: time until it answers, then its
/// resident size after some traffic (steady) and at its peak.
fn startup(data_dir: &Path, s: &Settings) -> Vec<Row> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coffer"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("run")
        .current_dir(data_dir)
        .env("COFFER_WEB__BIND", &addr)
        .env("COFFER_STORAGE__BACKUP_DIR", data_dir.join("backups"))
        .env("COFFER_STORAGE__BACKUP_EVERY_HOURS", "0")
        .env("ADMIN_USERNAME", "bench")
        .env("ADMIN_PASSWORD", "bench-password-1")
        .env_remove("DISCORD_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn coffer");
    let pid = child.id();
    let up = loop {
        if get(&addr, "/healthz").is_some() {
            break t.elapsed();
        }
        if t.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("coffer did not answer within 60 s");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    // Some reads that touch the data (a page of members and of the ledger) through the API.
    let token = super::coffer::login(&addr);
    let mut conn = super::coffer::Conn::open(&addr);
    let auth = format!("Bearer {token}");
    for path in [
        format!("/api/{}/transactions?limit=50", G.0),
        format!("/api/{}/users?limit=50", G.0),
    ] {
        let (status, body) = conn.call("GET", &path, &[("Authorization", &auth)], "");
        assert!(status == 200 || status == 404, "{path}: {status} {body}");
    }
    for i in 0..2_000u64 {
        let (status, _) = conn.call(
            "PUT",
            &format!("/api/{}/users/{}/balance", G.0, i % s.accounts + 1),
            &[("Authorization", &auth)],
            r#"{"op":"add","amount":1,"reason":"bench"}"#,
        );
        assert_eq!(status, 200);
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = format!("/proc/{pid}/status");
    let (steady, peak) = (proc_field(&status, "VmRSS:"), proc_field(&status, "VmHWM:"));
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = child.wait();
    let rows = vec![
        single(
            &format!("start-up to first answer, {} entries", s.big_entries),
            up.as_secs_f64(),
            "real binary, release build".into(),
        ),
        Row {
            system: format!("RSS with {} entries (MiB)", s.big_entries),
            callers: 1,
            ops_per_s: 0.0,
            p50_us: steady as f64 / 1024.0,
            p99_us: peak as f64 / 1024.0,
            note: format!(
                "steady {:.1} MiB, peak {:.1} MiB (p50/p99 columns) after start-up, reads and 2,000 writes",
                steady as f64 / 1024.0,
                peak as f64 / 1024.0
            ),
        },
    ];
    for r in &rows {
        eprintln!("  {r:?}");
    }
    rows
}

/// One GET on a fresh connection; the status line, or `None` when nothing answers.
fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    line.starts_with("HTTP/1.1 200").then_some(line)
}
