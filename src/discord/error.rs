//! `BotError`: what a command handler can fail with. Two faces, as everywhere in Coffer: a short
//! message the user may see, and a kind for the command log; the cause chain goes to the log.

use crate::domain::{DomainError, Named};
use crate::error::Error;

use super::rest::RestError;

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// A service refused or failed.
    #[error(transparent)]
    Service(#[from] Error),
    /// A Discord call Coffer made failed.
    #[error("Discord request failed")]
    Discord(#[from] RestError),
    /// Something the command did not expect (a missing guild, an unsupported context).
    #[error("{0}")]
    Internal(String),
}

impl From<DomainError> for BotError {
    fn from(e: DomainError) -> Self {
        BotError::Service(Error::Domain(e))
    }
}

impl BotError {
    /// The ephemeral reply text.
    pub fn user_message(&self) -> String {
        match self {
            BotError::Service(Error::Domain(d)) => refusal_text(d),
            BotError::Service(e) => e.user_message(),
            BotError::Discord(_) | BotError::Internal(_) => {
                "Something went wrong on our side; nothing was changed. Please try again.".into()
            }
        }
    }

    /// The command log's outcome: a refusal's code, else `internal` or `discord`.
    pub fn kind(&self) -> &'static str {
        match self {
            BotError::Service(Error::Domain(d)) => d.code(),
            BotError::Service(Error::Store(_)) | BotError::Internal(_) => "internal",
            BotError::Discord(_) => "discord",
        }
    }

    /// True for refusals the user caused (logged at debug, not as errors).
    pub fn is_refusal(&self) -> bool {
        matches!(self, BotError::Service(Error::Domain(_)))
    }
}

/// A refusal as Discord shows it: the members and roles it names as mentions (Discord writes
/// their names), anything else as its `Display`.
pub fn refusal_text(e: &DomainError) -> String {
    if *e == DomainError::IdempotencyKeyReused {
        // Discord's interaction id is the key: a different request under the same id.
        return "Discord sent this interaction again with different input, so nothing was \
                changed. Please run the command again."
            .into();
    }
    e.naming(|n| match n {
        Named::User(u) => format!("<@{u}>"),
        Named::Role(r) => format!("<@&{r}>"),
    })
    .unwrap_or_else(|| e.to_string())
}

/// `error: cause: cause` for the log.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;
    use crate::store::StoreError;

    #[test]
    fn a_reused_interaction_key_reads_as_a_plain_discord_refusal() {
        let text = BotError::from(DomainError::IdempotencyKeyReused).user_message();
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(!text.contains("idempotency"), "{text}");
    }

    #[test]
    fn refusals_show_their_own_words_and_failures_hide_the_inside() {
        let e = BotError::from(DomainError::InsufficientFunds {
            needed: Money::new(50),
            available: Money::new(10),
            currency: "coins".into(),
        });
        assert_eq!(e.user_message(), "You need 50 coins but have 10.");
        assert_eq!(e.kind(), "insufficient_funds");
        assert!(e.is_refusal());
        let e = BotError::Service(Error::Store(StoreError::Invariant("secret detail".into())));
        assert!(!e.user_message().contains("secret"));
        assert_eq!(e.kind(), "internal");
        let e = BotError::Internal("no guild".into());
        assert!(!e.user_message().contains("guild"));
    }

    #[test]
    fn refusals_naming_members_or_roles_mention_them_on_discord() {
        use crate::domain::{RoleId, UserId};
        let e = BotError::from(DomainError::RemoveExceedsBalance {
            user: UserId(123),
            balance: Money::new(50),
            currency: "coins".into(),
        });
        assert_eq!(
            e.user_message(),
            "<@123> has only 50 coins; you can remove at most that."
        );
        assert_eq!(e.kind(), "would_go_negative");
        let e = DomainError::RoleNotListed {
            role: RoleId(42),
            list: "admin_roles".into(),
        };
        assert_eq!(refusal_text(&e), "<@&42> in admin_roles not found.");
        let e = DomainError::ClaimNotFound {
            user: UserId(5),
            task_id: 1,
            task: "Bake".into(),
        };
        assert_eq!(refusal_text(&e), "A claim by <@5> on \"Bake\" not found.");
        // Refusals that name nobody read the same on every door.
        let e = DomainError::SelfTransfer;
        assert_eq!(refusal_text(&e), e.to_string());
    }

    #[test]
    fn chain_joins_every_cause() {
        let inner = std::io::Error::other("disk full");
        let e = StoreError::Open {
            path: "x.redb".into(),
            source: redb::Error::Io(inner),
        };
        let text = chain(&e);
        assert!(text.contains("x.redb"), "{text}");
        assert!(text.contains("disk full"), "{text}");
    }
}
