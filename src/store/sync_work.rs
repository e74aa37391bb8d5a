//! The reconciler's side of the outbox: the work list across guilds (pending sync records,
//! pending role grants) and recording what Discord answered for one record, without ever
//! overwriting a newer `desired_version` committed while the call was in flight.

use chrono::{DateTime, Utc};
use redb::ReadableTable;

use super::outbox::{SyncKind, SyncRecord, SyncState};
use super::roles::RoleGrant;
use super::{decode, tables, Store, StoreError, WriteCtx};
use crate::domain::{ChannelId, GuildId, MessageId};
use crate::events::EventKind;

/// What the reconciler learnt about the record's Discord message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFact {
    Unchanged,
    /// A message now exists (created or found through its nonce).
    Posted {
        channel: ChannelId,
        message: MessageId,
    },
    /// The message is gone (deleted by us, or on Discord).
    Gone,
    /// A create with the nonce of `version` got no answer: Discord may or may not have the
    /// message; the next create reuses that nonce.
    CreateUnanswered {
        version: u64,
    },
}

/// Where the record stands after the attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncVerdict {
    /// Discord shows the version that was attempted.
    Synced,
    /// The object is gone and its message handled: the record is dropped.
    Removed,
    /// Try again at `at` (backoff, rate limit); `error` in words.
    Retry { at: DateTime<Utc>, error: String },
    /// Discord refused for good; no retry until a new version or an admin's retry.
    Failed(String),
    /// The message was deleted on Discord; reposting is an admin's choice.
    Orphaned(String),
    /// The message was deleted on Discord: post a new one (as a new version, so its create
    /// gets a fresh nonce).
    Repost,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    pub message: MessageFact,
    pub verdict: SyncVerdict,
}

impl Store {
    /// Every `pending` sync record of every guild, in key order.
    pub fn sync_backlog(&self) -> Result<Vec<(GuildId, SyncRecord)>, StoreError> {
        let tx = self.begin_read()?;
        let due = tx.open_table(tables::SYNC_DUE)?;
        let t = tx.open_table(tables::DISCORD_SYNC)?;
        let mut out = Vec::new();
        for row in due.iter()? {
            let (k, _) = row?;
            let key = k.value();
            let v = t.get(key)?.ok_or_else(|| {
                StoreError::Invariant(format!("sync_due names a missing record {key:?}"))
            })?;
            out.push((GuildId(key.0), decode("discord_sync", v.value())?));
        }
        Ok(out)
    }

    /// Every `pending` role grant of every guild, oldest first per guild.
    pub fn pending_role_grants(&self) -> Result<Vec<(GuildId, RoleGrant)>, StoreError> {
        let tx = self.begin_read()?;
        let due = tx.open_table(tables::GRANTS_DUE)?;
        let t = tx.open_table(tables::ROLE_GRANTS)?;
        let mut out = Vec::new();
        for row in due.iter()? {
            let key = row?.0.value();
            let v = t.get(key)?.ok_or_else(|| {
                StoreError::Invariant(format!("role_grants_due names a missing grant {key:?}"))
            })?;
            out.push((GuildId(key.0), decode("role_grants", v.value())?));
        }
        Ok(out)
    }
}

impl WriteCtx<'_> {
    /// Records an attempt at `attempted_version` of (kind, object). Facts about the message
    /// (a new id, a deletion) are always kept, so nothing is posted twice; the state only
    /// moves when no newer version was committed meanwhile (then the record stays pending for
    /// the newer one). `None`: no record (already removed).
    pub fn sync_finish(
        &mut self,
        kind: SyncKind,
        object: u64,
        attempted_version: u64,
        outcome: SyncOutcome,
    ) -> Result<Option<SyncRecord>, StoreError> {
        let Some(mut r) = self.sync_record(kind, object)? else {
            return Ok(None);
        };
        match outcome.message {
            MessageFact::Unchanged => {}
            MessageFact::Posted { channel, message } => {
                r.message_id = Some(message);
                r.posted_channel = Some(channel);
                r.unanswered_create = None;
            }
            MessageFact::Gone => {
                r.message_id = None;
                r.posted_channel = None;
                r.unanswered_create = None;
            }
            MessageFact::CreateUnanswered { version } => {
                r.message_id = None;
                r.posted_channel = None;
                r.unanswered_create = Some(version);
            }
        }
        let ids = vec![kind.as_str().into(), object.to_string()];
        if r.desired_version == attempted_version {
            match outcome.verdict {
                SyncVerdict::Synced => {
                    r.synced_version = r.desired_version;
                    r.state = SyncState::Synced;
                    r.attempts = 0;
                    r.last_error = None;
                }
                SyncVerdict::Removed => {
                    self.remove_sync_record(kind, object)?;
                    self.emit(EventKind::SyncChanged, ids);
                    return Ok(None);
                }
                SyncVerdict::Retry { at, error } => {
                    r.attempts = r.attempts.saturating_add(1);
                    r.next_attempt_at = at;
                    r.last_error = Some(error);
                }
                SyncVerdict::Failed(e) => {
                    r.state = SyncState::Failed;
                    r.attempts = r.attempts.saturating_add(1);
                    r.last_error = Some(e);
                }
                SyncVerdict::Orphaned(e) => {
                    r.state = SyncState::Orphaned;
                    r.last_error = Some(e);
                }
                SyncVerdict::Repost => {
                    r.message_id = None;
                    r.posted_channel = None;
                    r.unanswered_create = None;
                    r.desired_version = r.desired_version.max(r.synced_version) + 1;
                    r.state = SyncState::Pending;
                    r.next_attempt_at = self.now;
                    r.last_error = None;
                }
            }
        }
        r.updated_at = self.now;
        self.put_sync_record(&r)?;
        self.emit(EventKind::SyncChanged, ids);
        Ok(Some(r))
    }
}
