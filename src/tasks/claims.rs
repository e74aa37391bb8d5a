//! The claim lifecycle: claim, submit, accept, reject. Every status change goes through
//! `domain::tasks::transition`; accept pays the reward, records the role grant, and moves the
//! claim and the task's counters in one transaction, so a reward is paid at most once.

use super::{load_claim, load_task, require_tasks, touch, AcceptOutcome, Tasks};
use crate::domain::tasks::{clean_reason, transition, Claim, ClaimAction, Proof, ReviewOutcome};
use crate::domain::{Actor, DomainError, GuildId, TxKind, UserId};
use crate::economy::OpMeta;
use crate::error::Error;
use crate::events::EventKind;
use crate::store::accounts::NewEntry;
use crate::store::audit::snapshot;

impl Tasks {
    /// A member claims a task: refused when the task is closed, expired or full, when the
    /// member already holds a live claim on it or has completed it, or when they hold
    /// `max_tasks_per_user` live claims already. A member whose claim expired may claim again
    /// while the task is open. Idempotent with a key.
    pub fn claim(
        &self,
        guild: GuildId,
        task_id: u64,
        user: UserId,
        meta: &OpMeta,
    ) -> Result<Claim, Error> {
        let key = meta.key();
        self.store.write_once(guild, key, "task.claim", |w| {
            let cfg = w.guild_config()?;
            let now = w.now;
            let mut task = load_task(w, task_id)?;
            task.check_claimable(&cfg, now)?;
            let existing = w.claim(task_id, user)?;
            let (from, deadline) = match &existing {
                Some(c) => (Some(c.status), c.deadline),
                None => (None, now),
            };
            transition(from, ClaimAction::Claim, now, deadline)?;
            if existing.is_some_and(|c| c.status.holds_spot()) {
                // Only a late live claim gets here: it expires now and gives its spot back.
                task.current_claims -= 1;
            }
            if !task.has_room() {
                return Err(DomainError::LimitExceeded(format!(
                    "The task \"{}\" is full: all {} spots are taken.",
                    task.name, task.max_claims
                ))
                .into());
            }
            let live = w
                .user_claims(user)?
                .iter()
                .filter(|c| c.task_id != task_id && c.status_at(now).is_live())
                .count();
            if live >= cfg.max_tasks_per_user as usize {
                return Err(DomainError::LimitExceeded(format!(
                    "You already have {live} tasks in progress, the most this server allows. \
                     Finish one (or let it expire) first."
                ))
                .into());
            }
            let claim = Claim::new(&task, user, now);
            task.current_claims += 1;
            w.put_task(&task)?;
            w.put_claim(&claim)?;
            touch(w, &cfg, task_id)?;
            w.emit(
                EventKind::TaskClaimed,
                vec![task_id.to_string(), user.to_string()],
            );
            Ok(claim)
        })
    }

    /// The claimant submits proof (required when the server's `require_proof` is on). Allowed
    /// before the deadline, also on a task closed since it was claimed. Idempotent with a key.
    pub fn submit(
        &self,
        guild: GuildId,
        task_id: u64,
        user: UserId,
        proof: Proof,
        meta: &OpMeta,
    ) -> Result<Claim, Error> {
        let key = meta.key();
        self.store.write_once(guild, key, "task.submit", |w| {
            let cfg = w.guild_config()?;
            require_tasks(&cfg)?;
            let proof = proof.clone().validate(cfg.require_proof)?;
            let task = load_task(w, task_id)?;
            let mut claim = load_claim(w, &task, user)?;
            claim.status = claim.next(ClaimAction::Submit, w.now)?;
            claim.proof_content = proof.content;
            claim.proof_attachments = proof.attachments;
            claim.submitted_at = Some(w.now);
            super::open_review(w, &cfg, &mut claim)?;
            w.put_claim(&claim)?;
            w.emit(
                EventKind::ClaimSubmitted,
                vec![task_id.to_string(), user.to_string()],
            );
            Ok(claim)
        })
    }

    /// A reviewer accepts a submitted claim: pays the reward (`task_reward` entry naming the
    /// task), records a pending role grant when the task gives a role, marks the claim accepted
    /// and counts the completion, all or nothing. A second accept is refused, so it pays once.
    pub fn accept(
        &self,
        guild: GuildId,
        task_id: u64,
        user: UserId,
        meta: &OpMeta,
    ) -> Result<AcceptOutcome, Error> {
        let key = meta.key();
        self.store.write_once(guild, key, "task.accept", |w| {
            let cfg = w.guild_config()?;
            let mut task = load_task(w, task_id)?;
            let before = load_claim(w, &task, user)?;
            refuse_self_review(meta, user)?;
            let mut claim = before.clone();
            claim.status = claim.next(ClaimAction::Accept, w.now)?;
            let transaction = w.append_entry(
                NewEntry::new(
                    user,
                    task.reward,
                    TxKind::TaskReward,
                    format!("Task reward: {}", task.name),
                )
                .by(meta.actor.clone(), meta.source)
                .meta("task_id", task.id.to_string()),
            )?;
            let role_grant = match task.role_id {
                Some(role) => Some(w.record_role_grant(user, role, format!("task:{task_id}"))?),
                None => None,
            };
            w.record_notice(
                user,
                format!("task:{task_id} accepted"),
                super::notices::accepted(&cfg, &task),
            )?;
            claim.completed_at = Some(w.now);
            claim.reviewer = Some(meta.actor.clone());
            claim.reviewed_at = Some(w.now);
            claim.reward_transaction = Some(transaction.id);
            claim.role_grant = role_grant.as_ref().map(|g| g.id);
            let by = meta.actor.clone();
            super::close_review(w, &claim, ReviewOutcome::Accepted { by })?;
            task.completed += 1;
            w.put_claim(&claim)?;
            w.put_task(&task)?;
            touch(w, &cfg, task_id)?;
            w.audit(
                &meta.actor,
                "task.claim.accept",
                format!("task:{task_id}/user:{user}"),
                snapshot(&before),
                snapshot(&claim),
            )?;
            w.emit(
                EventKind::ClaimAccepted,
                vec![task_id.to_string(), user.to_string()],
            );
            Ok(AcceptOutcome {
                claim,
                task,
                transaction,
                role_grant,
            })
        })
    }

    /// A reviewer rejects a submission with a reason; the claim goes back to in progress and
    /// the member may resubmit until the deadline.
    pub fn reject(
        &self,
        guild: GuildId,
        task_id: u64,
        user: UserId,
        reason: &str,
        meta: &OpMeta,
    ) -> Result<Claim, Error> {
        let reason = clean_reason(reason)?;
        let key = meta.key();
        self.store.write_once(guild, key, "task.reject", |w| {
            let task = load_task(w, task_id)?;
            let before = load_claim(w, &task, user)?;
            refuse_self_review(meta, user)?;
            let mut claim = before.clone();
            claim.status = claim.next(ClaimAction::Reject, w.now)?;
            claim.reviewer = Some(meta.actor.clone());
            claim.reviewed_at = Some(w.now);
            w.record_notice(
                user,
                format!("task:{task_id} rejected"),
                super::notices::rejected(&task, &reason, claim.deadline),
            )?;
            let (by, why) = (meta.actor.clone(), reason.clone());
            super::close_review(w, &claim, ReviewOutcome::Rejected { by, reason: why })?;
            claim.review_message = Some(reason.clone());
            claim.rejections += 1;
            w.put_claim(&claim)?;
            w.audit(
                &meta.actor,
                "task.claim.reject",
                format!("task:{task_id}/user:{user}"),
                snapshot(&before),
                snapshot(&claim),
            )?;
            w.emit(
                EventKind::ClaimRejected,
                vec![task_id.to_string(), user.to_string()],
            );
            Ok(claim)
        })
    }
}

fn refuse_self_review(meta: &OpMeta, claimant: UserId) -> Result<(), Error> {
    if meta.actor == Actor::User(claimant) {
        return Err(DomainError::Refused("You can't review your own submission.".into()).into());
    }
    Ok(())
}
