//! Members' inventories: listing with item names, admin add / remove (audited; stock and sales
//! untouched, since no sale happened), and `use_item`, which consumes one unit.

use serde::{Deserialize, Serialize};

use super::{item_or_not_found, Shop};
use crate::domain::shop::MAX_STOCK;
use crate::domain::{DomainError, GuildId, UserId};
use crate::economy::OpMeta;
use crate::error::Error;
use crate::events::EventKind;

/// One line of a member's inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryEntry {
    pub item_id: u64,
    pub name: String,
    pub emoji: Option<String>,
    pub category: String,
    pub quantity: u64,
    /// Whether `/use` has something to say for this item.
    pub usable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseOutcome {
    pub item_id: u64,
    pub name: String,
    /// Units left after this use.
    pub remaining: u64,
    /// The item's configured `use_message`, if any.
    pub use_message: Option<String>,
}

fn check_admin_quantity(quantity: u64) -> Result<(), Error> {
    if quantity == 0 || quantity > MAX_STOCK {
        return Err(
            DomainError::invalid("quantity", format!("must be between 1 and {MAX_STOCK}")).into(),
        );
    }
    Ok(())
}

impl Shop {
    /// What a member holds, in item id order, with the items' names.
    pub fn inventory(&self, guild: GuildId, user: UserId) -> Result<Vec<InventoryEntry>, Error> {
        self.store.read(guild, |r| {
            let mut out = Vec::new();
            for (id, quantity) in r.user_inventory(user)? {
                // Deleting an item removes its inventory rows, so a missing item means a race
                // with nothing to show.
                let Some(item) = r.shop_item(id)? else {
                    continue;
                };
                out.push(InventoryEntry {
                    item_id: id,
                    name: item.name,
                    emoji: item.emoji,
                    category: item.category,
                    quantity,
                    usable: item.use_message.is_some(),
                });
            }
            Ok(out)
        })
    }

    /// Gives a member units of an item (admin). Returns how many they now hold.
    pub fn add_to_inventory(
        &self,
        guild: GuildId,
        user: UserId,
        item: u64,
        quantity: u64,
        meta: &OpMeta,
    ) -> Result<u64, Error> {
        check_admin_quantity(quantity)?;
        let key = meta.key();
        self.store
            .write_once(guild, key, "shop.inventory.add", |w| {
                let item = item_or_not_found(w, item)?;
                let before = w.inventory_quantity(user, item.id)?;
                let after = before
                    .checked_add(quantity)
                    .filter(|q| *q <= MAX_STOCK)
                    // A quantity fine in itself that the member's holding can't take: a
                    // conflict with the current state (409), not bad input.
                    .ok_or_else(|| {
                        DomainError::Conflict(
                            format!("A member can hold at most {MAX_STOCK} of one item (this one holds {before})."),
                        )
                    })?;
                w.set_inventory_quantity(user, item.id, after)?;
                audit_inventory(w, meta, "shop.inventory.add", user, item.id, before, after)?;
                Ok(after)
            })
    }

    /// Takes units of an item away from a member (admin); refuses more than they hold.
    pub fn remove_from_inventory(
        &self,
        guild: GuildId,
        user: UserId,
        item: u64,
        quantity: u64,
        meta: &OpMeta,
    ) -> Result<u64, Error> {
        check_admin_quantity(quantity)?;
        let key = meta.key();
        self.store
            .write_once(guild, key, "shop.inventory.remove", |w| {
                let item = item_or_not_found(w, item)?;
                let before = w.inventory_quantity(user, item.id)?;
                let after = before.checked_sub(quantity).ok_or_else(|| {
                    DomainError::RemoveExceedsHolding {
                        user,
                        item_id: item.id,
                        item: item.name.clone(),
                        held: before,
                    }
                })?;
                w.set_inventory_quantity(user, item.id, after)?;
                audit_inventory(
                    w,
                    meta,
                    "shop.inventory.remove",
                    user,
                    item.id,
                    before,
                    after,
                )?;
                Ok(after)
            })
    }

    /// Consumes one unit of an item the member holds and returns its `use_message`.
    pub fn use_item(
        &self,
        guild: GuildId,
        user: UserId,
        item: u64,
        meta: &OpMeta,
    ) -> Result<UseOutcome, Error> {
        let key = meta.key();
        self.store.write_once(guild, key, "shop.use", |w| {
            let item = item_or_not_found(w, item)?;
            let held = w.inventory_quantity(user, item.id)?;
            let Some(remaining) = held.checked_sub(1) else {
                return Err(
                    DomainError::Refused(format!("You don't have any {}.", item.name)).into(),
                );
            };
            w.set_inventory_quantity(user, item.id, remaining)?;
            w.emit(
                EventKind::InventoryChanged,
                vec![user.to_string(), item.id.to_string()],
            );
            Ok(UseOutcome {
                item_id: item.id,
                name: item.name,
                remaining,
                use_message: item.use_message,
            })
        })
    }
}

fn audit_inventory(
    w: &mut crate::store::WriteCtx<'_>,
    meta: &OpMeta,
    action: &str,
    user: UserId,
    item: u64,
    before: u64,
    after: u64,
) -> Result<(), Error> {
    w.audit(
        &meta.actor,
        action,
        format!("user:{user}"),
        Some(serde_json::json!({ "item": item, "quantity": before })),
        Some(serde_json::json!({ "item": item, "quantity": after })),
    )?;
    w.emit(
        EventKind::InventoryChanged,
        vec![user.to_string(), item.to_string()],
    );
    Ok(())
}
