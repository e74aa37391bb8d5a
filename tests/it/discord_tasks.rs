//! Task scenarios end to end: the real app, serenity and poise against the fake Discord. Claims
//! by button and by command, submissions posted for review, Accept / Reject (with the reason
//! modal), DMs and role rewards, restarts between a message and its click, forged buttons.

use serde_json::{json, Value};

use crate::fake_discord::{
    dm_channel, Answer, FakeAttachment, FakeDiscord, Invoker, GUILD_ID, OWNER_ID,
};
use crate::support::{assert_no_dropped_payloads, TestApp};
use coffer::domain::tasks::ClaimStatus;
use coffer::domain::{GuildId, UserId};
use coffer::store::roles::GrantState;

const MOD_ROLE: u64 = 800_000_000_000_000_300;
const TASK_CHANNEL: u64 = 800_000_000_000_000_400;
const REWARD_ROLE: u64 = 800_000_000_000_000_500;

fn owner() -> Invoker {
    Invoker::member(OWNER_ID, "owner")
}

fn alice() -> Invoker {
    Invoker::member(111_000_000_000_000_001, "alice")
}

fn bob() -> Invoker {
    Invoker::member(111_000_000_000_000_002, "bob")
}

fn moderator() -> Invoker {
    Invoker {
        roles: vec![MOD_ROLE],
        ..Invoker::member(111_000_000_000_000_009, "mod")
    }
}

fn s(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

fn int(name: &str, value: i64) -> Value {
    json!({"name": name, "type": 4, "value": value})
}

/// `/admin <group> <sub> ...options`.
async fn admin(fake: &FakeDiscord, who: &Invoker, group: &str, sub: &str, opts: Value) -> Answer {
    let options =
        json!([{"name": group, "type": 2, "options": [{"name": sub, "type": 1, "options": opts}]}]);
    fake.answer(&fake.command(who, "admin", options, &[])).await
}

/// Task channel and moderator role, as an owner would set them up.
async fn setup(fake: &FakeDiscord) {
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

async fn create_task(fake: &FakeDiscord, name: &str, reward: &str, extra: &[Value]) -> Answer {
    let mut opts = vec![s("name", name), s("reward", reward)];
    opts.extend_from_slice(extra);
    let a = admin(fake, &owner(), "task", "create", Value::Array(opts)).await;
    assert!(a.ephemeral);
    assert!(a.text().starts_with("Created task #"), "{}", a.text());
    a
}

async fn submit(
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

fn custom_ids(body: &Value) -> Vec<String> {
    body["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

fn guild() -> GuildId {
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
        [("Write a guide (#1)".to_owned(), "1".to_owned())]
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
    let posts = fake.channel_posts(TASK_CHANNEL);
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
async fn scenario_8_forged_buttons_and_members_change_nothing() {
    // Another guild has tasks 1 and 2; this guild has only task 1.
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    let (config, dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let other = GuildId(42);
    {
        let store = TestApp::open_store(&config);
        let tasks = coffer::tasks::Tasks::new(store);
        for name in ["Elsewhere one", "Elsewhere two"] {
            let new = coffer::domain::tasks::NewTask {
                name: name.into(),
                reward: 1000,
                ..Default::default()
            };
            tasks
                .create(other, new, &coffer::economy::OpMeta::system())
                .unwrap();
        }
    }
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_in(&fake, dir.clone()).await;
    fake.wait_identified().await;
    setup(&fake).await;
    create_task(&fake, "Local task", "300", &[]).await;
    fake.answer(&fake.click(&alice(), "task:claim:1")).await;
    submit(&fake, &alice(), "1", "done", None).await;

    // Another guild's task id and an unknown id: refused, nothing claimed.
    let a = fake.answer(&fake.click(&bob(), "task:claim:2")).await;
    assert!(a.ephemeral);
    assert_eq!(a.text(), "Task 2 not found.");
    let a = fake
        .answer(&fake.click(&moderator(), &format!("task:accept:2:{}", alice().id)))
        .await;
    assert_eq!(a.text(), "Task 2 not found.");
    let a = fake
        .answer(&fake.click(&bob(), "task:claim:not-a-number"))
        .await;
    assert!(a.text().contains("not valid any more"), "{}", a.text());
    // A member who is not a moderator can't accept, even with the real button.
    let accept_id = format!("task:accept:1:{}", alice().id);
    let a = fake.answer(&fake.click(&bob(), &accept_id)).await;
    assert!(a.ephemeral);
    assert_eq!(a.text(), "Only moderators can review task submissions.");
    let a = fake
        .answer(&fake.click(&bob(), &format!("task:reject:1:{}", alice().id)))
        .await;
    assert_eq!(a.text(), "Only moderators can review task submissions.");
    let a = fake
        .answer(&fake.submit_modal(
            &bob(),
            &format!("task:reject-reason:1:{}", alice().id),
            &[("reason", "no")],
        ))
        .await;
    assert_eq!(a.text(), "Only moderators can review task submissions.");
    // The claimant can't review their own submission either, even as a moderator.
    let self_review = Invoker {
        roles: vec![MOD_ROLE],
        ..alice()
    };
    let a = fake.answer(&fake.click(&self_review, &accept_id)).await;
    assert_eq!(a.text(), "You can't review your own submission.");

    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let tasks = coffer::tasks::Tasks::new(store.clone());
    // Read as stored: the reopened store runs on the system clock, past the test's deadlines.
    let here = store.read(guild(), |r| r.task_claims(1)).unwrap();
    assert_eq!(here.len(), 1);
    assert_eq!(
        here[0].status,
        ClaimStatus::Submitted,
        "still waiting for review"
    );
    for id in [1, 2] {
        assert_eq!(tasks.get(other, id).unwrap().current_claims, 0);
        assert!(tasks.task_claims(other, id).unwrap().is_empty());
    }
    let economy = coffer::economy::Economy::new(store);
    assert!(economy
        .find_account(guild(), UserId(alice().id))
        .unwrap()
        .is_none_or(|a| a.balance.get() == 0));
    drop(dir);
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_8_closed_dms_never_fail_an_accept_and_role_grants_are_recorded() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    setup(&fake).await;
    let role = json!({"name": "role", "type": 8, "value": REWARD_ROLE.to_string()});
    create_task(&fake, "Design a logo", "100", &[role]).await;
    for who in [alice(), bob()] {
        fake.answer(&fake.click(&who, "task:claim:1")).await;
        submit(&fake, &who, "1", "logo.svg attached", None).await;
    }

    // Alice's DMs are closed; her role is granted.
    fake.script(
        "POST",
        &format!("/channels/{}/messages", dm_channel(alice().id)),
        403,
        json!({"message": "Cannot send messages to this user", "code": 50007}),
        1,
    );
    let c = fake
        .callback(&fake.click(&moderator(), &format!("task:accept:1:{}", alice().id)))
        .await;
    assert_eq!(c.body["type"], json!(7), "the accept went through: {c:#?}");
    assert_eq!(fake.dms_to(alice().id)[0].status, 403);
    assert_eq!(fake.role_puts(alice().id, REWARD_ROLE).len(), 1);

    // Bob's role can't be given (Coffer's role is too low).
    fake.script(
        "PUT",
        &format!("/members/{}/roles/", bob().id),
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
        1,
    );
    let c = fake
        .callback(&fake.click(&moderator(), &format!("task:accept:1:{}", bob().id)))
        .await;
    assert_eq!(c.body["type"], json!(7));
    assert_eq!(fake.role_puts(bob().id, REWARD_ROLE)[0].status, 403);
    assert_eq!(fake.dms_to(bob().id)[0].status, 200);

    // The settings show the task channel.
    let view = admin(&fake, &owner(), "config", "view", json!([])).await;
    assert!(view.ephemeral);
    assert!(
        view.text()
            .contains(&format!("`task_channel_id`: <#{TASK_CHANNEL}>")),
        "{}",
        view.text()
    );
    let bad = admin(
        &fake,
        &owner(),
        "config",
        "set",
        json!([s("key", "daily_amount"), s("value", "lots")]),
    )
    .await;
    assert!(bad.text().starts_with("daily_amount:"), "{}", bad.text());

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let economy = coffer::economy::Economy::new(store.clone());
    for who in [alice(), bob()] {
        assert_eq!(
            economy
                .account(guild(), UserId(who.id))
                .unwrap()
                .balance
                .get(),
            100
        );
    }
    let grants = coffer::guild::Guilds::new(store)
        .role_grants(guild(), false)
        .unwrap();
    let of = |u: u64| grants.iter().find(|g| g.user.get() == u).unwrap();
    assert_eq!(of(alice().id).state, GrantState::Granted);
    assert_eq!(of(bob().id).state, GrantState::Failed);
    assert!(
        of(bob().id)
            .error
            .as_deref()
            .unwrap()
            .contains("Missing Permissions"),
        "{:?}",
        of(bob().id)
    );
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
