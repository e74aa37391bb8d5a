//! Raw rows for `coffer import`: a whole guild's state read in one snapshot (`dump`), and
//! written back as it was (ids, sequence numbers, balances), several guilds in one write
//! transaction. The service checks the rows first; here nothing is decided.

use redb::ReadableTable;

use super::{group, tables, Store, StoreError, Tables, View, WriteCtx};
use crate::domain::announce::Announcement;
use crate::domain::custom_command::CustomCommand;
use crate::domain::embed::EmbedTemplate;
use crate::domain::shop::Item;
use crate::domain::tasks::{Claim, Task};
use crate::domain::{Account, GuildConfig, GuildId, Transaction, UserId};
use crate::store::guilds::GuildInfo;

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

    /// The whole guild (the live ledger, not the archive).
    pub fn dump(&self) -> Result<GuildRows, StoreError> {
        let mut ledger = Vec::new();
        self.scan_ledger(false, |tx| -> Result<bool, StoreError> {
            ledger.push(tx);
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
    /// the id counters past the highest imported ids.
    pub fn put_rows(&self, rows: &GuildRows) -> Result<(), StoreError> {
        if let Some(info) = &rows.info {
            self.put_guild_info(info)?;
        }
        if let Some(c) = &rows.config {
            self.put_guild_config(c)?;
        }
        let g = self.g();
        {
            // Each member's entries chained in id order (`records.rs`).
            let mut order: Vec<&Transaction> = rows.ledger.iter().collect();
            order.sort_by_key(|t| t.id);
            let mut last: std::collections::HashMap<UserId, u64> = Default::default();
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
        self.raise_seq("ledger", rows.ledger.iter().map(|t| t.id).max())?;
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
