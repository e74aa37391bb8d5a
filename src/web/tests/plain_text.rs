//! The JSON API and the CSV export speak plain text: refusals and ledger entries that name a
//! member carry ids as data, never Discord mention markup.

use axum::http::StatusCode;
use serde_json::json;

use super::{TestApp, G};
use crate::domain::{Money, Source, UserId};
use crate::economy::OpMeta;

#[tokio::test]
async fn a_refused_admin_remove_names_the_member_in_words_and_details() {
    let app = TestApp::new();
    app.fund(G, 9, 50);
    let tok = app.login("admin").await;
    let a = app
        .put(
            &format!("/api/{}/users/9/balance", G.0),
            &tok,
            json!({"amount": -51}),
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "would_go_negative")
    );
    let text = a.body.to_string();
    assert!(!text.contains("<@"), "{text}");
    assert_eq!(
        a.body["error"]["message"],
        "User 9 has only 50 coins; you can remove at most that."
    );
    assert_eq!(
        a.body["error"]["details"],
        json!({"user_id": "9", "balance": 50, "currency": "coins"})
    );
}

#[tokio::test]
async fn a_refused_inventory_remove_names_the_member_in_words_and_details() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let item = app
        .create_item(&tok, G.0, json!({"name": "Gem", "price": 3}))
        .await;
    let inv = format!("/api/{}/users/7/inventory", G.0);
    let a = app
        .post(&inv, &tok, json!({"item_id": item, "quantity": 1}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = app.delete(&format!("{inv}/{item}?quantity=2"), &tok).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "would_go_negative")
    );
    assert!(!a.body.to_string().contains("<@"), "{}", a.body);
    assert_eq!(
        a.body["error"]["details"],
        json!({"user_id": "7", "item_id": item, "item": "Gem", "held": 1})
    );
}

#[tokio::test]
async fn a_transfers_entries_read_as_plain_text_in_the_list_and_the_csv() {
    let app = TestApp::new();
    app.fund(G, 1, 100);
    app.services
        .economy
        .transfer(
            G,
            UserId(1),
            UserId(2),
            Money::new(40),
            &OpMeta::user(UserId(1), Source::DiscordCommand),
        )
        .unwrap();
    let tok = app.login("viewer").await;
    let a = app
        .get(&format!("/api/{}/transactions?sort=oldest", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.body.to_string().contains("<@"), "{}", a.body);
    let legs: Vec<_> = a.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
        .map(|t| {
            (
                t["description"].as_str().unwrap().to_owned(),
                t["metadata"]["counterparty"].clone(),
            )
        })
        .collect();
    assert_eq!(
        legs,
        [
            ("Sent to user 2".to_owned(), json!("2")),
            ("Received from user 1".to_owned(), json!("1")),
        ]
    );
    let a = app
        .get(&format!("/api/{}/transactions/export", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let csv = a.body.as_str().unwrap();
    assert!(csv.contains("Sent to user 2"), "{csv}");
    assert!(csv.contains("Received from user 1"), "{csv}");
    assert!(!csv.contains("<@"), "{csv}");
}
