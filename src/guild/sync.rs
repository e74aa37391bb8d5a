//! The Discord sync state of a server's messages, for the dashboard: the outbox records, and
//! the admin's "retry now" and "post it again" (audited). The reconciler acts on the result.

use super::Guilds;
use crate::domain::OpMeta;
use crate::domain::{DomainError, GuildId};
use crate::error::Error;
use crate::store::audit::snapshot;
use crate::store::outbox::{SyncKind, SyncRecord, SyncState};

fn not_found(kind: SyncKind, object: u64) -> DomainError {
    DomainError::NotFound(format!("Sync record {} {object}", kind.as_str()))
}

impl Guilds {
    /// Sync records of every server by state name (`pending`, `synced`, `orphaned`, `failed`).
    pub fn sync_state_counts(&self) -> Result<Vec<(String, u64)>, Error> {
        let counts = self.store.sync_state_counts()?;
        Ok(counts
            .into_iter()
            .map(|(s, n)| (format!("{s:?}").to_lowercase(), n))
            .collect())
    }

    /// Every outbox record of the server (kind, then object id order).
    pub fn sync_records(&self, guild: GuildId) -> Result<Vec<SyncRecord>, Error> {
        Ok(self.store.read(guild, |r| r.sync_records())?)
    }

    /// Retries a record now, keeping its versions. Refused for a record already in sync.
    pub fn retry_sync(
        &self,
        guild: GuildId,
        kind: SyncKind,
        object: u64,
        meta: &OpMeta,
    ) -> Result<SyncRecord, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(guild, meta.key(), "sync.retry_sync", |w| {
                let before = w
                    .sync_record(kind, object)?
                    .ok_or_else(|| not_found(kind, object))?;
                if before.state == SyncState::Synced {
                    return Err(DomainError::Conflict(
                        "This message is already in sync; there is nothing to retry.".into(),
                    )
                    .into());
                }
                let after = w
                    .sync_retry(kind, object)?
                    .ok_or_else(|| not_found(kind, object))?;
                w.audit(
                    actor,
                    "sync.retry",
                    format!("{}:{object}", kind.as_str()),
                    snapshot(&before),
                    snapshot(&after),
                )?;
                Ok(after)
            })
    }

    /// Something on Discord changed that may fix a refusal (a channel's or role's permissions,
    /// Coffer's roles, a rejoin): every failed record of the guild is tried again, once. The
    /// number retried.
    pub fn retry_failed_after_discord_change(&self, guild: GuildId) -> Result<usize, Error> {
        let has_failed = self.store.read(guild, |r| {
            Ok::<_, Error>(
                r.sync_records()?
                    .iter()
                    .any(|r| r.state == SyncState::Failed),
            )
        })?;
        if !has_failed {
            return Ok(0);
        }
        Ok(self.store.write(guild, |w| w.sync_retry_failed())?.len())
    }

    /// Retries every failed record of the guild now (`/admin sync retry` without an object);
    /// the records retried.
    pub fn retry_failed_sync(
        &self,
        guild: GuildId,
        meta: &OpMeta,
    ) -> Result<Vec<SyncRecord>, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(guild, meta.key(), "sync.retry_failed", |w| {
                let out = w.sync_retry_failed()?;
                if !out.is_empty() {
                    let ids: Vec<String> = out
                        .iter()
                        .map(|r| format!("{}:{}", r.kind.as_str(), r.object))
                        .collect();
                    w.audit(
                        actor,
                        "sync.retry",
                        "sync:failed",
                        None,
                        Some(serde_json::json!({ "retried": ids })),
                    )?;
                }
                Ok(out)
            })
    }

    /// Posts a new message for an orphaned (deleted on Discord) or failed record. Refused for
    /// an object being deleted, and for records that are pending or in sync.
    pub fn repost_sync(
        &self,
        guild: GuildId,
        kind: SyncKind,
        object: u64,
        meta: &OpMeta,
    ) -> Result<SyncRecord, Error> {
        let actor = &meta.actor;
        self.store.write_once(guild, meta.key(), "sync.repost_sync", |w| {
            let before = w
                .sync_record(kind, object)?
                .ok_or_else(|| not_found(kind, object))?;
            if before.delete {
                return Err(DomainError::Conflict(
                    "This object was deleted; its message can't be posted again.".into(),
                )
                .into());
            }
            if !matches!(before.state, SyncState::Orphaned | SyncState::Failed) {
                return Err(DomainError::Conflict(
                    "Only a message that was deleted on Discord (orphaned) or failed can be reposted."
                        .into(),
                )
                .into());
            }
            let after = w
                .sync_repost(kind, object)?
                .ok_or_else(|| not_found(kind, object))?;
            w.audit(
                actor,
                "sync.repost",
                format!("{}:{object}", kind.as_str()),
                snapshot(&before),
                snapshot(&after),
            )?;
            Ok(after)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Actor;
    use crate::store::outbox::SyncKind;
    use crate::testing;

    const G: GuildId = GuildId(3);

    fn record_in(ts: &testing::TestStore, state: SyncState) {
        ts.store
            .write(G, |w| -> Result<(), Error> {
                let mut r = w.sync_touch(SyncKind::Task, 1, None)?;
                r.state = state;
                r.synced_version = r.desired_version;
                r.attempts = 3;
                r.message_id = Some(crate::domain::MessageId(9));
                w.put_sync_record(&r)?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn retrying_every_failed_record_leaves_the_others_alone() {
        let ts = testing::store();
        let g = Guilds::new(ts.store.clone());
        let meta: OpMeta = Actor::Cli.into();
        assert!(g.retry_failed_sync(G, &meta).unwrap().is_empty());
        record_in(&ts, SyncState::Failed);
        ts.store
            .write(G, |w| -> Result<(), Error> {
                let mut r = w.sync_touch(SyncKind::ShopItem, 2, None)?;
                r.state = SyncState::Orphaned;
                w.put_sync_record(&r)?;
                Ok(())
            })
            .unwrap();
        let retried = g.retry_failed_sync(G, &meta).unwrap();
        assert_eq!(retried.len(), 1);
        assert_eq!(
            (retried[0].kind, retried[0].state),
            (SyncKind::Task, SyncState::Pending)
        );
        let orphan = g
            .sync_records(G)
            .unwrap()
            .into_iter()
            .find(|r| r.object == 2)
            .unwrap();
        assert_eq!(
            orphan.state,
            SyncState::Orphaned,
            "an orphan waits for a repost"
        );
        assert_eq!(testing::audit_actions(&ts, G), vec!["sync.retry"]);
    }

    #[test]
    fn a_settings_change_or_a_change_on_discord_retries_failed_records() {
        let ts = testing::store();
        let g = Guilds::new(ts.store.clone());
        let state = || g.sync_records(G).unwrap()[0].state;
        record_in(&ts, SyncState::Failed);
        let meta: OpMeta = Actor::Cli.into();
        g.update_config(G, &serde_json::json!({"daily_amount": 77}), &meta)
            .unwrap();
        assert_eq!(state(), SyncState::Pending);
        record_in(&ts, SyncState::Failed);
        assert_eq!(g.retry_failed_after_discord_change(G).unwrap(), 1);
        assert_eq!(state(), SyncState::Pending);
        assert_eq!(g.retry_failed_after_discord_change(G).unwrap(), 0);
    }

    #[test]
    fn retry_resets_backoff_keeps_versions_and_refuses_a_synced_record() {
        let ts = testing::store();
        let g = Guilds::new(ts.store.clone());
        record_in(&ts, SyncState::Failed);
        let r = g
            .retry_sync(G, SyncKind::Task, 1, &Actor::Cli.into())
            .unwrap();
        assert_eq!(
            (r.state, r.attempts, r.desired_version, r.synced_version),
            (SyncState::Pending, 0, 1, 1)
        );
        assert_eq!(r.message_id, Some(crate::domain::MessageId(9)));
        record_in(&ts, SyncState::Synced);
        assert!(g
            .retry_sync(G, SyncKind::Task, 1, &Actor::Cli.into())
            .is_err());
        assert!(g
            .retry_sync(G, SyncKind::Task, 2, &Actor::Cli.into())
            .is_err());
    }

    #[test]
    fn repost_forgets_the_message_and_asks_for_a_new_version() {
        let ts = testing::store();
        let g = Guilds::new(ts.store.clone());
        record_in(&ts, SyncState::Pending);
        assert!(g
            .repost_sync(G, SyncKind::Task, 1, &Actor::Cli.into())
            .is_err());
        record_in(&ts, SyncState::Orphaned);
        let r = g
            .repost_sync(G, SyncKind::Task, 1, &Actor::Cli.into())
            .unwrap();
        assert_eq!(r.message_id, None);
        assert!(r.desired_version > r.synced_version);
        assert_eq!(r.state, SyncState::Pending);
        assert_eq!(testing::audit_actions(&ts, G), vec!["sync.repost"]);
    }
}
