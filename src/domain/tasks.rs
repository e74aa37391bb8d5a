//! Tasks (bounties) and claims as plain data, and the claim state machine: `transition` is the
//! one place that decides which claim changes are allowed, and when. No I/O; the service in
//! `tasks/` reads and writes, this module only says yes or no.

mod input;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::error::{describe_until, DomainError};
use super::guild_config::GuildConfig;
use super::ids::{ChannelId, RoleId, UserId};
use super::ledger::Actor;
use super::money::Money;

pub use input::{
    clean_reason, NewTask, Proof, TaskPatch, MAX_CATEGORY_CHARS, MAX_CLAIMS, MAX_DESCRIPTION_CHARS,
    MAX_DURATION_HOURS, MAX_NAME_CHARS, MAX_REASON_CHARS,
};

/// Whether a task can be claimed. Field values follow the old bot (`active`, `closed`, `expired`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Active,
    /// Closed by an admin: no new claims; existing claims can still be submitted and reviewed.
    Closed,
    /// Past `expires_at` (set by the sweep): no new claims, as for `Closed`.
    Expired,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Active => "active",
            TaskStatus::Closed => "closed",
            TaskStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        [TaskStatus::Active, TaskStatus::Closed, TaskStatus::Expired]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A task (bounty) members can claim. Message ids live in the sync outbox, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub reward: Money,
    /// How long a claimant has, from claiming, to get the proof accepted.
    pub duration_hours: u32,
    pub status: TaskStatus,
    /// No new claims from this moment (enforced when the guild's `auto_expire_enabled` is on).
    pub expires_at: Option<DateTime<Utc>>,
    /// `-1` = unlimited.
    pub max_claims: i64,
    /// Claims holding a spot: in progress, submitted or accepted (expired claims free theirs).
    pub current_claims: i64,
    pub category: String,
    pub role_id: Option<RoleId>,
    /// The role's display name, as the old bot stored it (informational).
    pub role_name: Option<String>,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Accepted claims so far.
    pub completed: u64,
}

impl Task {
    /// Room for one more claim.
    pub fn has_room(&self) -> bool {
        self.max_claims < 0 || self.current_claims < self.max_claims
    }

    /// The deadline of a claim taken at `claimed_at`.
    pub fn deadline_from(&self, claimed_at: DateTime<Utc>) -> DateTime<Utc> {
        claimed_at + Duration::hours(i64::from(self.duration_hours))
    }

    /// Refuses a new claim on a task that is closed, expired or past `expires_at`, or when the
    /// server has tasks turned off. Capacity is checked separately
    /// (`has_room`), because a re-claim may first free its own spot.
    pub fn check_claimable(
        &self,
        cfg: &GuildConfig,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if !cfg.features.tasks {
            return Err(tasks_off());
        }
        match self.status {
            TaskStatus::Active => {}
            TaskStatus::Closed => {
                return Err(DomainError::Refused(format!(
                    "The task \"{}\" is closed.",
                    self.name
                )))
            }
            TaskStatus::Expired => return Err(task_expired(&self.name)),
        }
        if cfg.auto_expire_enabled && self.expires_at.is_some_and(|e| now >= e) {
            return Err(task_expired(&self.name));
        }
        Ok(())
    }
}

/// The refusal when the guild has the tasks feature off.
pub fn tasks_off() -> DomainError {
    DomainError::Refused("Tasks are turned off on this server.".into())
}

fn task_expired(name: &str) -> DomainError {
    DomainError::Refused(format!("The task \"{name}\" has expired."))
}

/// Where a claim is in its life. Stored names follow the old bot (`in_progress`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    InProgress,
    Submitted,
    Accepted,
    Expired,
}

impl ClaimStatus {
    pub const ALL: [ClaimStatus; 4] = [
        ClaimStatus::InProgress,
        ClaimStatus::Submitted,
        ClaimStatus::Accepted,
        ClaimStatus::Expired,
    ];

    /// In progress or submitted: still running against its deadline.
    pub fn is_live(self) -> bool {
        matches!(self, ClaimStatus::InProgress | ClaimStatus::Submitted)
    }

    /// Counts toward the task's `current_claims`.
    pub fn holds_spot(self) -> bool {
        self != ClaimStatus::Expired
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimStatus::InProgress => "in_progress",
            ClaimStatus::Submitted => "submitted",
            ClaimStatus::Accepted => "accepted",
            ClaimStatus::Expired => "expired",
        }
    }
}

/// Something that happens to a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimAction {
    /// A member takes the task (first time, or again after their claim expired).
    Claim,
    Submit,
    Accept,
    Reject,
    /// The deadline passed (the sweep).
    Expire,
}

impl ClaimAction {
    pub const ALL: [ClaimAction; 5] = [
        ClaimAction::Claim,
        ClaimAction::Submit,
        ClaimAction::Accept,
        ClaimAction::Reject,
        ClaimAction::Expire,
    ];
}

/// The claim state machine. `from` is the member's current claim on the task (`None`: never
/// claimed); `deadline` is that claim's deadline (ignored when `from` is `None`). A claim is
/// late from its deadline on (`now >= deadline`).
///
/// - `Claim`: none or expired -> in progress. A live claim that is already late counts as
///   expired (the sweep may not have run yet), so it may be re-claimed too. An accepted claim
///   can never be claimed again: a member earns each task once.
/// - `Submit`: in progress -> submitted, only before the deadline.
/// - `Accept`: submitted -> accepted, only before the deadline.
/// - `Reject`: submitted -> in progress (resubmit until the deadline), only before the deadline.
/// - `Expire`: in progress / submitted -> expired, only from the deadline on.
///
/// Everything else is refused with a reason the member or reviewer can act on.
pub fn transition(
    from: Option<ClaimStatus>,
    action: ClaimAction,
    now: DateTime<Utc>,
    deadline: DateTime<Utc>,
) -> Result<ClaimStatus, DomainError> {
    use ClaimAction as A;
    use ClaimStatus as S;
    let late = now >= deadline;
    let Some(from) = from else {
        return match action {
            A::Claim => Ok(S::InProgress),
            _ => Err(DomainError::NotFound("Claim on this task".into())),
        };
    };
    match (from, action) {
        (S::Expired, A::Claim) => Ok(S::InProgress),
        (S::InProgress | S::Submitted, A::Claim) if late => Ok(S::InProgress),
        (S::InProgress | S::Submitted, A::Claim) => Err(DomainError::Conflict(format!(
            "This task is already claimed and in progress; the deadline is {}.",
            describe_until(deadline, now)
        ))),
        (S::Accepted, A::Claim) => Err(DomainError::Conflict(
            "This task was already completed and accepted; it can't be claimed again.".into(),
        )),
        (S::Accepted, _) => Err(DomainError::Conflict(
            "This claim was already accepted.".into(),
        )),
        (S::Expired, _) => Err(claim_expired()),
        (S::InProgress | S::Submitted, A::Expire) if late => Ok(S::Expired),
        (S::InProgress | S::Submitted, A::Expire) => Err(DomainError::Refused(
            "This claim's deadline has not passed yet.".into(),
        )),
        (S::InProgress | S::Submitted, _) if late => Err(claim_expired()),
        (S::InProgress, A::Submit) => Ok(S::Submitted),
        (S::InProgress, A::Accept | A::Reject) => Err(DomainError::Refused(
            "Nothing to review yet: no proof has been submitted for this claim.".into(),
        )),
        (S::Submitted, A::Submit) => Err(DomainError::Conflict(
            "The proof was already submitted and is waiting for review.".into(),
        )),
        (S::Submitted, A::Accept) => Ok(S::Accepted),
        (S::Submitted, A::Reject) => Ok(S::InProgress),
    }
}

fn claim_expired() -> DomainError {
    DomainError::Refused(
        "This claim's deadline has passed, so it has expired. Claim the task again if it is still open."
            .into(),
    )
}

/// One member's claim on one task (at most one per task and member: re-claiming replaces an
/// expired claim). Field names follow the old bot's `user_tasks` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Claim {
    pub task_id: u64,
    pub user: UserId,
    pub status: ClaimStatus,
    pub claimed_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub proof_content: String,
    pub proof_attachments: Vec<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it was accepted.
    pub completed_at: Option<DateTime<Utc>>,
    /// Who last accepted or rejected it.
    pub reviewer: Option<Actor>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// The reason given with the last rejection.
    pub review_message: Option<String>,
    pub rejections: u32,
    pub expired_at: Option<DateTime<Utc>>,
    /// The `task_reward` ledger entry, once accepted.
    pub reward_transaction: Option<u64>,
    /// The pending role grant recorded on acceptance, if the task gives a role.
    pub role_grant: Option<u64>,
    /// The review of the latest submission (its message in the task channel).
    #[serde(default)]
    pub review_id: Option<u64>,
}

/// One submission as the moderators see it: the claim as it was submitted, the channel its
/// message belongs in, and what became of it. A resubmission after a rejection is a new review
/// (the old message keeps showing the rejection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: u64,
    pub channel: Option<ChannelId>,
    pub claim: Claim,
    pub outcome: ReviewOutcome,
}

/// What became of a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// Waiting for a moderator: the message has Accept / Reject buttons.
    Waiting,
    Accepted {
        by: Actor,
    },
    Rejected {
        by: Actor,
        reason: String,
    },
    /// The claim's deadline passed before anyone reviewed it.
    Expired,
}

impl Claim {
    /// A fresh claim taken at `now`.
    pub fn new(task: &Task, user: UserId, now: DateTime<Utc>) -> Claim {
        Claim {
            task_id: task.id,
            user,
            status: ClaimStatus::InProgress,
            claimed_at: now,
            deadline: task.deadline_from(now),
            proof_content: String::new(),
            proof_attachments: Vec::new(),
            submitted_at: None,
            completed_at: None,
            reviewer: None,
            reviewed_at: None,
            review_message: None,
            rejections: 0,
            expired_at: None,
            reward_transaction: None,
            role_grant: None,
            review_id: None,
        }
    }

    /// The status as of `now`: a live claim past its deadline is expired even before the sweep
    /// records it. Use this for display and for counting live claims.
    pub fn status_at(&self, now: DateTime<Utc>) -> ClaimStatus {
        if self.status.is_live() && now >= self.deadline {
            ClaimStatus::Expired
        } else {
            self.status
        }
    }

    /// Applies `action` through the state machine.
    pub fn next(
        &self,
        action: ClaimAction,
        now: DateTime<Utc>,
    ) -> Result<ClaimStatus, DomainError> {
        transition(Some(self.status), action, now, self.deadline)
    }
}
