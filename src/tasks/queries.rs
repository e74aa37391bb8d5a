//! Read-only questions about tasks and claims: the filtered task list, one task, a member's
//! claims (`/mytasks`), submissions awaiting review, a task's claims, and name lookup for
//! autocomplete. Claim statuses are reported as of now (a late claim reads as expired).

use serde::{Deserialize, Serialize};

use super::{load_task, Tasks};
use crate::domain::tasks::{Claim, ClaimStatus, Review, Task, TaskStatus};
use crate::domain::{DomainError, GuildId, UserId};
use crate::economy::Page;
use crate::error::Error;

/// Filters for the task list. Empty category = any; `limit` 0 = no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    /// Matched case-insensitively.
    pub category: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

impl TaskFilter {
    pub fn matches(&self, t: &Task) -> bool {
        self.status.is_none_or(|s| t.status == s)
            && self
                .category
                .as_deref()
                .is_none_or(|c| c.trim().is_empty() || t.category.eq_ignore_ascii_case(c.trim()))
    }
}

/// A claim together with the task it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimWithTask {
    pub task: Task,
    pub claim: Claim,
}

impl Tasks {
    /// Tasks matching the filter, in id order.
    pub fn list(&self, guild: GuildId, f: &TaskFilter) -> Result<Page<Task>, Error> {
        let all: Vec<Task> = self
            .store
            .read(guild, |r| r.tasks())?
            .into_iter()
            .filter(|t| f.matches(t))
            .collect();
        let total = all.len() as u64;
        let take = if f.limit == 0 {
            usize::MAX
        } else {
            f.limit as usize
        };
        Ok(Page {
            items: all.into_iter().skip(f.offset as usize).take(take).collect(),
            total,
            offset: f.offset,
            limit: f.limit,
        })
    }

    pub fn get(&self, guild: GuildId, id: u64) -> Result<Task, Error> {
        self.store.read(guild, |r| load_task(r, id))
    }

    /// A review (one submission's message) with its task; NotFound once the task is gone.
    pub fn review(&self, guild: GuildId, id: u64) -> Result<(Review, Task), Error> {
        self.store.read(guild, |r| {
            let review = r
                .review(id)?
                .ok_or_else(|| DomainError::NotFound(format!("Review {id}")))?;
            let task = load_task(r, review.claim.task_id)?;
            Ok((review, task))
        })
    }

    /// Distinct categories of the guild's tasks, sorted.
    pub fn categories(&self, guild: GuildId) -> Result<Vec<String>, Error> {
        let mut cats: Vec<String> = self
            .store
            .read(guild, |r| r.tasks())?
            .into_iter()
            .map(|t| t.category)
            .collect();
        cats.sort_unstable_by_key(|c| c.to_lowercase());
        cats.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        Ok(cats)
    }

    /// A member's claims with their tasks, live ones first, then newest claimed first.
    pub fn user_claims(&self, guild: GuildId, user: UserId) -> Result<Vec<ClaimWithTask>, Error> {
        let now = self.store.now();
        let mut out = self.store.read(guild, |r| -> Result<_, Error> {
            let mut out = Vec::new();
            for claim in r.user_claims(user)? {
                out.push(ClaimWithTask {
                    task: load_task(r, claim.task_id)?,
                    claim: as_of(claim, now),
                });
            }
            Ok(out)
        })?;
        out.sort_by_key(|c| {
            (
                !c.claim.status.is_live(),
                std::cmp::Reverse(c.claim.claimed_at),
            )
        });
        Ok(out)
    }

    /// Submitted claims still before their deadline, oldest submission first.
    pub fn awaiting_review(&self, guild: GuildId) -> Result<Vec<ClaimWithTask>, Error> {
        let now = self.store.now();
        let mut out = self.store.read(guild, |r| -> Result<_, Error> {
            let mut out = Vec::new();
            for claim in r.all_claims()? {
                if claim.status_at(now) == ClaimStatus::Submitted {
                    out.push(ClaimWithTask {
                        task: load_task(r, claim.task_id)?,
                        claim,
                    });
                }
            }
            Ok(out)
        })?;
        out.sort_by_key(|c| (c.claim.submitted_at, c.task.id, c.claim.user));
        Ok(out)
    }

    /// Every claim on one task (refused if the task doesn't exist), in claim order.
    pub fn task_claims(&self, guild: GuildId, task: u64) -> Result<Vec<Claim>, Error> {
        let now = self.store.now();
        let mut claims = self.store.read(guild, |r| -> Result<_, Error> {
            load_task(r, task)?;
            Ok(r.task_claims(task)?)
        })?;
        claims.sort_by_key(|c| (c.claimed_at, c.user));
        Ok(claims.into_iter().map(|c| as_of(c, now)).collect())
    }

    /// Up to `limit` tasks whose name starts with `prefix` (case-insensitive) or whose id is
    /// `prefix`, active ones first, for autocomplete. `active_only` hides closed/expired ones.
    pub fn search(
        &self,
        guild: GuildId,
        prefix: &str,
        active_only: bool,
        limit: usize,
    ) -> Result<Vec<Task>, Error> {
        let p = prefix.trim().to_lowercase();
        let mut hits: Vec<Task> = self
            .store
            .read(guild, |r| r.tasks())?
            .into_iter()
            .filter(|t| !active_only || t.status == TaskStatus::Active)
            .filter(|t| t.name.to_lowercase().starts_with(&p) || t.id.to_string() == p)
            .collect();
        hits.sort_by_key(|t| (t.status != TaskStatus::Active, t.name.to_lowercase(), t.id));
        hits.truncate(limit);
        Ok(hits)
    }
}

/// The claim with its status as of `now`.
fn as_of(mut c: Claim, now: chrono::DateTime<chrono::Utc>) -> Claim {
    c.status = c.status_at(now);
    c
}
