//! Admin changes to items: create, edit, delete, stock, and bulk show/hide/activate/deactivate.
//! Each is one write that also records the audit entry and bumps the Discord sync outbox.

use serde::{Deserialize, Serialize};

use super::{item_or_not_found, target, Shop};
use crate::domain::shop::{Item, ItemInput, ItemPatch, Stock, MAX_STOCK};
use crate::domain::{DomainError, GuildId};
use crate::economy::OpMeta;
use crate::error::Error;
use crate::events::EventKind;
use crate::guild::check_role_reward;
use crate::store::audit::snapshot;
use crate::store::outbox::SyncKind;
use crate::store::WriteCtx;

/// A stock change. `Add`/`Subtract` need a limited item; `Set` may also make it unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "amount", rename_all = "snake_case")]
pub enum StockOp {
    Set(Stock),
    Add(u64),
    Subtract(u64),
}

/// A toggle applied to many items at once (dashboard bulk actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Show,
    Hide,
    Activate,
    Deactivate,
}

impl BulkAction {
    fn apply(self, item: &mut Item) {
        match self {
            BulkAction::Show => item.visible = true,
            BulkAction::Hide => item.visible = false,
            BulkAction::Activate => item.active = true,
            BulkAction::Deactivate => item.active = false,
        }
    }

    fn audit_action(self) -> &'static str {
        match self {
            BulkAction::Show => "shop.item.show",
            BulkAction::Hide => "shop.item.hide",
            BulkAction::Activate => "shop.item.activate",
            BulkAction::Deactivate => "shop.item.deactivate",
        }
    }
}

/// Most items one bulk action may name.
pub const MAX_BULK: usize = 500;

/// Refuses a name another item already has (case-insensitive): buying by name must be unambiguous.
fn ensure_unique_name(w: &WriteCtx<'_>, name: &str, except: Option<u64>) -> Result<(), Error> {
    let lower = name.to_lowercase();
    if let Some(other) = w
        .shop_items()?
        .into_iter()
        .find(|i| Some(i.id) != except && i.name.to_lowercase() == lower)
    {
        return Err(DomainError::Conflict(format!(
            "An item named \"{}\" already exists (item {}).",
            other.name, other.id
        ))
        .into());
    }
    Ok(())
}

/// Bumps the item's Discord message: a visible item is (re)rendered in the shop channel; a
/// hidden one has its message removed (the item stays; showing it again posts a new message).
fn sync_item(w: &mut WriteCtx<'_>, item: &Item) -> Result<(), Error> {
    if item.visible {
        let channel = w.guild_config()?.shop_channel_id;
        w.sync_touch(SyncKind::ShopItem, item.id, channel)?;
    } else {
        w.sync_delete(SyncKind::ShopItem, item.id, true)?;
    }
    Ok(())
}

/// Stores a changed item with its audit entry, outbox bump and events.
fn save_change(
    w: &mut WriteCtx<'_>,
    meta: &OpMeta,
    action: &str,
    before: &Item,
    mut after: Item,
) -> Result<Item, Error> {
    after.updated_at = w.now;
    w.put_shop_item(&after)?;
    w.audit(
        &meta.actor,
        action,
        target(after.id),
        snapshot(before),
        snapshot(&after),
    )?;
    sync_item(w, &after)?;
    w.emit(EventKind::ItemUpdated, vec![after.id.to_string()]);
    if after.stock != before.stock {
        w.emit(EventKind::StockChanged, vec![after.id.to_string()]);
    }
    Ok(after)
}

impl Shop {
    /// Creates an item (names are unique per guild, case-insensitive).
    pub fn create_item(
        &self,
        guild: GuildId,
        input: ItemInput,
        meta: &OpMeta,
    ) -> Result<Item, Error> {
        let spec = input.validate()?;
        self.store
            .write_once(guild, meta.key(), "shop.item.create", |w| {
                ensure_unique_name(w, spec.name.as_str(), None)?;
                if let Some(role) = spec.role_id {
                    check_role_reward(w, role)?;
                }
                let id = w.next_id("shop_item")?;
                let item = Item::new(id, spec.clone(), w.now);
                w.put_shop_item(&item)?;
                w.audit(
                    &meta.actor,
                    "shop.item.create",
                    target(id),
                    None,
                    snapshot(&item),
                )?;
                sync_item(w, &item)?;
                w.emit(EventKind::ItemCreated, vec![id.to_string()]);
                Ok(item)
            })
    }

    /// Edits an item; absent patch fields stay. An edit that changes nothing writes nothing.
    pub fn edit_item(
        &self,
        guild: GuildId,
        id: u64,
        patch: ItemPatch,
        meta: &OpMeta,
    ) -> Result<Item, Error> {
        self.store
            .write_once(guild, meta.key(), "shop.item.edit", |w| {
                let before = item_or_not_found(w, id)?;
                let spec = patch.clone().apply_to(&before).validate()?;
                let mut after = before.clone();
                after.apply(spec);
                if after == before {
                    return Ok(before);
                }
                if after.name != before.name {
                    ensure_unique_name(w, &after.name, Some(id))?;
                }
                if let Some(role) = after.role_id.filter(|r| Some(*r) != before.role_id) {
                    check_role_reward(w, role)?;
                }
                save_change(w, meta, "shop.item.update", &before, after)
            })
    }

    /// Deletes an item, its inventory rows and purchase counters, and queues its Discord message
    /// for deletion. Past ledger entries keep the item's id and name in their own fields.
    pub fn delete_item(&self, guild: GuildId, id: u64, meta: &OpMeta) -> Result<Item, Error> {
        self.store
            .write_once(guild, meta.key(), "shop.item.delete", |w| {
                let item = item_or_not_found(w, id)?;
                let holders = w.item_holders(id)?;
                w.remove_shop_item(id)?;
                let mut before = serde_json::json!({ "item": item });
                if !holders.is_empty() {
                    before["inventory"] = holders
                        .iter()
                        .map(|(u, q)| serde_json::json!({ "user": u, "quantity": q }))
                        .collect();
                }
                w.audit(
                    &meta.actor,
                    "shop.item.delete",
                    target(id),
                    Some(before),
                    None,
                )?;
                w.sync_delete(SyncKind::ShopItem, id, true)?;
                w.emit(EventKind::ItemDeleted, vec![id.to_string()]);
                if !holders.is_empty() {
                    w.emit(EventKind::InventoryChanged, vec![id.to_string()]);
                }
                Ok(item)
            })
    }

    /// Sets, adds to or subtracts from an item's stock. Stock never goes below 0, and unlimited
    /// items refuse `Add`/`Subtract` (set a number first).
    pub fn update_stock(
        &self,
        guild: GuildId,
        id: u64,
        op: StockOp,
        meta: &OpMeta,
    ) -> Result<Item, Error> {
        if let StockOp::Add(0) | StockOp::Subtract(0) = op {
            return Err(DomainError::invalid("amount", "must be at least 1").into());
        }
        self.store
            .write_once(guild, meta.key(), "shop.item.stock", |w| {
                let before = item_or_not_found(w, id)?;
                let stock = next_stock(&before, op)?;
                if stock == before.stock {
                    return Ok(before);
                }
                let mut after = before.clone();
                after.stock = stock;
                save_change(w, meta, "shop.item.stock", &before, after)
            })
    }

    /// Applies one toggle to many items in one transaction. An unknown id refuses them all.
    pub fn bulk_update(
        &self,
        guild: GuildId,
        ids: &[u64],
        action: BulkAction,
        meta: &OpMeta,
    ) -> Result<Vec<Item>, Error> {
        if ids.is_empty() {
            return Err(DomainError::invalid("item_ids", "choose at least one item").into());
        }
        if ids.len() > MAX_BULK {
            return Err(
                DomainError::invalid("item_ids", format!("at most {MAX_BULK} at once")).into(),
            );
        }
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        self.store
            .write_once(guild, meta.key(), "shop.item.bulk", |w| {
                let mut items = Vec::with_capacity(ids.len());
                for &id in &ids {
                    items.push(item_or_not_found(w, id)?);
                }
                let mut out = Vec::with_capacity(items.len());
                for before in items {
                    let mut after = before.clone();
                    action.apply(&mut after);
                    if after == before {
                        out.push(before);
                        continue;
                    }
                    out.push(save_change(w, meta, action.audit_action(), &before, after)?);
                }
                Ok(out)
            })
    }
}

/// The stock after `op`, or the refusal an admin understands.
fn next_stock(item: &Item, op: StockOp) -> Result<Stock, Error> {
    let unlimited = || {
        DomainError::Refused(format!(
            "{} has unlimited stock; set a number first to add or subtract.",
            item.name
        ))
    };
    let stock = match (op, item.stock) {
        (StockOp::Set(s), _) => s,
        (StockOp::Add(_) | StockOp::Subtract(_), Stock::Unlimited) => {
            return Err(unlimited().into())
        }
        (StockOp::Add(n), Stock::Limited(cur)) => match cur.checked_add(n) {
            Some(v) if v <= MAX_STOCK => Stock::Limited(v),
            _ => {
                return Err(DomainError::invalid(
                    "amount",
                    format!(
                        "{} has {cur} in stock; stock can be at most {MAX_STOCK}",
                        item.name
                    ),
                )
                .into())
            }
        },
        (StockOp::Subtract(n), Stock::Limited(cur)) => match cur.checked_sub(n) {
            Some(v) => Stock::Limited(v),
            None => {
                return Err(DomainError::WouldGoNegative(format!(
                    "{} has only {cur} in stock; you can subtract at most that.",
                    item.name
                ))
                .into())
            }
        },
    };
    if let Stock::Limited(n) = stock {
        if n > MAX_STOCK {
            return Err(DomainError::invalid(
                "stock",
                format!("must be -1 (unlimited) or between 0 and {MAX_STOCK}"),
            )
            .into());
        }
    }
    Ok(stock)
}
