//! Issue 12: `GET /metrics` in the Prometheus text format, moving with real operations. The
//! registry is process-wide and tests run in parallel, so counters are compared as "grew by at
//! least".

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G};

/// The value of the series line `series` (name with its labels, exactly as rendered).
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no `{series}` in\n{text}"))
        .parse()
        .unwrap()
}

async fn scrape(app: &TestApp) -> String {
    let a = app.send(Method::GET, "/metrics", None, None, &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    a.body.as_str().unwrap().to_owned()
}

#[tokio::test]
async fn scraping_shows_commits_and_events_moving_after_balance_changes() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let before = scrape(&app).await;
    for user in 1..=3 {
        let a = app
            .put(
                &format!("/api/{}/users/{user}/balance", G.0),
                &tok,
                json!({"amount": 10}),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let after = scrape(&app).await;
    for series in [
        "coffer_store_commit_duration_seconds_count",
        "coffer_events_published_total",
    ] {
        assert!(
            value(&after, series) >= value(&before, series) + 3.0,
            "{series} did not grow by 3"
        );
    }
    assert!(after.contains("# TYPE coffer_store_commit_duration_seconds histogram"));
    assert!(after.contains("coffer_store_commit_duration_seconds_bucket{le=\"+Inf\"}"));
    for state in ["pending", "synced", "orphaned", "failed"] {
        value(&after, &format!("coffer_sync_records{{state=\"{state}\"}}"));
    }
    assert!(value(&after, "process_resident_memory_bytes") > 1e6);
    assert!(value(&after, "process_uptime_seconds") > 0.0);
    value(&after, "process_cpu_seconds_total");
    value(&after, "coffer_sse_clients");
    value(&after, "coffer_backup_last_success_timestamp_seconds");
}

#[tokio::test]
async fn a_backup_sets_its_time_and_size() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let a = app.post("/api/backups", &tok, json!({})).await;
    assert!(a.status.is_success(), "{}", a.body);
    let text = scrape(&app).await;
    assert!(value(&text, "coffer_backup_last_success_timestamp_seconds") > 1e9);
    assert!(value(&text, "coffer_backup_last_size_bytes") > 0.0);
}

#[tokio::test]
async fn sync_records_are_counted_by_state() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let before = scrape(&app).await;
    app.create_item(&tok, G.0, json!({"name": "Cookie", "price": 5}))
        .await;
    let after = scrape(&app).await;
    let series = "coffer_sync_records{state=\"pending\"}";
    // Counted from this app's own database, so exact.
    assert_eq!(value(&before, series), 0.0);
    assert_eq!(
        value(&after, series),
        1.0,
        "the new item's message waits to be posted"
    );
}
