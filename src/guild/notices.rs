//! DMs owed to members (see `store::notices`): the sync worker's work list and outcomes, and
//! the dashboard's view of them.

use super::Guilds;
use crate::domain::GuildId;
use crate::error::Error;
use crate::store::notices::Notice;

impl Guilds {
    /// The guild's notices, oldest first (`pending_only` for those not sent yet).
    pub fn notices(&self, guild: GuildId, pending_only: bool) -> Result<Vec<Notice>, Error> {
        Ok(self.store.read(guild, |r| r.notices(pending_only))?)
    }

    /// Every pending notice, in every guild.
    pub fn pending_notices_everywhere(&self) -> Result<Vec<(GuildId, Notice)>, Error> {
        Ok(self.store.pending_notices()?)
    }

    /// Stores how sending went: sent, or failed with the reason (not retried).
    pub fn finish_notice(
        &self,
        guild: GuildId,
        id: u64,
        outcome: Result<(), String>,
    ) -> Result<Option<Notice>, Error> {
        Ok(self
            .store
            .write(guild, |w| w.finish_notice(id, outcome.clone()))?)
    }

    /// A failed send to try again at `at`; the backoff survives a restart.
    pub fn retry_notice(
        &self,
        guild: GuildId,
        id: u64,
        at: chrono::DateTime<chrono::Utc>,
        error: String,
    ) -> Result<Option<Notice>, Error> {
        Ok(self
            .store
            .write(guild, |w| w.retry_notice(id, at, error.clone()))?)
    }
}
