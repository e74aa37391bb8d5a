//! Admin changes to tasks: create, edit, close, reopen, delete. Each bumps the task's sync record
//! (its Discord message) and writes an audit entry with before/after, in the same transaction.

use super::{load_task, require_tasks, touch, DeletedTask, Tasks};
use crate::domain::tasks::{NewTask, Task, TaskPatch, TaskStatus};
use crate::domain::{DomainError, GuildId};
use crate::economy::OpMeta;
use crate::error::Error;
use crate::events::EventKind;
use crate::guild::check_role_reward;
use crate::store::audit::snapshot;
use crate::store::outbox::SyncKind;
use crate::store::WriteCtx;

impl Tasks {
    /// Creates an active task.
    pub fn create(&self, guild: GuildId, new: NewTask, meta: &OpMeta) -> Result<Task, Error> {
        self.store
            .write_once(guild, meta.key(), "task.create", |w| {
                let cfg = w.guild_config()?;
                require_tasks(&cfg)?;
                let id = w.next_id("task")?;
                let task = new.clone().into_task(id, meta.actor.clone(), w.now)?;
                if let Some(role) = task.role_id {
                    check_role_reward(w, role)?;
                }
                w.put_task(&task)?;
                touch(w, &cfg, id)?;
                w.audit(
                    &meta.actor,
                    "task.create",
                    format!("task:{id}"),
                    None,
                    snapshot(&task),
                )?;
                w.emit(EventKind::TaskCreated, vec![id.to_string()]);
                Ok(task)
            })
    }

    /// A task created by a member rather than an admin: allowed only when the guild's
    /// `allow_user_tasks` is on. Reviewing it still takes a moderator.
    pub fn create_by_member(
        &self,
        guild: GuildId,
        new: NewTask,
        meta: &OpMeta,
    ) -> Result<Task, Error> {
        let cfg = self.store.read(guild, |r| r.guild_config())?;
        if !cfg.allow_user_tasks {
            return Err(crate::domain::DomainError::Refused(
                "Only admins can create tasks on this server.".into(),
            )
            .into());
        }
        self.create(guild, new, meta)
    }

    /// Edits a task. Running claims keep their deadlines; `max_claims` can't drop below the
    /// spots already taken.
    pub fn edit(
        &self,
        guild: GuildId,
        id: u64,
        patch: &TaskPatch,
        meta: &OpMeta,
    ) -> Result<Task, Error> {
        self.change(guild, id, meta, "task.edit", |before, now| {
            patch.apply(before, now)
        })
    }

    /// Closes a task to new claims. Members with a running claim may still submit, and
    /// reviewers may still accept or reject, until each claim's deadline.
    pub fn close(&self, guild: GuildId, id: u64, meta: &OpMeta) -> Result<Task, Error> {
        self.change(guild, id, meta, "task.close", |before, now| {
            if before.status == TaskStatus::Closed {
                return Err(DomainError::Conflict(format!(
                    "The task \"{}\" is already closed.",
                    before.name
                )));
            }
            let mut t = before.clone();
            t.status = TaskStatus::Closed;
            t.updated_at = now;
            Ok(t)
        })
    }

    /// Opens a closed or expired task again. An `expires_at` already past must be changed
    /// (or cleared) first.
    pub fn reopen(&self, guild: GuildId, id: u64, meta: &OpMeta) -> Result<Task, Error> {
        self.change(guild, id, meta, "task.reopen", |before, now| {
            if before.status == TaskStatus::Active {
                return Err(DomainError::Conflict(format!(
                    "The task \"{}\" is already open.",
                    before.name
                )));
            }
            if before.expires_at.is_some_and(|e| e <= now) {
                return Err(DomainError::invalid(
                    "expires_at",
                    "is in the past; set a later expiry or clear it before reopening",
                ));
            }
            let mut t = before.clone();
            t.status = TaskStatus::Active;
            t.updated_at = now;
            Ok(t)
        })
    }

    /// Deletes a task, its claims and its reviews. Rewards already paid stay in the ledger;
    /// the task's Discord message and its review messages are scheduled for deletion.
    pub fn delete(&self, guild: GuildId, id: u64, meta: &OpMeta) -> Result<DeletedTask, Error> {
        self.store
            .write_once(guild, meta.key(), "task.delete", |w| {
                let task = load_task(w, id)?;
                let claims = w.task_claims(id)?;
                for c in &claims {
                    w.remove_claim(id, c.user)?;
                }
                for r in w.task_reviews(id)? {
                    w.remove_review(r.id)?;
                    w.sync_delete(SyncKind::Review, r.id, true)?;
                }
                w.remove_task(id)?;
                w.sync_delete(SyncKind::Task, id, true)?;
                w.audit(
                    &meta.actor,
                    "task.delete",
                    format!("task:{id}"),
                    snapshot(&task),
                    None,
                )?;
                w.emit(EventKind::TaskDeleted, vec![id.to_string()]);
                Ok(DeletedTask {
                    task,
                    claims_removed: claims.len() as u64,
                })
            })
    }

    /// Loads, changes (via `f`), stores, syncs, audits and announces one task.
    fn change(
        &self,
        guild: GuildId,
        id: u64,
        meta: &OpMeta,
        action: &str,
        f: impl Fn(&Task, chrono::DateTime<chrono::Utc>) -> Result<Task, DomainError> + Sync,
    ) -> Result<Task, Error> {
        self.store.write_once(guild, meta.key(), action, |w| {
            let cfg = w.guild_config()?;
            let before = load_task(w, id)?;
            let after = f(&before, w.now)?;
            if let Some(role) = after.role_id.filter(|r| Some(*r) != before.role_id) {
                check_role_reward(w, role)?;
            }
            save_changed(w, &cfg, &before, &after, meta, action)?;
            Ok(after)
        })
    }
}

fn save_changed(
    w: &mut WriteCtx<'_>,
    cfg: &crate::domain::GuildConfig,
    before: &Task,
    after: &Task,
    meta: &OpMeta,
    action: &str,
) -> Result<(), Error> {
    w.put_task(after)?;
    touch(w, cfg, after.id)?;
    w.audit(
        &meta.actor,
        action,
        format!("task:{}", after.id),
        snapshot(before),
        snapshot(after),
    )?;
    w.emit(EventKind::TaskUpdated, vec![after.id.to_string()]);
    Ok(())
}
