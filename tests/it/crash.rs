//! Crash safety against the real binary (issue 12): several clients drive balance operations
//! with `Idempotency-Key`s while the process is `kill -9`ed again and again; every answered
//! operation must be in the ledger exactly once and the database must verify. And graceful
//! shutdown: SIGTERM under load stops accepting, finishes what it took in, exits 0 within 10 s.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use coffer::domain::{GuildId, UserId};
use coffer::economy::{Economy, TxFilter, TxSort};
use coffer::store::{Store, StoreOptions};
use rand::Rng;

use crate::cli::{coffer, run, text, Running};

const GUILD: u64 = 111;
const CLIENTS: u64 = 4;
const KILLS: u32 = 22;
const USERS_PER_CLIENT: u64 = 10;
const ENVS: [(&str, &str); 3] = [
    ("ADMIN_USERNAME", "root"),
    ("ADMIN_PASSWORD", "correct horse battery"),
    (
        "JWT_SECRET_KEY",
        "crash-test-secret-0123456789abcdef0123456789abcdef",
    ),
];

/// What one attempt came to.
enum Attempt {
    /// An HTTP answer: status and body.
    Answered(u16, String),
    /// No answer (refused, reset, cut off): the operation may or may not have happened.
    Lost,
}

/// `PUT /api/<guild>/users/<user>/balance` adding `amount` with `key`, on a fresh connection.
fn put_balance(addr: &str, token: &str, user: u64, amount: i64, key: &str) -> Attempt {
    let Ok(addr) = addr.parse::<SocketAddr>() else {
        return Attempt::Lost;
    };
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return Attempt::Lost;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let body =
        serde_json::json!({ "amount": amount, "reason": format!("crash {key}") }).to_string();
    let req = format!(
        "PUT /api/{GUILD}/users/{user}/balance HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(req.as_bytes()).is_err() {
        return Attempt::Lost;
    }
    let mut resp = String::new();
    if s.read_to_string(&mut resp).is_err() || resp.len() < 12 {
        return Attempt::Lost;
    }
    match resp[9..12].parse() {
        Ok(status) => Attempt::Answered(
            status,
            resp.split_once("\r\n\r\n")
                .map(|(_, b)| b.to_owned())
                .unwrap_or_default(),
        ),
        Err(_) => Attempt::Lost,
    }
}

/// One acknowledged operation.
#[derive(Debug, Clone)]
struct Acked {
    user: u64,
    amount: i64,
}

#[derive(Default)]
struct Counts {
    attempts: AtomicU64,
    acked: AtomicU64,
    /// Attempts repeated with the same key after an attempt got no answer.
    retries: AtomicU64,
    /// Operations that needed at least one retry.
    ops_retried: AtomicU64,
}

/// One client: operations `c-0`, `c-1`, ... until `stop`, each retried with its key until it
/// is answered 2xx. Returns the acknowledged ones by key.
fn client(
    c: u64,
    addr: Arc<RwLock<String>>,
    token: String,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) -> BTreeMap<String, Acked> {
    let mut rng = rand::thread_rng();
    let mut acked = BTreeMap::new();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("c{c}-{i}");
        let user = 1000 + c * USERS_PER_CLIENT + rng.gen_range(0..USERS_PER_CLIENT);
        let amount = rng.gen_range(1..=1000);
        let started = Instant::now();
        let mut tries = 0;
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "operation {key} never got an answer"
            );
            let at = addr.read().unwrap_or_else(|p| p.into_inner()).clone();
            counts.attempts.fetch_add(1, Ordering::Relaxed);
            if tries > 0 {
                counts.retries.fetch_add(1, Ordering::Relaxed);
                if tries == 1 {
                    counts.ops_retried.fetch_add(1, Ordering::Relaxed);
                }
            }
            tries += 1;
            match put_balance(&at, &token, user, amount, &key) {
                Attempt::Answered(status, _) if (200..300).contains(&status) => {
                    counts.acked.fetch_add(1, Ordering::Relaxed);
                    acked.insert(key, Acked { user, amount });
                    break;
                }
                Attempt::Answered(status, body) => {
                    panic!("operation {key} was refused: {status} {body}")
                }
                Attempt::Lost => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        i += 1;
    }
    acked
}

fn open_store(data: &Path) -> Store {
    Store::open(
        &data.join("coffer.redb"),
        Arc::new(coffer::clock::SystemClock),
        StoreOptions::default(),
    )
    .expect("the database opens cleanly after the crashes")
}

/// Every ledger entry of the test guild: its description (which carries the key) and amount.
fn ledger(store: &Store) -> Vec<(String, u64, i64)> {
    let eco = Economy::new(store.clone());
    let mut out = Vec::new();
    let filter = TxFilter {
        sort: TxSort::OldestFirst,
        ..TxFilter::default()
    };
    eco.for_each_transaction(GuildId(GUILD), &filter, |tx| {
        out.push((tx.description.clone(), tx.user.0, tx.amount.get()));
        Ok(true)
    })
    .unwrap();
    out
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_operation_and_duplicates_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let app = Running::start(dir.path(), &ENVS);
    let token = app.login("root", "correct horse battery");
    let addr = Arc::new(RwLock::new(app.addr.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (addr, token, stop, counts) =
                (addr.clone(), token.clone(), stop.clone(), counts.clone());
            std::thread::spawn(move || client(c, addr, token, stop, counts))
        })
        .collect();

    let started = Instant::now();
    let mut rng = rand::thread_rng();
    let mut app = Some(app);
    let mut kills = 0;
    let mut acked_at_kill = Vec::new();
    while kills < KILLS {
        std::thread::sleep(Duration::from_millis(rng.gen_range(150..900)));
        // kill -9 (Drop sends SIGKILL and reaps it).
        drop(app.take());
        kills += 1;
        acked_at_kill.push(counts.acked.load(Ordering::Relaxed));
        // Sometimes stay down a moment, so clients see refused connections too.
        if rng.gen_bool(0.3) {
            std::thread::sleep(Duration::from_millis(rng.gen_range(10..200)));
        }
        let next = Running::start(dir.path(), &ENVS);
        *addr.write().unwrap_or_else(|p| p.into_inner()) = next.addr.clone();
        app = Some(next);
    }
    // Let the clients finish their operation in flight against the last, healthy process.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let mut acked: BTreeMap<String, Acked> = BTreeMap::new();
    for c in clients {
        acked.extend(c.join().expect("client thread"));
    }
    let status = app.take().map(|a| a.stop()).expect("running");
    assert!(status.success(), "the last run stops cleanly: {status:?}");

    let n_acked = acked.len() as u64;
    println!(
        "crash test: {n_acked} operations acknowledged, {} attempts, {kills} kill -9s, \
         {} retries ({} operations needed one), {:.1} s; acknowledged by each kill: {acked_at_kill:?}",
        counts.attempts.load(Ordering::Relaxed),
        counts.retries.load(Ordering::Relaxed),
        counts.ops_retried.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= 20);
    assert!(
        n_acked >= 1000,
        "thousands of operations expected, got {n_acked}"
    );
    assert!(
        acked_at_kill.windows(2).filter(|w| w[0] < w[1]).count() >= 10,
        "most kills landed while operations were being acknowledged: {acked_at_kill:?}"
    );

    // Every acknowledged operation is in the ledger exactly once, with its user and amount,
    // and nothing else is.
    let store = open_store(&data);
    let mut by_key: BTreeMap<String, Vec<(u64, i64)>> = BTreeMap::new();
    for (desc, user, amount) in ledger(&store) {
        let key = desc
            .split_once("crash ")
            .map(|(_, k)| k)
            .unwrap_or_else(|| panic!("unexpected ledger entry `{desc}`"));
        by_key
            .entry(key.to_owned())
            .or_default()
            .push((user, amount));
    }
    let duplicated: Vec<_> = by_key.iter().filter(|(_, v)| v.len() > 1).collect();
    assert!(duplicated.is_empty(), "applied twice: {duplicated:?}");
    for (key, a) in &acked {
        assert_eq!(
            by_key.get(key).map(|v| v[0]),
            Some((a.user, a.amount)),
            "acknowledged {key} is not in the ledger as sent"
        );
    }
    assert_eq!(by_key.len(), acked.len(), "entries nobody was answered for");
    // Balances are the sums of what was acknowledged.
    let mut expected: BTreeMap<u64, i64> = BTreeMap::new();
    for a in acked.values() {
        *expected.entry(a.user).or_default() += a.amount;
    }
    let eco = Economy::new(store.clone());
    for (user, sum) in &expected {
        let acct = eco.account(GuildId(GUILD), UserId(*user)).unwrap();
        assert_eq!(acct.balance.get(), *sum, "user {user}");
    }
    drop(eco);
    drop(store);

    // The sum invariant and every per-entry invariant, as an operator would check them.
    let out = run(coffer(dir.path()).arg("verify"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("all consistent"));
}

#[test]
fn sigterm_under_load_finishes_what_it_accepted_and_exits_0_within_10_s() {
    let dir = tempfile::tempdir().unwrap();
    let app = Running::start(dir.path(), &ENVS);
    let token = app.login("root", "correct horse battery");
    let addr = app.addr.clone();
    let answered = Arc::new(Mutex::new(Vec::new()));
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, u64>::new()));
    let lost = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (addr, token) = (addr.clone(), token.clone());
            let (answered, statuses, lost) = (answered.clone(), statuses.clone(), lost.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                let mut i = 0;
                // Until the server is gone (and a little longer): every request either gets a
                // full answer or is refused; none is cut off half-way with a 5xx.
                while started.elapsed() < Duration::from_secs(15) {
                    let key = format!("t{c}-{i}");
                    let user = 2000 + c;
                    match put_balance(&addr, &token, user, 1, &key) {
                        Attempt::Answered(status, _) => {
                            *statuses.lock().unwrap().entry(status).or_default() += 1;
                            if status == 200 {
                                answered.lock().unwrap().push(key);
                            }
                        }
                        Attempt::Lost => {
                            lost.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    let before = answered.lock().unwrap().len();
    let term = Instant::now();
    let status = app.stop();
    let took = term.elapsed();
    for t in threads {
        t.join().unwrap();
    }
    let statuses = statuses.lock().unwrap().clone();
    println!(
        "graceful shutdown: exit {status:?} after {took:?}; {} answered ({before} before SIGTERM), \
         statuses {statuses:?}",
        answered.lock().unwrap().len()
    );
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(before > 20, "the load was running");
    assert_eq!(
        statuses.keys().copied().collect::<Vec<_>>(),
        [200],
        "every answered request succeeded"
    );
    // Every answered request is in the ledger: nothing acknowledged was dropped on the way out.
    let store = open_store(&dir.path().join("data"));
    let entries: std::collections::BTreeSet<String> = ledger(&store)
        .into_iter()
        .filter_map(|(d, _, _)| d.split_once("crash ").map(|(_, k)| k.to_owned()))
        .collect();
    for key in answered.lock().unwrap().iter() {
        assert!(
            entries.contains(key),
            "{key} was answered but is not stored"
        );
    }
}
