//! Instance endpoints: settings, whole-instance export, logs, bot presence and restart; all
//! writes admin-only and audited under server 0.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G, G2};
use crate::instance::INSTANCE;
use crate::telemetry::logbuf::LogLine;

#[tokio::test]
async fn settings_show_the_defaults_and_patch_runtime_values() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let a = app.get("/api/settings", &tok).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["guild_defaults"]["currency_name"], "coins");
    assert_eq!(a.body["runtime"]["log_buffer_level"], "info");
    let a = app
        .put(
            "/api/settings",
            &tok,
            json!({"dashboard_notice": "Maintenance at 5", "log_buffer_level": "warn"}),
        )
        .await;
    assert_eq!(
        (a.status, a.body["dashboard_notice"].as_str()),
        (StatusCode::OK, Some("Maintenance at 5"))
    );
    assert_eq!(app.last_audit(INSTANCE).action, "settings.update");
    let a = app.get("/api/settings", &tok).await;
    assert_eq!(a.body["runtime"]["log_buffer_level"], "warn");
    for (patch, field) in [
        (json!({"currency_name": "x"}), "currency_name"),
        (json!({"log_buffer_level": "loud"}), "log_buffer_level"),
    ] {
        let a = app.put("/api/settings", &tok, patch).await;
        assert_eq!(
            (a.status, a.body["error"]["details"]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field))
        );
    }
    let viewer = app.login("viewer").await;
    let a = app
        .put("/api/settings", &viewer, json!({"dashboard_notice": "x"}))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = app.get("/api/settings", &viewer).await;
    assert_eq!(a.body["runtime"]["dashboard_notice"], "Maintenance at 5");
}

#[tokio::test]
async fn the_instance_export_holds_every_server_with_its_data() {
    let app = TestApp::new();
    app.fund(G, 5, 100);
    app.fund(G2, 6, 7);
    let tok = app.login("admin").await;
    app.post(
        &format!("/api/{}/shop", G.0),
        &tok,
        json!({"name": "Gem", "price": 3}),
    )
    .await;
    app.post(
        &format!("/api/{}/tasks", G2.0),
        &tok,
        json!({"name": "Draw", "reward": 3}),
    )
    .await;
    let a = app.get("/api/export", &tok).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("coffer-export-"));
    let guilds = a.body["guilds"].as_array().unwrap();
    assert_eq!(guilds.len(), 2);
    assert_eq!(
        (
            guilds[0]["id"].as_str(),
            guilds[0]["accounts"][0]["balance"].as_i64()
        ),
        (Some("111"), Some(100))
    );
    assert_eq!(guilds[0]["items"][0]["name"], "Gem");
    assert_eq!(guilds[1]["tasks"][0]["name"], "Draw");
    assert_eq!(guilds[1]["config"]["currency_name"], "coins");
    assert_eq!(guilds[0]["ledger"][0]["amount"], 100, "the ledger is in it");
    let a = app.send(Method::GET, "/api/export", None, None, &[]).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);

    // One server, and its ledger as CSV.
    let a = app.get(&format!("/api/export?guild={}", G2.0), &tok).await;
    let guilds = a.body["guilds"].as_array().unwrap();
    assert_eq!((guilds.len(), guilds[0]["id"].as_str()), (1, Some("222")));
    let a = app
        .get(&format!("/api/export?guild={}&format=csv", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = a.body.as_str().unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains(",5,"), "{csv}");
    // Without a server: every server's ledger, each row led by its server's id.
    let a = app.get("/api/export?format=csv", &tok).await;
    assert_eq!(a.status, StatusCode::OK);
    let csv = a.body.as_str().unwrap();
    assert!(csv.starts_with("guild_id,id,"), "{csv}");
    assert!(csv.lines().any(|l| l.contains(",5,")), "{csv}");
    let a = app.get("/api/export?format=xml", &tok).await;
    assert_eq!(
        (a.code(), a.body["error"]["details"]["field"].as_str()),
        ("invalid_parameter", Some("format"))
    );
}

fn line(level: &str, message: &str) -> LogLine {
    LogLine {
        at: chrono::Utc::now(),
        level: level.into(),
        target: "coffer::test".into(),
        message: message.into(),
    }
}

#[tokio::test]
async fn logs_are_filtered_by_level_and_text_and_cleared_by_admins() {
    let app = TestApp::new();
    let buf = app.logs.clone();
    buf.push(line("info", "store opened"));
    buf.push(line("warn", "Discord said 429"));
    buf.push(line("error", "sync failed: Missing Access"));
    let tok = app.login("admin").await;
    let a = app.get("/api/logs", &tok).await;
    assert_eq!(a.body["lines"].as_array().unwrap().len(), 3);
    let a = app.get("/api/logs?level=warn", &tok).await;
    assert_eq!(a.body["lines"].as_array().unwrap().len(), 2);
    let a = app.get("/api/logs?q=missing", &tok).await;
    assert_eq!(a.body["lines"][0]["level"], "error");
    let a = app.get("/api/logs?level=loud", &tok).await;
    assert_eq!(a.body["error"]["details"]["field"], "level");
    let viewer = app.login("viewer").await;
    let a = app.delete("/api/logs", &viewer).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = app.delete("/api/logs", &tok).await;
    assert_eq!(
        (a.status, a.body["cleared"].as_u64()),
        (StatusCode::OK, Some(3))
    );
    assert_eq!(app.last_audit(INSTANCE).action, "logs.clear");
    let a = app.get("/api/logs", &tok).await;
    assert!(a.body["lines"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bot_presence_is_stored_validated_and_restart_is_requested() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let a = app.get("/api/bot/status", &tok).await;
    assert_eq!(
        (a.body["status"].as_str(), a.body["discord"].as_str()),
        (Some("online"), Some("off"))
    );
    let (_, mut events) = app
        .services
        .bus
        .resume(app.services.bus.next_seq() - 1, Default::default());
    let a = app
        .put(
            "/api/bot/status",
            &tok,
            json!({"status": "idle", "activity_type": "watching", "text": "the shop"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (a.body["status"].as_str(), a.body["text"].as_str()),
        (Some("idle"), Some("the shop"))
    );
    assert_eq!(app.last_audit(INSTANCE).action, "bot.status");
    let e = events.recv().await.unwrap();
    assert_eq!(
        (e.guild, e.kind),
        (INSTANCE, crate::events::EventKind::BotStatusChanged)
    );
    let a = app
        .put("/api/bot/status", &tok, json!({"status": "asleep"}))
        .await;
    assert_eq!(
        (a.status, a.body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("status"))
    );
    let a = app.get("/api/bot/status", &tok).await;
    assert_eq!(a.body["status"], "idle");

    let viewer = app.login("viewer").await;
    for (m, p) in [
        (Method::PUT, "/api/bot/status"),
        (Method::POST, "/api/restart"),
    ] {
        let a = app.send(m, p, Some(&viewer), Some(json!({})), &[]).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{p}");
    }
    let a = app.post("/api/restart", &tok, json!({})).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    let e = events.recv().await.unwrap();
    assert_eq!(e.kind, crate::events::EventKind::RestartRequested);
    let a = app.get("/api/bot/status", &tok).await;
    assert!(a.body["restart_requested_at"].is_string());
    assert_eq!(app.last_audit(INSTANCE).action, "bot.restart");
}

#[tokio::test]
async fn status_endpoints_report_the_live_discord_connection() {
    use crate::instance::Connection;
    let app = TestApp::new();
    let a = app.get("/api/status", "").await;
    assert_eq!(
        (
            a.body["discord"].as_str(),
            a.body["discord_guilds"].as_u64()
        ),
        (Some("off"), Some(0))
    );
    app.services.bot.set_connection(Connection::Connected);
    app.services.bot.set_guilds(4);
    let a = app.get("/api/status", "").await;
    assert_eq!(
        (
            a.body["discord"].as_str(),
            a.body["discord_guilds"].as_u64()
        ),
        (Some("connected"), Some(4))
    );
    app.services.bot.connection_lost();
    let tok = app.login("viewer").await;
    let a = app.get("/api/bot/status", &tok).await;
    assert_eq!(
        (
            a.body["discord"].as_str(),
            a.body["discord_guilds"].as_u64()
        ),
        (Some("reconnecting"), Some(4))
    );
}

#[tokio::test]
async fn backups_are_taken_listed_downloaded_and_verified_by_admins_only() {
    let app = TestApp::new();
    app.fund(G, 1, 500);
    let tok = app.login("admin").await;
    let viewer = app.login("viewer").await;
    assert_eq!(app.get("/api/backups", &tok).await.body, json!([]));
    let made = app.post("/api/backups", &tok, json!({})).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let name = made.body["name"].as_str().unwrap().to_owned();
    let list = app.get("/api/backups", &tok).await;
    assert_eq!(list.body[0]["name"], name.as_str());
    assert_eq!(list.body[0]["checksummed"], true);
    let file = app.get(&format!("/api/backups/{name}"), &tok).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.headers["content-type"], "application/octet-stream",
        "a database file"
    );
    assert_eq!(
        file.headers["content-length"].to_str().unwrap(),
        made.body["bytes"].to_string()
    );
    let v = app
        .post(&format!("/api/backups/{name}/verify"), &tok, json!({}))
        .await;
    assert_eq!(
        (v.body["ok"].as_bool(), v.body["accounts"].as_u64()),
        (Some(true), Some(1)),
        "{}",
        v.body
    );
    // Viewers see none of it; unknown or path-like names are refused.
    for path in ["/api/backups".to_owned(), format!("/api/backups/{name}")] {
        let a = app.get(&path, &viewer).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}");
    }
    let a = app
        .get("/api/backups/coffer-20000101T000000Z.redb", &tok)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app.get("/api/backups/..%2Fcoffer.redb", &tok).await;
    assert!(a.status.is_client_error(), "{}", a.status);
    assert_ne!(a.status, StatusCode::OK);
}
