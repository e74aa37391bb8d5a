//! Guild service tests: config merge and refusals naming the field, setters, Discord-side info,
//! members, and audit queries.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::domain::{Actor, ChannelId, DomainError, GuildConfig, GuildId, RoleId, UserId};
use crate::error::Error;
use crate::events::{EventFilter, EventKind, Replay};
use crate::store::directory::{ChannelInfo, ChannelKind, RoleInfo};
use crate::store::StoreError;
use crate::testing::{self, TestStore};

const G: GuildId = GuildId(10);

fn admin() -> Actor {
    Actor::User(UserId(1))
}

fn setup() -> (TestStore, Guilds) {
    let ts = testing::store();
    let svc = Guilds::new(ts.store.clone());
    (ts, svc)
}

fn invalid_field(e: Error) -> String {
    match e {
        Error::Domain(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn events_after(ts: &TestStore, seq: u64) -> Vec<(EventKind, Vec<String>)> {
    match ts.store.bus().resume(seq - 1, EventFilter::default()).0 {
        Replay::Events(v) => v.into_iter().map(|e| (e.kind, e.ids)).collect(),
        Replay::TooOld => panic!("replay buffer too small"),
    }
}

fn audit_count(ts: &TestStore) -> usize {
    let mut n = 0;
    ts.store
        .read(G, |r| {
            r.scan_audit(|_| {
                n += 1;
                Ok::<_, StoreError>(true)
            })
        })
        .unwrap();
    n
}

#[test]
fn a_patch_merges_into_the_current_config_including_features() {
    let cur = GuildConfig::default();
    let next = apply_patch(
        &cur,
        &json!({"currency_name": "gems", "max_transfer": 500, "features": {"shop": false}}),
    )
    .unwrap();
    assert_eq!(next.currency_name, "gems");
    assert_eq!(next.max_transfer, Some(500));
    assert!(!next.features.shop);
    assert!(next.features.tasks, "other features keep their values");
    assert_eq!(next.daily_amount, cur.daily_amount);
    let cleared = apply_patch(&next, &json!({"max_transfer": null})).unwrap();
    assert_eq!(cleared.max_transfer, None);
    let ids = apply_patch(
        &cur,
        &json!({"task_channel_id": "123", "admin_roles": [4, "5"]}),
    )
    .unwrap();
    assert_eq!(ids.task_channel_id, Some(ChannelId(123)));
    assert_eq!(ids.admin_roles, vec![RoleId(4), RoleId(5)]);
}

#[test]
fn unknown_settings_are_refused_by_name() {
    let cur = GuildConfig::default();
    assert_eq!(
        invalid_field(apply_patch(&cur, &json!({"curency_name": "x"})).unwrap_err()),
        "curency_name"
    );
    assert_eq!(
        invalid_field(apply_patch(&cur, &json!({"features": {"casino": true}})).unwrap_err()),
        "features.casino"
    );
    assert_eq!(
        invalid_field(apply_patch(&cur, &json!(["x"])).unwrap_err()),
        "config"
    );
    assert_eq!(
        invalid_field(apply_patch(&cur, &json!({"features": true})).unwrap_err()),
        "features"
    );
}

#[test]
fn bad_values_are_refused_by_name() {
    let cur = GuildConfig::default();
    let cases = [
        (json!({"daily_amount": "lots"}), "daily_amount"),
        (json!({"daily_amount": null}), "daily_amount"),
        (json!({"daily_cooldown_hours": -1}), "daily_cooldown_hours"),
        (json!({"daily_reset": "weekly"}), "daily_reset"),
        (json!({"task_channel_id": "general"}), "task_channel_id"),
        (json!({"features": {"shop": "yes"}}), "features.shop"),
        // Well-typed but out of range: caught by GuildConfig::validate.
        (json!({"transfer_tax_percent": 101}), "transfer_tax_percent"),
        (json!({"currency_name": ""}), "currency_name"),
    ];
    for (patch, field) in cases {
        assert_eq!(
            invalid_field(apply_patch(&cur, &patch).unwrap_err()),
            field,
            "{patch}"
        );
    }
}

#[test]
fn update_writes_audits_the_changed_keys_and_emits() {
    let (ts, svc) = setup();
    let seq = ts.store.bus().next_seq();
    let cfg = svc
        .update_config(
            G,
            &json!({"daily_amount": 250, "currency_name": "coins"}),
            &admin().into(),
        )
        .unwrap();
    assert_eq!(svc.config(G).unwrap(), cfg);
    assert_eq!(cfg.daily_amount, 250);
    let page = svc.list_audit(G, &AuditFilter::default()).unwrap();
    let e = &page.items[0];
    assert_eq!(
        (e.action.as_str(), e.target.as_str()),
        ("config.update", "config")
    );
    // Only what changed is recorded (currency_name was already "coins").
    assert_eq!(e.before, Some(json!({"daily_amount": 100})));
    assert_eq!(e.after, Some(json!({"daily_amount": 250})));
    assert_eq!(
        events_after(&ts, seq),
        vec![(EventKind::ConfigUpdated, vec!["daily_amount".to_string()])]
    );
}

#[test]
fn a_refused_or_empty_update_writes_nothing() {
    let (ts, svc) = setup();
    let seq = ts.store.bus().next_seq();
    assert!(svc
        .update_config(G, &json!({"daily_amount": -5}), &admin().into())
        .is_err());
    svc.update_config(G, &json!({"daily_amount": 100}), &admin().into())
        .unwrap();
    assert_eq!(audit_count(&ts), 0);
    assert!(events_after(&ts, seq).is_empty());
    assert_eq!(
        svc.config(G).unwrap(),
        GuildConfig {
            rate_limit_per_minute: 0,
            ..GuildConfig::default()
        }
    );
}

#[test]
fn channel_setter_sets_and_clears_the_named_slot() {
    let (_ts, svc) = setup();
    let slot = ChannelSlot::parse("Announcements").unwrap();
    let cfg = svc
        .set_channel(G, slot, Some(ChannelId(9)), &admin().into())
        .unwrap();
    assert_eq!(cfg.announcement_channel_id, Some(ChannelId(9)));
    let cfg = svc
        .set_channel(G, ChannelSlot::Log, Some(ChannelId(8)), &admin().into())
        .unwrap();
    assert_eq!(cfg.log_channel, Some(ChannelId(8)));
    let cfg = svc
        .set_channel(G, ChannelSlot::Log, None, &admin().into())
        .unwrap();
    assert_eq!(cfg.log_channel, None);
    assert_eq!(cfg.announcement_channel_id, Some(ChannelId(9)));
    assert_eq!(
        ChannelSlot::parse("tasks").unwrap().field(),
        "task_channel_id"
    );
    assert_eq!(
        ChannelSlot::parse("shop").unwrap().field(),
        "shop_channel_id"
    );
    assert_eq!(
        invalid_field(ChannelSlot::parse("bank").unwrap_err().into()),
        "channel"
    );
}

#[test]
fn role_setter_adds_once_and_refuses_removing_a_missing_role() {
    let (ts, svc) = setup();
    svc.set_role(
        G,
        RoleSlot::Admin,
        RoleChange::Add,
        RoleId(3),
        &admin().into(),
    )
    .unwrap();
    let cfg = svc
        .set_role(
            G,
            RoleSlot::Admin,
            RoleChange::Add,
            RoleId(3),
            &admin().into(),
        )
        .unwrap();
    assert_eq!(cfg.admin_roles, vec![RoleId(3)]);
    assert_eq!(
        audit_count(&ts),
        1,
        "adding a role already present changes nothing"
    );
    let cfg = svc
        .set_role(
            G,
            RoleSlot::Moderator,
            RoleChange::Add,
            RoleId(4),
            &admin().into(),
        )
        .unwrap();
    assert_eq!(cfg.moderator_roles, vec![RoleId(4)]);
    let cfg = svc
        .set_role(
            G,
            RoleSlot::Admin,
            RoleChange::Remove,
            RoleId(3),
            &admin().into(),
        )
        .unwrap();
    assert!(cfg.admin_roles.is_empty());
    assert!(matches!(
        svc.set_role(
            G,
            RoleSlot::Admin,
            RoleChange::Remove,
            RoleId(3),
            &admin().into()
        ),
        Err(Error::Domain(DomainError::RoleNotListed {
            role: RoleId(3),
            ..
        }))
    ));
}

#[test]
fn guild_info_keeps_join_times_across_updates() {
    let (ts, svc) = setup();
    let joined = svc.mark_joined(G).unwrap().joined_at;
    assert_eq!(joined, Some(ts.store.now()));
    ts.clock.advance(Duration::hours(1));
    let info = svc
        .upsert_info(
            G,
            GuildProfile {
                name: "Cafe".into(),
                member_count: 42,
                owner_id: Some(UserId(2)),
                icon_url: None,
            },
        )
        .unwrap();
    assert_eq!(
        (info.name.as_str(), info.member_count, info.joined_at),
        ("Cafe", 42, joined)
    );
    let left = svc.mark_left(G).unwrap();
    assert_eq!(left.left_at, Some(ts.store.now()));
    ts.clock.advance(Duration::hours(1));
    let back = svc.mark_joined(G).unwrap();
    assert_eq!((back.left_at, back.joined_at), (None, Some(ts.store.now())));
    assert_eq!(svc.info(G).unwrap().unwrap().name, "Cafe");
}

#[test]
fn config_and_owner_reads_the_settings_with_the_stored_owner() {
    let (_ts, svc) = setup();
    let (cfg, owner) = svc.config_and_owner(G).unwrap();
    assert_eq!((cfg.currency_name.as_str(), owner), ("coins", None));
    svc.set_role(
        G,
        RoleSlot::Admin,
        RoleChange::Add,
        RoleId(9),
        &admin().into(),
    )
    .unwrap();
    svc.upsert_info(
        G,
        GuildProfile {
            name: "Cafe".into(),
            owner_id: Some(UserId(2)),
            ..GuildProfile::default()
        },
    )
    .unwrap();
    let (cfg, owner) = svc.config_and_owner(G).unwrap();
    assert_eq!((cfg.admin_roles, owner), (vec![RoleId(9)], Some(UserId(2))));
}

fn channel(id: u64, kind: ChannelKind, position: i64) -> ChannelInfo {
    ChannelInfo {
        id: ChannelId(id),
        name: format!("c{id}"),
        kind,
        position,
        parent: None,
    }
}

#[test]
fn channels_and_roles_are_replaced_upserted_and_removed() {
    let (_ts, svc) = setup();
    svc.upsert_channel(GuildId(11), &channel(7, ChannelKind::Text, 0))
        .unwrap();
    svc.replace_channels(
        G,
        &[
            channel(1, ChannelKind::Text, 2),
            channel(2, ChannelKind::Voice, 1),
        ],
    )
    .unwrap();
    svc.replace_channels(
        G,
        &[
            channel(3, ChannelKind::Text, 5),
            channel(4, ChannelKind::News, 0),
        ],
    )
    .unwrap();
    svc.upsert_channel(G, &channel(5, ChannelKind::Category, 1))
        .unwrap();
    let ids: Vec<u64> = svc
        .channels(G, false)
        .unwrap()
        .iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(ids, [4, 5, 3]);
    let postable: Vec<u64> = svc
        .channels(G, true)
        .unwrap()
        .iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(postable, [4, 3]);
    assert_eq!(
        svc.channels(GuildId(11), false).unwrap().len(),
        1,
        "other guilds untouched"
    );
    assert!(svc.remove_channel(G, ChannelId(3)).unwrap());
    assert!(!svc.remove_channel(G, ChannelId(3)).unwrap());

    let role = |id: u64, position: i64| RoleInfo {
        id: RoleId(id),
        name: format!("r{id}"),
        position,
        color: 0,
        managed: false,
    };
    svc.replace_roles(G, &[role(1, 1), role(2, 5)]).unwrap();
    svc.upsert_role(G, &role(3, 3)).unwrap();
    svc.upsert_role(GuildId(11), &role(9, 9)).unwrap();
    let ids: Vec<u64> = svc.roles(G).unwrap().iter().map(|r| r.id.0).collect();
    assert_eq!(ids, [2, 3, 1]);
    assert!(svc.remove_role(G, RoleId(2)).unwrap());
    assert_eq!(svc.roles(G).unwrap().len(), 2);
}

#[test]
fn members_are_upserted_with_seen_at_and_paged() {
    let (ts, svc) = setup();
    let m = |id: u64, name: &str| MemberProfile {
        user: UserId(id),
        name: name.into(),
        display_name: None,
        avatar_url: None,
    };
    svc.upsert_members(G, &[m(3, "c"), m(1, "a"), m(2, "b")])
        .unwrap();
    ts.clock.advance(Duration::minutes(5));
    let mut renamed = m(1, "a");
    renamed.display_name = Some("Alice".into());
    svc.upsert_members(G, &[renamed]).unwrap();
    let a = svc.member(G, UserId(1)).unwrap().unwrap();
    assert_eq!(
        (a.display_name.as_deref(), a.seen_at),
        (Some("Alice"), ts.store.now())
    );
    assert_eq!(svc.member(G, UserId(9)).unwrap(), None);
    let page = svc.members(G, 1, 1).unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.items[0].user, UserId(2));
    assert_eq!(svc.members(G, 0, 0).unwrap().items.len(), 3);
}

#[test]
fn audit_filters_by_actor_action_target_and_time_and_pages() {
    let (ts, svc) = setup();
    let other = Actor::Dashboard("ops".into());
    let t0 = ts.store.now();
    ts.store
        .write(G, |w| {
            w.audit(&admin(), "shop.item.create", "item:1", None, None)?;
            w.audit(&other, "shop.item.update", "item:1", None, None)?;
            w.audit(&admin(), "config.update", "config", None, None)
        })
        .unwrap();
    ts.clock.advance(Duration::hours(1));
    let t1 = ts.store.now();
    ts.store
        .write(G, |w| {
            w.audit(&admin(), "shop.item.delete", "item:2", None, None)?;
            w.audit(&admin(), "balance.add", "user:5", None, None)
        })
        .unwrap();
    ts.store
        .write(GuildId(11), |w| {
            w.audit(&admin(), "shop.item.create", "item:1", None, None)
        })
        .unwrap();
    let actions = |f: AuditFilter| -> (Vec<String>, u64) {
        let p = svc.list_audit(G, &f).unwrap();
        (p.items.into_iter().map(|e| e.action).collect(), p.total)
    };
    let all = actions(AuditFilter::default());
    assert_eq!(all.0.len(), 5);
    assert_eq!(all.0[0], "balance.add", "newest first");
    let shop = actions(AuditFilter {
        action: Some("shop.".into()),
        ..AuditFilter::default()
    });
    assert_eq!(
        shop.0,
        ["shop.item.delete", "shop.item.update", "shop.item.create"]
    );
    let by_other = actions(AuditFilter {
        actor: Some(other),
        ..AuditFilter::default()
    });
    assert_eq!(by_other.0, ["shop.item.update"]);
    let item1 = actions(AuditFilter {
        target: Some("item:1".into()),
        ..AuditFilter::default()
    });
    assert_eq!(item1.1, 2);
    let early = actions(AuditFilter {
        from: Some(t0),
        to: Some(t1),
        ..AuditFilter::default()
    });
    assert_eq!(
        early.0,
        ["config.update", "shop.item.update", "shop.item.create"]
    );
    let late = actions(AuditFilter {
        from: Some(t1),
        ..AuditFilter::default()
    });
    assert_eq!(late.0, ["balance.add", "shop.item.delete"]);
    let page = actions(AuditFilter {
        offset: 1,
        limit: 2,
        ..AuditFilter::default()
    });
    assert_eq!(
        page,
        (
            vec!["shop.item.delete".to_string(), "config.update".to_string()],
            5
        )
    );
}
