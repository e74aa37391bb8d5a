//! Tasks (bounties) as a service: admins create, edit, close and delete tasks; members claim and
//! submit proof; reviewers accept (paying the reward) or reject; the sweep expires what is past
//! due. Each operation is one store write. No Discord or HTTP types here.

mod admin;
mod claims;
mod notices;
mod queries;
mod sweep;

#[cfg(test)]
mod claim_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

use crate::domain::tasks::{tasks_off, Claim, Review, ReviewOutcome, Task};
use crate::domain::{DomainError, GuildConfig, Transaction, UserId};
use crate::error::Error;
use crate::store::outbox::SyncKind;
use crate::store::roles::RoleGrant;
use crate::store::{Store, View, WriteCtx};

pub use queries::{ClaimWithTask, TaskFilter};
pub use sweep::{ClaimKey, SweepReport};

/// The tasks service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tasks {
    store: Store,
}

/// What `accept` did: the claim as accepted, the task with its new completed count, the reward
/// entry and the recorded role grant (when the task gives a role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AcceptOutcome {
    pub claim: Claim,
    pub task: Task,
    pub transaction: Transaction,
    pub role_grant: Option<RoleGrant>,
}

/// What `delete` removed. Ledger entries that paid its rewards are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedTask {
    pub task: Task,
    pub claims_removed: u64,
}

impl Tasks {
    pub fn new(store: Store) -> Tasks {
        Tasks { store }
    }
}

fn require_tasks(cfg: &GuildConfig) -> Result<(), Error> {
    if cfg.features.tasks {
        Ok(())
    } else {
        Err(tasks_off().into())
    }
}

fn load_task<T: crate::store::Tables>(r: &View<'_, T>, id: u64) -> Result<Task, Error> {
    r.task(id)?
        .ok_or_else(|| DomainError::NotFound(format!("Task {id}")).into())
}

fn load_claim<T: crate::store::Tables>(
    r: &View<'_, T>,
    task: &Task,
    user: UserId,
) -> Result<Claim, Error> {
    r.claim(task.id, user)?.ok_or_else(|| {
        DomainError::ClaimNotFound {
            user,
            task_id: task.id,
            task: task.name.clone(),
        }
        .into()
    })
}

/// A new submission: its review (the message moderators act on) is recorded and queued for
/// the task channel in the same write.
fn open_review(w: &mut WriteCtx<'_>, cfg: &GuildConfig, claim: &mut Claim) -> Result<(), Error> {
    let id = w.next_id("review")?;
    claim.review_id = Some(id);
    w.put_review(&Review {
        id,
        channel: cfg.task_channel_id,
        claim: claim.clone(),
        outcome: ReviewOutcome::Waiting,
    })?;
    w.sync_touch(SyncKind::Review, id, cfg.task_channel_id)?;
    Ok(())
}

/// The claim's waiting review gets its outcome, and its message loses the buttons.
fn close_review(w: &mut WriteCtx<'_>, claim: &Claim, outcome: ReviewOutcome) -> Result<(), Error> {
    let Some(id) = claim.review_id else {
        return Ok(());
    };
    let Some(mut r) = w.review(id)? else {
        return Ok(());
    };
    if r.outcome != ReviewOutcome::Waiting {
        return Ok(());
    }
    r.outcome = outcome;
    w.put_review(&r)?;
    w.sync_touch(SyncKind::Review, id, None)?;
    Ok(())
}

/// Records that the task's Discord message must show its new state.
fn touch(w: &mut WriteCtx<'_>, cfg: &GuildConfig, task: u64) -> Result<(), Error> {
    w.sync_touch(SyncKind::Task, task, cfg.task_channel_id)?;
    Ok(())
}
