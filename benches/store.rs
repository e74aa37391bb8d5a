//! `cargo bench --bench store` — durable transfers side by side, in one run (absolute numbers
//! drift 10-20% on shared machines; compare the ratios). Prints one table and writes it as JSON
//! to `target/bench-store.json`. `-- --quick` runs a smaller, shorter version (10,000 accounts,
//! 1 s per row) for a smoke check.
//!
//! First the disk's own limit (one 4 KiB write and `fdatasync` per operation), which bounds
//! every durable figure after it. The operation everywhere else: a transfer of 1 between two random accounts — read both balances,
//! write both, append the two ledger legs (send and receive), one durable commit.
//! - coffer service: `Economy::transfer` through the real service layer (group commit);
//! - coffer HTTP: the admin add (`PUT /api/<g>/users/<u>/balance`, Bearer token, keep-alive
//!   connections from an in-process load generator on loopback), so the web layer's cost shows;
//! - redb plain: the same writes in raw redb, one write transaction per transfer;
//! - ab: one caller of each of the two above in alternating slices, for a steadier ratio;
//! - SQLite: rusqlite (bundled), WAL, `synchronous=FULL`, one transaction per transfer, and with
//!   the same group-commit batching (one writer draining a queue into one transaction);
//! - JSON file: the old Python design, the whole guild file rewritten atomically per operation.
//!
//! Then reads (leaderboard top-10 and one rank among all accounts, and one rank among
//! 1,000,000 in the in-memory index next to counting a `BTreeSet`) and, on a database of
//! 1,000,000 ledger entries: CSV export through the export path, a snapshot backup while a
//! writer keeps going (its longest stall), and the real binary's start-up time and memory.

mod support;

use std::time::Duration;

use support::{Row, Settings};

fn main() {
    coffer::app::tune_allocator();
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `cargo bench` passes `--bench`; a name filter is not supported: everything runs.
    let s = Settings {
        accounts: if quick { 10_000 } else { 100_000 },
        run_for: Duration::from_millis(if quick { 1_000 } else { 3_000 }),
        callers: vec![1, 8, 64],
        big_entries: if quick { 100_000 } else { 1_000_000 },
    };
    eprintln!(
        "coffer store benchmark: {} accounts, {:?} per row, callers {:?}",
        s.accounts, s.run_for, s.callers
    );
    // `-- --only NAME[,NAME]` runs some sections: disk, service, http, redb, ab, sqlite, json,
    // reads, big.
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').map(str::to_owned).collect());
    let on = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    let mut rows: Vec<Row> = Vec::new();
    if on("disk") {
        rows.extend(support::baselines::disk(&s));
    }
    if on("service") {
        rows.extend(support::coffer::service_transfers(&s));
    }
    if on("http") {
        rows.extend(support::coffer::http_adjust(&s));
    }
    if on("redb") {
        rows.extend(support::baselines::redb_plain(&s));
    }
    if on("ab") {
        rows.extend(support::coffer::one_caller_side_by_side(&s));
    }
    if on("sqlite") {
        rows.extend(support::baselines::sqlite(&s, false));
        rows.extend(support::baselines::sqlite(&s, true));
    }
    if on("json") {
        rows.extend(support::baselines::json_file(&s));
    }
    if on("reads") {
        rows.extend(support::coffer::reads(&s));
    }
    if on("big") {
        rows.extend(support::big::rows(&s));
    }
    support::report(&s, &rows);
}
