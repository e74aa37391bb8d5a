//! Service tests for the claim lifecycle: every rule, refusals changing nothing, deadline edges
//! with the manual clock, accept paying once, and concurrent claims on a limited task.

use chrono::Duration;

use super::tests::{admin, fx, fx_with, member, proof, Fx, G};
use crate::domain::tasks::{ClaimStatus, NewTask, Proof, ReviewOutcome};
use crate::domain::{GuildConfig, Money, RoleId, TxKind, UserId};
use crate::events::EventKind;
use crate::guild::SyncKind;
use crate::store::accounts::NewEntry;
use crate::store::roles::GrantState;

fn claim(f: &Fx, task: u64, u: u64) -> Result<crate::domain::tasks::Claim, crate::Error> {
    f.tasks.claim(G, task, UserId(u), &member(u))
}

#[test]
fn claim_starts_the_clock_and_takes_a_spot() {
    let f = fx();
    let t = f.create("Welcome", 100, 5);
    let mark = f.mark();
    let c = claim(&f, t.id, 1).unwrap();
    assert_eq!(c.status, ClaimStatus::InProgress);
    assert_eq!(c.deadline, f.ts.store.now() + Duration::hours(24));
    assert_eq!(f.stored_claim(t.id, 1), Some(c));
    assert_eq!(f.task(t.id).current_claims, 1);
    assert!(f.kinds_since(mark).contains(&EventKind::TaskClaimed));
    assert_eq!(
        f.sync(t.id).unwrap().desired_version,
        2,
        "the message shows the count"
    );
}

#[test]
fn a_second_live_claim_on_the_same_task_is_refused_and_changes_nothing() {
    let f = fx();
    let t = f.create("Once", 10, 5);
    let first = claim(&f, t.id, 1).unwrap();
    f.advance(Duration::hours(1));
    let err = claim(&f, t.id, 1).unwrap_err();
    assert!(err.user_message().contains("already claimed"), "{err}");
    assert_eq!(f.stored_claim(t.id, 1), Some(first));
    assert_eq!(f.task(t.id).current_claims, 1);
}

#[test]
fn a_full_task_refuses_more_claims() {
    let f = fx();
    let t = f.create("Two spots", 10, 2);
    claim(&f, t.id, 1).unwrap();
    claim(&f, t.id, 2).unwrap();
    let err = claim(&f, t.id, 3).unwrap_err();
    assert!(err.user_message().contains("full"), "{err}");
    assert!(f.stored_claim(t.id, 3).is_none());
    assert_eq!(f.task(t.id).current_claims, 2);
}

#[test]
fn claims_past_the_per_member_limit_are_refused() {
    let f = fx_with(GuildConfig {
        max_tasks_per_user: 2,
        rate_limit_per_minute: 0,
        ..GuildConfig::default()
    });
    let ids: Vec<u64> = (0..3)
        .map(|i| f.create(&format!("T{i}"), 10, -1).id)
        .collect();
    claim(&f, ids[0], 1).unwrap();
    claim(&f, ids[1], 1).unwrap();
    let err = claim(&f, ids[2], 1).unwrap_err();
    assert!(err.user_message().contains("2 tasks in progress"), "{err}");
    assert_eq!(f.task(ids[2]).current_claims, 0);
    // An accepted claim is no longer live, so it frees a place in the member's limit.
    f.tasks
        .submit(G, ids[0], UserId(1), proof(), &member(1))
        .unwrap();
    f.tasks.accept(G, ids[0], UserId(1), &admin()).unwrap();
    claim(&f, ids[2], 1).unwrap();
}

#[test]
fn closed_and_expired_tasks_refuse_claims_but_running_claims_finish() {
    let f = fx();
    let t = f.create("Closing soon", 30, -1);
    claim(&f, t.id, 1).unwrap();
    f.tasks.close(G, t.id, &admin()).unwrap();
    let err = claim(&f, t.id, 2).unwrap_err();
    assert!(err.user_message().contains("closed"), "{err}");
    f.tasks
        .submit(G, t.id, UserId(1), proof(), &member(1))
        .unwrap();
    f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    assert_eq!(f.balance(1), 30);

    let mut s = super::tests::spec("Expiring", 10, -1);
    s.expires_at = Some(f.ts.store.now() + Duration::hours(1));
    let e = f.tasks.create(G, s, &admin()).unwrap();
    f.advance(Duration::hours(1));
    // Not swept yet: the expiry time alone refuses the claim.
    let err = claim(&f, e.id, 2).unwrap_err();
    assert!(err.user_message().contains("expired"), "{err}");
}

#[test]
fn an_accepted_member_can_never_claim_the_same_task_again() {
    let f = fx();
    let t = f.create("Once only", 10, -1);
    f.claim_and_submit(t.id, 1);
    f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    let err = claim(&f, t.id, 1).unwrap_err();
    assert!(
        err.user_message().contains("can't be claimed again"),
        "{err}"
    );
    assert_eq!(f.task(t.id).current_claims, 1);
}

#[test]
fn an_expired_claim_can_be_claimed_again_while_the_task_is_open() {
    let f = fx();
    let t = f.create("Retry", 10, 1);
    let first = claim(&f, t.id, 1).unwrap();
    f.advance(Duration::hours(24));
    // Late but not swept: the re-claim reuses the member's own spot.
    let again = claim(&f, t.id, 1).unwrap();
    assert!(again.deadline > first.deadline);
    assert_eq!(f.task(t.id).current_claims, 1);
    f.advance(Duration::hours(24));
    f.tasks.sweep(G).unwrap();
    assert_eq!(f.task(t.id).current_claims, 0);
    claim(&f, t.id, 1).unwrap();
    assert_eq!(f.task(t.id).current_claims, 1);
}

#[test]
fn submit_requires_proof_only_when_the_server_does() {
    let f = fx();
    let t = f.create("Proof", 10, -1);
    claim(&f, t.id, 1).unwrap();
    let err = f
        .tasks
        .submit(G, t.id, UserId(1), Proof::default(), &member(1))
        .unwrap_err();
    assert!(err.user_message().starts_with("proof:"), "{err}");
    assert_eq!(
        f.stored_claim(t.id, 1).unwrap().status,
        ClaimStatus::InProgress
    );

    let lax = fx_with(GuildConfig {
        require_proof: false,
        rate_limit_per_minute: 0,
        ..GuildConfig::default()
    });
    let t = lax.create("No proof", 10, -1);
    claim(&lax, t.id, 1).unwrap();
    let c = lax
        .tasks
        .submit(G, t.id, UserId(1), Proof::default(), &member(1))
        .unwrap();
    assert_eq!(c.status, ClaimStatus::Submitted);
}

#[test]
fn submit_works_one_second_before_the_deadline_and_not_at_or_after_it() {
    for (offset, ok) in [(-1, true), (0, false), (1, false)] {
        let f = fx();
        let t = f.create("Edge", 10, -1);
        claim(&f, t.id, 1).unwrap();
        f.advance(Duration::hours(24) + Duration::seconds(offset));
        let got = f.tasks.submit(G, t.id, UserId(1), proof(), &member(1));
        assert_eq!(got.is_ok(), ok, "offset {offset}: {got:?}");
        let want = if ok {
            ClaimStatus::Submitted
        } else {
            ClaimStatus::InProgress
        };
        assert_eq!(f.stored_claim(t.id, 1).unwrap().status, want);
    }
}

#[test]
fn accept_works_one_second_before_the_deadline_and_not_at_or_after_it() {
    for (offset, ok) in [(-1, true), (0, false), (1, false)] {
        let f = fx();
        let t = f.create("Edge", 10, -1);
        f.claim_and_submit(t.id, 1);
        f.advance(Duration::hours(24) + Duration::seconds(offset));
        let got = f.tasks.accept(G, t.id, UserId(1), &admin());
        assert_eq!(got.is_ok(), ok, "offset {offset}");
        assert_eq!(f.balance(1), if ok { 10 } else { 0 });
    }
}

#[test]
fn accept_pays_the_reward_once_and_records_the_reviewer() {
    let f = fx();
    let t = f.create("Pay me", 150, -1);
    f.claim_and_submit(t.id, 1);
    let mark = f.mark();
    let out = f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    assert_eq!(out.claim.status, ClaimStatus::Accepted);
    assert_eq!(out.claim.reviewer, Some(admin().actor));
    assert_eq!(out.claim.reward_transaction, Some(out.transaction.id));
    assert_eq!(out.task.completed, 1);
    let tx = &out.transaction;
    assert_eq!(
        (tx.kind, tx.amount, tx.user),
        (TxKind::TaskReward, Money::new(150), UserId(1))
    );
    assert_eq!(tx.description, "Task reward: Pay me");
    assert_eq!(tx.metadata["task_id"], t.id.to_string());
    assert_eq!(tx.actor, admin().actor);
    assert!(f.kinds_since(mark).contains(&EventKind::ClaimAccepted));
    assert_eq!(f.audit()[0].action, "task.claim.accept");

    let err = f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap_err();
    assert!(err.user_message().contains("already accepted"), "{err}");
    assert_eq!(f.balance(1), 150);
    assert_eq!(f.task(t.id).completed, 1);
    assert!(f.economy.validate_guild(G).unwrap().ok);
}

#[test]
fn accept_with_the_same_idempotency_key_returns_the_first_outcome() {
    let f = fx();
    let t = f.create("Key", 20, -1);
    f.claim_and_submit(t.id, 1);
    let meta = admin().with_key(crate::testing::key("interaction-1"));
    let a = f.tasks.accept(G, t.id, UserId(1), &meta).unwrap();
    let b = f.tasks.accept(G, t.id, UserId(1), &meta).unwrap();
    assert_eq!(a, b);
    assert_eq!(f.balance(1), 20);
}

#[test]
fn accept_of_a_role_task_records_a_pending_grant_in_the_same_transaction() {
    let f = fx();
    let t = f
        .tasks
        .create(
            G,
            NewTask {
                role_id: Some(RoleId(555)),
                role_name: Some("Helper".into()),
                ..super::tests::spec("Role", 5, -1)
            },
            &admin(),
        )
        .unwrap();
    f.claim_and_submit(t.id, 1);
    let out = f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    let g = out.role_grant.unwrap();
    assert_eq!(
        (g.user, g.role, g.state),
        (UserId(1), RoleId(555), GrantState::Pending)
    );
    assert_eq!(g.reason, format!("task:{}", t.id));
    assert_eq!(out.claim.role_grant, Some(g.id));
    let pending = f.ts.store.read(G, |r| r.role_grants(true)).unwrap();
    assert_eq!(pending, vec![g]);
}

#[test]
fn an_accept_that_cannot_pay_changes_nothing() {
    let f = fx();
    let t = f
        .tasks
        .create(
            G,
            NewTask {
                role_id: Some(RoleId(9)),
                ..super::tests::spec("Overflow", 100, -1)
            },
            &admin(),
        )
        .unwrap();
    f.claim_and_submit(t.id, 1);
    // A balance so large that the reward would overflow it.
    f.ts.store
        .write(G, |w| {
            w.append_entry(NewEntry::new(
                UserId(1),
                Money::new(i64::MAX - 50),
                TxKind::Import,
                "x",
            ))
        })
        .unwrap();
    let audit_before = f.audit().len();
    let err = f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap_err();
    assert!(err.user_message().contains("largest amount"), "{err}");
    assert_eq!(
        f.stored_claim(t.id, 1).unwrap().status,
        ClaimStatus::Submitted
    );
    assert_eq!(f.task(t.id).completed, 0);
    assert!(f
        .ts
        .store
        .read(G, |r| r.role_grants(false))
        .unwrap()
        .is_empty());
    assert_eq!(f.audit().len(), audit_before);
    assert_eq!(f.balance(1), i64::MAX - 50);
}

#[test]
fn reviewers_cannot_review_their_own_claim_and_in_progress_claims_have_nothing_to_review() {
    let f = fx();
    let t = f.create("Self", 10, -1);
    claim(&f, t.id, 1).unwrap();
    let err = f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap_err();
    assert!(err.user_message().contains("no proof"), "{err}");
    f.tasks
        .submit(G, t.id, UserId(1), proof(), &member(1))
        .unwrap();
    let mine = member(1);
    assert!(f.tasks.accept(G, t.id, UserId(1), &mine).is_err());
    assert!(f.tasks.reject(G, t.id, UserId(1), "no", &mine).is_err());
    assert_eq!(f.balance(1), 0);
    let err = f.tasks.accept(G, t.id, UserId(2), &admin()).unwrap_err();
    assert!(err.user_message().contains("not found"), "{err}");
}

#[test]
fn reject_sends_the_claim_back_and_the_member_resubmits_until_accepted() {
    let f = fx();
    let t = f.create("Redo", 60, -1);
    f.claim_and_submit(t.id, 1);
    assert!(f.tasks.reject(G, t.id, UserId(1), "  ", &admin()).is_err());
    let mark = f.mark();
    let c = f
        .tasks
        .reject(G, t.id, UserId(1), "The screenshot is blurry", &admin())
        .unwrap();
    assert_eq!(c.status, ClaimStatus::InProgress);
    assert_eq!(
        c.review_message.as_deref(),
        Some("The screenshot is blurry")
    );
    assert_eq!((c.rejections, c.reviewer.clone()), (1, Some(admin().actor)));
    assert!(f.kinds_since(mark).contains(&EventKind::ClaimRejected));
    assert_eq!(f.balance(1), 0);
    f.advance(Duration::hours(2));
    let again = f
        .tasks
        .submit(G, t.id, UserId(1), proof(), &member(1))
        .unwrap();
    assert_eq!(
        again.deadline, c.deadline,
        "rejection does not extend the deadline"
    );
    f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    assert_eq!(f.balance(1), 60);
}

#[test]
fn claim_and_submit_with_an_idempotency_key_apply_once() {
    let f = fx();
    let t = f.create("Keyed", 10, 5);
    let meta = member(1).with_key(crate::testing::key("ix-claim"));
    let a = f.tasks.claim(G, t.id, UserId(1), &meta).unwrap();
    let b = f.tasks.claim(G, t.id, UserId(1), &meta).unwrap();
    assert_eq!(a, b);
    assert_eq!(f.task(t.id).current_claims, 1);
    let meta = member(1).with_key(crate::testing::key("ix-submit"));
    let a = f.tasks.submit(G, t.id, UserId(1), proof(), &meta).unwrap();
    let b = f.tasks.submit(G, t.id, UserId(1), proof(), &meta).unwrap();
    assert_eq!(a, b);
    // The same key for a different operation is a conflict.
    assert!(f.tasks.claim(G, t.id, UserId(1), &meta).is_err());
}

#[test]
fn thirty_concurrent_claims_on_five_spots_let_exactly_five_in() {
    let f = fx();
    let t = f.create("Rush", 10, 5);
    let handles: Vec<_> = (1..=30u64)
        .map(|u| {
            let tasks = f.tasks.clone();
            std::thread::spawn(move || tasks.claim(G, t.id, UserId(u), &member(u)).is_ok())
        })
        .collect();
    let ok = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(ok, 5);
    assert_eq!(f.task(t.id).current_claims, 5);
    assert_eq!(f.tasks.task_claims(G, t.id).unwrap().len(), 5);
}

/// (review outcome, its sync record) for review `id`.
fn review_state(f: &Fx, id: u64) -> (ReviewOutcome, crate::guild::SyncRecord) {
    f.ts.store
        .read(G, |r| {
            Ok::<_, crate::Error>((
                r.review(id)?.unwrap().outcome,
                r.sync_record(SyncKind::Review, id)?.unwrap(),
            ))
        })
        .unwrap()
}

#[test]
fn every_submission_is_a_review_that_the_outcome_closes_whichever_door_acted() {
    let f = fx();
    let t = f.create("Guide", 100, 5);
    f.claim_and_submit(t.id, 1);
    let first = f
        .stored_claim(t.id, 1)
        .unwrap()
        .review_id
        .expect("a review");
    let (outcome, rec) = review_state(&f, first);
    assert_eq!(outcome, ReviewOutcome::Waiting);
    assert_eq!(rec.channel, Some(crate::domain::ChannelId(77)));
    assert_eq!(rec.desired_version, 1);

    f.tasks
        .reject(G, t.id, UserId(1), "blurry", &super::tests::admin())
        .unwrap();
    let (outcome, rec) = review_state(&f, first);
    assert_eq!(
        outcome,
        ReviewOutcome::Rejected {
            by: crate::domain::Actor::Dashboard("admin".into()),
            reason: "blurry".into()
        }
    );
    assert_eq!(rec.desired_version, 2, "the message loses its buttons");

    // A resubmission is a new review; the rejected one keeps its outcome.
    f.tasks
        .submit(G, t.id, UserId(1), proof(), &member(1))
        .unwrap();
    let second = f.stored_claim(t.id, 1).unwrap().review_id.unwrap();
    assert_ne!(second, first);
    assert_eq!(review_state(&f, second).0, ReviewOutcome::Waiting);
    f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    assert!(matches!(
        review_state(&f, second).0,
        ReviewOutcome::Accepted { .. }
    ));
    assert!(matches!(
        review_state(&f, first).0,
        ReviewOutcome::Rejected { .. }
    ));
}

#[test]
fn a_submission_nobody_reviewed_before_the_deadline_shows_as_expired() {
    let f = fx();
    let t = f.create("Guide", 100, 5);
    f.claim_and_submit(t.id, 1);
    let id = f.stored_claim(t.id, 1).unwrap().review_id.unwrap();
    f.advance(Duration::hours(25));
    f.tasks.sweep(G).unwrap();
    let (outcome, rec) = review_state(&f, id);
    assert_eq!(outcome, ReviewOutcome::Expired);
    assert_eq!(rec.desired_version, 2);
}

#[test]
fn deleting_a_task_deletes_every_review_message_of_it() {
    let f = fx();
    let t = f.create("Guide", 100, 5);
    let other = f.create("Other", 100, 5);
    f.claim_and_submit(t.id, 1);
    f.claim_and_submit(other.id, 1);
    let gone = f.stored_claim(t.id, 1).unwrap().review_id.unwrap();
    let kept = f.stored_claim(other.id, 1).unwrap().review_id.unwrap();
    f.tasks.delete(G, t.id, &admin()).unwrap();
    let (rec, review) =
        f.ts.store
            .read(G, |r| {
                Ok::<_, crate::Error>((r.sync_record(SyncKind::Review, gone)?, r.review(gone)?))
            })
            .unwrap();
    assert!(rec.unwrap().delete, "its message is to be deleted");
    assert!(review.is_none());
    assert_eq!(review_state(&f, kept).0, ReviewOutcome::Waiting);
}

#[test]
fn moving_the_task_channel_moves_waiting_reviews_only() {
    let f = fx();
    let t = f.create("Guide", 100, 5);
    f.claim_and_submit(t.id, 1);
    f.claim_and_submit(t.id, 2);
    let done = f.stored_claim(t.id, 1).unwrap().review_id.unwrap();
    let waiting = f.stored_claim(t.id, 2).unwrap().review_id.unwrap();
    f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    let guilds = crate::guild::Guilds::new(f.ts.store.clone());
    let patch = serde_json::json!({"task_channel_id": "88"});
    guilds.update_config(G, &patch, &admin()).unwrap();
    assert_eq!(
        review_state(&f, waiting).1.channel,
        Some(crate::domain::ChannelId(88))
    );
    assert_eq!(
        review_state(&f, done).1.channel,
        Some(crate::domain::ChannelId(77))
    );
}
