//! Tasks and claims: `tasks` (guild, task) -> Task, `claims` (guild, task, user) -> Claim, and the
//! `claims_by_user` index kept in step by `put_claim`/`remove_claim`. Storage only: the rules
//! (state machine, limits) live in `domain::tasks` and the service in `tasks/`.

use redb::ReadableTable;

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::tasks::{Claim, Review, Task};
use crate::domain::{GuildId, UserId};
use crate::store::Store;

impl<T: Tables> View<'_, T> {
    pub fn task(&self, id: u64) -> Result<Option<Task>, StoreError> {
        let t = self.tx.open(tables::TASKS)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| decode("tasks", v.value())).transpose()
    }

    /// Every task of the guild, in id order.
    pub fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        let t = self.tx.open(tables::TASKS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(decode("tasks", row?.1.value())?);
        }
        Ok(out)
    }

    pub fn claim(&self, task: u64, user: UserId) -> Result<Option<Claim>, StoreError> {
        let t = self.tx.open(tables::CLAIMS)?;
        let v = t.get((self.g(), task, user.0))?;
        v.map(|v| decode("claims", v.value())).transpose()
    }

    /// The claims on one task, in user id order.
    pub fn task_claims(&self, task: u64) -> Result<Vec<Claim>, StoreError> {
        let t = self.tx.open(tables::CLAIMS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), task, 0)..=(self.g(), task, u64::MAX))? {
            out.push(decode("claims", row?.1.value())?);
        }
        Ok(out)
    }

    /// Every claim in the guild, by task then user.
    pub fn all_claims(&self) -> Result<Vec<Claim>, StoreError> {
        let t = self.tx.open(tables::CLAIMS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0, 0)..=(self.g(), u64::MAX, u64::MAX))? {
            out.push(decode("claims", row?.1.value())?);
        }
        Ok(out)
    }

    pub fn review(&self, id: u64) -> Result<Option<Review>, StoreError> {
        let t = self.tx.open(tables::REVIEWS)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| decode("reviews", v.value())).transpose()
    }

    /// Every review of one task (a scan of the guild's reviews: only task deletion needs it).
    pub fn task_reviews(&self, task: u64) -> Result<Vec<Review>, StoreError> {
        let t = self.tx.open(tables::REVIEWS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            let r: Review = decode("reviews", row?.1.value())?;
            if r.claim.task_id == task {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// One member's claims, in task id order.
    pub fn user_claims(&self, user: UserId) -> Result<Vec<Claim>, StoreError> {
        let index = self.tx.open(tables::CLAIMS_BY_USER)?;
        let claims = self.tx.open(tables::CLAIMS)?;
        let (g, u) = (self.g(), user.0);
        let mut out = Vec::new();
        for row in index.range((g, u, 0)..=(g, u, u64::MAX))? {
            let task = row?.0.value().2;
            let v = claims.get((g, task, u))?.ok_or_else(|| {
                StoreError::Invariant(format!(
                    "claims_by_user names a missing claim (task {task}, user {u})"
                ))
            })?;
            out.push(decode("claims", v.value())?);
        }
        Ok(out)
    }
}

impl WriteCtx<'_> {
    pub fn put_task(&self, task: &Task) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::TASKS)?;
        t.insert((self.g(), task.id), encode(task)?.as_slice())?;
        Ok(())
    }

    /// Removes the task row only; the caller removes its claims first.
    pub fn remove_task(&self, id: u64) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::TASKS)?;
        t.remove((self.g(), id))?;
        Ok(())
    }

    /// Stores a claim and its by-user index entry.
    pub fn put_claim(&self, c: &Claim) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::CLAIMS)?;
        t.insert((self.g(), c.task_id, c.user.0), encode(c)?.as_slice())?;
        let mut index = self.tx.open_table(tables::CLAIMS_BY_USER)?;
        index.insert((self.g(), c.user.0, c.task_id), ())?;
        Ok(())
    }

    pub fn put_review(&self, r: &Review) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::REVIEWS)?;
        t.insert((self.g(), r.id), encode(r)?.as_slice())?;
        Ok(())
    }

    pub fn remove_review(&self, id: u64) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::REVIEWS)?;
        t.remove((self.g(), id))?;
        Ok(())
    }

    pub fn remove_claim(&self, task: u64, user: UserId) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::CLAIMS)?;
        t.remove((self.g(), task, user.0))?;
        let mut index = self.tx.open_table(tables::CLAIMS_BY_USER)?;
        index.remove((self.g(), user.0, task))?;
        Ok(())
    }
}

impl Store {
    /// Guilds that have at least one task (the only ones a sweep can change).
    pub fn task_guild_ids(&self) -> Result<Vec<GuildId>, StoreError> {
        let tx = self.begin_read()?;
        let tasks = tx.open_table(tables::TASKS)?;
        let mut out = Vec::new();
        let mut next = tasks.first()?.map(|(k, _)| k.value().0);
        while let Some(g) = next {
            out.push(GuildId(g));
            next = match g.checked_add(1) {
                Some(n) => tasks
                    .range((n, 0)..)?
                    .next()
                    .transpose()?
                    .map(|(k, _)| k.value().0),
                None => None,
            };
        }
        Ok(out)
    }
}
