//! Buying an item: every check (feature toggles, item for sale, stock, per-member limit, funds)
//! runs before the first write, and the debit, stock, inventory, sales count, role grant and
//! outbox bump are one write transaction, so a refused purchase changes nothing.

use serde::{Deserialize, Serialize};

use super::{item_or_not_found, Shop};
use crate::domain::shop::{parse_quantity, Item, Stock};
use crate::domain::{DomainError, GuildConfig, GuildId, Money, TxKind, UserId};
use crate::economy::OpMeta;
use crate::error::Error;
use crate::events::EventKind;
use crate::store::accounts::NewEntry;
use crate::store::outbox::SyncKind;
use crate::store::WriteCtx;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOutcome {
    pub item_id: u64,
    pub item_name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub total: Money,
    /// The buyer's balance after paying.
    pub balance: Money,
    pub transaction_id: u64,
    /// The item's stock after the purchase.
    pub stock: Stock,
    /// How many of the item the buyer now holds.
    pub held: u64,
    /// The role grant recorded for the item's role reward, if it has one.
    pub role_grant: Option<u64>,
}

impl Shop {
    /// Buys `quantity` (1..=100) of an item. Rate limited like other member balance operations
    /// and idempotent under `meta.idempotency_key`.
    pub fn purchase(
        &self,
        guild: GuildId,
        user: UserId,
        item: u64,
        quantity: u32,
        meta: &OpMeta,
    ) -> Result<PurchaseOutcome, Error> {
        let quantity = parse_quantity(quantity)?;
        self.economy.limited(guild, user, meta, || {
            self.store
                .write_once(guild, meta.key(), "shop.purchase", |w| {
                    purchase_in(w, user, item, quantity, meta)
                })
        })
    }
}

fn require_shop(w: &WriteCtx<'_>) -> Result<GuildConfig, Error> {
    let cfg = w.guild_config()?;
    if !cfg.features.currency {
        return Err(
            DomainError::Refused("The currency is turned off on this server.".into()).into(),
        );
    }
    if !cfg.features.shop {
        return Err(DomainError::Refused("The shop is turned off on this server.".into()).into());
    }
    Ok(cfg)
}

/// Refuses an item the member may not buy `quantity` of right now.
fn check_available(
    w: &WriteCtx<'_>,
    user: UserId,
    item: &Item,
    quantity: u32,
) -> Result<(), Error> {
    if !item.is_for_sale() {
        return Err(
            DomainError::Refused(format!("{} is not for sale right now.", item.name)).into(),
        );
    }
    if let Stock::Limited(left) = item.stock {
        if left == 0 {
            return Err(DomainError::Refused(format!("{} is out of stock.", item.name)).into());
        }
        if left < u64::from(quantity) {
            return Err(DomainError::LimitExceeded(format!(
                "Only {left} of {} left; you asked for {quantity}.",
                item.name
            ))
            .into());
        }
    }
    if let Some(max) = item.max_per_user {
        let bought = w.purchase_count(user, item.id)?;
        let allowed = u64::from(max).saturating_sub(bought);
        if u64::from(quantity) > allowed {
            let msg = if allowed == 0 {
                format!(
                    "You already bought the most allowed per member ({max}) of {}.",
                    item.name
                )
            } else {
                format!(
                    "Each member can buy at most {max} of {}; you can buy {allowed} more.",
                    item.name
                )
            };
            return Err(DomainError::LimitExceeded(msg).into());
        }
    }
    Ok(())
}

fn purchase_in(
    w: &mut WriteCtx<'_>,
    user: UserId,
    item_id: u64,
    quantity: u32,
    meta: &OpMeta,
) -> Result<PurchaseOutcome, Error> {
    let cfg = require_shop(w)?;
    let mut item = item_or_not_found(w, item_id)?;
    check_available(w, user, &item, quantity)?;
    let total = item
        .price
        .get()
        .checked_mul(i64::from(quantity))
        .map(Money::new)
        .ok_or(DomainError::BalanceOverflow)?;
    let account = w.ensure_account(user)?;
    if account.balance < total {
        return Err(DomainError::InsufficientFunds {
            needed: total,
            available: account.balance,
            currency: cfg.currency_name.clone(),
        }
        .into());
    }
    let debit = total.checked_neg().ok_or(DomainError::BalanceOverflow)?;
    let tx = w.append_entry(
        NewEntry::new(
            user,
            debit,
            TxKind::ShopPurchase,
            format!("Bought {quantity}× {} (item {})", item.name, item.id),
        )
        .by(meta.actor.clone(), meta.source)
        .meta("item_id", item.id)
        .meta("item_name", item.name.clone())
        .meta("quantity", quantity)
        .meta("unit_price", item.price.get()),
    )?;
    let stock_changed = if let Stock::Limited(left) = item.stock {
        item.stock = Stock::Limited(left - u64::from(quantity));
        true
    } else {
        false
    };
    item.sales_count = item.sales_count.saturating_add(u64::from(quantity));
    item.updated_at = w.now;
    w.put_shop_item(&item)?;
    let held = w
        .inventory_quantity(user, item.id)?
        .checked_add(u64::from(quantity))
        .ok_or_else(|| DomainError::LimitExceeded("You can't hold any more of that.".into()))?;
    w.set_inventory_quantity(user, item.id, held)?;
    let bought = w.purchase_count(user, item.id)?;
    w.set_purchase_count(user, item.id, bought.saturating_add(u64::from(quantity)))?;
    let role_grant = match item.role_id {
        Some(role) => Some(
            w.record_role_grant(user, role, format!("item:{}", item.id))?
                .id,
        ),
        None => None,
    };
    if stock_changed {
        w.sync_touch(SyncKind::ShopItem, item.id, cfg.shop_channel_id)?;
        w.emit(EventKind::StockChanged, vec![item.id.to_string()]);
    }
    w.emit(
        EventKind::ItemBought,
        vec![user.to_string(), item.id.to_string(), tx.id.to_string()],
    );
    w.emit(
        EventKind::InventoryChanged,
        vec![user.to_string(), item.id.to_string()],
    );
    Ok(PurchaseOutcome {
        item_id: item.id,
        item_name: item.name,
        quantity,
        unit_price: item.price,
        total,
        balance: tx.balance_after,
        transaction_id: tx.id,
        stock: item.stock,
        held,
        role_grant,
    })
}
