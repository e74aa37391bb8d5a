//! The currency ledger as a service: daily rewards, transfers, admin adjustments and reversals,
//! plus the queries over accounts and the ledger. Each operation is one store write (decide, then
//! apply); no Discord or HTTP types here.

mod archive;
mod integrity;
mod ops;
mod queries;
pub mod ratelimit;

use std::sync::Arc;

pub use crate::domain::OpMeta;
use crate::domain::{GuildId, UserId};
use crate::error::Error;
use crate::store::Store;

pub use integrity::{GuildIntegrity, UserIntegrity};
pub use ops::{
    AdjustOutcome, Adjustment, DailyOutcome, ReverseOutcome, TransferOutcome, MAX_REASON_CHARS,
};
pub use queries::{
    next_daily_at, LeaderboardEntry, Page, Period, Statistics, TxFilter, TxSort, MAX_DAYS,
};

#[derive(Clone)]
pub struct Economy {
    store: Store,
    limiter: Arc<ratelimit::RateLimiter>,
}

impl Economy {
    pub fn new(store: Store) -> Economy {
        Economy {
            store,
            limiter: Arc::new(ratelimit::RateLimiter::default()),
        }
    }

    /// Runs a rate-limited user operation: an idempotent replay skips the limit; a refused
    /// operation gives its slot back.
    pub(crate) fn limited<T>(
        &self,
        guild: GuildId,
        user: UserId,
        meta: &OpMeta,
        op: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        if let Some(key) = meta.key() {
            if self
                .store
                .read(guild, |r| r.idempotency_record(key.key()))?
                .is_some()
            {
                return op();
            }
        }
        let per_minute = self
            .store
            .read(guild, |r| r.guild_config())?
            .rate_limit_per_minute;
        let permit = self
            .limiter
            .acquire(guild, user, per_minute, self.store.now())?;
        let out = op();
        if out.is_err() {
            self.limiter.release(permit);
        }
        out
    }
}

#[cfg(test)]
mod concurrency;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
