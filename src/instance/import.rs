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
    pub archived_entries: u64,
    pub reviews: u64,
    pub purchase_counters: u64,
    pub role_grants: u64,
    pub notices: u64,
    pub sync_records: u64,
    pub audit_entries: u64,
}

impl std::fmt::Display for ImportReport {
    /// "Imported N server(s) (M already identical, left alone): counts per kind."
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kinds = [
            (self.accounts, "accounts"),
            (self.ledger_entries, "ledger entries"),
            (self.archived_entries, "archived ledger entries"),
            (self.items, "shop items"),
            (self.inventory_rows, "inventory rows"),
            (self.purchase_counters, "purchase counters"),
            (self.tasks, "tasks"),
            (self.claims, "claims"),
            (self.reviews, "reviews"),
            (self.custom_commands, "custom commands"),
            (self.announcements, "announcements"),
            (self.embeds, "embed templates"),
            (self.role_grants, "role grants"),
            (self.notices, "notices"),
            (self.sync_records, "Discord message records"),
            (self.audit_entries, "audit entries"),
        ];
        let counts: Vec<String> = kinds.iter().map(|(n, k)| format!("{n} {k}")).collect();
        write!(
            f,
            "Imported {} server(s) ({} already identical, left alone): {}.",
            self.servers_imported,
            self.servers_unchanged,
            counts.join(", ")
        )
    }
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
    // Per user: the chain of entries runs from 0 through the archived entries and the live
    // ledger to the account's balance without a gap; ids rise across both lists.
    let mut last: BTreeMap<_, (String, i64)> = BTreeMap::new();
    let mut prev_id = 0;
    let mut ids = BTreeSet::new();
    let entries = (g.archived_ledger.iter().enumerate())
        .map(|(i, t)| (format!("{at}.archived_ledger[{i}]"), t))
        .chain((g.ledger.iter().enumerate()).map(|(i, t)| (format!("{at}.ledger[{i}]"), t)));
    for (p, t) in entries {
        if t.guild != guild {
            problems.push(format!("{p}.guild: {} is not the server {guild}", t.guild));
        }
        if t.id <= prev_id {
            problems.push(format!(
                "{p}.id: {} is not above the previous entry's {prev_id} (archived entries come \
                 before the live ledger)",
                t.id
            ));
        }
        prev_id = t.id;
        ids.insert(t.id);
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
                "{p}.balance_before: {} does not continue {j} (balance_after {before}) of user {}",
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
        if !balances.contains_key(&t.user) {
            problems.push(format!(
                "{p}.user: {} has no account in {at}.accounts",
                t.user
            ));
        }
        last.insert(t.user, (p, t.balance_after.get()));
    }
    // A refund names the entry it reverses, which exists and is reversed once.
    let mut reversed = BTreeSet::new();
    let entries = (g.archived_ledger.iter().enumerate())
        .map(|(i, t)| ("archived_ledger", i, t))
        .chain(g.ledger.iter().enumerate().map(|(i, t)| ("ledger", i, t)));
    for (list, i, t) in entries {
        let Some(original) = t.reverses else { continue };
        if !ids.contains(&original) || original >= t.id {
            problems.push(format!(
                "{at}.{list}[{i}].reverses: {original} is not an earlier entry of the server"
            ));
        } else if !reversed.insert(original) {
            problems.push(format!(
                "{at}.{list}[{i}].reverses: entry {original} is already reversed by another entry"
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
    for (i, r) in g.reviews.iter().enumerate() {
        if !tasks.contains(&r.claim.task_id) {
            problems.push(format!(
                "{at}.reviews[{i}].claim.task_id: {} is not in {at}.tasks",
                r.claim.task_id
            ));
        }
    }
    let mut bought = BTreeSet::new();
    for (i, r) in g.purchases.iter().enumerate() {
        if !items.contains(&r.item) {
            problems.push(format!(
                "{at}.purchases[{i}].item: {} is not in {at}.items",
                r.item
            ));
        }
        if !bought.insert((r.user, r.item)) {
            problems.push(format!(
                "{at}.purchases[{i}]: user {} and item {} appear twice",
                r.user, r.item
            ));
        }
    }
    for (ids, name) in [
        (
            g.reviews.iter().map(|r| r.id).collect::<Vec<_>>(),
            "reviews",
        ),
        (g.role_grants.iter().map(|r| r.id).collect(), "role_grants"),
        (g.notices.iter().map(|n| n.id).collect(), "notices"),
        (g.audit.iter().map(|a| a.id).collect(), "audit"),
    ] {
        let mut seen = BTreeSet::new();
        for (i, id) in ids.into_iter().enumerate() {
            if id == 0 || !seen.insert(id) {
                problems.push(format!(
                    "{at}.{name}[{i}].id: {id} is zero or appears twice"
                ));
            }
        }
    }
    let mut synced = BTreeSet::new();
    for (i, r) in g.sync.iter().enumerate() {
        if !synced.insert((r.kind.as_str(), r.object)) {
            problems.push(format!(
                "{at}.sync[{i}]: {} {} appears twice",
                r.kind.as_str(),
                r.object
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
    g.archived_ledger.sort_by_key(|t| t.id);
    g.reviews.sort_by_key(|r| r.id);
    g.purchases.sort_by_key(|r| (r.user, r.item));
    g.role_grants.sort_by_key(|r| r.id);
    g.notices.sort_by_key(|n| n.id);
    g.sync
        .sort_by(|a, b| (a.kind.as_str(), a.object).cmp(&(b.kind.as_str(), b.object)));
    g.audit.sort_by_key(|a| a.id);
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
            report.archived_entries += g.archived_ledger.len() as u64;
            report.reviews += g.reviews.len() as u64;
            report.purchase_counters += g.purchases.len() as u64;
            report.role_grants += g.role_grants.len() as u64;
            report.notices += g.notices.len() as u64;
            report.sync_records += g.sync.len() as u64;
            report.audit_entries += g.audit.len() as u64;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::domain::shop::ItemInput;
    use crate::domain::tasks::{NewTask, Proof};
    use crate::domain::{Actor, ChannelId, Money, RoleId, Source, UserId};
    use crate::economy::{Adjustment, OpMeta};
    use crate::services::Services;
    use crate::store::outbox::SyncKind;
    use crate::testing::{self, TestStore};

    const G: GuildId = GuildId(5);

    fn admin() -> OpMeta {
        OpMeta {
            actor: Actor::Dashboard("admin".into()),
            source: Source::Dashboard,
            idempotency_key: None,
        }
    }

    fn member(u: u64) -> OpMeta {
        OpMeta::user(UserId(u), Source::DiscordCommand)
    }

    /// A server with history of every kind: archived entries, a refund, a reviewed task, a
    /// limited item bought, a role grant, a notice, a Discord message record, audit entries.
    fn busy_server() -> (TestStore, Services) {
        let (ts, s) = testing::services();
        for u in [1, 2] {
            s.economy
                .adjust(
                    G,
                    UserId(u),
                    Adjustment::Add(Money::new(500)),
                    "start",
                    &admin(),
                )
                .unwrap();
        }
        s.economy
            .adjust(
                G,
                UserId(1),
                Adjustment::Remove(Money::new(40)),
                "fine",
                &admin(),
            )
            .unwrap();
        ts.clock.advance(Duration::days(10));
        s.economy.archive(G, 5, &admin()).unwrap();
        let mut limited = ItemInput::new("Badge", 10);
        limited.max_per_user = Some(3);
        let item = s.shop.create_item(G, limited, &admin()).unwrap();
        s.shop
            .purchase(G, UserId(2), item.id, 2, &member(2))
            .unwrap();
        let task = s
            .tasks
            .create(
                G,
                NewTask {
                    name: "Write a guide".into(),
                    description: "Help out".into(),
                    reward: 25,
                    duration_hours: 24,
                    max_claims: 3,
                    ..NewTask::default()
                },
                &admin(),
            )
            .unwrap();
        s.tasks.claim(G, task.id, UserId(1), &member(1)).unwrap();
        let proof = Proof {
            content: "done".into(),
            attachments: Vec::new(),
        };
        s.tasks
            .submit(G, task.id, UserId(1), proof, &member(1))
            .unwrap();
        s.tasks.accept(G, task.id, UserId(1), &admin()).unwrap();
        s.economy
            .adjust(
                G,
                UserId(2),
                Adjustment::Add(Money::new(7)),
                "tip",
                &admin(),
            )
            .unwrap();
        ts.store
            .write(G, |w| {
                w.record_role_grant(UserId(2), RoleId(66), "item:1")?;
                w.record_notice(UserId(2), "test", "hello")?;
                w.sync_touch(SyncKind::ShopItem, item.id, Some(ChannelId(9)))
            })
            .unwrap();
        // The refund of an archived entry is refused; refund a live one.
        let live = ts
            .store
            .read(G, |r| {
                let mut last = None;
                r.scan_ledger(true, |t| -> Result<bool, crate::store::StoreError> {
                    last = Some(t.id);
                    Ok(false)
                })?;
                Ok::<_, crate::store::StoreError>(last)
            })
            .unwrap()
            .unwrap();
        s.economy.reverse(G, live, "by mistake", &admin()).unwrap();
        (ts, s)
    }

    fn export_of(s: &Services) -> GuildExport {
        s.instance.export_guild(G).unwrap()
    }

    fn doc(g: GuildExport) -> ExportDoc {
        ExportDoc {
            format: Some(FORMAT.into()),
            version: "test".into(),
            exported_at: testing::t0(),
            guilds: vec![g],
        }
    }

    #[test]
    fn an_import_keeps_the_archive_reviews_refunds_limits_and_history() {
        let (_a, from) = busy_server();
        let exported = export_of(&from);
        for (kind, n) in [
            ("archived_ledger", exported.archived_ledger.len()),
            ("reviews", exported.reviews.len()),
            ("purchases", exported.purchases.len()),
            ("role_grants", exported.role_grants.len()),
            ("notices", exported.notices.len()),
            ("sync", exported.sync.len()),
            ("audit", exported.audit.len()),
        ] {
            assert!(n > 0, "the export holds no {kind}");
        }
        assert!(exported.ledger.iter().any(|t| t.reverses.is_some()));

        let (_b, to) = testing::services();
        let report = to.instance.import(doc(exported.clone())).unwrap();
        assert_eq!(report.servers_imported, 1);
        assert_eq!(
            report.archived_entries,
            exported.archived_ledger.len() as u64
        );
        assert_eq!(report.audit_entries, exported.audit.len() as u64);
        assert!(report.to_string().contains("archived ledger entries"));
        // Everything comes back as it was, and the ledger checks out from the archive on.
        assert_eq!(normalised(&export_of(&to)), normalised(&exported));
        let integrity = to.economy.validate_guild(G).unwrap();
        assert!(integrity.ok, "{integrity:?}");
        assert_eq!(
            integrity.archived_entries,
            exported.archived_ledger.len() as u64
        );
        // Importing the same file again changes nothing.
        let again = to.instance.import(doc(export_of(&from))).unwrap();
        assert_eq!((again.servers_imported, again.servers_unchanged), (0, 1));
        // What is derived from the rows works as before: the refunded entry is refused a
        // second refund, the purchase limit counts the two already bought, and new ids follow.
        let refunded = exported
            .ledger
            .iter()
            .find_map(|t| t.reverses)
            .expect("a refund");
        let again = to.economy.reverse(G, refunded, "twice", &admin());
        assert!(again.is_err(), "{again:?}");
        let item = exported.items[0].id;
        assert!(to.shop.purchase(G, UserId(2), item, 2, &member(2)).is_err());
        to.shop.purchase(G, UserId(2), item, 1, &member(2)).unwrap();
        let next = to
            .economy
            .adjust(
                G,
                UserId(1),
                Adjustment::Add(Money::new(1)),
                "after",
                &admin(),
            )
            .unwrap();
        let max = exported.ledger.iter().map(|t| t.id).max().unwrap();
        assert!(next.transaction.unwrap().id > max);
        let audit = testing::audit_log(&_b, G);
        assert!(audit[0].id > exported.audit.iter().map(|a| a.id).max().unwrap());
    }

    #[test]
    fn a_broken_archive_or_refund_is_named_by_its_path() {
        let (_a, from) = busy_server();
        let good = export_of(&from);

        let mut g = good.clone();
        g.archived_ledger.remove(0);
        let problems = check(&doc(g));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("first entry must start from 0")),
            "{problems:?}"
        );

        let mut g = good.clone();
        let last = g.archived_ledger.len() - 1;
        g.archived_ledger[last].id = g.ledger[0].id + 1;
        let problems = check(&doc(g));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("archived entries come before the live ledger")),
            "{problems:?}"
        );

        let mut g = good.clone();
        let refund = g.ledger.iter().position(|t| t.reverses.is_some()).unwrap();
        let mut twice = g.ledger[refund].clone();
        twice.id = g.ledger.iter().map(|t| t.id).max().unwrap() + 1;
        twice.balance_before = g
            .ledger
            .iter()
            .rev()
            .find(|t| t.user == twice.user)
            .unwrap()
            .balance_after;
        twice.balance_after = Money::new(twice.balance_before.get() + twice.amount.get());
        g.ledger.push(twice);
        let problems = check(&doc(g));
        assert!(
            problems
                .iter()
                .any(|p| p.contains(".reverses: entry") && p.contains("already reversed")),
            "{problems:?}"
        );

        let mut g = good.clone();
        g.purchases[0].item = 999;
        g.reviews[0].claim.task_id = 998;
        let problems = check(&doc(g));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("purchases[0].item: 999")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("reviews[0].claim.task_id: 998")),
            "{problems:?}"
        );
        assert!(check(&doc(good)).is_empty());
    }
}
