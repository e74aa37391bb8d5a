//! The fake gateway: HELLO, IDENTIFY, READY and GUILD_CREATE, heartbeat ACKs, then whatever
//! the test dispatches. READY and GUILD_CREATE are parsed with serenity's types before sending.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use poise::serenity_prelude as serenity;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::{
    State, ADMIN_ROLE_ID, APP_ID, BOT_ID, CHANNEL_ID, GUILD_ID, NEWS_CHANNEL_ID, OWNER_ID,
};

pub(super) async fn gateway_accept(listener: TcpListener, state: Arc<State>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        tokio::spawn(async move {
            if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                gateway_session(ws, state).await;
            }
        });
    }
}

async fn gateway_session(
    ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    state: Arc<State>,
) {
    let (mut sink, mut stream) = ws.split();
    let send = |v: Value| Message::Text(v.to_string());
    if sink
        .send(send(json!({"op": 10, "d": {"heartbeat_interval": 41250}})))
        .await
        .is_err()
    {
        return;
    }
    // Wait for IDENTIFY.
    let shard: Value;
    loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                record(&state, &v);
                if v["op"] == json!(2) {
                    shard = v["d"]["shard"].clone();
                    state.identifies.lock().unwrap().push(v);
                    state.changed.notify_waiters();
                    break;
                }
                if v["op"] == json!(1) {
                    let _ = sink.send(send(json!({"op": 11}))).await;
                }
            }
            Some(Ok(_)) => {}
            _ => return,
        }
    }
    let close_code = *state.close_code.lock().unwrap();
    if let Some(code) = close_code {
        let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: code.into(),
            reason: "closed by the fake".into(),
        };
        let _ = sink.send(Message::Close(Some(frame))).await;
        return;
    }
    let shard = if shard.is_array() {
        shard
    } else {
        json!([0, 1])
    };
    let first_shard = shard[0] == json!(0);
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let mut queue: VecDeque<Value> = VecDeque::new();
    queue.push_back(json!({"t": "READY", "d": ready_json(&state, &shard)}));
    if first_shard {
        queue.push_back(json!({"t": "GUILD_CREATE", "d": guild_json()}));
    }
    let mut seq = 0u64;
    for ev in queue {
        seq += 1;
        let msg = json!({"op": 0, "s": seq, "t": ev["t"], "d": ev["d"]});
        if sink.send(send(msg)).await.is_err() {
            return;
        }
    }
    if first_shard {
        *state.session.lock().unwrap() = Some(tx);
    }
    state.changed.notify_waiters();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).unwrap_or(Value::Null);
                    record(&state, &v);
                    if v["op"] == json!(1) && sink.send(send(json!({"op": 11}))).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            ev = rx.recv() => match ev {
                Some(ev) => {
                    seq += 1;
                    let msg = json!({"op": 0, "s": seq, "t": ev["t"], "d": ev["d"]});
                    if sink.send(send(msg)).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
        }
    }
}

/// Keeps every frame but heartbeats, and wakes `wait_until`.
fn record(state: &State, frame: &Value) {
    if frame["op"] != json!(1) {
        state.frames.lock().unwrap().push(frame.clone());
        state.changed.notify_waiters();
    }
}

fn ready_json(state: &State, shard: &Value) -> Value {
    let d = json!({
        "v": 10,
        "user": { "id": BOT_ID.to_string(), "username": "Coffer", "discriminator": "0", "bot": true, "avatar": null },
        "guilds": if shard[0] == json!(0) { json!([{ "id": GUILD_ID.to_string(), "unavailable": true }]) } else { json!([]) },
        "session_id": "fake-session",
        "resume_gateway_url": state.gateway_url.lock().unwrap().clone(),
        "shard": shard,
        "application": { "id": APP_ID.to_string(), "flags": 0 },
    });
    serde_json::from_value::<serenity::Ready>(d.clone())
        .unwrap_or_else(|e| panic!("serenity would drop this READY: {e}"));
    d
}

fn role_json(id: u64, name: &str, permissions: u64, position: u16) -> Value {
    json!({
        "id": id.to_string(), "name": name, "color": 0,
        "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
        "hoist": false, "icon": null, "unicode_emoji": null, "position": position,
        "permissions": permissions.to_string(), "managed": false, "mentionable": false, "flags": 0
    })
}

/// The guild the bot is in: an owner, @everyone and a "Coffer Admin" role.
pub fn guild_json() -> Value {
    let d = json!({
        "id": GUILD_ID.to_string(),
        "name": "Fake Guild",
        "icon": null, "icon_hash": null, "splash": null, "discovery_splash": null,
        "owner_id": OWNER_ID.to_string(),
        "afk_channel_id": null, "afk_timeout": 300,
        "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
        "roles": [
            role_json(GUILD_ID, "@everyone", 3072, 0),
            role_json(ADMIN_ROLE_ID, "Coffer Admin", 3072, 1),
            // The roles the task scenarios use as moderator role and reward: a reward role must
            // exist on the server (Coffer refuses one it does not know).
            role_json(800_000_000_000_000_300, "Moderator", 0, 2),
            role_json(800_000_000_000_000_500, "Logo artist", 0, 3),
        ],
        "emojis": [], "features": [], "mfa_level": 0, "application_id": null,
        "system_channel_id": null, "system_channel_flags": 0, "rules_channel_id": null,
        "vanity_url_code": null, "description": null, "banner": null, "premium_tier": 0,
        "premium_subscription_count": 0, "preferred_locale": "en-US",
        "public_updates_channel_id": null, "nsfw_level": 0, "stickers": [],
        "premium_progress_bar_enabled": false, "safety_alerts_channel_id": null,
        "joined_at": "2024-01-01T00:00:00Z", "large": false, "unavailable": false,
        "member_count": 3, "voice_states": [], "members": [], "channels": [
            { "id": CHANNEL_ID.to_string(), "type": 0, "guild_id": GUILD_ID.to_string(), "name": "general",
              "position": 0, "permission_overwrites": [], "nsfw": false, "parent_id": null },
            // An announcement channel the API may name (ids typed into the API are checked
            // against the server's channel list).
            { "id": NEWS_CHANNEL_ID.to_string(), "type": 5, "guild_id": GUILD_ID.to_string(), "name": "news",
              "position": 1, "permission_overwrites": [], "nsfw": false, "parent_id": null }
        ],
        "threads": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
        "incidents_data": null,
    });
    serde_json::from_value::<serenity::Guild>(d.clone())
        .unwrap_or_else(|e| panic!("serenity would drop this GUILD_CREATE: {e}"));
    d
}
