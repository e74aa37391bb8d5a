//! Discord sync end to end: the real app, its reconciler and the production `DiscordApi` against
//! the loopback fake Discord. Shop items created, edited, hidden and bought through the API and
//! the Buy button end up as Discord shows them, whatever Discord answers (404, 429, 5xx, 403).

mod effects;
mod recovery;
mod rest_api;
mod scene;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use scene::{button_ids, id_of, member, pings_nobody, scene, shop_dir, text, ALICE, SHOP, STEP};

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
    s.finish().await;
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
    s.finish().await;
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
    s.finish().await;
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
    s.finish().await;
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
    s.finish().await;
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
    s.finish().await;
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
    s.finish().await;
}

/// A message refused with Missing Permissions is not retried in a loop, but a change on
/// Discord that may fix it (here the channel's permissions, CHANNEL_UPDATE) gives it one more
/// try, which posts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_message_is_retried_once_the_channel_changes_on_discord() {
    let s = scene(shop_dir(|_| {})).await;
    let guild = crate::fake_discord::GUILD_ID;
    // GUILD_CREATE retries failed messages too: let it be handled first.
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let (_, channels) = s.call(Method::GET, "/channels", None).await;
        if channels.as_array().is_some_and(|c| !c.is_empty()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{channels}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.fake.script(
        "POST",
        &format!("/channels/{SHOP}/messages"),
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
        1,
    );
    let item = s
        .create_item(json!({"name": "Late Bloomer", "price": 10}))
        .await;
    s.wait_record("the record to fail", item, |r| {
        r.is_some_and(|r| r["state"] == "failed")
    })
    .await;
    let channel = json!({ "id": SHOP.to_string(), "type": 0, "guild_id": guild.to_string(),
        "name": "shop", "position": 0, "permission_overwrites": [], "nsfw": false,
        "parent_id": null });
    s.fake.dispatch_checked("CHANNEL_UPDATE", channel);
    let message = s.synced(item).await;
    assert!(s.fake.message(SHOP, message).is_some());
    assert_eq!(
        s.fake.channel_posts(SHOP).len(),
        2,
        "one refused, one posted"
    );
    s.finish().await;
}
