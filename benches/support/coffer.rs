//! Coffer itself: the service layer, the HTTP API, and the read paths.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer::clock::SystemClock;
use coffer::domain::{GuildConfig, GuildId, Money, OpMeta, TxKind, UserId};
use coffer::economy::Economy;
use coffer::store::accounts::NewEntry;
use coffer::store::{Store, StoreError, StoreOptions};

use super::{run_load, Row, Settings};

pub const G: GuildId = GuildId(1);

pub fn open(path: &Path) -> Store {
    Store::open(
        path,
        Arc::new(SystemClock),
        StoreOptions {
            defaults: GuildConfig {
                rate_limit_per_minute: 0,
                ..GuildConfig::default()
            },
            ..StoreOptions::default()
        },
    )
    .expect("open store")
}

/// `n` accounts (users 1..=n) with 1,000,000 each, 10,000 per write.
pub fn seed(store: &Store, n: u64) {
    let mut next = 1;
    while next <= n {
        let end = (next + 10_000).min(n + 1);
        store
            .write(G, |w| {
                for u in next..end {
                    w.append_entry(NewEntry::new(
                        UserId(u),
                        Money::new(1_000_000),
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

/// One caller's transfer of 1 between two random accounts of `1..=n`, through the service.
fn transfer_op(economy: &Economy, n: u64) -> impl FnMut(&mut super::Rng) -> bool + Send + 'static {
    let economy = economy.clone();
    let meta = OpMeta::system();
    move |rng| {
        let (a, b) = rng.pair(n);
        economy
            .transfer(G, UserId(a), UserId(b), Money::new(1), &meta)
            .is_ok()
    }
}

pub fn service_transfers(s: &Settings) -> Vec<Row> {
    let dir = super::scratch();
    let store = open(&dir.path().join("coffer.redb"));
    seed(&store, s.accounts);
    let economy = Economy::new(store.clone());
    let n = s.accounts;
    // The leaderboard index is built on first use: the rows run without it, then the last
    // caller count again with it live, so its cost to writes shows.
    let mut runs: Vec<(usize, bool)> = s.callers.iter().map(|&c| (c, false)).collect();
    runs.extend(s.callers.last().map(|&c| (c, true)));
    runs.into_iter()
        .map(|(callers, indexed)| {
            if indexed {
                economy.leaderboard(G, 1, 10).expect("leaderboard");
            }
            let stats0 = store.writer_stats();
            let m = run_load(callers, s.run_for, |_| transfer_op(&economy, n));
            let stats = store.writer_stats();
            let commits = (stats.commits - stats0.commits).max(1);
            let ops = (stats.operations - stats0.operations).max(1);
            let row = m.row(
                if indexed {
                    "coffer service, leaderboard index live"
                } else {
                    "coffer service transfer"
                },
                callers,
                format!(
                    "{:.1} ops/commit, commits {:.0} us each, {:.0}% of the time",
                    ops as f64 / commits as f64,
                    (stats.commit_micros - stats0.commit_micros) as f64 / commits as f64,
                    (stats.commit_micros - stats0.commit_micros) as f64
                        / 1e4
                        / s.run_for.as_secs_f64()
                ),
            );
            eprintln!("  {row:?}");
            row
        })
        .collect()
}

/// One caller each: Coffer's service, plain redb, and plain redb that also keeps an on-disk
/// leaderboard index table (what such an index costs writes), in round-robin slices of a fifth
/// of a row (five each), so that all three see the same moments of a noisy machine. Run one
/// after the other, 1-caller rows drift apart by more than the differences between them.
pub fn one_caller_side_by_side(s: &Settings) -> Vec<Row> {
    use super::baselines::Plain;
    type Op = Box<dyn FnMut(&mut super::Rng) -> bool + Send>;
    let dir = super::scratch();
    let store = open(&dir.path().join("coffer.redb"));
    seed(&store, s.accounts);
    let economy = Economy::new(store.clone());
    let (plain, indexed) = (Plain::new(s.accounts, false), Plain::new(s.accounts, true));
    let makers: [(&str, &dyn Fn() -> Op); 3] = [
        ("coffer service transfer, interleaved", &|| {
            Box::new(transfer_op(&economy, s.accounts))
        }),
        ("redb plain, interleaved", &|| Box::new(plain.op())),
        ("redb plain + rank index table, interleaved", &|| {
            Box::new(indexed.op())
        }),
    ];
    let mut measured: Vec<super::Measured> =
        makers.iter().map(|_| super::Measured::empty()).collect();
    for _ in 0..5 {
        for ((_, make), m) in makers.iter().zip(&mut measured) {
            m.absorb(run_load(1, s.run_for / 5, |_| make()));
        }
    }
    makers
        .iter()
        .zip(measured)
        .map(|((name, _), m)| {
            let row = m.row(name, 1, "5 slices each, round robin".to_owned());
            eprintln!("  {row:?}");
            row
        })
        .collect()
}

/// The admin add through the real router and server: Bearer token, keep-alive connections.
pub fn http_adjust(s: &Settings) -> Vec<Row> {
    let dir = super::scratch();
    {
        let store = open(&dir.path().join("coffer.redb"));
        seed(&store, s.accounts);
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let text = format!(
        "[storage]\ndata_dir = {:?}\n[defaults]\nrate_limit_per_minute = 0\n",
        dir.path().display().to_string()
    );
    let env: BTreeMap<String, String> = [
        ("ADMIN_USERNAME", "bench"),
        ("ADMIN_PASSWORD", "bench-password-1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config = coffer::config::Config::parse("bench.toml", &text, &env).expect("config");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = rt.spawn(coffer::app::run_until(
        config,
        Arc::new(SystemClock),
        listener,
        async move {
            let _ = rx.await;
        },
    ));
    let token = login(&addr.to_string());
    let n = s.accounts;
    let rows = s
        .callers
        .iter()
        .map(|&callers| {
            let m = run_load(callers, s.run_for, |_| {
                let mut conn = Conn::open(&addr.to_string());
                let auth = format!("Bearer {token}");
                move |rng| {
                    let u = rng.below(n) + 1;
                    let (status, _) = conn.call(
                        "PUT",
                        &format!("/api/{}/users/{u}/balance", G.0),
                        &[("Authorization", &auth)],
                        r#"{"op":"add","amount":1,"reason":"bench"}"#,
                    );
                    status == 200
                }
            });
            let row = m.row("coffer HTTP admin add", callers, String::new());
            eprintln!("  {row:?}");
            row
        })
        .collect();
    let _ = tx.send(());
    let _ = rt.block_on(server);
    rows
}

pub fn login(addr: &str) -> String {
    let mut c = Conn::open(addr);
    let (status, body) = c.call(
        "POST",
        "/api/auth/login",
        &[],
        r#"{"username":"bench","password":"bench-password-1"}"#,
    );
    assert_eq!(status, 200, "login: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("login json");
    v["access_token"].as_str().expect("token").to_owned()
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
    host: String,
}

impl Conn {
    pub fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        Conn {
            r: BufReader::new(s.try_clone().expect("clone")),
            w: s,
            host: addr.to_owned(),
        }
    }

    pub fn call(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.w.write_all(req.as_bytes()).expect("send");
        let mut line = String::new();
        self.r.read_line(&mut line).expect("status line");
        let status = line.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line).expect("header");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut buf = vec![0; len];
        self.r.read_exact(&mut buf).expect("body");
        (status, String::from_utf8_lossy(&buf).into_owned())
    }
}

/// Leaderboard top-10 and one user's rank among all accounts.
pub fn reads(s: &Settings) -> Vec<Row> {
    let dir = super::scratch();
    let store = open(&dir.path().join("coffer.redb"));
    seed(&store, s.accounts);
    let economy = Economy::new(store.clone());
    // Spread the balances so ranks differ.
    economy
        .adjust(
            G,
            UserId(s.accounts / 2),
            coffer::economy::Adjustment::Add(Money::new(5)),
            "",
            &OpMeta::system(),
        )
        .expect("adjust");
    let time = |f: &mut dyn FnMut()| -> Vec<f64> {
        f(); // warm (an index may build on first use)
        (0..50)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect()
    };
    let note = format!("{} accounts", s.accounts);
    let top = time(&mut || {
        let page = economy.leaderboard(G, 1, 10).expect("leaderboard");
        assert_eq!(page.items.len(), 10);
    });
    let user = UserId(s.accounts - 3);
    let rank = time(&mut || {
        economy.rank(G, user).expect("rank");
    });
    let mut rows = vec![
        latency_row("leaderboard top-10", top, &note),
        latency_row("leaderboard rank of one user", rank, &note),
    ];
    rows.extend(rank_at_scale(s.big_entries, &time));
    rows
}

/// One rank among `n` accounts in the in-memory index alone (a guild far past the benchmark's
/// 100,000), side by side with counting the entries above in a `BTreeSet`, which is how ranks
/// were found before `Ranking`.
fn rank_at_scale(n: u64, time: &dyn Fn(&mut dyn FnMut()) -> Vec<f64>) -> Vec<Row> {
    use coffer::store::leaderboard::{AccountFact, Boards};
    use std::cmp::Reverse;
    // Balances spread so that every rank differs; the user asked about sits in the middle.
    let fact = |u: u64| AccountFact {
        user: UserId(u),
        balance: Money::new(i64::try_from(u.wrapping_mul(7_919) % 1_000_003).unwrap_or(0)),
        total_earned: Money::ZERO,
        active: true,
    };
    let boards = Boards::default();
    let user = UserId(n / 2);
    let load = || Ok::<_, StoreError>((1..=n).map(fact).collect::<Vec<_>>());
    let mut ranked = 0;
    let rss0 = super::rss_kib().0;
    boards.rank(G, user, load).expect("build the index");
    let index_mib = super::rss_kib().0.saturating_sub(rss0) as f64 / 1024.0;
    let index = time(&mut || {
        let r = boards.rank(G, user, load).expect("rank").expect("ranked");
        ranked = r.rank;
    });
    let set: std::collections::BTreeSet<(Reverse<Money>, UserId)> = (1..=n)
        .map(|u| (Reverse(fact(u).balance), UserId(u)))
        .collect();
    let me = (Reverse(fact(user.0).balance), user);
    let mut counted = 0;
    let btree = time(&mut || counted = set.range(..me).count() as u64 + 1);
    assert_eq!(ranked, counted, "the index and the count disagree");
    let note = format!("{n} accounts, in memory");
    vec![
        latency_row(
            "leaderboard rank, index",
            index,
            &format!("{note}, index {index_mib:.0} MiB"),
        ),
        latency_row("leaderboard rank, BTreeSet count", btree, &note),
    ]
}

/// A row from single-call latencies in microseconds (one caller, back to back).
fn latency_row(name: &str, lat: Vec<f64>, note: &str) -> Row {
    super::Measured {
        ops: lat.len() as u64,
        failed: 0,
        elapsed: Duration::from_secs_f64(lat.iter().sum::<f64>() / 1e6),
        lat_us: lat,
        written: 0,
    }
    .row(name, 1, note.to_owned())
}
