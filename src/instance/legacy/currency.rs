//! The currency data (users, shop items, inventory) and the server configuration.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::reader::{epoch, Reader};
use crate::domain::shop::{Item, Stock};
use crate::domain::{ChannelId, GuildConfig, Money, RoleId, UserId};
use crate::instance::export::InventoryRow;
use crate::store::guilds::GuildInfo;

pub(super) fn read_config(
    r: &mut Reader,
    c: &Map<String, Value>,
    config: &mut GuildConfig,
) -> GuildInfo {
    if let Some(v) = r.text(c, "currency_name", "$") {
        config.currency_name = v;
    }
    if let Some(v) = r.text(c, "currency_symbol", "$") {
        config.currency_symbol = v;
    }
    config.admin_roles = r
        .ids(c, "admin_roles", "$")
        .into_iter()
        .map(RoleId)
        .collect();
    config.moderator_roles = r
        .ids(c, "moderator_roles", "$")
        .into_iter()
        .map(RoleId)
        .collect();
    let mut channel = |key: &str| r.id(c.get(key), &format!("$.{key}")).map(ChannelId);
    config.log_channel = channel("log_channel");
    config.welcome_channel = channel("welcome_channel");
    config.task_channel_id = channel("task_channel_id");
    config.shop_channel_id = channel("shop_channel_id");
    if let Some(Value::Object(f)) = c.get("features") {
        config.features.currency = r.flag(f, "currency", "$.features", config.features.currency);
        config.features.tasks = r.flag(f, "tasks", "$.features", config.features.tasks);
    }
    GuildInfo {
        name: r.text(c, "server_name", "$").unwrap_or_default(),
        icon_url: r.text(c, "icon_url", "$"),
        owner_id: r.id(c.get("owner_id"), "$.owner_id").map(UserId),
        member_count: r.int(c, "member_count", "$", false).unwrap_or(0).max(0) as u64,
        ..GuildInfo::default()
    }
}

/// Per user as the currency file states it: balance, created_at, last_daily, active.
pub(super) type Stated = BTreeMap<UserId, (i64, DateTime<Utc>, Option<DateTime<Utc>>, bool)>;

pub(super) fn read_users(r: &mut Reader, cur: &Map<String, Value>, stated: &mut Stated) {
    let Some(users) = cur.get("users") else {
        return;
    };
    let Some(users) = users.as_object() else {
        r.problem("$.users", "expected an object of users");
        return;
    };
    for (uid, u) in users {
        let path = format!("$.users.{uid}");
        let Some(user) = r.id(Some(&Value::String(uid.clone())), &path).map(UserId) else {
            continue;
        };
        let Some(u) = u.as_object() else {
            r.problem(&path, "expected an object");
            continue;
        };
        let Some(balance) = r.int(u, "balance", &path, true) else {
            continue;
        };
        if balance < 0 {
            r.problem(&format!("{path}.balance"), format!("{balance} is negative"));
            continue;
        }
        let created = r.time(u, "created_at", &path).unwrap_or_else(epoch);
        let last_daily = r.time(u, "last_daily", &path);
        let active = r.flag(u, "is_active", &path, true);
        stated.insert(user, (balance, created, last_daily, active));
    }
}

pub(super) fn read_items(
    r: &mut Reader,
    cur: &Map<String, Value>,
    ids: &mut BTreeMap<String, u64>,
) -> Vec<Item> {
    let Some(items) = cur.get("shop_items").and_then(Value::as_object) else {
        return Vec::new();
    };
    // Numeric keys keep their number; others get the next free ids, in key order.
    let mut next = items
        .keys()
        .filter_map(|k| k.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for (key, it) in items {
        let path = format!("$.shop_items.{key}");
        let id = match key.parse::<u64>() {
            Ok(id) if id > 0 => id,
            _ => {
                next += 1;
                r.note(
                    &path,
                    format!("item key \"{key}\" is not a number: it becomes item {next}"),
                );
                next
            }
        };
        ids.insert(key.clone(), id);
        let Some(it) = it.as_object() else {
            r.problem(&path, "expected an object");
            continue;
        };
        let Some(name) = r.text(it, "name", &path) else {
            r.problem(&format!("{path}.name"), "missing");
            continue;
        };
        let price = r.int(it, "price", &path, true);
        let stock = r.int(it, "stock", &path, false).unwrap_or(-1);
        let stock = match stock {
            -1 => Stock::Unlimited,
            n if n >= 0 => Stock::Limited(n as u64),
            n => {
                r.problem(
                    &format!("{path}.stock"),
                    format!("{n}: only -1 (unlimited) or 0 and up"),
                );
                continue;
            }
        };
        let Some(price) = price.filter(|p| *p >= 0) else {
            r.problem(&format!("{path}.price"), "must be 0 or more");
            continue;
        };
        let sales = match it.get("metadata").and_then(Value::as_object) {
            Some(m) => r
                .int(m, "sales_count", &format!("{path}.metadata"), false)
                .unwrap_or(0),
            None => 0,
        };
        let created = r.time(it, "created_at", &path).unwrap_or_else(epoch);
        out.push(Item {
            id,
            name,
            description: r.text(it, "description", &path).unwrap_or_default(),
            emoji: None,
            price: Money::new(price),
            category: r
                .text(it, "category", &path)
                .unwrap_or_else(|| "general".into()),
            stock,
            active: r.flag(it, "is_active", &path, true),
            visible: true,
            role_id: None,
            max_per_user: None,
            use_message: None,
            sales_count: sales.max(0) as u64,
            created_at: created,
            updated_at: created,
        });
    }
    out.sort_by_key(|i| i.id);
    out
}

pub(super) fn read_inventory(
    r: &mut Reader,
    cur: &Map<String, Value>,
    ids: &BTreeMap<String, u64>,
) -> Vec<InventoryRow> {
    let Some(inv) = cur.get("inventory").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (uid, held) in inv {
        let path = format!("$.inventory.{uid}");
        let Some(user) = r.id(Some(&Value::String(uid.clone())), &path).map(UserId) else {
            continue;
        };
        let Some(held) = held.as_object() else {
            r.problem(&path, "expected an object of item ids");
            continue;
        };
        for (key, _) in held {
            let Some(q) = r.int(held, key, &path, true) else {
                continue;
            };
            let p = format!("{path}.{key}");
            let Some(item) = ids.get(key) else {
                r.problem(&p, format!("item {key} is not in $.shop_items"));
                continue;
            };
            match q {
                0 => r.note(&p, "quantity 0: skipped"),
                q if q < 0 => r.problem(&p, format!("quantity {q} is negative")),
                q => out.push(InventoryRow {
                    user,
                    item: *item,
                    quantity: q as u64,
                }),
            }
        }
    }
    out.sort_by_key(|r| (r.user, r.item));
    out
}
