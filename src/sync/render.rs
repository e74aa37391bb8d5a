//! Object -> the message it should have on Discord now (`plan::Target`), through the discord
//! render functions and the services' reads. Every body pings nobody (`allowed_mentions`
//! `{"parse": []}`), except an announcement whose admin turned on `allow_mentions`.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::api::MessageBody;
use super::plan::{Desired, Target};
use crate::discord::render::{shop_item_message, task_message, ChannelMessage};
use crate::domain::announce::Announcement;
use crate::domain::embed::{Embed, EmbedTemplate};
use crate::domain::shop::Item;
use crate::domain::tasks::{Review, Task, TaskStatus};
use crate::domain::{DomainError, GuildConfig, GuildId};
use crate::error::Error;
use crate::guild::SyncKind;
use crate::services::Services;

/// The `allowed_mentions` every body carries: no @everyone, @here, role or user pings.
pub fn no_pings() -> Value {
    json!({ "parse": [] })
}

/// A rendered channel message as a REST body (create and edit alike).
pub fn channel_body(msg: &ChannelMessage) -> Result<MessageBody, RenderError> {
    let mut body = serde_json::to_value(msg.create())?;
    if let Value::Object(map) = &mut body {
        map.insert("allowed_mentions".into(), no_pings());
    }
    Ok(body)
}

/// Why an object could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    Service(#[from] Error),
    #[error("could not turn the message into JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The shop item's message in the guild's shop channel; none while hidden or inactive.
pub fn shop_item(item: &Item, cfg: &GuildConfig) -> Result<Target, RenderError> {
    let Some(channel) = cfg.shop_channel_id.filter(|_| item.is_for_sale()) else {
        return Ok(Target::Absent { exists: true });
    };
    Ok(Target::Show(Desired {
        channel,
        body: channel_body(&shop_item_message(item, cfg))?,
        pinned: None,
    }))
}

/// The task's message in the task channel; a task past its end shows as expired (Claim
/// disabled) even before the sweep has marked it.
pub fn task(task: &Task, cfg: &GuildConfig, now: DateTime<Utc>) -> Result<Target, RenderError> {
    let Some(channel) = cfg.task_channel_id else {
        return Ok(Target::Absent { exists: true });
    };
    let mut shown = task.clone();
    if shown.status == TaskStatus::Active && shown.expires_at.is_some_and(|at| at <= now) {
        shown.status = TaskStatus::Expired;
    }
    Ok(Target::Show(Desired {
        channel,
        body: channel_body(&task_message(&shown, cfg))?,
        pinned: None,
    }))
}

/// A submission's review message in the channel it was posted for (a waiting one follows the
/// task channel); Accept / Reject until it is reviewed.
pub fn review(r: &Review, task: &Task, cfg: &GuildConfig) -> Result<Target, RenderError> {
    let Some(channel) = r.channel else {
        return Ok(Target::Absent { exists: true });
    };
    Ok(Target::Show(Desired {
        channel,
        body: channel_body(&crate::discord::render::tasks::review(cfg, task, r))?,
        pinned: None,
    }))
}

/// The announcement in its channel with its pin state; not before its scheduled time.
pub fn announcement(a: &Announcement, now: DateTime<Utc>) -> Target {
    if let Some(at) = a.scheduled_at.filter(|_| !a.is_due(now)) {
        return Target::NotBefore(at);
    }
    let mut body = Map::new();
    body.insert("content".into(), Value::String(a.content.clone()));
    body.insert(
        "embeds".into(),
        Value::Array(a.embed.iter().map(embed_json).collect()),
    );
    let mentions = if a.allow_mentions {
        // The admin asked for this announcement to ping: the mentions written in its text.
        json!({ "parse": ["everyone", "roles", "users"] })
    } else {
        no_pings()
    };
    body.insert("allowed_mentions".into(), mentions);
    Target::Show(Desired {
        channel: a.channel,
        body: Value::Object(body),
        pinned: Some(a.pinned),
    })
}

/// A posted embed template in its channel; none without a channel.
pub fn embed_template(t: &EmbedTemplate) -> Target {
    let Some(channel) = t.channel else {
        return Target::Absent { exists: true };
    };
    Target::Show(Desired {
        channel,
        body: json!({
            "content": "",
            "embeds": [embed_json(&t.embed)],
            "allowed_mentions": no_pings(),
        }),
        pinned: None,
    })
}

/// Our embed model in Discord's JSON shape (empty parts left out).
pub fn embed_json(e: &Embed) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    if let Some(t) = &e.title {
        put("title", json!(t));
    }
    if let Some(d) = &e.description {
        put("description", json!(d));
    }
    if let Some(u) = &e.url {
        put("url", json!(u));
    }
    if let Some(c) = e.color {
        put("color", json!(c));
    }
    if !e.fields.is_empty() {
        let fields: Vec<Value> = e
            .fields
            .iter()
            .map(|f| json!({"name": f.name, "value": f.value, "inline": f.inline}))
            .collect();
        put("fields", Value::Array(fields));
    }
    if let Some(f) = &e.footer {
        put("footer", json!({"text": f.text, "icon_url": f.icon_url}));
    }
    if let Some(a) = &e.author {
        put(
            "author",
            json!({"name": a.name, "url": a.url, "icon_url": a.icon_url}),
        );
    }
    if let Some(u) = &e.image_url {
        put("image", json!({ "url": u }));
    }
    if let Some(u) = &e.thumbnail_url {
        put("thumbnail", json!({ "url": u }));
    }
    if let Some(t) = e.timestamp {
        put("timestamp", json!(t.to_rfc3339()));
    }
    Value::Object(m)
}

/// Reads the object behind a record through the services and renders it. A missing object
/// is `Absent { exists: false }`. Blocking (store reads): call from a blocking thread.
pub fn load(
    services: &Services,
    guild: GuildId,
    kind: SyncKind,
    object: u64,
    now: DateTime<Utc>,
) -> Result<Target, RenderError> {
    let gone = |e: &Error| matches!(e, Error::Domain(DomainError::NotFound(_)));
    match kind {
        SyncKind::ShopItem => match services.shop.get_item(guild, object) {
            Ok(i) => shop_item(&i, &services.guilds.config(guild)?),
            Err(e) if gone(&e) => Ok(Target::Absent { exists: false }),
            Err(e) => Err(e.into()),
        },
        SyncKind::Task => match services.tasks.get(guild, object) {
            Ok(t) => task(&t, &services.guilds.config(guild)?, now),
            Err(e) if gone(&e) => Ok(Target::Absent { exists: false }),
            Err(e) => Err(e.into()),
        },
        SyncKind::Announcement => match services.announce.get(guild, object) {
            Ok(a) => Ok(announcement(&a, now)),
            Err(e) if gone(&e) => Ok(Target::Absent { exists: false }),
            Err(e) => Err(e.into()),
        },
        SyncKind::Embed => match services.announce.embed(guild, object) {
            Ok(t) => Ok(embed_template(&t)),
            Err(e) if gone(&e) => Ok(Target::Absent { exists: false }),
            Err(e) => Err(e.into()),
        },
        SyncKind::Review => match services.tasks.review(guild, object) {
            Ok((r, t)) => review(&r, &t, &services.guilds.config(guild)?),
            Err(e) if gone(&e) => Ok(Target::Absent { exists: false }),
            Err(e) => Err(e.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::shop::ItemInput;
    use crate::domain::ChannelId;

    fn cfg() -> GuildConfig {
        GuildConfig {
            shop_channel_id: Some(ChannelId(50)),
            task_channel_id: Some(ChannelId(60)),
            ..GuildConfig::default()
        }
    }

    fn item() -> Item {
        let mut input = ItemInput::new("@everyone VIP", 10);
        input.stock = 3;
        Item::new(1, input.validate().unwrap(), Utc::now())
    }

    fn shown(t: Target) -> Desired {
        match t {
            Target::Show(d) => d,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn a_shop_item_is_shown_in_the_shop_channel_and_pings_nobody() {
        let d = shown(shop_item(&item(), &cfg()).unwrap());
        assert_eq!(d.channel, ChannelId(50));
        assert_eq!(d.body["allowed_mentions"], json!({"parse": []}));
        assert!(d.body["components"][0]["components"][0]["custom_id"].is_string());
    }

    #[test]
    fn a_hidden_or_inactive_item_or_a_shop_without_channel_has_no_message() {
        let mut hidden = item();
        hidden.visible = false;
        let mut inactive = item();
        inactive.active = false;
        let no_channel = GuildConfig::default();
        for (i, c) in [(hidden, cfg()), (inactive, cfg()), (item(), no_channel)] {
            assert_eq!(shop_item(&i, &c).unwrap(), Target::Absent { exists: true });
        }
    }

    fn a_task(status: TaskStatus, expires_at: Option<DateTime<Utc>>) -> Task {
        let now = Utc::now();
        Task {
            id: 7,
            name: "Sweep @here".into(),
            description: String::new(),
            reward: crate::domain::Money::new(15),
            duration_hours: 2,
            status,
            expires_at,
            max_claims: 2,
            current_claims: 0,
            category: "General".into(),
            role_id: None,
            role_name: None,
            created_by: crate::domain::Actor::System,
            created_at: now,
            updated_at: now,
            completed: 0,
        }
    }

    fn claim_disabled(t: &Task, now: DateTime<Utc>) -> bool {
        let d = shown(task(t, &cfg(), now).unwrap());
        assert_eq!(d.channel, ChannelId(60));
        assert_eq!(d.body["allowed_mentions"], json!({"parse": []}));
        d.body["components"][0]["components"][0]["disabled"] == json!(true)
    }

    #[test]
    fn the_claim_button_is_disabled_when_closed_full_or_past_its_end() {
        let now = Utc::now();
        assert!(!claim_disabled(&a_task(TaskStatus::Active, None), now));
        assert!(claim_disabled(&a_task(TaskStatus::Closed, None), now));
        let mut full = a_task(TaskStatus::Active, None);
        full.current_claims = 2;
        assert!(claim_disabled(&full, now));
        let ended = a_task(TaskStatus::Active, Some(now - chrono::Duration::minutes(1)));
        assert!(
            claim_disabled(&ended, now),
            "expired before the sweep marked it"
        );
    }

    #[test]
    fn an_announcement_waits_for_its_time_and_then_carries_its_pin_state_and_no_pings() {
        let now = Utc::now();
        let later = now + chrono::Duration::hours(1);
        let a = Announcement {
            id: 1,
            title: "News".into(),
            content: "@everyone hello".into(),
            embed: None,
            channel: ChannelId(70),
            pinned: true,
            allow_mentions: false,
            scheduled_at: Some(later),
            origin: None,
            created_by: crate::domain::Actor::System,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(announcement(&a, now), Target::NotBefore(later));
        let d = shown(announcement(&a, later));
        assert_eq!((d.channel, d.pinned), (ChannelId(70), Some(true)));
        assert_eq!(d.body["content"], json!("@everyone hello"));
        assert_eq!(d.body["allowed_mentions"], json!({"parse": []}));
        // Only when the admin asked for it does the text ping.
        let pinging = Announcement {
            allow_mentions: true,
            ..a
        };
        let d = shown(announcement(&pinging, later));
        assert_eq!(
            d.body["allowed_mentions"],
            json!({"parse": ["everyone", "roles", "users"]})
        );
    }

    #[test]
    fn an_embed_template_is_shown_only_with_a_channel_in_discords_shape() {
        let embed = Embed {
            title: Some("Rules".into()),
            image_url: Some("https://example.com/a.png".into()),
            ..Embed::default()
        };
        let mut t = EmbedTemplate {
            id: 1,
            name: "rules".into(),
            embed,
            channel: None,
            created_by: crate::domain::Actor::System,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(embed_template(&t), Target::Absent { exists: true });
        t.channel = Some(ChannelId(80));
        let d = shown(embed_template(&t));
        assert_eq!(
            d.body["embeds"][0]["image"]["url"],
            json!("https://example.com/a.png")
        );
        assert_eq!(d.body["allowed_mentions"], json!({"parse": []}));
    }
}
