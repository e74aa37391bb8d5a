//! `coffer import`: reads an export document back. Everything is checked first (every problem
//! named by its JSON path); then all servers are written in ONE write transaction, or nothing.
//! A server the database already holds exactly as in the file is left alone, so importing the
//! same export twice changes nothing; one that holds other data is refused (no merging).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::export::{ExportDoc, GuildExport, FORMAT};
use super::Instance;
use crate::domain::{DomainError, GuildId};
use crate::error::Error;

/// How many records of each kind an import read, and what became of each server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub servers_imported: u64,
    /// Servers already in the database exactly as in the file.
    pub servers_unchanged: u64,
    pub accounts: u64,
    pub ledger_entries: u64,
    pub items: u64,
    pub inventory_rows: u64,
    pub tasks: u64,
    pub claims: u64,
    pub custom_commands: u64,
    pub announcements: u64,
    pub embeds: u64,
}

/// Every problem of the document, each with its JSON path; empty when it can be imported.
pub fn check(doc: &ExportDoc) -> Vec<String> {
    let mut problems = Vec::new();
    if doc.format.as_deref().is_some_and(|f| f != FORMAT) {
        problems.push(format!(
            "$.format: `{}` is not a Coffer export",
            doc.format.as_deref().unwrap_or("")
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, g) in doc.guilds.iter().enumerate() {
        let at = format!("$.guilds[{i}]");
        match g.id.parse::<u64>() {
            Ok(0) | Err(_) => problems.push(format!("{at}.id: `{}` is not a server id", g.id)),
            Ok(id) => {
                if !seen.insert(id) {
                    problems.push(format!("{at}.id: server {id} appears twice"));
                }
                check_guild(GuildId(id), g, &at, &mut problems);
            }
        }
    }
    problems
}

fn check_guild(guild: GuildId, g: &GuildExport, at: &str, problems: &mut Vec<String>) {
    let mut balances = BTreeMap::new();
    for (i, a) in g.accounts.iter().enumerate() {
        if a.guild != guild {
            problems.push(format!(
                "{at}.accounts[{i}].guild: {} is not the server {guild}",
                a.guild
            ));
        }
        if a.balance.is_negative() {
            problems.push(format!(
                "{at}.accounts[{i}].balance: {} is negative",
                a.balance.get()
            ));
        }
        if balances.insert(a.user, a.balance.get()).is_some() {
            problems.push(format!("{at}.accounts[{i}].user: {} appears twice", a.user));
        }
    }
    // Per user: the chain of entries runs from 0 to the account's balance without a gap.
    let mut last: BTreeMap<_, (usize, i64)> = BTreeMap::new();
    let mut prev_id = 0;
    for (i, t) in g.ledger.iter().enumerate() {
        let p = format!("{at}.ledger[{i}]");
        if t.guild != guild {
            problems.push(format!("{p}.guild: {} is not the server {guild}", t.guild));
        }
        if t.id <= prev_id {
            problems.push(format!(
                "{p}.id: {} is not above the previous entry's {prev_id}",
                t.id
            ));
        }
        prev_id = t.id;
        if t.balance_before.get().checked_add(t.amount.get()) != Some(t.balance_after.get()) {
            problems.push(format!(
                "{p}: balance_after {} is not balance_before {} + amount {}",
                t.balance_after.get(),
                t.balance_before.get(),
                t.amount.get()
            ));
        }
        if t.balance_after.is_negative() {
            problems.push(format!(
                "{p}.balance_after: {} is negative",
                t.balance_after.get()
            ));
        }
        match last.get(&t.user) {
            Some((j, before)) if *before != t.balance_before.get() => problems.push(format!(
                "{p}.balance_before: {} does not continue {at}.ledger[{j}] (balance_after {before}) of user {}",
                t.balance_before.get(),
                t.user
            )),
            None if t.balance_before.get() != 0 => problems.push(format!(
                "{p}.balance_before: user {}'s first entry must start from 0, not {}",
                t.user,
                t.balance_before.get()
            )),
            _ => {}
        }
        last.insert(t.user, (i, t.balance_after.get()));
        if !balances.contains_key(&t.user) {
            problems.push(format!(
                "{p}.user: {} has no account in {at}.accounts",
                t.user
            ));
        }
    }
    for (user, balance) in &balances {
        let ledger = last.get(user).map_or(0, |(_, b)| *b);
        if ledger != *balance {
            problems.push(format!(
                "{at}.accounts: user {user} has balance {balance} but the ledger ends at {ledger}"
            ));
        }
    }
    let mut items = BTreeSet::new();
    for (i, item) in g.items.iter().enumerate() {
        if !items.insert(item.id) {
            problems.push(format!("{at}.items[{i}].id: {} appears twice", item.id));
        }
    }
    for (i, r) in g.inventory.iter().enumerate() {
        if !items.contains(&r.item) {
            problems.push(format!(
                "{at}.inventory[{i}].item: {} is not in {at}.items",
                r.item
            ));
        }
        if r.quantity == 0 {
            problems.push(format!("{at}.inventory[{i}].quantity: must be at least 1"));
        }
    }
    for (list, name) in [
        (
            g.announcements.iter().map(|a| a.id).collect::<Vec<_>>(),
            "announcements",
        ),
        (g.embeds.iter().map(|e| e.id).collect(), "embeds"),
    ] {
        let mut seen = BTreeSet::new();
        for (i, id) in list.into_iter().enumerate() {
            if !seen.insert(id) {
                problems.push(format!("{at}.{name}[{i}].id: {id} appears twice"));
            }
        }
    }
    let mut tasks = BTreeSet::new();
    for (i, t) in g.tasks.iter().enumerate() {
        if !tasks.insert(t.id) {
            problems.push(format!("{at}.tasks[{i}].id: {} appears twice", t.id));
        }
    }
    for (i, c) in g.claims.iter().enumerate() {
        if !tasks.contains(&c.task_id) {
            problems.push(format!(
                "{at}.claims[{i}].task_id: {} is not in {at}.tasks",
                c.task_id
            ));
        }
    }
}

/// A server's export with its lists in key order, for "is it already here exactly".
fn normalised(g: &GuildExport) -> serde_json::Value {
    let mut g = g.clone();
    g.accounts.sort_by_key(|a| a.user);
    g.ledger.sort_by_key(|t| t.id);
    g.items.sort_by_key(|i| i.id);
    g.inventory.sort_by_key(|r| (r.user, r.item));
    g.tasks.sort_by_key(|t| t.id);
    g.claims.sort_by_key(|c| (c.task_id, c.user));
    g.custom_commands.sort_by(|a, b| a.name.cmp(&b.name));
    g.announcements.sort_by_key(|a| a.id);
    g.embeds.sort_by_key(|e| e.id);
    serde_json::to_value(g).unwrap_or_default()
}

impl Instance {
    /// Checks `doc` and imports it all in one write transaction, or nothing (see the module
    /// doc). Refusals name the JSON path of every problem.
    pub fn import(&self, doc: ExportDoc) -> Result<ImportReport, Error> {
        let problems = check(&doc);
        if !problems.is_empty() {
            return Err(DomainError::invalid(
                "import",
                format!(
                    "{} problem(s), nothing imported:\n  {}",
                    problems.len(),
                    problems.join("\n  ")
                ),
            )
            .into());
        }
        let mut by_id = BTreeMap::new();
        for g in doc.guilds {
            if let Ok(id) = g.id.parse::<u64>() {
                by_id.insert(GuildId(id), g);
            }
        }
        let ids: Vec<GuildId> = by_id.keys().copied().collect();
        let wanted: BTreeMap<GuildId, serde_json::Value> =
            by_id.iter().map(|(id, g)| (*id, normalised(g))).collect();
        let outcomes = self.store.write_guilds(&ids, |w| -> Result<bool, Error> {
            let guild = w.guild();
            let Some(file) = by_id.get(&guild) else {
                return Ok(false);
            };
            if w.holds_nothing()? {
                w.put_rows(&file.clone().into_rows())?;
                return Ok(true);
            }
            let here = GuildExport::from_rows(guild, w.dump()?, w.guild_config()?);
            if wanted.get(&guild) == Some(&normalised(&here)) {
                return Ok(false);
            }
            Err(DomainError::invalid(
                "import",
                format!(
                    "server {guild} already holds other data ({} accounts, {} ledger entries); \
                     nothing imported: import into a database without this server",
                    here.accounts.len(),
                    here.ledger.len()
                ),
            )
            .into())
        })?;
        let mut report = ImportReport::default();
        for (imported, g) in outcomes.iter().zip(by_id.values()) {
            if !*imported {
                report.servers_unchanged += 1;
                continue;
            }
            report.servers_imported += 1;
            report.accounts += g.accounts.len() as u64;
            report.ledger_entries += g.ledger.len() as u64;
            report.items += g.items.len() as u64;
            report.inventory_rows += g.inventory.len() as u64;
            report.tasks += g.tasks.len() as u64;
            report.claims += g.claims.len() as u64;
            report.custom_commands += g.custom_commands.len() as u64;
            report.announcements += g.announcements.len() as u64;
            report.embeds += g.embeds.len() as u64;
        }
        Ok(report)
    }
}
