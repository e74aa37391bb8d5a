//! Raw rows for `coffer import`: a whole guild's state read in one snapshot (`dump`), and
//! written back as it was (ids, sequence numbers, balances), several guilds in one write
//! transaction. The service checks the rows first; here nothing is decided.

use redb::ReadableTable;

use super::{group, tables, Store, StoreError, Tables, View, WriteCtx};
use crate::domain::announce::Announcement;
use crate::domain::custom_command::CustomCommand;
use crate::domain::embed::EmbedTemplate;
use crate::domain::shop::Item;
use crate::domain::tasks::{Claim, Review, Task};
use crate::domain::{Account, GuildConfig, GuildId, Transaction, UserId};
use crate::store::audit::AuditEntry;
use crate::store::guilds::GuildInfo;
use crate::store::notices::Notice;
use crate::store::outbox::SyncRecord;
use crate::store::roles::RoleGrant;

/// One guild's rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuildRows {
    pub info: Option<GuildInfo>,
    pub config: Option<GuildConfig>,
    pub accounts: Vec<Account>,
    pub ledger: Vec<Transaction>,
    pub items: Vec<Item>,
    /// (user, item, quantity)
    pub inventory: Vec<(UserId, u64, u64)>,
    pub tasks: Vec<Task>,
    pub claims: Vec<Claim>,
    pub custom_commands: Vec<CustomCommand>,
    pub announcements: Vec<Announcement>,
    pub embeds: Vec<EmbedTemplate>,
    /// Entries moved out of the live ledger by an archive run, in id order. The per-user
    /// checkpoints are not rows of their own here: `put_rows` folds them from these.
    pub archived: Vec<Transaction>,
    pub reviews: Vec<Review>,
    /// (user, item, units ever bought): the per-member purchase limits.
    pub purchases: Vec<(UserId, u64, u64)>,
    pub role_grants: Vec<RoleGrant>,
    pub notices: Vec<Notice>,
    /// Which Discord message shows which object, so an imported server edits its messages
    /// instead of posting them again.
    pub sync: Vec<SyncRecord>,
    pub audit: Vec<AuditEntry>,
}

impl<T: Tables> View<'_, T> {
    /// Every inventory row of the guild as (user, item, quantity).
    pub fn inventory_rows(&self) -> Result<Vec<(UserId, u64, u64)>, StoreError> {
        let t = self.tx.open(tables::INVENTORY)?;
        let g = self.g();
        let mut out = Vec::new();
        for row in t.range((g, 0, 0)..=(g, u64::MAX, u64::MAX))? {
            let (k, v) = row?;
            let (_, user, item) = k.value();
            out.push((UserId(user), item, v.value()));
        }
        Ok(out)
    }

    /// Every purchase counter of the guild as (user, item, units ever bought).
    pub fn purchase_rows(&self) -> Result<Vec<(UserId, u64, u64)>, StoreError> {
        let t = self.tx.open(tables::SHOP_PURCHASES)?;
        let g = self.g();
        let mut out = Vec::new();
        for row in t.range((g, 0, 0)..=(g, u64::MAX, u64::MAX))? {
            let (k, v) = row?;
            let (_, user, item) = k.value();
            out.push((UserId(user), item, v.value()));
        }
        Ok(out)
    }

    /// Every row of a `(guild, id) -> JSON` table, in id order.
    fn rows_of<V: serde::de::DeserializeOwned>(
        &self,
        name: &'static str,
        def: redb::TableDefinition<'static, (u64, u64), tables::Bytes>,
    ) -> Result<Vec<V>, StoreError> {
        let t = self.tx.open(def)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(super::decode(name, row?.1.value())?);
        }
        Ok(out)
    }

    /// The whole guild, archive and history included.
    pub fn dump(&self) -> Result<GuildRows, StoreError> {
        let mut ledger = Vec::new();
        self.scan_ledger(false, |tx| -> Result<bool, StoreError> {
            ledger.push(tx);
            Ok(true)
        })?;
        let mut archived = Vec::new();
        self.scan_archive(false, |tx| -> Result<bool, StoreError> {
            archived.push(tx);
            Ok(true)
        })?;
        let stored_config = {
            let t = self.tx.open(tables::CONFIG)?;
            let found = t.get(self.g())?.is_some();
            found
        };
        Ok(GuildRows {
            info: self.guild_info()?,
            config: if stored_config {
                Some(self.guild_config()?)
            } else {
                None
            },
            accounts: self.accounts()?,
            ledger,
            items: self.shop_items()?,
            inventory: self.inventory_rows()?,
            tasks: self.tasks()?,
            claims: self.all_claims()?,
            custom_commands: self.custom_commands()?,
            announcements: self.announcements()?,
            embeds: self.embed_templates()?,
            archived,
            reviews: self.rows_of("reviews", tables::REVIEWS)?,
            purchases: self.purchase_rows()?,
            role_grants: self.rows_of("role_grants", tables::ROLE_GRANTS)?,
            notices: self.rows_of("notices", tables::NOTICES)?,
            sync: self.sync_records()?,
            audit: self.rows_of("audit", tables::AUDIT)?,
        })
    }

    /// Whether the guild holds no accounts, ledger, items, tasks or custom commands.
    pub fn holds_nothing(&self) -> Result<bool, StoreError> {
        let g = self.g();
        Ok(self
            .tx
            .open(tables::ACCOUNTS)?
            .range((g, 0)..=(g, u64::MAX))?
            .next()
            .is_none()
            && self
                .tx
                .open(tables::LEDGER)?
                .range((g, 0)..=(g, u64::MAX))?
                .next()
                .is_none()
            && self.shop_items()?.is_empty()
            && self.tasks()?.is_empty()
            && self.custom_commands()?.is_empty()
            && self.announcements()?.is_empty()
            && self.embed_templates()?.is_empty())
    }
}

impl WriteCtx<'_> {
    /// Writes `rows` as they are (the guild holds nothing yet: the caller checked), and moves
    /// the id counters past the highest imported ids. What is derived from the rows (archive
    /// checkpoints, which entry a refund reversed, the work lists) is rebuilt from them.
    pub fn put_rows(&self, rows: &GuildRows) -> Result<(), StoreError> {
        if let Some(info) = &rows.info {
            self.put_guild_info(info)?;
        }
        if let Some(c) = &rows.config {
            self.put_guild_config(c)?;
        }
        let g = self.g();
        {
            // Each member's entries chained in id order (`records.rs`), from the archive on:
            // the first live entry links to the member's last archived one.
            let mut archived: Vec<&Transaction> = rows.archived.iter().collect();
            archived.sort_by_key(|t| t.id);
            let mut last: std::collections::HashMap<UserId, u64> = Default::default();
            let linked: Vec<(Transaction, u64)> = archived
                .into_iter()
                .map(|tx| (tx.clone(), last.insert(tx.user, tx.id).unwrap_or(0)))
                .collect();
            self.put_archived(&linked)?;
            let mut order: Vec<&Transaction> = rows.ledger.iter().collect();
            order.sort_by_key(|t| t.id);
            let mut ledger = self.tx.open_table(tables::LEDGER)?;
            for tx in order {
                let prev = last.insert(tx.user, tx.id).unwrap_or(0);
                ledger.insert(
                    (g, tx.id),
                    super::records::encode_entry(tx, prev)?.as_slice(),
                )?;
            }
            let mut t = self.tx.open_table(tables::ACCOUNTS)?;
            for a in &rows.accounts {
                let latest = last.get(&a.user).copied().unwrap_or(0);
                t.insert(
                    (g, a.user.0),
                    super::records::encode_account(a, latest).as_slice(),
                )?;
            }
        }
        for item in &rows.items {
            self.put_shop_item(item)?;
        }
        for (user, item, n) in &rows.inventory {
            self.set_inventory_quantity(*user, *item, *n)?;
        }
        for t in &rows.tasks {
            self.put_task(t)?;
        }
        for c in &rows.claims {
            self.put_claim(c)?;
        }
        for c in &rows.custom_commands {
            self.put_custom_command(c)?;
        }
        for a in &rows.announcements {
            self.put_announcement(a)?;
        }
        for e in &rows.embeds {
            self.put_embed_template(e)?;
        }
        for t in rows.archived.iter().chain(&rows.ledger) {
            if let Some(original) = t.reverses {
                self.record_reversal(original, t.id)?;
            }
        }
        for r in &rows.reviews {
            self.put_review(r)?;
        }
        for (user, item, n) in &rows.purchases {
            self.set_purchase_count(*user, *item, *n)?;
        }
        for g in &rows.role_grants {
            self.put_role_grant(g)?;
        }
        for n in &rows.notices {
            self.put_notice(n)?;
        }
        for r in &rows.sync {
            self.put_sync_record(r)?;
        }
        for a in &rows.audit {
            self.put_audit_entry(a)?;
        }
        let entries = rows.archived.iter().chain(&rows.ledger);
        self.raise_seq(super::accounts::LEDGER_COUNTER, entries.map(|t| t.id).max())?;
        self.raise_seq("review", rows.reviews.iter().map(|r| r.id).max())?;
        self.raise_seq("role_grant", rows.role_grants.iter().map(|g| g.id).max())?;
        self.raise_seq("notice", rows.notices.iter().map(|n| n.id).max())?;
        self.raise_seq(
            super::audit::AUDIT_COUNTER,
            rows.audit.iter().map(|a| a.id).max(),
        )?;
        self.raise_seq("shop_item", rows.items.iter().map(|i| i.id).max())?;
        self.raise_seq("task", rows.tasks.iter().map(|t| t.id).max())?;
        self.raise_seq(
            "announcement",
            rows.announcements.iter().map(|a| a.id).max(),
        )?;
        self.raise_seq("embed", rows.embeds.iter().map(|e| e.id).max())?;
        Ok(())
    }

    /// Makes the next id of `counter` come after `at_least`.
    fn raise_seq(&self, counter: &str, at_least: Option<u64>) -> Result<(), StoreError> {
        let Some(n) = at_least else { return Ok(()) };
        let mut t = self.tx.open_table(tables::SEQS)?;
        let cur = t.get((self.g(), counter))?.map(|v| v.value()).unwrap_or(0);
        if n > cur {
            t.insert((self.g(), counter), n)?;
        }
        Ok(())
    }
}

impl Store {
    /// Runs `f` on each guild in turn inside ONE write transaction (one commit): all of it is
    /// kept or none. No events are published (an import runs with Coffer stopped).
    pub fn write_guilds<T: Send, E: From<StoreError> + Send>(
        &self,
        guilds: &[GuildId],
        mut f: impl FnMut(&mut WriteCtx<'_>) -> Result<T, E> + Send,
    ) -> Result<Vec<T>, E> {
        let inner = &*self.inner;
        inner
            .writer
            .run(&inner.db, (&inner.bus, &inner.boards), |tx| {
                let now = inner.clock.now();
                let mut out = Vec::with_capacity(guilds.len());
                for &guild in guilds {
                    let mut ctx = WriteCtx {
                        view: View {
                            tx,
                            guild,
                            defaults: &inner.defaults,
                        },
                        now,
                        events: Vec::new(),
                        accounts: Vec::new(),
                    };
                    out.push(f(&mut ctx)?);
                }
                Ok(group::Applied { out, publish: None })
            })
            .inspect(|_| inner.boards.clear())
    }
}
