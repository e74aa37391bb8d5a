//! `DomainError`: refusals a user can understand and act on. The `Display` text is what the
//! JSON API's `message` and the logs say; it never contains internal detail, nor Discord markup:
//! a refusal that names a member or a role carries the id, and each door writes it its own way.

use std::fmt;

use chrono::{DateTime, Utc};

use super::ids::{RoleId, UserId};
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
    /// An admin asked to remove more than the member's balance.
    #[error("{}", self.plain())]
    RemoveExceedsBalance {
        user: UserId,
        balance: Money,
        currency: String,
    },
    /// A ledger entry would leave the member's balance below zero (`balance` is where it would land).
    #[error("{}", self.plain())]
    NegativeBalance {
        user: UserId,
        balance: Money,
        currency: String,
    },
    /// Undoing `transaction` would leave the member it belongs to below zero.
    #[error("{}", self.plain())]
    ReversalWouldGoNegative { transaction: u64, user: UserId },
    /// An admin asked to take more units of an item than the member holds.
    #[error("{}", self.plain())]
    RemoveExceedsHolding {
        user: UserId,
        item_id: u64,
        item: String,
        held: u64,
    },
    /// The member holds no claim on the task.
    #[error("{}", self.plain())]
    ClaimNotFound {
        user: UserId,
        task_id: u64,
        task: String,
    },
    /// The role is not in the settings' role list `list` (`admin_roles`, `moderator_roles`).
    #[error("{}", self.plain())]
    RoleNotListed { role: RoleId, list: String },
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
            DomainError::WouldGoNegative(_)
            | DomainError::RemoveExceedsBalance { .. }
            | DomainError::NegativeBalance { .. }
            | DomainError::ReversalWouldGoNegative { .. }
            | DomainError::RemoveExceedsHolding { .. } => "would_go_negative",
            DomainError::ClaimNotFound { .. } | DomainError::RoleNotListed { .. } => "not_found",
            DomainError::IdempotencyKeyReused => "idempotency_key_reused",
            DomainError::Invalid { .. } => "invalid",
            DomainError::Conflict(_) => "conflict",
            DomainError::Refused(_) => "refused",
        }
    }

    /// The sentence of a refusal that names members or roles, each written by `name`; `None` for
    /// a refusal that names nobody (its `Display` is the whole sentence). `Display` writes names
    /// as plain words ("user 123"); the Discord door writes mentions.
    pub fn naming(&self, name: impl Fn(Named) -> String) -> Option<String> {
        use DomainError as D;
        let text = match self {
            D::RemoveExceedsBalance {
                user,
                balance,
                currency,
            } => format!(
                "{} has only {balance} {currency}; you can remove at most that.",
                name(Named::User(*user))
            ),
            D::NegativeBalance {
                user,
                balance,
                currency,
            } => format!(
                "That would leave {} with a negative balance ({balance} {currency}).",
                name(Named::User(*user))
            ),
            D::ReversalWouldGoNegative { transaction, user } => format!(
                "Reversing transaction {transaction} would leave {} with a negative balance.",
                name(Named::User(*user))
            ),
            D::RemoveExceedsHolding {
                user, item, held, ..
            } => format!(
                "{} has only {held} of {item}; you can remove at most that.",
                name(Named::User(*user))
            ),
            D::ClaimNotFound { user, task, .. } => format!(
                "A claim by {} on \"{task}\" not found.",
                name(Named::User(*user))
            ),
            D::RoleNotListed { role, list } => {
                format!("{} in {list} not found.", name(Named::Role(*role)))
            }
            _ => return None,
        };
        Some(text)
    }

    /// `naming` with plain words, as a sentence (capitalised).
    fn plain(&self) -> String {
        let text = self.naming(|n| n.to_string()).unwrap_or_default();
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => text,
        }
    }
}

/// A member or role a refusal names. Its `Display` is the plain form: "user 123", "role 42".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    User(UserId),
    Role(RoleId),
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Named::User(u) => write!(f, "user {u}"),
            Named::Role(r) => write!(f, "role {r}"),
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

    fn named_refusals() -> Vec<DomainError> {
        vec![
            DomainError::RemoveExceedsBalance {
                user: UserId(123),
                balance: Money::new(50),
                currency: "coins".into(),
            },
            DomainError::NegativeBalance {
                user: UserId(123),
                balance: Money::new(-5),
                currency: "coins".into(),
            },
            DomainError::ReversalWouldGoNegative {
                transaction: 7,
                user: UserId(123),
            },
            DomainError::RemoveExceedsHolding {
                user: UserId(123),
                item_id: 4,
                item: "Badge".into(),
                held: 2,
            },
            DomainError::ClaimNotFound {
                user: UserId(123),
                task_id: 9,
                task: "Bake".into(),
            },
            DomainError::RoleNotListed {
                role: RoleId(42),
                list: "admin_roles".into(),
            },
        ]
    }

    #[test]
    fn refusals_naming_a_member_or_role_display_plain_ids_without_discord_markup() {
        for e in named_refusals() {
            let text = e.to_string();
            assert!(!text.contains("<@"), "{text}");
            assert!(text.contains("123") || text.contains("42"), "{text}");
            assert!(text.starts_with(char::is_uppercase), "{text}");
        }
        assert_eq!(
            named_refusals()[0].to_string(),
            "User 123 has only 50 coins; you can remove at most that."
        );
        assert_eq!(
            named_refusals()[2].to_string(),
            "Reversing transaction 7 would leave user 123 with a negative balance."
        );
        assert_eq!(
            named_refusals()[5].to_string(),
            "Role 42 in admin_roles not found."
        );
    }

    #[test]
    fn named_refusals_keep_their_codes() {
        let codes: Vec<_> = named_refusals().iter().map(DomainError::code).collect();
        assert_eq!(
            codes,
            [
                "would_go_negative",
                "would_go_negative",
                "would_go_negative",
                "would_go_negative",
                "not_found",
                "not_found"
            ]
        );
    }

    #[test]
    fn naming_writes_each_name_its_callers_way_and_skips_refusals_that_name_nobody() {
        let e = DomainError::ClaimNotFound {
            user: UserId(5),
            task_id: 1,
            task: "Bake".into(),
        };
        let text = e.naming(|n| format!("[{n}]"));
        assert_eq!(
            text.as_deref(),
            Some("A claim by [user 5] on \"Bake\" not found.")
        );
        assert_eq!(DomainError::SelfTransfer.naming(|n| n.to_string()), None);
    }
}
