//! `coffer import-legacy`: reads one server's JSON files of the Python bot Coffer replaces
//! (shapes in ../shared/legacy-format.md) into an export document, which `Instance::import`
//! then writes in one transaction (so it is all or nothing, and a second run changes nothing).
//!
//! Files are recognised by their content (an array is the transaction log; an object with
//! `users`/`shop_items` the currency data; with `tasks`/`user_tasks` the tasks; with
//! `currency_name`/`prefix`/`server_name` the configuration). Every problem names its file and
//! JSON path; small deviations that lose nothing (numbers as strings, an exact duplicate
//! transaction) are accepted and reported as notes.

mod currency;
mod ledger;
mod reader;
mod tasks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::export::{ExportDoc, GuildExport, FORMAT};
use crate::domain::{GuildConfig, GuildId};
use currency::{read_config, read_inventory, read_items, read_users, Stated};
use ledger::{build_ledger, read_log};
use reader::{epoch, Reader};
use tasks::read_tasks;

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
        archived_ledger: Vec::new(),
        reviews: Vec::new(),
        purchases: Vec::new(),
        role_grants: Vec::new(),
        notices: Vec::new(),
        sync: Vec::new(),
        audit: Vec::new(),
    };
    let doc = ExportDoc {
        format: Some(FORMAT.into()),
        version: format!("legacy import by {}", env!("CARGO_PKG_VERSION")),
        exported_at: epoch(),
        guilds: vec![g],
    };
    Ok((doc, report))
}
