//! Admin actions on the Discord sync outbox (dashboard "retry" and "repost"): small, explicit
//! changes to one record, made in the caller's write transaction. The reconciler does the rest.

use super::outbox::{SyncKind, SyncRecord, SyncState};
use super::{StoreError, WriteCtx};
use crate::events::EventKind;

impl WriteCtx<'_> {
    /// Tries again now: state `pending`, attempts and backoff reset, error cleared. The versions
    /// are kept, so the reconciler does exactly what it was failing to do. `None`: no record.
    pub fn sync_retry(
        &mut self,
        kind: SyncKind,
        object: u64,
    ) -> Result<Option<SyncRecord>, StoreError> {
        let Some(mut r) = self.sync_record(kind, object)? else {
            return Ok(None);
        };
        r.state = SyncState::Pending;
        r.attempts = 0;
        r.next_attempt_at = self.now;
        r.last_error = None;
        r.updated_at = self.now;
        self.put_sync_record(&r)?;
        self.emit(
            EventKind::SyncChanged,
            vec![kind.as_str().into(), object.to_string()],
        );
        Ok(Some(r))
    }

    /// Forgets the message so the reconciler posts a new one (for a message deleted on
    /// Discord): `message_id` cleared, `desired_version` bumped past `synced_version`, state
    /// `pending`, backoff reset. `None`: no record.
    pub fn sync_repost(
        &mut self,
        kind: SyncKind,
        object: u64,
    ) -> Result<Option<SyncRecord>, StoreError> {
        let Some(mut r) = self.sync_record(kind, object)? else {
            return Ok(None);
        };
        r.message_id = None;
        r.desired_version = r.desired_version.max(r.synced_version) + 1;
        r.state = SyncState::Pending;
        r.attempts = 0;
        r.next_attempt_at = self.now;
        r.last_error = None;
        r.updated_at = self.now;
        self.put_sync_record(&r)?;
        self.emit(
            EventKind::SyncChanged,
            vec![kind.as_str().into(), object.to_string()],
        );
        Ok(Some(r))
    }

    /// Every `failed` record of the guild tried again (after an admin's retry, a settings
    /// change, or a change on Discord that may have fixed the cause); the records retried.
    pub fn sync_retry_failed(&mut self) -> Result<Vec<SyncRecord>, StoreError> {
        let mut out = Vec::new();
        for r in self.sync_records()? {
            if r.state == SyncState::Failed {
                if let Some(after) = self.sync_retry(r.kind, r.object)? {
                    out.push(after);
                }
            }
        }
        Ok(out)
    }
}
