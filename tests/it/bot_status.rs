//! The bot's presence and restart through the real web API: a PUT presence reaches the fake
//! gateway as a PRESENCE_UPDATE, a restart makes the bot identify again, and `/api/status`
//! reports the live connection.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::fake_discord::FakeDiscord;
use crate::support::{assert_no_dropped_payloads, TestApp};

/// Polls `GET path` until `cond` holds on the answer (or panics after 15 s).
async fn wait_api(app: &TestApp, path: &str, token: Option<&str>, cond: impl Fn(&Value) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = app.api(Method::GET, path, token, None).await;
        if status == 200 && cond(&body) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting on {path}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// PRESENCE_UPDATE frames showing `text` with `status`.
fn presence_updates(fake: &FakeDiscord, text: &str, status: &str) -> usize {
    fake.gateway_frames(3)
        .iter()
        .filter(|f| f["d"]["status"] == status && f["d"]["activities"][0]["name"] == text)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_and_restart_from_the_api_reach_the_gateway_and_status_is_live() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    let first = &fake.identifies()[0];
    assert_eq!(first["d"]["presence"]["status"], "online", "{first}");
    wait_api(&app, "/api/status", None, |b| {
        b["discord"] == "connected" && b["discord_guilds"] == 1
    })
    .await;

    let token = app.login().await;
    let (status, body) = app
        .api(
            Method::PUT,
            "/api/bot/status",
            Some(&token),
            Some(json!({"status": "dnd", "activity_type": "watching", "text": "the shop"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["discord"].as_str(), body["text"].as_str()),
        (Some("connected"), Some("the shop"))
    );
    fake.wait_until("PRESENCE_UPDATE", Duration::from_secs(10), |f| {
        presence_updates(f, "the shop", "dnd") == 1
    })
    .await;
    let update = fake.gateway_frames(3).pop().unwrap();
    assert_eq!(
        update["d"]["activities"][0]["type"], 3,
        "watching: {update}"
    );

    let (status, body) = app
        .api(Method::POST, "/api/restart", Some(&token), None)
        .await;
    assert_eq!(status, 202, "{body}");
    // Serenity waits up to 5 s between shard starts.
    fake.wait_until("a second IDENTIFY", Duration::from_secs(20), |f| {
        f.identifies().len() == 2
    })
    .await;
    // The restarted shard gets the stored presence again once READY.
    fake.wait_until(
        "PRESENCE_UPDATE after restart",
        Duration::from_secs(10),
        |f| presence_updates(f, "the shop", "dnd") == 2,
    )
    .await;
    wait_api(&app, "/api/bot/status", Some(&token), |b| {
        b["discord"] == "connected" && b["restart_requested_at"].is_string()
    })
    .await;
    assert_no_dropped_payloads();
    app.stop().await.expect("clean stop");
}
