//! JSON payloads shared by the fake's REST answers and injected interactions: users, members,
//! messages, and the options' resolved users.

use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use super::{Invoker, State, APP_ID, BOT_ID, CHANNEL_ID, GUILD_ID};

pub(super) fn user_json(id: u64, name: &str) -> Value {
    json!({ "id": id.to_string(), "username": name, "discriminator": "0", "global_name": name, "avatar": null })
}

/// Calls `f` with every user id in options of type 6 (USER), at any depth.
pub(super) fn collect_users(options: &Value, f: &mut impl FnMut(u64)) {
    for o in options.as_array().into_iter().flatten() {
        if o["type"] == json!(6) {
            if let Some(id) = o["value"].as_str().and_then(|v| v.parse().ok()) {
                f(id);
            }
        }
        collect_users(&o["options"], f);
    }
}

/// A new bot message in the fake's channel, kept there so later edits and deletes find it.
pub(super) fn message_json(state: &State) -> Value {
    bot_message(state, CHANNEL_ID)
}

/// A new, empty bot message in `channel` with a fresh snowflake, kept in the channel.
pub(super) fn bot_message(state: &State, channel: u64) -> Value {
    let id = state.next_id.fetch_add(1, Ordering::SeqCst);
    let m = json!({
        "id": id.to_string(), "channel_id": channel.to_string(),
        "author": user_json(BOT_ID, "Coffer"), "content": "", "timestamp": "2026-01-01T00:00:00Z",
        "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [],
        "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0, "flags": 0
    });
    state
        .messages
        .lock()
        .unwrap()
        .entry(channel)
        .or_default()
        .insert(id, m.clone());
    m
}

/// An INTERACTION_CREATE payload of `kind` (2 command, 3 component) in the fake guild, with
/// every field serenity 0.12.5 requires (`attachment_size_limit` among them).
pub(super) fn interaction_json(
    id: u64,
    token: &str,
    who: &Invoker,
    kind: u8,
    data: Value,
) -> Value {
    json!({
        "id": id.to_string(),
        "application_id": APP_ID.to_string(),
        "type": kind,
        "data": data,
        "guild_id": GUILD_ID.to_string(),
        "channel_id": CHANNEL_ID.to_string(),
        "channel": { "id": CHANNEL_ID.to_string(), "type": 0, "name": "general" },
        "member": {
            "user": user_json(who.id, &who.name),
            "roles": who.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "joined_at": "2024-01-01T00:00:00Z",
            "deaf": false, "mute": false, "flags": 0, "pending": false,
            "permissions": who.permissions.to_string(),
        },
        "token": token,
        "version": 1,
        "app_permissions": "2248473465835073",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": { "0": GUILD_ID.to_string() },
        "context": 0,
        "attachment_size_limit": 10485760,
    })
}
