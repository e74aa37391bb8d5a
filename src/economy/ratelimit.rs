//! Per-member rate limit on balance-changing user operations: a sliding one-minute window,
//! in memory (a restart forgives everyone, which is harmless). Admin operations skip it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::domain::{DomainError, GuildId, UserId};

/// Per member: the times of their recent operations, oldest first.
type Windows = HashMap<(GuildId, UserId), VecDeque<DateTime<Utc>>>;

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<Windows>,
}

/// A reserved slot; give it back with `RateLimiter::release` if the operation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permit {
    key: (GuildId, UserId),
    at: DateTime<Utc>,
}

const WINDOW_SECS: i64 = 60;

impl RateLimiter {
    /// Reserves a slot, or says how long until one frees up. `per_minute == 0` means no limit.
    pub fn acquire(
        &self,
        guild: GuildId,
        user: UserId,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<Permit>, DomainError> {
        if per_minute == 0 {
            return Ok(None);
        }
        let key = (guild, user);
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let window = map.entry(key).or_default();
        let start = now - Duration::seconds(WINDOW_SECS);
        while window.front().is_some_and(|t| *t <= start) {
            window.pop_front();
        }
        if window.len() >= per_minute as usize {
            let oldest = window.front().copied().unwrap_or(now);
            let wait = (oldest + Duration::seconds(WINDOW_SECS) - now).num_milliseconds();
            // Round up: "try again in 0 s" would be a lie.
            let secs = ((wait.max(1) + 999) / 1000) as u64;
            return Err(DomainError::RateLimited {
                retry_after_secs: secs,
            });
        }
        window.push_back(now);
        if map.len() > 100_000 {
            map.retain(|_, w| w.back().is_some_and(|t| *t > start));
        }
        Ok(Some(Permit { key, at: now }))
    }

    /// Returns a slot taken for an operation that was then refused.
    pub fn release(&self, permit: Option<Permit>) {
        let Some(p) = permit else { return };
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(window) = map.get_mut(&p.key) {
            if let Some(pos) = window.iter().rposition(|t| *t == p.at) {
                window.remove(pos);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn allows_the_limit_then_refuses_with_the_wait_until_the_window_slides() {
        let rl = RateLimiter::default();
        let (g, u) = (GuildId(1), UserId(2));
        for i in 0..5 {
            rl.acquire(g, u, 5, t(i)).unwrap();
        }
        let err = rl.acquire(g, u, 5, t(10)).unwrap_err();
        assert_eq!(
            err,
            DomainError::RateLimited {
                retry_after_secs: 50
            }
        );
        assert_eq!(err.to_string(), "Slow down: try again in 50 s.");
        // 59 s after the first op: still full; at 60 s the first slot frees.
        assert!(rl.acquire(g, u, 5, t(59)).is_err());
        assert!(rl.acquire(g, u, 5, t(60)).is_ok());
    }

    #[test]
    fn limits_are_per_member_and_zero_means_unlimited() {
        let rl = RateLimiter::default();
        rl.acquire(GuildId(1), UserId(1), 1, t(0)).unwrap();
        assert!(rl.acquire(GuildId(1), UserId(1), 1, t(1)).is_err());
        assert!(rl.acquire(GuildId(1), UserId(2), 1, t(1)).is_ok());
        assert!(rl.acquire(GuildId(2), UserId(1), 1, t(1)).is_ok());
        for _ in 0..100 {
            assert_eq!(rl.acquire(GuildId(3), UserId(1), 0, t(1)).unwrap(), None);
        }
    }

    #[test]
    fn a_released_permit_frees_its_slot() {
        let rl = RateLimiter::default();
        let p = rl.acquire(GuildId(1), UserId(1), 1, t(0)).unwrap();
        rl.release(p);
        assert!(rl.acquire(GuildId(1), UserId(1), 1, t(0)).is_ok());
    }
}
