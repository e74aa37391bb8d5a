//! Discord sync end to end: the real app, its reconciler and the production `DiscordApi` against
//! the loopback fake Discord. Shop items created, edited, hidden and bought through the API and
//! the Buy button end up as Discord shows them, whatever Discord answers (404, 429, 5xx, 403).
//! The first tests drive `sync::rest::RestApi` alone against the fake.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer::discord::Rest;
use coffer::domain::shop::ItemInput;
use coffer::domain::{ChannelId, GuildId, MessageId, Money, RoleId, UserId};
use coffer::economy::{Adjustment, OpMeta};
use coffer::sync::rest::RestApi;
use coffer::sync::DiscordApi;
use reqwest::Method;
use serde_json::{json, Value};

use crate::fake_discord::{FakeDiscord, Invoker, GUILD_ID};
use crate::support::{new_data_dir, seed, TestApp};

/// The shop channel every scenario configures.
const SHOP: u64 = 800_000_000_000_000_300;
const VIP_ROLE: u64 = 800_000_000_000_000_400;
const ALICE: u64 = 111_000_000_000_009_001;
/// How long any single sync step may take before a test fails (real time).
const STEP: Duration = Duration::from_secs(20);

fn api(fake: &FakeDiscord, timeout: Duration) -> RestApi {
    let rest = Rest::new("fake-token", Some(&fake.base_url)).expect("rest client");
    RestApi::new(Arc::new(rest), timeout)
}

#[tokio::test]
async fn rest_api_creates_once_per_nonce_and_maps_discord_errors() {
    let fake = FakeDiscord::start().await;
    let api = api(&fake, Duration::from_secs(10));
    let body = json!({"content": "hello", "allowed_mentions": {"parse": []}});
    let first = api
        .create_message(ChannelId(SHOP), &body, "shop_item:1:1")
        .await
        .expect("created");
    let again = api
        .create_message(ChannelId(SHOP), &body, "shop_item:1:1")
        .await
        .expect("the repeat answers");
    assert_eq!(first, again, "a repeated nonce must not post twice");
    assert_eq!(fake.messages(SHOP).len(), 1);
    let post = &fake.channel_posts(SHOP)[0];
    assert_eq!(post.body["nonce"], "shop_item:1:1");
    assert_eq!(post.body["enforce_nonce"], true);

    api.edit_message(ChannelId(SHOP), first, &json!({"content": "edited"}))
        .await
        .expect("edited");
    assert_eq!(fake.messages(SHOP)[0]["content"], "edited");
    api.set_pinned(ChannelId(SHOP), first, true)
        .await
        .expect("pinned");
    assert_eq!(fake.messages(SHOP)[0]["pinned"], true);
    api.delete_message(ChannelId(SHOP), first)
        .await
        .expect("deleted");
    assert!(fake.messages(SHOP).is_empty());

    let e = api
        .edit_message(ChannelId(SHOP), first, &json!({"content": "x"}))
        .await
        .expect_err("unknown message");
    assert_eq!((e.status, e.code), (Some(404), Some(10008)));
    assert_eq!(e.message, "Unknown Message");

    fake.script(
        "PUT",
        "/roles/",
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
        1,
    );
    let e = api
        .add_member_role(GuildId(GUILD_ID), UserId(ALICE), RoleId(VIP_ROLE))
        .await
        .expect_err("refused");
    assert_eq!((e.status, e.code), (Some(403), Some(50013)));
    assert_eq!(fake.role_puts(ALICE, VIP_ROLE).len(), 1, "one attempt only");

    // Five 500s scripted: one call makes one attempt and reports the first.
    fake.script(
        "PATCH",
        "/messages/",
        500,
        json!({"message": "oops", "code": 0}),
        5,
    );
    let e = api
        .edit_message(ChannelId(SHOP), MessageId(1), &json!({}))
        .await
        .expect_err("500");
    assert_eq!((e.status, e.code), (Some(500), None));
    // The edit, the edit of the deleted message, and this one.
    assert_eq!(fake.calls_to("PATCH", "/messages/").len(), 3);

    api.send_dm(UserId(ALICE), &json!({"content": "hi"}))
        .await
        .expect("dm sent");
    assert_eq!(fake.dms_to(ALICE).len(), 1);
}

#[tokio::test]
async fn rest_api_reads_retry_after_from_the_body_or_the_header_and_pauses_on_a_global_limit() {
    let fake = FakeDiscord::start().await;
    let api = api(&fake, Duration::from_secs(10));
    let body = json!({"content": "x"});
    fake.script(
        "POST",
        "/messages",
        429,
        json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false}),
        1,
    );
    let e = api
        .create_message(ChannelId(SHOP), &body, "n1")
        .await
        .expect_err("429");
    assert_eq!(e.status, Some(429));
    assert_eq!(e.retry_after, Some(Duration::from_millis(1500)));
    assert!(!e.global);

    // A global limit makes the next call (any route) wait it out first.
    fake.script(
        "POST",
        "/messages",
        429,
        json!({"message": "You are being rate limited.", "retry_after": 0.5, "global": true}),
        1,
    );
    let e = api
        .create_message(ChannelId(SHOP), &body, "n2")
        .await
        .expect_err("429");
    assert!(e.global);
    let started = Instant::now();
    api.add_member_role(GuildId(GUILD_ID), UserId(ALICE), RoleId(VIP_ROLE))
        .await
        .expect("granted after the pause");
    assert!(started.elapsed() >= Duration::from_millis(400));

    // Without a body, the `Retry-After` header (seconds, a float) says how long.
    let raw = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = raw.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Ok((mut s, _)) = raw.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2.5\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    });
    let rest = Rest::new("t", Some(&format!("http://{addr}"))).expect("rest");
    let e = RestApi::new(Arc::new(rest), Duration::from_secs(5))
        .edit_message(ChannelId(SHOP), MessageId(1), &body)
        .await
        .expect_err("429");
    assert_eq!(e.status, Some(429));
    assert_eq!(e.retry_after, Some(Duration::from_millis(2500)));
    server.abort();
}

#[tokio::test]
async fn rest_api_gives_up_after_the_request_timeout() {
    // A listener that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = silent.local_addr().expect("addr");
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            open.push(s);
        }
    });
    let rest = Rest::new("t", Some(&format!("http://{addr}"))).expect("rest");
    let api = RestApi::new(Arc::new(rest), Duration::from_millis(300));
    let started = Instant::now();
    let e = api
        .delete_message(ChannelId(SHOP), MessageId(1))
        .await
        .expect_err("timed out");
    assert_eq!(e.status, None);
    assert!(e.message.contains("timed out"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(5));
    hold.abort();
}

// ---- End to end: the app's reconciler against the fake ----------------------------------

fn member(id: u64, name: &str) -> Invoker {
    Invoker::member(id, name)
}

/// A data dir whose guild posts its shop in `SHOP`, where Alice has 1,000 coins.
fn shop_dir(extra: impl FnOnce(&coffer::services::Services)) -> Arc<tempfile::TempDir> {
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

struct Scene {
    fake: FakeDiscord,
    app: TestApp,
    token: String,
}

async fn scene(dir: Arc<tempfile::TempDir>) -> Scene {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_in(&fake, dir).await;
    fake.wait_identified().await;
    let token = app.login().await;
    Scene { fake, app, token }
}

impl Scene {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.app
            .api(
                method,
                &format!("/api/{GUILD_ID}{path}"),
                Some(&self.token),
                body,
            )
            .await
    }

    async fn create_item(&self, body: Value) -> u64 {
        let (status, item) = self.call(Method::POST, "/shop", Some(body)).await;
        assert_eq!(status, 201, "{item}");
        item["id"].as_u64().expect("item id")
    }

    async fn sync_record(&self, item: u64) -> Option<Value> {
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
    async fn wait_record(&self, what: &str, item: u64, pred: impl Fn(Option<&Value>) -> bool) {
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
    async fn synced(&self, item: u64) -> u64 {
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

    async fn grants(&self) -> Vec<Value> {
        let (status, grants) = self.call(Method::GET, "/role-grants", None).await;
        assert_eq!(status, 200, "{grants}");
        grants.as_array().cloned().unwrap_or_default()
    }

    async fn wait_grant(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
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
    fn edits(&self, message: u64) -> Vec<crate::fake_discord::RestCall> {
        self.fake
            .calls_to("PATCH", &format!("/channels/{SHOP}/messages/{message}"))
    }
}

/// A snowflake as the API shows it (a string) or as a number.
fn id_of(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
        .unwrap_or_else(|| panic!("not an id: {v}"))
}

fn button_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

/// Content plus embed titles, descriptions and fields.
fn text(message: &Value) -> String {
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
fn pings_nobody(body: &Value) -> bool {
    let am = &body["allowed_mentions"];
    am.is_object()
        && ["parse", "users", "roles"]
            .iter()
            .all(|k| am[k].is_null() || am[k].as_array().is_some_and(|a| a.is_empty()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_created_through_the_api_appears_in_the_shop_with_a_buy_button_that_works() {
    let s = scene(shop_dir(|_| {})).await;
    let item = s
        .create_item(json!({"name": "Golden Ticket", "price": 100, "stock": 5}))
        .await;
    let message = s.synced(item).await;

    let shown = s.fake.message(SHOP, message).expect("message in #shop");
    assert_eq!(s.fake.messages(SHOP).len(), 1);
    let buy = format!("shop:buy:{item}");
    assert!(button_ids(&shown).contains(&buy), "{shown:#}");
    assert!(text(&shown).contains("Golden Ticket"), "{shown:#}");
    let post = &s.fake.channel_posts(SHOP)[0];
    let nonce = post.body["nonce"].as_str().expect("a nonce");
    assert!(!nonce.is_empty() && nonce.len() <= 25, "{nonce}");
    assert_eq!(post.body["enforce_nonce"], true);

    let bought = s
        .fake
        .answer(&s.fake.click(&member(ALICE, "alice"), &buy))
        .await;
    assert!(bought.ephemeral);
    assert!(
        bought.text().contains("You bought 1× **Golden Ticket**"),
        "{}",
        bought.text()
    );
    // The purchase changed the stock: the same message is edited, no second one posted.
    s.fake
        .wait_until("the shop message edited after the sale", STEP, |f| {
            f.calls_to("PATCH", &format!("/channels/{SHOP}/messages/{message}"))
                .iter()
                .any(|c| c.status == 200)
        })
        .await;
    s.synced(item).await;
    assert_eq!(s.fake.messages(SHOP).len(), 1);
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_edit_edits_the_items_message() {
    let s = scene(shop_dir(|_| {})).await;
    let item = s
        .create_item(json!({"name": "Silver Spoon", "price": 30, "stock": 5}))
        .await;
    let message = s.synced(item).await;
    let (status, body) = s
        .call(
            Method::PUT,
            &format!("/shop/{item}/stock"),
            Some(json!({"quantity": 42})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s.fake
        .wait_until("the stock edit on Discord", STEP, |f| {
            f.message(SHOP, message)
                .is_some_and(|m| text(&m).contains("42"))
        })
        .await;
    assert_eq!(s.synced(item).await, message, "the same message");
    assert_eq!(s.fake.messages(SHOP).len(), 1);
    let edit = s.edits(message).into_iter().last().expect("an edit");
    assert!(pings_nobody(&edit.body), "{:#}", edit.body);
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_answered_unknown_message_reposts_the_item() {
    let s = scene(shop_dir(|_| {})).await;
    let item = s
        .create_item(json!({"name": "Lost Scroll", "price": 10, "stock": 3}))
        .await;
    let first = s.synced(item).await;
    assert!(s.fake.delete_by_hand(SHOP, first));
    let (status, body) = s
        .call(
            Method::PUT,
            &format!("/shop/{item}/stock"),
            Some(json!({"quantity": 9})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s.wait_record("a repost with a new message id", item, |r| {
        r.is_some_and(|r| {
            r["state"] == "synced"
                && !r["message_id"].is_null()
                && id_of(&r["message_id"]) != first
                && r["synced_version"] == r["desired_version"]
        })
    })
    .await;
    assert!(s.edits(first).iter().any(|c| c.status == 404));
    let now = s.fake.messages(SHOP);
    assert_eq!(now.len(), 1, "{now:#?}");
    assert!(text(&now[0]).contains("Lost Scroll"));
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_once_after_retry_after() {
    let s = scene(shop_dir(|_| {})).await;
    let item = s
        .create_item(json!({"name": "Slow Snail", "price": 10, "stock": 3}))
        .await;
    let message = s.synced(item).await;
    s.fake.script(
        "PATCH",
        &format!("/channels/{SHOP}/messages/{message}"),
        429,
        json!({"message": "You are being rate limited.", "retry_after": 1.0, "global": false}),
        1,
    );
    s.call(
        Method::PUT,
        &format!("/shop/{item}/stock"),
        Some(json!({"quantity": 2})),
    )
    .await;
    s.fake
        .wait_until("the edit after the 429", STEP, |f| {
            f.calls_to("PATCH", &format!("/channels/{SHOP}/messages/{message}"))
                .iter()
                .any(|c| c.status == 200)
        })
        .await;
    s.synced(item).await;
    let edits = s.edits(message);
    let limited: Vec<_> = edits.iter().filter(|c| c.status == 429).collect();
    let ok: Vec<_> = edits.iter().filter(|c| c.status == 200).collect();
    assert_eq!(limited.len(), 1);
    assert_eq!(ok.len(), 1, "retried once: {edits:#?}");
    let waited = ok[0].at.duration_since(limited[0].at);
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_then_success_end_synced() {
    let s = scene(shop_dir(|_| {})).await;
    s.fake.script(
        "POST",
        &format!("/channels/{SHOP}/messages"),
        500,
        json!({"message": "Internal Server Error", "code": 0}),
        2,
    );
    let item = s
        .create_item(json!({"name": "Sturdy Box", "price": 10}))
        .await;
    s.synced(item).await;
    let statuses: Vec<u16> = s
        .fake
        .channel_posts(SHOP)
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
    assert_eq!(s.fake.messages(SHOP).len(), 1);
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permissions_end_failed_with_the_reason_visible_through_the_api() {
    let s = scene(shop_dir(|_| {})).await;
    s.fake.script(
        "POST",
        &format!("/channels/{SHOP}/messages"),
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
        1000,
    );
    let item = s
        .create_item(json!({"name": "Forbidden Fruit", "price": 10}))
        .await;
    s.wait_record("the record to fail", item, |r| {
        r.is_some_and(|r| r["state"] == "failed")
    })
    .await;
    let rec = s.sync_record(item).await.expect("record");
    // In words, naming the channel and Discord's reason.
    let reason = rec["last_error"].as_str().unwrap_or("");
    assert!(
        reason.contains("Missing Permissions") && reason.contains(&SHOP.to_string()),
        "{rec:#}"
    );
    assert!(rec["message_id"].is_null(), "{rec:#}");
    // Failed means parked, not hammered.
    let tries = s.fake.channel_posts(SHOP).len();
    assert!(tries <= 3, "{tries} attempts at a forbidden channel");
    assert!(s.fake.messages(SHOP).is_empty());
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hiding_an_item_deletes_its_message_and_showing_it_reposts() {
    let s = scene(shop_dir(|_| {})).await;
    let item = s.create_item(json!({"name": "Shy Cat", "price": 10})).await;
    let first = s.synced(item).await;
    let (status, body) = s
        .call(
            Method::PUT,
            &format!("/shop/{item}"),
            Some(json!({"visible": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s.fake
        .wait_until("the hidden item's message deleted", STEP, |f| {
            f.messages(SHOP).is_empty()
        })
        .await;
    assert!(s
        .fake
        .calls_to("DELETE", &format!("/channels/{SHOP}/messages/{first}"))
        .iter()
        .any(|c| c.status == 204));

    let (status, body) = s
        .call(
            Method::PUT,
            &format!("/shop/{item}"),
            Some(json!({"visible": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let second = s.synced(item).await;
    assert_ne!(second, first);
    let shown = s.fake.messages(SHOP);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(button_ids(&shown[0]).contains(&format!("shop:buy:{item}")));
    s.app.stop().await.expect("clean stop");
}

fn vip_pass(s: &coffer::services::Services) {
    let mut i = ItemInput::new("VIP Pass", 50);
    i.role_id = Some(RoleId(VIP_ROLE));
    s.shop
        .create_item(GuildId(GUILD_ID), i, &OpMeta::system())
        .expect("vip pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_an_item_with_a_role_reward_puts_the_member_role() {
    let s = scene(shop_dir(vip_pass)).await;
    let bought = s
        .fake
        .answer(&s.fake.click(&member(ALICE, "alice"), "shop:buy:1"))
        .await;
    assert!(bought.text().contains("VIP Pass"), "{}", bought.text());
    s.fake
        .wait_until("the role PUT", STEP, |f| {
            f.role_puts(ALICE, VIP_ROLE).iter().any(|c| c.status < 300)
        })
        .await;
    let g = s
        .wait_grant("the grant marked granted", |g| g["state"] == "granted")
        .await;
    assert_eq!(id_of(&g["user"]), ALICE);
    assert_eq!(id_of(&g["role"]), VIP_ROLE);
    assert_eq!(s.fake.role_puts(ALICE, VIP_ROLE).len(), 1);
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_grant_refused_with_missing_permissions_shows_failed_on_the_grant_list() {
    let s = scene(shop_dir(vip_pass)).await;
    s.fake.script(
        "PUT",
        &format!("/members/{ALICE}/roles/{VIP_ROLE}"),
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
        1000,
    );
    s.fake
        .answer(&s.fake.click(&member(ALICE, "alice"), "shop:buy:1"))
        .await;
    let g = s
        .wait_grant("the grant marked failed", |g| g["state"] == "failed")
        .await;
    assert!(
        g["error"]
            .as_str()
            .is_some_and(|e| e.contains("Missing Permissions")),
        "{g:#}"
    );
    let tries = s.fake.role_puts(ALICE, VIP_ROLE).len();
    assert!(tries <= 3, "{tries} attempts at a forbidden role");
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_named_with_everyone_pings_nobody() {
    let s = scene(shop_dir(|_| {})).await;
    let item = s
        .create_item(json!({"name": "Cake for @everyone", "price": 5, "stock": 4}))
        .await;
    let message = s.synced(item).await;
    let post = s
        .fake
        .channel_posts(SHOP)
        .into_iter()
        .find(|c| c.status == 200)
        .expect("the post");
    assert!(pings_nobody(&post.body), "{:#}", post.body);
    assert!(text(&post.body).contains("Cake for"), "{:#}", post.body);
    // Edits carry the same empty allowed_mentions.
    s.call(
        Method::PUT,
        &format!("/shop/{item}/stock"),
        Some(json!({"quantity": 3})),
    )
    .await;
    s.fake
        .wait_until("the edit", STEP, |f| {
            f.calls_to("PATCH", &format!("/channels/{SHOP}/messages/{message}"))
                .iter()
                .any(|c| c.status == 200)
        })
        .await;
    let edit = s.edits(message).into_iter().last().expect("an edit");
    assert!(pings_nobody(&edit.body), "{:#}", edit.body);
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_response_was_lost_is_retried_without_a_second_message() {
    let s = scene(shop_dir(|_| {})).await;
    s.fake.lose_create_responses(1);
    let item = s
        .create_item(json!({"name": "Echo Shell", "price": 10}))
        .await;
    let message = s.synced(item).await;
    let posts = s.fake.channel_posts(SHOP);
    let statuses: Vec<u16> = posts.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [502, 200]);
    assert_eq!(
        posts[0].body["nonce"], posts[1].body["nonce"],
        "the same nonce"
    );
    let shown = s.fake.messages(SHOP);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(id_of(&shown[0]["id"]), message);
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_pending_sync_and_repeats_no_post() {
    let dir = shop_dir(|_| {});
    let s = scene(dir.clone()).await;
    // Discord posts the message but every answer is lost; Coffer stops without the id.
    s.fake.lose_create_responses(u32::MAX);
    let item = s
        .create_item(json!({"name": "Phoenix Feather", "price": 10}))
        .await;
    s.fake
        .wait_until("the first create", STEP, |f| {
            !f.channel_posts(SHOP).is_empty()
        })
        .await;
    let Scene { fake, app, .. } = s;
    app.stop().await.expect("clean stop");
    assert_eq!(fake.messages(SHOP).len(), 1);
    assert!(fake.channel_posts(SHOP).iter().all(|c| c.status == 502));
    fake.lose_create_responses(0);

    let app = TestApp::spawn_in(&fake, dir).await;
    let token = app.login().await;
    let s = Scene { fake, app, token };
    let message = s.synced(item).await;
    let shown = s.fake.messages(SHOP);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(id_of(&shown[0]["id"]), message);
    let nonces: std::collections::BTreeSet<String> = s
        .fake
        .channel_posts(SHOP)
        .iter()
        .map(|c| c.body["nonce"].to_string())
        .collect();
    assert_eq!(nonces.len(), 1, "every attempt used one nonce");
    s.app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_announcement_is_posted_and_pinned_and_unpinning_unpins_it() {
    const NEWS: u64 = 800_000_000_000_000_500;
    let s = scene(shop_dir(|_| {})).await;
    let (status, a) = s
        .call(
            Method::POST,
            "/announcements",
            Some(
                json!({"title": "Market day", "content": "Stalls open at noon",
                        "channel": NEWS.to_string(), "pinned": true}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_u64().expect("announcement id");
    s.fake
        .wait_until("the announcement posted and pinned", STEP, |f| {
            f.messages(NEWS).iter().any(|m| m["pinned"] == true)
        })
        .await;
    let shown = s.fake.messages(NEWS);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(
        text(&shown[0]).contains("Stalls open at noon"),
        "{shown:#?}"
    );
    let message = id_of(&shown[0]["id"]);
    assert!(s
        .fake
        .calls_to("PUT", &format!("/channels/{NEWS}/pins/{message}"))
        .iter()
        .any(|c| c.status == 204));

    let (status, body) = s
        .call(Method::POST, &format!("/announcements/{id}/unpin"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    s.fake
        .wait_until("the announcement unpinned", STEP, |f| {
            f.message(NEWS, message)
                .is_some_and(|m| m["pinned"] == false)
        })
        .await;
    assert_eq!(s.fake.messages(NEWS).len(), 1, "unpinning posts nothing");
    s.app.stop().await.expect("clean stop");
}
