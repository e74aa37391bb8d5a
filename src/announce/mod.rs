//! Announcements and embed templates as a service: validate, then one store write that saves
//! the object, bumps its Discord outbox record, audits before/after and emits the event. No
//! Discord or HTTP types; the reconciler (sync/) posts, edits, pins and deletes the messages.
//!
//! Scheduling: an announcement with `scheduled_at` in the future gets its outbox record's
//! `next_attempt_at` set to that time, and `Announce::due`/`Announcement::is_due` tell the
//! reconciler whether it may act yet; it must skip (not post, not edit) one that is not due.

mod announcements;
mod templates;
#[cfg(test)]
mod tests;

use crate::domain::announce::Announcement;
use crate::store::outbox::SyncKind;
use crate::store::{Store, StoreError, WriteCtx};

pub use crate::domain::announce::{AnnouncementPatch, NewAnnouncement, TaskAnnouncement};
pub use templates::{EmbedTemplatePatch, NewEmbedTemplate};

/// The announcement and embed template service. Cheap to clone.
#[derive(Clone)]
pub struct Announce {
    store: Store,
}

impl Announce {
    pub fn new(store: Store) -> Announce {
        Announce { store }
    }
}

/// Bumps the announcement's outbox record (same transaction), holding it until `scheduled_at`.
fn touch_announcement(w: &mut WriteCtx<'_>, a: &Announcement) -> Result<(), StoreError> {
    let mut rec = w.sync_touch(SyncKind::Announcement, a.id, Some(a.channel))?;
    if let Some(at) = a.scheduled_at.filter(|at| *at > w.now) {
        rec.next_attempt_at = at;
        w.put_sync_record(&rec)?;
    }
    Ok(())
}
