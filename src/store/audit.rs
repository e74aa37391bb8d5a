//! The audit log: every admin change (config, balances, items, tasks, announcements, custom
//! commands) records who, what, when, and before/after, in the same transaction as the change.

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::Actor;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: u64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// Dotted verb, e.g. `balance.add`, `config.update`, `shop.item.create`.
    pub action: String,
    /// What was changed, e.g. `user:123`, `item:4`.
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<T: Tables> View<'_, T> {
    /// Visits audit entries newest first until `visit` returns false.
    pub fn scan_audit<E: From<StoreError>>(
        &self,
        mut visit: impl FnMut(AuditEntry) -> Result<bool, E>,
    ) -> Result<(), E> {
        let t = self.tx.open(tables::AUDIT)?;
        for row in t
            .range((self.g(), 0)..=(self.g(), u64::MAX))
            .map_err(StoreError::from)?
            .rev()
        {
            let (_, v) = row.map_err(StoreError::from)?;
            if !visit(decode("audit", v.value())?)? {
                break;
            }
        }
        Ok(())
    }
}

/// The `seqs` counter that is the floor for audit ids (see `WriteCtx::next_id_after`).
pub(super) const AUDIT_COUNTER: &str = "audit";

impl WriteCtx<'_> {
    /// Records an admin change. `before`/`after` are any serializable snapshots.
    pub fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: impl Into<String>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<AuditEntry, StoreError> {
        // Audit rows are never deleted: the next id follows the last one.
        let id = self.next_id_after(AUDIT_COUNTER, &[tables::AUDIT])?;
        let e = AuditEntry {
            id,
            at: self.now,
            actor: actor.clone(),
            action: action.to_owned(),
            target: target.into(),
            before,
            after,
        };
        self.put_audit_entry(&e)?;
        Ok(e)
    }

    /// Stores an entry as it is (an import; `audit` is how a change records one).
    pub fn put_audit_entry(&self, e: &AuditEntry) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::AUDIT)?;
        t.insert((self.g(), e.id), encode(e)?.as_slice())?;
        Ok(())
    }
}

/// `serde_json::to_value` that cannot fail for our plain data types (falls back to null).
pub fn snapshot<T: Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok()
}
