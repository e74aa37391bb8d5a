//! `coffer import-legacy`: reads one server's JSON files of the Python bot Coffer replaces
//! (shapes in ../shared/legacy-format.md) into an export document, which `Instance::import`
//! then writes in one transaction (so it is all or nothing, and a second run changes nothing).
//!
//! Files are recognised by their content (an array is the transaction log; an object with
//! `users`/`shop_items` the currency data; with `tasks`/`user_tasks` the tasks; with
//! `currency_name`/`prefix`/`server_name` the configuration). Every problem names its file and
//! JSON path; small deviations that lose nothing (numbers as strings, an exact duplicate
//! transaction) are accepted and reported as notes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::export::{ExportDoc, GuildExport, InventoryRow, FORMAT};
use crate::domain::shop::{Item, Stock};
use crate::domain::tasks::{Claim, ClaimStatus, Task, TaskStatus};
use crate::domain::{
    Account, Actor, ChannelId, GuildConfig, GuildId, Money, RoleId, Source, Transaction, TxKind,
    UserId,
};
use crate::store::guilds::GuildInfo;

/// What the folder held and what was done about disagreements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyReport {
    pub guild: GuildId,
    pub files: Vec<String>,
    pub users: u64,
    pub log_entries: u64,
    /// Opening (and closing correction) entries added where a stated balance and the log disagree.
    pub opening_entries: u64,
    pub items: u64,
    pub inventory_rows: u64,
    pub tasks: u64,
    pub claims: u64,
    /// Accepted deviations and the opening entries, in words.
    pub notes: Vec<String>,
}

/// Where a value came from, for messages: `currency.json: $.users.42.balance`.
struct Reader {
    file: String,
    problems: Vec<String>,
    notes: Vec<String>,
}

impl Reader {
    fn problem(&mut self, path: &str, what: impl std::fmt::Display) {
        self.problems.push(format!("{}: {path}: {what}", self.file));
    }

    fn note(&mut self, path: &str, what: impl std::fmt::Display) {
        self.notes.push(format!("{}: {path}: {what}", self.file));
    }

    /// An integer; a numeric string is accepted with a note. `None` (and a problem when
    /// `required`) when absent or null.
    fn int(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<i64> {
        let p = format!("{path}.{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(&p, "missing");
                }
                None
            }
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) => Some(v),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(f as i64),
                    _ => {
                        self.problem(&p, format!("{n} is not a whole number"));
                        None
                    }
                },
            },
            Some(Value::String(s)) => match s.trim().parse::<i64>() {
                Ok(v) => {
                    self.note(
                        &p,
                        format!("number stored as a string (\"{s}\"), read as {v}"),
                    );
                    Some(v)
                }
                Err(_) => {
                    self.problem(&p, format!("\"{s}\" is not a number"));
                    None
                }
            },
            Some(other) => {
                self.problem(&p, format!("expected a number, found {other}"));
                None
            }
        }
    }

    fn id(&mut self, v: Option<&Value>, path: &str) -> Option<u64> {
        let parsed = match v {
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            None | Some(Value::Null) => return None,
            _ => None,
        };
        match parsed {
            Some(0) | None => {
                self.problem(
                    path,
                    format!("{} is not a Discord id", v.unwrap_or(&Value::Null)),
                );
                None
            }
            Some(id) => Some(id),
        }
    }

    fn text(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected text, found {other}"),
                );
                None
            }
        }
    }

    fn flag(&mut self, obj: &Map<String, Value>, key: &str, path: &str, default: bool) -> bool {
        match obj.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => {
                self.note(&format!("{path}.{key}"), "boolean stored as a string");
                s == "true"
            }
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected true or false, found {other}"),
                );
                default
            }
        }
    }

    /// ISO 8601 with or without an offset (naive = UTC).
    fn time(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<DateTime<Utc>> {
        let s = match obj.get(key) {
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) => s.trim(),
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected a timestamp, found {other}"),
                );
                return None;
            }
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(t.with_timezone(&Utc));
        }
        for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                return Some(Utc.from_utc_datetime(&t));
            }
        }
        self.problem(
            &format!("{path}.{key}"),
            format!("\"{s}\" is not an ISO 8601 timestamp"),
        );
        None
    }

    fn ids(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Vec<u64> {
        match obj.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .filter_map(|(i, v)| self.id(Some(v), &format!("{path}.{key}[{i}]")))
                .collect(),
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected a list of ids, found {other}"),
                );
                Vec::new()
            }
        }
    }
}

/// When nothing in the files says when something happened.
fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

#[derive(Default)]
struct Files {
    currency: Option<(String, Map<String, Value>)>,
    tasks: Option<(String, Map<String, Value>)>,
    config: Option<(String, Map<String, Value>)>,
    log: Option<(String, Vec<Value>)>,
}

fn read_files(dir: &Path, problems: &mut Vec<String>) -> Files {
    let mut files = Files::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{}: cannot read the folder: {e}", dir.display()));
            return files;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let value: Value = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{name}: $: not readable JSON: {e}"));
                continue;
            }
        };
        let slot_taken = |slot: Option<&String>, problems: &mut Vec<String>, kind: &str| {
            if let Some(other) = slot {
                problems.push(format!(
                    "{name}: $: a second {kind} file (the first is {other})"
                ));
                true
            } else {
                false
            }
        };
        match value {
            Value::Array(a) => {
                if !slot_taken(
                    files.log.as_ref().map(|f| &f.0),
                    problems,
                    "transaction log",
                ) {
                    files.log = Some((name, a));
                }
            }
            Value::Object(o) if o.contains_key("users") || o.contains_key("shop_items") => {
                if !slot_taken(
                    files.currency.as_ref().map(|f| &f.0),
                    problems,
                    "currency data",
                ) {
                    files.currency = Some((name, o));
                }
            }
            Value::Object(o) if o.contains_key("tasks") || o.contains_key("user_tasks") => {
                if !slot_taken(files.tasks.as_ref().map(|f| &f.0), problems, "tasks") {
                    files.tasks = Some((name, o));
                }
            }
            Value::Object(o)
                if ["currency_name", "prefix", "server_name"]
                    .iter()
                    .any(|k| o.contains_key(*k)) =>
            {
                if !slot_taken(
                    files.config.as_ref().map(|f| &f.0),
                    problems,
                    "server configuration",
                ) {
                    files.config = Some((name, o));
                }
            }
            _ => problems.push(format!(
                "{name}: $: not a file of the old bot (expected the currency data, tasks, \
                 server configuration or the transaction log)"
            )),
        }
    }
    files
}

fn legacy_kind(kind: &str) -> Option<TxKind> {
    Some(match kind.trim().to_ascii_lowercase().as_str() {
        "daily" => TxKind::Daily,
        "initial" | "starting_balance" => TxKind::Initial,
        "transfer_send" | "transfer_out" | "give_sent" | "give" => TxKind::TransferSend,
        "transfer_receive" | "transfer_in" | "give_received" => TxKind::TransferReceive,
        "transfer_tax" | "tax" => TxKind::TransferTax,
        "admin_add" | "add" | "admin_give" => TxKind::AdminAdd,
        "admin_remove" | "remove" | "admin_take" => TxKind::AdminRemove,
        "admin_set" | "set" => TxKind::AdminSet,
        "purchase" | "shop_purchase" | "buy" => TxKind::ShopPurchase,
        "task_reward" | "task" | "task_completion" => TxKind::TaskReward,
        "refund" => TxKind::Refund,
        _ => return None,
    })
}

/// One log entry as read, before ids and balances are assigned.
struct LogEntry {
    user: UserId,
    amount: i64,
    kind: TxKind,
    description: String,
    at: DateTime<Utc>,
    metadata: BTreeMap<String, Value>,
}

/// Reads the folder into one server's export, or every problem found.
pub fn read_folder(
    dir: &Path,
    guild: Option<GuildId>,
    defaults: &GuildConfig,
) -> Result<(ExportDoc, LegacyReport), Vec<String>> {
    let mut problems = Vec::new();
    let files = read_files(dir, &mut problems);
    let guild = guild.or_else(|| {
        dir.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|g| *g > 0)
            .map(GuildId)
    });
    let Some(guild) = guild else {
        problems.push(format!(
            "{}: the server id is not the folder's name: give it with --guild",
            dir.display()
        ));
        return Err(problems);
    };
    if files.currency.is_none() && files.log.is_none() && files.tasks.is_none() {
        problems.push(format!(
            "{}: no file of the old bot in this folder",
            dir.display()
        ));
    }
    let mut report = LegacyReport {
        guild,
        files: [&files.currency, &files.tasks, &files.config]
            .iter()
            .filter_map(|f| f.as_ref().map(|(n, _)| n.clone()))
            .chain(files.log.as_ref().map(|(n, _)| n.clone()))
            .collect(),
        ..LegacyReport::default()
    };
    let mut notes = Vec::new();
    let mut config = defaults.clone();
    let mut info = None;
    if let Some((name, c)) = &files.config {
        let mut r = Reader {
            file: name.clone(),
            problems: Vec::new(),
            notes: Vec::new(),
        };
        info = Some(read_config(&mut r, c, &mut config));
        problems.append(&mut r.problems);
        notes.append(&mut r.notes);
    }

    // Accounts as stated.
    let mut stated: Stated = BTreeMap::new();
    let mut items = Vec::new();
    let mut item_ids = BTreeMap::new();
    let mut inventory = Vec::new();
    if let Some((name, cur)) = &files.currency {
        let mut r = Reader {
            file: name.clone(),
            problems: Vec::new(),
            notes: Vec::new(),
        };
        read_users(&mut r, cur, &mut stated);
        items = read_items(&mut r, cur, &mut item_ids);
        inventory = read_inventory(&mut r, cur, &item_ids);
        problems.append(&mut r.problems);
        notes.append(&mut r.notes);
    }
    let mut log = Vec::new();
    if let Some((name, entries)) = &files.log {
        let mut r = Reader {
            file: name.clone(),
            problems: Vec::new(),
            notes: Vec::new(),
        };
        log = read_log(&mut r, entries);
        problems.append(&mut r.problems);
        notes.append(&mut r.notes);
    }
    let (mut tasks, mut claims) = (Vec::new(), Vec::new());
    if let Some((name, t)) = &files.tasks {
        let mut r = Reader {
            file: name.clone(),
            problems: Vec::new(),
            notes: Vec::new(),
        };
        (tasks, claims) = read_tasks(&mut r, t, &mut config);
        problems.append(&mut r.problems);
        notes.append(&mut r.notes);
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let log_name = files
        .log
        .as_ref()
        .map(|(n, _)| n.as_str())
        .unwrap_or("the log");
    let (accounts, ledger, openings) = build_ledger(guild, &stated, log, log_name, &mut notes);
    report.users = accounts.len() as u64;
    report.log_entries = ledger.len() as u64 - openings;
    report.opening_entries = openings;
    report.items = items.len() as u64;
    report.inventory_rows = inventory.len() as u64;
    report.tasks = tasks.len() as u64;
    report.claims = claims.len() as u64;
    report.notes = notes;
    let g = GuildExport {
        id: guild.to_string(),
        info,
        config,
        accounts,
        ledger,
        items,
        inventory,
        tasks,
        claims,
        custom_commands: Vec::new(),
        announcements: Vec::new(),
        embeds: Vec::new(),
    };
    let doc = ExportDoc {
        format: Some(FORMAT.into()),
        version: format!("legacy import by {}", env!("CARGO_PKG_VERSION")),
        exported_at: epoch(),
        guilds: vec![g],
    };
    Ok((doc, report))
}

fn read_config(r: &mut Reader, c: &Map<String, Value>, config: &mut GuildConfig) -> GuildInfo {
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
type Stated = BTreeMap<UserId, (i64, DateTime<Utc>, Option<DateTime<Utc>>, bool)>;

fn read_users(r: &mut Reader, cur: &Map<String, Value>, stated: &mut Stated) {
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

fn read_items(
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

fn read_inventory(
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

fn read_log(r: &mut Reader, entries: &[Value]) -> Vec<LogEntry> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, (usize, &Value)> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        let path = format!("$[{i}]");
        let Some(o) = e.as_object() else {
            r.problem(&path, "expected a transaction object");
            continue;
        };
        if let Some(id) = r.text(o, "id", &path) {
            if let Some((j, first)) = seen.get(&id) {
                if *first == e {
                    r.note(
                        &path,
                        format!("duplicate of $[{j}] (same id \"{id}\"): skipped"),
                    );
                } else {
                    r.problem(
                        &path,
                        format!("id \"{id}\" is also $[{j}] with other content"),
                    );
                }
                continue;
            }
            seen.insert(id, (i, e));
        }
        let user = r
            .id(o.get("user_id"), &format!("{path}.user_id"))
            .map(UserId);
        if o.get("user_id").is_none() {
            r.problem(&format!("{path}.user_id"), "missing");
        }
        let amount = r.int(o, "amount", &path, true);
        let at = r.time(o, "timestamp", &path);
        if o.get("timestamp").is_none() {
            r.problem(&format!("{path}.timestamp"), "missing");
        }
        let legacy_type = r.text(o, "type", &path).unwrap_or_default();
        let (Some(user), Some(amount), Some(at)) = (user, amount, at) else {
            continue;
        };
        if amount == 0 {
            r.note(&path, "amount 0 changes nothing: skipped");
            continue;
        }
        let kind = legacy_kind(&legacy_type).unwrap_or_else(|| {
            r.note(
                &format!("{path}.type"),
                format!("unknown type \"{legacy_type}\": kept as an import entry"),
            );
            TxKind::Import
        });
        let mut metadata = BTreeMap::new();
        if let Some(Value::Object(m)) = o.get("metadata") {
            metadata.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for key in ["id", "type", "balance_before", "balance_after"] {
            if let Some(v) = o.get(key) {
                metadata.insert(format!("legacy_{key}"), v.clone());
            }
        }
        out.push(LogEntry {
            user,
            amount,
            kind,
            description: r.text(o, "description", &path).unwrap_or_default(),
            at,
            metadata,
        });
    }
    out
}

fn read_tasks(
    r: &mut Reader,
    t: &Map<String, Value>,
    config: &mut GuildConfig,
) -> (Vec<Task>, Vec<Claim>) {
    if let Some(Value::Object(s)) = t.get("settings") {
        config.allow_user_tasks =
            r.flag(s, "allow_user_tasks", "$.settings", config.allow_user_tasks);
        config.auto_expire_enabled = r.flag(
            s,
            "auto_expire_enabled",
            "$.settings",
            config.auto_expire_enabled,
        );
        config.require_proof = r.flag(s, "require_proof", "$.settings", config.require_proof);
        if let Some(n) = r.int(s, "max_tasks_per_user", "$.settings", false) {
            config.max_tasks_per_user = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        }
        config.announcement_channel_id = r
            .id(
                s.get("announcement_channel_id"),
                "$.settings.announcement_channel_id",
            )
            .map(ChannelId);
    }
    let mut tasks = BTreeMap::new();
    if let Some(all) = t.get("tasks").and_then(Value::as_object) {
        for (key, v) in all {
            let path = format!("$.tasks.{key}");
            let Some(o) = v.as_object() else {
                r.problem(&path, "expected an object");
                continue;
            };
            let id = r.int(o, "id", &path, false).or_else(|| key.parse().ok());
            let Some(id) = id.filter(|i| *i > 0).map(|i| i as u64) else {
                r.problem(
                    &format!("{path}.id"),
                    "no task number (neither `id` nor the key)",
                );
                continue;
            };
            let Some(name) = r.text(o, "name", &path) else {
                r.problem(&format!("{path}.name"), "missing");
                continue;
            };
            let reward = r.int(o, "reward", &path, true);
            let status_text = r
                .text(o, "status", &path)
                .unwrap_or_else(|| "active".into());
            let status = match status_text.as_str() {
                "completed" | "cancelled" | "canceled" => Some(TaskStatus::Closed),
                s => TaskStatus::parse(s),
            };
            let Some(status) = status else {
                r.problem(
                    &format!("{path}.status"),
                    format!("unknown status \"{status_text}\""),
                );
                continue;
            };
            let Some(reward) = reward.filter(|r| *r >= 0) else {
                r.problem(&format!("{path}.reward"), "must be 0 or more");
                continue;
            };
            let created = r.time(o, "created", &path).unwrap_or_else(epoch);
            tasks.insert(
                id,
                Task {
                    id,
                    name,
                    description: r.text(o, "description", &path).unwrap_or_default(),
                    reward: Money::new(reward),
                    duration_hours: u32::try_from(
                        r.int(o, "duration_hours", &path, false)
                            .unwrap_or(24)
                            .max(0),
                    )
                    .unwrap_or(u32::MAX),
                    status,
                    expires_at: r.time(o, "expires_at", &path),
                    max_claims: r.int(o, "max_claims", &path, false).unwrap_or(-1),
                    current_claims: 0,
                    category: r
                        .text(o, "category", &path)
                        .unwrap_or_else(|| "General".into()),
                    role_id: None,
                    role_name: r.text(o, "role_name", &path),
                    created_by: Actor::System,
                    created_at: created,
                    updated_at: created,
                    completed: 0,
                },
            );
        }
    }
    let mut claims = Vec::new();
    if let Some(all) = t.get("user_tasks").and_then(Value::as_object) {
        for (uid, held) in all {
            let upath = format!("$.user_tasks.{uid}");
            let Some(user) = r.id(Some(&Value::String(uid.clone())), &upath).map(UserId) else {
                continue;
            };
            let Some(held) = held.as_object() else {
                r.problem(&upath, "expected an object of task ids");
                continue;
            };
            for (tid, c) in held {
                let path = format!("{upath}.{tid}");
                let Some(task) = tid.parse::<u64>().ok().filter(|t| tasks.contains_key(t)) else {
                    r.problem(&path, format!("task {tid} is not in $.tasks"));
                    continue;
                };
                let Some(c) = c.as_object() else {
                    r.problem(&path, "expected an object");
                    continue;
                };
                let st = r
                    .text(c, "status", &path)
                    .unwrap_or_else(|| "in_progress".into());
                let (status, rejections) = match st.as_str() {
                    "in_progress" | "claimed" => (ClaimStatus::InProgress, 0),
                    "submitted" | "pending_review" | "pending" => (ClaimStatus::Submitted, 0),
                    "completed" | "accepted" | "approved" => (ClaimStatus::Accepted, 0),
                    "expired" | "failed" => (ClaimStatus::Expired, 0),
                    "rejected" => {
                        r.note(
                            &format!("{path}.status"),
                            "rejected: open again (in progress), as Coffer does after a rejection",
                        );
                        (ClaimStatus::InProgress, 1)
                    }
                    other => {
                        r.problem(
                            &format!("{path}.status"),
                            format!("unknown status \"{other}\""),
                        );
                        continue;
                    }
                };
                let claimed_at = r.time(c, "claimed_at", &path).unwrap_or_else(epoch);
                let deadline = r.time(c, "deadline", &path).unwrap_or(claimed_at);
                let proof_attachments = match c.get("proof_attachments") {
                    Some(Value::Array(a)) => a
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                let completed_at = r.time(c, "completed_at", &path);
                if let Some(t) = tasks.get_mut(&task) {
                    if status != ClaimStatus::Expired {
                        t.current_claims += 1;
                    }
                    if status == ClaimStatus::Accepted {
                        t.completed += 1;
                    }
                }
                claims.push(Claim {
                    task_id: task,
                    user,
                    status,
                    claimed_at,
                    deadline,
                    proof_content: r.text(c, "proof_content", &path).unwrap_or_default(),
                    proof_attachments,
                    submitted_at: r.time(c, "submitted_at", &path),
                    completed_at,
                    reviewer: None,
                    reviewed_at: completed_at,
                    review_message: r.text(c, "notes", &path).filter(|n| !n.is_empty()),
                    rejections,
                    expired_at: (status == ClaimStatus::Expired).then_some(deadline),
                    reward_transaction: None,
                    role_grant: None,
                    review_id: None,
                });
            }
        }
    }
    claims.sort_by_key(|c| (c.task_id, c.user));
    (tasks.into_values().collect(), claims)
}

/// Accounts and the ledger: the log in time order, each user's chain recomputed from 0. Where
/// the stated balance and the log disagree, an explicit `import` entry makes up the
/// difference: an opening entry first (as large as needed so the balance never goes below 0
/// on the way) and, when the log sums to more than stated, a closing correction at the end.
/// Returns (accounts, ledger, opening/correction entries added).
fn build_ledger(
    guild: GuildId,
    stated: &Stated,
    mut log: Vec<LogEntry>,
    log_name: &str,
    notes: &mut Vec<String>,
) -> (Vec<Account>, Vec<Transaction>, u64) {
    log.sort_by_key(|e| e.at); // stable: same-time entries keep the file's order
    let users: BTreeSet<UserId> = stated
        .keys()
        .copied()
        .chain(log.iter().map(|e| e.user))
        .collect();
    let mut openings = Vec::new();
    let mut closings = Vec::new();
    for user in &users {
        let mine: Vec<&LogEntry> = log.iter().filter(|e| e.user == *user).collect();
        let (mut sum, mut low) = (0i64, 0i64);
        for e in &mine {
            sum = sum.saturating_add(e.amount);
            low = low.min(sum);
        }
        let balance = match stated.get(user) {
            Some((b, ..)) => *b,
            None => {
                notes.push(format!("{log_name}: user {user} is in the log but not in the users: imported with balance 0"));
                0
            }
        };
        let diff = balance - sum;
        let opening = diff.max(-low);
        let closing = diff - opening;
        let first_at = mine
            .first()
            .map(|e| e.at)
            .or(stated.get(user).map(|s| s.1))
            .unwrap_or_else(epoch);
        let last_at = mine.last().map(|e| e.at).unwrap_or(first_at);
        if opening != 0 {
            openings.push((*user, opening, first_at));
        }
        if closing != 0 {
            closings.push((*user, closing, last_at));
        }
        if diff != 0 {
            notes.push(format!(
                "user {user}: the stated balance is {balance} but the log sums to {sum}: imported as stated, \
                 with an opening entry of {opening}{}",
                if closing != 0 { format!(" and a closing correction of {closing}") } else { String::new() }
            ));
        }
    }
    let mut ledger = Vec::new();
    let mut balances: BTreeMap<UserId, i64> = BTreeMap::new();
    let mut push = |user: UserId,
                    amount: i64,
                    kind: TxKind,
                    description: String,
                    at,
                    metadata,
                    ledger: &mut Vec<Transaction>| {
        let before = balances.get(&user).copied().unwrap_or(0);
        let after = before + amount;
        balances.insert(user, after);
        let id = ledger.len() as u64 + 1;
        ledger.push(Transaction {
            id,
            guild,
            user,
            amount: Money::new(amount),
            balance_before: Money::new(before),
            balance_after: Money::new(after),
            kind,
            description,
            at,
            actor: Actor::System,
            source: Source::Import,
            group: id,
            reverses: None,
            metadata,
        });
    };
    let opening_count = (openings.len() + closings.len()) as u64;
    for (user, amount, at) in openings {
        push(
            user,
            amount,
            TxKind::Import,
            "Opening balance from the old bot (its stated balance and its log disagree)".into(),
            at,
            BTreeMap::new(),
            &mut ledger,
        );
    }
    for e in log {
        push(
            e.user,
            e.amount,
            e.kind,
            e.description,
            e.at,
            e.metadata,
            &mut ledger,
        );
    }
    for (user, amount, at) in closings {
        push(
            user,
            amount,
            TxKind::Import,
            "Correction to the old bot's stated balance (its log sums to more)".into(),
            at,
            BTreeMap::new(),
            &mut ledger,
        );
    }
    let accounts = users
        .iter()
        .map(|user| {
            let (created, last_daily, active) = stated
                .get(user)
                .map(|s| (s.1, s.2, s.3))
                .unwrap_or((epoch(), None, true));
            let mut a = Account::new(guild, *user, created);
            a.balance = Money::new(balances.get(user).copied().unwrap_or(0));
            let (earned, spent) =
                ledger
                    .iter()
                    .filter(|t| t.user == *user)
                    .fold((0i64, 0i64), |(e, s), t| {
                        let v = t.amount.get();
                        if v > 0 {
                            (e + v, s)
                        } else {
                            (e, s - v)
                        }
                    });
            a.total_earned = Money::new(earned);
            a.total_spent = Money::new(spent);
            a.last_daily = last_daily;
            a.active = active;
            a.last_active = ledger
                .iter()
                .rev()
                .find(|t| t.user == *user)
                .map_or(created, |t| t.at.max(created));
            a
        })
        .collect();
    (accounts, ledger, opening_count)
}
