//! The command log: one row per Discord command or component use (name, guild, user, duration,
//! outcome), appended after the reply; plus the registered-command-set hash kept in `meta`.
//! Read by the dashboard's logs page; never holds message content or arguments.

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, Store, StoreError, Tables, View, WriteCtx};
use crate::domain::UserId;

/// The outcome recorded for a successful use.
pub const OUTCOME_OK: &str = "ok";

/// What a caller hands in; `id` and `at` are filled by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCommandLog {
    /// Qualified command name (`admin money add`) or a component's custom-id prefix.
    pub command: String,
    /// `command` or `component`.
    pub kind: String,
    pub user: UserId,
    pub duration_ms: u64,
    /// `ok`, or an error kind such as `insufficient_funds`, `denied`, `internal`.
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLogEntry {
    pub id: u64,
    pub at: DateTime<Utc>,
    pub command: String,
    pub kind: String,
    pub user: UserId,
    pub duration_ms: u64,
    pub outcome: String,
}

/// Filters for the paged query; every field is optional. `outcome = "error"` matches every
/// outcome except `ok`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLogFilter {
    pub user: Option<UserId>,
    pub command: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    pub offset: u64,
    /// 0 = 50.
    pub limit: u64,
}

impl CommandLogFilter {
    fn matches(&self, e: &CommandLogEntry) -> bool {
        let outcome_ok = match self.outcome.as_deref() {
            None => true,
            Some("error") => e.outcome != OUTCOME_OK,
            Some(o) => e.outcome == o,
        };
        outcome_ok
            && self.user.is_none_or(|u| e.user == u)
            && self.command.as_deref().is_none_or(|c| e.command == c)
            && self.from.is_none_or(|f| e.at >= f)
            && self.to.is_none_or(|t| e.at < t)
    }
}

/// One page of the log, newest first, with the total number of matching rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandLogPage {
    pub items: Vec<CommandLogEntry>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

impl<T: Tables> View<'_, T> {
    /// The guild's command log, newest first, filtered and paged.
    pub fn command_log(&self, f: &CommandLogFilter) -> Result<CommandLogPage, StoreError> {
        let limit = if f.limit == 0 { 50 } else { f.limit.min(500) };
        let t = self.tx.open(tables::COMMAND_LOG)?;
        let mut items = Vec::new();
        let mut total = 0u64;
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))?.rev() {
            let (_, v) = row?;
            let e: CommandLogEntry = decode("command_log", v.value())?;
            if f.from.is_some_and(|from| e.at < from) {
                // Newest first: everything further is older still.
                break;
            }
            if !f.matches(&e) {
                continue;
            }
            if total >= f.offset && (items.len() as u64) < limit {
                items.push(e);
            }
            total += 1;
        }
        Ok(CommandLogPage {
            items,
            total,
            offset: f.offset,
            limit,
        })
    }
}

impl WriteCtx<'_> {
    /// Appends one row stamped with the transaction's time.
    pub fn append_command_log(&self, new: NewCommandLog) -> Result<CommandLogEntry, StoreError> {
        let id = self.next_id("command_log")?;
        let e = CommandLogEntry {
            id,
            at: self.now,
            command: new.command,
            kind: new.kind,
            user: new.user,
            duration_ms: new.duration_ms,
            outcome: new.outcome,
        };
        let mut t = self.tx.open_table(tables::COMMAND_LOG)?;
        t.insert((self.g(), id), encode(&e)?.as_slice())?;
        Ok(e)
    }
}

fn command_hash_key(scope: &str) -> String {
    format!("discord.commands_hash:{scope}")
}

impl Store {
    /// The hash of the command set last registered with Discord for `scope` (e.g.
    /// `global:<app>` or `guild:<app>:<guild>`), if any.
    pub fn command_set_hash(&self, scope: &str) -> Result<Option<u64>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open(tables::META)?;
        let v = t.get(command_hash_key(scope).as_str())?;
        Ok(v.map(|v| v.value()))
    }

    /// Records that the command set with `hash` is registered for `scope`.
    pub fn set_command_set_hash(&self, scope: &str, hash: u64) -> Result<(), StoreError> {
        self.write_global(|tx| {
            tx.open_table(tables::META)?
                .insert(command_hash_key(scope).as_str(), hash)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::GuildId;
    use crate::testing;

    fn row(user: u64, command: &str, outcome: &str) -> NewCommandLog {
        NewCommandLog {
            command: command.into(),
            kind: "command".into(),
            user: UserId(user),
            duration_ms: 12,
            outcome: outcome.into(),
        }
    }

    #[test]
    fn appended_rows_come_back_newest_first_and_stay_in_their_guild() {
        let ts = testing::store();
        let g = GuildId(1);
        ts.store
            .write(g, |w| {
                w.append_command_log(row(7, "daily", "ok"))?;
                w.append_command_log(row(8, "give", "insufficient_funds"))
            })
            .unwrap();
        ts.store
            .write(GuildId(2), |w| w.append_command_log(row(7, "daily", "ok")))
            .unwrap();
        let page = ts
            .store
            .read(g, |r| r.command_log(&CommandLogFilter::default()))
            .unwrap();
        assert_eq!(page.total, 2);
        let names: Vec<&str> = page.items.iter().map(|e| e.command.as_str()).collect();
        assert_eq!(names, ["give", "daily"]);
        assert_eq!(page.items[0].outcome, "insufficient_funds");
        assert_eq!(page.items[0].duration_ms, 12);
    }

    #[test]
    fn filters_by_user_command_outcome_and_dates_and_pages() {
        let ts = testing::store();
        let g = GuildId(1);
        let start = ts.store.now();
        for i in 0..6u64 {
            let outcome = if i % 2 == 0 { "ok" } else { "denied" };
            ts.store
                .write(g, |w| w.append_command_log(row(i % 3, "balance", outcome)))
                .unwrap();
            ts.clock.advance(chrono::Duration::minutes(1));
        }
        let q = |f: CommandLogFilter| ts.store.read(g, |r| r.command_log(&f)).unwrap();
        assert_eq!(
            q(CommandLogFilter {
                user: Some(UserId(1)),
                ..Default::default()
            })
            .total,
            2
        );
        assert_eq!(
            q(CommandLogFilter {
                outcome: Some("error".into()),
                ..Default::default()
            })
            .total,
            3
        );
        assert_eq!(
            q(CommandLogFilter {
                command: Some("give".into()),
                ..Default::default()
            })
            .total,
            0
        );
        let window = q(CommandLogFilter {
            from: Some(start + chrono::Duration::minutes(2)),
            to: Some(start + chrono::Duration::minutes(4)),
            ..Default::default()
        });
        assert_eq!(window.total, 2);
        assert!(window.items.iter().all(|e| e.id == 3 || e.id == 4));
        let page2 = q(CommandLogFilter {
            offset: 2,
            limit: 2,
            ..Default::default()
        });
        assert_eq!(page2.total, 6);
        let ids: Vec<u64> = page2.items.iter().map(|e| e.id).collect();
        assert_eq!(ids, [4, 3]);
    }

    #[test]
    fn command_set_hash_is_stored_per_scope() {
        let ts = testing::store();
        assert_eq!(ts.store.command_set_hash("global:1").unwrap(), None);
        ts.store.set_command_set_hash("global:1", 42).unwrap();
        ts.store.set_command_set_hash("guild:1:5", 7).unwrap();
        assert_eq!(ts.store.command_set_hash("global:1").unwrap(), Some(42));
        assert_eq!(ts.store.command_set_hash("guild:1:5").unwrap(), Some(7));
        assert_eq!(ts.store.command_set_hash("global:2").unwrap(), None);
    }
}
