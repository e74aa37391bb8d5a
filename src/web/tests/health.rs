//! Issue 12: liveness and readiness.

use axum::http::{Method, StatusCode};

use super::TestApp;
use crate::instance::Connection;

#[tokio::test]
async fn liveness_answers_on_both_paths_without_a_login() {
    let app = TestApp::new();
    for path in ["/api/health", "/healthz"] {
        let a = app.send(Method::GET, path, None, None, &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.body["status"], "ok", "{path}: {}", a.body);
        assert_eq!(a.body["version"], env!("CARGO_PKG_VERSION"));
    }
}

#[tokio::test]
async fn readiness_writes_to_the_database_and_is_ready_with_discord_off() {
    let app = TestApp::new();
    let before = app.ts.store.writer_stats().commits;
    let a = app
        .send(Method::GET, "/api/health/ready", None, None, &[])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["status"], "ready");
    assert_eq!(a.body["database"], "ok");
    assert_eq!(a.body["discord"], "off");
    assert_eq!(a.body["reasons"], serde_json::json!([]));
    assert_eq!(
        app.ts.store.writer_stats().commits,
        before + 1,
        "the probe is one real commit"
    );
}

#[tokio::test]
async fn readiness_is_503_with_the_reason_until_discord_is_connected() {
    let app = TestApp::new();
    for (state, ready) in [
        (Connection::Connecting, false),
        (Connection::Connected, true),
        (Connection::Reconnecting, false),
    ] {
        app.services.bot.set_connection(state);
        let a = app
            .send(Method::GET, "/api/health/ready", None, None, &[])
            .await;
        if ready {
            assert_eq!(a.status, StatusCode::OK, "{state:?}: {}", a.body);
        } else {
            assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{state:?}");
            assert_eq!(a.body["status"], "not_ready");
            assert_eq!(a.body["database"], "ok");
            let reasons = a.body["reasons"].as_array().unwrap();
            assert!(
                reasons.len() == 1 && reasons[0].as_str().unwrap().contains(state.as_str()),
                "{}",
                a.body
            );
        }
    }
}

#[tokio::test]
async fn readiness_is_503_when_the_database_cannot_be_written() {
    let app = TestApp::new();
    // A write that never finishes holds the writer: the probe cannot get in within the deadline.
    let store = app.ts.store.clone();
    let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
    let (in_tx, in_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut once = Some((hold_rx, in_tx));
        store
            .write(super::G, |_w| -> Result<(), crate::Error> {
                if let Some((hold, entered)) = once.take() {
                    let _ = entered.send(());
                    let _ = hold.recv();
                }
                Ok(())
            })
            .unwrap();
    });
    in_rx.recv().unwrap();
    let a = app
        .send(Method::GET, "/api/health/ready", None, None, &[])
        .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.body);
    assert_eq!(a.body["database"], "timeout");
    assert!(a.body["reasons"][0]
        .as_str()
        .unwrap()
        .contains("database write took longer"));
    hold_tx.send(()).unwrap();
    holder.join().unwrap();
}

#[tokio::test]
async fn a_burst_of_readiness_probes_costs_one_write() {
    let app = TestApp::new();
    let before = app.ts.store.writer_stats().commits;
    for _ in 0..20 {
        let a = app
            .send(Method::GET, "/api/health/ready", None, None, &[])
            .await;
        assert_eq!(a.status, StatusCode::OK);
    }
    assert_eq!(app.ts.store.writer_stats().commits, before + 1);
}
