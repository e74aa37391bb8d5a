//! Server-Sent Events: live delivery, `Last-Event-ID` resume, resync, the test event.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::{TestApp, G, G2};
use crate::events::EventKind;

/// Reads an SSE body event by event.
struct SseReader {
    body: Body,
    buf: String,
}

impl SseReader {
    async fn open(app: &TestApp, query: &str, token: &str, last_id: Option<u64>) -> SseReader {
        let mut b = Request::builder()
            .uri(format!("/api/stream{query}"))
            .header("authorization", format!("Bearer {token}"));
        if let Some(id) = last_id {
            b = b.header("last-event-id", id.to_string());
        }
        let res = app
            .app
            .clone()
            .oneshot(b.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        SseReader {
            body: res.into_body(),
            buf: String::new(),
        }
    }

    /// The next event block (not a comment or `retry:` line), waiting at most `within`.
    async fn next(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(i) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..i + 2).collect();
                if block.lines().any(|l| l.starts_with("data:")) {
                    return Some(block);
                }
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()??
                .ok()?;
            if let Ok(data) = frame.into_data() {
                self.buf.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
    }
}

fn data(block: &str) -> Value {
    let line = block
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap();
    serde_json::from_str(line).unwrap()
}

fn id(block: &str) -> u64 {
    block
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_change_arrives_on_the_stream_within_a_second() {
    let app = TestApp::new();
    let tok = app.login("viewer").await;
    let mut sse = SseReader::open(
        &app,
        &format!("?guilds={}&events=balance_changed", G.0),
        &tok,
        None,
    )
    .await;
    app.fund(G2, 1, 5); // other guild: filtered out
    app.fund(G, 1, 5);
    let block = sse
        .next(Duration::from_secs(1))
        .await
        .expect("an event within 1 s");
    let e = data(&block);
    assert_eq!(e["kind"], "balance_changed");
    assert_eq!(e["guild"], G.0.to_string());
    assert_eq!(id(&block), e["seq"].as_u64().unwrap());
}

#[tokio::test]
async fn last_event_id_replays_exactly_the_missed_events() {
    let app = TestApp::new();
    let tok = app.login("viewer").await;
    let bus = app.ts.store.bus().clone();
    let seen = app
        .ts
        .store
        .publish(G, EventKind::Test, vec!["seen".into()]);
    let missed: Vec<u64> = (0..3)
        .map(|i| {
            app.ts
                .store
                .publish(G, EventKind::Test, vec![format!("missed{i}")])
                .seq
        })
        .collect();
    let mut sse = SseReader::open(&app, "", &tok, Some(seen.seq)).await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(id(&sse.next(Duration::from_secs(1)).await.unwrap()));
    }
    assert_eq!(got, missed);
    // Then live events continue with no gap and no duplicate.
    let live = app.ts.store.publish(G, EventKind::Test, vec![]);
    assert_eq!(
        id(&sse.next(Duration::from_secs(1)).await.unwrap()),
        live.seq
    );
    assert_eq!(bus.next_seq(), live.seq + 1);
}

#[tokio::test]
async fn resuming_from_before_the_buffer_gets_a_resync_event() {
    let app = TestApp::new();
    let tok = app.login("viewer").await;
    let first = app.ts.store.publish(G, EventKind::Test, vec![]);
    for _ in 0..5000 {
        app.ts.store.publish(G, EventKind::Test, vec![]);
    }
    let mut sse = SseReader::open(&app, "", &tok, Some(first.seq)).await;
    let block = sse.next(Duration::from_secs(1)).await.unwrap();
    assert!(block.contains("event: resync"), "{block}");
    assert_eq!(data(&block)["reason"], "too_old");
}

#[tokio::test]
async fn a_burst_is_batched_into_few_writes() {
    let app = TestApp::new();
    let tok = app.login("viewer").await;
    let res = app
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/api/stream")
                .header("authorization", format!("Bearer {tok}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = res.into_body();
    let _hello = body.frame().await.unwrap().unwrap();
    for _ in 0..20 {
        app.ts.store.publish(G, EventKind::Test, vec![]);
    }
    let frame = tokio::time::timeout(Duration::from_secs(1), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    assert_eq!(text.matches("data: ").count(), 20, "{text}");
}

#[tokio::test]
async fn stream_needs_auth_and_valid_filters() {
    let app = TestApp::new();
    let a = app
        .send(axum::http::Method::GET, "/api/stream", None, None, &[])
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let tok = app.login("viewer").await;
    let a = app.get("/api/stream?events=nonsense", &tok).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "invalid_parameter")
    );
    let a = app.get("/api/stream?guilds=abc", &tok).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_test_event_reaches_streams_of_that_server() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let mut sse = SseReader::open(&app, &format!("?guilds={}", G.0), &tok, None).await;
    let a = app
        .post(
            "/api/stream/test",
            &tok,
            json!({"server_id": G.0.to_string()}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let block = sse.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(data(&block)["kind"], "test");
    assert_eq!(id(&block), a.body["seq"].as_u64().unwrap());
    assert_eq!(data(&block)["ids"], json!(["dashboard:admin"]));
}
