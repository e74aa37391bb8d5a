//! Login throttling: at most 5 failed logins per 15 minutes per username and per IP address;
//! past that, 429 with `Retry-After` until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

pub const MAX_FAILURES: usize = 5;

pub fn window() -> Duration {
    Duration::minutes(15)
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl LoginThrottle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<DateTime<Utc>>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(seconds to wait)` when any of `keys` is at its limit.
    pub fn check(&self, keys: &[String], now: DateTime<Utc>) -> Result<(), u64> {
        let mut map = self.map();
        let mut wait = 0i64;
        for k in keys {
            if let Some(q) = map.get_mut(k) {
                while q.front().is_some_and(|t| *t <= now - window()) {
                    q.pop_front();
                }
                if q.len() >= MAX_FAILURES {
                    if let Some(oldest) = q.front() {
                        wait = wait.max((*oldest + window() - now).num_seconds());
                    }
                }
            }
        }
        if wait > 0 {
            Err(u64::try_from(wait).unwrap_or(1).max(1))
        } else {
            Ok(())
        }
    }

    pub fn fail(&self, keys: &[String], now: DateTime<Utc>) {
        let mut map = self.map();
        // Bound memory under a spray of usernames: forget windows that are over.
        if map.len() > 10_000 {
            map.retain(|_, q| q.back().is_some_and(|t| *t > now - window()));
        }
        for k in keys {
            let q = map.entry(k.clone()).or_default();
            q.push_back(now);
            while q.len() > MAX_FAILURES {
                q.pop_front();
            }
        }
    }

    pub fn clear(&self, key: &str) {
        self.map().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::t0;

    #[test]
    fn five_failures_lock_the_key_until_the_window_passes() {
        let t = LoginThrottle::default();
        let keys = vec!["user:ann".to_owned()];
        for i in 0..5 {
            assert!(t.check(&keys, t0()).is_ok());
            t.fail(&keys, t0() + Duration::seconds(i));
        }
        let wait = t.check(&keys, t0() + Duration::seconds(10)).unwrap_err();
        assert_eq!(wait, 15 * 60 - 10);
        assert!(t.check(&keys, t0() + Duration::minutes(16)).is_ok());
        assert!(t.check(&["user:bob".to_owned()], t0()).is_ok());
    }
}
