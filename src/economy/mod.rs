//! The currency ledger as a service: daily rewards, transfers, admin adjustments and reversals,
//! plus the queries over accounts and the ledger. Each operation is one store write (decide, then
//! apply); no Discord or HTTP types here.

mod archive;
mod integrity;
mod ops;
mod queries;
pub mod ratelimit;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::{Actor, GuildId, Source, UserId};
use crate::error::Error;
use crate::store::Store;

pub use integrity::{GuildIntegrity, UserIntegrity};
pub use ops::{AdjustOutcome, Adjustment, DailyOutcome, ReverseOutcome, TransferOutcome};
pub use queries::{next_daily_at, LeaderboardEntry, Page, Period, Statistics, TxFilter, TxSort};

/// Who asks, through which door, and the optional idempotency key (a Discord interaction id,
/// an HTTP `Idempotency-Key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpMeta {
    pub actor: Actor,
    pub source: Source,
    pub idempotency_key: Option<String>,
}

impl OpMeta {
    pub fn user(user: UserId, source: Source) -> OpMeta {
        OpMeta {
            actor: Actor::User(user),
            source,
            idempotency_key: None,
        }
    }

    pub fn system() -> OpMeta {
        OpMeta {
            actor: Actor::System,
            source: Source::System,
            idempotency_key: None,
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> OpMeta {
        self.idempotency_key = Some(key.into());
        self
    }
}

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
        if let Some(key) = meta.idempotency_key.as_deref() {
            if self
                .store
                .read(guild, |r| r.idempotency_record(key))?
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
