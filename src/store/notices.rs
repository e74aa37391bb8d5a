//! Direct messages owed to members (a review's outcome, an expired claim): recorded in the same
//! transaction as the change that owes them, whichever door made it, and sent by the sync
//! worker, which records the outcome (sent, or failed with the reason: closed DMs are routine).

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::UserId;
use crate::events::EventKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeState {
    Pending,
    Sent,
    /// Not delivered (DMs closed, member gone); `error` says why. Not retried.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notice {
    pub id: u64,
    pub user: UserId,
    /// What it is about, e.g. `task:3 accepted`.
    pub about: String,
    /// The message, in plain words (Discord markdown allowed, no mentions).
    pub text: String,
    pub state: NoticeState,
    pub error: Option<String>,
    /// Failed attempts so far (a pending notice being retried).
    #[serde(default)]
    pub attempts: u32,
    /// A pending notice is not sent before this (backoff after a server error).
    #[serde(default)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<T: Tables> View<'_, T> {
    pub fn notice(&self, id: u64) -> Result<Option<Notice>, StoreError> {
        let t = self.tx.open(tables::NOTICES)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| decode("notices", v.value())).transpose()
    }

    /// Every notice of the guild, oldest first (`pending_only` for the work list).
    pub fn notices(&self, pending_only: bool) -> Result<Vec<Notice>, StoreError> {
        let t = self.tx.open(tables::NOTICES)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            let n: Notice = decode("notices", row?.1.value())?;
            if !pending_only || n.state == NoticeState::Pending {
                out.push(n);
            }
        }
        Ok(out)
    }
}

impl WriteCtx<'_> {
    /// Owes `user` a DM with `text`.
    pub fn record_notice(
        &mut self,
        user: UserId,
        about: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<Notice, StoreError> {
        let n = Notice {
            id: self.next_id("notice")?,
            user,
            about: about.into(),
            text: text.into(),
            state: NoticeState::Pending,
            error: None,
            attempts: 0,
            next_attempt_at: None,
            created_at: self.now,
            updated_at: self.now,
        };
        self.put_notice(&n)?;
        self.emit(EventKind::NoticeRecorded, vec![n.id.to_string()]);
        Ok(n)
    }

    /// Records what happened when the DM was sent.
    pub fn finish_notice(
        &mut self,
        id: u64,
        outcome: Result<(), String>,
    ) -> Result<Option<Notice>, StoreError> {
        let Some(mut n) = self.notice(id)? else {
            return Ok(None);
        };
        (n.state, n.error) = match outcome {
            Ok(()) => (NoticeState::Sent, None),
            Err(e) => (NoticeState::Failed, Some(e)),
        };
        n.updated_at = self.now;
        self.put_notice(&n)?;
        self.emit(EventKind::NoticeRecorded, vec![id.to_string()]);
        Ok(Some(n))
    }

    /// A failed attempt to try again at `at` (kept in the store, so a restart keeps the
    /// backoff).
    pub fn retry_notice(
        &mut self,
        id: u64,
        at: DateTime<Utc>,
        error: String,
    ) -> Result<Option<Notice>, StoreError> {
        let Some(mut n) = self.notice(id)? else {
            return Ok(None);
        };
        if n.state != NoticeState::Pending {
            return Ok(Some(n));
        }
        n.attempts = n.attempts.saturating_add(1);
        n.next_attempt_at = Some(at);
        n.error = Some(error);
        n.updated_at = self.now;
        self.put_notice(&n)?;
        Ok(Some(n))
    }

    pub(crate) fn put_notice(&self, n: &Notice) -> Result<(), StoreError> {
        let key = (self.g(), n.id);
        let mut t = self.tx.open_table(tables::NOTICES)?;
        t.insert(key, encode(n)?.as_slice())?;
        let mut due = self.tx.open_table(tables::NOTICES_DUE)?;
        if n.state == NoticeState::Pending {
            due.insert(key, ())?;
        } else {
            due.remove(key)?;
        }
        Ok(())
    }
}

impl super::Store {
    /// Every pending notice of every guild, oldest first within each guild.
    pub fn pending_notices(&self) -> Result<Vec<(crate::domain::GuildId, Notice)>, StoreError> {
        let tx = self.begin_read()?;
        let due = tx.open(tables::NOTICES_DUE)?;
        let t = tx.open(tables::NOTICES)?;
        let mut out = Vec::new();
        for row in due.iter()? {
            let key = row?.0.value();
            let v = t.get(key)?.ok_or_else(|| {
                StoreError::Invariant(format!("notices_due names a missing notice {key:?}"))
            })?;
            out.push((crate::domain::GuildId(key.0), decode("notices", v.value())?));
        }
        Ok(out)
    }
}
