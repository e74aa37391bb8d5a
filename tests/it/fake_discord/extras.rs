//! Additions to the fake for messages Coffer sends on its own and richer interactions: channel
//! messages (see `messages`), DM channels, member role changes; commands with resolved roles,
//! channels and attachments, autocomplete requests, modal submissions, and raw callbacks.

use poise::serenity_prelude as serenity;
use serde_json::{json, Map, Value};

use super::payloads::{interaction_json, message_json, user_json};
use super::{FakeDiscord, Invoker, RestCall, State, GUILD_ID};

/// The DM channel the fake opens with a user: `user + DM_OFFSET`, so tests can predict it.
pub const DM_OFFSET: u64 = 9_000_000_000_000_000_000;

/// The DM channel id for `user`.
pub fn dm_channel(user: u64) -> u64 {
    user + DM_OFFSET
}

/// Answers the routes the base fake doesn't know; `None` leaves the 404.
pub(super) fn answer(
    state: &State,
    method: &str,
    parts: &[&str],
    body: &Value,
) -> Option<(u16, Value)> {
    match (method, parts) {
        ("POST" | "PATCH" | "DELETE" | "GET" | "PUT", ["channels", ..]) => {
            super::messages::answer(state, method, parts, body)
        }
        ("POST", ["users", "@me", "channels"]) => {
            let user: u64 = body["recipient_id"].as_str()?.parse().ok()?;
            Some((
                200,
                json!({
                    "id": dm_channel(user).to_string(), "type": 1, "last_message_id": null,
                    "recipients": [user_json(user, &format!("user{user}"))]
                }),
            ))
        }
        ("PUT", ["guilds", _, "members", _, "roles", _]) => Some((204, Value::Null)),
        _ => None,
    }
}

/// A role object as Discord sends it.
pub fn role_json(id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(), "name": name, "color": 0,
        "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
        "hoist": false, "icon": null, "unicode_emoji": null, "position": 1,
        "permissions": "0", "managed": false, "mentionable": false, "flags": 0
    })
}

/// An attachment option value and its resolved object.
#[derive(Debug, Clone)]
pub struct FakeAttachment {
    pub id: u64,
    pub url: String,
}

/// Builds `resolved` for every user (6), channel (7), role (8) and attachment (11) option.
fn resolved(options: &Value, attachments: &[FakeAttachment]) -> Value {
    let (mut users, mut members, mut channels, mut roles, mut files) =
        (Map::new(), Map::new(), Map::new(), Map::new(), Map::new());
    fn walk(o: &Value, f: &mut dyn FnMut(u64, &str)) {
        for opt in o.as_array().into_iter().flatten() {
            if let (Some(t), Some(v)) = (opt["type"].as_u64(), opt["value"].as_str()) {
                if let Ok(id) = v.parse::<u64>() {
                    let kind = match t {
                        6 => "user",
                        7 => "channel",
                        8 => "role",
                        11 => "attachment",
                        _ => "",
                    };
                    f(id, kind);
                }
            }
            walk(&opt["options"], f);
        }
    }
    walk(options, &mut |id, kind| match kind {
        "user" => {
            users.insert(id.to_string(), user_json(id, &format!("user{id}")));
            members.insert(
                id.to_string(),
                json!({"roles": [], "joined_at": "2024-01-01T00:00:00Z", "deaf": false, "mute": false,
                       "flags": 0, "pending": false, "permissions": "3072"}),
            );
        }
        "channel" => {
            channels.insert(
                id.to_string(),
                json!({"id": id.to_string(), "name": format!("channel{id}"), "type": 0, "permissions": "3072"}),
            );
        }
        "role" => {
            roles.insert(id.to_string(), role_json(id, &format!("role{id}")));
        }
        "attachment" => {
            if let Some(a) = attachments.iter().find(|a| a.id == id) {
                files.insert(
                    id.to_string(),
                    json!({"id": id.to_string(), "filename": "proof.png", "size": 1234,
                           "url": a.url, "proxy_url": a.url, "content_type": "image/png",
                           "height": 10, "width": 10}),
                );
            }
        }
        _ => {}
    });
    json!({"users": users, "members": members, "channels": channels, "roles": roles, "attachments": files})
}

impl FakeDiscord {
    fn send_interaction(
        &self,
        who: &Invoker,
        kind: u8,
        data: Value,
        message: Option<Value>,
    ) -> String {
        let id = self.next_id();
        let token = format!("tok-{id}");
        let mut d = interaction_json(id, &token, who, kind, data);
        if let Some(m) = message {
            d["message"] = m;
        }
        serde_json::from_value::<serenity::Interaction>(d.clone())
            .unwrap_or_else(|e| panic!("serenity would drop this INTERACTION_CREATE: {e}\n{d:#}"));
        if kind == 2 {
            self.refuse_too_long_options(
                d["data"]["name"].as_str().unwrap_or(""),
                &d["data"]["options"],
            );
        }
        self.sent(&token);
        self.dispatch("INTERACTION_CREATE", d);
        token
    }

    /// A slash command whose options may hold users, channels, roles and attachments.
    pub fn command(
        &self,
        who: &Invoker,
        name: &str,
        options: Value,
        attachments: &[FakeAttachment],
    ) -> String {
        let data = json!({
            "id": "600000000000000001", "name": name, "type": 1,
            "options": options, "resolved": resolved(&options, attachments),
        });
        self.send_interaction(who, 2, data, None)
    }

    /// Submits the modal `custom_id` with text inputs `fields`, opened from a bot message.
    pub fn submit_modal(&self, who: &Invoker, custom_id: &str, fields: &[(&str, &str)]) -> String {
        let rows: Vec<Value> = fields
            .iter()
            .map(|(id, value)| json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]}))
            .collect();
        let data = json!({"custom_id": custom_id, "components": rows});
        let message = message_json(&self.state);
        self.send_interaction(who, 5, data, Some(message))
    }

    /// The first successful interaction callback for `token` (any type), waiting for it.
    pub async fn callback(&self, token: &str) -> RestCall {
        let find = |f: &FakeDiscord| {
            f.calls()
                .into_iter()
                .find(|c| c.path.contains(token) && c.path.ends_with("/callback") && c.status < 300)
        };
        self.wait_until(
            &format!("a callback for {token}"),
            std::time::Duration::from_secs(10),
            |f| find(f).is_some(),
        )
        .await;
        find(self).expect("callback present")
    }

    /// Messages Coffer posted in `channel` (successful or not), oldest first.
    pub fn channel_posts(&self, channel: u64) -> Vec<RestCall> {
        self.calls_to("POST", &format!("/api/v10/channels/{channel}/messages"))
    }

    /// DMs Coffer tried to send to `user`.
    pub fn dms_to(&self, user: u64) -> Vec<RestCall> {
        self.channel_posts(dm_channel(user))
    }

    /// Role additions Coffer asked for.
    pub fn role_puts(&self, user: u64, role: u64) -> Vec<RestCall> {
        self.calls_to(
            "PUT",
            &format!("/api/v10/guilds/{GUILD_ID}/members/{user}/roles/{role}"),
        )
    }
}
