//! The command-log service: one row per Discord command or component use, written by the
//! Discord door after it replies and read by the dashboard; plus the hash of the command set
//! last registered with Discord (so an unchanged restart registers nothing).

use crate::domain::GuildId;
use crate::error::Error;
use crate::store::command_log::{CommandLogEntry, CommandLogFilter, CommandLogPage, NewCommandLog};
use crate::store::Store;

/// Cheap to clone.
#[derive(Clone, Debug)]
pub struct CommandLog {
    store: Store,
}

impl CommandLog {
    pub fn new(store: Store) -> CommandLog {
        CommandLog { store }
    }

    /// Appends one row to `guild`'s log.
    pub fn append(&self, guild: GuildId, entry: NewCommandLog) -> Result<CommandLogEntry, Error> {
        Ok(self
            .store
            .write(guild, |w| w.append_command_log(entry.clone()))?)
    }

    /// `guild`'s log, newest first, filtered and paged.
    pub fn list(&self, guild: GuildId, filter: &CommandLogFilter) -> Result<CommandLogPage, Error> {
        Ok(self.store.read(guild, |r| r.command_log(filter))?)
    }

    /// The hash of the command set last registered for `scope`, if any.
    pub fn registered_hash(&self, scope: &str) -> Result<Option<u64>, Error> {
        Ok(self.store.command_set_hash(scope)?)
    }

    /// Records that the command set with `hash` is registered for `scope`.
    pub fn set_registered_hash(&self, scope: &str, hash: u64) -> Result<(), Error> {
        Ok(self.store.set_command_set_hash(scope, hash)?)
    }
}
