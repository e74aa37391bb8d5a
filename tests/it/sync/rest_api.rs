//! `sync::rest::RestApi`, the production `DiscordApi`, alone against the fake: one attempt
//! per call, one message per nonce, Discord's errors mapped, the request timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer::discord::Rest;
use coffer::domain::{ChannelId, GuildId, MessageId, RoleId, UserId};
use coffer::sync::rest::RestApi;
use coffer::sync::DiscordApi;
use serde_json::json;

use super::scene::{ALICE, SHOP, VIP_ROLE};
use crate::fake_discord::{FakeDiscord, GUILD_ID};

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
