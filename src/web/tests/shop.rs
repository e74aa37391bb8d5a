//! Shop endpoints: items, stock, bulk toggles and inventories; viewers can't write, ids of one
//! server are unreachable through another, and every dashboard write is audited.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G, G2};
use crate::domain::UserId;

async fn create(app: &TestApp, tok: &str, g: u64, body: serde_json::Value) -> u64 {
    app.create_item(tok, g, body).await
}

#[tokio::test]
async fn items_are_created_listed_filtered_read_and_audited() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let a = app
        .post(
            &format!("/api/{}/shop", G.0),
            &tok,
            json!({"name": "Ticket", "price": 50, "stock": 3, "category": "fun"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert_eq!(
        (a.body["price"].as_i64(), a.body["stock"].as_i64()),
        (Some(50), Some(3))
    );
    let ticket = a.body["id"].as_u64().unwrap();
    let audit = app.last_audit(G);
    assert_eq!(
        (audit.action.as_str(), audit.actor.to_string()),
        ("shop.item.create", "dashboard:admin".into())
    );
    create(
        &app,
        &tok,
        G.0,
        json!({"name": "Badge", "price": 5, "stock": 0, "active": false}),
    )
    .await;

    let viewer = app.login("viewer").await;
    let all = app.get(&format!("/api/{}/shop", G.0), &viewer).await;
    assert_eq!(all.body.as_array().unwrap().len(), 2);
    let a = app
        .get(&format!("/api/{}/shop?active_only=true", G.0), &viewer)
        .await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    let a = app
        .get(
            &format!("/api/{}/shop?include_out_of_stock=false", G.0),
            &viewer,
        )
        .await;
    assert_eq!(a.body[0]["name"], "Ticket");
    let a = app
        .get(&format!("/api/{}/shop?category=FUN", G.0), &viewer)
        .await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    let a = app
        .get(&format!("/api/{}/shop/{ticket}", G.0), &viewer)
        .await;
    assert_eq!(
        (a.status, a.body["name"].as_str()),
        (StatusCode::OK, Some("Ticket"))
    );
}

#[tokio::test]
async fn invalid_items_are_refused_naming_the_field() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/shop", G.0);
    for (body, field) in [
        (json!({"name": "", "price": 5}), "name"),
        (json!({"name": "X", "price": 0}), "price"),
        (json!({"name": "X", "price": 5, "stock": -7}), "stock"),
    ] {
        let a = app.post(&path, &tok, body).await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
        );
        assert_eq!(a.body["error"]["details"]["field"], field);
    }
    let a = app.post(&path, &tok, json!({"price": 5})).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    create(&app, &tok, G.0, json!({"name": "Dup", "price": 5})).await;
    let a = app
        .post(&path, &tok, json!({"name": "dup", "price": 9}))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn edit_stock_and_delete_change_the_item_and_its_outbox() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(
        &app,
        &tok,
        G.0,
        json!({"name": "Cake", "price": 10, "stock": 5}),
    )
    .await;
    let item = format!("/api/{}/shop/{id}", G.0);
    let a = app
        .put(&item, &tok, json!({"price": 12, "emoji": "🍰"}))
        .await;
    assert_eq!(
        (a.status, a.body["price"].as_i64()),
        (StatusCode::OK, Some(12))
    );
    assert_eq!(app.last_audit(G).action, "shop.item.update");
    let a = app.put(&item, &tok, json!({"prize": 12})).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    let a = app.put(&item, &tok, json!({"price": -1})).await;
    assert_eq!(a.body["error"]["details"]["field"], "price");

    let stock = format!("{item}/stock");
    let a = app
        .put(&stock, &tok, json!({"quantity": 4, "operation": "add"}))
        .await;
    assert_eq!(a.body["stock"], 9);
    let a = app
        .put(
            &stock,
            &tok,
            json!({"quantity": 2, "operation": "subtract"}),
        )
        .await;
    assert_eq!(a.body["stock"], 7);
    let a = app
        .put(
            &stock,
            &tok,
            json!({"quantity": 8, "operation": "subtract"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let a = app
        .put(&stock, &tok, json!({"quantity": -1, "operation": "set"}))
        .await;
    assert_eq!(a.body["stock"], -1);
    let a = app.put(&stock, &tok, json!({"quantity": -5})).await;
    assert_eq!(a.body["error"]["details"]["field"], "quantity");
    let a = app
        .put(&stock, &tok, json!({"quantity": 1, "operation": "double"}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);

    let a = app.delete(&item, &tok).await;
    assert_eq!(
        (a.status, a.body["id"].as_u64()),
        (StatusCode::OK, Some(id))
    );
    assert_eq!(app.last_audit(G).action, "shop.item.delete");
    let rec = app
        .ts
        .store
        .read(G, |r| {
            r.sync_record(crate::store::outbox::SyncKind::ShopItem, id)
        })
        .unwrap()
        .expect("the item's message is in the outbox");
    assert!(rec.delete && rec.delete_message);
    let a = app.get(&item, &tok).await;
    assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "not_found"));
    let a = app.delete(&item, &tok).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bulk_toggles_apply_to_all_or_none() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let a = create(&app, &tok, G.0, json!({"name": "A", "price": 1})).await;
    let b = create(&app, &tok, G.0, json!({"name": "B", "price": 1})).await;
    let bulk = format!("/api/{}/shop/bulk", G.0);
    let r = app
        .post(&bulk, &tok, json!({"item_ids": [a, b], "action": "hide"}))
        .await;
    assert_eq!(
        (r.status, r.body["updated"].as_u64()),
        (StatusCode::OK, Some(2))
    );
    let items = app
        .services
        .shop
        .list_items(G, &crate::shop::ItemFilter::all())
        .unwrap();
    assert!(items.iter().all(|i| !i.visible));
    let r = app
        .post(&bulk, &tok, json!({"item_ids": [a, 999], "action": "show"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let items = app
        .services
        .shop
        .list_items(G, &crate::shop::ItemFilter::all())
        .unwrap();
    assert!(items.iter().all(|i| !i.visible), "nothing applied");
    let r = app
        .post(&bulk, &tok, json!({"item_ids": [], "action": "show"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(&bulk, &tok, json!({"item_ids": [a], "action": "explode"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn inventory_is_listed_added_to_and_removed_from() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(&app, &tok, G.0, json!({"name": "Gem", "price": 3})).await;
    let inv = format!("/api/{}/users/7/inventory", G.0);
    let a = app
        .post(&inv, &tok, json!({"item_id": id, "quantity": 3}))
        .await;
    assert_eq!(
        (a.status, a.body["quantity"].as_u64()),
        (StatusCode::OK, Some(3))
    );
    assert_eq!(app.last_audit(G).action, "shop.inventory.add");
    let a = app.get(&inv, &tok).await;
    assert_eq!(
        (
            a.body["items"][0]["name"].as_str(),
            a.body["items"][0]["quantity"].as_u64()
        ),
        (Some("Gem"), Some(3))
    );
    let a = app.delete(&format!("{inv}/{id}?quantity=2"), &tok).await;
    assert_eq!(a.body["quantity"], 1);
    let a = app.delete(&format!("{inv}/{id}?quantity=5"), &tok).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let a = app
        .post(&inv, &tok, json!({"item_id": id, "quantity": 0}))
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "quantity");
    let a = app
        .post(&inv, &tok, json!({"item_id": 404, "quantity": 1}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.services.shop.inventory(G, UserId(7)).unwrap()[0].quantity,
        1
    );
}

#[tokio::test]
async fn viewers_cannot_write_to_the_shop() {
    let app = TestApp::new();
    let admin = app.login("admin").await;
    let id = create(&app, &admin, G.0, json!({"name": "Gem", "price": 3})).await;
    let tok = app.login("viewer").await;
    let g = G.0;
    for (method, path, body) in [
        (
            Method::POST,
            format!("/api/{g}/shop"),
            json!({"name": "X", "price": 1}),
        ),
        (
            Method::PUT,
            format!("/api/{g}/shop/{id}"),
            json!({"price": 1}),
        ),
        (Method::DELETE, format!("/api/{g}/shop/{id}"), json!({})),
        (
            Method::PUT,
            format!("/api/{g}/shop/{id}/stock"),
            json!({"quantity": 1}),
        ),
        (
            Method::POST,
            format!("/api/{g}/shop/bulk"),
            json!({"item_ids": [id], "action": "hide"}),
        ),
        (
            Method::POST,
            format!("/api/{g}/users/1/inventory"),
            json!({"item_id": id}),
        ),
        (
            Method::DELETE,
            format!("/api/{g}/users/1/inventory/{id}"),
            json!({}),
        ),
    ] {
        let a = app
            .send(method.clone(), &path, Some(&tok), Some(body), &[])
            .await;
        assert_eq!(
            (a.status, a.code()),
            (StatusCode::FORBIDDEN, "read_only"),
            "{method} {path}"
        );
    }
    assert_eq!(app.services.shop.get_item(G, id).unwrap().price.get(), 3);
}

#[tokio::test]
async fn an_item_of_one_server_is_not_reachable_through_another() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let id = create(
        &app,
        &tok,
        G.0,
        json!({"name": "Gem", "price": 3, "stock": 5}),
    )
    .await;
    let other = format!("/api/{}/shop/{id}", G2.0);
    assert_eq!(app.get(&other, &tok).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.put(&other, &tok, json!({"price": 9})).await.status,
        StatusCode::NOT_FOUND
    );
    let a = app
        .put(&format!("{other}/stock"), &tok, json!({"quantity": 0}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&other, &tok).await.status, StatusCode::NOT_FOUND);
    let a = app
        .post(
            &format!("/api/{}/shop/bulk", G2.0),
            &tok,
            json!({"item_ids": [id], "action": "hide"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app
        .post(
            &format!("/api/{}/users/1/inventory", G2.0),
            &tok,
            json!({"item_id": id}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(app
        .get(&format!("/api/{}/shop", G2.0), &tok)
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());
    let item = app.services.shop.get_item(G, id).unwrap();
    assert_eq!(
        (item.price.get(), item.stock.raw(), item.visible),
        (3, 5, true)
    );
}

#[tokio::test]
async fn a_repeated_idempotency_key_creates_one_item() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/shop", G.0);
    let body = json!({"name": "Once", "price": 3});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let a = app
            .send(
                Method::POST,
                &path,
                Some(&tok),
                Some(body.clone()),
                &[("idempotency-key", "k-1")],
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED);
        ids.push(a.body["id"].as_u64());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(
        app.services
            .shop
            .list_items(G, &crate::shop::ItemFilter::all())
            .unwrap()
            .len(),
        1
    );
}
