//! What Coffer is compared with: raw redb, SQLite (as bots usually use it, and with group
//! commit), and the old bot's whole-file JSON rewrite. Same transfer everywhere: read two
//! balances, write both, append the two ledger legs, one durable commit.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use redb::{ReadableTable, TableDefinition};

use super::{run_load, Row, Settings};

const BALANCES: TableDefinition<u64, i64> = TableDefinition::new("balances");
const LEDGER: TableDefinition<u64, &[u8]> = TableDefinition::new("ledger");
/// An on-disk leaderboard index: (minus the balance, user), so the richest come first.
const RANKS: TableDefinition<(i64, u64), ()> = TableDefinition::new("ranks");

/// A ledger leg as the baselines store it (about the size of Coffer's JSON entry).
fn leg(id: u64, user: u64, amount: i64, after: i64) -> Vec<u8> {
    format!(
        r#"{{"id":{id},"user":"{user}","amount":{amount},"balance_after":{after},"kind":"transfer","description":"Sent to member {user}","actor":"system","at":"2026-12-02T00:00:00Z"}}"#
    )
    .into_bytes()
}

/// Plain redb with the benchmark's accounts, ready for transfers.
pub struct Plain {
    _dir: tempfile::TempDir,
    db: Arc<redb::Database>,
    next: Arc<std::sync::atomic::AtomicU64>,
    accounts: u64,
    /// Keeps an on-disk leaderboard index table current in every transfer.
    indexed: bool,
}

impl Plain {
    pub fn new(accounts: u64, indexed: bool) -> Plain {
        let dir = super::scratch();
        let db = Arc::new(redb::Database::create(dir.path().join("plain.redb")).expect("redb"));
        {
            let tx = db.begin_write().expect("write");
            {
                let mut t = tx.open_table(BALANCES).expect("table");
                let mut r = tx.open_table(RANKS).expect("ranks");
                for u in 1..=accounts {
                    t.insert(u, 1_000_000).expect("insert");
                    if indexed {
                        r.insert((-1_000_000, u), ()).expect("rank");
                    }
                }
                tx.open_table(LEDGER).expect("ledger");
            }
            tx.commit().expect("commit");
        }
        Plain {
            _dir: dir,
            db,
            next: Arc::new(std::sync::atomic::AtomicU64::new(1)),
            accounts,
            indexed,
        }
    }

    /// One caller's transfer: one write transaction and one durable commit per call.
    pub fn op(&self) -> impl FnMut(&mut super::Rng) -> bool + Send + 'static {
        let (db, next, n) = (self.db.clone(), self.next.clone(), self.accounts);
        let indexed = self.indexed;
        move |rng| {
            let (a, b) = rng.pair(n);
            let tx = db.begin_write().expect("write");
            {
                let mut t = tx.open_table(BALANCES).expect("table");
                let ba = t.get(a).expect("get").map(|v| v.value()).unwrap_or(0);
                let bb = t.get(b).expect("get").map(|v| v.value()).unwrap_or(0);
                t.insert(a, ba - 1).expect("insert");
                t.insert(b, bb + 1).expect("insert");
                let mut l = tx.open_table(LEDGER).expect("ledger");
                let id = next.fetch_add(2, std::sync::atomic::Ordering::Relaxed);
                l.insert(id, leg(id, a, -1, ba - 1).as_slice())
                    .expect("leg");
                l.insert(id + 1, leg(id + 1, b, 1, bb + 1).as_slice())
                    .expect("leg");
                if indexed {
                    let mut r = tx.open_table(RANKS).expect("ranks");
                    for (user, before, after) in [(a, ba, ba - 1), (b, bb, bb + 1)] {
                        r.remove((-before, user)).expect("unrank");
                        r.insert((-after, user), ()).expect("rank");
                    }
                }
            }
            tx.commit().is_ok()
        }
    }
}

pub fn redb_plain(s: &Settings) -> Vec<Row> {
    let plain = Plain::new(s.accounts, false);
    s.callers
        .iter()
        .map(|&callers| {
            let m = run_load(callers, s.run_for, |_| plain.op());
            let row = m.row("redb plain, 1 txn/op", callers, String::new());
            eprintln!("  {row:?}");
            row
        })
        .collect()
}

fn sqlite_open(path: &std::path::Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).expect("sqlite");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.pragma_update(None, "synchronous", "FULL").expect("full");
    c.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy timeout");
    c
}

fn sqlite_transfer(c: &rusqlite::Connection, a: u64, b: u64) -> rusqlite::Result<()> {
    let ba: i64 = c.query_row("SELECT balance FROM accounts WHERE user = ?1", [a], |r| {
        r.get(0)
    })?;
    let bb: i64 = c.query_row("SELECT balance FROM accounts WHERE user = ?1", [b], |r| {
        r.get(0)
    })?;
    c.execute(
        "UPDATE accounts SET balance = ?2 WHERE user = ?1",
        [a as i64, ba - 1],
    )?;
    c.execute(
        "UPDATE accounts SET balance = ?2 WHERE user = ?1",
        [b as i64, bb + 1],
    )?;
    let mut ins = c.prepare_cached("INSERT INTO ledger (user, body) VALUES (?1, ?2)")?;
    ins.execute(rusqlite::params![a as i64, leg(0, a, -1, ba - 1)])?;
    ins.execute(rusqlite::params![b as i64, leg(0, b, 1, bb + 1)])?;
    Ok(())
}

/// SQLite WAL, `synchronous=FULL`: one transaction per transfer from a connection per caller,
/// or (`group`) one writer thread draining what is queued into one transaction.
pub fn sqlite(s: &Settings, group: bool) -> Vec<Row> {
    let dir = super::scratch();
    let path = dir.path().join("bench.sqlite");
    {
        let mut c = sqlite_open(&path);
        c.execute_batch(
            "CREATE TABLE accounts (user INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
             CREATE TABLE ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, user INTEGER NOT NULL, body BLOB NOT NULL);
             CREATE INDEX ledger_user ON ledger (user, id);",
        )
        .expect("schema");
        let tx = c.transaction().expect("tx");
        {
            let mut ins = tx
                .prepare("INSERT INTO accounts (user, balance) VALUES (?1, 1000000)")
                .expect("prepare");
            for u in 1..=s.accounts {
                ins.execute([u as i64]).expect("seed");
            }
        }
        tx.commit().expect("commit");
    }
    let n = s.accounts;
    let name = if group {
        "sqlite WAL FULL, group commit"
    } else {
        "sqlite WAL FULL, 1 txn/op"
    };
    let writer = group.then(|| GroupWriter::start(sqlite_open(&path)));
    let rows = s
        .callers
        .iter()
        .map(|&callers| {
            let m = if let Some(w) = &writer {
                run_load(callers, s.run_for, |_| {
                    let w = w.clone();
                    move |rng| w.transfer(rng.pair(n))
                })
            } else {
                run_load(callers, s.run_for, |_| {
                    let c = sqlite_open(&path);
                    move |rng| {
                        let (a, b) = rng.pair(n);
                        let ok = c
                            .execute_batch("BEGIN IMMEDIATE")
                            .and_then(|()| sqlite_transfer(&c, a, b))
                            .and_then(|()| c.execute_batch("COMMIT"));
                        if ok.is_err() {
                            let _ = c.execute_batch("ROLLBACK");
                        }
                        ok.is_ok()
                    }
                })
            };
            let row = m.row(name, callers, String::new());
            eprintln!("  {row:?}");
            row
        })
        .collect();
    if let Some(w) = writer {
        w.stop();
    }
    rows
}

type Job = ((u64, u64), mpsc::Sender<bool>);

/// One SQLite writer thread: takes the first queued transfer, drains up to 256 more, runs them
/// in one transaction (each in a savepoint, so one failure stays its own) and commits once.
#[derive(Clone)]
struct GroupWriter {
    tx: Arc<Mutex<Option<mpsc::Sender<Job>>>>,
}

impl GroupWriter {
    fn start(mut c: rusqlite::Connection) -> GroupWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut jobs = vec![first];
                while jobs.len() < 256 {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                let t = c.transaction().expect("tx");
                let mut results = Vec::with_capacity(jobs.len());
                for ((a, b), _) in &jobs {
                    let ok = t.execute_batch("SAVEPOINT op").is_ok()
                        && sqlite_transfer(&t, *a, *b).is_ok();
                    let _ = t.execute_batch(if ok {
                        "RELEASE op"
                    } else {
                        "ROLLBACK TO op; RELEASE op"
                    });
                    results.push(ok);
                }
                let committed = t.commit().is_ok();
                for ((_, reply), ok) in jobs.into_iter().zip(results) {
                    let _ = reply.send(ok && committed);
                }
            }
        });
        GroupWriter {
            tx: Arc::new(Mutex::new(Some(tx))),
        }
    }

    fn transfer(&self, pair: (u64, u64)) -> bool {
        let (reply, answer) = mpsc::channel();
        let sent = self
            .tx
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(|tx| tx.send((pair, reply)).is_ok()));
        sent == Some(true) && answer.recv().unwrap_or(false)
    }

    fn stop(self) {
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
    }
}

/// The disk's own limit for one-op commits: one 4 KiB write and `fdatasync` per operation, into
/// a file written and synced beforehand (no metadata to sync), one caller. The issue measured
/// 10,800/s on its machine; every durable figure here is bounded by this one.
pub fn disk(s: &Settings) -> Vec<Row> {
    use std::os::unix::fs::FileExt;
    const PAGES: u64 = 1024;
    let dir = super::scratch();
    let file = std::fs::File::create(dir.path().join("disk.bin")).expect("disk file");
    // Filled page by page: one large write would put the file in large page-cache folios, and
    // then every 4 KiB write dirties (and writes back) a whole folio.
    for p in 0..PAGES {
        file.write_all_at(&[0u8; 4096], p * 4096).expect("fill");
    }
    file.sync_all().expect("sync");
    let file = Arc::new(file);
    let m = run_load(1, s.run_for, |_| {
        let file = file.clone();
        let page = vec![7u8; 4096];
        let mut at = 0u64;
        move |_| {
            at = (at + 1) % PAGES;
            file.write_all_at(&page, at * 4096).is_ok() && file.sync_data().is_ok()
        }
    });
    let row = m.row("disk: 4 KiB write + fdatasync", 1, String::new());
    eprintln!("  {row:?}");
    vec![row]
}

/// The old bot: all of a guild's users in one JSON file, rewritten (temp file, fsync, rename)
/// on every operation. 1,000 users, one caller (the old bot wrote under one lock).
pub fn json_file(s: &Settings) -> Vec<Row> {
    let dir = super::scratch();
    let path = dir.path().join("guild.json");
    let users: HashMap<String, serde_json::Value> = (1..=1000u64)
        .map(|u| {
            (
                u.to_string(),
                serde_json::json!({"balance": 1_000_000, "inventory": [], "last_daily": null,
                    "total_earned": 1_000_000, "total_spent": 0}),
            )
        })
        .collect();
    let state = Arc::new(Mutex::new((users, Vec::<serde_json::Value>::new())));
    let m = run_load(1, s.run_for, |_| {
        let (state, path) = (state.clone(), path.clone());
        move |rng| {
            let (a, b) = rng.pair(1000);
            let Ok(mut g) = state.lock() else {
                return false;
            };
            let (users, log) = &mut *g;
            for (u, d) in [(a, -1), (b, 1)] {
                if let Some(bal) = users
                    .get_mut(&u.to_string())
                    .and_then(|v| v.get_mut("balance"))
                {
                    *bal = serde_json::json!(bal.as_i64().unwrap_or(0) + d);
                }
                log.push(serde_json::json!({"user": u.to_string(), "amount": d}));
            }
            let bytes =
                serde_json::to_vec(&serde_json::json!({"users": users})).unwrap_or_default();
            let tmp = path.with_extension("tmp");
            let ok = (|| -> std::io::Result<()> {
                use std::io::Write;
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&bytes)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)
            })();
            ok.is_ok()
        }
    });
    let row = m.row("json file rewrite (1,000 users)", 1, String::new());
    eprintln!("  {row:?}");
    vec![row]
}
