//! The dashboard's forms beyond users and shop, through the router with the browser's cookies:
//! tasks and the review queue, config, custom commands, the embed builder, the log viewer and
//! its runtime level, settings and backups. Each change is checked through the API, which
//! shares the service call.

use axum::http::StatusCode;

use super::pages::Browser;
use super::{TestApp, G};
use crate::domain::tasks::Proof;
use crate::domain::{Actor, Source, UserId};
use crate::economy::OpMeta;

fn html(a: &super::Answer) -> String {
    a.body.as_str().unwrap_or_default().to_owned()
}

async fn admin(app: &TestApp) -> (Browser, String) {
    (app.browser("admin").await, app.login("admin").await)
}

#[tokio::test]
async fn tasks_are_created_by_form_and_submissions_reviewed_from_the_queue() {
    let app = TestApp::new();
    let (b, tok) = admin(&app).await;
    let path = format!("/servers/{}/tasks", G.0);
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("name", "Greet"),
                ("reward", "x"),
                ("duration_hours", "24"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&a).contains("id=\"f-reward-error\""), "{}", html(&a));
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("name", "Greet"),
                ("reward", "75"),
                ("duration_hours", "24"),
                ("max_claims", "-1"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let list = app.get(&format!("/api/{}/tasks", G.0), &tok).await;
    let id = list.body["items"][0]["id"].as_u64().expect("created");
    // A member claims and submits on Discord; the queue shows it; Accept pays the reward.
    let meta = OpMeta {
        actor: Actor::User(UserId(7)),
        source: Source::DiscordCommand,
        idempotency_key: None,
    };
    app.services.tasks.claim(G, id, UserId(7), &meta).unwrap();
    let proof = Proof {
        content: "said hello".into(),
        attachments: vec![],
    };
    app.services
        .tasks
        .submit(G, id, UserId(7), proof, &meta)
        .unwrap();
    let page = html(&app.page(&path, Some(&b)).await);
    assert!(
        page.contains("said hello"),
        "the review queue lists the proof"
    );
    let review = format!("/servers/{}/tasks/{id}/claims/7/review", G.0);
    let a = app
        .form(
            &review,
            Some(&b),
            &[("csrf", &b.csrf), ("decision", "accept")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let u = app.get(&format!("/api/{}/users/7", G.0), &tok).await;
    assert_eq!(u.body["account"]["balance"], 75);
    let page = html(&app.page(&path, Some(&b)).await);
    assert!(page.contains("Nothing waits for review."));
}

#[tokio::test]
async fn the_config_form_sends_only_what_changed_and_the_currency_shows_everywhere() {
    let app = TestApp::new();
    app.fund(G, 42, 1500);
    let (b, tok) = admin(&app).await;
    let path = format!("/servers/{}/config", G.0);
    let before = app.get(&format!("/api/{}/config", G.0), &tok).await.body;
    let mut fields: Vec<(String, String)> = vec![("csrf".into(), b.csrf.clone())];
    for k in [
        "currency_name",
        "daily_amount",
        "daily_cooldown_hours",
        "starting_balance",
        "min_account_age_hours",
        "transfer_tax_percent",
        "rate_limit_per_minute",
        "max_tasks_per_user",
    ] {
        let v = match &before[k] {
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        fields.push((k.into(), v));
    }
    fields.push(("currency_symbol".into(), "$".into()));
    fields.push(("require_proof".into(), "on".into()));
    fields.push(("auto_expire_enabled".into(), "on".into()));
    fields.push(("allow_user_tasks".into(), "on".into()));
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let a = app.form(&path, Some(&b), &pairs).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", html(&a));
    let after = app.get(&format!("/api/{}/config", G.0), &tok).await.body;
    assert_eq!(after["currency_symbol"], "$");
    assert_eq!(after["daily_amount"], before["daily_amount"]);
    let users = html(&app.page(&format!("/servers/{}/users", G.0), Some(&b)).await);
    assert!(
        users.contains("$ 1,500"),
        "balances use the server's symbol"
    );
    // A bad number sits next to its field; a refusal from the service next to the field it names.
    let mut bad = pairs.clone();
    bad.retain(|(k, _)| *k != "daily_amount");
    bad.push(("daily_amount", "plenty"));
    let a = app.form(&path, Some(&b), &bad).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&a).contains("id=\"f-daily_amount-error\""));
    let mut bad = pairs.clone();
    bad.retain(|(k, _)| *k != "currency_name");
    bad.push(("currency_name", ""));
    let a = app.form(&path, Some(&b), &bad).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&a).contains("id=\"f-currency_name-error\""),
        "{}",
        html(&a)
    );
}

#[tokio::test]
async fn custom_commands_and_embed_templates_are_made_by_form_with_field_errors() {
    let app = TestApp::new();
    let (b, tok) = admin(&app).await;
    let path = format!("/servers/{}/commands", G.0);
    let a = app
        .form(
            &path,
            Some(&b),
            &[("csrf", &b.csrf), ("name", "Bad Name!"), ("response", "hi")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&a).contains("id=\"f-name-error\""));
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("name", "rules"),
                ("response", "Be kind, {user}."),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let list = app.get(&format!("/api/{}/commands", G.0), &tok).await;
    assert_eq!(list.body[0]["name"], "rules");

    let path = format!("/servers/{}/embeds", G.0);
    let page = html(&app.page(&path, Some(&b)).await);
    assert!(
        page.contains("id=\"embed-preview\""),
        "the builder has a preview"
    );
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("name", "Rules"),
                ("title", "House rules"),
                ("color", "purple"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(&a);
    assert!(page.contains("id=\"f-color-error\""));
    assert!(
        page.contains("House rules"),
        "the preview shows what was typed"
    );
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("name", "Rules"),
                ("title", "House rules"),
                ("color", "#5865F2"),
                ("footer", "Mods"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", html(&a));
    let list = app.get(&format!("/api/{}/embeds", G.0), &tok).await;
    assert_eq!(list.body[0]["embed"]["color"], 0x5865F2);
    assert_eq!(list.body[0]["embed"]["footer"]["text"], "Mods");
}

#[tokio::test]
async fn the_log_viewer_filters_and_the_level_changes_at_runtime() {
    let app = TestApp::new();
    let (b, tok) = admin(&app).await;
    for (level, msg) in [("info", "payment settled"), ("warn", "disk nearly full")] {
        app.logs.push(crate::telemetry::logbuf::LogLine {
            at: chrono::Utc::now(),
            level: level.into(),
            target: "coffer::test".into(),
            message: msg.into(),
        });
    }
    let page = html(&app.page("/logs", Some(&b)).await);
    assert!(page.contains("payment settled") && page.contains("disk nearly full"));
    assert!(page.contains("data-poll=\""), "the viewer refreshes itself");
    let page = html(&app.page("/logs?level=warn", Some(&b)).await);
    assert!(!page.contains("payment settled") && page.contains("disk nearly full"));
    let page = html(&app.page("/logs?q=PAYMENT", Some(&b)).await);
    assert!(page.contains("payment settled") && !page.contains("disk nearly full"));
    let a = app
        .form(
            "/logs/level",
            Some(&b),
            &[("csrf", &b.csrf), ("level", "debug")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    let s = app.get("/api/settings", &tok).await;
    assert_eq!(s.body["runtime"]["log_buffer_level"], "debug");
    let a = app
        .form(
            "/logs/level",
            Some(&b),
            &[("csrf", &b.csrf), ("level", "loud")],
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown level is refused"
    );
    let a = app
        .form(
            "/logs/clear",
            Some(&b),
            &[("csrf", &b.csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(html(&app.page("/logs", Some(&b)).await).contains("No log lines match."));
}

#[tokio::test]
async fn backups_are_for_admins_and_taken_from_the_page() {
    let app = TestApp::new();
    let (b, _) = admin(&app).await;
    let a = app.form("/backups", Some(&b), &[("csrf", &b.csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", html(&a));
    let page = html(&app.page("/backups", Some(&b)).await);
    assert!(
        page.contains("coffer-") && page.contains("Download"),
        "{page}"
    );
    let viewer = app.browser("viewer").await;
    let page = html(&app.page("/backups", Some(&viewer)).await);
    assert!(!page.contains("Download") && page.contains("only admin accounts"));
}

#[tokio::test]
async fn a_bad_filter_is_shown_next_to_its_field_not_as_an_error_page() {
    let app = TestApp::new();
    app.fund(G, 42, 10);
    let (b, _) = admin(&app).await;
    let page = html(
        &app.page(&format!("/servers/{}/users?search=abc", G.0), Some(&b))
            .await,
    );
    assert!(page.contains("id=\"f-search-error\""), "{page}");
    let a = app
        .page(
            &format!("/servers/{}/transactions?start_date=yesterday", G.0),
            Some(&b),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(html(&a).contains("is not a date"), "{}", html(&a));
    let a = app.page("/servers/0/users", Some(&b)).await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "server 0 is not a server"
    );
}

#[tokio::test]
async fn the_notification_centre_links_each_problem_to_where_it_is_fixed() {
    use crate::guild::{SyncKind, SyncState};
    let app = TestApp::new();
    app.fund(G, 42, 10);
    let (b, tok) = admin(&app).await;
    let page = html(&app.page("/notifications", Some(&b)).await);
    assert!(page.contains("all clear"), "{page}");
    let item = app
        .create_item(&tok, G.0, serde_json::json!({"name": "Gem", "price": 5}))
        .await;
    app.ts
        .store
        .write(G, |w| -> Result<(), crate::Error> {
            let mut r = w.sync_record(SyncKind::ShopItem, item)?.expect("record");
            r.state = SyncState::Failed;
            r.last_error = Some("Missing Access".into());
            w.put_sync_record(&r)?;
            let g = w.record_role_grant(UserId(6), crate::domain::RoleId(9), "item:2")?;
            w.finish_role_grant(g.id, Err("Missing Permissions".into()))?;
            Ok(())
        })
        .unwrap();
    let page = html(&app.page("/notifications", Some(&b)).await);
    assert!(
        page.contains("1 Discord message(s) failed to sync"),
        "{page}"
    );
    assert!(page.contains(&format!("href=\"/servers/{}/sync?state=failed\"", G.0)));
    assert!(page.contains("1 role reward(s) could not be given"));
    assert!(page.contains(&format!("href=\"/servers/{}/config#role-grants\"", G.0)));
    // The sync page shows the reason, and Retry there runs the API's retry.
    let sync = html(
        &app.page(&format!("/servers/{}/sync?state=failed", G.0), Some(&b))
            .await,
    );
    assert!(sync.contains("Missing Access"));
    let a = app
        .form(
            &format!("/servers/{}/sync/shop_item/{item}", G.0),
            Some(&b),
            &[("csrf", &b.csrf), ("action", "retry")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", html(&a));
    assert_eq!(app.last_audit(G).action, "sync.retry");
    let config = html(
        &app.page(&format!("/servers/{}/config", G.0), Some(&b))
            .await,
    );
    assert!(
        config.contains("Missing Permissions"),
        "the role grant and its reason"
    );
}

#[tokio::test]
async fn a_failed_backup_is_on_record_and_the_notification_links_to_it() {
    let app = TestApp::new();
    app.fund(G, 1, 10);
    let (b, tok) = admin(&app).await;
    let dir = app.services.backups.dir().to_owned();
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    // A file where the backup folder should be.
    std::fs::write(&dir, b"in the way").unwrap();
    let a = app.post("/api/backups", &tok, serde_json::json!({})).await;
    assert!(a.status.is_server_error(), "{} {}", a.status, a.body);
    assert_eq!(a.body["error"]["code"], "backup_failed", "{}", a.body);
    let said = a.body["error"]["message"].as_str().unwrap();
    assert!(
        said.starts_with("The backup failed: ") && said.contains("backups"),
        "{said}"
    );
    let attempts = app.get("/api/backups/attempts", &tok).await;
    assert_eq!(attempts.status, StatusCode::OK);
    assert_eq!(attempts.body[0]["ok"], false, "{}", attempts.body);
    assert_eq!(attempts.body[0]["trigger"], "manual");
    let error = attempts.body[0]["error"].as_str().unwrap().to_owned();
    assert!(!error.is_empty());

    let page = html(&app.page("/notifications", Some(&b)).await);
    assert!(
        page.contains("The last backup (asked for) failed"),
        "{page}"
    );
    assert!(page.contains("href=\"/backups#attempts\""), "{page}");
    let backups = html(&app.page("/backups", Some(&b)).await);
    assert!(backups.contains("id=\"attempts\""), "{backups}");
    assert!(backups.contains("The last backup failed"), "{backups}");

    // Once one works, the notification is gone and both attempts are listed.
    std::fs::remove_file(&dir).unwrap();
    let a = app.post("/api/backups", &tok, serde_json::json!({})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let page = html(&app.page("/notifications", Some(&b)).await);
    assert!(!page.contains("The last backup"), "{page}");
    let attempts = app.get("/api/backups/attempts", &tok).await;
    assert_eq!(attempts.body.as_array().map(Vec::len), Some(2));
    assert_eq!(attempts.body[0]["ok"], true);
    // Viewers see none of it.
    let viewer = app.login("viewer").await;
    let a = app.get("/api/backups/attempts", &viewer).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn role_rewards_custom_commands_and_embed_templates_are_paged() {
    let app = TestApp::new();
    let (b, tok) = admin(&app).await;
    for i in 0..27 {
        let a = app
            .post(
                &format!("/api/{}/commands", G.0),
                &tok,
                serde_json::json!({"name": format!("cmd{i:02}"), "response": "hi"}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let a = app
            .post(
                &format!("/api/{}/embeds", G.0),
                &tok,
                serde_json::json!({"name": format!("emb{i:02}"), "embed": {"title": format!("T{i}")}}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    }
    app.ts
        .store
        .write(G, |w| -> Result<(), crate::Error> {
            for i in 0..27 {
                w.record_role_grant(
                    UserId(100 + i),
                    crate::domain::RoleId(9),
                    format!("item:{i}"),
                )?;
            }
            Ok(())
        })
        .unwrap();
    let rows = |page: &str, marker: &str| page.matches(marker).count();
    for (path, marker, first, last) in [
        ("/commands", "<code>/cmd", "/cmd00<", "/cmd26<"),
        ("/embeds", "<td>emb", ">emb00<", ">emb26<"),
        ("/config", "<td>item:", ">item:26<", ">item:0<"),
    ] {
        let url = format!("/servers/{}{path}", G.0);
        let one = html(&app.page(&url, Some(&b)).await);
        assert_eq!(rows(&one, marker), 25, "{path}: {one}");
        assert!(one.contains(first), "{path} starts with {first}");
        assert!(one.contains("Page 1 of 2"), "{path}");
        assert!(
            one.contains(&format!("href=\"{url}?page=2\"")),
            "{path}: {one}"
        );
        let two = html(&app.page(&format!("{url}?page=2"), Some(&b)).await);
        assert_eq!(rows(&two, marker), 2, "{path}: {two}");
        assert!(two.contains(last), "{path} ends with {last}: {two}");
    }
}
