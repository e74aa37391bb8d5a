//! What every Discord call of the reconciler shares: the create nonce, the edit body, and the
//! invalid-response budget that keeps the bot far from Discord's ban threshold.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::api::MessageBody;
use crate::guild::SyncKind;

/// At most this many invalid (401/403/429) responses per window; then every call waits.
pub const INVALID_BUDGET: usize = 50;
pub const INVALID_WINDOW: Duration = Duration::from_secs(600);

/// The create nonce for `version` of an object: the same for a retried create (so Discord
/// answers with the first message), new for every version; at most 25 characters.
pub fn nonce(kind: SyncKind, object: u64, version: u64) -> String {
    let k = match kind {
        SyncKind::Task => 't',
        SyncKind::ShopItem => 's',
        SyncKind::Announcement => 'a',
        SyncKind::Embed => 'e',
        SyncKind::Review => 'r',
    };
    let n = format!("{k}{object}v{version}");
    if n.len() <= 25 {
        return n;
    }
    // Only for ids and versions far beyond any real use: a fixed-key hash keeps it short.
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (k, object, version).hash(&mut h);
    format!("{k}h{:016x}", h.finish())
}

/// An edit replaces the whole message: text the create had not set is cleared.
pub(super) fn edit_body(body: &MessageBody) -> MessageBody {
    let mut b = body.clone();
    if let Some(map) = b.as_object_mut() {
        map.entry("content").or_insert_with(|| "".into());
    }
    b
}

/// Discord bans clients that send too many invalid (401/403/429) requests: past
/// `INVALID_BUDGET` in a rolling `INVALID_WINDOW`, every call waits for the window to roll.
#[derive(Debug, Default)]
pub struct InvalidBudget {
    seen: VecDeque<Instant>,
}

impl InvalidBudget {
    pub fn record(&mut self, at: Instant) {
        self.seen.push_back(at);
    }

    /// `Some(until)` when the budget is spent at `now`.
    pub fn blocked_until(&mut self, now: Instant) -> Option<Instant> {
        while self
            .seen
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= INVALID_WINDOW)
        {
            self.seen.pop_front();
        }
        if self.seen.len() >= INVALID_BUDGET {
            self.seen.front().map(|t| *t + INVALID_WINDOW)
        } else {
            None
        }
    }
}
