//! The claim state machine as a table (every from-state x action, one second before, at and
//! after the deadline), plus the task input checks.

use chrono::{Duration, TimeZone, Utc};

use super::*;

type Want = Result<ClaimStatus, (&'static str, &'static str)>;

/// (from, action, outcome before the deadline, outcome at and after it).
/// An error is (code, a phrase of its message).
fn table() -> Vec<(Option<ClaimStatus>, ClaimAction, Want, Want)> {
    use ClaimAction as A;
    use ClaimStatus as S;
    let none = Err(("not_found", "Claim on this task"));
    let accepted = Err(("conflict", "already accepted"));
    let expired = Err(("refused", "has expired"));
    let nothing_to_review = Err(("refused", "no proof has been submitted"));
    vec![
        (None, A::Claim, Ok(S::InProgress), Ok(S::InProgress)),
        (None, A::Submit, none, none),
        (None, A::Accept, none, none),
        (None, A::Reject, none, none),
        (None, A::Expire, none, none),
        (
            Some(S::InProgress),
            A::Claim,
            Err(("conflict", "already claimed and in progress")),
            Ok(S::InProgress),
        ),
        (Some(S::InProgress), A::Submit, Ok(S::Submitted), expired),
        (Some(S::InProgress), A::Accept, nothing_to_review, expired),
        (Some(S::InProgress), A::Reject, nothing_to_review, expired),
        (
            Some(S::InProgress),
            A::Expire,
            Err(("refused", "not passed yet")),
            Ok(S::Expired),
        ),
        (
            Some(S::Submitted),
            A::Claim,
            Err(("conflict", "already claimed and in progress")),
            Ok(S::InProgress),
        ),
        (
            Some(S::Submitted),
            A::Submit,
            Err(("conflict", "waiting for review")),
            expired,
        ),
        (Some(S::Submitted), A::Accept, Ok(S::Accepted), expired),
        (Some(S::Submitted), A::Reject, Ok(S::InProgress), expired),
        (
            Some(S::Submitted),
            A::Expire,
            Err(("refused", "not passed yet")),
            Ok(S::Expired),
        ),
        (
            Some(S::Accepted),
            A::Claim,
            Err(("conflict", "can't be claimed again")),
            Err(("conflict", "can't be claimed again")),
        ),
        (Some(S::Accepted), A::Submit, accepted, accepted),
        (Some(S::Accepted), A::Accept, accepted, accepted),
        (Some(S::Accepted), A::Reject, accepted, accepted),
        (Some(S::Accepted), A::Expire, accepted, accepted),
        (
            Some(S::Expired),
            A::Claim,
            Ok(S::InProgress),
            Ok(S::InProgress),
        ),
        (Some(S::Expired), A::Submit, expired, expired),
        (Some(S::Expired), A::Accept, expired, expired),
        (Some(S::Expired), A::Reject, expired, expired),
        (Some(S::Expired), A::Expire, expired, expired),
    ]
}

fn check(got: Result<ClaimStatus, DomainError>, want: Want, ctx: &str) {
    match (got, want) {
        (Ok(g), Ok(w)) => assert_eq!(g, w, "{ctx}"),
        (Err(e), Err((code, phrase))) => {
            assert_eq!(e.code(), code, "{ctx}: {e}");
            assert!(e.to_string().contains(phrase), "{ctx}: {e}");
        }
        (g, w) => panic!("{ctx}: got {g:?}, want {w:?}"),
    }
}

#[test]
fn every_state_and_action_has_the_outcome_in_the_table_at_each_deadline_edge() {
    let deadline = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
    let rows = table();
    let froms = [None].into_iter().chain(ClaimStatus::ALL.map(Some));
    // The table covers the whole product, once each.
    assert_eq!(rows.len(), froms.count() * ClaimAction::ALL.len());
    for (from, action, in_time, late) in rows {
        for (offset, want) in [(-1, in_time), (0, late), (1, late)] {
            let now = deadline + Duration::seconds(offset);
            let ctx = format!("{from:?} {action:?} at deadline{offset:+}s");
            check(transition(from, action, now, deadline), want, &ctx);
        }
    }
}

fn task(max_claims: i64) -> Task {
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    NewTask {
        name: "Welcome".into(),
        reward: 100,
        max_claims,
        ..NewTask::default()
    }
    .into_task(1, Actor::System, now)
    .unwrap()
}

#[test]
fn a_late_live_claim_reads_as_expired() {
    let t = task(-1);
    let c = Claim::new(&t, UserId(5), t.created_at);
    assert_eq!(c.deadline, t.created_at + Duration::hours(24));
    assert_eq!(
        c.status_at(c.deadline - Duration::seconds(1)),
        ClaimStatus::InProgress
    );
    assert_eq!(c.status_at(c.deadline), ClaimStatus::Expired);
}

#[test]
fn has_room_respects_the_limit_and_unlimited() {
    let mut t = task(2);
    t.current_claims = 1;
    assert!(t.has_room());
    t.current_claims = 2;
    assert!(!t.has_room());
    t.max_claims = -1;
    t.current_claims = 10_000;
    assert!(t.has_room());
}

#[test]
fn claimable_checks_status_expiry_and_settings() {
    let mut t = task(-1);
    let now = t.created_at;
    let cfg = GuildConfig::default();
    assert!(t.check_claimable(&cfg, now).is_ok());
    t.expires_at = Some(now + Duration::hours(1));
    assert!(t.check_claimable(&cfg, now + Duration::minutes(59)).is_ok());
    let err = t
        .check_claimable(&cfg, now + Duration::hours(1))
        .unwrap_err();
    assert!(err.to_string().contains("has expired"), "{err}");
    let lax = GuildConfig {
        auto_expire_enabled: false,
        ..GuildConfig::default()
    };
    assert!(t.check_claimable(&lax, now + Duration::hours(2)).is_ok());
    t.status = TaskStatus::Closed;
    assert!(t
        .check_claimable(&cfg, now)
        .unwrap_err()
        .to_string()
        .contains("closed"));
    t.status = TaskStatus::Active;
    let off = GuildConfig {
        features: crate::domain::guild_config::Features {
            tasks: false,
            ..Default::default()
        },
        ..GuildConfig::default()
    };
    assert!(t.check_claimable(&off, now).is_err());
}

#[test]
fn new_task_validation_names_the_field() {
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let ok = NewTask {
        name: "  Write a guide ".into(),
        reward: 50,
        ..NewTask::default()
    };
    let t = ok.clone().into_task(3, Actor::System, now).unwrap();
    assert_eq!(
        (t.name.as_str(), t.category.as_str()),
        ("Write a guide", "General")
    );
    let field = |n: NewTask| match n.into_task(3, Actor::System, now) {
        Err(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(
        field(NewTask {
            name: " ".into(),
            ..ok.clone()
        }),
        "name"
    );
    assert_eq!(
        field(NewTask {
            reward: 0,
            ..ok.clone()
        }),
        "reward"
    );
    assert_eq!(
        field(NewTask {
            reward: -5,
            ..ok.clone()
        }),
        "reward"
    );
    assert_eq!(
        field(NewTask {
            duration_hours: 0,
            ..ok.clone()
        }),
        "duration_hours"
    );
    assert_eq!(
        field(NewTask {
            max_claims: 0,
            ..ok.clone()
        }),
        "max_claims"
    );
    assert_eq!(
        field(NewTask {
            max_claims: -2,
            ..ok.clone()
        }),
        "max_claims"
    );
    // A moment already passed depends on the clock: a conflict, not a field error.
    assert!(matches!(
        NewTask {
            expires_at: Some(now),
            ..ok.clone()
        }
        .into_task(3, Actor::System, now),
        Err(DomainError::Conflict(m)) if m.contains("expires_at")
    ));
    assert_eq!(
        field(NewTask {
            category: "x".repeat(51),
            ..ok
        }),
        "category"
    );
}

#[test]
fn patch_keeps_max_claims_at_or_above_the_spots_taken_and_clears_with_null() {
    let mut t = task(5);
    t.current_claims = 3;
    t.expires_at = Some(t.created_at + Duration::days(1));
    let lower = TaskPatch {
        max_claims: Some(2),
        ..TaskPatch::default()
    };
    assert!(lower.apply(&t, t.created_at).is_err());
    let p: TaskPatch = serde_json::from_str(r#"{"max_claims": 3, "expires_at": null}"#).unwrap();
    let edited = p.apply(&t, t.created_at).unwrap();
    assert_eq!((edited.max_claims, edited.expires_at), (3, None));
    let untouched: TaskPatch = serde_json::from_str(r#"{"name": "New"}"#).unwrap();
    let edited = untouched.apply(&t, t.created_at).unwrap();
    assert_eq!(
        (edited.name.as_str(), edited.expires_at),
        ("New", t.expires_at)
    );
}

#[test]
fn proof_is_required_only_when_the_server_says_so_and_links_must_be_http() {
    let empty = Proof::default();
    assert!(empty.clone().validate(true).is_err());
    assert!(empty.validate(false).is_ok());
    let link = Proof {
        content: String::new(),
        attachments: vec![" https://cdn.example/a.png ".into()],
    };
    assert_eq!(
        link.validate(true).unwrap().attachments,
        vec!["https://cdn.example/a.png".to_string()]
    );
    let bad = Proof {
        content: "done".into(),
        attachments: vec!["javascript:alert(1)".into()],
    };
    assert!(matches!(
        bad.validate(true),
        Err(DomainError::Invalid { field, .. }) if field == "attachments"
    ));
    assert!(clean_reason("  ").is_err());
    assert_eq!(clean_reason(" blurry ").unwrap(), "blurry");
}
