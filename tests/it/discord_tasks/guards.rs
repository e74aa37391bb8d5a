//! Task buttons that must change nothing (another guild's task, unknown ids, members who are
//! not moderators, self-review) and after-commit failures that must not undo an accept (closed
//! DMs, a role Coffer can't give).

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::fake_discord::dm_channel;

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
    // The DM and the role come from the sync worker after the commit, for both doors alike.
    let (a, b) = (alice().id, bob().id);
    fake.wait_until("alice's DM and role", Duration::from_secs(10), |f| {
        !f.dms_to(a).is_empty() && !f.role_puts(a, REWARD_ROLE).is_empty()
    })
    .await;
    assert_eq!(fake.dms_to(alice().id)[0].status, 403);
    assert_eq!(fake.role_puts(alice().id, REWARD_ROLE).len(), 1);

    // Bob's role can't be given (Coffer's role is too low): every attempt is refused, the
    // accept's own and the role-grant worker's alike.
    fake.script(
        "PUT",
        &format!("/members/{}/roles/", bob().id),
        403,
        json!({"message": "Missing Permissions", "code": 50013}),
        1000,
    );
    let c = fake
        .callback(&fake.click(&moderator(), &format!("task:accept:1:{}", bob().id)))
        .await;
    assert_eq!(c.body["type"], json!(7));
    fake.wait_until("bob's DM and role attempt", Duration::from_secs(10), |f| {
        !f.dms_to(b).is_empty() && !f.role_puts(b, REWARD_ROLE).is_empty()
    })
    .await;
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
