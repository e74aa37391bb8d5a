//! Side effects and other kinds: role rewards granted by the worker (and refused), text that
//! could ping everyone, announcements pinned and unpinned.

use coffer::domain::shop::ItemInput;
use coffer::domain::{GuildId, RoleId};
use coffer::economy::OpMeta;
use reqwest::Method;
use serde_json::json;

use super::scene::{
    id_of, member, pings_nobody, scene, shop_dir, text, ALICE, SHOP, STEP, VIP_ROLE,
};
use crate::fake_discord::GUILD_ID;

fn vip_pass(s: &coffer::services::Services) {
    let mut i = ItemInput::new("VIP Pass", 50);
    i.role_id = Some(RoleId(VIP_ROLE));
    s.shop
        .create_item(GuildId(GUILD_ID), i, &OpMeta::system())
        .expect("vip pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_an_item_with_a_role_reward_puts_the_member_role() {
    let s = scene(shop_dir(vip_pass)).await;
    let bought = s
        .fake
        .answer(&s.fake.click(&member(ALICE, "alice"), "shop:buy:1"))
        .await;
    assert!(bought.text().contains("VIP Pass"), "{}", bought.text());
    // The reply tells what happened to the role, after the worker gave it.
    assert!(
        bought
            .text()
            .contains(&format!("You now have the role <@&{VIP_ROLE}>")),
        "{}",
        bought.text()
    );
    s.fake
        .wait_until("the role PUT", STEP, |f| {
            f.role_puts(ALICE, VIP_ROLE).iter().any(|c| c.status < 300)
        })
        .await;
    let g = s
        .wait_grant("the grant marked granted", |g| g["state"] == "granted")
        .await;
    assert_eq!(id_of(&g["user"]), ALICE);
    assert_eq!(id_of(&g["role"]), VIP_ROLE);
    assert_eq!(s.fake.role_puts(ALICE, VIP_ROLE).len(), 1);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_grant_refused_with_missing_permissions_shows_failed_on_the_grant_list() {
    let s = scene(shop_dir(vip_pass)).await;
    s.fake.script(
        "PUT",
        &format!("/members/{ALICE}/roles/{VIP_ROLE}"),
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
        1000,
    );
    let bought = s
        .fake
        .answer(&s.fake.click(&member(ALICE, "alice"), "shop:buy:1"))
        .await;
    // The member hears the truth: no role, and why.
    assert!(
        bought.text().contains("could not be given")
            && bought.text().contains("Missing Permissions"),
        "{}",
        bought.text()
    );
    let g = s
        .wait_grant("the grant marked failed", |g| g["state"] == "failed")
        .await;
    assert!(
        g["error"]
            .as_str()
            .is_some_and(|e| e.contains("Missing Permissions")),
        "{g:#}"
    );
    let tries = s.fake.role_puts(ALICE, VIP_ROLE).len();
    assert!(tries <= 3, "{tries} attempts at a forbidden role");
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_named_with_everyone_pings_nobody() {
    let s = scene(shop_dir(|_| {})).await;
    let item = s
        .create_item(json!({"name": "Cake for @everyone", "price": 5, "stock": 4}))
        .await;
    let message = s.synced(item).await;
    let post = s
        .fake
        .channel_posts(SHOP)
        .into_iter()
        .find(|c| c.status == 200)
        .expect("the post");
    assert!(pings_nobody(&post.body), "{:#}", post.body);
    assert!(text(&post.body).contains("Cake for"), "{:#}", post.body);
    // Edits carry the same empty allowed_mentions.
    s.call(
        Method::PUT,
        &format!("/shop/{item}/stock"),
        Some(json!({"quantity": 3})),
    )
    .await;
    s.fake
        .wait_until("the edit", STEP, |f| {
            f.calls_to("PATCH", &format!("/channels/{SHOP}/messages/{message}"))
                .iter()
                .any(|c| c.status == 200)
        })
        .await;
    let edit = s.edits(message).into_iter().last().expect("an edit");
    assert!(pings_nobody(&edit.body), "{:#}", edit.body);
    s.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_announcement_is_posted_and_pinned_and_unpinning_unpins_it() {
    const NEWS: u64 = crate::fake_discord::NEWS_CHANNEL_ID;
    let s = scene(shop_dir(|_| {})).await;
    let (status, a) = s
        .call(
            Method::POST,
            "/announcements",
            Some(
                json!({"title": "Market day", "content": "Stalls open at noon",
                        "channel": NEWS.to_string(), "pinned": true}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_u64().expect("announcement id");
    s.fake
        .wait_until("the announcement posted and pinned", STEP, |f| {
            f.messages(NEWS).iter().any(|m| m["pinned"] == true)
        })
        .await;
    let shown = s.fake.messages(NEWS);
    assert_eq!(shown.len(), 1, "{shown:#?}");
    assert!(
        text(&shown[0]).contains("Stalls open at noon"),
        "{shown:#?}"
    );
    let message = id_of(&shown[0]["id"]);
    assert!(s
        .fake
        .calls_to("PUT", &format!("/channels/{NEWS}/pins/{message}"))
        .iter()
        .any(|c| c.status == 204));

    let (status, body) = s
        .call(Method::POST, &format!("/announcements/{id}/unpin"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    s.fake
        .wait_until("the announcement unpinned", STEP, |f| {
            f.message(NEWS, message)
                .is_some_and(|m| m["pinned"] == false)
        })
        .await;
    assert_eq!(s.fake.messages(NEWS).len(), 1, "unpinning posts nothing");
    s.finish().await;
}
