//! Login throttling, per (username, client address) and per client address: a few free
//! failures, then a delay that doubles with each failure (capped), never a hard lock of the
//! account. An attempt is counted when it starts, under the same lock as the check, so parallel
//! attempts cannot all pass the check; and password checks (argon2, ~19 MiB each) run on
//! `HASH_SLOTS` dedicated threads, so at most that many run at once (their memory goes back to
//! the system after each check, see `accounts::verify_password`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Failed logins for one (username, address) pair before delays start.
pub const FREE_PER_USER: u32 = 5;
/// Failed logins from one address, over every username, before delays start.
pub const FREE_PER_ADDRESS: u32 = 20;
/// Password checks running at once (and threads running them); more wait up to `HASH_WAIT`,
/// then get 503.
pub const HASH_SLOTS: usize = 2;
pub const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The longest delay between two attempts.
pub fn max_delay() -> Duration {
    Duration::minutes(15)
}

/// A key is forgotten after this long without attempts.
pub fn forget_after() -> Duration {
    Duration::hours(1)
}

/// What a login attempt is counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    name: String,
    free: u32,
}

impl Key {
    /// The (username, address) pair: usernames compare case-insensitively.
    pub fn user_at(username: &str, ip: &str) -> Key {
        Key {
            name: format!("user:{}@{ip}", username.trim().to_lowercase()),
            free: FREE_PER_USER,
        }
    }

    pub fn address(ip: &str) -> Key {
        Key {
            name: format!("ip:{ip}"),
            free: FREE_PER_ADDRESS,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    free: u32,
    last: DateTime<Utc>,
}

/// Keys remembered at most; past that, forgotten keys go first, then keys not yet delayed.
pub const MAX_KEYS: usize = 20_000;

/// How long after its last attempt a key with `failures` failures must wait.
fn delay(failures: u32, free: u32) -> Duration {
    if failures < free {
        return Duration::zero();
    }
    let exp = (failures - free).min(20);
    Duration::seconds(1i64 << exp).min(max_delay())
}

type Job = Box<dyn FnOnce() + Send>;

/// A few long-lived threads for password checks, so a burst never runs more checks at once
/// than there are threads (on spawn_blocking's pool a burst ran ~40 at once, ~19 MiB each).
pub struct HashPool {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl HashPool {
    pub fn new(threads: usize) -> HashPool {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("coffer-passwords-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(p) => p.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => {
                            // A panicking check must not take the thread with it.
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-check thread");
            }
        }
        HashPool { jobs }
    }

    /// Runs `f` on a pool thread; `None` if the pool is gone or `f` panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        self.jobs
            .send(Box::new(move || {
                let _g = span.enter();
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.await.ok()
    }
}

pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Entry>>,
    /// Where password checks run.
    pub pool: HashPool,
    hashing: Semaphore,
    hashed: AtomicU64,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            entries: Mutex::default(),
            pool: HashPool::new(HASH_SLOTS),
            hashing: Semaphore::new(HASH_SLOTS),
            hashed: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }
}

/// A password check in progress (holds a hashing slot).
pub struct Hashing<'a> {
    _permit: SemaphorePermit<'a>,
    throttle: &'a LoginThrottle,
}

impl Drop for Hashing<'_> {
    fn drop(&mut self) {
        self.throttle.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl LoginThrottle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts an attempt: `Err(seconds to wait)` when any key must still wait; otherwise the
    /// attempt is counted as a failure of every key now (`succeeded` takes it back), in the
    /// same critical section as the check.
    pub fn begin(&self, keys: &[Key], now: DateTime<Utc>) -> Result<(), u64> {
        let mut map = self.map();
        if map.len() > MAX_KEYS {
            // Bound memory under a spray of usernames or addresses.
            map.retain(|_, e| now - e.last < forget_after());
            if map.len() > MAX_KEYS {
                map.retain(|_, e| e.failures >= e.free);
            }
        }
        let mut wait = Duration::zero();
        for k in keys {
            if let Some(e) = map.get(&k.name) {
                if now - e.last >= forget_after() {
                    continue;
                }
                let ready = e.last + delay(e.failures, k.free);
                if ready > now {
                    wait = wait.max(ready - now);
                }
            }
        }
        if wait > Duration::zero() {
            let ms = wait.num_milliseconds();
            return Err(u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1));
        }
        for k in keys {
            let e = map.entry(k.name.clone()).or_insert(Entry {
                failures: 0,
                free: k.free,
                last: now,
            });
            if now - e.last >= forget_after() {
                e.failures = 0;
            }
            e.failures = e.failures.saturating_add(1);
            e.last = now;
        }
        Ok(())
    }

    /// The attempt succeeded: its pair starts afresh, and its address gets its attempt back.
    pub fn succeeded(&self, user: &Key, address: &Key) {
        let mut map = self.map();
        map.remove(&user.name);
        if let Some(e) = map.get_mut(&address.name) {
            e.failures = e.failures.saturating_sub(1);
        }
    }

    /// A slot for one password check, waiting up to `HASH_WAIT`; `None` when the server is
    /// too busy checking passwords.
    pub async fn hashing_slot(&self) -> Option<Hashing<'_>> {
        let permit = tokio::time::timeout(HASH_WAIT, self.hashing.acquire())
            .await
            .ok()?
            .ok()?;
        self.hashed.fetch_add(1, Ordering::SeqCst);
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Some(Hashing {
            _permit: permit,
            throttle: self,
        })
    }

    /// How many password checks have started, and the most that ever ran at once.
    pub fn hash_stats(&self) -> (u64, usize) {
        (
            self.hashed.load(Ordering::SeqCst),
            self.peak.load(Ordering::SeqCst),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::t0;

    #[test]
    fn five_failures_then_doubling_delays_and_never_a_lock() {
        let t = LoginThrottle::default();
        let keys = [Key::user_at("Ann", "1.2.3.4")];
        for _ in 0..5 {
            assert!(t.begin(&keys, t0()).is_ok());
        }
        assert_eq!(t.begin(&keys, t0()), Err(1));
        let at = t0() + Duration::seconds(1);
        assert!(t.begin(&keys, at).is_ok());
        assert_eq!(t.begin(&keys, at), Err(2));
        // Capped: even after many failures the wait is at most 15 minutes.
        let mut at = at;
        for _ in 0..30 {
            at += max_delay();
            assert!(t.begin(&keys, at).is_ok());
        }
        assert_eq!(t.begin(&keys, at), Err(15 * 60));
        // Another address, or another user, is not affected.
        assert!(t.begin(&[Key::user_at("ann", "5.6.7.8")], at).is_ok());
        assert!(t.begin(&[Key::user_at("bob", "1.2.3.4")], at).is_ok());
        // An hour of quiet forgets the failures.
        let later = at + forget_after();
        for _ in 0..5 {
            assert!(t.begin(&keys, later).is_ok());
        }
    }

    #[test]
    fn a_spray_of_usernames_keeps_memory_bounded_but_delayed_keys() {
        let t = LoginThrottle::default();
        let target = [Key::user_at("admin", "x")];
        for _ in 0..FREE_PER_USER {
            t.begin(&target, t0()).unwrap();
        }
        for i in 0..(MAX_KEYS + 10) {
            let _ = t.begin(&[Key::user_at(&format!("u{i}"), "y")], t0());
        }
        assert!(t.map().len() <= MAX_KEYS + 1);
        assert!(t.begin(&target, t0()).is_err(), "the delayed key was kept");
    }

    #[test]
    fn a_success_clears_the_pair() {
        let t = LoginThrottle::default();
        let (user, ip) = (Key::user_at("ann", "x"), Key::address("x"));
        for _ in 0..4 {
            t.begin(&[user.clone(), ip.clone()], t0()).unwrap();
        }
        t.succeeded(&user, &ip);
        for _ in 0..5 {
            assert!(t.begin(&[user.clone(), ip.clone()], t0()).is_ok());
        }
    }
}
