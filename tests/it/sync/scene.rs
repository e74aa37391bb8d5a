//! The scene every end-to-end sync test starts from (a guild whose shop channel is set, Alice
//! with 1,000 coins, the app logged in) and helpers that wait on the API and read messages.

use std::sync::Arc;
use std::time::Duration;

use coffer::domain::{GuildId, Money, UserId};
use coffer::economy::{Adjustment, OpMeta};
use reqwest::Method;
use serde_json::{json, Value};

use crate::fake_discord::{FakeDiscord, Invoker, GUILD_ID};
use crate::support::{new_data_dir, seed, TestApp};

/// The shop channel every scenario configures.
pub const SHOP: u64 = 800_000_000_000_000_300;
pub const VIP_ROLE: u64 = 800_000_000_000_000_400;
pub const ALICE: u64 = 111_000_000_000_009_001;
/// How long any single sync step may take before a test fails (real time).
pub const STEP: Duration = Duration::from_secs(20);

pub fn member(id: u64, name: &str) -> Invoker {
    Invoker::member(id, name)
}

/// A data dir whose guild posts its shop in `SHOP`, where Alice has 1,000 coins.
pub fn shop_dir(extra: impl FnOnce(&coffer::services::Services)) -> Arc<tempfile::TempDir> {
    let dir = new_data_dir();
    seed(&dir, |s| {
        let sys = OpMeta::system();
        s.guilds
            .update_config(
                GuildId(GUILD_ID),
                &json!({"shop_channel_id": SHOP.to_string()}),
                &sys,
            )
            .expect("shop channel");
        s.economy
            .adjust(
                GuildId(GUILD_ID),
                UserId(ALICE),
                Adjustment::Set(Money::new(1000)),
                "seed",
                &sys,
            )
            .expect("seed balance");
        extra(s);
    });
    dir
}

pub struct Scene {
    pub fake: FakeDiscord,
    pub app: TestApp,
    pub token: String,
}

pub async fn scene(dir: Arc<tempfile::TempDir>) -> Scene {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_in(&fake, dir).await;
    fake.wait_identified().await;
    let token = app.login().await;
    Scene { fake, app, token }
}

impl Scene {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app
            .api(
                method,
                &format!("/api/{GUILD_ID}{path}"),
                Some(&self.token),
                body,
            )
            .await
    }

    pub async fn create_item(&self, body: Value) -> u64 {
        let (status, item) = self.call(Method::POST, "/shop", Some(body)).await;
        assert_eq!(status, 201, "{item}");
        item["id"].as_u64().expect("item id")
    }

    pub async fn sync_record(&self, item: u64) -> Option<Value> {
        let (status, records) = self.call(Method::GET, "/sync?kind=shop_item", None).await;
        assert_eq!(status, 200, "{records}");
        records
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["object"] == json!(item))
            .cloned()
    }

    /// Polls the API until `pred` holds for the item's sync record (or its absence).
    pub async fn wait_record(&self, what: &str, item: u64, pred: impl Fn(Option<&Value>) -> bool) {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let rec = self.sync_record(item).await;
            if pred(rec.as_ref()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; record: {rec:?}; REST calls: {:#?}",
                self.fake.calls()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the item's record is synced and returns its message id.
    pub async fn synced(&self, item: u64) -> u64 {
        self.wait_record("the item to be synced", item, |r| {
            r.is_some_and(|r| {
                r["state"] == "synced"
                    && r["synced_version"] == r["desired_version"]
                    && !r["message_id"].is_null()
            })
        })
        .await;
        let rec = self.sync_record(item).await.expect("record");
        id_of(&rec["message_id"])
    }

    /// Checks Discord's error budget (at most 100 invalid answers, 401/403/429, where
    /// Discord bans at 10,000 per 10 minutes) and stops the app cleanly.
    pub async fn finish(self) {
        let invalid = self
            .fake
            .calls()
            .iter()
            .filter(|c| matches!(c.status, 401 | 403 | 429))
            .count();
        assert!(invalid <= 100, "{invalid} invalid responses");
        self.app.stop().await.expect("clean stop");
    }

    pub async fn grants(&self) -> Vec<Value> {
        let (status, grants) = self.call(Method::GET, "/role-grants", None).await;
        assert_eq!(status, 200, "{grants}");
        grants.as_array().cloned().unwrap_or_default()
    }

    pub async fn wait_grant(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            if let Some(g) = self.grants().await.into_iter().find(&pred) {
                return g;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; grants: {:?}; REST calls: {:#?}",
                self.grants().await,
                self.fake.calls()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Message PATCHes of `message` in the shop channel.
    pub fn edits(&self, message: u64) -> Vec<crate::fake_discord::RestCall> {
        self.fake
            .calls_to("PATCH", &format!("/channels/{SHOP}/messages/{message}"))
    }
}

/// A snowflake as the API shows it (a string) or as a number.
pub fn id_of(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
        .unwrap_or_else(|| panic!("not an id: {v}"))
}

pub use crate::fake_discord::button_ids;

/// Content plus embed titles, descriptions and fields.
pub fn text(message: &Value) -> String {
    let mut out = message["content"].as_str().unwrap_or("").to_owned();
    for e in message["embeds"].as_array().into_iter().flatten() {
        for key in ["title", "description"] {
            out.push('\n');
            out.push_str(e[key].as_str().unwrap_or(""));
        }
        for f in e["fields"].as_array().into_iter().flatten() {
            out.push_str(&format!("\n{}: {}", f["name"], f["value"]));
        }
    }
    out
}

/// `allowed_mentions` that can ping nobody: present, and no `parse`, `users` or `roles` entry.
pub fn pings_nobody(body: &Value) -> bool {
    let am = &body["allowed_mentions"];
    am.is_object()
        && ["parse", "users", "roles"]
            .iter()
            .all(|k| am[k].is_null() || am[k].as_array().is_some_and(|a| a.is_empty()))
}
