//! Server settings, pickers (channels, roles, members), role grants, sync state with retry /
//! repost, and custom commands (old and per-server paths).

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{TestApp, G, G2};
use crate::domain::{ChannelId, RoleId, UserId};
use crate::guild::MemberProfile;
use crate::store::directory::{ChannelInfo, ChannelKind, RoleInfo};
use crate::store::outbox::{SyncKind, SyncState};

#[tokio::test]
async fn config_is_read_and_merge_patched_with_refusals_naming_the_field() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let path = format!("/api/{}/config", G.0);
    let a = app.get(&path, &tok).await;
    assert_eq!(
        (a.status, a.body["currency_name"].as_str()),
        (StatusCode::OK, Some("coins"))
    );
    let a = app
        .put(
            &path,
            &tok,
            json!({"currency_name": "gems", "features": {"shop": false}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (
            a.body["currency_name"].as_str(),
            a.body["features"]["shop"].as_bool()
        ),
        (Some("gems"), Some(false))
    );
    assert_eq!(
        a.body["features"]["tasks"], true,
        "other features untouched"
    );
    let audit = app.last_audit(G);
    assert_eq!(
        (audit.action.as_str(), audit.actor.to_string()),
        ("config.update", "dashboard:admin".into())
    );
    let refused = (StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // A value of the wrong JSON type is refused before the merge, against the document.
    let wrong_type = (StatusCode::BAD_REQUEST, "invalid_body");
    for (patch, field, answer) in [
        (json!({"currency_nam": "x"}), "currency_nam", refused),
        (json!({"daily_amount": -5}), "daily_amount", refused),
        (json!({"daily_amount": "lots"}), "daily_amount", wrong_type),
        (
            json!({"features": {"casino": true}}),
            "features.casino",
            refused,
        ),
    ] {
        let a = app.put(&path, &tok, patch).await;
        assert_eq!((a.status, a.code()), answer);
        assert_eq!(a.body["error"]["details"]["field"], field);
    }
    assert_eq!(app.services.guilds.config(G).unwrap().currency_name, "gems");
    assert_eq!(
        app.services.guilds.config(G2).unwrap().currency_name,
        "coins"
    );
    let viewer = app.login("viewer").await;
    let a = app.put(&path, &viewer, json!({"currency_name": "x"})).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn channels_roles_and_members_are_listed_for_pickers() {
    let app = TestApp::new();
    let g = &app.services.guilds;
    let channel = |id, name: &str, kind| ChannelInfo {
        id: ChannelId(id),
        name: name.into(),
        kind,
        position: id as i64,
        parent: None,
    };
    g.replace_channels(
        G,
        &[
            channel(1, "general", ChannelKind::Text),
            channel(2, "voice", ChannelKind::Voice),
        ],
    )
    .unwrap();
    g.replace_roles(
        G,
        &[RoleInfo {
            id: RoleId(9),
            name: "Mods".into(),
            position: 3,
            color: 0,
            managed: false,
        }],
    )
    .unwrap();
    let members: Vec<_> = (1..=3)
        .map(|u| MemberProfile {
            user: UserId(u),
            name: format!("m{u}"),
            ..Default::default()
        })
        .collect();
    g.upsert_members(G, &members).unwrap();
    let tok = app.login("viewer").await;
    let a = app.get(&format!("/api/{}/channels", G.0), &tok).await;
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    let a = app
        .get(&format!("/api/{}/channels?postable_only=true", G.0), &tok)
        .await;
    assert_eq!(
        (a.body.as_array().unwrap().len(), a.body[0]["name"].as_str()),
        (1, Some("general"))
    );
    let a = app.get(&format!("/api/{}/roles", G.0), &tok).await;
    assert_eq!(a.body[0]["name"], "Mods");
    let a = app
        .get(&format!("/api/{}/members?limit=2&offset=1", G.0), &tok)
        .await;
    assert_eq!(
        (
            a.body["total"].as_u64(),
            a.body["items"][0]["name"].as_str()
        ),
        (Some(3), Some("m2"))
    );
    let a = app
        .get(&format!("/api/{}/members?limit=0", G.0), &tok)
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "limit");
    for p in ["channels", "roles"] {
        let a = app.get(&format!("/api/{}/{p}", G2.0), &tok).await;
        assert!(
            a.body.as_array().unwrap().is_empty(),
            "{p} of another server"
        );
    }
}

#[tokio::test]
async fn role_grants_are_listed_and_filtered_by_state() {
    let app = TestApp::new();
    app.ts
        .store
        .write(G, |w| -> Result<(), crate::Error> {
            w.record_role_grant(UserId(5), RoleId(9), "task:1")?;
            let g = w.record_role_grant(UserId(6), RoleId(9), "item:2")?;
            w.finish_role_grant(g.id, Err("Missing Permissions".into()))?;
            Ok(())
        })
        .unwrap();
    let tok = app.login("viewer").await;
    let a = app.get(&format!("/api/{}/role-grants", G.0), &tok).await;
    assert_eq!(a.body.as_array().unwrap().len(), 2);
    let a = app
        .get(&format!("/api/{}/role-grants?state=failed", G.0), &tok)
        .await;
    assert_eq!(
        (
            a.body.as_array().unwrap().len(),
            a.body[0]["error"].as_str()
        ),
        (1, Some("Missing Permissions"))
    );
    let a = app
        .get(&format!("/api/{}/role-grants?state=lost", G.0), &tok)
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "state");
    let a = app.get(&format!("/api/{}/role-grants", G2.0), &tok).await;
    assert!(a.body.as_array().unwrap().is_empty());
}

/// A shop item whose message the reconciler found deleted on Discord.
fn orphaned_item(app: &TestApp) -> u64 {
    let item = app
        .services
        .shop
        .create_item(
            G,
            crate::domain::shop::ItemInput::new("Gem", 5),
            &crate::economy::OpMeta {
                actor: crate::domain::Actor::System,
                source: crate::domain::Source::System,
                idempotency_key: None,
            },
        )
        .unwrap();
    app.ts
        .store
        .write(G, |w| -> Result<(), crate::Error> {
            let mut r = w.sync_record(SyncKind::ShopItem, item.id)?.unwrap();
            r.message_id = Some(crate::domain::MessageId(77));
            r.synced_version = r.desired_version;
            r.state = SyncState::Orphaned;
            r.attempts = 4;
            r.last_error = Some("Unknown Message".into());
            w.put_sync_record(&r)?;
            Ok(())
        })
        .unwrap();
    item.id
}

#[tokio::test]
async fn sync_records_are_listed_retried_and_reposted() {
    let app = TestApp::new();
    let id = orphaned_item(&app);
    let tok = app.login("admin").await;
    let a = app
        .get(&format!("/api/{}/sync?state=orphaned", G.0), &tok)
        .await;
    assert_eq!(
        (a.body.as_array().unwrap().len(), a.body[0]["kind"].as_str()),
        (1, Some("shop_item"))
    );
    let a = app
        .get(&format!("/api/{}/sync?kind=thing", G.0), &tok)
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "kind");

    let base = format!("/api/{}/sync/shop_item/{id}", G.0);
    let a = app.post(&format!("{base}/retry"), &tok, json!({})).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (a.body["state"].as_str(), a.body["attempts"].as_u64()),
        (Some("pending"), Some(0))
    );
    assert_eq!(
        (
            a.body["desired_version"].as_u64(),
            a.body["message_id"].as_str()
        ),
        (Some(1), Some("77"))
    );
    assert_eq!(app.last_audit(G).action, "sync.retry");
    let a = app.post(&format!("{base}/repost"), &tok, json!({})).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "pending is not repostable");

    let id = orphaned_item_again(&app, id);
    let a = app
        .post(
            &format!("/api/{}/sync/shop_item/{id}/repost", G.0),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body["message_id"].is_null());
    assert_eq!(
        (
            a.body["desired_version"].as_u64(),
            a.body["synced_version"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(app.last_audit(G).action, "sync.repost");

    let a = app
        .post(
            &format!("/api/{}/sync/task/{id}/retry", G.0),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app
        .post(
            &format!("/api/{}/sync/shop_item/{id}/retry", G2.0),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "another server's record");
    let a = app
        .post(
            &format!("/api/{}/sync/bogus/{id}/retry", G.0),
            &tok,
            json!({}),
        )
        .await;
    assert_eq!(a.body["error"]["details"]["field"], "kind");
    let viewer = app.login("viewer").await;
    let a = app.post(&format!("{base}/retry"), &viewer, json!({})).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

fn orphaned_item_again(app: &TestApp, id: u64) -> u64 {
    app.ts
        .store
        .write(G, |w| -> Result<(), crate::Error> {
            let mut r = w.sync_record(SyncKind::ShopItem, id)?.unwrap();
            r.state = SyncState::Orphaned;
            w.put_sync_record(&r)?;
            Ok(())
        })
        .unwrap();
    id
}

#[tokio::test]
async fn custom_commands_work_on_the_old_and_the_per_server_paths() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let old = format!("/api/commands?server_id={}", G.0);
    let a = app
        .post(
            &old,
            &tok,
            json!({"name": "Rules", "response": "Be kind, {user}"}),
        )
        .await;
    assert_eq!(
        (a.status, a.body["name"].as_str()),
        (StatusCode::CREATED, Some("rules"))
    );
    assert_eq!(app.last_audit(G).action, "custom_command.create");
    let a = app
        .post(&old, &tok, json!({"name": "rules", "response": "x"}))
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let a = app
        .post(
            &format!("/api/{}/commands", G.0),
            &tok,
            json!({"name": "rules", "response": "Be nice", "overwrite": true}),
        )
        .await;
    assert_eq!(a.body["response"], "Be nice");
    let a = app
        .post(&old, &tok, json!({"name": "balance", "response": "x"}))
        .await;
    assert_eq!(
        (a.status, a.body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("name"))
    );
    let a = app.get("/api/commands", &tok).await;
    assert_eq!(a.body["error"]["details"]["field"], "server_id");
    let a = app.get(&old, &tok).await;
    assert_eq!(a.body.as_array().unwrap().len(), 1);
    let a = app.get(&format!("/api/{}/commands", G2.0), &tok).await;
    assert!(a.body.as_array().unwrap().is_empty());
    let a = app
        .delete(&format!("/api/{}/commands/rules", G2.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "another server's command");
    let viewer = app.login("viewer").await;
    for (m, p) in [
        (Method::POST, old.clone()),
        (
            Method::DELETE,
            format!("/api/commands/rules?server_id={}", G.0),
        ),
        (Method::DELETE, format!("/api/{}/commands/rules", G.0)),
    ] {
        let a = app
            .send(
                m,
                &p,
                Some(&viewer),
                Some(json!({"name": "x", "response": "y"})),
                &[],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{p}");
    }
    let a = app
        .delete(&format!("/api/commands/rules?server_id={}", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(app.services.custom.list(G).unwrap().is_empty());
    let a = app
        .delete(&format!("/api/{}/commands/rules", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}
