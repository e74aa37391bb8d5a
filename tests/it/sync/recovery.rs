//! Lost answers and restarts: a create is never repeated as a second message, and pending
//! work survives a stop.

use serde_json::json;

use super::scene::{id_of, scene, shop_dir, Scene, SHOP, STEP};
use crate::support::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_response_was_lost_is_retried_without_a_second_message() {
    let s = scene(shop_dir(|_| {})).await;
    s.fake.lose_create_responses(1);
    let item = s
        .create_item(json!({"name": "Echo Shell", "price": 10}))
        .await;
    let message = s.synced(item).await;
    let posts = s.fake.channel_posts(SHOP);
    let statuses: Vec<u16> = posts.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [502, 200]);
    assert_eq!(
        posts[0].body["nonce"], posts[1].body["nonce"],
        "the same nonce"
    );
    let shown = s.fake.messages(SHOP);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(id_of(&shown[0]["id"]), message);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_pending_sync_and_repeats_no_post() {
    let dir = shop_dir(|_| {});
    let s = scene(dir.clone()).await;
    // Discord posts the message but every answer is lost; Coffer stops without the id.
    s.fake.lose_create_responses(u32::MAX);
    let item = s
        .create_item(json!({"name": "Phoenix Feather", "price": 10}))
        .await;
    s.fake
        .wait_until("the first create", STEP, |f| {
            !f.channel_posts(SHOP).is_empty()
        })
        .await;
    let Scene { fake, app, .. } = s;
    app.stop().await.expect("clean stop");
    assert_eq!(fake.messages(SHOP).len(), 1);
    assert!(fake.channel_posts(SHOP).iter().all(|c| c.status == 502));
    fake.lose_create_responses(0);

    let app = TestApp::spawn_in(&fake, dir).await;
    let token = app.login().await;
    let s = Scene { fake, app, token };
    let message = s.synced(item).await;
    let shown = s.fake.messages(SHOP);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert_eq!(id_of(&shown[0]["id"]), message);
    let nonces: std::collections::BTreeSet<String> = s
        .fake
        .channel_posts(SHOP)
        .iter()
        .map(|c| c.body["nonce"].to_string())
        .collect();
    assert_eq!(nonces.len(), 1, "every attempt used one nonce");
    s.finish().await;
}
