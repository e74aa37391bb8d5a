//! End-to-end shop, guild-tracking and custom-command scenarios against the fake Discord:
//! buying by button and by command (scenario 4), forged buttons (scenario 8), autocomplete,
//! gateway events kept in the store, and per-guild custom command registration.

use coffer::domain::shop::{ItemInput, Stock};
use coffer::domain::{Actor, GuildId, Money, UserId};
use coffer::economy::{Adjustment, OpMeta};
use serde_json::{json, Value};

use crate::fake_discord::{guild_json, FakeDiscord, Invoker, APP_ID, GUILD_ID};
use crate::support::{assert_no_dropped_payloads, logs, new_data_dir, seed, wait_for_log, TestApp};

const OTHER_GUILD: u64 = 800_000_000_000_000_002;

fn member(id: u64, name: &str) -> Invoker {
    Invoker::member(id, name)
}

fn manager(id: u64) -> Invoker {
    Invoker {
        permissions: 1 << 5,
        ..Invoker::member(id, "manager")
    }
}

fn give(s: &coffer::services::Services, guild: u64, user: u64, amount: i64) {
    s.economy
        .adjust(
            GuildId(guild),
            UserId(user),
            Adjustment::Set(Money::new(amount)),
            "seed",
            &OpMeta::system(),
        )
        .expect("seed balance");
}

fn item(name: &str, price: i64, stock: i64) -> ItemInput {
    let mut i = ItemInput::new(name, price);
    i.stock = stock;
    i
}

fn str_opt(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_4_buying_by_button_and_command_changes_stock_and_balance_once() {
    let alice = member(111_000_000_000_004_001, "alice");
    let dir = new_data_dir();
    seed(&dir, |s| {
        let sys = OpMeta::system();
        let g = GuildId(GUILD_ID);
        give(s, GUILD_ID, alice.id, 1000);
        s.shop
            .create_item(g, item("Golden Ticket", 100, 1), &sys)
            .unwrap(); // 1
        s.shop
            .create_item(g, item("Gold Bar", 50, -1), &sys)
            .unwrap(); // 2
        let mut secret = item("Golden Secret", 10, -1);
        secret.visible = false;
        s.shop.create_item(g, secret, &sys).unwrap(); // 3
    });
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_in(&fake, dir).await;
    fake.wait_identified().await;

    // Autocomplete offers the matching items for sale, hidden ones not.
    let token = fake.autocomplete(
        &alice,
        "buy",
        json!([{"name": "item", "type": 3, "value": "gol", "focused": true}]),
    );
    let choices = fake.choices(&token).await;
    let names: Vec<&str> = choices
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Gold Bar — 🪙 50 coins · unlimited",
            "Golden Ticket — 🪙 100 coins · 1 left"
        ]
    );
    assert_eq!(choices[1]["value"], "#1");

    // The Buy button buys one; the second click finds it sold out.
    let first = fake.answer(&fake.click(&alice, "shop:buy:1")).await;
    assert!(first.ephemeral);
    assert!(
        first.text().contains(
            "You bought 1× **Golden Ticket** for 🪙 100 coins. Your balance is now 🪙 900 coins."
        ),
        "{}",
        first.text()
    );
    let again = fake.answer(&fake.click(&alice, "shop:buy:1")).await;
    assert!(again.ephemeral);
    assert_eq!(again.text(), "Golden Ticket is out of stock.");

    // By command, with the autocomplete value and a quantity.
    let bought = fake
        .answer(&fake.slash(
            &alice,
            "buy",
            json!([str_opt("item", "#2"), {"name": "quantity", "type": 4, "value": 3}]),
        ))
        .await;
    assert!(bought.ephemeral);
    assert!(
        bought.text().contains("You bought 3× **Gold Bar** for 🪙 150 coins. Your balance is now 🪙 750 coins. You have 3 of it."),
        "{}",
        bought.text()
    );
    let hidden = fake
        .answer(&fake.slash(&alice, "buy", json!([str_opt("item", "golden secret")])))
        .await;
    assert_eq!(hidden.text(), "Golden Secret is not for sale right now.");
    let poor = fake
        .answer(&fake.slash(
            &alice,
            "buy",
            json!([str_opt("item", "Gold Bar"), {"name": "quantity", "type": 4, "value": 100}]),
        ))
        .await;
    assert!(poor.ephemeral);
    assert_eq!(poor.text(), "You need 5,000 coins but have 750.");

    let inv = fake
        .answer(&fake.slash(&alice, "inventory", json!([])))
        .await;
    assert!(inv.ephemeral);
    assert!(
        inv.text().contains("**Golden Ticket** × 1"),
        "{}",
        inv.text()
    );
    assert!(inv.text().contains("**Gold Bar** × 3"), "{}", inv.text());
    let listing = fake.answer(&fake.slash(&alice, "shop", json!([]))).await;
    assert!(!listing.ephemeral, "the shop is public");
    assert!(
        listing
            .text()
            .contains("**Golden Ticket** — 🪙 100 coins · sold out"),
        "{}",
        listing.text()
    );
    assert!(!listing.text().contains("Secret"), "{}", listing.text());
    // Buy buttons for what can be bought now: not the sold-out ticket, not hidden items.
    let buttons = listing.button_ids();
    assert!(!buttons.is_empty(), "{:#}", listing.message);
    assert!(!buttons.contains(&"shop:buy:1".to_owned()), "{buttons:?}");
    assert!(
        buttons.iter().all(|b| b.starts_with("shop:buy:")),
        "{buttons:?}"
    );

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let services = coffer::services::Services::new(store, false);
    let g = GuildId(GUILD_ID);
    let account = services.economy.account(g, UserId(alice.id)).unwrap();
    assert_eq!(account.balance.get(), 750);
    let ticket = services.shop.get_item(g, 1).unwrap();
    assert_eq!((ticket.stock, ticket.sales_count), (Stock::Limited(0), 1));
    assert_eq!(services.shop.get_item(g, 2).unwrap().sales_count, 3);
    assert_eq!(services.shop.get_item(g, 3).unwrap().sales_count, 0);
    let ledger = services
        .economy
        .history(g, UserId(alice.id), 1, 50)
        .unwrap();
    assert_eq!(ledger.total, 3, "seed + two purchases: {:?}", ledger.items);
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_8_forged_or_stale_buy_buttons_change_nothing() {
    let bob = member(111_000_000_000_008_001, "bob");
    let dir = new_data_dir();
    seed(&dir, |s| {
        let sys = OpMeta::system();
        give(s, GUILD_ID, bob.id, 1000);
        give(s, OTHER_GUILD, bob.id, 1000);
        s.shop
            .create_item(GuildId(GUILD_ID), item("Cookie", 10, 5), &sys)
            .unwrap(); // 1 here
        for i in 1..=4 {
            s.shop
                .create_item(
                    GuildId(OTHER_GUILD),
                    item(&format!("Other {i}"), 10, 5),
                    &sys,
                )
                .unwrap(); // 1..=4 there
        }
        let gone = s
            .shop
            .create_item(GuildId(GUILD_ID), item("Gone", 10, 5), &sys)
            .unwrap(); // 2 here
        s.shop
            .delete_item(GuildId(GUILD_ID), gone.id, &sys)
            .unwrap();
    });
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_in(&fake, dir).await;
    fake.wait_identified().await;

    let gone = "This item is no longer in the shop. Use /shop to see what's for sale.";
    for (custom_id, expected) in [
        // Item 4 exists only in the other guild.
        ("shop:buy:4", gone),
        ("shop:buy:2", gone),
        ("shop:buy:999999", gone),
        ("shop:buy:abc", "This button is no longer active."),
        ("shop:sell:1", "This button is no longer active."),
        ("shop:buy:", "This button is no longer active."),
    ] {
        let a = fake.answer(&fake.click(&bob, custom_id)).await;
        assert!(a.ephemeral, "{custom_id}");
        assert_eq!(a.text(), expected, "{custom_id}");
    }

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let services = coffer::services::Services::new(store, false);
    for g in [GUILD_ID, OTHER_GUILD] {
        let g = GuildId(g);
        assert_eq!(
            services
                .economy
                .account(g, UserId(bob.id))
                .unwrap()
                .balance
                .get(),
            1000
        );
        for it in services
            .shop
            .list_items(g, &coffer::shop::ItemFilter::all())
            .unwrap()
        {
            assert_eq!((it.stock, it.sales_count), (Stock::Limited(5), 0), "{it:?}");
        }
        assert!(services
            .shop
            .inventory(g, UserId(bob.id))
            .unwrap()
            .is_empty());
    }
    let log = services
        .command_log
        .list(GuildId(GUILD_ID), &Default::default())
        .unwrap();
    let mut outcomes: Vec<&str> = log.items.iter().map(|e| e.outcome.as_str()).collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        ["refused", "refused", "refused", "refused", "refused", "refused"]
    );
    assert_no_dropped_payloads();
}

/// A GUILD_CREATE for a guild of the test's own (so log lines are unique to the test).
fn guild_create(id: u64, name: &str, owner: u64) -> Value {
    let mut g = guild_json();
    g["id"] = json!(id.to_string());
    g["name"] = json!(name);
    g["owner_id"] = json!(owner.to_string());
    g["member_count"] = json!(42);
    g["roles"][0]["id"] = json!(id.to_string());
    g["roles"][1]["id"] = json!((id + 200).to_string());
    g["roles"][1]["name"] = json!("Baker");
    // Only these two: the fake guild's other roles belong to the task scenarios.
    g["roles"].as_array_mut().expect("roles").truncate(2);
    g["channels"] = json!([
        channel(id, id + 100, "general", 0),
        channel(id, id + 101, "Voice", 2),
    ]);
    g
}

fn channel(guild: u64, id: u64, name: &str, kind: u8) -> Value {
    json!({ "id": id.to_string(), "type": kind, "guild_id": guild.to_string(), "name": name,
            "position": 0, "permission_overwrites": [], "nsfw": false, "parent_id": null })
}

fn user(id: u64, name: &str) -> Value {
    json!({ "id": id.to_string(), "username": name, "discriminator": "0", "global_name": null,
            "avatar": null })
}

fn logged(parts: &[String]) -> impl Fn(&str) -> bool + '_ {
    move |line: &str| parts.iter().all(|p| line.contains(p.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_events_keep_the_guild_its_channels_roles_and_members_in_the_store() {
    let g: u64 = 800_000_000_000_000_700;
    let (owner, kept, stranger) = (
        700_000_000_000_000_701u64,
        111_000_000_000_007_001u64,
        111_000_000_000_007_002u64,
    );
    let dir = new_data_dir();
    seed(&dir, |s| give(s, g, kept, 30));
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_with(&fake, dir, "[discord]\nmembers_intent = true\n").await;
    fake.wait_identified().await;
    let intents = fake.identifies()[0]["d"]["intents"].as_u64().unwrap();
    assert_eq!(intents & 0b11, 0b11, "GUILDS and GUILD_MEMBERS");

    let gs = g.to_string();
    fake.dispatch_checked("GUILD_CREATE", guild_create(g, "Bakery", owner));
    wait_for_log("guild stored", logged(&["guild stored".into(), gs.clone()])).await;

    let stored = |what: &str| {
        let parts = vec![
            "Discord event stored".to_owned(),
            gs.clone(),
            what.to_owned(),
        ];
        async move { wait_for_log(&parts.join(" "), logged(&parts)).await }
    };
    fake.dispatch_checked("CHANNEL_CREATE", channel(g, g + 102, "shop", 0));
    stored("channel upsert").await;
    fake.dispatch_checked("CHANNEL_DELETE", channel(g, g + 101, "Voice", 2));
    stored("channel delete").await;
    let mut update = guild_create(g, "Bakery & Co", owner + 1);
    update["member_count"] = json!(0);
    fake.dispatch_checked("GUILD_UPDATE", update);
    stored("guild update").await;
    fake.dispatch_checked(
        "GUILD_ROLE_DELETE",
        json!({"guild_id": gs, "role_id": (g + 200).to_string()}),
    );
    stored("role delete").await;

    let member_json = |id: u64, name: &str| {
        json!({"guild_id": gs, "user": user(id, name), "roles": [], "nick": "Kept",
               "joined_at": "2024-01-01T00:00:00Z", "deaf": false, "mute": false, "flags": 0})
    };
    fake.dispatch_checked(
        "GUILD_MEMBER_REMOVE",
        json!({"guild_id": gs, "user": user(kept, "kept")}),
    );
    let activity = |active: bool| {
        vec![
            "member account activity changed".to_owned(),
            gs.clone(),
            kept.to_string(),
            format!("active={active}"),
        ]
    };
    let gone = activity(false);
    wait_for_log("member left", logged(&gone)).await;
    fake.dispatch_checked("GUILD_MEMBER_ADD", member_json(kept, "kept"));
    let back = activity(true);
    wait_for_log("member back", logged(&back)).await;
    fake.dispatch_checked("GUILD_MEMBER_ADD", member_json(stranger, "stranger"));
    let no_account = vec!["member without an account".to_owned(), stranger.to_string()];
    wait_for_log("stranger joined", logged(&no_account)).await;
    stored("member add").await;

    // An outage is not a removal; a removal keeps the data.
    fake.dispatch_checked("GUILD_DELETE", json!({"id": gs, "unavailable": true}));
    let outage = vec!["guild unavailable".to_owned(), gs.clone()];
    wait_for_log("outage", logged(&outage)).await;
    let outage_seen_as_left = logs()
        .lines()
        .any(|l| l.contains("marked as left") && l.contains(&gs));
    assert!(
        !outage_seen_as_left,
        "an outage must not mark the guild left"
    );
    fake.dispatch_checked("GUILD_DELETE", json!({"id": gs}));
    let left = vec!["marked as left".to_owned(), gs.clone()];
    wait_for_log("left", logged(&left)).await;

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let services = coffer::services::Services::new(store, false);
    let guild = GuildId(g);
    let info = services.guilds.info(guild).unwrap().expect("guild info");
    assert_eq!(info.name, "Bakery & Co");
    assert_eq!(info.owner_id, Some(UserId(owner + 1)));
    assert_eq!(
        info.member_count, 42,
        "a guild update keeps the known member count"
    );
    assert!(
        info.joined_at.is_some() && info.left_at.is_some(),
        "{info:?}"
    );
    let channels: Vec<(u64, String)> = services
        .guilds
        .channels(guild, false)
        .unwrap()
        .into_iter()
        .map(|c| (c.id.get(), c.name))
        .collect();
    assert_eq!(
        channels,
        [
            (g + 100, "general".to_owned()),
            (g + 102, "shop".to_owned())
        ]
    );
    let roles: Vec<String> = services
        .guilds
        .roles(guild)
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(roles, ["@everyone"]);
    let account = services
        .economy
        .find_account(guild, UserId(kept))
        .unwrap()
        .unwrap();
    assert!(account.active, "reactivated");
    assert_eq!(account.balance.get(), 30, "data kept");
    assert!(services
        .economy
        .find_account(guild, UserId(stranger))
        .unwrap()
        .is_none());
    let m = services
        .guilds
        .member(guild, UserId(stranger))
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.name.as_str(), m.display_name.as_deref()),
        ("stranger", Some("Kept"))
    );
    assert_no_dropped_payloads();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interactions_store_the_member_who_used_them() {
    let carol = member(111_000_000_000_009_001, "carol");
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    // A guild of this test's own, so the log line is this test's.
    let g: u64 = 800_000_000_000_000_950;
    fake.answer(&fake.slash_in(g, &carol, "balance", json!([])))
        .await;
    let parts = vec![
        "Discord event stored".to_owned(),
        "interaction member".to_owned(),
        g.to_string(),
    ];
    wait_for_log("interaction member", logged(&parts)).await;
    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let m = coffer::guild::Guilds::new(store)
        .member(GuildId(g), UserId(carol.id))
        .unwrap()
        .expect("carol stored");
    assert_eq!(m.name, "carol");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_commands_are_registered_per_guild_answered_and_not_re_registered_on_restart() {
    let g: u64 = 800_000_000_000_000_900;
    let dave = member(111_000_000_000_010_001, "dave");
    let dir = new_data_dir();
    seed(&dir, |s| {
        give(s, g, dave.id, 1250);
        s.custom
            .create(
                GuildId(g),
                "rules",
                "Hi {user}, welcome to {server}! You have {balance} {currency}.",
                false,
                &Actor::System.into(),
            )
            .unwrap();
    });
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_in(&fake, dir.clone()).await;
    fake.wait_identified().await;
    fake.dispatch_checked(
        "GUILD_CREATE",
        guild_create(g, "Bakery", 700_000_000_000_000_901),
    );
    let path = format!("/api/v10/applications/{APP_ID}/guilds/{g}/commands");
    let names_put = |f: &FakeDiscord| -> Vec<Vec<String>> {
        f.calls_to("PUT", &path)
            .iter()
            .map(|c| {
                c.body
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["name"].as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    };
    fake.wait_until(
        "the guild's commands",
        std::time::Duration::from_secs(10),
        |f| !names_put(f).is_empty(),
    )
    .await;
    assert_eq!(names_put(&fake), [vec!["rules".to_owned()]]);

    let answer = fake
        .answer(&fake.slash_in(g, &dave, "rules", json!([])))
        .await;
    assert!(!answer.ephemeral);
    assert_eq!(
        answer.text(),
        format!(
            "Hi <@{}>, welcome to Bakery! You have 1,250 coins.",
            dave.id
        )
    );

    // Admins add and remove commands from Discord; each change re-registers the guild's set.
    let refused = fake
        .answer(&fake.slash_in(
            g,
            &dave,
            "admin",
            json!([{"name": "command", "type": 2, "options": [{"name": "create", "type": 1,
                "options": [str_opt("name", "faq"), str_opt("response", "Ask {user}")]}]}]),
        ))
        .await;
    assert_eq!(refused.text(), "Only server admins can use this command.");
    let admin = manager(111_000_000_000_010_002);
    let saved = fake
        .answer(&fake.slash_in(
            g,
            &admin,
            "admin",
            json!([{"name": "command", "type": 2, "options": [{"name": "create", "type": 1,
                "options": [str_opt("name", "faq"), str_opt("response", "Ask {user}")]}]}]),
        ))
        .await;
    assert!(saved.ephemeral);
    assert!(saved.text().starts_with("Saved /faq."), "{}", saved.text());
    fake.wait_until("faq registered", std::time::Duration::from_secs(10), |f| {
        names_put(f).len() == 2
    })
    .await;
    assert_eq!(names_put(&fake)[1], ["faq", "rules"]);
    let faq = fake
        .answer(&fake.slash_in(g, &dave, "faq", json!([])))
        .await;
    assert_eq!(faq.text(), format!("Ask <@{}>", dave.id));
    let deleted = fake
        .answer(&fake.slash_in(
            g,
            &admin,
            "admin",
            json!([{"name": "command", "type": 2, "options": [{"name": "delete", "type": 1,
                "options": [str_opt("name", "faq")]}]}]),
        ))
        .await;
    assert_eq!(deleted.text(), "Deleted /faq.");
    fake.wait_until("faq removed", std::time::Duration::from_secs(10), |f| {
        names_put(f).len() == 3
    })
    .await;
    assert_eq!(names_put(&fake)[2], ["rules"]);
    let stale = fake
        .answer(&fake.slash_in(g, &dave, "faq", json!([])))
        .await;
    assert!(stale.ephemeral);
    assert_eq!(stale.text(), "This command isn't available any more.");
    // The fake's own guild has no custom commands: nothing is registered there.
    assert!(fake
        .calls_to("PUT", &format!("/guilds/{GUILD_ID}/commands"))
        .is_empty());
    app.stop().await.expect("clean stop");

    let fake2 = FakeDiscord::start().await;
    let app2 = TestApp::spawn_in(&fake2, dir).await;
    fake2.wait_identified().await;
    fake2.dispatch_checked(
        "GUILD_CREATE",
        guild_create(g, "Bakery", 700_000_000_000_000_901),
    );
    let unchanged = vec![
        "slash commands unchanged".to_owned(),
        format!("guild:{APP_ID}:{g}"),
    ];
    wait_for_log("guild set unchanged", logged(&unchanged)).await;
    assert!(
        fake2.calls_to("PUT", "/commands").is_empty(),
        "nothing re-registered: {:#?}",
        fake2.calls_to("PUT", "/commands")
    );
    let again = fake2
        .answer(&fake2.slash_in(g, &dave, "rules", json!([])))
        .await;
    assert!(again.text().contains("1,250 coins"), "{}", again.text());
    app2.stop().await.expect("clean stop");
    assert_no_dropped_payloads();
}

fn shop_admin(sub: &str, options: Value) -> Value {
    json!([{"name": "shop", "type": 2, "options": [{"name": sub, "type": 1, "options": options}]}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_items_from_discord_and_members_cannot() {
    let erin = member(111_000_000_000_011_001, "erin");
    let admin = manager(111_000_000_000_011_002);
    let dir = new_data_dir();
    seed(&dir, |s| give(s, GUILD_ID, erin.id, 500));
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn_in(&fake, dir).await;
    fake.wait_identified().await;

    let create = shop_admin(
        "create",
        json!([str_opt("name", "Muffin"), str_opt("price", "40"), str_opt("category", "food"),
               {"name": "stock", "type": 4, "value": 2}]),
    );
    let refused = fake
        .answer(&fake.slash(&erin, "admin", create.clone()))
        .await;
    assert_eq!(refused.text(), "Only server admins can use this command.");
    let created = fake.answer(&fake.slash(&admin, "admin", create)).await;
    assert!(created.ephemeral);
    assert_eq!(
        created.text(),
        "Created **Muffin** (item 1): 🪙 40 coins · stock 2 left · for sale."
    );
    // Admin autocomplete lists hidden items too.
    let hide = fake
        .answer(&fake.slash(
            &admin,
            "admin",
            shop_admin("hide", json!([str_opt("item", "#1")])),
        ))
        .await;
    assert!(hide.text().starts_with("Hid **Muffin**"), "{}", hide.text());
    let focused = shop_admin(
        "show",
        json!([{"name": "item", "type": 3, "value": "muf", "focused": true}]),
    );
    let choices = fake
        .choices(&fake.autocomplete(&admin, "admin", focused.clone()))
        .await;
    assert_eq!(choices[0]["name"], "Muffin (hidden) · item 1");
    let hidden_buy = fake
        .answer(&fake.slash(&erin, "buy", json!([str_opt("item", "muffin")])))
        .await;
    assert_eq!(hidden_buy.text(), "Muffin is not for sale right now.");
    fake.answer(&fake.slash(
        &admin,
        "admin",
        shop_admin("show", json!([str_opt("item", "#1")])),
    ))
    .await;
    let restocked = fake
        .answer(&fake.slash(
            &admin,
            "admin",
            shop_admin(
                "restock",
                json!([str_opt("item", "Muffin"), {"name": "amount", "type": 4, "value": 3}]),
            ),
        ))
        .await;
    assert!(
        restocked.text().contains("stock 5 left"),
        "{}",
        restocked.text()
    );
    let edited = fake
        .answer(&fake.slash(
            &admin,
            "admin",
            shop_admin(
                "edit",
                json!([
                    str_opt("item", "#1"),
                    str_opt("price", "25"),
                    str_opt("use_message", "Yum!")
                ]),
            ),
        ))
        .await;
    assert!(edited.text().contains("🪙 25 coins"), "{}", edited.text());
    let bought = fake
        .answer(&fake.slash(&erin, "buy", json!([str_opt("item", "Muffin")])))
        .await;
    assert!(
        bought.text().contains("for 🪙 25 coins"),
        "{}",
        bought.text()
    );
    let used = fake
        .answer(&fake.slash(&erin, "use", json!([str_opt("item", "#1")])))
        .await;
    assert!(used.ephemeral);
    assert_eq!(used.text(), "You used **Muffin**.\nYum!\nYou have 0 left.");
    let deleted = fake
        .answer(&fake.slash(
            &admin,
            "admin",
            shop_admin("delete", json!([str_opt("item", "#1")])),
        ))
        .await;
    assert!(
        deleted.text().starts_with("Deleted **Muffin** (item 1)"),
        "{}",
        deleted.text()
    );

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let services = coffer::services::Services::new(store, false);
    let g = GuildId(GUILD_ID);
    assert!(services.shop.get_item(g, 1).is_err(), "deleted");
    assert_eq!(
        services
            .economy
            .account(g, UserId(erin.id))
            .unwrap()
            .balance
            .get(),
        475
    );
    let filter = coffer::guild::AuditFilter {
        action: Some("shop.".into()),
        ..Default::default()
    };
    let audit = services.guilds.list_audit(g, &filter).unwrap();
    let mut actions: Vec<&str> = audit.items.iter().map(|a| a.action.as_str()).collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "shop.item.create",
            "shop.item.delete",
            "shop.item.hide",
            "shop.item.show",
            "shop.item.stock",
            "shop.item.update"
        ]
    );
    assert!(audit
        .items
        .iter()
        .all(|a| a.actor == Actor::User(UserId(admin.id))));
    assert_no_dropped_payloads();
}
