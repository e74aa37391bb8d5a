//! The Discord sync outbox (`discord_sync`): every change to an object that has a Discord
//! message bumps its record in the same write transaction, so no change can commit without its
//! sync being recorded. The reconciler (sync/) reads these records and makes Discord match.

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, Store, StoreError, Tables, View, WriteCtx};
use crate::domain::{ChannelId, MessageId};
use crate::events::EventKind;

/// Which kind of object a Discord message shows.
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
pub enum SyncKind {
    Task,
    ShopItem,
    Announcement,
    Embed,
    /// A submission's review message (Accept / Reject until reviewed).
    Review,
}

impl SyncKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Task => "task",
            SyncKind::ShopItem => "shop_item",
            SyncKind::Announcement => "announcement",
            SyncKind::Embed => "embed",
            SyncKind::Review => "review",
        }
    }

    pub fn parse(s: &str) -> Option<SyncKind> {
        [
            SyncKind::Task,
            SyncKind::ShopItem,
            SyncKind::Announcement,
            SyncKind::Embed,
            SyncKind::Review,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Discord does not yet show `desired_version`.
    Pending,
    Synced,
    /// The message was deleted on Discord; reposting is an admin's choice.
    Orphaned,
    /// Discord refused (missing access / permissions); `last_error` says why.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SyncRecord {
    pub kind: SyncKind,
    pub object: u64,
    /// Where the message should be (None: no channel configured yet).
    pub channel: Option<ChannelId>,
    pub message_id: Option<MessageId>,
    /// The channel `message_id` was posted in (the reconciler records it); when `channel`
    /// differs, the message moves. `None` on records from before: assume `channel`.
    #[serde(default)]
    pub posted_channel: Option<ChannelId>,
    /// A create for this version went unanswered: the next create reuses its nonce, so
    /// Discord answers with that message instead of posting a second one.
    #[serde(default)]
    pub unanswered_create: Option<u64>,
    pub desired_version: u64,
    pub synced_version: u64,
    /// The object is gone: the message must be deleted, then the record removed.
    pub delete: bool,
    /// Also delete the Discord message when the object is deleted (false: leave it up).
    #[serde(default = "yes")]
    pub delete_message: bool,
    pub state: SyncState,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl SyncRecord {
    /// The first record of an object: version 1 to post, nothing posted yet.
    pub fn new(
        kind: SyncKind,
        object: u64,
        channel: Option<ChannelId>,
        now: DateTime<Utc>,
    ) -> SyncRecord {
        SyncRecord {
            kind,
            object,
            channel,
            message_id: None,
            posted_channel: None,
            unanswered_create: None,
            desired_version: 1,
            synced_version: 0,
            delete: false,
            delete_message: true,
            state: SyncState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            updated_at: now,
        }
    }

    /// A new desired version: pending again, retried at once, the old error forgotten.
    fn bump(&mut self, now: DateTime<Utc>) {
        self.desired_version += 1;
        self.state = SyncState::Pending;
        self.attempts = 0;
        self.next_attempt_at = now;
        self.last_error = None;
        self.updated_at = now;
    }
}

fn yes() -> bool {
    true
}

impl<T: Tables> View<'_, T> {
    pub fn sync_record(
        &self,
        kind: SyncKind,
        object: u64,
    ) -> Result<Option<SyncRecord>, StoreError> {
        let t = self.tx.open(tables::DISCORD_SYNC)?;
        let v = t.get((self.g(), kind.as_str(), object))?;
        v.map(|v| decode("discord_sync", v.value())).transpose()
    }

    /// Every sync record of the guild.
    pub fn sync_records(&self) -> Result<Vec<SyncRecord>, StoreError> {
        let t = self.tx.open(tables::DISCORD_SYNC)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), "", 0)..=(self.g(), "\u{10FFFF}", u64::MAX))? {
            out.push(decode("discord_sync", row?.1.value())?);
        }
        Ok(out)
    }
}

impl WriteCtx<'_> {
    /// Records that `object` changed and Discord must show its new version (in `channel`;
    /// `None` keeps the channel already recorded).
    pub fn sync_touch(
        &mut self,
        kind: SyncKind,
        object: u64,
        channel: Option<ChannelId>,
    ) -> Result<SyncRecord, StoreError> {
        let now = self.now;
        let rec = match self.sync_record(kind, object)? {
            Some(mut r) => {
                if channel.is_some() {
                    r.channel = channel;
                }
                r.delete = false;
                r.bump(now);
                r
            }
            None => SyncRecord::new(kind, object, channel, now),
        };
        self.put_sync_record(&rec)?;
        self.emit(
            EventKind::SyncChanged,
            vec![kind.as_str().into(), object.to_string()],
        );
        Ok(rec)
    }

    /// Records that `object` is gone: the reconciler deletes its message (when
    /// `delete_message`) and then drops the record. No record: nothing was ever posted.
    pub fn sync_delete(
        &mut self,
        kind: SyncKind,
        object: u64,
        delete_message: bool,
    ) -> Result<Option<SyncRecord>, StoreError> {
        let Some(mut r) = self.sync_record(kind, object)? else {
            return Ok(None);
        };
        r.delete = true;
        r.delete_message = delete_message;
        r.bump(self.now);
        self.put_sync_record(&r)?;
        self.emit(
            EventKind::SyncChanged,
            vec![kind.as_str().into(), object.to_string()],
        );
        Ok(Some(r))
    }

    /// Stores a record as the reconciler left it (message id, versions, state, backoff).
    pub fn put_sync_record(&self, r: &SyncRecord) -> Result<(), StoreError> {
        let key = (self.g(), r.kind.as_str(), r.object);
        let mut t = self.tx.open_table(tables::DISCORD_SYNC)?;
        t.insert(key, encode(r)?.as_slice())?;
        let mut due = self.tx.open_table(tables::SYNC_DUE)?;
        if r.state == SyncState::Pending {
            due.insert(key, ())?;
        } else {
            due.remove(key)?;
        }
        Ok(())
    }

    pub fn remove_sync_record(&self, kind: SyncKind, object: u64) -> Result<(), StoreError> {
        let key = (self.g(), kind.as_str(), object);
        let mut t = self.tx.open_table(tables::DISCORD_SYNC)?;
        t.remove(key)?;
        self.tx.open_table(tables::SYNC_DUE)?.remove(key)?;
        Ok(())
    }
}

impl Store {
    /// How many sync records of every server are in each state (for `/metrics`): one read
    /// over the outbox table.
    pub fn sync_state_counts(&self) -> Result<Vec<(SyncState, u64)>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open(tables::DISCORD_SYNC)?;
        let mut counts = [0u64; 4];
        for row in t.iter()? {
            let r: SyncRecord = decode("discord_sync", row?.1.value())?;
            counts[r.state as usize] += 1;
        }
        Ok([
            SyncState::Pending,
            SyncState::Synced,
            SyncState::Orphaned,
            SyncState::Failed,
        ]
        .into_iter()
        .zip(counts)
        .collect())
    }
}
