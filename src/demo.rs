//! `coffer demo`: a sample server in a separate database, so a newcomer sees a living dashboard
//! without a Discord token: 100 members, a dozen shop items, tasks and claims in every state,
//! announcements, and about 5,000 ledger entries over the last 30 days. Everything goes through
//! the services (with a settable clock walking through the month), so it obeys every rule the
//! bot does and passes `coffer verify`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::clock::ManualClock;
use crate::domain::tasks::Proof;
use crate::domain::{Actor, GuildId, Money, OpMeta, Source, UserId};
use crate::economy::Adjustment;
use crate::error::Error;
use crate::guild::{GuildProfile, MemberProfile};
use crate::services::Services;
use crate::store::Store;

/// The demo server's id.
pub const GUILD: GuildId = GuildId(100_000_000_000_000_001);
/// The demo dashboard login.
pub const USERNAME: &str = "demo";
pub const PASSWORD: &str = "coffer-demo";
pub const MEMBERS: u64 = 100;
const DAYS: i64 = 30;
const FIRST_USER: u64 = 200_000_000_000_000_000;
/// The demo's #announcements channel (#welcome is one below it, #shop and #tasks above).
const ANNOUNCEMENTS_CHANNEL: crate::domain::ChannelId =
    crate::domain::ChannelId(300_000_000_000_000_002);

const NAMES: [&str; 20] = [
    "Ada", "Basil", "Cleo", "Dmitri", "Esme", "Farid", "Greta", "Hiro", "Ines", "Jonah", "Kemi",
    "Luca", "Mira", "Nils", "Oona", "Pablo", "Quinn", "Rosa", "Sami", "Tove",
];

fn user(i: u64) -> UserId {
    UserId(FIRST_USER + i)
}

/// What the demo database holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub created: bool,
    pub members: u64,
    pub items: u64,
    pub tasks: u64,
    pub announcements: u64,
    pub ledger_entries: u64,
}

/// Counts what the store holds for the demo server.
pub fn summary(services: &Services, created: bool) -> Result<DemoSummary, Error> {
    let export = services.instance.export_guild(GUILD)?;
    let announcements = services.announce.list(GUILD, 0, 0)?;
    Ok(DemoSummary {
        created,
        members: export.accounts.len() as u64,
        items: export.items.len() as u64,
        tasks: export.tasks.len() as u64,
        announcements: announcements.total,
        ledger_entries: export.ledger.len() as u64,
    })
}

/// Fills `store` (opened with `clock`) with the demo server unless it already holds it; the
/// month ends at `now`. Returns what is there.
pub fn seed(
    store: &Store,
    clock: &Arc<ManualClock>,
    now: DateTime<Utc>,
) -> Result<DemoSummary, Error> {
    let services = Services::new(store.clone(), false);
    if store.guild_ids()?.contains(&GUILD) {
        return summary(&services, false);
    }
    let start = now - Duration::days(DAYS);
    clock.set(start);
    crate::accounts::set_password(
        store,
        USERNAME,
        PASSWORD,
        Some(crate::accounts::AdminRole::Admin),
    )?;
    let admin = OpMeta::new(Actor::Dashboard(USERNAME.into()), Source::Dashboard);
    services.guilds.upsert_info(
        GUILD,
        GuildProfile {
            name: "Coffer Demo Café".into(),
            owner_id: Some(user(0)),
            member_count: MEMBERS,
            ..GuildProfile::default()
        },
    )?;
    let members: Vec<MemberProfile> = (0..MEMBERS)
        .map(|i| MemberProfile {
            user: user(i),
            name: format!("{}{}", NAMES[(i % 20) as usize].to_lowercase(), i / 20 + 1),
            display_name: Some(format!("{} {}", NAMES[(i % 20) as usize], i / 20 + 1)),
            ..MemberProfile::default()
        })
        .collect();
    services.guilds.upsert_members(GUILD, &members)?;
    let channels: Vec<crate::guild::ChannelInfo> = ["welcome", "announcements", "shop", "tasks"]
        .iter()
        .zip(1u64..)
        .map(|(name, i)| crate::guild::ChannelInfo {
            id: crate::domain::ChannelId(ANNOUNCEMENTS_CHANNEL.0 - 2 + i),
            name: (*name).into(),
            kind: crate::guild::ChannelKind::Text,
            position: i as i64,
            parent: None,
        })
        .collect();
    services.guilds.replace_channels(GUILD, &channels)?;
    // Everyone starts with something to spend.
    for i in 0..MEMBERS {
        services.economy.adjust(
            GUILD,
            user(i),
            Adjustment::Add(Money::new(500)),
            "Welcome bonus",
            &admin,
        )?;
    }
    let items = seed_shop(&services, &admin)?;
    seed_tasks(&services, clock, &admin, start)?;
    seed_month(&services, clock, &admin, start, &items)?;
    clock.set(now);
    seed_announcements(&services, &admin, now)?;
    summary(&services, true)
}

fn seed_shop(services: &Services, admin: &OpMeta) -> Result<Vec<u64>, Error> {
    let items = [
        ("☕ Espresso", 40, "drinks", -1),
        ("🍵 Matcha latte", 65, "drinks", -1),
        ("🧋 Bubble tea", 80, "drinks", 50),
        ("🥐 Croissant", 35, "food", -1),
        ("🍰 Cheesecake", 90, "food", 30),
        ("🍪 Cookie", 15, "food", -1),
        ("🎨 Custom colour", 1500, "perks", -1),
        ("🏷️ Nickname change", 400, "perks", -1),
        ("📌 Pinned message", 800, "perks", 10),
        ("🎟️ Raffle ticket", 100, "events", 200),
        ("👑 Café regular", 5000, "roles", 5),
        ("🎁 Mystery box", 250, "events", 0),
    ];
    let mut ids = Vec::new();
    for (name, price, category, stock) in items {
        let input = serde_json::from_value(json!({
            "name": name,
            "description": format!("{name}, from the Coffer demo café."),
            "price": price,
            "category": category,
            "stock": stock,
        }))
        .map_err(|e| crate::domain::DomainError::invalid("demo item", e.to_string()))?;
        ids.push(services.shop.create_item(GUILD, input, admin)?.id);
    }
    Ok(ids)
}

fn new_task(value: serde_json::Value) -> Result<crate::domain::tasks::NewTask, Error> {
    serde_json::from_value(value)
        .map_err(|e| crate::domain::DomainError::invalid("demo task", e.to_string()).into())
}

fn member(i: u64) -> OpMeta {
    OpMeta::user(user(i), Source::DiscordCommand)
}

/// Tasks in every state: active with claims in progress, submitted, accepted and rejected; a
/// full one; a closed one; an expired one with an expired claim.
fn seed_tasks(
    services: &Services,
    clock: &Arc<ManualClock>,
    admin: &OpMeta,
    start: DateTime<Utc>,
) -> Result<(), Error> {
    let t = &services.tasks;
    let proof = |s: &str| Proof {
        content: s.into(),
        attachments: Vec::new(),
    };
    let welcome = t.create(GUILD, new_task(json!({"name": "Welcome five newcomers", "description": "Say hi to five new members in #welcome.", "reward": 150, "duration_hours": 24 * 40, "category": "Community"}))?, admin)?;
    for i in 1..=4 {
        t.claim(GUILD, welcome.id, user(i), &member(i))?;
    }
    for i in 2..=4 {
        t.submit(
            GUILD,
            welcome.id,
            user(i),
            proof("Welcomed five!"),
            &member(i),
        )?;
    }
    t.accept(GUILD, welcome.id, user(3), admin)?;
    t.reject(
        GUILD,
        welcome.id,
        user(4),
        "Only three welcomes in the channel, try again.",
        admin,
    )?;

    let full = t.create(GUILD, new_task(json!({"name": "Review the new menu", "description": "Three tasters wanted.", "reward": 300, "duration_hours": 24 * 40, "max_claims": 3, "category": "Feedback"}))?, admin)?;
    for i in 5..=7 {
        t.claim(GUILD, full.id, user(i), &member(i))?;
    }

    let guide = t.create(GUILD, new_task(json!({"name": "Write a brewing guide", "description": "A short guide for #coffee-talk.", "reward": 500, "duration_hours": 72, "category": "Content"}))?, admin)?;
    t.claim(GUILD, guide.id, user(8), &member(8))?;
    t.submit(
        GUILD,
        guide.id,
        user(8),
        proof("https://example.org/brewing-guide"),
        &member(8),
    )?;
    t.accept(GUILD, guide.id, user(8), admin)?;
    t.close(GUILD, guide.id, admin)?;

    let event = t.create(GUILD, new_task(json!({"name": "Latte art contest", "description": "Post your best latte art.", "reward": 200, "duration_hours": 2, "expires_at": start + Duration::days(3), "category": "Events"}))?, admin)?;
    t.claim(GUILD, event.id, user(9), &member(9))?;
    // Time passes: the claim's deadline and the task's end go by, and the sweep expires them.
    clock.set(start + Duration::days(4));
    services.tasks.sweep(GUILD)?;
    Ok(())
}

/// A month of activity: daily rewards, transfers between members, purchases and a few admin
/// grants, at increasing times.
fn seed_month(
    services: &Services,
    clock: &Arc<ManualClock>,
    admin: &OpMeta,
    start: DateTime<Utc>,
    items: &[u64],
) -> Result<(), Error> {
    let eco = &services.economy;
    let from = start + Duration::days(4) + Duration::minutes(1);
    let days = DAYS - 4;
    for d in 0..days {
        for slot in 0..144u64 {
            clock.set(from + Duration::days(d) + Duration::minutes(10 * slot as i64));
            let d = d as u64;
            // Refusals (cooldown, funds, stock) are part of life in a server: skipped.
            if slot < MEMBERS && (slot + d) % 4 != 0 {
                let _ = refused_ok(eco.daily(GUILD, user(slot), &member(slot)));
            }
            let (a, b) = (
                (slot * 7 + d * 13) % MEMBERS,
                (slot * 11 + d * 3 + 1) % MEMBERS,
            );
            if a != b && slot % 3 == 0 {
                let amount = Money::new(5 + ((slot * 13 + d) % 60) as i64);
                let _ = refused_ok(eco.transfer(GUILD, user(a), user(b), amount, &member(a)));
            }
            if slot % 9 == 4 {
                let buyer = (slot * 5 + d * 7) % MEMBERS;
                let item = items[((slot + d) % items.len() as u64) as usize];
                let _ =
                    refused_ok(
                        services
                            .shop
                            .purchase(GUILD, user(buyer), item, 1, &member(buyer)),
                    );
            }
            if slot == 72 && d % 3 == 0 {
                let lucky = (d * 17) % MEMBERS;
                eco.adjust(
                    GUILD,
                    user(lucky),
                    Adjustment::Add(Money::new(250)),
                    "Event prize",
                    admin,
                )?;
            }
        }
    }
    Ok(())
}

/// Passes refusals (a rule said no) and keeps real failures.
fn refused_ok<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Domain(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn seed_announcements(
    services: &Services,
    admin: &OpMeta,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let all = [
        json!({"title": "Welcome to the Coffer Demo Café", "content": "Earn coins with /daily, spend them in the shop, and pick up a task or two.", "pinned": true}),
        json!({"title": "Latte art contest results", "content": "Thanks to everyone who joined! Prizes are in your balance."}),
        json!({"title": "Menu tasting next week", "content": "Three tasters wanted: see the tasks channel.", "scheduled_at": now + Duration::days(7)}),
    ];
    for a in all {
        let mut a = a;
        a["channel"] = json!(ANNOUNCEMENTS_CHANNEL.to_string());
        let new = serde_json::from_value(a)
            .map_err(|e| crate::domain::DomainError::invalid("demo announcement", e.to_string()))?;
        services.announce.create(GUILD, new, admin)?;
    }
    Ok(())
}
