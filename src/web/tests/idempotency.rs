//! `Idempotency-Key` on the dashboard writes whose services take no key of their own
//! (announcements, embeds, custom commands, config, sync, settings, bot status): a repeat of
//! the same key gets the first answer and changes nothing more.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G};

#[tokio::test]
async fn repeating_a_create_with_the_same_key_creates_one_announcement() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/announcements", G.0);
    let body = json!({"title": "Hello", "content": "World", "channel": "55"});
    let mut ids = Vec::new();
    for _ in 0..3 {
        let a = app
            .send(
                Method::POST,
                &path,
                Some(&tok),
                Some(body.clone()),
                &[("idempotency-key", "ann-1")],
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        ids.push(a.body["id"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let list = app.get(&path, &tok).await;
    assert_eq!(list.body["total"], 1, "{}", list.body);
    // Without a key every request applies.
    let a = app
        .send(Method::POST, &path, Some(&tok), Some(body), &[])
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(app.get(&path, &tok).await.body["total"], 2);
}

#[tokio::test]
async fn a_key_reused_for_another_write_is_refused_and_a_refused_write_keeps_it_free() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let cfg = format!("/api/{}/config", G.0);
    let bad = app
        .send(
            Method::PUT,
            &cfg,
            Some(&tok),
            Some(json!({"daily_amount": -1})),
            &[("idempotency-key", "c-1")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let ok = app
        .send(
            Method::PUT,
            &cfg,
            Some(&tok),
            Some(json!({"daily_amount": 250})),
            &[("idempotency-key", "c-1")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["daily_amount"], 250);
    let again = app
        .send(
            Method::PUT,
            &cfg,
            Some(&tok),
            Some(json!({"daily_amount": 250})),
            &[("idempotency-key", "c-1")],
        )
        .await;
    assert_eq!(
        (again.status, &again.body["daily_amount"]),
        (StatusCode::OK, &json!(250)),
        "the first answer is replayed"
    );
    let changed = app
        .send(
            Method::PUT,
            &cfg,
            Some(&tok),
            Some(json!({"daily_amount": 999})),
            &[("idempotency-key", "c-1")],
        )
        .await;
    assert_eq!(
        (changed.status, changed.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    assert_eq!(app.get(&cfg, &tok).await.body["daily_amount"], 250);
    let other = app
        .send(
            Method::POST,
            &format!("/api/{}/commands", G.0),
            Some(&tok),
            Some(json!({"name": "hello", "response": "hi {user}"})),
            &[("idempotency-key", "c-1")],
        )
        .await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
}

#[tokio::test]
async fn instance_writes_take_a_key_too() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    for _ in 0..2 {
        let a = app
            .send(
                Method::POST,
                "/api/restart",
                Some(&tok),
                None,
                &[("idempotency-key", "r-1")],
            )
            .await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    }
    let audit = app.get("/api/audit/0?action=bot.restart", &tok).await;
    assert_eq!(audit.body["total"], 1, "{}", audit.body);
}
