//! A fake Discord on 127.0.0.1: REST (axum) and the gateway websocket (tokio-tungstenite), on
//! random ports. It answers what serenity, poise and Coffer call, records every REST call, can
//! script error answers (404/429/5xx), and pushes READY, GUILD_CREATE and injected interactions.
//! Every gateway payload is first parsed with serenity's own types, so a payload serenity would
//! silently drop fails the test here instead.

use std::sync::atomic::{AtomicU64, Ordering};

/// Where the next fake's block of snowflake ids starts.
static ID_BLOCKS: AtomicU64 = AtomicU64::new(1_000_000_000_000_000_000);
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use poise::serenity_prelude as serenity;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Notify};

mod extras;
mod gateway;
mod messages;
mod payloads;
pub mod rules;

pub use extras::{dm_channel, FakeAttachment};
pub use gateway::guild_json;

use payloads::{collect_users, interaction_json, message_json, user_json};

pub const APP_ID: u64 = 900_000_000_000_000_001;
pub const BOT_ID: u64 = 900_000_000_000_000_002;
pub const GUILD_ID: u64 = 800_000_000_000_000_001;
pub const OWNER_ID: u64 = 700_000_000_000_000_001;
pub const CHANNEL_ID: u64 = 800_000_000_000_000_100;
/// The announcement channel listed in GUILD_CREATE.
pub const NEWS_CHANNEL_ID: u64 = 800_000_000_000_000_600;
pub const ADMIN_ROLE_ID: u64 = 800_000_000_000_000_200;

/// One REST call as the fake saw it.
#[derive(Debug, Clone)]
pub struct RestCall {
    pub method: String,
    pub path: String,
    pub body: Value,
    /// The status the fake answered.
    pub status: u16,
    pub at: std::time::Instant,
}

/// A scripted answer: the next `times` calls matching `method` and `path_contains` get it.
#[derive(Debug, Clone)]
struct Script {
    method: String,
    path_contains: String,
    status: u16,
    body: Value,
    times: u32,
}

#[derive(Default)]
struct State {
    calls: Mutex<Vec<RestCall>>,
    changed: Notify,
    scripts: Mutex<Vec<Script>>,
    gateway_url: Mutex<String>,
    session: Mutex<Option<mpsc::UnboundedSender<Value>>>,
    identifies: Mutex<Vec<Value>>,
    /// Every gateway frame the bot sent except heartbeats, in order (all sessions).
    frames: Mutex<Vec<Value>>,
    next_id: AtomicU64,
    /// Channel messages as Discord keeps them: channel -> message id -> message.
    messages: Mutex<std::collections::BTreeMap<u64, std::collections::BTreeMap<u64, Value>>>,
    /// `(channel, nonce)` of creates sent with `enforce_nonce` -> the message they made.
    nonces: Mutex<std::collections::HashMap<(u64, String), u64>>,
    /// Message creates still to be carried out but answered 502, as if the response was lost.
    lost_creates: Mutex<u32>,
    /// Interactions sent, by token: when, and whether they were acknowledged.
    interactions: Mutex<std::collections::HashMap<String, rules::Sent>>,
    /// Interaction callbacks still to be carried out but answered 502.
    lost_callbacks: Mutex<u32>,
    /// Defer callbacks (types 5 and 6) still to be refused with a 500, not carried out.
    refused_defers: Mutex<u32>,
    /// Rate-limit buckets the fake enforces.
    buckets: Mutex<Vec<rules::Bucket>>,
    /// Every command set registered, in order (global and guild PUTs alike).
    registered: Mutex<Vec<Value>>,
    /// The application's flags (`GET /oauth2/applications/@me`).
    app_flags: Mutex<u64>,
    /// The shard count `GET /gateway/bot` recommends.
    shards: Mutex<u32>,
    /// A gateway close code sent right after IDENTIFY instead of READY.
    close_code: Mutex<Option<u16>>,
}

/// GATEWAY_GUILD_MEMBERS_LIMITED: Server Members Intent enabled for a bot in under 100 servers.
pub const MEMBERS_INTENT_LIMITED: u64 = 1 << 15;

/// A running fake. Dropping it stops both servers.
pub struct FakeDiscord {
    pub base_url: String,
    state: Arc<State>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Who invokes a command in an injected interaction.
#[derive(Debug, Clone)]
pub struct Invoker {
    pub id: u64,
    pub name: String,
    pub roles: Vec<u64>,
    /// Resolved permissions in the channel (a bit set, as Discord sends it).
    pub permissions: u64,
}

impl Invoker {
    /// A plain member: Send Messages and View Channel only.
    pub fn member(id: u64, name: &str) -> Invoker {
        Invoker {
            id,
            name: name.into(),
            roles: vec![],
            permissions: (1 << 10) | (1 << 11),
        }
    }
}

/// What the bot answered to one interaction.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Every REST call made with the interaction's token, in order.
    pub calls: Vec<RestCall>,
    /// The body of the message that answers (callback data, edit or follow-up).
    pub message: Value,
    /// Whether the message is visible only to the invoker.
    pub ephemeral: bool,
}

/// The custom ids of every button on a message body, in order.
pub fn button_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

impl Answer {
    /// The custom ids of every button on the message, in order.
    pub fn button_ids(&self) -> Vec<String> {
        button_ids(&self.message)
    }

    /// Content plus every embed's title, description, fields and footer, for assertions.
    pub fn text(&self) -> String {
        let mut out = self.message["content"].as_str().unwrap_or("").to_owned();
        for e in self.message["embeds"].as_array().into_iter().flatten() {
            for key in ["title", "description"] {
                if let Some(s) = e[key].as_str() {
                    out.push('\n');
                    out.push_str(s);
                }
            }
            for f in e["fields"].as_array().into_iter().flatten() {
                out.push_str(&format!("\n{}: {}", f["name"], f["value"]));
            }
            if let Some(s) = e["footer"]["text"].as_str() {
                out.push('\n');
                out.push_str(s);
            }
        }
        out
    }
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let state = Arc::new(State {
            // Snowflakes are unique across Discord, not per connection: every fake in this
            // process takes its ids from one counter, so a restarted app never sees an
            // interaction id again (interaction ids are idempotency keys).
            next_id: AtomicU64::new(ID_BLOCKS.fetch_add(1_000_000_000, Ordering::SeqCst)),
            app_flags: Mutex::new(MEMBERS_INTENT_LIMITED),
            shards: Mutex::new(1),
            ..State::default()
        });
        let rest = TcpListener::bind("127.0.0.1:0").await.expect("bind rest");
        let gw = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let base_url = format!("http://{}", rest.local_addr().expect("addr"));
        *state.gateway_url.lock().unwrap() = format!("ws://{}", gw.local_addr().expect("addr"));
        let app = axum::Router::new().fallback({
            let state = state.clone();
            move |method: Method, uri: Uri, body: Bytes| {
                let state = state.clone();
                async move { rest_call(&state, method, uri, body) }
            }
        });
        let rest_task = tokio::spawn(async move {
            let _ = axum::serve(rest, app).await;
        });
        let gw_task = tokio::spawn(gateway::gateway_accept(gw, state.clone()));
        FakeDiscord {
            base_url,
            state,
            tasks: vec![rest_task, gw_task],
        }
    }

    /// Every REST call so far.
    pub fn calls(&self) -> Vec<RestCall> {
        self.state.calls.lock().unwrap().clone()
    }

    /// REST calls whose method is `method` and whose path contains `part`.
    pub fn calls_to(&self, method: &str, part: &str) -> Vec<RestCall> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method && c.path.contains(part))
            .collect()
    }

    /// The next `times` calls matching get `status` with `body`.
    pub fn script(&self, method: &str, path_contains: &str, status: u16, body: Value, times: u32) {
        self.state.scripts.lock().unwrap().push(Script {
            method: method.into(),
            path_contains: path_contains.into(),
            status,
            body,
            times,
        });
    }

    /// The next `times` channel message creates are carried out but answered 502, as when
    /// Discord posted the message and the response was lost on the way (0 stops it).
    pub fn lose_create_responses(&self, times: u32) {
        *self.state.lost_creates.lock().unwrap() = times;
    }

    /// IDENTIFY payloads received on the gateway.
    pub fn identifies(&self) -> Vec<Value> {
        self.state.identifies.lock().unwrap().clone()
    }

    /// Gateway frames with opcode `op` the bot sent (heartbeats are not recorded).
    pub fn gateway_frames(&self, op: u64) -> Vec<Value> {
        self.state
            .frames
            .lock()
            .unwrap()
            .iter()
            .filter(|f| f["op"] == json!(op))
            .cloned()
            .collect()
    }

    /// Waits until `cond` holds over the recorded state (REST calls, identifies), or panics
    /// after `timeout` with `what`.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&FakeDiscord) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.changed.notified();
            if cond(self) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let logs = crate::support::logs();
                let tail: Vec<&str> = logs
                    .lines()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                assert!(
                    cond(self),
                    "timed out waiting for {what}; REST calls: {:#?}\nlast log lines:\n{}",
                    self.calls(),
                    tail.join("\n")
                );
                return;
            }
            // The tick covers a notification that raced the check above.
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
    }

    /// Waits for the bot's IDENTIFY and for READY and GUILD_CREATE to be sent.
    pub async fn wait_identified(&self) {
        self.wait_until("IDENTIFY", Duration::from_secs(15), |f| {
            !f.identifies().is_empty() && f.state.session.lock().unwrap().is_some()
        })
        .await;
    }

    fn next_id(&self) -> u64 {
        self.state.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// Sends a slash-command interaction; returns its token.
    pub fn slash(&self, who: &Invoker, name: &str, options: Value) -> String {
        self.slash_in(GUILD_ID, who, name, options)
    }

    /// Sends a slash-command interaction from `guild`; returns its token.
    pub fn slash_in(&self, guild: u64, who: &Invoker, name: &str, options: Value) -> String {
        self.command_interaction(guild, 2, who, name, options)
    }

    /// Sends an autocomplete interaction (mark the typed option `"focused": true`); returns its
    /// token. See [`FakeDiscord::choices`].
    pub fn autocomplete(&self, who: &Invoker, name: &str, options: Value) -> String {
        self.command_interaction(GUILD_ID, 4, who, name, options)
    }

    fn command_interaction(
        &self,
        guild: u64,
        kind: u8,
        who: &Invoker,
        name: &str,
        options: Value,
    ) -> String {
        let id = self.next_id();
        let token = format!("tok-{id}");
        let mut users = serde_json::Map::new();
        let mut members = serde_json::Map::new();
        collect_users(&options, &mut |uid| {
            users.insert(uid.to_string(), user_json(uid, &format!("user{uid}")));
            members.insert(
                uid.to_string(),
                json!({
                    "roles": [], "joined_at": "2024-01-01T00:00:00Z", "deaf": false, "mute": false,
                    "flags": 0, "pending": false, "permissions": "3072"
                }),
            );
        });
        let data = json!({
            "id": "600000000000000001",
            "name": name,
            "type": 1,
            "options": options,
            "resolved": { "users": users, "members": members },
        });
        let mut d = interaction_json(id, &token, who, kind, data);
        d["guild_id"] = json!(guild.to_string());
        d["authorizing_integration_owners"] = json!({ "0": guild.to_string() });
        serde_json::from_value::<serenity::Interaction>(d.clone())
            .unwrap_or_else(|e| panic!("serenity would drop this INTERACTION_CREATE: {e}\n{d:#}"));
        self.refuse_too_long_options(name, &options);
        self.sent(&token);
        self.dispatch("INTERACTION_CREATE", d);
        token
    }

    /// Panics on a string option longer than the registered command allows: Discord's client
    /// would not send it.
    fn refuse_too_long_options(&self, name: &str, options: &Value) {
        let registered = self.state.registered.lock().unwrap().clone();
        let command = registered
            .iter()
            .rev()
            .flat_map(|set| set.as_array().cloned().unwrap_or_default())
            .find(|c| c["name"] == name);
        if let Some(c) = command {
            let bad = rules::too_long_options(&c, options);
            assert!(
                bad.is_empty(),
                "Discord would not send /{name}: options over max_length: {bad:?}"
            );
        }
    }

    /// Notes that the interaction with `token` is sent now (its 3 s deadline starts).
    fn sent(&self, token: &str) {
        self.state.interactions.lock().unwrap().insert(
            token.to_owned(),
            rules::Sent {
                at: std::time::Instant::now(),
                acknowledged: false,
            },
        );
    }

    /// When the interaction with `token` was sent to the bot.
    pub fn sent_at(&self, token: &str) -> std::time::Instant {
        self.state.interactions.lock().unwrap()[token].at
    }

    /// The next `times` interaction callbacks are carried out but answered 502, as when the
    /// response is lost on the way.
    pub fn lose_callback_responses(&self, times: u32) {
        *self.state.lost_callbacks.lock().unwrap() = times;
    }

    /// The next `times` defer callbacks (types 5 and 6) are refused with a 500.
    pub fn refuse_defers(&self, times: u32) {
        *self.state.refused_defers.lock().unwrap() = times;
    }

    /// Calls matching `method` and `path_contains` share a bucket of `limit` per `window`,
    /// announced in `X-RateLimit-*` headers; past it, 429.
    pub fn rate_limit(&self, method: &str, path_contains: &str, limit: u32, window: Duration) {
        self.state.buckets.lock().unwrap().push(rules::Bucket {
            method: method.into(),
            path_contains: path_contains.into(),
            limit,
            window,
            started: None,
            used: 0,
        });
    }

    /// The application flags Discord reports (Server Members Intent limited by default).
    pub fn set_app_flags(&self, flags: u64) {
        *self.state.app_flags.lock().unwrap() = flags;
    }

    /// The shard count `GET /gateway/bot` recommends.
    pub fn set_shards(&self, shards: u32) {
        *self.state.shards.lock().unwrap() = shards;
    }

    /// Every gateway session is closed with `code` right after IDENTIFY.
    pub fn close_gateway_with(&self, code: u16) {
        *self.state.close_code.lock().unwrap() = Some(code);
    }

    /// The autocomplete choices the bot answered to the interaction with `token`.
    pub async fn choices(&self, token: &str) -> Vec<Value> {
        let find = |f: &FakeDiscord| -> Option<Vec<Value>> {
            f.calls().into_iter().find_map(|c| {
                (c.path.contains(token) && c.path.ends_with("/callback") && c.body["type"] == 8)
                    .then(|| {
                        c.body["data"]["choices"]
                            .as_array()
                            .cloned()
                            .unwrap_or_default()
                    })
            })
        };
        self.wait_until(
            &format!("autocomplete choices for {token}"),
            Duration::from_secs(10),
            |f| find(f).is_some(),
        )
        .await;
        find(self).expect("choices present")
    }

    /// Pushes a gateway event after checking that serenity parses it as that event.
    pub fn dispatch_checked(&self, t: &str, d: Value) {
        let ev = json!({ "t": t, "d": d });
        serde_json::from_value::<serenity::Event>(ev.clone())
            .unwrap_or_else(|e| panic!("serenity would drop this {t}: {e}\n{ev:#}"));
        self.dispatch(t, d);
    }

    /// Sends a button click on a bot message; returns the interaction token.
    pub fn click(&self, who: &Invoker, custom_id: &str) -> String {
        let id = self.next_id();
        let token = format!("tok-{id}");
        let mut message = message_json(&self.state);
        message["components"] = json!([{"type": 1, "components": [
            {"type": 2, "style": 1, "label": "Click", "custom_id": custom_id}
        ]}]);
        let data = json!({ "custom_id": custom_id, "component_type": 2 });
        let mut d = interaction_json(id, &token, who, 3, data);
        d["message"] = message;
        serde_json::from_value::<serenity::Interaction>(d.clone()).unwrap_or_else(|e| {
            panic!("serenity would drop this component INTERACTION_CREATE: {e}\n{d:#}")
        });
        self.sent(&token);
        self.dispatch("INTERACTION_CREATE", d);
        token
    }

    /// Pushes a dispatch event to the connected bot.
    pub fn dispatch(&self, t: &str, d: Value) {
        let tx = self.state.session.lock().unwrap().clone();
        let tx = tx.expect("no gateway session: call wait_identified first");
        tx.send(json!({ "t": t, "d": d }))
            .expect("gateway session closed");
    }

    /// Waits for the bot's answer to the interaction with `token`: its callback (type 4), or
    /// the edit/follow-up that replaces a defer (type 5).
    pub async fn answer(&self, token: &str) -> Answer {
        let find = |f: &FakeDiscord| -> Option<Answer> {
            let calls: Vec<RestCall> = f
                .calls()
                .into_iter()
                .filter(|c| c.path.contains(token) && c.status < 300)
                .collect();
            for c in &calls {
                let is_message_callback =
                    c.path.ends_with("/callback") && c.body["type"] == json!(4);
                let is_followup = c.method == "POST" && c.path.contains("/webhooks/");
                let is_edit = c.method == "PATCH";
                if is_message_callback || is_followup || is_edit {
                    let (message, flags) = if is_message_callback {
                        (c.body["data"].clone(), c.body["data"]["flags"].as_u64())
                    } else if is_edit {
                        let deferred = calls
                            .iter()
                            .find(|d| d.path.ends_with("/callback"))
                            .and_then(|d| d.body["data"]["flags"].as_u64());
                        (c.body.clone(), deferred)
                    } else {
                        (c.body.clone(), c.body["flags"].as_u64())
                    };
                    return Some(Answer {
                        calls: calls.clone(),
                        message,
                        ephemeral: flags.unwrap_or(0) & 64 != 0,
                    });
                }
            }
            None
        };
        self.wait_until(
            &format!("an answer to {token}"),
            Duration::from_secs(10),
            |f| find(f).is_some(),
        )
        .await;
        find(self).expect("answer present")
    }
}

fn rest_call(state: &State, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let body_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let scripted = {
        let mut scripts = state.scripts.lock().unwrap();
        let hit = scripts.iter_mut().find(|s| {
            s.times > 0 && s.method == method.as_str() && path.contains(&s.path_contains)
        });
        hit.map(|s| {
            s.times -= 1;
            (s.status, s.body.clone())
        })
    };
    let (headers, limited) = rules::rate_limit(state, method.as_str(), &path);
    let (mut status, mut answer) = scripted
        .or(limited)
        .or_else(|| refusal(state, &method, &path, &body_json))
        .unwrap_or_else(|| default_answer(state, &method, &path, &body_json));
    if method == Method::POST && path.ends_with("/messages") && status == 200 {
        let mut lost = state.lost_creates.lock().unwrap();
        if *lost > 0 {
            *lost -= 1;
            (status, answer) = (502, json!({"message": "Bad Gateway", "code": 0}));
        }
    }
    state.calls.lock().unwrap().push(RestCall {
        method: method.to_string(),
        path,
        body: body_json,
        status,
        at: std::time::Instant::now(),
    });
    state.changed.notify_waiters();
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if status == 204 {
        code.into_response()
    } else {
        (code, axum::Json(answer)).into_response()
    };
    for (name, value) in headers {
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

/// What real Discord refuses (see `rules`), and the scripted failures of callbacks; `None`
/// leaves the call to `default_answer`.
fn refusal(state: &State, method: &Method, path: &str, body: &Value) -> Option<(u16, Value)> {
    let p = path.strip_prefix("/api/v10")?;
    let parts: Vec<&str> = p.trim_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["interactions", _, token, "callback"]) => {
            let kind = body["type"].as_u64().unwrap_or(0);
            if matches!(kind, 4 | 7) {
                if let Some(r) = rules::check_message(&body["data"]) {
                    return Some(r);
                }
            }
            if matches!(kind, 5 | 6) {
                let mut refused = state.refused_defers.lock().unwrap();
                if *refused > 0 {
                    *refused -= 1;
                    return Some((500, json!({"message": "Internal Server Error", "code": 0})));
                }
            }
            if let Some(r) = rules::callback(state, token) {
                return Some(r);
            }
            let mut lost = state.lost_callbacks.lock().unwrap();
            if *lost > 0 {
                *lost -= 1;
                return Some((502, json!({"message": "Bad Gateway", "code": 0})));
            }
            None
        }
        ("POST", ["webhooks", _, token]) | ("PATCH", ["webhooks", _, token, "messages", _]) => {
            rules::check_message(body).or_else(|| rules::webhook(state, token))
        }
        ("POST", ["channels", _, "messages"]) | ("PATCH", ["channels", _, "messages", _]) => {
            rules::check_message(body)
        }
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => {
            let refused = rules::check_commands(body);
            if refused.is_none() {
                state.registered.lock().unwrap().push(body.clone());
            }
            refused
        }
        _ => None,
    }
}

fn default_answer(state: &State, method: &Method, path: &str, body: &Value) -> (u16, Value) {
    let Some(p) = path.strip_prefix("/api/v10") else {
        return (404, json!({"message": "404: Not Found", "code": 0}));
    };
    let gateway = state.gateway_url.lock().unwrap().clone();
    let parts: Vec<&str> = p.trim_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["gateway"]) => (200, json!({ "url": gateway })),
        ("GET", ["gateway", "bot"]) => (
            200,
            json!({
                "url": gateway, "shards": *state.shards.lock().unwrap(),
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            }),
        ),
        ("GET", ["users", "@me"]) => (
            200,
            json!({
                "id": BOT_ID.to_string(), "username": "Coffer", "discriminator": "0", "bot": true, "avatar": null
            }),
        ),
        ("GET", ["oauth2", "applications", "@me"]) => (
            200,
            json!({
                "id": APP_ID.to_string(), "name": "Coffer", "icon": null, "description": "",
                "bot_public": true, "bot_require_code_grant": false, "verify_key": "",
                "flags": *state.app_flags.lock().unwrap(),
                "owner": {"id": OWNER_ID.to_string(), "username": "owner", "discriminator": "0", "avatar": null}
            }),
        ),
        ("PUT", ["applications", _, "commands"])
        | ("PUT", ["applications", _, "guilds", _, "commands"]) => {
            let cmds: Vec<Value> = body
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(i, c)| {
                    let mut c = c.clone();
                    c["id"] = json!((500_000_000_000_000_000u64 + i as u64).to_string());
                    c["application_id"] = json!(APP_ID.to_string());
                    c["version"] = json!("1");
                    c
                })
                .collect();
            (200, Value::Array(cmds))
        }
        ("POST", ["interactions", _, _, "callback"]) => (204, Value::Null),
        ("POST", ["webhooks", _, _]) | ("PATCH", ["webhooks", _, _, "messages", _]) => {
            let mut m = message_json(state);
            for k in ["content", "embeds", "flags"] {
                if let Some(v) = body.get(k) {
                    m[k] = v.clone();
                }
            }
            (200, m)
        }
        ("DELETE", ["webhooks", _, _, "messages", _]) => (204, Value::Null),
        (m, parts) => extras::answer(state, m, parts, body).unwrap_or_else(|| {
            (
                404,
                json!({"message": "Unknown route in the fake", "code": 0}),
            )
        }),
    }
}
