//! The guild service: per-guild settings (JSON merge-patch updates and the `/admin config`
//! setters), what Discord tells us about the server (info, channels, roles, members), and audit
//! log queries. Settings changes are one store write with an audit entry and `ConfigUpdated`.

mod audit;
mod command_log;
mod config;
mod info;
mod notices;
mod role_grants;
mod role_rewards;
mod sync;
mod sync_work;
#[cfg(test)]
mod tests;

use crate::store::Store;

pub use audit::AuditFilter;
pub use command_log::CommandLog;
pub use info::check_known_channel;
pub use role_rewards::check_role_reward;
// The records these services hand to the doors (defined beside their tables in `store/`).
pub use crate::store::audit::AuditEntry;
pub use crate::store::command_log::{
    CommandLogEntry, CommandLogFilter, CommandLogPage, NewCommandLog, OUTCOME_OK,
};
pub use crate::store::directory::{ChannelInfo, ChannelKind, MemberInfo, RoleInfo};
pub use crate::store::notices::{Notice, NoticeState};
pub use crate::store::outbox::{SyncKind, SyncRecord, SyncState};
pub use crate::store::roles::{GrantState, RoleGrant};
pub use crate::store::sync_work::{MessageFact, SyncOutcome, SyncVerdict};
pub use config::{apply_patch, ChannelSlot, RoleChange, RoleSlot};
pub use info::{GuildProfile, MemberProfile};

/// Cheap to clone.
#[derive(Clone)]
pub struct Guilds {
    store: Store,
}

impl Guilds {
    pub fn new(store: Store) -> Guilds {
        Guilds { store }
    }
}
