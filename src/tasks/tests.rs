//! Service tests for admin changes, the sweep and the queries, plus the shared fixture used by
//! `claim_tests.rs` and `proptests.rs`.

use chrono::Duration;

use super::*;
use crate::domain::tasks::{ClaimStatus, NewTask, Proof, TaskPatch, TaskStatus};
use crate::domain::{Actor, ChannelId, GuildConfig, GuildId, Money, Source};
use crate::economy::{Economy, OpMeta, Page};
use crate::events::{Event, EventFilter, EventKind, Replay};
use crate::store::audit::AuditEntry;
use crate::store::outbox::SyncRecord;
use crate::testing::{self, TestStore};

pub(super) const G: GuildId = GuildId(1);

pub(super) struct Fx {
    pub ts: TestStore,
    pub tasks: Tasks,
    pub economy: Economy,
}

pub(super) fn fx() -> Fx {
    fx_with(GuildConfig {
        rate_limit_per_minute: 0,
        task_channel_id: Some(ChannelId(77)),
        ..GuildConfig::default()
    })
}

pub(super) fn fx_with(cfg: GuildConfig) -> Fx {
    let ts = testing::store_with(cfg);
    Fx {
        tasks: Tasks::new(ts.store.clone()),
        economy: Economy::new(ts.store.clone()),
        ts,
    }
}

pub(super) fn admin() -> OpMeta {
    OpMeta {
        actor: Actor::Dashboard("admin".into()),
        source: Source::Dashboard,
        idempotency_key: None,
    }
}

pub(super) fn member(u: u64) -> OpMeta {
    OpMeta::user(UserId(u), Source::DiscordCommand)
}

pub(super) fn proof() -> Proof {
    Proof {
        content: "done, see screenshot".into(),
        attachments: vec!["https://cdn.example/shot.png".into()],
    }
}

pub(super) fn spec(name: &str, reward: i64, max_claims: i64) -> NewTask {
    NewTask {
        name: name.into(),
        description: "Help out".into(),
        reward,
        duration_hours: 24,
        max_claims,
        ..NewTask::default()
    }
}

impl Fx {
    pub fn create(&self, name: &str, reward: i64, max_claims: i64) -> Task {
        self.tasks
            .create(G, spec(name, reward, max_claims), &admin())
            .unwrap()
    }

    pub fn balance(&self, u: u64) -> i64 {
        self.economy
            .find_account(G, UserId(u))
            .unwrap()
            .map_or(0, |a| a.balance.get())
    }

    pub fn task(&self, id: u64) -> Task {
        self.tasks.get(G, id).unwrap()
    }

    pub fn stored_claim(&self, task: u64, u: u64) -> Option<Claim> {
        self.ts.store.read(G, |r| r.claim(task, UserId(u))).unwrap()
    }

    pub fn mark(&self) -> u64 {
        self.ts.store.bus().next_seq() - 1
    }

    pub fn events_since(&self, mark: u64) -> Vec<Event> {
        match self.ts.store.bus().resume(mark, EventFilter::default()).0 {
            Replay::Events(e) => e,
            Replay::TooOld => panic!("event buffer too small"),
        }
    }

    pub fn kinds_since(&self, mark: u64) -> Vec<EventKind> {
        self.events_since(mark)
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    pub fn audit(&self) -> Vec<AuditEntry> {
        testing::audit_log(&self.ts, G)
    }

    pub fn sync(&self, id: u64) -> Option<SyncRecord> {
        self.ts
            .store
            .read(G, |r| r.sync_record(SyncKind::Task, id))
            .unwrap()
    }

    pub fn advance(&self, d: Duration) {
        self.ts.clock.advance(d);
    }

    /// Claims, submits and returns the claim deadline.
    pub fn claim_and_submit(&self, task: u64, u: u64) {
        self.tasks.claim(G, task, UserId(u), &member(u)).unwrap();
        self.tasks
            .submit(G, task, UserId(u), proof(), &member(u))
            .unwrap();
    }
}

#[test]
fn create_stores_an_active_task_bumps_the_outbox_and_audits() {
    let f = fx();
    let mark = f.mark();
    let t = f.create("Welcome new members", 100, 5);
    assert_eq!(
        (t.status, t.reward, t.current_claims, t.completed),
        (TaskStatus::Active, Money::new(100), 0, 0)
    );
    assert_eq!(f.task(t.id), t);
    let sync = f.sync(t.id).unwrap();
    assert_eq!(
        (sync.desired_version, sync.channel),
        (1, Some(ChannelId(77)))
    );
    let audit = f.audit();
    assert_eq!(audit[0].action, "task.create");
    assert_eq!(audit[0].target, format!("task:{}", t.id));
    assert!(audit[0].before.is_none() && audit[0].after.is_some());
    assert!(f.kinds_since(mark).contains(&EventKind::TaskCreated));
}

#[test]
fn create_with_bad_input_writes_nothing() {
    let f = fx();
    let err = f.tasks.create(G, spec("x", 0, 5), &admin()).unwrap_err();
    assert!(err.user_message().starts_with("reward:"), "{err}");
    assert!(f
        .tasks
        .list(G, &TaskFilter::default())
        .unwrap()
        .items
        .is_empty());
    assert!(f.audit().is_empty());
    assert!(f.sync(1).is_none());
}

#[test]
fn members_create_tasks_only_when_the_guild_allows_it_and_may_always_claim() {
    let f = fx_with(GuildConfig {
        allow_user_tasks: false,
        ..GuildConfig::default()
    });
    let err = f
        .tasks
        .create_by_member(G, spec("mine", 10, 5), &member(3))
        .unwrap_err();
    assert!(err.user_message().contains("Only admins"), "{err}");
    assert_eq!(f.tasks.list(G, &Default::default()).unwrap().total, 0);
    let t = f.create("admin's", 10, 5);
    f.tasks.claim(G, t.id, UserId(3), &member(3)).unwrap();
    let f = fx_with(GuildConfig::default());
    let mine = f
        .tasks
        .create_by_member(G, spec("mine", 10, 5), &member(3))
        .unwrap();
    assert_eq!(mine.created_by, Actor::User(UserId(3)));
}

#[test]
fn create_is_refused_when_tasks_are_turned_off() {
    let mut cfg = GuildConfig::default();
    cfg.features.tasks = false;
    let f = fx_with(cfg);
    let err = f.tasks.create(G, spec("x", 10, 5), &admin()).unwrap_err();
    assert!(err.user_message().contains("turned off"), "{err}");
}

#[test]
fn edit_changes_fields_and_audits_before_and_after() {
    let f = fx();
    let t = f.create("Old name", 100, 5);
    let mark = f.mark();
    let patch = TaskPatch {
        name: Some("New name".into()),
        reward: Some(250),
        category: Some("Events".into()),
        ..TaskPatch::default()
    };
    let edited = f.tasks.edit(G, t.id, &patch, &admin()).unwrap();
    assert_eq!(
        (
            edited.name.as_str(),
            edited.reward.get(),
            edited.category.as_str()
        ),
        ("New name", 250, "Events")
    );
    assert_eq!(f.task(t.id), edited);
    assert_eq!(f.sync(t.id).unwrap().desired_version, 2);
    let a = &f.audit()[0];
    assert_eq!(a.action, "task.edit");
    assert_eq!(a.before.as_ref().unwrap()["name"], "Old name");
    assert_eq!(a.after.as_ref().unwrap()["name"], "New name");
    assert_eq!(
        f.kinds_since(mark),
        vec![EventKind::SyncChanged, EventKind::TaskUpdated]
    );
}

#[test]
fn edit_refuses_lowering_max_claims_below_taken_spots_and_changes_nothing() {
    let f = fx();
    let t = f.create("Full-ish", 10, 5);
    for u in 1..=3 {
        f.tasks.claim(G, t.id, UserId(u), &member(u)).unwrap();
    }
    let before = f.task(t.id);
    let patch = TaskPatch {
        max_claims: Some(2),
        ..TaskPatch::default()
    };
    let err = f.tasks.edit(G, t.id, &patch, &admin()).unwrap_err();
    assert!(err.user_message().starts_with("max_claims:"), "{err}");
    assert_eq!(f.task(t.id), before);
}

#[test]
fn close_then_reopen_round_trips_and_each_is_audited() {
    let f = fx();
    let t = f.create("Seasonal", 10, -1);
    let closed = f.tasks.close(G, t.id, &admin()).unwrap();
    assert_eq!(closed.status, TaskStatus::Closed);
    assert!(f.tasks.close(G, t.id, &admin()).is_err());
    let open = f.tasks.reopen(G, t.id, &admin()).unwrap();
    assert_eq!(open.status, TaskStatus::Active);
    let actions: Vec<String> = f.audit().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, vec!["task.reopen", "task.close", "task.create"]);
    assert_eq!(f.sync(t.id).unwrap().desired_version, 3);
}

#[test]
fn delete_removes_claims_keeps_the_ledger_and_schedules_the_message_deletion() {
    let f = fx();
    let t = f.create("Doomed", 40, -1);
    f.claim_and_submit(t.id, 1);
    f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
    f.tasks.claim(G, t.id, UserId(2), &member(2)).unwrap();
    let mark = f.mark();
    let out = f.tasks.delete(G, t.id, &admin()).unwrap();
    assert_eq!(out.claims_removed, 2);
    assert!(f.tasks.get(G, t.id).is_err());
    assert!(f.stored_claim(t.id, 1).is_none() && f.stored_claim(t.id, 2).is_none());
    assert!(f.tasks.user_claims(G, UserId(2)).unwrap().is_empty());
    assert_eq!(f.balance(1), 40);
    assert!(f.economy.validate_guild(G).unwrap().ok);
    let sync = f.sync(t.id).unwrap();
    assert!(sync.delete && sync.delete_message);
    assert_eq!(f.audit()[0].action, "task.delete");
    assert!(f.kinds_since(mark).contains(&EventKind::TaskDeleted));
    assert!(f.tasks.delete(G, t.id, &admin()).is_err());
}

#[test]
fn sweep_expires_late_claims_frees_their_spots_and_reports_once() {
    let f = fx();
    let t = f.create("Quick", 10, 2);
    f.tasks.claim(G, t.id, UserId(1), &member(1)).unwrap();
    f.advance(Duration::hours(1));
    f.claim_and_submit(t.id, 2);
    f.advance(Duration::hours(23) - Duration::seconds(1));
    assert!(f.tasks.sweep(G).unwrap().is_empty(), "one second early");
    f.advance(Duration::seconds(1));
    let mark = f.mark();
    let report = f.tasks.sweep(G).unwrap();
    assert_eq!(
        report.expired_claims,
        vec![ClaimKey {
            task_id: t.id,
            user: UserId(1)
        }]
    );
    assert_eq!(
        f.stored_claim(t.id, 1).unwrap().status,
        ClaimStatus::Expired
    );
    assert_eq!(f.task(t.id).current_claims, 1);
    let events = f.events_since(mark);
    let expired = events
        .iter()
        .find(|e| e.kind == EventKind::ClaimsExpired)
        .unwrap();
    assert_eq!(expired.ids, vec![format!("{}:1", t.id)]);
    assert!(events.iter().any(|e| e.kind == EventKind::TaskUpdated));
    f.advance(Duration::hours(1));
    let report = f.tasks.sweep(G).unwrap();
    assert_eq!(
        report.expired_claims.len(),
        1,
        "the submitted claim expires too"
    );
    assert_eq!(f.task(t.id).current_claims, 0);
    assert!(f.tasks.sweep(G).unwrap().is_empty());
}

#[test]
fn sweep_expires_tasks_past_expires_at_only_when_auto_expire_is_on() {
    for auto in [true, false] {
        let f = fx_with(GuildConfig {
            auto_expire_enabled: auto,
            rate_limit_per_minute: 0,
            ..GuildConfig::default()
        });
        let mut s = spec("Limited", 10, -1);
        s.expires_at = Some(f.ts.store.now() + Duration::hours(2));
        let t = f.tasks.create(G, s, &admin()).unwrap();
        f.advance(Duration::hours(2));
        let report = f.tasks.sweep(G).unwrap();
        let want = if auto { vec![t.id] } else { vec![] };
        assert_eq!(report.expired_tasks, want, "auto_expire_enabled = {auto}");
        let status = f.task(t.id).status;
        assert_eq!(status == TaskStatus::Expired, auto);
        assert_eq!(f.tasks.claim(G, t.id, UserId(1), &member(1)).is_ok(), !auto);
    }
}

#[test]
fn sweep_all_visits_every_guild_with_tasks() {
    let f = fx();
    let other = GuildId(2);
    let a = f.create("Here", 10, -1);
    let b = f
        .tasks
        .create(other, spec("There", 10, -1), &admin())
        .unwrap();
    f.tasks.claim(G, a.id, UserId(1), &member(1)).unwrap();
    f.tasks.claim(other, b.id, UserId(1), &member(1)).unwrap();
    f.advance(Duration::hours(25));
    let mut swept: Vec<GuildId> = f
        .tasks
        .sweep_all()
        .unwrap()
        .into_iter()
        .map(|x| x.0)
        .collect();
    swept.sort();
    assert_eq!(swept, vec![G, other]);
    assert!(f.tasks.sweep_all().unwrap().is_empty());
}

#[test]
fn list_filters_by_status_and_category_and_search_matches_name_prefixes() {
    let f = fx();
    let mut s = spec("Art contest", 10, -1);
    s.category = "Events".into();
    let art = f.tasks.create(G, s, &admin()).unwrap();
    let arch = f.create("Archive logs", 10, -1);
    let bug = f.create("Bug report", 10, -1);
    f.tasks.close(G, arch.id, &admin()).unwrap();
    let active = TaskFilter {
        status: Some(TaskStatus::Active),
        ..TaskFilter::default()
    };
    let ids = |p: Page<Task>| p.items.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(f.tasks.list(G, &active).unwrap()), vec![art.id, bug.id]);
    let events = TaskFilter {
        category: Some("events".into()),
        ..TaskFilter::default()
    };
    assert_eq!(ids(f.tasks.list(G, &events).unwrap()), vec![art.id]);
    let paged = TaskFilter {
        offset: 1,
        limit: 1,
        ..TaskFilter::default()
    };
    let page = f.tasks.list(G, &paged).unwrap();
    assert_eq!((page.total, ids(page)), (3, vec![arch.id]));
    let names = |v: Vec<Task>| v.into_iter().map(|t| t.name).collect::<Vec<_>>();
    assert_eq!(
        names(f.tasks.search(G, "ar", false, 10).unwrap()),
        vec!["Art contest", "Archive logs"]
    );
    assert_eq!(
        names(f.tasks.search(G, "AR", true, 10).unwrap()),
        vec!["Art contest"]
    );
    assert_eq!(
        names(f.tasks.search(G, &bug.id.to_string(), true, 10).unwrap()),
        vec!["Bug report"]
    );
    assert_eq!(f.tasks.categories(G).unwrap(), vec!["Events", "General"]);
}

#[test]
fn claim_queries_show_a_members_claims_and_the_review_queue() {
    let f = fx();
    let a = f.create("A", 10, -1);
    let b = f.create("B", 10, -1);
    f.claim_and_submit(a.id, 1);
    f.advance(Duration::hours(1));
    f.tasks.claim(G, b.id, UserId(1), &member(1)).unwrap();
    f.claim_and_submit(b.id, 2);
    let mine = f.tasks.user_claims(G, UserId(1)).unwrap();
    let got: Vec<(u64, ClaimStatus)> = mine.iter().map(|c| (c.task.id, c.claim.status)).collect();
    assert_eq!(
        got,
        vec![
            (b.id, ClaimStatus::InProgress),
            (a.id, ClaimStatus::Submitted)
        ]
    );
    let queue: Vec<(u64, UserId)> = f
        .tasks
        .awaiting_review(G)
        .unwrap()
        .iter()
        .map(|c| (c.task.id, c.claim.user))
        .collect();
    assert_eq!(queue, vec![(a.id, UserId(1)), (b.id, UserId(2))]);
    let on_b: Vec<UserId> = f
        .tasks
        .task_claims(G, b.id)
        .unwrap()
        .iter()
        .map(|c| c.user)
        .collect();
    assert_eq!(on_b, vec![UserId(1), UserId(2)]);
    // Past the first deadline (not yet swept): reported as expired and out of the queue.
    f.advance(Duration::hours(23));
    let mine = f.tasks.user_claims(G, UserId(1)).unwrap();
    assert_eq!(mine[1].claim.status, ClaimStatus::Expired);
    assert_eq!(f.tasks.awaiting_review(G).unwrap().len(), 1);
    assert!(f.tasks.task_claims(G, 999).is_err());
}
