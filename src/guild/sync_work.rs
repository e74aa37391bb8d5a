//! What the reconciler (`sync/`) reads and records, as service calls: the work lists across
//! guilds and the outcome of one attempt. The rules about versions live in the store write.

use super::Guilds;
use crate::domain::GuildId;
use crate::error::Error;
use crate::store::outbox::{SyncKind, SyncRecord};
use crate::store::roles::RoleGrant;
use crate::store::sync_work::SyncOutcome;

impl Guilds {
    /// Every pending sync record of every guild.
    pub fn sync_backlog(&self) -> Result<Vec<(GuildId, SyncRecord)>, Error> {
        Ok(self.store.sync_backlog()?)
    }

    /// One sync record, if it still exists.
    pub fn sync_record(
        &self,
        guild: GuildId,
        kind: SyncKind,
        object: u64,
    ) -> Result<Option<SyncRecord>, Error> {
        Ok(self.store.read(guild, |r| r.sync_record(kind, object))?)
    }

    /// Records what Discord answered for `attempted_version` (see `WriteCtx::sync_finish`:
    /// a newer version committed meanwhile is never overwritten). Publishes `SyncChanged`.
    pub fn finish_sync(
        &self,
        guild: GuildId,
        kind: SyncKind,
        object: u64,
        attempted_version: u64,
        outcome: SyncOutcome,
    ) -> Result<Option<SyncRecord>, Error> {
        self.store.write(guild, |w| {
            Ok(w.sync_finish(kind, object, attempted_version, outcome.clone())?)
        })
    }

    /// Every pending role grant of every guild.
    pub fn pending_role_grants_everywhere(&self) -> Result<Vec<(GuildId, RoleGrant)>, Error> {
        Ok(self.store.pending_role_grants()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ChannelId, MessageId};
    use crate::store::outbox::SyncState;
    use crate::store::sync_work::{MessageFact, SyncVerdict};

    const G: GuildId = GuildId(4);

    #[test]
    fn an_outcome_for_an_old_version_keeps_the_message_id_but_not_the_state() {
        let ts = crate::testing::store();
        let g = Guilds::new(ts.store.clone());
        ts.store
            .write(G, |w| -> Result<(), Error> {
                w.sync_touch(SyncKind::Task, 1, Some(ChannelId(7)))?;
                w.sync_touch(SyncKind::Task, 1, None)?;
                Ok(())
            })
            .unwrap();
        let posted = SyncOutcome {
            message: MessageFact::Posted {
                channel: ChannelId(7),
                message: MessageId(70),
            },
            verdict: SyncVerdict::Synced,
        };
        let r = g
            .finish_sync(G, SyncKind::Task, 1, 1, posted.clone())
            .unwrap()
            .unwrap();
        assert_eq!(r.message_id, Some(MessageId(70)));
        assert_eq!(
            (r.state, r.synced_version, r.desired_version),
            (SyncState::Pending, 0, 2)
        );
        assert_eq!(g.sync_backlog().unwrap().len(), 1);
        let r = g
            .finish_sync(G, SyncKind::Task, 1, 2, posted)
            .unwrap()
            .unwrap();
        assert_eq!((r.state, r.synced_version), (SyncState::Synced, 2));
        assert!(g.sync_backlog().unwrap().is_empty());
    }
}
