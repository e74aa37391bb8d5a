//! The sweep: expires claims past their deadline (always) and active tasks past `expires_at`
//! (when the guild's `auto_expire_enabled` is on). It reads first and writes only when
//! something is due, so a scheduler can sweep every guild often.

use std::collections::btree_map::{BTreeMap, Entry};

use serde::{Deserialize, Serialize};

use super::{touch, Tasks};
use crate::domain::tasks::{ClaimAction, ReviewOutcome, TaskStatus};
use crate::domain::{GuildId, UserId};
use crate::error::Error;
use crate::events::EventKind;

/// One member's claim on one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClaimKey {
    pub task_id: u64,
    pub user: UserId,
}

/// What a sweep changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepReport {
    pub expired_claims: Vec<ClaimKey>,
    pub expired_tasks: Vec<u64>,
}

impl SweepReport {
    pub fn is_empty(&self) -> bool {
        self.expired_claims.is_empty() && self.expired_tasks.is_empty()
    }
}

impl Tasks {
    /// Sweeps one guild at the store clock's `now`. Emits `ClaimsExpired` (ids: `task:user`)
    /// and `TaskUpdated` for each task whose counts or status changed.
    pub fn sweep(&self, guild: GuildId) -> Result<SweepReport, Error> {
        let now = self.store.now();
        let due = self.store.read(guild, |r| -> Result<bool, Error> {
            let cfg = r.guild_config()?;
            let claims_due = r.all_claims()?.iter().any(|c| c.status_at(now) != c.status);
            let tasks_due = cfg.auto_expire_enabled
                && r.tasks()?.iter().any(|t| {
                    t.status == TaskStatus::Active && t.expires_at.is_some_and(|e| now >= e)
                });
            Ok(claims_due || tasks_due)
        })?;
        if !due {
            return Ok(SweepReport::default());
        }
        self.store.write(guild, |w| {
            let cfg = w.guild_config()?;
            let now = w.now;
            let mut report = SweepReport::default();
            let mut tasks = BTreeMap::new();
            for mut c in w.all_claims()? {
                let Ok(next) = c.next(ClaimAction::Expire, now) else {
                    continue;
                };
                c.status = next;
                c.expired_at = Some(now);
                w.put_claim(&c)?;
                super::close_review(w, &c, ReviewOutcome::Expired)?;
                let task = match tasks.entry(c.task_id) {
                    Entry::Occupied(e) => Some(e.into_mut()),
                    Entry::Vacant(e) => w.task(c.task_id)?.map(|t| e.insert(t)),
                };
                if let Some(t) = task {
                    t.current_claims -= 1;
                    let text = super::notices::expired(&t.name);
                    w.record_notice(c.user, format!("task:{} expired", c.task_id), text)?;
                }
                report.expired_claims.push(ClaimKey {
                    task_id: c.task_id,
                    user: c.user,
                });
            }
            if cfg.auto_expire_enabled {
                for t in w.tasks()? {
                    if t.status == TaskStatus::Active && t.expires_at.is_some_and(|e| now >= e) {
                        let t = tasks.entry(t.id).or_insert(t);
                        t.status = TaskStatus::Expired;
                        t.updated_at = now;
                        report.expired_tasks.push(t.id);
                    }
                }
            }
            // Every task in `tasks` lost a spot or expired.
            for t in tasks.values() {
                w.put_task(t)?;
                touch(w, &cfg, t.id)?;
                w.emit(EventKind::TaskUpdated, vec![t.id.to_string()]);
            }
            if !report.expired_claims.is_empty() {
                let ids = report
                    .expired_claims
                    .iter()
                    .map(|k| format!("{}:{}", k.task_id, k.user))
                    .collect();
                w.emit(EventKind::ClaimsExpired, ids);
            }
            Ok(report)
        })
    }

    /// Sweeps every guild that has tasks; returns the guilds where something changed.
    /// A failing guild is logged and skipped so the others still get swept.
    pub fn sweep_all(&self) -> Result<Vec<(GuildId, SweepReport)>, Error> {
        let mut out = Vec::new();
        for guild in self.store.task_guild_ids()? {
            match self.sweep(guild) {
                Ok(r) if r.is_empty() => {}
                Ok(r) => out.push((guild, r)),
                Err(e) => tracing::warn!(%guild, error = %e, "task sweep failed"),
            }
        }
        Ok(out)
    }
}
