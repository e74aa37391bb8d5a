//! Announcement and embed template endpoints: CRUD, pin/unpin, announce a task, the
//! delete-message flag reaching the outbox; viewers can't write; ids don't cross servers.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G, G2};
use crate::store::outbox::{SyncKind, SyncRecord};

fn sync(app: &TestApp, kind: SyncKind, id: u64) -> SyncRecord {
    app.ts
        .store
        .read(G, |r| r.sync_record(kind, id))
        .unwrap()
        .expect("an outbox record")
}

async fn create(app: &TestApp, tok: &str, g: u64) -> u64 {
    let a = app
        .post(
            &format!("/api/{g}/announcements"),
            tok,
            json!({"title": "News", "content": "Hello all", "channel": "500"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_u64().unwrap()
}

#[tokio::test]
async fn announcements_are_created_listed_edited_pinned_and_deleted() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(&app, &tok, G.0).await;
    assert_eq!(app.last_audit(G).action, "announcement.create");
    assert_eq!(sync(&app, SyncKind::Announcement, id).desired_version, 1);
    let a = app.get(&format!("/api/{}/announcements", G.0), &tok).await;
    assert_eq!(
        (
            a.body["total"].as_u64(),
            a.body["items"][0]["channel"].as_str()
        ),
        (Some(1), Some("500"))
    );
    let one = format!("/api/{}/announcements/{id}", G.0);
    let a = app
        .put(&one, &tok, json!({"content": "Hello everyone"}))
        .await;
    assert_eq!(
        (a.status, a.body["content"].as_str()),
        (StatusCode::OK, Some("Hello everyone"))
    );
    assert_eq!(sync(&app, SyncKind::Announcement, id).desired_version, 2);
    assert_eq!(a.body["allow_mentions"], false, "nothing pings by default");
    let a = app.put(&one, &tok, json!({"allow_mentions": true})).await;
    assert_eq!(a.body["allow_mentions"], true, "{}", a.body);
    assert_eq!(sync(&app, SyncKind::Announcement, id).desired_version, 3);
    let a = app.post(&format!("{one}/pin"), &tok, json!({})).await;
    assert_eq!(a.body["pinned"], true);
    assert_eq!(app.last_audit(G).action, "announcement.pin");
    let a = app.post(&format!("{one}/unpin"), &tok, json!({})).await;
    assert_eq!(a.body["pinned"], false);
    let a = app.get(&one, &tok).await;
    assert_eq!(a.body["pinned"], false);

    let a = app
        .delete(&format!("{one}?delete_discord_message=false"), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let rec = sync(&app, SyncKind::Announcement, id);
    assert!(rec.delete && !rec.delete_message, "the message stays up");
    assert_eq!(app.get(&one, &tok).await.status, StatusCode::NOT_FOUND);

    let id = create(&app, &tok, G.0).await;
    let one = format!("/api/{}/announcements/{id}", G.0);
    let a = app
        .send(
            Method::DELETE,
            &one,
            Some(&tok),
            Some(json!({"delete_discord_message": true})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(sync(&app, SyncKind::Announcement, id).delete_message);
}

#[tokio::test]
async fn invalid_announcements_are_refused_naming_the_field() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/announcements", G.0);
    let a = app
        .post(
            &path,
            &tok,
            json!({"title": "", "content": "x", "channel": "5"}),
        )
        .await;
    assert_eq!(
        (a.status, a.body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("title"))
    );
    let a = app
        .post(&path, &tok, json!({"title": "T", "content": "x"}))
        .await;
    assert_eq!(
        a.status,
        StatusCode::CONFLICT,
        "no announcement channel set: {}",
        a.body
    );
    let a = app
        .post(&path, &tok, json!({"title": "T", "colour": 1}))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    let id = create(&app, &tok, G.0).await;
    let a = app
        .put(
            &format!("{path}/{id}"),
            &tok,
            json!({"content": "", "embed": null}),
        )
        .await;
    // Each field is fine; laid over the announcement they leave nothing to show.
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "conflict"),
        "{}",
        a.body
    );
    let a = app.get(&format!("{path}/99"), &tok).await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn a_task_is_announced_with_its_reward() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let t = app
        .post(
            &format!("/api/{}/tasks", G.0),
            &tok,
            json!({"name": "Draw", "reward": 75}),
        )
        .await;
    let task = t.body["id"].as_u64().unwrap();
    let path = format!("/api/{}/announcements/task/{task}", G.0);
    let a = app.post(&path, &tok, json!({"channel": "42"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(a.body["origin"], format!("task:{task}"));
    assert!(a.body["embed"]["fields"][0]["value"]
        .as_str()
        .unwrap()
        .contains("75"));
    let a = app
        .post(
            &format!("/api/{}/announcements/task/99", G.0),
            &tok,
            json!({"channel": "42"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app
        .post(
            &format!("/api/{}/announcements/task/{task}", G2.0),
            &tok,
            json!({"channel": "42"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "task of another server");
}

#[tokio::test]
async fn embed_templates_are_created_edited_and_deleted() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/embeds", G.0);
    let a = app
        .post(
            &path,
            &tok,
            json!({"name": "Rules", "embed": {"title": "Rules", "description": "Be kind"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let id = a.body["id"].as_u64().unwrap();
    assert_eq!(app.last_audit(G).action, "embed.create");
    let a = app
        .post(
            &path,
            &tok,
            json!({"name": "rules", "embed": {"title": "x"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let a = app
        .post(
            &path,
            &tok,
            json!({"name": "Bad", "embed": {"url": "ftp://x"}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.body["error"]["details"]["field"]
        .as_str()
        .unwrap()
        .starts_with("embed."));
    let a = app.get(&path, &tok).await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    let one = format!("{path}/{id}");
    let a = app.put(&one, &tok, json!({"channel": "77"})).await;
    assert_eq!(a.body["channel"], "77");
    assert_eq!(
        sync(&app, SyncKind::Embed, id).channel.map(|c| c.0),
        Some(77)
    );
    let a = app.get(&one, &tok).await;
    assert_eq!(a.body["name"], "Rules");
    let a = app.delete(&one, &tok).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(sync(&app, SyncKind::Embed, id).delete);
    assert_eq!(app.get(&one, &tok).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn viewers_cannot_write_announcements_or_embeds() {
    let app = TestApp::new();
    let admin = app.login("admin").await;
    let id = create(&app, &admin, G.0).await;
    let tok = app.login("viewer").await;
    let g = G.0;
    for (method, path) in [
        (Method::POST, format!("/api/{g}/announcements")),
        (Method::PUT, format!("/api/{g}/announcements/{id}")),
        (Method::DELETE, format!("/api/{g}/announcements/{id}")),
        (Method::POST, format!("/api/{g}/announcements/{id}/pin")),
        (Method::POST, format!("/api/{g}/announcements/{id}/unpin")),
        (Method::POST, format!("/api/{g}/announcements/task/1")),
        (Method::POST, format!("/api/{g}/embeds")),
        (Method::PUT, format!("/api/{g}/embeds/1")),
        (Method::DELETE, format!("/api/{g}/embeds/1")),
    ] {
        let a = app
            .send(method.clone(), &path, Some(&tok), Some(json!({})), &[])
            .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "read_only"),
            "{method} {path}"
        );
    }
    assert!(!app.services.announce.get(G, id).unwrap().pinned);
}

#[tokio::test]
async fn announcements_and_embeds_of_one_server_are_not_reachable_through_another() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(&app, &tok, G.0).await;
    let e = app
        .post(
            &format!("/api/{}/embeds", G.0),
            &tok,
            json!({"name": "E", "embed": {"title": "t"}}),
        )
        .await;
    let eid = e.body["id"].as_u64().unwrap();
    let one = format!("/api/{}/announcements/{id}", G2.0);
    assert_eq!(app.get(&one, &tok).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put(&one, &tok, json!({"content": "x"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&format!("{one}/pin"), &tok, json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.delete(&one, &tok).await.status, StatusCode::NOT_FOUND);
    let emb = format!("/api/{}/embeds/{eid}", G2.0);
    assert_eq!(app.get(&emb, &tok).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put(&emb, &tok, json!({"name": "F"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.delete(&emb, &tok).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.services.announce.get(G, id).unwrap().content,
        "Hello all"
    );
    assert_eq!(app.services.announce.embed(G, eid).unwrap().name, "E");
}
