//! Shop tables: items (`shop_items`), what members hold (`inventory`) and how many of each item
//! a member ever bought (`shop_purchases`, for exact per-user limits). Plain reads and writes;
//! the rules live in `shop/`.

use redb::ReadableTable;

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::shop::Item;
use crate::domain::UserId;

impl<T: Tables> View<'_, T> {
    pub fn shop_item(&self, id: u64) -> Result<Option<Item>, StoreError> {
        let t = self.tx.open(tables::SHOP_ITEMS)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| decode("shop_items", v.value())).transpose()
    }

    /// Every item of the guild, in id (creation) order.
    pub fn shop_items(&self) -> Result<Vec<Item>, StoreError> {
        let t = self.tx.open(tables::SHOP_ITEMS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(decode("shop_items", row?.1.value())?);
        }
        Ok(out)
    }

    /// How many of `item` the user holds (0 when none).
    pub fn inventory_quantity(&self, user: UserId, item: u64) -> Result<u64, StoreError> {
        let t = self.tx.open(tables::INVENTORY)?;
        let v = t.get((self.g(), user.0, item))?.map(|v| v.value());
        Ok(v.unwrap_or(0))
    }

    /// The user's holdings as (item id, quantity), in item id order.
    pub fn user_inventory(&self, user: UserId) -> Result<Vec<(u64, u64)>, StoreError> {
        let t = self.tx.open(tables::INVENTORY)?;
        let (g, u) = (self.g(), user.0);
        let mut out = Vec::new();
        for row in t.range((g, u, 0)..=(g, u, u64::MAX))? {
            let (k, v) = row?;
            out.push((k.value().2, v.value()));
        }
        Ok(out)
    }

    /// Every holder of `item` as (user, quantity). Scans the guild's inventory.
    pub fn item_holders(&self, item: u64) -> Result<Vec<(UserId, u64)>, StoreError> {
        let t = self.tx.open(tables::INVENTORY)?;
        let g = self.g();
        let mut out = Vec::new();
        for row in t.range((g, 0, 0)..=(g, u64::MAX, u64::MAX))? {
            let (k, v) = row?;
            let (_, user, it) = k.value();
            if it == item {
                out.push((UserId(user), v.value()));
            }
        }
        Ok(out)
    }

    /// Units of `item` the user ever bought.
    pub fn purchase_count(&self, user: UserId, item: u64) -> Result<u64, StoreError> {
        let t = self.tx.open(tables::SHOP_PURCHASES)?;
        let v = t.get((self.g(), user.0, item))?.map(|v| v.value());
        Ok(v.unwrap_or(0))
    }
}

impl WriteCtx<'_> {
    pub fn put_shop_item(&self, item: &Item) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::SHOP_ITEMS)?;
        t.insert((self.g(), item.id), encode(item)?.as_slice())?;
        Ok(())
    }

    /// Removes the item with its inventory rows and purchase counters (ledger entries keep
    /// their own copy of the item's id and name).
    pub fn remove_shop_item(&self, id: u64) -> Result<(), StoreError> {
        let holders = self.item_holders(id)?;
        let mut inv = self.tx.open_table(tables::INVENTORY)?;
        for (user, _) in holders {
            inv.remove((self.g(), user.0, id))?;
        }
        let g = self.g();
        let mut bought = self.tx.open_table(tables::SHOP_PURCHASES)?;
        let mut keys = Vec::new();
        for row in bought.range((g, 0, 0)..=(g, u64::MAX, u64::MAX))? {
            let (k, _) = row?;
            if k.value().2 == id {
                keys.push(k.value());
            }
        }
        for k in keys {
            bought.remove(k)?;
        }
        let mut items = self.tx.open_table(tables::SHOP_ITEMS)?;
        items.remove((g, id))?;
        Ok(())
    }

    /// Sets how many of `item` the user holds; 0 removes the row.
    pub fn set_inventory_quantity(
        &self,
        user: UserId,
        item: u64,
        quantity: u64,
    ) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::INVENTORY)?;
        if quantity == 0 {
            t.remove((self.g(), user.0, item))?;
        } else {
            t.insert((self.g(), user.0, item), quantity)?;
        }
        Ok(())
    }

    pub fn set_purchase_count(&self, user: UserId, item: u64, n: u64) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::SHOP_PURCHASES)?;
        t.insert((self.g(), user.0, item), n)?;
        Ok(())
    }
}
