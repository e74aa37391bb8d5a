//! Audit log queries: newest first, filtered by actor, action prefix, target and time, paged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Guilds;
use crate::domain::{Actor, GuildId};
use crate::economy::Page;
use crate::error::Error;
use crate::store::audit::AuditEntry;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub actor: Option<Actor>,
    /// `shop.` matches `shop.item.create`; `config.update` matches only itself and longer.
    pub action: Option<String>,
    /// Exact, e.g. `user:123`.
    pub target: Option<String>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    pub offset: u64,
    /// 0 = no limit.
    pub limit: u64,
}

impl AuditFilter {
    pub fn matches(&self, e: &AuditEntry) -> bool {
        self.actor.as_ref().is_none_or(|a| &e.actor == a)
            && self
                .action
                .as_deref()
                .is_none_or(|p| e.action.starts_with(p))
            && self.target.as_deref().is_none_or(|t| e.target == t)
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at < t)
    }
}

impl Guilds {
    /// The guild's audit entries matching `f`, newest first.
    pub fn list_audit(&self, guild: GuildId, f: &AuditFilter) -> Result<Page<AuditEntry>, Error> {
        let limit = if f.limit == 0 { u64::MAX } else { f.limit };
        let mut total = 0u64;
        let mut items = Vec::new();
        self.store.read(guild, |r| {
            r.scan_audit(|e| -> Result<bool, Error> {
                // Entries are newest first, so nothing older than `from` can match any more.
                if f.from.is_some_and(|from| e.at < from) {
                    return Ok(false);
                }
                if f.matches(&e) {
                    if total >= f.offset && (items.len() as u64) < limit {
                        items.push(e);
                    }
                    total += 1;
                }
                Ok(true)
            })
        })?;
        Ok(Page {
            items,
            total,
            offset: f.offset,
            limit: f.limit,
        })
    }
}
