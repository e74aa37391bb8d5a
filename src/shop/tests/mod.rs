//! Shop service tests on a temp store: a fixture with helpers that read like the rules, then one
//! file per feature (admin, purchase, inventory, concurrency).

mod admin;
mod concurrency;
mod inventory;
mod listing;
mod purchase;

use crate::domain::shop::{Item, ItemInput, Stock};
use crate::domain::{Actor, GuildConfig, GuildId, Money, Source, UserId};
use crate::economy::{Adjustment, Economy, OpMeta};
use crate::events::{Event, EventFilter, EventKind, Replay};
use crate::shop::Shop;
use crate::store::audit::AuditEntry;
use crate::store::outbox::SyncRecord;
use crate::store::roles::RoleGrant;
use crate::testing::{self, TestStore};

pub(super) const G: GuildId = GuildId(1);
pub(super) const ALICE: UserId = UserId(10);
pub(super) const BOB: UserId = UserId(11);

pub(super) struct Fixture {
    pub ts: TestStore,
    pub economy: Economy,
    pub shop: Shop,
}

pub(super) fn fixture() -> Fixture {
    fixture_with(GuildConfig {
        rate_limit_per_minute: 0,
        ..GuildConfig::default()
    })
}

pub(super) fn fixture_with(cfg: GuildConfig) -> Fixture {
    let ts = testing::store_with(cfg);
    let economy = Economy::new(ts.store.clone());
    let shop = Shop::new(ts.store.clone(), economy.clone());
    Fixture { ts, economy, shop }
}

pub(super) fn admin() -> OpMeta {
    OpMeta {
        actor: Actor::Dashboard("admin".into()),
        source: Source::Dashboard,
        idempotency_key: None,
    }
}

pub(super) fn buyer(user: UserId) -> OpMeta {
    OpMeta::user(user, Source::DiscordCommand)
}

/// Everything a refused operation must leave as it was.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Snapshot {
    balance: i64,
    item: Option<Item>,
    held: u64,
    ledger: usize,
    bought: u64,
}

impl Fixture {
    pub fn create(&self, name: &str, price: i64, stock: i64) -> Item {
        let mut input = ItemInput::new(name, price);
        input.stock = stock;
        self.shop.create_item(G, input, &admin()).expect("create")
    }

    pub fn create_with(&self, name: &str, price: i64, f: impl FnOnce(&mut ItemInput)) -> Item {
        let mut input = ItemInput::new(name, price);
        f(&mut input);
        self.shop.create_item(G, input, &admin()).expect("create")
    }

    pub fn fund(&self, user: UserId, amount: i64) {
        self.economy
            .adjust(G, user, Adjustment::Add(Money::new(amount)), "", &admin())
            .expect("fund");
    }

    pub fn buy(&self, user: UserId, item: u64, qty: u32) -> crate::Result<super::PurchaseOutcome> {
        self.shop.purchase(G, user, item, qty, &buyer(user))
    }

    pub fn balance(&self, user: UserId) -> i64 {
        self.ts
            .store
            .read(G, |r| r.account(user))
            .expect("read")
            .map_or(0, |a| a.balance.get())
    }

    pub fn item(&self, id: u64) -> Item {
        self.shop.get_item(G, id).expect("item")
    }

    pub fn stock(&self, id: u64) -> Stock {
        self.item(id).stock
    }

    pub fn held(&self, user: UserId, item: u64) -> u64 {
        self.ts
            .store
            .read(G, |r| r.inventory_quantity(user, item))
            .expect("read")
    }

    pub fn ledger(&self) -> Vec<crate::domain::Transaction> {
        let mut out = Vec::new();
        self.ts
            .store
            .read(G, |r| {
                r.scan_ledger(false, |tx| -> crate::Result<bool> {
                    out.push(tx);
                    Ok(true)
                })
            })
            .expect("ledger");
        out
    }

    pub fn snapshot(&self, user: UserId, item: u64) -> Snapshot {
        let (stored, bought) = self
            .ts
            .store
            .read(G, |r| {
                Ok::<_, crate::Error>((r.shop_item(item)?, r.purchase_count(user, item)?))
            })
            .expect("read");
        Snapshot {
            balance: self.balance(user),
            item: stored,
            held: self.held(user, item),
            ledger: self.ledger().len(),
            bought,
        }
    }

    pub fn config(&self, f: impl Fn(&mut GuildConfig) + Sync) {
        self.ts
            .store
            .write(G, |w| {
                let mut c = w.guild_config()?;
                f(&mut c);
                w.put_guild_config(&c)?;
                Ok::<_, crate::Error>(())
            })
            .expect("config");
    }

    pub fn audit(&self) -> Vec<AuditEntry> {
        let mut out = Vec::new();
        self.ts
            .store
            .read(G, |r| {
                r.scan_audit(|e| -> crate::Result<bool> {
                    out.push(e);
                    Ok(true)
                })
            })
            .expect("audit");
        out
    }

    pub fn sync(&self, id: u64) -> Option<SyncRecord> {
        self.ts
            .store
            .read(G, |r| {
                r.sync_record(crate::store::outbox::SyncKind::ShopItem, id)
            })
            .expect("sync")
    }

    pub fn grants(&self) -> Vec<RoleGrant> {
        self.ts
            .store
            .read(G, |r| r.role_grants(false))
            .expect("grants")
    }

    /// The bus position now; pass to `events_since`.
    pub fn mark(&self) -> u64 {
        self.ts.store.bus().next_seq()
    }

    pub fn events_since(&self, mark: u64) -> Vec<Event> {
        match self
            .ts
            .store
            .bus()
            .resume(mark.saturating_sub(1), EventFilter::default())
            .0
        {
            Replay::Events(e) => e,
            Replay::TooOld => panic!("replay buffer too small"),
        }
    }

    pub fn kinds_since(&self, mark: u64) -> Vec<EventKind> {
        self.events_since(mark)
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

/// The refusal's user-facing text.
pub(super) fn refusal<T: std::fmt::Debug>(r: crate::Result<T>) -> String {
    r.expect_err("expected a refusal").user_message()
}
