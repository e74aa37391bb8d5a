//! Service tests: each change saves the object, bumps its outbox record, audits and emits, in one
//! transaction; refusals write nothing.

use chrono::Duration;

use super::*;
use crate::domain::announce::TaskAnnouncement;
use crate::domain::embed::{Embed, EmbedField};
use crate::domain::{Actor, ChannelId, DomainError, GuildId, UserId};
use crate::error::Error;
use crate::events::{EventFilter, EventKind, Replay};
use crate::store::audit::AuditEntry;
use crate::store::outbox::{SyncKind, SyncRecord};
use crate::store::StoreError;
use crate::testing::{self, TestStore};

const G: GuildId = GuildId(10);
const CH: ChannelId = ChannelId(500);

fn admin() -> Actor {
    Actor::User(UserId(1))
}

fn setup() -> (TestStore, Announce) {
    let ts = testing::store();
    let svc = Announce::new(ts.store.clone());
    (ts, svc)
}

fn text(title: &str, content: &str) -> NewAnnouncement {
    NewAnnouncement {
        title: title.into(),
        content: content.into(),
        channel: Some(CH),
        ..NewAnnouncement::default()
    }
}

fn record(ts: &TestStore, kind: SyncKind, id: u64) -> Option<SyncRecord> {
    ts.store.read(G, |r| r.sync_record(kind, id)).unwrap()
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

/// Kinds of the events published after `seq` (other than outbox bookkeeping).
fn events_after(ts: &TestStore, seq: u64) -> Vec<EventKind> {
    match ts.store.bus().resume(seq - 1, EventFilter::default()).0 {
        Replay::Events(v) => v
            .into_iter()
            .map(|e| e.kind)
            .filter(|k| *k != EventKind::SyncChanged)
            .collect(),
        Replay::TooOld => panic!("replay buffer too small"),
    }
}

fn invalid_field(e: Error) -> String {
    match e {
        Error::Domain(DomainError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn create_saves_queues_audits_and_emits() {
    let (ts, svc) = setup();
    let seq = ts.store.bus().next_seq();
    let a = svc
        .create(G, text("Hello", "Welcome all"), &admin().into())
        .unwrap();
    assert_eq!(svc.get(G, a.id).unwrap(), a);
    let rec = record(&ts, SyncKind::Announcement, a.id).unwrap();
    assert_eq!(
        (rec.desired_version, rec.channel, rec.delete),
        (1, Some(CH), false)
    );
    let log = audit(&ts);
    assert_eq!(log[0].action, "announcement.create");
    assert_eq!(log[0].target, format!("announcement:{}", a.id));
    assert_eq!(log[0].after.as_ref().unwrap()["title"], "Hello");
    assert_eq!(events_after(&ts, seq), vec![EventKind::AnnouncementCreated]);
}

#[test]
fn create_falls_back_to_the_configured_channel_or_is_a_conflict() {
    let (ts, svc) = setup();
    let mut new = text("Hi", "there");
    new.channel = None;
    // No channel given and none configured: the server's state, not the input, is missing it.
    assert!(matches!(
        svc.create(G, new.clone(), &admin().into()).unwrap_err(),
        Error::Domain(DomainError::Conflict(m)) if m.contains("no announcement channel")
    ));
    assert!(ts.store.read(G, |r| r.announcements()).unwrap().is_empty());
    ts.store
        .write(G, |w| {
            let mut c = w.guild_config()?;
            c.announcement_channel_id = Some(ChannelId(77));
            w.put_guild_config(&c)
        })
        .unwrap();
    assert_eq!(
        svc.create(G, new, &admin().into()).unwrap().channel,
        ChannelId(77)
    );
}

#[test]
fn an_invalid_announcement_writes_nothing() {
    let (ts, svc) = setup();
    let mut new = text("Hi", "");
    new.embed = Some(Embed {
        title: Some("x".repeat(257)),
        ..Embed::default()
    });
    assert_eq!(
        invalid_field(svc.create(G, new, &admin().into()).unwrap_err()),
        "embed.title"
    );
    assert!(ts.store.read(G, |r| r.sync_records()).unwrap().is_empty());
    assert!(audit(&ts).is_empty());
}

#[test]
fn edit_bumps_the_version_and_audits_before_and_after() {
    let (ts, svc) = setup();
    let a = svc
        .create(G, text("Old", "old text"), &admin().into())
        .unwrap();
    let patch = AnnouncementPatch {
        title: Some("New".into()),
        ..AnnouncementPatch::default()
    };
    let b = svc.edit(G, a.id, patch, &admin().into()).unwrap();
    assert_eq!((b.title.as_str(), b.content.as_str()), ("New", "old text"));
    assert_eq!(
        record(&ts, SyncKind::Announcement, a.id)
            .unwrap()
            .desired_version,
        2
    );
    let e = &audit(&ts)[0];
    assert_eq!(e.action, "announcement.update");
    assert_eq!(e.before.as_ref().unwrap()["title"], "Old");
    assert_eq!(e.after.as_ref().unwrap()["title"], "New");

    let bad = AnnouncementPatch {
        content: Some("x".repeat(2001)),
        ..AnnouncementPatch::default()
    };
    assert_eq!(
        invalid_field(svc.edit(G, a.id, bad, &admin().into()).unwrap_err()),
        "content"
    );
    assert_eq!(
        record(&ts, SyncKind::Announcement, a.id)
            .unwrap()
            .desired_version,
        2
    );
    assert_eq!(svc.get(G, a.id).unwrap().title, "New");
}

#[test]
fn pin_and_unpin_are_made_true_by_the_reconciler() {
    let (ts, svc) = setup();
    let a = svc
        .create(G, text("Rules", "Be nice"), &admin().into())
        .unwrap();
    let seq = ts.store.bus().next_seq();
    assert!(svc.pin(G, a.id, &admin().into()).unwrap().pinned);
    assert_eq!(
        record(&ts, SyncKind::Announcement, a.id)
            .unwrap()
            .desired_version,
        2
    );
    assert!(!svc.unpin(G, a.id, &admin().into()).unwrap().pinned);
    assert_eq!(
        record(&ts, SyncKind::Announcement, a.id)
            .unwrap()
            .desired_version,
        3
    );
    let actions: Vec<String> = audit(&ts).into_iter().map(|e| e.action).take(2).collect();
    assert_eq!(actions, ["announcement.unpin", "announcement.pin"]);
    assert_eq!(
        events_after(&ts, seq),
        vec![
            EventKind::AnnouncementUpdated,
            EventKind::AnnouncementUpdated
        ]
    );
}

#[test]
fn delete_marks_the_record_with_or_without_deleting_the_message() {
    let (ts, svc) = setup();
    let a = svc.create(G, text("A", "a"), &admin().into()).unwrap();
    let b = svc.create(G, text("B", "b"), &admin().into()).unwrap();
    let seq = ts.store.bus().next_seq();
    svc.delete(G, a.id, true, &admin().into()).unwrap();
    svc.delete(G, b.id, false, &admin().into()).unwrap();
    let ra = record(&ts, SyncKind::Announcement, a.id).unwrap();
    let rb = record(&ts, SyncKind::Announcement, b.id).unwrap();
    assert_eq!(
        (ra.delete, ra.delete_message, ra.desired_version),
        (true, true, 2)
    );
    assert_eq!((rb.delete, rb.delete_message), (true, false));
    assert!(matches!(
        svc.get(G, a.id),
        Err(Error::Domain(DomainError::NotFound(_)))
    ));
    assert_eq!(audit(&ts)[0].action, "announcement.delete");
    assert_eq!(audit(&ts)[0].before.as_ref().unwrap()["title"], "B");
    assert_eq!(
        events_after(&ts, seq),
        vec![
            EventKind::AnnouncementDeleted,
            EventKind::AnnouncementDeleted
        ]
    );
    assert!(matches!(
        svc.delete(G, a.id, true, &admin().into()),
        Err(Error::Domain(DomainError::NotFound(_)))
    ));
}

#[test]
fn a_scheduled_announcement_waits_for_its_time() {
    let (ts, svc) = setup();
    let at = testing::t0() + Duration::hours(2);
    let mut new = text("Later", "soon");
    new.scheduled_at = Some(at);
    let a = svc.create(G, new, &admin().into()).unwrap();
    let now_one = svc.create(G, text("Now", "now"), &admin().into()).unwrap();
    assert_eq!(
        record(&ts, SyncKind::Announcement, a.id)
            .unwrap()
            .next_attempt_at,
        at
    );
    let due: Vec<u64> = svc
        .due(G, ts.store.now())
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(due, vec![now_one.id]);
    ts.clock.advance(Duration::hours(2));
    let due: Vec<u64> = svc
        .due(G, ts.store.now())
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(due, vec![a.id, now_one.id]);
}

#[test]
fn list_is_newest_first_and_paged() {
    let (_ts, svc) = setup();
    for i in 1..=5 {
        svc.create(G, text(&format!("A{i}"), "x"), &admin().into())
            .unwrap();
    }
    let p = svc.list(G, 1, 2).unwrap();
    assert_eq!(p.total, 5);
    let titles: Vec<&str> = p.items.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(titles, ["A4", "A3"]);
}

#[test]
fn announce_task_posts_a_formatted_embed() {
    let (ts, svc) = setup();
    let t = TaskAnnouncement {
        task_id: 3,
        name: "Write docs".into(),
        description: "Document the shop.".into(),
        reward: 500,
        duration_hours: 48,
        currency_name: "gems".into(),
        currency_symbol: "💎".into(),
        ..TaskAnnouncement::default()
    };
    let a = svc.announce_task(G, &t, Some(CH), &admin().into()).unwrap();
    assert_eq!(a.origin.as_deref(), Some("task:3"));
    let e = a.embed.unwrap();
    assert_eq!(e.fields[0].value, "💎 500 gems");
    assert_eq!(e.fields[1].value, "2 days");
    assert_eq!(
        record(&ts, SyncKind::Announcement, a.id)
            .unwrap()
            .desired_version,
        1
    );
}

fn embed(title: &str) -> Embed {
    Embed {
        title: Some(title.into()),
        fields: vec![EmbedField {
            name: "n".into(),
            value: "v".into(),
            inline: false,
        }],
        ..Embed::default()
    }
}

fn new_template(name: &str, channel: Option<ChannelId>) -> NewEmbedTemplate {
    NewEmbedTemplate {
        name: name.into(),
        embed: embed("Rules"),
        channel,
    }
}

#[test]
fn embed_templates_bump_the_embed_outbox_and_emit() {
    let (ts, svc) = setup();
    let seq = ts.store.bus().next_seq();
    let t = svc
        .create_embed(G, new_template("Rules", Some(CH)), &admin().into())
        .unwrap();
    let rec = record(&ts, SyncKind::Embed, t.id).unwrap();
    assert_eq!((rec.desired_version, rec.channel), (1, Some(CH)));
    let patch = EmbedTemplatePatch {
        embed: Some(embed("Rules v2")),
        ..EmbedTemplatePatch::default()
    };
    svc.edit_embed(G, t.id, patch, &admin().into()).unwrap();
    assert_eq!(
        record(&ts, SyncKind::Embed, t.id).unwrap().desired_version,
        2
    );
    assert_eq!(
        svc.embed(G, t.id).unwrap().embed.title.as_deref(),
        Some("Rules v2")
    );
    let e = &audit(&ts)[0];
    assert_eq!(e.action, "embed.update");
    assert_eq!(e.before.as_ref().unwrap()["embed"]["title"], "Rules");
    assert_eq!(
        events_after(&ts, seq),
        vec![EventKind::EmbedChanged, EventKind::EmbedChanged]
    );
}

#[test]
fn template_names_are_unique_ignoring_case() {
    let (_ts, svc) = setup();
    let a = svc
        .create_embed(G, new_template("Rules", None), &admin().into())
        .unwrap();
    let b = svc
        .create_embed(G, new_template("Faq", None), &admin().into())
        .unwrap();
    assert!(matches!(
        svc.create_embed(G, new_template(" rules ", None), &admin().into()),
        Err(Error::Domain(DomainError::Conflict(_)))
    ));
    let rename = EmbedTemplatePatch {
        name: Some("RULES".into()),
        ..EmbedTemplatePatch::default()
    };
    assert!(svc
        .edit_embed(G, b.id, rename.clone(), &admin().into())
        .is_err());
    assert_eq!(
        svc.edit_embed(G, a.id, rename, &admin().into())
            .unwrap()
            .name,
        "RULES"
    );
    let names: Vec<String> = svc.embeds(G).unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["Faq", "RULES"]);
}

#[test]
fn an_invalid_template_edit_names_the_field_and_writes_nothing() {
    let (ts, svc) = setup();
    let t = svc
        .create_embed(G, new_template("Rules", Some(CH)), &admin().into())
        .unwrap();
    let mut bad = embed("ok");
    bad.fields[0].value = "v".repeat(1025);
    let patch = EmbedTemplatePatch {
        embed: Some(bad),
        ..EmbedTemplatePatch::default()
    };
    let err = svc.edit_embed(G, t.id, patch, &admin().into()).unwrap_err();
    assert_eq!(invalid_field(err), "embed.fields[0].value");
    assert_eq!(
        record(&ts, SyncKind::Embed, t.id).unwrap().desired_version,
        1
    );
}

#[test]
fn clearing_a_templates_channel_takes_its_message_down() {
    let (ts, svc) = setup();
    let t = svc
        .create_embed(G, new_template("Rules", Some(CH)), &admin().into())
        .unwrap();
    let patch: EmbedTemplatePatch = serde_json::from_str(r#"{"channel": null}"#).unwrap();
    let t = svc.edit_embed(G, t.id, patch, &admin().into()).unwrap();
    assert_eq!(t.channel, None);
    let rec = record(&ts, SyncKind::Embed, t.id).unwrap();
    assert!(rec.delete && rec.delete_message);
    assert_eq!(rec.desired_version, 2);
}

#[test]
fn deleting_a_template_marks_its_record_and_announcements_can_use_templates() {
    let (ts, svc) = setup();
    let t = svc
        .create_embed(G, new_template("Rules", Some(CH)), &admin().into())
        .unwrap();
    let new = NewAnnouncement {
        title: "From template".into(),
        embed_template: Some(t.id),
        channel: Some(CH),
        ..NewAnnouncement::default()
    };
    let a = svc.create(G, new.clone(), &admin().into()).unwrap();
    assert_eq!(a.embed.as_ref(), Some(&t.embed));
    svc.delete_embed(G, t.id, false, &admin().into()).unwrap();
    let rec = record(&ts, SyncKind::Embed, t.id).unwrap();
    assert_eq!((rec.delete, rec.delete_message), (true, false));
    assert_eq!(audit(&ts)[0].action, "embed.delete");
    assert!(matches!(
        svc.create(G, new, &admin().into()),
        Err(Error::Domain(DomainError::NotFound(_)))
    ));
}

#[test]
fn announcing_a_stored_task_uses_its_fields_and_the_guild_currency() {
    let (ts, svc) = setup();
    let tasks = crate::tasks::Tasks::new(ts.store.clone());
    let task = tasks
        .create(
            G,
            crate::domain::tasks::NewTask {
                name: "Welcome New Members".into(),
                description: "Help welcome 5 new members".into(),
                reward: 150,
                max_claims: 3,
                ..Default::default()
            },
            &crate::economy::OpMeta::user(UserId(1), crate::domain::Source::Dashboard),
        )
        .unwrap();
    let a = svc
        .announce_task_by_id(G, task.id, Some(CH), &admin().into())
        .unwrap();
    let rendered = serde_json::to_string(&a).unwrap();
    assert!(rendered.contains("Welcome New Members"), "{rendered}");
    assert!(rendered.contains("150"), "{rendered}");
    assert!(rendered.contains("coins"), "{rendered}");
    assert_eq!(a.channel, CH);
    assert!(record(&ts, SyncKind::Announcement, a.id).is_some());
    let err = svc
        .announce_task_by_id(G, 999, Some(CH), &admin().into())
        .unwrap_err();
    assert!(
        matches!(err, Error::Domain(DomainError::NotFound(_))),
        "{err:?}"
    );
}
