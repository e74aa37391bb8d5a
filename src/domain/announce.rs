//! Announcements as plain data: what an admin posts to a channel (text and/or an embed), whether
//! it is pinned, and when it may be posted. Also the pure builder for "announce this task".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::embed::{limits, truncate_chars, validate_content, Embed, EmbedField, EmbedFooter};
use super::error::DomainError;
use super::ids::{ChannelId, RoleId};
use super::money::group_thousands;
use super::Actor;

/// A message Coffer posts and keeps in sync (outbox kind `announcement`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Announcement {
    pub id: u64,
    /// For the dashboard list; not shown on Discord unless the embed uses it.
    pub title: String,
    /// Message text (may be empty when there is an embed).
    pub content: String,
    pub embed: Option<Embed>,
    pub channel: ChannelId,
    pub pinned: bool,
    /// Let @everyone, @here, role and member mentions in the text ping. Off unless an admin
    /// asks for it: every other message Coffer sends pings nobody.
    #[serde(default)]
    pub allow_mentions: bool,
    /// Not posted (nor edited) before this time; `None` = as soon as possible.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// What it announces, e.g. `task:3` (set by `announce_task`).
    #[serde(default)]
    pub origin: Option<String>,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Announcement {
    /// May the reconciler post or edit it at `now`?
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.scheduled_at.is_none_or(|at| at <= now)
    }
}

/// Input for a new announcement. `channel: None` uses the guild's announcement channel;
/// `embed_template` copies a stored template's embed when `embed` is not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewAnnouncement {
    pub title: String,
    pub content: String,
    pub embed: Option<Embed>,
    pub embed_template: Option<u64>,
    pub channel: Option<ChannelId>,
    pub pinned: bool,
    /// Let mentions in the text ping (@everyone, @here, roles, members); default false.
    pub allow_mentions: bool,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub origin: Option<String>,
}

/// An edit: absent fields stay as they are; `"embed": null` / `"scheduled_at": null` clear.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AnnouncementPatch {
    pub title: Option<String>,
    pub content: Option<String>,
    #[serde(deserialize_with = "double_option")]
    pub embed: Option<Option<Embed>>,
    pub channel: Option<ChannelId>,
    pub allow_mentions: Option<bool>,
    #[serde(deserialize_with = "double_option")]
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
}

/// Present-but-null becomes `Some(None)`, so a patch can tell "clear" from "leave alone".
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Checks title, content and embed together; the error names the field.
pub fn validate_announcement(
    title: &str,
    content: &str,
    embed: Option<&Embed>,
) -> Result<(), DomainError> {
    let n = title.trim().chars().count();
    if n == 0 || n > limits::TITLE {
        return Err(DomainError::invalid(
            "title",
            format!("must be 1 to {} characters", limits::TITLE),
        ));
    }
    super::text::check_name("title", title.trim())?;
    validate_content("content", content)?;
    if let Some(e) = embed {
        e.validate("embed.")?;
    }
    if content.trim().is_empty() && embed.is_none() {
        return Err(DomainError::invalid(
            "content",
            "an announcement needs text or an embed",
        ));
    }
    Ok(())
}

/// The plain facts about a task that its announcement shows (the task service fills this in).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAnnouncement {
    pub task_id: u64,
    pub name: String,
    pub description: String,
    pub reward: i64,
    /// Time a member has to finish after claiming.
    pub duration_hours: u32,
    pub currency_name: String,
    pub currency_symbol: String,
    pub max_claims: Option<u32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub category: Option<String>,
    pub role_reward: Option<RoleId>,
}

/// Embed colour for task announcements (Discord blurple).
pub const TASK_COLOR: u32 = 0x5865F2;

/// "90 min", "12 h", "3 days", "1 day 6 h".
pub fn describe_hours(hours: u32) -> String {
    let (d, h) = (hours / 24, hours % 24);
    let days = |d: u32| {
        if d == 1 {
            "1 day".to_owned()
        } else {
            format!("{d} days")
        }
    };
    match (d, h) {
        (0, h) => format!("{h} h"),
        (d, 0) => days(d),
        (d, h) => format!("{} {h} h", days(d)),
    }
}

impl TaskAnnouncement {
    /// A ready-to-post announcement: a title, a one-line content and an embed with the reward,
    /// time limit and other facts as fields. Long text is cut to Discord's limits.
    pub fn to_announcement(&self, channel: Option<ChannelId>) -> NewAnnouncement {
        let name = truncate_chars(self.name.trim(), 200);
        let mut fields = vec![
            EmbedField {
                name: "Reward".into(),
                value: format!(
                    "{} {} {}",
                    self.currency_symbol,
                    group_thousands(self.reward),
                    self.currency_name
                )
                .trim()
                .to_owned(),
                inline: true,
            },
            EmbedField {
                name: "Time to complete".into(),
                value: describe_hours(self.duration_hours),
                inline: true,
            },
        ];
        if let Some(m) = self.max_claims {
            fields.push(inline("Spots", format!("{m}")));
        }
        if let Some(at) = self.expires_at {
            // Discord renders <t:..:R> in each reader's own time zone ("in 3 days").
            fields.push(inline("Open until", format!("<t:{}:R>", at.timestamp())));
        }
        if let Some(c) = self.category.as_deref().filter(|c| !c.trim().is_empty()) {
            fields.push(inline("Category", truncate_chars(c.trim(), 1024)));
        }
        if let Some(r) = self.role_reward {
            fields.push(inline("Role reward", format!("<@&{r}>")));
        }
        let description = self.description.trim();
        let embed = Embed {
            title: Some(format!("📋 {name}")),
            description: (!description.is_empty())
                .then(|| truncate_chars(description, limits::DESCRIPTION)),
            color: Some(TASK_COLOR),
            fields,
            footer: Some(EmbedFooter {
                text: format!(
                    "Task #{} · claim it with /claim {}",
                    self.task_id, self.task_id
                ),
                icon_url: None,
            }),
            ..Embed::default()
        };
        NewAnnouncement {
            title: truncate_chars(&format!("Task #{}: {name}", self.task_id), limits::TITLE),
            content: "A new task is available!".into(),
            embed: Some(embed),
            channel,
            origin: Some(format!("task:{}", self.task_id)),
            ..NewAnnouncement::default()
        }
    }
}

fn inline(name: &str, value: String) -> EmbedField {
    EmbedField {
        name: name.into(),
        value,
        inline: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_announcement_needs_a_title_and_text_or_an_embed() {
        validate_announcement("Hi", "hello", None).unwrap();
        let e = validate_announcement("", "hello", None).unwrap_err();
        assert!(e.to_string().starts_with("title:"), "{e}");
        let e = validate_announcement("Hi", "  ", None).unwrap_err();
        assert!(e.to_string().starts_with("content:"), "{e}");
        let e = validate_announcement("Hi", &"x".repeat(2001), None).unwrap_err();
        assert!(e.to_string().starts_with("content:"), "{e}");
        let bad = Embed {
            title: Some("x".repeat(257)),
            ..Embed::default()
        };
        let e = validate_announcement("Hi", "", Some(&bad)).unwrap_err();
        assert!(e.to_string().starts_with("embed.title:"), "{e}");
    }

    #[test]
    fn a_patch_tells_clearing_from_leaving_alone() {
        let p: AnnouncementPatch = serde_json::from_str(r#"{"embed": null}"#).unwrap();
        assert_eq!(p.embed, Some(None));
        assert_eq!(p.scheduled_at, None);
        let p: AnnouncementPatch = serde_json::from_str(r#"{"title": "x"}"#).unwrap();
        assert_eq!(p.embed, None);
        assert!(serde_json::from_str::<AnnouncementPatch>(r#"{"pinned": true}"#).is_err());
    }

    #[test]
    fn a_scheduled_announcement_is_due_only_from_its_time() {
        let now = Utc::now();
        let mut a = Announcement {
            id: 1,
            title: "t".into(),
            content: "c".into(),
            embed: None,
            channel: ChannelId(1),
            pinned: false,
            allow_mentions: false,
            scheduled_at: Some(now + chrono::Duration::minutes(5)),
            origin: None,
            created_by: Actor::System,
            created_at: now,
            updated_at: now,
        };
        assert!(!a.is_due(now));
        assert!(a.is_due(now + chrono::Duration::minutes(5)));
        a.scheduled_at = None;
        assert!(a.is_due(now));
    }

    #[test]
    fn task_announcement_shows_reward_time_and_how_to_claim() {
        let t = TaskAnnouncement {
            task_id: 7,
            name: "Design a logo".into(),
            description: "Make us a logo.".into(),
            reward: 12_500,
            duration_hours: 30,
            currency_name: "coins".into(),
            currency_symbol: "🪙".into(),
            max_claims: Some(3),
            role_reward: Some(RoleId(42)),
            ..TaskAnnouncement::default()
        };
        let a = t.to_announcement(Some(ChannelId(9)));
        assert_eq!(a.title, "Task #7: Design a logo");
        assert_eq!(a.origin.as_deref(), Some("task:7"));
        let e = a.embed.clone().unwrap();
        assert_eq!(e.title.as_deref(), Some("📋 Design a logo"));
        let fields: Vec<(&str, &str)> = e
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("Reward", "🪙 12,500 coins"),
                ("Time to complete", "1 day 6 h"),
                ("Spots", "3"),
                ("Role reward", "<@&42>"),
            ]
        );
        assert!(e.footer.unwrap().text.contains("/claim 7"));
        validate_announcement(&a.title, &a.content, a.embed.as_ref()).unwrap();
    }

    #[test]
    fn task_announcement_cuts_huge_text_to_fit_discord() {
        let t = TaskAnnouncement {
            task_id: 1,
            name: "n".repeat(1000),
            description: "d".repeat(10_000),
            reward: 1,
            duration_hours: 1,
            currency_name: "coins".into(),
            ..TaskAnnouncement::default()
        };
        let a = t.to_announcement(None);
        validate_announcement(&a.title, &a.content, a.embed.as_ref()).unwrap();
    }

    #[test]
    fn hours_read_naturally() {
        assert_eq!(describe_hours(5), "5 h");
        assert_eq!(describe_hours(24), "1 day");
        assert_eq!(describe_hours(72), "3 days");
        assert_eq!(describe_hours(49), "2 days 1 h");
    }
}
