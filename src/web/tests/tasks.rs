//! Task endpoints: CRUD, close/reopen, claims, submissions and review; viewers can't write,
//! and a task id of one server is unreachable through another.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G, G2};
use crate::domain::tasks::Proof;
use crate::domain::{Actor, Source, UserId};
use crate::economy::OpMeta;

async fn create(app: &TestApp, tok: &str, g: u64, body: serde_json::Value) -> u64 {
    let a = app.post(&format!("/api/{g}/tasks"), tok, body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    a.body["id"].as_u64().unwrap()
}

/// Member `u` claims the task and submits proof, through the service (the Discord door).
fn claim_and_submit(app: &TestApp, task: u64, u: u64) {
    let meta = OpMeta {
        actor: Actor::User(UserId(u)),
        source: Source::DiscordCommand,
        idempotency_key: None,
    };
    app.services.tasks.claim(G, task, UserId(u), &meta).unwrap();
    let proof = Proof {
        content: "done, see screenshot".into(),
        attachments: vec![],
    };
    app.services
        .tasks
        .submit(G, task, UserId(u), proof, &meta)
        .unwrap();
}

#[tokio::test]
async fn tasks_are_created_listed_read_edited_and_deleted() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(
        &app,
        &tok,
        G.0,
        json!({"name": "Welcome", "description": "Greet people", "reward": 100, "max_claims": 2}),
    )
    .await;
    assert_eq!(app.last_audit(G).action, "task.create");
    create(
        &app,
        &tok,
        G.0,
        json!({"name": "Art", "reward": 5, "category": "fun"}),
    )
    .await;
    let viewer = app.login("viewer").await;
    let a = app.get(&format!("/api/{}/tasks", G.0), &viewer).await;
    assert_eq!(
        (a.status, a.body["total"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let a = app
        .get(&format!("/api/{}/tasks?category=FUN", G.0), &viewer)
        .await;
    assert_eq!(a.body["items"][0]["name"], "Art");
    let a = app
        .get(&format!("/api/{}/tasks?status=nope", G.0), &viewer)
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "status");

    let task = format!("/api/{}/tasks/{id}", G.0);
    let a = app.get(&task, &viewer).await;
    assert_eq!(
        (a.body["reward"].as_i64(), a.body["status"].as_str()),
        (Some(100), Some("active"))
    );
    let a = app
        .put(&task, &tok, json!({"reward": 150, "role_id": null}))
        .await;
    assert_eq!(
        (a.status, a.body["reward"].as_i64()),
        (StatusCode::OK, Some(150))
    );
    assert_eq!(app.last_audit(G).action, "task.edit");
    let a = app.delete(&task, &tok).await;
    assert_eq!(
        (a.status, a.body["claims_removed"].as_u64()),
        (StatusCode::OK, Some(0))
    );
    assert_eq!(app.last_audit(G).action, "task.delete");
    let a = app.get(&task, &tok).await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(
        app.services
            .tasks
            .list(G, &Default::default())
            .unwrap()
            .total,
        1
    );
}

#[tokio::test]
async fn invalid_tasks_are_refused_naming_the_field() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/tasks", G.0);
    for (body, field) in [
        (json!({"name": "", "reward": 5}), "name"),
        (json!({"name": "X", "reward": 0}), "reward"),
        (
            json!({"name": "X", "reward": 5, "duration_hours": 0}),
            "duration_hours",
        ),
    ] {
        let a = app.post(&path, &tok, body).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
        assert_eq!(a.body["error"]["details"]["field"], field);
    }
    let a = app
        .post(&path, &tok, json!({"name": "X", "reward": 5, "bogus": 1}))
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    let id = create(&app, &tok, G.0, json!({"name": "X", "reward": 5})).await;
    let a = app
        .put(&format!("{path}/{id}"), &tok, json!({"reward": -3}))
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "reward");
    assert_eq!(app.services.tasks.get(G, id).unwrap().reward.get(), 5);
}

#[tokio::test]
async fn close_and_reopen_change_the_status_once() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(&app, &tok, G.0, json!({"name": "X", "reward": 5})).await;
    let base = format!("/api/{}/tasks/{id}", G.0);
    let a = app.post(&format!("{base}/close"), &tok, json!({})).await;
    assert_eq!(
        (a.status, a.body["status"].as_str()),
        (StatusCode::OK, Some("closed"))
    );
    assert_eq!(app.last_audit(G).action, "task.close");
    let a = app.post(&format!("{base}/close"), &tok, json!({})).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let a = app.post(&format!("{base}/reopen"), &tok, json!({})).await;
    assert_eq!(a.body["status"], "active");
    let a = app
        .post(&format!("/api/{}/tasks/99/close", G.0), &tok, json!({}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn submissions_are_listed_and_accepted_or_rejected() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(&app, &tok, G.0, json!({"name": "X", "reward": 40})).await;
    claim_and_submit(&app, id, 5);
    claim_and_submit(&app, id, 6);
    let a = app
        .get(&format!("/api/{}/tasks/submissions", G.0), &tok)
        .await;
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    assert_eq!(a.body[0]["task"]["id"].as_u64(), Some(id));
    let a = app
        .get(&format!("/api/{}/tasks/{id}/claims", G.0), &tok)
        .await;
    assert_eq!(a.body[1]["status"], "submitted");

    let claims = format!("/api/{}/tasks/{id}/claims", G.0);
    let a = app
        .post(&format!("{claims}/5/accept"), &tok, json!({}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["claim"]["status"], "accepted");
    assert_eq!(
        app.services
            .economy
            .account(G, UserId(5))
            .unwrap()
            .balance
            .get(),
        40
    );
    assert_eq!(app.last_audit(G).actor.to_string(), "dashboard:admin");
    let a = app
        .post(&format!("{claims}/5/accept"), &tok, json!({}))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(
        app.services
            .economy
            .account(G, UserId(5))
            .unwrap()
            .balance
            .get(),
        40
    );

    let a = app
        .post(&format!("{claims}/6/reject"), &tok, json!({}))
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "reason");
    let a = app
        .post(
            &format!("{claims}/6/reject"),
            &tok,
            json!({"reason": "blurry"}),
        )
        .await;
    assert_eq!(
        (a.body["status"].as_str(), a.body["review_message"].as_str()),
        (Some("in_progress"), Some("blurry"))
    );
    assert_eq!(app.last_audit(G).action, "task.claim.reject");
    let a = app
        .post(&format!("{claims}/7/accept"), &tok, json!({}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app
        .get(&format!("/api/{}/tasks/submissions", G.0), &tok)
        .await;
    assert!(a.body.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn viewers_cannot_write_tasks() {
    let app = TestApp::new();
    let admin = app.login("admin").await;
    let id = create(&app, &admin, G.0, json!({"name": "X", "reward": 5})).await;
    claim_and_submit(&app, id, 5);
    let tok = app.login("viewer").await;
    let t = format!("/api/{}/tasks/{id}", G.0);
    for (method, path) in [
        (Method::POST, format!("/api/{}/tasks", G.0)),
        (Method::PUT, t.clone()),
        (Method::DELETE, t.clone()),
        (Method::POST, format!("{t}/close")),
        (Method::POST, format!("{t}/reopen")),
        (Method::POST, format!("{t}/claims/5/accept")),
        (Method::POST, format!("{t}/claims/5/reject")),
    ] {
        let body = json!({"name": "Y", "reward": 1, "reason": "no"});
        let a = app
            .send(method.clone(), &path, Some(&tok), Some(body), &[])
            .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "read_only"),
            "{method} {path}"
        );
    }
    assert_eq!(app.services.tasks.awaiting_review(G).unwrap().len(), 1);
}

#[tokio::test]
async fn a_task_of_one_server_is_not_reachable_through_another() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(&app, &tok, G.0, json!({"name": "X", "reward": 5})).await;
    claim_and_submit(&app, id, 5);
    let t = format!("/api/{}/tasks/{id}", G2.0);
    assert_eq!(app.get(&t, &tok).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put(&t, &tok, json!({"reward": 9})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("{t}/claims"), &tok).await.status,
        StatusCode::NOT_FOUND
    );
    for action in ["close", "claims/5/accept"] {
        let a = app.post(&format!("{t}/{action}"), &tok, json!({})).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(app.delete(&t, &tok).await.status, StatusCode::NOT_FOUND);
    let a = app
        .get(&format!("/api/{}/tasks/submissions", G2.0), &tok)
        .await;
    assert!(a.body.as_array().unwrap().is_empty());
    let task = app.services.tasks.get(G, id).unwrap();
    assert_eq!((task.reward.get(), task.current_claims), (5, 1));
}
