//! Custom command service tests: names, overwrite, built-ins, audit, events, rendering.

use super::*;
use crate::domain::Actor;
use crate::domain::{Money, TxKind};
use crate::events::{EventFilter, Replay};
use crate::store::accounts::NewEntry;
use crate::store::audit::AuditEntry;
use crate::store::StoreError;
use crate::testing::{self, TestStore};

const G: GuildId = GuildId(10);

fn admin() -> Actor {
    Actor::User(UserId(1))
}

fn setup() -> (TestStore, CustomCommands) {
    let ts = testing::store();
    let svc = CustomCommands::new(ts.store.clone());
    (ts, svc)
}

fn audit(ts: &TestStore) -> Vec<AuditEntry> {
    ts.store
        .read(G, |r| {
            let mut v = Vec::new();
            r.scan_audit(|e| {
                v.push(e);
                Ok::<_, StoreError>(true)
            })?;
            Ok::<_, StoreError>(v)
        })
        .unwrap()
}

fn changed_events(ts: &TestStore, seq: u64) -> Vec<Vec<String>> {
    match ts.store.bus().resume(seq - 1, EventFilter::default()).0 {
        Replay::Events(v) => v
            .into_iter()
            .filter(|e| e.kind == EventKind::CustomCommandChanged)
            .map(|e| e.ids)
            .collect(),
        Replay::TooOld => panic!("replay buffer too small"),
    }
}

#[test]
fn create_stores_audits_and_emits() {
    let (ts, svc) = setup();
    let seq = ts.store.bus().next_seq();
    let c = svc
        .create(G, "Rules", "Be nice, {user}", false, &admin().into())
        .unwrap();
    assert_eq!(c.name, "rules");
    assert_eq!(svc.get(G, "rules").unwrap(), Some(c));
    let e = &audit(&ts)[0];
    assert_eq!(
        (e.action.as_str(), e.target.as_str()),
        ("custom_command.create", "command:rules")
    );
    assert_eq!(e.after.as_ref().unwrap()["response"], "Be nice, {user}");
    assert_eq!(changed_events(&ts, seq), vec![vec!["rules".to_string()]]);
}

#[test]
fn a_taken_name_is_refused_unless_overwrite() {
    let (ts, svc) = setup();
    svc.create(G, "faq", "one", false, &admin().into()).unwrap();
    assert!(matches!(
        svc.create(G, "FAQ", "two", false, &admin().into()),
        Err(Error::Domain(DomainError::Conflict(_)))
    ));
    assert_eq!(svc.get(G, "faq").unwrap().unwrap().response, "one");
    ts.clock.advance(chrono::Duration::minutes(1));
    let c = svc
        .create(
            G,
            "faq",
            "two",
            true,
            &Actor::Dashboard("ops".into()).into(),
        )
        .unwrap();
    assert_eq!(c.response, "two");
    assert_eq!(c.created_by, admin());
    assert!(c.updated_at > c.created_at);
    let e = &audit(&ts)[0];
    assert_eq!(e.action, "custom_command.update");
    assert_eq!(e.before.as_ref().unwrap()["response"], "one");
    assert_eq!(svc.list(G).unwrap().len(), 1);
}

#[test]
fn built_in_and_malformed_names_and_bad_responses_are_refused() {
    let (ts, svc) = setup();
    for name in ["balance", "admin", "task_submit", "bad name", ""] {
        let e = svc.create(G, name, "x", true, &admin().into()).unwrap_err();
        assert!(e.to_string().starts_with("name:"), "{name}: {e}");
    }
    let e = svc
        .create(G, "ok", &"x".repeat(2001), false, &admin().into())
        .unwrap_err();
    assert!(e.to_string().starts_with("response:"), "{e}");
    assert!(svc.list(G).unwrap().is_empty());
    assert!(audit(&ts).is_empty());
}

#[test]
fn delete_removes_audits_and_refuses_unknown_names() {
    let (ts, svc) = setup();
    svc.create(G, "faq", "one", false, &admin().into()).unwrap();
    let seq = ts.store.bus().next_seq();
    svc.delete(G, "FAQ", &admin().into()).unwrap();
    assert_eq!(svc.get(G, "faq").unwrap(), None);
    assert_eq!(audit(&ts)[0].action, "custom_command.delete");
    assert_eq!(changed_events(&ts, seq).len(), 1);
    assert!(matches!(
        svc.delete(G, "faq", &admin().into()),
        Err(Error::Domain(DomainError::NotFound(_)))
    ));
}

#[test]
fn list_is_by_name_and_scoped_to_the_guild() {
    let (_ts, svc) = setup();
    for n in ["zeta", "alpha", "mid"] {
        svc.create(G, n, "x", false, &admin().into()).unwrap();
    }
    svc.create(GuildId(11), "other", "x", false, &admin().into())
        .unwrap();
    let names: Vec<String> = svc.list(G).unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["alpha", "mid", "zeta"]);
}

#[test]
fn a_guild_can_hold_at_most_100_commands() {
    let (_ts, svc) = setup();
    for i in 0..MAX_COMMANDS {
        svc.create(G, &format!("c{i}"), "x", false, &admin().into())
            .unwrap();
    }
    assert!(matches!(
        svc.create(G, "one-more", "x", false, &admin().into()),
        Err(Error::Domain(DomainError::LimitExceeded(_)))
    ));
    // Replacing an existing one is still allowed at the limit.
    svc.create(G, "c0", "y", true, &admin().into()).unwrap();
}

#[test]
fn the_dev_guild_keeps_slots_for_the_built_in_commands() {
    let (_ts, svc) = setup();
    svc.reserve_for_builtins(G, 14);
    assert_eq!(svc.limit(G), 86);
    assert_eq!(svc.limit(GuildId(11)), MAX_COMMANDS);
    for i in 0..86 {
        svc.create(G, &format!("c{i}"), "x", false, &admin().into())
            .unwrap();
    }
    let err = svc
        .create(G, "one-more", "x", false, &admin().into())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Domain(DomainError::LimitExceeded(m)) if m.contains("at most 86")),
        "{err:?}"
    );
    svc.create(G, "c0", "y", true, &admin().into()).unwrap();
    // Another guild keeps all 100.
    svc.create(GuildId(11), "c86", "x", false, &admin().into())
        .unwrap();
}

#[test]
fn respond_fills_in_the_members_balance_and_currency() {
    let (ts, svc) = setup();
    svc.create(
        G,
        "bal",
        "{user} has {balance} {currency} on {server}",
        false,
        &admin().into(),
    )
    .unwrap();
    ts.store
        .write(G, |w| {
            w.append_entry(NewEntry::new(
                UserId(5),
                Money::new(12_345),
                TxKind::AdminAdd,
                "t",
            ))
        })
        .unwrap();
    let out = svc.respond(G, "bal", UserId(5), "<@5>", "Cafe").unwrap();
    assert_eq!(out.as_deref(), Some("<@5> has 12,345 coins on Cafe"));
    let nobody = svc.respond(G, "bal", UserId(6), "<@6>", "Cafe").unwrap();
    assert_eq!(nobody.as_deref(), Some("<@6> has 0 coins on Cafe"));
    assert_eq!(svc.respond(G, "nope", UserId(5), "x", "y").unwrap(), None);
}
