//! The command log endpoint: rows written through the store come back newest first, each filter
//! narrows them, bad dates are 400 naming the field, and a server sees only its own rows.

use axum::http::StatusCode;

use super::{TestApp, G, G2};
use crate::domain::UserId;
use crate::store::command_log::NewCommandLog;

fn row(user: u64, command: &str, outcome: &str) -> NewCommandLog {
    NewCommandLog {
        command: command.into(),
        kind: "command".into(),
        user: UserId(user),
        duration_ms: 7,
        outcome: outcome.into(),
    }
}

/// Writes `rows` one per minute into guild `g`, starting at the store's current time.
fn log(app: &TestApp, g: crate::domain::GuildId, rows: &[(u64, &str, &str)]) {
    for (user, command, outcome) in rows {
        app.ts
            .store
            .write(g, |w| w.append_command_log(row(*user, command, outcome)))
            .unwrap();
        app.ts.clock.advance(chrono::Duration::minutes(1));
    }
}

fn commands(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["command"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_command_log_lists_rows_newest_first_for_a_viewer() {
    let app = TestApp::new();
    log(
        &app,
        G,
        &[(5, "daily", "ok"), (6, "give", "insufficient_funds")],
    );
    let tok = app.login("viewer").await;
    let a = app.get(&format!("/api/{}/command-log", G.0), &tok).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["total"], 2);
    assert_eq!(a.body["limit"], 50);
    assert_eq!(commands(&a.body), ["give", "daily"]);
    let first = &a.body["items"][0];
    assert_eq!(first["user_id"], "6");
    assert_eq!(first["outcome"], "insufficient_funds");
    assert_eq!(first["duration_ms"], 7);
    assert_eq!(first["kind"], "command");
    assert!(first["at"].is_string() && first["id"].is_u64());
    let a = app
        .send(
            axum::http::Method::GET,
            &format!("/api/{}/command-log", G.0),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_filter_narrows_the_command_log() {
    let app = TestApp::new();
    let start = app.ts.store.now();
    log(
        &app,
        G,
        &[
            (1, "daily", "ok"),
            (2, "give", "denied"),
            (1, "shop buy", "insufficient_funds"),
            (2, "daily", "ok"),
        ],
    );
    let tok = app.login("admin").await;
    let q = |query: String| {
        let app = &app;
        let tok = tok.clone();
        async move {
            let a = app
                .get(&format!("/api/{}/command-log?{query}", G.0), &tok)
                .await;
            assert_eq!(a.status, StatusCode::OK, "{query}: {}", a.body);
            (a.body["total"].as_u64().unwrap(), commands(&a.body))
        }
    };
    assert_eq!(
        q("user=1".into()).await,
        (2, vec!["shop buy".into(), "daily".into()])
    );
    assert_eq!(q("command=daily".into()).await.0, 2);
    assert_eq!(q("command=shop%20buy".into()).await.1, ["shop buy"]);
    assert_eq!(q("outcome=ok".into()).await.0, 2);
    assert_eq!(q("outcome=error".into()).await.1, ["shop buy", "give"]);
    assert_eq!(q("outcome=denied".into()).await.1, ["give"]);
    let at = |m: i64| (start + chrono::Duration::minutes(m)).to_rfc3339();
    let window = format!(
        "start_date={}&end_date={}",
        urlencode(&at(1)),
        urlencode(&at(3))
    );
    assert_eq!(q(window).await.1, ["shop buy", "give"]);
    assert_eq!(
        q("limit=1&offset=1".into()).await,
        (4, vec!["shop buy".into()])
    );
    let tomorrow = (start + chrono::Duration::days(1)).format("%Y-%m-%d");
    assert_eq!(q(format!("start_date={tomorrow}")).await.0, 0);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn bad_dates_and_limits_are_400_naming_the_parameter() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    for (query, field) in [
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-13-01", "end_date"),
        ("limit=0", "limit"),
        ("user=bob", "user"),
    ] {
        let a = app
            .get(&format!("/api/{}/command-log?{query}", G.0), &tok)
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(a.code(), "invalid_parameter");
        assert_eq!(a.body["error"]["details"]["field"], field, "{query}");
    }
    // An end before the start is an empty window, not an error.
    let a = app
        .get(
            &format!(
                "/api/{}/command-log?start_date=2026-03-02&end_date=2026-03-01",
                G.0
            ),
            &tok,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["total"], 0, "{}", a.body);
}

#[tokio::test]
async fn a_server_sees_only_its_own_command_log() {
    let app = TestApp::new();
    log(&app, G, &[(1, "daily", "ok")]);
    log(&app, G2, &[(1, "give", "ok"), (2, "balance", "ok")]);
    let tok = app.login("admin").await;
    let a = app.get(&format!("/api/{}/command-log", G.0), &tok).await;
    assert_eq!(commands(&a.body), ["daily"]);
    let a = app.get(&format!("/api/{}/command-log", G2.0), &tok).await;
    assert_eq!(commands(&a.body), ["balance", "give"]);
    let a = app.get("/api/333/command-log", &tok).await;
    assert_eq!(
        (a.status, a.body["total"].as_u64()),
        (StatusCode::OK, Some(0))
    );
}
