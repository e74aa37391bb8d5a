//! `DomainError`: refusals a user can understand and act on. The `Display` text is what the
//! user sees (Discord reply, JSON `message`); it never contains internal detail.

use chrono::{DateTime, Utc};

use super::money::{group_thousands, Money};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("Invalid amount: {0}.")]
    InvalidAmount(String),
    #[error("You need {} {currency} but have {}.", group_thousands(needed.get()), group_thousands(available.get()))]
    InsufficientFunds {
        needed: Money,
        available: Money,
        currency: String,
    },
    #[error("You can claim again {}.", describe_until(*until, *now))]
    OnCooldown {
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    #[error("Slow down: try again in {retry_after_secs} s.")]
    RateLimited { retry_after_secs: u64 },
    #[error("You can't send money to yourself.")]
    SelfTransfer,
    #[error("That would push a balance past the largest amount Coffer can hold.")]
    BalanceOverflow,
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0} not found.")]
    NotFound(String),
    #[error("Transaction {original} was already reversed by transaction {by}.")]
    AlreadyReversed { original: u64, by: u64 },
    #[error("{0}")]
    WouldGoNegative(String),
    /// The key was first used with another operation or another input: nothing was applied.
    #[error("This idempotency key was already used for a different request; nothing was changed. Use a new key for a new request.")]
    IdempotencyKeyReused,
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Refused(String),
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A stable machine-readable code (the JSON API's `error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            DomainError::InvalidAmount(_) => "invalid_amount",
            DomainError::InsufficientFunds { .. } => "insufficient_funds",
            DomainError::OnCooldown { .. } => "on_cooldown",
            DomainError::RateLimited { .. } => "rate_limited",
            DomainError::SelfTransfer => "self_transfer",
            DomainError::BalanceOverflow => "balance_overflow",
            DomainError::LimitExceeded(_) => "limit_exceeded",
            DomainError::NotFound(_) => "not_found",
            DomainError::AlreadyReversed { .. } => "already_reversed",
            DomainError::WouldGoNegative(_) => "would_go_negative",
            DomainError::IdempotencyKeyReused => "idempotency_key_reused",
            DomainError::Invalid { .. } => "invalid",
            DomainError::Conflict(_) => "conflict",
            DomainError::Refused(_) => "refused",
        }
    }
}

/// "at 2026-11-22 08:00 UTC (in 3 h 12 min)".
pub fn describe_until(until: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (until - now).num_seconds().max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let rel = if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min {s} s")
    } else {
        format!("{s} s")
    };
    format!("at {} (in {rel})", until.format("%Y-%m-%d %H:%M:%S UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn insufficient_funds_reads_like_a_sentence() {
        let e = DomainError::InsufficientFunds {
            needed: Money::new(250),
            available: Money::new(120),
            currency: "coins".into(),
        };
        assert_eq!(e.to_string(), "You need 250 coins but have 120.");
    }

    #[test]
    fn cooldown_names_the_exact_time_and_the_wait() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2026, 1, 1, 13, 12, 5).unwrap();
        let e = DomainError::OnCooldown { until, now };
        assert_eq!(
            e.to_string(),
            "You can claim again at 2026-01-01 13:12:05 UTC (in 3 h 12 min)."
        );
        let soon = now + chrono::Duration::seconds(1);
        assert!(describe_until(soon, now).ends_with("(in 1 s)"));
    }
}
