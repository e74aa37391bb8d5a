//! Channel messages as Discord keeps them: a create makes a new snowflake (or, with
//! `enforce_nonce`, answers a repeated nonce with the first message), edits, deletes and pins
//! need the message to exist (404 `{"code": 10008, "message": "Unknown Message"}` otherwise).

use serde_json::{json, Value};

use super::payloads::bot_message;
use super::{FakeDiscord, State};

/// Discord's JSON error code for a message that does not exist.
pub const UNKNOWN_MESSAGE: i64 = 10008;

fn unknown_message() -> (u16, Value) {
    (
        404,
        json!({"message": "Unknown Message", "code": UNKNOWN_MESSAGE}),
    )
}

/// Fields of a create or edit body the stored message takes over.
const MESSAGE_FIELDS: [&str; 4] = ["content", "embeds", "components", "flags"];

/// Answers `/channels/{channel}/...` message routes; `None` leaves the fake's 404.
pub(super) fn answer(
    state: &State,
    method: &str,
    parts: &[&str],
    body: &Value,
) -> Option<(u16, Value)> {
    let channel: u64 = parts.get(1)?.parse().ok()?;
    match (method, parts) {
        ("POST", [_, _, "messages"]) => Some(create(state, channel, body)),
        ("GET", [_, _, "messages", id]) => {
            let id: u64 = id.parse().ok()?;
            Some(with_message(state, channel, id, |m| (200, m.clone())))
        }
        ("PATCH", [_, _, "messages", id]) => {
            let id: u64 = id.parse().ok()?;
            Some(with_message(state, channel, id, |m| {
                for k in MESSAGE_FIELDS {
                    if let Some(v) = body.get(k) {
                        m[k] = v.clone();
                    }
                }
                m["edited_timestamp"] = json!("2026-01-01T00:00:01Z");
                (200, m.clone())
            }))
        }
        ("DELETE", [_, _, "messages", id]) => {
            let id: u64 = id.parse().ok()?;
            let removed = state
                .messages
                .lock()
                .unwrap()
                .get_mut(&channel)
                .and_then(|c| c.remove(&id));
            Some(match removed {
                Some(_) => (204, Value::Null),
                None => unknown_message(),
            })
        }
        ("PUT" | "DELETE", [_, _, "pins", id]) => {
            let id: u64 = id.parse().ok()?;
            let pinned = method == "PUT";
            Some(with_message(state, channel, id, |m| {
                m["pinned"] = json!(pinned);
                (204, Value::Null)
            }))
        }
        _ => None,
    }
}

fn with_message(
    state: &State,
    channel: u64,
    id: u64,
    f: impl FnOnce(&mut Value) -> (u16, Value),
) -> (u16, Value) {
    let mut messages = state.messages.lock().unwrap();
    match messages.get_mut(&channel).and_then(|c| c.get_mut(&id)) {
        Some(m) => f(m),
        None => unknown_message(),
    }
}

/// A nonce as Discord takes it: a string or an integer.
fn nonce(body: &Value) -> Option<String> {
    match &body["nonce"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn create(state: &State, channel: u64, body: &Value) -> (u16, Value) {
    let nonce = nonce(body);
    let enforced = body["enforce_nonce"] == json!(true);
    if let (Some(n), true) = (&nonce, enforced) {
        let first = state
            .nonces
            .lock()
            .unwrap()
            .get(&(channel, n.clone()))
            .copied();
        if let Some(id) = first {
            let messages = state.messages.lock().unwrap();
            if let Some(m) = messages.get(&channel).and_then(|c| c.get(&id)) {
                return (200, m.clone());
            }
        }
    }
    let mut m = bot_message(state, channel);
    for k in MESSAGE_FIELDS {
        if let Some(v) = body.get(k) {
            m[k] = v.clone();
        }
    }
    if let Some(n) = &nonce {
        m["nonce"] = json!(n);
    }
    let id: u64 = m["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    state
        .messages
        .lock()
        .unwrap()
        .entry(channel)
        .or_default()
        .insert(id, m.clone());
    if let (Some(n), true) = (nonce, enforced) {
        state.nonces.lock().unwrap().insert((channel, n), id);
    }
    (200, m)
}

impl FakeDiscord {
    /// The messages in `channel` now, oldest first.
    pub fn messages(&self, channel: u64) -> Vec<Value> {
        self.state
            .messages
            .lock()
            .unwrap()
            .get(&channel)
            .map(|c| c.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The message `id` in `channel`, if it exists.
    pub fn message(&self, channel: u64, id: u64) -> Option<Value> {
        self.state
            .messages
            .lock()
            .unwrap()
            .get(&channel)
            .and_then(|c| c.get(&id).cloned())
    }

    /// Deletes a message as a member or moderator would in the Discord client.
    pub fn delete_by_hand(&self, channel: u64, id: u64) -> bool {
        let removed = self
            .state
            .messages
            .lock()
            .unwrap()
            .get_mut(&channel)
            .and_then(|c| c.remove(&id))
            .is_some();
        self.state.changed.notify_waiters();
        removed
    }
}
