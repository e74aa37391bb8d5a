//! The role-grant worker through the loop and the fake: granted, failed in words, retried,
//! and a refused role costs one call per pass.

use super::fake::{api_error, Op};
use super::{Harness, G};
use crate::domain::{RoleId, UserId};
use crate::guild::GrantState;
use crate::sync::api::codes;

#[tokio::test(start_paused = true)]
async fn role_grants_are_given_failed_in_words_or_retried() {
    let mut h = Harness::new();
    h.api.fail(Op::Role, [api_error(Some(503), None)]);
    let (ok, denied) =
        h.ts.store
            .write(G, |w| {
                Ok::<_, crate::Error>((
                    w.record_role_grant(UserId(1), RoleId(9), "item:1")?.id,
                    w.record_role_grant(UserId(2), RoleId(9), "item:1")?.id,
                ))
            })
            .unwrap();
    let _ = (ok, denied);
    h.start();
    h.until("both settled", |h| {
        h.services.guilds.role_grants(G, true).unwrap().is_empty()
    })
    .await;
    assert!(h.api.has_role(G, UserId(1), RoleId(9)) && h.api.has_role(G, UserId(2), RoleId(9)));
    h.stop().await;
    h.api.fail(
        Op::Role,
        [api_error(Some(403), Some(codes::MISSING_PERMISSIONS))],
    );
    let id =
        h.ts.store
            .write(G, |w| {
                Ok::<_, crate::Error>(w.record_role_grant(UserId(3), RoleId(9), "task:1")?.id)
            })
            .unwrap();
    h.start();
    h.until("failed", |h| {
        h.services.guilds.role_grants(G, true).unwrap().is_empty()
    })
    .await;
    let g = h
        .services
        .guilds
        .role_grants(G, false)
        .unwrap()
        .into_iter()
        .find(|g| g.id == id)
        .unwrap();
    assert_eq!(g.state, GrantState::Failed);
    assert!(g.error.unwrap().contains("Missing Permissions"));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_role_the_bot_may_not_give_costs_one_call_per_pass() {
    let mut h = Harness::new();
    h.api.fail(
        Op::Role,
        [api_error(Some(403), Some(codes::MISSING_PERMISSIONS))],
    );
    h.ts.store
        .write(G, |w| {
            for u in 0..10 {
                w.record_role_grant(UserId(u), RoleId(9), "item:1")?;
            }
            w.record_role_grant(UserId(1), RoleId(10), "item:2")?;
            Ok::<_, crate::Error>(())
        })
        .unwrap();
    h.start();
    h.until("all settled", |h| {
        h.services.guilds.role_grants(G, true).unwrap().is_empty()
    })
    .await;
    assert_eq!(
        h.api.count(Op::Role),
        2,
        "one refused call for role 9, one grant of role 10"
    );
    let grants = h.services.guilds.role_grants(G, false).unwrap();
    assert_eq!(
        grants
            .iter()
            .filter(|g| g.state == GrantState::Failed)
            .count(),
        10
    );
    assert!(h.api.has_role(G, UserId(1), RoleId(10)));
    h.stop().await;
}

/// The backoff of a grant being retried is stored with it: a restart does not retry at once.
#[tokio::test(start_paused = true)]
async fn a_grant_retry_keeps_its_backoff_across_a_restart() {
    let mut h = Harness::new();
    h.api.fail(Op::Role, [api_error(Some(503), None)]);
    let id =
        h.ts.store
            .write(G, |w| {
                Ok::<_, crate::Error>(w.record_role_grant(UserId(1), RoleId(9), "item:1")?.id)
            })
            .unwrap();
    h.start();
    h.until("the first attempt recorded", |h| {
        h.services
            .guilds
            .role_grant(G, id)
            .unwrap()
            .is_some_and(|g| g.attempts == 1)
    })
    .await;
    h.stop().await;
    let g = h.services.guilds.role_grant(G, id).unwrap().unwrap();
    assert_eq!(g.state, GrantState::Pending);
    assert!(g.next_attempt_at.is_some_and(|at| at > h.services.now()));
    assert!(g.error.unwrap().contains("503"));
    h.start();
    h.idle(std::time::Duration::from_millis(100)).await;
    assert_eq!(h.api.count(Op::Role), 1, "no retry before its time");
    h.until("granted", |h| {
        h.services.guilds.role_grants(G, true).unwrap().is_empty()
    })
    .await;
    assert_eq!(h.api.count(Op::Role), 2);
    assert!(h.api.has_role(G, UserId(1), RoleId(9)));
    h.stop().await;
}
