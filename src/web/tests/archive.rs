//! Ledger archive over HTTP: old entries move out, balances and validation hold, the export
//! can include them, and the archive stays scoped to its server.

use axum::http::StatusCode;
use serde_json::json;

use super::{TestApp, G, G2};

#[tokio::test]
async fn archiving_keeps_balances_validation_and_the_export_complete() {
    let app = TestApp::new();
    let old = app.fund(G, 5, 100);
    app.fund(G2, 5, 7);
    app.ts.clock.advance(chrono::Duration::days(10));
    app.fund(G, 5, 1);
    let tok = app.login("admin").await;
    let a = app
        .post(
            &format!("/api/{}/transactions/archive", G.0),
            &tok,
            json!({"days_to_keep": 5}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (a.body["archived"].as_u64(), a.body["users"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(app.last_audit(G).action, "transactions.archive");

    let a = app.get(&format!("/api/{}/users/5", G.0), &tok).await;
    assert_eq!(a.body["account"]["balance"], 101);
    let a = app
        .post(
            &format!("/api/{}/transactions/validate", G.0),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(
        (
            a.body["ok"].as_bool(),
            a.body["report"]["archived_entries"].as_u64()
        ),
        (Some(true), Some(1))
    );
    let a = app.get(&format!("/api/{}/transactions", G.0), &tok).await;
    assert_eq!(a.body["total"], 1);
    let a = app
        .get(
            &format!("/api/{}/transactions?include_archived=true", G.0),
            &tok,
        )
        .await;
    assert_eq!(a.body["total"], 2);
    let a = app
        .get(&format!("/api/{}/transactions/{old}", G.0), &tok)
        .await;
    assert_eq!(
        (a.status, a.body["amount"].as_i64()),
        (StatusCode::OK, Some(100))
    );

    let export = format!("/api/{}/transactions/export?format=json", G.0);
    let a = app.get(&export, &tok).await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    let a = app
        .get(&format!("{export}&include_archived=true&sort=oldest"), &tok)
        .await;
    let ids: Vec<_> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![old, old + 1]);
    let a = app
        .get(
            &format!("/api/{}/transactions/export?include_archived=true", G.0),
            &tok,
        )
        .await;
    assert_eq!(
        a.body.as_str().unwrap().lines().count(),
        3,
        "CSV header and two rows"
    );

    // The other server's ledger was not touched.
    let a = app.get(&format!("/api/{}/transactions", G2.0), &tok).await;
    assert_eq!(a.body["total"], 1);
}

#[tokio::test]
async fn archive_refuses_bad_retention_and_viewers() {
    let app = TestApp::new();
    app.fund(G, 5, 100);
    app.ts.clock.advance(chrono::Duration::days(10));
    let path = format!("/api/{}/transactions/archive", G.0);
    let tok = app.login("admin").await;
    let a = app.post(&path, &tok, json!({"days_to_keep": 0})).await;
    assert_eq!(
        (a.status, a.body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("days_to_keep"))
    );
    let a = app.post(&path, &tok, json!({"days": 3})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let viewer = app.login("viewer").await;
    let a = app.post(&path, &viewer, json!({"days_to_keep": 1})).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = app.get(&format!("/api/{}/transactions", G.0), &tok).await;
    assert_eq!(a.body["total"], 1, "nothing archived");
}
