//! Issue 10, input (points 10, 11, 13): names without control or bidi characters, server id 0
//! and foreign channels refused, 413 in the JSON shape, the viewer's read-only validate.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use super::{TestApp, G};

/// Point 11: server id 0 is the instance namespace, not a server.
#[tokio::test]
async fn server_id_0_is_refused_by_every_per_server_route() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    for (method, path) in [
        (Method::GET, "/api/0/users"),
        (Method::GET, "/api/0/config"),
        (Method::POST, "/api/0/shop"),
        (Method::PUT, "/api/00/users/5/balance"),
        (Method::GET, "/api/0/transactions"),
    ] {
        let a = app
            .send(method, path, Some(&tok), Some(json!({})), &[])
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}: {}", a.body);
        assert_eq!(a.code(), "invalid_server", "{path}");
    }
    let a = app.get("/api/commands?server_id=0", &tok).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    // The instance's own audit log stays readable.
    assert_eq!(app.get("/api/audit/0", &tok).await.status, StatusCode::OK);
}

/// Point 13: a 413 from a handler's body extractor was plain text.
#[tokio::test]
async fn an_oversized_body_is_a_413_in_the_json_error_shape() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let big = "x".repeat(3 * 1024 * 1024);
    for path in [
        format!("/api/{}/transactions/validate", G.0),
        format!("/api/{}/users/5/balance", G.0),
        "/api/auth/refresh".to_owned(),
    ] {
        let req = Request::builder()
            .method(if path.ends_with("balance") {
                Method::PUT
            } else {
                Method::POST
            })
            .uri(&path)
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", "application/json")
            .body(Body::from(big.clone()))
            .unwrap();
        let a = app.request(req).await;
        assert_eq!(
            a.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            a.body
        );
        assert_eq!(a.code(), "payload_too_large", "{path}");
    }
}

/// Point 13: viewers may run the read-only validate; other writes stay admin-only.
#[tokio::test]
async fn a_viewer_may_validate_the_ledger_but_not_write() {
    let app = TestApp::new();
    app.fund(G, 5, 10);
    let viewer = app.login("viewer").await;
    let a = app
        .post(
            &format!("/api/{}/transactions/validate", G.0),
            &viewer,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["ok"], true);
    let a = app
        .post(
            &format!("/api/{}/users/cleanup", G.0),
            &viewer,
            json!({"days": 5}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

/// Point 10: names took control characters and bidi overrides (task `"a\u0000"`, a shop item
/// with U+202E); one validator now refuses them everywhere, naming the field.
#[tokio::test]
async fn names_with_control_characters_or_bidi_overrides_are_refused_naming_the_field() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let cases = [
        (
            format!("/api/{}/tasks", G.0),
            json!({"name": "a\u{0000}", "reward": 5}),
            "name",
        ),
        (
            format!("/api/{}/shop", G.0),
            json!({"name": "\u{202E}txt.exe", "price": 5}),
            "name",
        ),
        (
            format!("/api/{}/shop", G.0),
            json!({"name": "Hat", "price": 5, "category": "x\u{2066}y"}),
            "category",
        ),
        (
            format!("/api/{}/tasks", G.0),
            json!({"name": "Art", "reward": 5, "description": "hi\u{200F}"}),
            "description",
        ),
    ];
    for (path, body, field) in cases {
        let a = app.post(&path, &tok, body.clone()).await;
        assert!(
            a.status.is_client_error(),
            "{body}: {} {}",
            a.status,
            a.body
        );
        let text = a.body.to_string();
        assert!(
            text.contains(field) && text.contains("U+"),
            "{body}: {text}"
        );
    }
    let a = app
        .put(
            &format!("/api/{}/config", G.0),
            &tok,
            json!({"currency_name": "coins\u{202D}"}),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert!(a.body.to_string().contains("currency_name"), "{}", a.body);
    // Ordinary names, emoji and other scripts still pass.
    let a = app
        .post(
            &format!("/api/{}/shop", G.0),
            &tok,
            json!({"name": "Café ☕ 日本", "price": 5, "description": "two\nlines"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
}

/// Point 11: channel ids were stored without checking they belong to the server; once the
/// server's channels are known, others are refused naming the field.
#[tokio::test]
async fn channels_not_of_the_server_are_refused_once_its_channels_are_known() {
    use crate::domain::ChannelId;
    use crate::guild::{ChannelInfo, ChannelKind};
    let app = TestApp::new();
    let tok = app.login("admin").await;
    // Unknown list: accepted as before.
    let a = app
        .put(
            &format!("/api/{}/config", G.0),
            &tok,
            json!({"shop_channel_id": "900"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    app.services
        .guilds
        .replace_channels(
            G,
            &[ChannelInfo {
                id: ChannelId(500),
                name: "news".into(),
                kind: ChannelKind::Text,
                position: 0,
                parent: None,
            }],
        )
        .unwrap();
    let a = app
        .put(
            &format!("/api/{}/config", G.0),
            &tok,
            json!({"task_channel_id": "777"}),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert_eq!(a.body["error"]["details"]["field"], "task_channel_id");
    let a = app
        .post(
            &format!("/api/{}/announcements", G.0),
            &tok,
            json!({"title": "Hi", "content": "x", "channel": "777"}),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert_eq!(a.body["error"]["details"]["field"], "channel");
    let a = app
        .post(
            &format!("/api/{}/announcements", G.0),
            &tok,
            json!({"title": "Hi", "content": "x", "channel": "500"}),
        )
        .await;
    assert!(a.status.is_success(), "{} {}", a.status, a.body);
}
