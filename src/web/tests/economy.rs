//! Servers, users, balances, transactions, audit and status endpoints.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G, G2};
use crate::domain::UserId;

#[tokio::test]
async fn status_is_public_and_counts_guilds() {
    let app = TestApp::new();
    app.fund(G, 1, 10);
    let a = app.send(Method::GET, "/api/status", None, None, &[]).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["online"], true);
    assert_eq!(a.body["guilds"], 1);
    assert_eq!(a.body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn servers_lists_every_guild_with_accounts() {
    let app = TestApp::new();
    app.fund(G, 1, 10);
    app.fund(G, 2, 10);
    app.fund(G2, 1, 10);
    let tok = app.login("viewer").await;
    let a = app.get("/api/servers", &tok).await;
    assert_eq!(a.status, StatusCode::OK);
    let ids: Vec<_> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].clone(), s["accounts"].clone()))
        .collect();
    assert_eq!(
        ids,
        vec![(json!("111"), json!(2)), (json!("222"), json!(1))]
    );
}

#[tokio::test]
async fn users_are_paged_sorted_searched_and_inactive_ones_hidden() {
    let app = TestApp::new();
    for (u, amount) in [(101, 50), (102, 300), (203, 10), (204, 70)] {
        app.fund(G, u, amount);
    }
    app.services
        .economy
        .set_active(G, UserId(204), false, &crate::domain::Actor::System.into())
        .unwrap();
    let tok = app.login("viewer").await;
    let a = app.get(&format!("/api/{}/users", G.0), &tok).await;
    assert_eq!(a.status, StatusCode::OK);
    let users: Vec<_> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["102", "101", "203"]);
    assert_eq!(a.body["total"], 3);
    // The default view comes from the leaderboard index: poorest first, paged, and current
    // after a later change.
    app.fund(G, 203, 1_000);
    let ids = |a: &crate::web::tests::Answer| -> Vec<String> {
        a.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let a = app
        .get(&format!("/api/{}/users?order=asc&per_page=2", G.0), &tok)
        .await;
    assert_eq!(ids(&a), ["101", "102"]);
    let a = app
        .get(&format!("/api/{}/users?per_page=2&page=2", G.0), &tok)
        .await;
    assert_eq!(ids(&a), ["101"]);
    assert_eq!(
        (a.body["total"].as_u64(), a.body["pages"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(a.body["items"][0]["balance"], 50);

    let a = app
        .get(
            &format!(
                "/api/{}/users?include_inactive=true&sort_by=user_id&order=asc&per_page=2&page=2",
                G.0
            ),
            &tok,
        )
        .await;
    let users: Vec<_> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users, ["203", "204"]);
    assert_eq!(
        (a.body["total"].as_u64(), a.body["pages"].as_u64()),
        (Some(4), Some(2))
    );

    let a = app
        .get(&format!("/api/{}/users?search=10", G.0), &tok)
        .await;
    assert_eq!(a.body["total"], 2);

    for bad in ["sort_by=name", "per_page=0", "order=up", "search=abc"] {
        let a = app.get(&format!("/api/{}/users?{bad}", G.0), &tok).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{bad}"
        );
        assert!(a.body["error"]["details"]["field"].is_string());
    }
}

#[tokio::test]
async fn one_user_with_recent_entries_or_404() {
    let app = TestApp::new();
    app.fund(G, 5, 40);
    let tok = app.login("viewer").await;
    let a = app.get(&format!("/api/{}/users/5", G.0), &tok).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["account"]["balance"], 40);
    assert_eq!(a.body["recent_transactions"][0]["type"], "admin_add");
    let a = app.get(&format!("/api/{}/users/6", G.0), &tok).await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "not_found"));
    // Not visible through another guild either.
    let a = app.get(&format!("/api/{}/users/5", G2.0), &tok).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn balance_amounts_out_of_range_are_refused_at_the_edge_and_change_nothing() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    app.fund(G, 9, 250);
    let path = format!("/api/{}/users/9/balance", G.0);
    for body in [
        json!({"amount": 1_000_000_000_001_i64}),
        json!({"amount": i64::MIN}),
        json!({"amount": -1_000_000_000_001_i64}),
        json!({"amount": i64::MAX}),
        json!({"amount": 1_000_000_000_001_i64, "set": true}),
        json!({"amount": i64::MIN, "set": true}),
    ] {
        let a = app.put(&path, &tok, body.clone()).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount"),
            "{body}"
        );
    }
    let a = app
        .put(&path, &tok, json!({"amount": 1_000_000_000_001_i64}))
        .await;
    assert_eq!(
        a.body["error"]["message"],
        "Invalid amount: the amount can be at most 1,000,000,000,000."
    );
    // The service would refuse the reason first; the edge sees the amount before any service.
    let long = "x".repeat(501);
    let a = app
        .put(&path, &tok, json!({"amount": i64::MIN, "reason": long}))
        .await;
    assert_eq!(a.code(), "invalid_amount");
    let a = app.get(&format!("/api/{}/users/9", G.0), &tok).await;
    assert_eq!(a.body["account"]["balance"], 250);
    assert_eq!(
        a.body["recent_transactions"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn balance_add_remove_and_set_write_ledger_entries_with_the_dashboard_actor() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/users/9/balance", G.0);
    let a = app
        .put(&path, &tok, json!({"amount": 100, "reason": "prize"}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (
            a.body["balance_before"].as_i64(),
            a.body["balance"].as_i64()
        ),
        (Some(0), Some(100))
    );
    assert_eq!(a.body["transaction"]["actor"], "dashboard:admin");
    assert_eq!(a.body["transaction"]["source"], "dashboard");
    let a = app.put(&path, &tok, json!({"amount": -30})).await;
    assert_eq!(a.body["balance"], 70);
    assert_eq!(a.body["transaction"]["type"], "admin_remove");
    let a = app
        .put(&path, &tok, json!({"amount": 500, "set": true}))
        .await;
    assert_eq!(a.body["balance"], 500);
    assert_eq!(a.body["transaction"]["type"], "admin_set");
    // Refusals: zero, too much removed, negative set.
    let a = app.put(&path, &tok, json!({"amount": 0})).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount")
    );
    let a = app.put(&path, &tok, json!({"amount": -501})).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "would_go_negative")
    );
    let a = app
        .put(&path, &tok, json!({"amount": -1, "set": true}))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let a = app.put(&path, &tok, json!({"reason": "no amount"})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let account = app
        .ts
        .store
        .read(G, |r| r.account(UserId(9)))
        .unwrap()
        .unwrap();
    assert_eq!(account.balance.get(), 500);
    // Audited.
    let a = app
        .get(&format!("/api/audit/{}?action=balance.", G.0), &tok)
        .await;
    assert_eq!(a.body["total"], 3);
    assert_eq!(a.body["items"][0]["action"], "balance.set");
    assert_eq!(a.body["items"][0]["actor"], "dashboard:admin");
}

#[tokio::test]
async fn an_idempotency_key_applies_a_write_once() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/users/9/balance", G.0);
    for _ in 0..2 {
        let a = app
            .send(
                Method::PUT,
                &path,
                Some(&tok),
                Some(json!({"amount": 25})),
                &[("idempotency-key", "k-1")],
            )
            .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["balance"], 25);
    }
    let account = app
        .ts
        .store
        .read(G, |r| r.account(UserId(9)))
        .unwrap()
        .unwrap();
    assert_eq!(account.balance.get(), 25);
    // The same key for a different operation is refused.
    let a = app
        .send(
            Method::POST,
            &format!("/api/{}/transactions/1/reverse", G.0),
            Some(&tok),
            Some(json!({})),
            &[("idempotency-key", "k-1")],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
}

/// Issue 8: key K with +100 for user 8, then K with +999 for user 9, used to answer 200 with
/// the first result and silently drop the second write.
#[tokio::test]
async fn a_key_reused_with_a_different_body_is_refused_and_changes_nothing() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let put = |user: u64, amount: i64| {
        let app = &app;
        let tok = tok.clone();
        async move {
            app.send(
                Method::PUT,
                &format!("/api/{}/users/{user}/balance", G.0),
                Some(&tok),
                Some(json!({"amount": amount})),
                &[("idempotency-key", "K")],
            )
            .await
        }
    };
    let first = put(8, 100).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let reused = put(9, 999).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        "{}",
        reused.body
    );
    // Same path, other body: refused as well.
    let reused = put(8, 999).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The same request again still replays the first answer.
    let again = put(8, 100).await;
    assert_eq!((again.status, &again.body), (StatusCode::OK, &first.body));
    let balance = |u: u64| {
        app.ts
            .store
            .read(G, |r| r.account(UserId(u)))
            .unwrap()
            .map_or(0, |a| a.balance.get())
    };
    assert_eq!((balance(8), balance(9)), (100, 0));
    // Another dashboard account sending the same key and body is another request: refused.
    crate::accounts::set_password(
        &app.ts.store,
        "admin2",
        super::PW,
        Some(crate::store::admins::AdminRole::Admin),
    )
    .unwrap();
    let tok2 = app.login("admin2").await;
    let other = app
        .send(
            Method::PUT,
            &format!("/api/{}/users/8/balance", G.0),
            Some(&tok2),
            Some(json!({"amount": 100})),
            &[("idempotency-key", "K")],
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        other.body
    );
    assert_eq!(balance(8), 100);
}

#[tokio::test]
async fn inactive_cleanup_and_reactivate() {
    let app = TestApp::new();
    app.fund(G, 1, 10);
    app.ts.clock.advance(chrono::Duration::days(40));
    app.fund(G, 2, 10);
    let tok = app.login("admin").await;
    let a = app
        .get(&format!("/api/{}/users/inactive?days=30", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(a.body["items"][0]["user_id"], "1");
    let a = app
        .post(
            &format!("/api/{}/users/cleanup", G.0),
            &tok,
            json!({"days": 30}),
        )
        .await;
    assert_eq!(a.body["deactivated"], json!(["1"]));
    let audit = app.last_audit(G);
    assert_eq!(audit.action, "users.cleanup");
    assert_eq!(audit.actor.to_string(), "dashboard:admin");
    assert!(
        !app.ts
            .store
            .read(G, |r| r.account(UserId(1)))
            .unwrap()
            .unwrap()
            .active
    );
    let a = app
        .post(
            &format!("/api/{}/users/cleanup", G.0),
            &tok,
            json!({"days": 0}),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
    );
    let a = app
        .send(
            Method::POST,
            &format!("/api/{}/users/1/reactivate", G.0),
            Some(&tok),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["active"], true);
    assert_eq!(app.last_audit(G).action, "user.activate");
    let a = app
        .send(
            Method::POST,
            &format!("/api/{}/users/77/reactivate", G.0),
            Some(&tok),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(app
        .ts
        .store
        .read(G, |r| r.account(UserId(77)))
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn transactions_are_filtered_paged_and_sorted() {
    let app = TestApp::new();
    app.fund(G, 1, 10);
    app.ts.clock.advance(chrono::Duration::days(2));
    app.fund(G, 2, 30);
    app.fund(G, 1, 20);
    let tok = app.login("viewer").await;
    let base = format!("/api/{}/transactions", G.0);
    let a = app.get(&base, &tok).await;
    assert_eq!(a.body["total"], 3);
    assert_eq!(a.body["items"][0]["id"], 3);
    let a = app
        .get(&format!("{base}?user_id=1&sort=oldest"), &tok)
        .await;
    let amounts: Vec<_> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [10, 20]);
    let a = app
        .get(&format!("{base}?sort=amount_desc&limit=1&offset=1"), &tok)
        .await;
    assert_eq!(a.body["items"][0]["amount"], 20);
    let day = (app.ts.store.now()).format("%Y-%m-%d").to_string();
    let a = app
        .get(&format!("{base}?start_date={day}&end_date={day}"), &tok)
        .await;
    assert_eq!(a.body["total"], 2);
    let a = app.get(&format!("{base}?type=daily"), &tok).await;
    assert_eq!(a.body["total"], 0);
    for bad in [
        "type=bogus",
        "start_date=yesterday",
        "limit=0",
        "limit=5000",
        "sort=random",
        "user_id=x",
    ] {
        let a = app.get(&format!("{base}?{bad}"), &tok).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_transaction_of_one_guild_is_not_readable_or_reversible_through_another() {
    let app = TestApp::new();
    let id = app.fund(G, 1, 10);
    let tok = app.login("admin").await;
    let a = app
        .get(&format!("/api/{}/transactions/{id}", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["guild_id"], "111");
    let a = app
        .get(&format!("/api/{}/transactions/{id}", G2.0), &tok)
        .await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "not_found"));
    let a = app
        .post(
            &format!("/api/{}/transactions/{id}/reverse", G2.0),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.ts
            .store
            .read(G, |r| r.account(UserId(1)))
            .unwrap()
            .unwrap()
            .balance
            .get(),
        10
    );
}

#[tokio::test]
async fn reverse_refunds_once_then_conflicts() {
    let app = TestApp::new();
    let id = app.fund(G, 1, 10);
    let tok = app.login("admin").await;
    let path = format!("/api/{}/transactions/{id}/reverse", G.0);
    let a = app.post(&path, &tok, json!({"reason": "mistake"})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["reversed"], json!([id]));
    assert_eq!(a.body["refunds"][0]["amount"], -10);
    let a = app.post(&path, &tok, json!({})).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "already_reversed")
    );
    assert_eq!(a.body["error"]["details"]["original"], id);
    assert_eq!(
        app.ts
            .store
            .read(G, |r| r.account(UserId(1)))
            .unwrap()
            .unwrap()
            .balance
            .get(),
        0
    );
}

#[tokio::test]
async fn statistics_and_validation_report_on_the_ledger() {
    let app = TestApp::new();
    app.fund(G, 1, 10);
    app.fund(G, 2, 30);
    let tok = app.login("admin").await;
    let a = app
        .get(
            &format!("/api/{}/transactions/statistics?period=week", G.0),
            &tok,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        (a.body["earned"].as_i64(), a.body["count"].as_u64()),
        (Some(40), Some(2))
    );
    assert_eq!(
        a.body["top_earners"][0],
        json!({"user_id": "2", "amount": 30})
    );
    assert_eq!(a.body["by_type"]["admin_add"]["sum"], 40);
    let a = app
        .get(
            &format!("/api/{}/transactions/statistics?period=year", G.0),
            &tok,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = app
        .send(
            Method::POST,
            &format!("/api/{}/transactions/validate", G.0),
            Some(&tok),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (a.body["scope"].as_str(), a.body["ok"].as_bool()),
        (Some("guild"), Some(true))
    );
    assert_eq!(a.body["report"]["total_currency"], 40);
    let a = app
        .post(
            &format!("/api/{}/transactions/validate", G.0),
            &tok,
            json!({"user_id": "2"}),
        )
        .await;
    assert_eq!(a.body["scope"], "user");
    assert_eq!(a.body["report"]["expected_balance"], 30);
}

#[tokio::test]
async fn the_audit_log_pages_newest_first() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    for amount in [1, 2, 3] {
        app.put(
            &format!("/api/{}/users/4/balance", G.0),
            &tok,
            json!({"amount": amount}),
        )
        .await;
    }
    let a = app
        .get(&format!("/api/audit/{}?per_page=2&page=2", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body["total"], 3);
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(a.body["items"][0]["after"]["balance"], 1);
    let a = app
        .get(&format!("/api/audit/{}?action=shop.", G.0), &tok)
        .await;
    assert_eq!(a.body["total"], 0);
    let a = app.get(&format!("/api/audit/{}", G2.0), &tok).await;
    assert_eq!(a.body["total"], 0);
}
