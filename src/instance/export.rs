//! The export: one JSON document with everything of every server (or one), written one server
//! at a time so memory is bounded by the largest server, not the instance; and the ledger as
//! CSV. `coffer import` (import.rs) reads the same document back.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Instance;
use crate::domain::announce::Announcement;
use crate::domain::custom_command::CustomCommand;
use crate::domain::embed::EmbedTemplate;
use crate::domain::shop::Item;
use crate::domain::tasks::{Claim, Review, Task};
use crate::domain::{Account, Actor, GuildConfig, GuildId, Transaction, UserId};
use crate::error::Error;
use crate::store::audit::AuditEntry;
use crate::store::guilds::GuildInfo;
use crate::store::import::GuildRows;
use crate::store::notices::Notice;
use crate::store::outbox::SyncRecord;
use crate::store::roles::RoleGrant;

/// What the document says it is, so `import` can refuse another JSON file early.
pub const FORMAT: &str = "coffer-export";

/// One inventory row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryRow {
    pub user: UserId,
    pub item: u64,
    pub quantity: u64,
}

/// How many units of an item one member ever bought (per-member purchase limits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRow {
    pub user: UserId,
    pub item: u64,
    pub units: u64,
}

/// One server's part of the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuildExport {
    /// The server id, as a string (JavaScript loses precision on ids as numbers).
    pub id: String,
    #[serde(default)]
    pub info: Option<GuildInfo>,
    pub config: GuildConfig,
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// The live ledger in id order.
    #[serde(default)]
    pub ledger: Vec<Transaction>,
    /// Entries an archive run moved out of the live ledger, in id order (all below the live
    /// ledger's ids). Each member's chain runs from 0 through these into `ledger`.
    #[serde(default)]
    pub archived_ledger: Vec<Transaction>,
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub inventory: Vec<InventoryRow>,
    #[serde(default)]
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub claims: Vec<Claim>,
    #[serde(default)]
    pub custom_commands: Vec<CustomCommand>,
    #[serde(default)]
    pub announcements: Vec<Announcement>,
    /// Embed templates.
    #[serde(default)]
    pub embeds: Vec<EmbedTemplate>,
    /// Task submissions and their outcomes.
    #[serde(default)]
    pub reviews: Vec<Review>,
    #[serde(default)]
    pub purchases: Vec<PurchaseRow>,
    #[serde(default)]
    pub role_grants: Vec<RoleGrant>,
    /// Direct messages owed to (or sent to) members.
    #[serde(default)]
    pub notices: Vec<Notice>,
    /// Which Discord message shows which object.
    #[serde(default)]
    pub sync: Vec<SyncRecord>,
    /// The admin audit log, oldest first.
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
}

impl GuildExport {
    pub(crate) fn from_rows(guild: GuildId, rows: GuildRows, config: GuildConfig) -> GuildExport {
        GuildExport {
            id: guild.to_string(),
            info: rows.info,
            config: rows.config.unwrap_or(config),
            accounts: rows.accounts,
            ledger: rows.ledger,
            items: rows.items,
            inventory: rows
                .inventory
                .into_iter()
                .map(|(user, item, quantity)| InventoryRow {
                    user,
                    item,
                    quantity,
                })
                .collect(),
            tasks: rows.tasks,
            claims: rows.claims,
            custom_commands: rows.custom_commands,
            announcements: rows.announcements,
            embeds: rows.embeds,
            archived_ledger: rows.archived,
            reviews: rows.reviews,
            purchases: rows
                .purchases
                .into_iter()
                .map(|(user, item, units)| PurchaseRow { user, item, units })
                .collect(),
            role_grants: rows.role_grants,
            notices: rows.notices,
            sync: rows.sync,
            audit: rows.audit,
        }
    }

    pub(crate) fn into_rows(self) -> GuildRows {
        GuildRows {
            info: self.info,
            config: Some(self.config),
            accounts: self.accounts,
            ledger: self.ledger,
            items: self.items,
            inventory: self
                .inventory
                .into_iter()
                .map(|r| (r.user, r.item, r.quantity))
                .collect(),
            tasks: self.tasks,
            claims: self.claims,
            custom_commands: self.custom_commands,
            announcements: self.announcements,
            embeds: self.embeds,
            archived: self.archived_ledger,
            reviews: self.reviews,
            purchases: self
                .purchases
                .into_iter()
                .map(|r| (r.user, r.item, r.units))
                .collect(),
            role_grants: self.role_grants,
            notices: self.notices,
            sync: self.sync,
            audit: self.audit,
        }
    }
}

/// The whole document as `import` reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportDoc {
    #[serde(default)]
    pub format: Option<String>,
    pub version: String,
    pub exported_at: DateTime<Utc>,
    pub guilds: Vec<GuildExport>,
}

/// A spreadsheet must show the cell, not run it: text starting with `= + - @`, tab or CR gets
/// a leading `'`.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The ledger CSV's columns.
pub const LEDGER_CSV_HEADER: [&str; 12] = [
    "id",
    "timestamp",
    "user_id",
    "type",
    "amount",
    "balance_before",
    "balance_after",
    "description",
    "actor",
    "source",
    "group",
    "reverses",
];

/// The ledger CSV's header line (`guild_id` first with `with_guild`); no column name needs
/// quoting.
pub fn ledger_csv_header(with_guild: bool) -> String {
    let mut line = if with_guild { "guild_id," } else { "" }.to_owned();
    line.push_str(&LEDGER_CSV_HEADER.join(","));
    line.push('\n');
    line
}

/// One ledger entry as a CSV record (text cells neutralised).
pub fn ledger_csv_record(t: &Transaction) -> [String; 12] {
    let mut cells = LedgerCsvCells::default();
    cells.fill(t);
    cells.cells
}

/// The cells of one ledger CSV record, reused from row to row: an export of a million
/// entries allocates nothing per row.
#[derive(Debug, Default)]
pub struct LedgerCsvCells {
    cells: [String; 12],
}

impl LedgerCsvCells {
    /// The record for `t` (text cells neutralised), the same as `ledger_csv_record`.
    pub fn fill(&mut self, t: &Transaction) -> &[String; 12] {
        for c in &mut self.cells {
            c.clear();
        }
        let [id, at, user, kind, amount, before, after, desc, actor, source, group, reverses] =
            &mut self.cells;
        let mut n = itoa::Buffer::new();
        id.push_str(n.format(t.id));
        write_rfc3339(at, t.at);
        user.push_str(n.format(t.user.0));
        kind.push_str(t.kind.as_str());
        amount.push_str(n.format(t.amount.get()));
        before.push_str(n.format(t.balance_before.get()));
        after.push_str(n.format(t.balance_after.get()));
        push_neutralised(desc, &t.description);
        push_actor(actor, &t.actor);
        if neutralise(actor).len() != actor.len() {
            actor.insert(0, '\'');
        }
        push_neutralised(source, t.source.as_str());
        group.push_str(n.format(t.group));
        if let Some(r) = t.reverses {
            reverses.push_str(n.format(r));
        }
        &self.cells
    }

    /// Appends the CSV line of `t` to `out`: the same bytes `csv::Writer` writes for
    /// `fill(t)` (a field is quoted only when it holds a comma, a quote or a line break; `\n`
    /// ends the line), without the csv crate's per-field state machine, which was a third of
    /// the export's time.
    pub fn write_line(&mut self, t: &Transaction, out: &mut Vec<u8>) {
        self.fill(t);
        for (i, cell) in self.cells.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_csv_field(out, cell.as_bytes());
        }
        out.push(b'\n');
    }
}

fn push_csv_field(out: &mut Vec<u8>, field: &[u8]) {
    if !field
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn push_neutralised(out: &mut String, cell: &str) {
    if neutralise(cell).len() != cell.len() {
        out.push('\'');
    }
    out.push_str(cell);
}

/// `DateTime::to_rfc3339` without its allocation and without `core::fmt` (which was a fifth of
/// the export's time): the same text.
fn write_rfc3339(out: &mut String, t: DateTime<Utc>) {
    use chrono::{Datelike, Timelike};
    let (date, time) = (t.date_naive(), t.time());
    let (year, nanos) = (date.year(), time.nanosecond());
    // Years outside 0..=9999 and leap seconds (nanoseconds past 1e9) are rare: chrono's way.
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        out.push_str(&t.to_rfc3339());
        return;
    }
    let mut line = Digits::default();
    line.num(year.unsigned_abs(), 4).sep(b'-');
    line.num(date.month(), 2).sep(b'-');
    line.num(date.day(), 2).sep(b'T');
    line.num(time.hour(), 2).sep(b':');
    line.num(time.minute(), 2).sep(b':');
    line.num(time.second(), 2);
    match nanos {
        0 => {}
        n if n % 1_000_000 == 0 => {
            line.sep(b'.').num(n / 1_000_000, 3);
        }
        n if n % 1_000 == 0 => {
            line.sep(b'.').num(n / 1_000, 6);
        }
        n => {
            line.sep(b'.').num(n, 9);
        }
    }
    out.push_str(line.as_str());
    out.push_str("+00:00");
}

/// Zero-padded numbers and separators in a fixed buffer (ASCII only).
#[derive(Default)]
struct Digits {
    buf: [u8; 32],
    len: usize,
}

impl Digits {
    fn num(&mut self, mut v: u32, width: usize) -> &mut Self {
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.len += width;
        self
    }

    fn sep(&mut self, c: u8) -> &mut Self {
        self.buf[self.len] = c;
        self.len += 1;
        self
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// `Actor`'s `Display` text, without `core::fmt`.
fn push_actor(out: &mut String, actor: &Actor) {
    match actor {
        Actor::System => out.push_str("system"),
        Actor::User(u) => {
            out.push_str("user:");
            out.push_str(itoa::Buffer::new().format(u.0));
        }
        Actor::Dashboard(name) => {
            out.push_str("dashboard:");
            out.push_str(name);
        }
        Actor::Cli => out.push_str("cli"),
    }
}

impl Instance {
    /// One server's export, read in one snapshot.
    pub fn export_guild(&self, guild: GuildId) -> Result<GuildExport, Error> {
        self.store.read(guild, |r| {
            let rows = r.dump()?;
            Ok(GuildExport::from_rows(guild, rows, r.guild_config()?))
        })
    }

    /// Writes `{format, version, exported_at, guilds: [GuildExport, ..]}` to `out`: the servers
    /// in `only` (all when `None`), in id order, one read each. A store failure becomes an
    /// `io::Error` carrying its message; whatever was written before it stays written (the
    /// caller streams, so it cannot take it back).
    pub fn write_export_of(
        &self,
        only: Option<GuildId>,
        exported_at: DateTime<Utc>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let io = |e: Error| std::io::Error::other(e.to_string());
        write!(
            out,
            "{{\"format\":\"{FORMAT}\",\"version\":{},\"exported_at\":{},\"guilds\":[",
            serde_json::json!(env!("CARGO_PKG_VERSION")),
            serde_json::json!(exported_at)
        )?;
        let guilds = match only {
            Some(g) => vec![g],
            None => self.guild_ids().map_err(io)?,
        };
        for (i, g) in guilds.into_iter().enumerate() {
            let doc = self.export_guild(g).map_err(io)?;
            if i > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut *out, &doc)?;
        }
        out.write_all(b"]}\n")
    }

    /// Every server, as `write_export_of(None, ..)`.
    pub fn write_export(
        &self,
        exported_at: DateTime<Utc>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        self.write_export_of(None, exported_at, out)
    }

    /// The live ledger of `guild` as CSV (header first), oldest entry first, streamed.
    pub fn write_ledger_csv(&self, guild: GuildId, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(ledger_csv_header(false).as_bytes())?;
        self.write_ledger_rows(guild, false, out)
    }

    /// Every server's ledger in one CSV: `guild_id`, then the columns of `write_ledger_csv`.
    pub fn write_all_ledgers_csv(&self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(ledger_csv_header(true).as_bytes())?;
        let guilds = self
            .store
            .guild_ids()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        for g in guilds {
            self.write_ledger_rows(g, true, out)?;
        }
        Ok(())
    }

    /// One server's ledger rows, led by its id with `with_guild`, written about 64 KiB at a
    /// time.
    fn write_ledger_rows(
        &self,
        guild: GuildId,
        with_guild: bool,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        const FLUSH_AT: usize = 64 * 1024;
        let mut failed = None;
        let mut buf = Vec::with_capacity(FLUSH_AT + 1024);
        let id = guild.to_string();
        self.store
            .read(guild, |r| {
                let mut cells = LedgerCsvCells::default();
                r.scan_ledger(false, |t| -> Result<bool, Error> {
                    if with_guild {
                        buf.extend_from_slice(id.as_bytes());
                        buf.push(b',');
                    }
                    cells.write_line(&t, &mut buf);
                    if buf.len() >= FLUSH_AT {
                        if let Err(e) = out.write_all(&buf) {
                            failed = Some(e);
                            return Ok(false);
                        }
                        buf.clear();
                    }
                    Ok(true)
                })
            })
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        match failed {
            Some(e) => Err(e),
            None => out.write_all(&buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use crate::testing;

    #[test]
    fn csv_cells_match_the_general_formatters() {
        use crate::domain::{Actor, Money, Source, TxKind};
        for (secs, nanos) in [
            (0, 0),
            (1_700_000_000, 5_000_000),
            (1_700_000_001, 123_000),
            (-1, 7),
        ] {
            let at = DateTime::from_timestamp(secs, nanos).unwrap();
            let mut out = String::new();
            write_rfc3339(&mut out, at);
            assert_eq!(out, at.to_rfc3339());
        }
        let t = Transaction {
            id: 3,
            guild: GuildId(1),
            user: UserId(2),
            amount: Money::new(-5),
            balance_before: Money::new(10),
            balance_after: Money::new(5),
            kind: TxKind::AdminRemove,
            description: "=SUM(A1)".into(),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            actor: Actor::Dashboard("@boss".into()),
            source: Source::DiscordButton,
            group: 3,
            reverses: Some(1),
            metadata: Default::default(),
        };
        let mut cells = LedgerCsvCells::default();
        let row = cells.fill(&t).clone();
        assert_eq!(row[7], "'=SUM(A1)");
        assert_eq!(row[8], "dashboard:@boss");
        assert_eq!(
            row[9],
            serde_json::to_value(t.source).unwrap().as_str().unwrap()
        );
        assert_eq!(row[11], "1");
        assert_eq!(cells.fill(&t), &row, "reused cells start clean");
        for with_guild in [false, true] {
            let mut w = csv::Writer::from_writer(Vec::new());
            let guild_col = with_guild.then_some("guild_id");
            w.write_record(guild_col.into_iter().chain(LEDGER_CSV_HEADER))
                .unwrap();
            let expected = String::from_utf8(w.into_inner().unwrap()).unwrap();
            assert_eq!(ledger_csv_header(with_guild), expected);
        }
    }

    use proptest::strategy::Strategy;

    /// Instants from before year 0 to past 9999, at every precision chrono prints, leap seconds
    /// (nanoseconds past 1e9, only at the end of a minute) included.
    fn instants() -> impl Strategy<Value = DateTime<Utc>> {
        let nanos = proptest::prop_oneof![
            proptest::strategy::Just(0u32),
            (0u32..1_000).prop_map(|ms| ms * 1_000_000),
            (0u32..1_000_000).prop_map(|us| us * 1_000),
            0u32..2_000_000_000,
        ];
        (-70_000_000_000i64..300_000_000_000, nanos).prop_map(|(secs, nanos)| {
            DateTime::from_timestamp(secs, nanos)
                .or_else(|| DateTime::from_timestamp(secs - secs.rem_euclid(60) + 59, nanos))
                .unwrap_or_default()
        })
    }

    proptest::proptest! {
        /// The timestamp and actor cells are the text of chrono's `to_rfc3339` and of
        /// `Actor`'s `Display`, for any instant chrono can hold and any precision it prints.
        #[test]
        fn timestamps_and_actors_are_the_general_formatters_text(
            at in instants(),
            user in 0u64..u64::MAX,
            name in "[a-z@:=-]{0,8}",
        ) {
            use crate::domain::Actor;
            let mut out = String::from("x");
            write_rfc3339(&mut out, at);
            proptest::prop_assert_eq!(out, format!("x{}", at.to_rfc3339()));
            for actor in [Actor::System, Actor::Cli, Actor::User(UserId(user)), Actor::Dashboard(name)] {
                let mut out = String::from("x");
                push_actor(&mut out, &actor);
                proptest::prop_assert_eq!(out, format!("x{actor}"));
            }
        }

        /// `write_line` writes exactly what `csv::Writer` writes for the same cells, whatever
        /// the text holds (commas, quotes, line breaks, formula starts, any Unicode).
        #[test]
        fn a_written_line_is_what_the_csv_crate_writes(
            description in "[a-z,\"\r\n =+@\t'é€😀-]{0,12}",
            actor in "[a-z,\"\n @=-]{0,8}",
            id in 1u64..u64::MAX,
            amount in i64::MIN + 1..i64::MAX,
            reverses in proptest::option::of(0u64..u64::MAX),
            at in instants(),
            actor_kind in 0u8..4,
        ) {
            use crate::domain::{Actor, Money, Source, TxKind};
            let actor = match actor_kind {
                0 => Actor::System,
                1 => Actor::User(UserId(id)),
                2 => Actor::Cli,
                _ => Actor::Dashboard(actor),
            };
            let t = Transaction {
                id,
                guild: GuildId(1),
                user: UserId(id / 3),
                amount: Money::new(amount),
                balance_before: Money::new(amount / 2),
                balance_after: Money::new(-(amount / 3)),
                kind: TxKind::TransferSend,
                description,
                at,
                actor,
                source: Source::Api,
                group: id,
                reverses,
                metadata: Default::default(),
            };
            let mut expected = csv::Writer::from_writer(Vec::new());
            expected.write_record(ledger_csv_record(&t)).unwrap();
            let expected = expected.into_inner().unwrap();
            let mut line = b"before|".to_vec();
            LedgerCsvCells::default().write_line(&t, &mut line);
            proptest::prop_assert_eq!(
                String::from_utf8_lossy(&line[7..]),
                String::from_utf8_lossy(&expected)
            );
        }
    }

    #[test]
    fn the_export_is_one_json_document_with_every_server() {
        let ts = testing::store();
        let inst = Instance::new(ts.store.clone());
        let mut empty = Vec::new();
        inst.write_export(ts.store.now(), &mut empty).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(doc["guilds"], serde_json::json!([]));
        assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
        for g in [7, 3] {
            ts.store
                .write(GuildId(g), |w| w.ensure_account(UserId(g)))
                .unwrap();
        }
        let mut out = Vec::new();
        inst.write_export(ts.store.now(), &mut out).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let guilds = doc["guilds"].as_array().unwrap();
        let ids: Vec<_> = guilds.iter().map(|g| g["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["3", "7"]);
        assert_eq!(guilds[1]["accounts"].as_array().unwrap().len(), 1);
        assert_eq!(
            guilds[0]["config"]["currency_name"],
            ts.store.defaults().currency_name.as_str()
        );
        assert!(guilds[0]["info"].is_null());
    }

    /// A writer that fails once `limit` bytes are in, like a client that went away.
    struct Closing(usize);

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() > self.0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_writer_error_stops_the_export_and_is_returned() {
        let ts = testing::store();
        ts.store
            .write(GuildId(1), |w| w.ensure_account(UserId(1)))
            .unwrap();
        let err = Instance::new(ts.store.clone())
            .write_export(ts.store.now(), &mut Closing(10))
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
