//! End-to-end Discord scenarios: the real app, serenity and poise against the fake Discord.
//! Each asserts the bot's replies and the REST calls it made.

use serde_json::json;

use crate::fake_discord::{FakeDiscord, Invoker, APP_ID};
use crate::support::{assert_no_dropped_payloads, TestApp};

fn alice() -> Invoker {
    Invoker::member(111_000_000_000_000_001, "alice")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_identifies_and_registers_commands_once_and_a_restart_registers_nothing() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;

    for (method, path) in [
        ("GET", "/api/v10/users/@me"),
        ("GET", "/api/v10/oauth2/applications/@me"),
        // Autosharding: the recommended shard count.
        ("GET", "/api/v10/gateway/bot"),
    ] {
        assert_eq!(
            fake.calls_to(method, path).len(),
            1,
            "{method} {path}: {:#?}",
            fake.calls()
        );
    }
    let puts = fake.calls_to("PUT", &format!("/api/v10/applications/{APP_ID}/commands"));
    assert_eq!(puts.len(), 1, "one global registration");
    let names: Vec<&str> = puts[0]
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "balance",
            "daily",
            "give",
            "leaderboard",
            "history",
            "shop",
            "buy",
            "inventory",
            "use",
            "admin",
            "tasks",
            "claim",
            "task_submit",
            "mytasks"
        ]
    );
    let admin = &puts[0].body[9];
    assert_eq!(
        admin["default_member_permissions"],
        json!("32"),
        "Manage Server"
    );
    let identify = &fake.identifies()[0];
    assert!(identify["d"]["token"]
        .as_str()
        .unwrap()
        .contains("fake-token"));
    assert_eq!(
        identify["d"]["intents"].as_u64().unwrap() & 1,
        1,
        "GUILDS intent"
    );

    // The bot answers: the whole path works.
    let token = fake.slash(&alice(), "balance", json!([]));
    let answer = fake.answer(&token).await;
    assert!(answer.ephemeral, "balances are private");
    assert_eq!(
        answer.calls.len(),
        1,
        "answered at once, no defer: {:#?}",
        answer.calls
    );
    assert!(answer.text().contains("🪙 0 coins"), "{}", answer.text());

    let dir = app.dir.clone();
    app.stop().await.expect("clean stop");

    let fake2 = FakeDiscord::start().await;
    let app2 = TestApp::spawn_in(&fake2, dir).await;
    fake2.wait_identified().await;
    assert!(
        fake2.calls_to("PUT", "/commands").is_empty(),
        "unchanged commands are not re-registered: {:#?}",
        fake2.calls()
    );
    let token = fake2.slash(&alice(), "balance", json!([]));
    assert!(fake2.answer(&token).await.text().contains("coins"));
    app2.stop().await.expect("clean stop");
    assert_no_dropped_payloads();
}

fn bob() -> Invoker {
    Invoker::member(111_000_000_000_000_002, "bob")
}

fn user_opt(name: &str, who: &Invoker) -> serde_json::Value {
    json!({"name": name, "type": 6, "value": who.id.to_string()})
}

fn str_opt(name: &str, value: &str) -> serde_json::Value {
    json!({"name": name, "type": 3, "value": value})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_twice_pays_once_and_the_second_reply_says_when_to_come_back() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;

    let first = fake.answer(&fake.slash(&alice(), "daily", json!([]))).await;
    assert!(first.ephemeral);
    assert!(
        first.text().contains("You claimed your daily 🪙 100 coins"),
        "{}",
        first.text()
    );
    let second = fake.answer(&fake.slash(&alice(), "daily", json!([]))).await;
    assert!(second.ephemeral, "errors are private");
    assert!(
        second
            .text()
            .contains("You can claim again at 2026-03-02 12:00:00 UTC (in 24 h 0 min)."),
        "{}",
        second.text()
    );
    let history = fake
        .answer(&fake.slash(&alice(), "history", json!([])))
        .await;
    assert!(history.ephemeral);
    assert_eq!(
        history.text().matches("Daily reward").count(),
        1,
        "{}",
        history.text()
    );

    // A day later the next claim works.
    app.clock.advance(chrono::Duration::hours(24));
    let third = fake.answer(&fake.slash(&alice(), "daily", json!([]))).await;
    assert!(third.text().contains("🪙 200 coins"), "{}", third.text());

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let economy = coffer::economy::Economy::new(store.clone());
    let guild = coffer::domain::GuildId(crate::fake_discord::GUILD_ID);
    let alice_id = coffer::domain::UserId(alice().id);
    let ledger = economy.history(guild, alice_id, 1, 50).unwrap();
    assert_eq!(ledger.total, 2, "one entry per day: {:?}", ledger.items);
    assert_eq!(economy.account(guild, alice_id).unwrap().balance.get(), 200);
    // Both uses are in the command log, the refusal with its kind.
    let log = store
        .read(guild, |r| r.command_log(&Default::default()))
        .unwrap();
    // Rows are written after each reply, so their order may differ from the commands'.
    let mut outcomes: Vec<(&str, &str)> = log
        .items
        .iter()
        .map(|e| (e.command.as_str(), e.outcome.as_str()))
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("daily", "ok"),
            ("daily", "ok"),
            ("daily", "on_cooldown"),
            ("history", "ok")
        ]
    );
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn give_without_enough_money_is_refused_privately_and_a_valid_give_moves_the_money() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;

    let give = |amount: &str| json!([user_opt("user", &bob()), str_opt("amount", amount)]);
    let refused = fake.answer(&fake.slash(&alice(), "give", give("50"))).await;
    assert!(refused.ephemeral);
    assert_eq!(refused.text(), "You need 50 coins but have 0.");

    for (amount, expected) in [
        ("0", "the amount must be more than 0"),
        ("-5", "the amount must be more than 0"),
        ("99999999999999999999", "at most 1,000,000,000,000"),
        ("ten", "is not a whole number"),
    ] {
        let a = fake
            .answer(&fake.slash(&alice(), "give", give(amount)))
            .await;
        assert!(a.ephemeral);
        assert!(a.text().contains(expected), "{amount}: {}", a.text());
    }

    fake.answer(&fake.slash(&alice(), "daily", json!([]))).await;
    let sent = fake.answer(&fake.slash(&alice(), "give", give("60"))).await;
    assert!(!sent.ephemeral, "a transfer is announced");
    assert_eq!(
        sent.text(),
        format!("<@{}> sent 🪙 60 coins to <@{}>.", alice().id, bob().id)
    );
    let bob_balance = fake.answer(&fake.slash(&bob(), "balance", json!([]))).await;
    assert!(
        bob_balance.text().contains("**🪙 60 coins**"),
        "{}",
        bob_balance.text()
    );
    let alice_balance = fake
        .answer(&fake.slash(&alice(), "balance", json!([])))
        .await;
    assert!(
        alice_balance.text().contains("**🪙 40 coins**"),
        "{}",
        alice_balance.text()
    );
    let board = fake
        .answer(&fake.slash(&bob(), "leaderboard", json!([])))
        .await;
    assert!(!board.ephemeral);
    assert!(
        board
            .text()
            .contains(&format!("**1.** <@{}> — 🪙 60 coins", bob().id)),
        "{}",
        board.text()
    );
    assert!(
        board
            .text()
            .contains("Your rank: **#1** of 2 — 🪙 60 coins"),
        "{}",
        board.text()
    );
    app.stop().await.expect("clean stop");
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_admin_is_refused_admin_money_even_if_discord_shows_the_command() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    let add = |amount: &str| {
        json!([{"name": "money", "type": 2, "options": [
            {"name": "add", "type": 1, "options": [
                user_opt("user", &bob()), str_opt("amount", amount), str_opt("reason", "prize")
            ]}
        ]}])
    };

    let refused = fake
        .answer(&fake.slash(&alice(), "admin", add("100")))
        .await;
    assert!(refused.ephemeral);
    assert_eq!(refused.text(), "Only server admins can use this command.");
    let bob_balance = fake.answer(&fake.slash(&bob(), "balance", json!([]))).await;
    assert!(
        bob_balance.text().contains("**🪙 0 coins**"),
        "{}",
        bob_balance.text()
    );

    let manager = Invoker {
        permissions: 1 << 5,
        ..Invoker::member(111_000_000_000_000_003, "manager")
    };
    let done = fake
        .answer(&fake.slash(&manager, "admin", add("100")))
        .await;
    assert!(done.ephemeral);
    assert!(
        done.text().contains("🪙 0 coins → 🪙 100 coins"),
        "{}",
        done.text()
    );
    let owner = Invoker::member(crate::fake_discord::OWNER_ID, "owner");
    let done = fake.answer(&fake.slash(&owner, "admin", add("1k"))).await;
    assert!(done.text().contains("→ 🪙 1,100 coins"), "{}", done.text());

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let guild = coffer::domain::GuildId(crate::fake_discord::GUILD_ID);
    let log = store
        .read(guild, |r| r.command_log(&Default::default()))
        .unwrap();
    let mut rows: Vec<(&str, &str)> = log
        .items
        .iter()
        .map(|e| (e.command.as_str(), e.outcome.as_str()))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("admin money add", "denied"),
            ("admin money add", "ok"),
            ("admin money add", "ok"),
            ("balance", "ok"),
        ]
    );
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_a_reply_is_retried_after_retry_after() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    fake.script(
        "POST",
        "/callback",
        429,
        json!({"message": "You are being rate limited.", "retry_after": 0.4, "global": false}),
        1,
    );
    let token = fake.slash(&alice(), "balance", json!([]));
    let answer = fake.answer(&token).await;
    let callbacks: Vec<_> = fake
        .calls_to("POST", "/callback")
        .into_iter()
        .filter(|c| c.path.contains(&token))
        .collect();
    assert_eq!(callbacks.len(), 2, "{callbacks:#?}");
    let limited = callbacks.iter().find(|c| c.status == 429).expect("the 429");
    let ok = callbacks
        .iter()
        .find(|c| c.status == 204)
        .expect("the retry");
    let waited = ok.at.duration_since(limited.at);
    assert!(
        waited >= std::time::Duration::from_millis(400),
        "retried after {waited:?}"
    );
    assert!(answer.text().contains("coins"));
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_retries_429_and_5xx_and_stops_with_a_clear_error_on_a_bad_token_or_registration()
{
    let fake = FakeDiscord::start().await;
    fake.script(
        "GET",
        "/users/@me",
        429,
        json!({"message": "You are being rate limited.", "retry_after": 0.3, "global": true}),
        1,
    );
    fake.script(
        "GET",
        "/oauth2/applications/@me",
        502,
        json!({"message": "Bad Gateway", "code": 0}),
        1,
    );
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    let me = fake.calls_to("GET", "/users/@me");
    assert_eq!(me.len(), 2);
    assert!(me[1].at.duration_since(me[0].at) >= std::time::Duration::from_millis(300));
    // A 5xx is retried after a short backoff.
    let app_info = fake.calls_to("GET", "/oauth2/applications/@me");
    assert_eq!(
        app_info.iter().map(|c| c.status).collect::<Vec<_>>(),
        [502, 200]
    );
    assert!(app_info[1].at.duration_since(app_info[0].at) >= std::time::Duration::from_millis(500));
    app.stop().await.expect("clean stop");

    let fake = FakeDiscord::start().await;
    fake.script(
        "GET",
        "/users/@me",
        401,
        json!({"message": "401: Unauthorized", "code": 0}),
        1,
    );
    let app = TestApp::spawn(&fake).await;
    let err = app.exit().await.expect_err("start-up must fail");
    let text = format!("{err:#}");
    assert!(text.contains("Discord rejected DISCORD_TOKEN"), "{text}");
    assert!(
        fake.identifies().is_empty(),
        "no gateway connection after a failed start"
    );

    // Registration failing is a start-up failure too, not a bot that sits waiting.
    let fake = FakeDiscord::start().await;
    fake.script(
        "PUT",
        "/commands",
        400,
        json!({"message": "Invalid Form Body", "code": 50035}),
        1,
    );
    let app = TestApp::spawn(&fake).await;
    let text = format!("{:#}", app.exit().await.expect_err("start-up must fail"));
    assert!(text.contains("registering slash commands"), "{text}");
    assert!(text.contains("Invalid Form Body"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_guild_registers_commands_in_that_guild_only() {
    let fake = FakeDiscord::start().await;
    let extra = format!("[discord]\ndev_guild = {}\n", crate::fake_discord::GUILD_ID);
    let app = TestApp::spawn_with(&fake, crate::support::new_data_dir(), &extra).await;
    fake.wait_identified().await;
    let path = format!(
        "/api/v10/applications/{APP_ID}/guilds/{}/commands",
        crate::fake_discord::GUILD_ID
    );
    assert_eq!(fake.calls_to("PUT", &path).len(), 1, "{:#?}", fake.calls());
    assert_eq!(fake.calls_to("PUT", "/commands").len(), 1, "nothing global");
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_without_a_route_gets_a_private_answer_and_a_log_row() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    let answer = fake.answer(&fake.click(&alice(), "gone:42")).await;
    assert!(answer.ephemeral);
    assert_eq!(answer.text(), "This button is no longer active.");

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let guild = coffer::domain::GuildId(crate::fake_discord::GUILD_ID);
    let log = store
        .read(guild, |r| r.command_log(&Default::default()))
        .unwrap();
    assert_eq!(log.total, 1);
    let row = &log.items[0];
    assert_eq!(
        (
            row.command.as_str(),
            row.kind.as_str(),
            row.outcome.as_str()
        ),
        ("gone", "component", "unknown_component")
    );
    assert_eq!(row.user.get(), alice().id);
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_the_dev_guild_never_registers_more_than_100_commands_and_refuses_more_custom_ones(
) {
    let guild = crate::fake_discord::GUILD_ID;
    let dir = crate::support::new_data_dir();
    // Made while the bot was off (from the dashboard): nothing reserved room for the built-ins.
    crate::support::seed(&dir, |s| {
        for i in 0..87 {
            s.custom
                .create(
                    coffer::domain::GuildId(guild),
                    &format!("c{i:02}"),
                    "x",
                    false,
                    &coffer::domain::Actor::System.into(),
                )
                .expect("custom command");
        }
    });
    let fake = FakeDiscord::start().await;
    let extra = format!("[discord]\ndev_guild = {guild}\n");
    let app = TestApp::spawn_with(&fake, dir, &extra).await;
    fake.wait_identified().await;
    let path = format!("/api/v10/applications/{APP_ID}/guilds/{guild}/commands");
    let puts = fake.calls_to("PUT", &path);
    assert_eq!(puts.len(), 1, "{puts:#?}");
    assert_eq!(puts[0].status, 200, "Discord took the set: {:?}", puts[0]);
    let sent = puts[0].body.as_array().expect("a command list");
    assert_eq!(
        sent.len(),
        100,
        "built-ins plus as many custom commands as fit"
    );
    assert_eq!(sent[0]["name"], "balance");

    let owner = Invoker::member(crate::fake_discord::OWNER_ID, "owner");
    let options = json!([{"name": "command", "type": 2, "options": [{"name": "create", "type": 1,
        "options": [str_opt("name", "one-more"), str_opt("response", "hello")]}]}]);
    let answer = fake
        .answer(&fake.command(&owner, "admin", options, &[]))
        .await;
    assert!(answer.ephemeral);
    assert!(
        answer.text().contains("at most 86 custom commands"),
        "{}",
        answer.text()
    );
    app.stop().await.expect("clean stop");
}

/// A guild where `who` holds 1,000 coins and the shop sells a VIP Pass (50) that gives a role.
fn vip_shop(who: u64) -> std::sync::Arc<tempfile::TempDir> {
    use coffer::domain::{GuildId, Money, RoleId, UserId};
    let dir = crate::support::new_data_dir();
    crate::support::seed(&dir, |s| {
        let sys = coffer::economy::OpMeta::system();
        let g = GuildId(crate::fake_discord::GUILD_ID);
        s.economy
            .adjust(
                g,
                UserId(who),
                coffer::economy::Adjustment::Set(Money::new(1000)),
                "seed",
                &sys,
            )
            .expect("seed balance");
        let mut item = coffer::domain::shop::ItemInput::new("VIP Pass", 50);
        item.role_id = Some(RoleId(800_000_000_000_000_500));
        s.shop.create_item(g, item, &sys).expect("vip pass");
    });
    dir
}

fn callbacks_of(fake: &FakeDiscord, token: &str) -> Vec<crate::fake_discord::RestCall> {
    fake.calls_to("POST", &format!("{token}/callback"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_a_failed_defer_finishes_the_purchase_and_logs_the_answer_the_member_missed() {
    let buyer = Invoker::member(111_000_000_000_014_001, "buyer14");
    let fake = FakeDiscord::start().await;
    // The role grant keeps failing, so the purchase reply waits for it and has to defer.
    fake.script(
        "PUT",
        "/roles/",
        500,
        json!({"message": "Internal Server Error", "code": 0}),
        1000,
    );
    fake.refuse_defers(100);
    let app = TestApp::spawn_in(&fake, vip_shop(buyer.id)).await;
    fake.wait_identified().await;
    let token = fake.slash(&buyer, "buy", json!([str_opt("item", "VIP Pass")]));
    let id = buyer.id.to_string();
    crate::support::wait_for_log("the undelivered answer", |l| {
        l.contains("the answer was not delivered")
            && l.contains(&id)
            && l.contains("You bought 1× **VIP Pass**")
    })
    .await;
    let sent = fake.sent_at(&token);
    let callbacks = callbacks_of(&fake, &token);
    assert!(
        callbacks
            .iter()
            .any(|c| c.body["type"] == 5 && c.status == 500),
        "{callbacks:#?}"
    );
    for c in &callbacks {
        assert!(
            c.at.duration_since(sent) < std::time::Duration::from_secs(3),
            "a callback after the deadline: {c:#?}"
        );
    }
    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let account = store
        .read(
            coffer::domain::GuildId(crate::fake_discord::GUILD_ID),
            |r| r.account(coffer::domain::UserId(buyer.id)),
        )
        .unwrap()
        .expect("account");
    assert_eq!(account.balance.get(), 950, "the purchase was not dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_a_callback_is_never_retried_past_the_3_s_deadline() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    fake.script(
        "POST",
        "/callback",
        429,
        json!({"message": "You are being rate limited.", "retry_after": 2.0, "global": false}),
        5,
    );
    let who = Invoker::member(111_000_000_000_015_001, "late15");
    let token = fake.slash(&who, "balance", json!([]));
    let id = who.id.to_string();
    crate::support::wait_for_log("the undelivered answer", |l| {
        l.contains("the answer was not delivered") && l.contains(&id)
    })
    .await;
    let sent = fake.sent_at(&token);
    let callbacks = callbacks_of(&fake, &token);
    assert_eq!(
        callbacks.len(),
        2,
        "the first try and one retry at 2 s: {callbacks:#?}"
    );
    for c in &callbacks {
        assert!(
            c.at.duration_since(sent) < std::time::Duration::from_secs(3),
            "a callback after the deadline: {c:#?}"
        );
    }
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_a_retried_callback_answered_40060_is_a_success() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    // Discord carries out the first callback but the answer is lost: the retry hears 40060.
    fake.lose_callback_responses(1);
    let who = Invoker::member(111_000_000_000_015_002, "lost15");
    let token = fake.slash(&who, "balance", json!([]));
    fake.wait_until("the retry", std::time::Duration::from_secs(10), |f| {
        callbacks_of(f, &token).len() >= 2
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let statuses: Vec<u16> = callbacks_of(&fake, &token)
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [502, 400], "no third try, no error answer");
    assert_eq!(
        callbacks_of(&fake, &token)[1].body["type"],
        4,
        "the retry was the answer itself"
    );
    assert!(
        fake.calls_to("POST", &format!("/webhooks/{APP_ID}/{token}"))
            .is_empty(),
        "no follow-up"
    );
    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let guild = coffer::domain::GuildId(crate::fake_discord::GUILD_ID);
    let log = store
        .read(guild, |r| r.command_log(&Default::default()))
        .unwrap();
    let row = log
        .items
        .iter()
        .find(|r| r.user.get() == who.id)
        .expect("a log row");
    assert_eq!(row.outcome, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_a_global_429_on_a_channel_post_does_not_hold_interaction_answers() {
    let dir = crate::support::new_data_dir();
    let shop: u64 = 800_000_000_000_000_300;
    crate::support::seed(&dir, |s| {
        let sys = coffer::economy::OpMeta::system();
        let g = coffer::domain::GuildId(crate::fake_discord::GUILD_ID);
        s.guilds
            .update_config(g, &json!({"shop_channel_id": shop.to_string()}), &sys)
            .expect("shop channel");
    });
    let fake = FakeDiscord::start().await;
    fake.script(
        "POST",
        &format!("/channels/{shop}/messages"),
        429,
        json!({"message": "You are being rate limited.", "retry_after": 5.0, "global": true}),
        1,
    );
    let app = TestApp::spawn_in(&fake, dir).await;
    fake.wait_identified().await;
    let admin = app.login().await;
    let (status, body) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/{}/shop", crate::fake_discord::GUILD_ID),
            Some(&admin),
            Some(json!({"name": "Cake", "price": 5})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    fake.wait_until("the global 429", std::time::Duration::from_secs(10), |f| {
        f.channel_posts(shop).iter().any(|c| c.status == 429)
    })
    .await;
    let token = fake.slash(&alice(), "balance", json!([]));
    let answer = fake.answer(&token).await;
    let waited = answer.calls[0].at.duration_since(fake.sent_at(&token));
    assert!(
        waited < std::time::Duration::from_secs(2),
        "the answer waited {waited:?} on a global limit"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_concurrent_calls_on_one_bucket_wait_instead_of_collecting_429s() {
    let fake = FakeDiscord::start().await;
    fake.rate_limit(
        "POST",
        "/channels/",
        2,
        std::time::Duration::from_millis(800),
    );
    let rest = std::sync::Arc::new(
        coffer::discord::Rest::new("fake-token", Some(&fake.base_url)).expect("client"),
    );
    let channel = crate::fake_discord::CHANNEL_ID;
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let rest = rest.clone();
            tokio::spawn(async move {
                rest.create_message(channel, &json!({"content": format!("m{i}")}))
                    .await
            })
        })
        .collect();
    for c in calls {
        c.await.expect("task").expect("posted");
    }
    let posts = fake.channel_posts(channel);
    assert_eq!(posts.len(), 6, "{posts:#?}");
    assert!(posts.iter().all(|c| c.status == 200), "{posts:#?}");
    // Two per 0.8 s window: the sixth went out in the third window.
    let span = posts[5].at.duration_since(posts[0].at);
    assert!(span >= std::time::Duration::from_millis(1500), "{span:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_disallowed_intents_end_with_words_that_fix_it_and_the_flags_warn_first() {
    let fake = FakeDiscord::start().await;
    fake.set_app_flags(0);
    fake.close_gateway_with(4014);
    let extra = "[discord]\nmembers_intent = true\n";
    let app = TestApp::spawn_with(&fake, crate::support::new_data_dir(), extra).await;
    let text = format!("{:#}", app.exit().await.expect_err("4014 is fatal"));
    assert!(
        text.contains(
            "enable Server Members Intent in the Developer Portal, or set discord.members_intent = false"
        ) && text.contains("4014"),
        "{text}"
    );
    assert_eq!(fake.identifies().len(), 1, "no re-IDENTIFY after 4014");
    let logs = crate::support::logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("Server Members Intent looks disabled")),
        "the start-up check warned"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_10_the_bot_starts_as_many_shards_as_discord_recommends() {
    let fake = FakeDiscord::start().await;
    fake.set_shards(2);
    let app = TestApp::spawn(&fake).await;
    fake.wait_until("two IDENTIFYs", std::time::Duration::from_secs(20), |f| {
        f.identifies().len() >= 2
    })
    .await;
    let mut shards: Vec<serde_json::Value> = fake
        .identifies()
        .iter()
        .map(|i| i["d"]["shard"].clone())
        .collect();
    shards.sort_by_key(|s| s[0].as_u64());
    assert_eq!(shards, [json!([0, 2]), json!([1, 2])]);
    assert_eq!(fake.calls_to("GET", "/api/v10/gateway/bot").len(), 1);
    fake.wait_identified().await;
    let answer = fake
        .answer(&fake.slash(&alice(), "balance", json!([])))
        .await;
    assert!(answer.text().contains("coins"), "{}", answer.text());
    app.stop().await.expect("clean stop");
}
