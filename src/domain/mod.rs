//! Plain types and rules with no I/O and no async: ids, `Money`, ledger kinds, guild settings,
//! errors. Everything else depends on this; this depends on nothing of ours.

pub mod announce;
pub mod custom_command;
pub mod embed;
pub mod error;
pub mod guild_config;
pub mod ids;
pub mod ledger;
pub mod money;
pub mod op;
pub mod shop;
pub mod tasks;
pub mod text;

pub use error::{DomainError, Named};
pub use guild_config::{DailyReset, GuildConfig};
pub use ids::{ChannelId, GuildId, MessageId, RoleId, UserId};
pub use ledger::{Account, Actor, Source, Transaction, TxKind};
pub use money::{Money, MAX_AMOUNT};
pub use op::{IdemKey, OpMeta};
