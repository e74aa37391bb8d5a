//! Ledger and account types: one `Transaction` per balance change, and the `Account` it changes.
//! Plain data plus the rules that need no I/O (which kinds mint or burn, the entry invariant).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{GuildId, UserId};
use super::money::Money;

/// Why a balance changed. Names follow the old bot's `type` field where they overlap.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    Initial,
    Daily,
    TransferSend,
    TransferReceive,
    TransferTax,
    AdminAdd,
    AdminRemove,
    AdminSet,
    ShopPurchase,
    TaskReward,
    Refund,
    Import,
}

impl TxKind {
    pub const ALL: [TxKind; 12] = [
        TxKind::Initial,
        TxKind::Daily,
        TxKind::TransferSend,
        TxKind::TransferReceive,
        TxKind::TransferTax,
        TxKind::AdminAdd,
        TxKind::AdminRemove,
        TxKind::AdminSet,
        TxKind::ShopPurchase,
        TxKind::TaskReward,
        TxKind::Refund,
        TxKind::Import,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Initial => "initial",
            TxKind::Daily => "daily",
            TxKind::TransferSend => "transfer_send",
            TxKind::TransferReceive => "transfer_receive",
            TxKind::TransferTax => "transfer_tax",
            TxKind::AdminAdd => "admin_add",
            TxKind::AdminRemove => "admin_remove",
            TxKind::AdminSet => "admin_set",
            TxKind::ShopPurchase => "shop_purchase",
            TxKind::TaskReward => "task_reward",
            TxKind::Refund => "refund",
            TxKind::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<TxKind> {
        TxKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// Transfers move currency between accounts; every other kind creates (mints) or destroys
    /// (burns) it. So the guild's total changes only through entries where this is false.
    pub fn is_transfer_leg(self) -> bool {
        matches!(self, TxKind::TransferSend | TxKind::TransferReceive)
    }
}

impl std::fmt::Display for TxKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// Coffer itself (starting balance, scheduled work, migrations).
    System,
    /// A Discord user, acting on their own account or as an admin.
    User(UserId),
    /// A dashboard account, by username.
    Dashboard(String),
    /// The command line on the host.
    Cli,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::System => f.write_str("system"),
            Actor::User(u) => write!(f, "user:{u}"),
            Actor::Dashboard(name) => write!(f, "dashboard:{name}"),
            Actor::Cli => f.write_str("cli"),
        }
    }
}

/// Which door a change came through. `discord_command` matches the old bot's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    DiscordCommand,
    DiscordButton,
    Dashboard,
    Api,
    System,
    Import,
    Cli,
}

impl Source {
    /// The serialized name (`discord_command`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DiscordCommand => "discord_command",
            Source::DiscordButton => "discord_button",
            Source::Dashboard => "dashboard",
            Source::Api => "api",
            Source::System => "system",
            Source::Import => "import",
            Source::Cli => "cli",
        }
    }
}

/// One balance change. Immutable once written: corrections are new `refund` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transaction {
    /// Unique within the guild, increasing in commit order.
    pub id: u64,
    pub guild: GuildId,
    pub user: UserId,
    pub amount: Money,
    pub balance_before: Money,
    pub balance_after: Money,
    pub kind: TxKind,
    pub description: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub source: Source,
    /// Entries written by one operation share the id of its first entry (a transfer's send,
    /// receive and tax legs; a reversal's refunds).
    pub group: u64,
    /// For `refund` entries: the entry this one compensates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverses: Option<u64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

impl Transaction {
    /// `balance_after == balance_before + amount`, and no negative balance on either side.
    pub fn is_consistent(&self) -> bool {
        self.balance_before.checked_add(self.amount) == Some(self.balance_after)
            && !self.balance_before.is_negative()
            && !self.balance_after.is_negative()
    }
}

/// A member's account in one guild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub guild: GuildId,
    pub user: UserId,
    pub balance: Money,
    /// Sum of positive ledger amounts.
    pub total_earned: Money,
    /// Sum of negative ledger amounts, as a positive number.
    pub total_spent: Money,
    pub created_at: DateTime<Utc>,
    pub last_daily: Option<DateTime<Utc>>,
    pub last_active: DateTime<Utc>,
    /// Inactive accounts (left the server, or cleaned up) are off the leaderboard; data is kept.
    pub active: bool,
}

impl Account {
    pub fn new(guild: GuildId, user: UserId, now: DateTime<Utc>) -> Account {
        Account {
            guild,
            user,
            balance: Money::ZERO,
            total_earned: Money::ZERO,
            total_spent: Money::ZERO,
            created_at: now,
            last_daily: None,
            last_active: now,
            active: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in TxKind::ALL {
            assert_eq!(TxKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(TxKind::parse("bogus"), None);
    }

    #[test]
    fn actor_serializes_with_a_type_tag() {
        let a = Actor::User(UserId(7));
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"type":"user","id":"7"}"#
        );
        assert_eq!(
            serde_json::to_string(&Actor::System).unwrap(),
            r#"{"type":"system"}"#
        );
    }
}
