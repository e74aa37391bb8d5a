//! Task scenarios end to end: the real app, serenity and poise against the fake Discord. Claims
//! by button and by command, submissions posted for review, Accept / Reject (with the reason
//! modal), DMs and role rewards, restarts between a message and its click, forged buttons.

mod admin;
mod guards;

use serde_json::{json, Value};

use crate::fake_discord::{Answer, FakeAttachment, FakeDiscord, Invoker, GUILD_ID, OWNER_ID};
use crate::support::{assert_no_dropped_payloads, TestApp};
use coffer::domain::tasks::ClaimStatus;
use coffer::domain::{GuildId, UserId};
use coffer::store::roles::GrantState;

pub(super) const MOD_ROLE: u64 = 800_000_000_000_000_300;
pub(super) const TASK_CHANNEL: u64 = 800_000_000_000_000_400;
pub(super) const REWARD_ROLE: u64 = 800_000_000_000_000_500;

pub(super) fn owner() -> Invoker {
    Invoker::member(OWNER_ID, "owner")
}

pub(super) fn alice() -> Invoker {
    Invoker::member(111_000_000_000_000_001, "alice")
}

pub(super) fn bob() -> Invoker {
    Invoker::member(111_000_000_000_000_002, "bob")
}

pub(super) fn moderator() -> Invoker {
    Invoker {
        roles: vec![MOD_ROLE],
        ..Invoker::member(111_000_000_000_000_009, "mod")
    }
}

pub(super) fn s(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

pub(super) fn int(name: &str, value: i64) -> Value {
    json!({"name": name, "type": 4, "value": value})
}

/// `/admin <group> <sub> ...options`.
pub(super) async fn admin(
    fake: &FakeDiscord,
    who: &Invoker,
    group: &str,
    sub: &str,
    opts: Value,
) -> Answer {
    let options =
        json!([{"name": group, "type": 2, "options": [{"name": sub, "type": 1, "options": opts}]}]);
    fake.answer(&fake.command(who, "admin", options, &[])).await
}

/// Task channel and moderator role, as an owner would set them up.
pub(super) async fn setup(fake: &FakeDiscord) {
    let a = admin(
        fake,
        &owner(),
        "config",
        "channel",
        json!([int("purpose", 0), {"name": "channel", "type": 7, "value": TASK_CHANNEL.to_string()}]),
    )
    .await;
    assert_eq!(
        a.text(),
        format!("`task_channel_id` is now <#{TASK_CHANNEL}>.")
    );
    let a = admin(
        fake,
        &owner(),
        "config",
        "role",
        json!([int("level", 1), int("action", 0), {"name": "role", "type": 8, "value": MOD_ROLE.to_string()}]),
    )
    .await;
    assert_eq!(
        a.text(),
        format!("`moderator_roles` is now: <@&{MOD_ROLE}>")
    );
}

pub(super) async fn create_task(
    fake: &FakeDiscord,
    name: &str,
    reward: &str,
    extra: &[Value],
) -> Answer {
    let mut opts = vec![s("name", name), s("reward", reward)];
    opts.extend_from_slice(extra);
    let a = admin(fake, &owner(), "task", "create", Value::Array(opts)).await;
    assert!(a.ephemeral);
    assert!(a.text().starts_with("Created task #"), "{}", a.text());
    a
}

pub(super) async fn submit(
    fake: &FakeDiscord,
    who: &Invoker,
    task: &str,
    proof: &str,
    file: Option<&str>,
) -> Answer {
    let mut opts = vec![s("task", task), s("proof", proof)];
    let mut files = Vec::new();
    if let Some(url) = file {
        files.push(FakeAttachment {
            id: 424_242,
            url: url.into(),
        });
        opts.push(json!({"name": "attachment", "type": 11, "value": "424242"}));
    }
    fake.answer(&fake.command(who, "task_submit", Value::Array(opts), &files))
        .await
}

pub(super) use crate::fake_discord::button_ids as custom_ids;

pub(super) fn guild() -> GuildId {
    GuildId(GUILD_ID)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_5_claim_submit_accept_pays_once_and_reject_with_a_reason_reopens_the_claim() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    setup(&fake).await;
    create_task(&fake, "Write a guide", "500", &[int("spots", 3)]).await;

    // Autocomplete offers the open task.
    let tok = fake.autocomplete(
        &alice(),
        "claim",
        json!([{"name": "task", "type": 3, "value": "wri", "focused": true}]),
    );
    assert_eq!(
        fake.choices(&tok).await,
        [json!({"name": "Write a guide (#1)", "value": "1"})]
    );

    // Alice claims with the button, Bob with the command.
    let a = fake.answer(&fake.click(&alice(), "task:claim:1")).await;
    assert!(a.ephemeral);
    assert!(
        a.text()
            .starts_with("You claimed **Write a guide** (reward 🪙 500 coins)"),
        "{}",
        a.text()
    );
    let b = fake
        .answer(&fake.command(&bob(), "claim", json!([s("task", "Write a guide")]), &[]))
        .await;
    assert!(
        b.ephemeral && b.text().starts_with("You claimed **Write a guide**"),
        "{}",
        b.text()
    );
    let again = fake.answer(&fake.click(&alice(), "task:claim:1")).await;
    assert!(again.ephemeral);
    assert!(again.text().contains("already claimed"), "{}", again.text());

    // Submit with an attachment: the proof goes to the task channel with review buttons.
    let tok = fake.autocomplete(
        &alice(),
        "task_submit",
        json!([{"name": "task", "type": 3, "value": "", "focused": true}]),
    );
    assert_eq!(fake.choices(&tok).await.len(), 1);
    let sub = submit(
        &fake,
        &alice(),
        "1",
        "Guide is up at https://example.org/guide",
        Some("https://cdn.example/proof.png"),
    )
    .await;
    assert!(sub.ephemeral);
    assert!(
        sub.text().contains("was sent to the moderators"),
        "{}",
        sub.text()
    );
    // The reconciler posts the task's own message (Claim button) there too; the proof is
    // the one post with review buttons.
    let posts: Vec<_> = fake
        .channel_posts(TASK_CHANNEL)
        .into_iter()
        .filter(|p| {
            !custom_ids(&p.body)
                .iter()
                .any(|id| id.starts_with("task:claim:"))
        })
        .collect();
    assert_eq!(posts.len(), 1, "{posts:#?}");
    let review = posts[0].body.to_string();
    assert!(
        review.contains("Guide is up at https://example.org/guide"),
        "{review}"
    );
    assert!(review.contains("https://cdn.example/proof.png"), "{review}");
    assert_eq!(
        custom_ids(&posts[0].body),
        [
            format!("task:accept:1:{}", alice().id),
            format!("task:reject:1:{}", alice().id)
        ]
    );

    // The moderator accepts: the review message shows the outcome and loses its buttons.
    let accept_id = format!("task:accept:1:{}", alice().id);
    let c = fake.callback(&fake.click(&moderator(), &accept_id)).await;
    assert_eq!(
        c.body["type"],
        json!(7),
        "updates the review message: {c:#?}"
    );
    assert_eq!(c.body["data"]["components"], json!([]));
    assert!(
        c.body["data"].to_string().contains("Accepted by"),
        "{}",
        c.body
    );
    fake.wait_until("the DM to alice", std::time::Duration::from_secs(5), |f| {
        !f.dms_to(alice().id).is_empty()
    })
    .await;
    let dm = &fake.dms_to(alice().id)[0];
    assert!(dm.body["content"]
        .as_str()
        .unwrap()
        .contains("was accepted! You earned 🪙 500 coins"));

    // A second click (a stale message) changes nothing.
    let second = fake.answer(&fake.click(&moderator(), &accept_id)).await;
    assert!(second.ephemeral);
    assert_eq!(second.text(), "This claim was already accepted.");

    // Bob submits; Reject opens the reason form, and its submission reopens his claim.
    submit(&fake, &bob(), "Write a guide", "my attempt", None).await;
    let reject_id = format!("task:reject:1:{}", bob().id);
    let modal = fake.callback(&fake.click(&moderator(), &reject_id)).await;
    assert_eq!(modal.body["type"], json!(9), "a modal: {modal:#?}");
    let form_id = modal.body["data"]["custom_id"].as_str().unwrap().to_owned();
    assert_eq!(form_id, format!("task:reject-reason:1:{}", bob().id));
    let c = fake
        .callback(&fake.submit_modal(&moderator(), &form_id, &[("reason", "The link is broken")]))
        .await;
    assert_eq!(c.body["type"], json!(7), "{c:#?}");
    assert_eq!(c.body["data"]["components"], json!([]));
    assert!(
        c.body["data"].to_string().contains("Rejected by"),
        "{}",
        c.body
    );
    fake.wait_until("the DM to bob", std::time::Duration::from_secs(5), |f| {
        !f.dms_to(bob().id).is_empty()
    })
    .await;
    let dm = fake.dms_to(bob().id)[0].body["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(dm.contains("was rejected: The link is broken"), "{dm}");
    let mine = fake
        .answer(&fake.command(&bob(), "mytasks", json!([]), &[]))
        .await;
    assert!(mine.ephemeral);
    assert!(
        mine.text().contains("in progress")
            && mine.text().contains("last rejection: The link is broken"),
        "{}",
        mine.text()
    );
    let listed = fake
        .answer(&fake.command(&bob(), "tasks", json!([]), &[]))
        .await;
    assert!(
        listed.text().contains(
            "**Write a guide** (#1) — 🪙 500 coins · 1 day to finish · spots: 1 of 3 left"
        ),
        "{}",
        listed.text()
    );
    assert_eq!(listed.button_ids(), vec!["task:claim:1".to_owned()]);

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let economy = coffer::economy::Economy::new(store.clone());
    assert_eq!(
        economy
            .account(guild(), UserId(alice().id))
            .unwrap()
            .balance
            .get(),
        500
    );
    assert_eq!(
        economy
            .history(guild(), UserId(alice().id), 1, 10)
            .unwrap()
            .total,
        1,
        "paid once"
    );
    let tasks = coffer::tasks::Tasks::new(store.clone());
    // Read as stored: the reopened store runs on the system clock, past the test's deadlines.
    let bob_claim = store
        .read(guild(), |r| r.claim(1, UserId(bob().id)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (bob_claim.status, bob_claim.rejections),
        (ClaimStatus::InProgress, 1)
    );
    assert_eq!(tasks.get(guild(), 1).unwrap().completed, 1);
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_7_a_claim_button_still_works_after_a_restart() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    setup(&fake).await;
    let created = create_task(&fake, "Stream a game", "200", &[]).await;
    assert!(created.text().contains("Stream a game"));
    let dir = app.dir.clone();
    app.stop().await.expect("clean stop");

    let fake2 = FakeDiscord::start().await;
    let app2 = TestApp::spawn_in(&fake2, dir).await;
    fake2.wait_identified().await;
    let a = fake2.answer(&fake2.click(&alice(), "task:claim:1")).await;
    assert!(a.ephemeral);
    assert!(
        a.text().starts_with("You claimed **Stream a game**"),
        "{}",
        a.text()
    );
    let mine = fake2
        .answer(&fake2.command(&alice(), "mytasks", json!([]), &[]))
        .await;
    assert!(
        mine.text().contains("**Stream a game** (#1)") && mine.text().contains("in progress"),
        "{}",
        mine.text()
    );
    app2.stop().await.expect("clean stop");
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitting_without_a_task_channel_explains_that_an_admin_must_set_one() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    create_task(&fake, "Say hi", "5", &[]).await;
    fake.answer(&fake.click(&alice(), "task:claim:1")).await;
    let a = submit(&fake, &alice(), "Say hi", "hi!", None).await;
    assert!(a.ephemeral);
    assert!(
        a.text()
            .contains("An admin must set one with `/admin config channel tasks #channel`"),
        "{}",
        a.text()
    );
    let mine = fake
        .answer(&fake.command(&alice(), "mytasks", json!([]), &[]))
        .await;
    assert!(
        mine.text().contains("in progress"),
        "nothing was submitted: {}",
        mine.text()
    );
    app.stop().await.expect("clean stop");
}

/// Issue 9: a proof post whose answer was lost used to put two review messages in the
/// channel. The post carries a nonce with `enforce_nonce`, so Discord answers the retry with
/// the first message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_to_the_proof_post_leaves_one_review_message() {
    let fake = FakeDiscord::start().await;
    let _app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    setup(&fake).await;
    create_task(&fake, "Sweep the floor", "50", &[]).await;
    fake.answer(&fake.click(&alice(), "task:claim:1")).await;
    // The reconciler's own task message is up first, so the lost answer hits the proof post.
    fake.wait_until(
        "the task message",
        std::time::Duration::from_secs(10),
        |f| {
            f.messages(TASK_CHANNEL)
                .iter()
                .any(|m| custom_ids(m).iter().any(|id| id.starts_with("task:claim:")))
        },
    )
    .await;
    fake.lose_create_responses(1);
    let sub = submit(&fake, &alice(), "1", "done, see photo", None).await;
    assert!(
        sub.text().contains("was sent to the moderators"),
        "{}",
        sub.text()
    );
    let reviews: Vec<Value> = fake
        .messages(TASK_CHANNEL)
        .into_iter()
        .filter(|m| {
            custom_ids(m)
                .iter()
                .any(|id| id.starts_with("task:accept:"))
        })
        .collect();
    assert_eq!(reviews.len(), 1, "{reviews:#?}");
    let posts = fake.channel_posts(TASK_CHANNEL);
    let nonces: Vec<&Value> = posts
        .iter()
        .filter(|p| {
            custom_ids(&p.body)
                .iter()
                .any(|id| id.starts_with("task:accept:"))
        })
        .map(|p| &p.body["nonce"])
        .collect();
    assert_eq!(
        nonces.len(),
        2,
        "posted, answer lost, posted again: {posts:#?}"
    );
    assert_eq!(nonces[0], nonces[1]);
    assert!(nonces[0].as_str().is_some_and(|n| n.len() <= 25));
}

/// Issue 9: the review message is a synced object. A submission reviewed on the dashboard
/// loses its Accept / Reject buttons on Discord too, a rejected-then-resubmitted proof gets a
/// second message, and deleting the task deletes its message and every review message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_done_through_the_api_update_the_review_message_and_deleting_the_task_removes_them()
{
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    setup(&fake).await;
    create_task(&fake, "Sweep the floor", "50", &[]).await;
    fake.answer(&fake.click(&alice(), "task:claim:1")).await;
    let sub = submit(&fake, &alice(), "1", "swept, see photo", None).await;
    assert!(
        sub.text().contains("was sent to the moderators"),
        "{}",
        sub.text()
    );
    let with_buttons = |f: &FakeDiscord| -> usize {
        f.messages(TASK_CHANNEL)
            .iter()
            .filter(|m| {
                custom_ids(m)
                    .iter()
                    .any(|id| id.starts_with("task:accept:"))
            })
            .count()
    };
    assert_eq!(with_buttons(&fake), 1);

    let token = app.login().await;
    let claim = format!("/api/{GUILD_ID}/tasks/1/claims/{}", alice().id);
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("{claim}/reject"),
            Some(&token),
            Some(json!({"reason": "the photo is blurry"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let wait = std::time::Duration::from_secs(10);
    fake.wait_until("the rejected review without buttons", wait, |f| {
        with_buttons(f) == 0
            && f.messages(TASK_CHANNEL).iter().any(|m| {
                m.to_string()
                    .contains("Rejected by admin (dashboard): the photo is blurry")
            })
    })
    .await;

    // Resubmitted: a new review message; accepted on the dashboard: its buttons go too.
    submit(&fake, &alice(), "1", "swept again, sharp photo", None).await;
    assert_eq!(with_buttons(&fake), 1);
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("{claim}/accept"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    fake.wait_until("the accepted review without buttons", wait, |f| {
        with_buttons(f) == 0
            && f.messages(TASK_CHANNEL)
                .iter()
                .any(|m| m.to_string().contains("Accepted by admin (dashboard)"))
    })
    .await;
    // Task message + two review messages.
    assert_eq!(fake.messages(TASK_CHANNEL).len(), 3);

    let (status, body) = app
        .api(
            reqwest::Method::DELETE,
            &format!("/api/{GUILD_ID}/tasks/1"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    fake.wait_until("every message of the task deleted", wait, |f| {
        f.messages(TASK_CHANNEL).is_empty()
    })
    .await;
    app.stop().await.expect("clean stop");
}
