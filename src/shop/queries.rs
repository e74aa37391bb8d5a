//! Reading the shop: filtered listings, one item, categories, and name lookups for command
//! autocomplete. Read-only snapshots.

use serde::{Deserialize, Serialize};

use super::{item_or_not_found, Shop};
use crate::domain::shop::Item;
use crate::domain::GuildId;
use crate::error::Error;

/// Which items a listing shows. The `Default` (all false) lists every active-or-not, visible,
/// in-stock item; use `shop()` for what members see and `all()` for admins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemFilter {
    /// Only this category (case-insensitive).
    pub category: Option<String>,
    pub active_only: bool,
    pub include_out_of_stock: bool,
    pub include_hidden: bool,
}

impl ItemFilter {
    /// What members see in the shop: active, visible items, sold-out ones included (shown as such).
    pub fn shop() -> ItemFilter {
        ItemFilter {
            category: None,
            active_only: true,
            include_out_of_stock: true,
            include_hidden: false,
        }
    }

    /// Everything (admin views).
    pub fn all() -> ItemFilter {
        ItemFilter {
            category: None,
            active_only: false,
            include_out_of_stock: true,
            include_hidden: true,
        }
    }

    pub fn in_category(mut self, category: impl Into<String>) -> ItemFilter {
        self.category = Some(category.into());
        self
    }

    pub fn matches(&self, item: &Item) -> bool {
        self.category
            .as_deref()
            .is_none_or(|c| c.trim().to_lowercase() == item.category.to_lowercase())
            && (!self.active_only || item.active)
            && (self.include_out_of_stock || !item.stock.is_out())
            && (self.include_hidden || item.visible)
    }
}

/// Most results a name lookup returns (Discord shows 25 autocomplete choices).
pub const MAX_SEARCH: usize = 25;

impl Shop {
    /// Items matching `filter`, in id (creation) order.
    pub fn list_items(&self, guild: GuildId, filter: &ItemFilter) -> Result<Vec<Item>, Error> {
        let items = self.store.read(guild, |r| r.shop_items())?;
        Ok(items.into_iter().filter(|i| filter.matches(i)).collect())
    }

    /// One item, or "Item 4 not found.".
    pub fn get_item(&self, guild: GuildId, id: u64) -> Result<Item, Error> {
        self.store.read(guild, |r| item_or_not_found(r, id))
    }

    /// Distinct categories of the items matching `filter`, sorted case-insensitively.
    pub fn categories(&self, guild: GuildId, filter: &ItemFilter) -> Result<Vec<String>, Error> {
        let mut cats: Vec<String> = self
            .list_items(guild, filter)?
            .into_iter()
            .map(|i| i.category)
            .collect();
        cats.sort_by_key(|c| c.to_lowercase());
        cats.dedup_by(|a, b| a.to_lowercase() == b.to_lowercase());
        Ok(cats)
    }

    /// Items members can buy whose name starts with (then contains) `prefix`, case-insensitive;
    /// for `/buy` autocomplete. `limit` is capped at 25.
    pub fn search_items(
        &self,
        guild: GuildId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Item>, Error> {
        self.search(guild, prefix, limit, Item::is_for_sale)
    }

    /// Like `search_items` over every item, hidden and inactive included (admin commands).
    pub fn search_all_items(
        &self,
        guild: GuildId,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<Item>, Error> {
        self.search(guild, prefix, limit, |_| true)
    }

    /// The item with exactly this name (case-insensitive, trimmed), if any.
    pub fn find_item_by_name(&self, guild: GuildId, name: &str) -> Result<Option<Item>, Error> {
        let wanted = name.trim().to_lowercase();
        let items = self.store.read(guild, |r| r.shop_items())?;
        Ok(items.into_iter().find(|i| i.name.to_lowercase() == wanted))
    }

    fn search(
        &self,
        guild: GuildId,
        prefix: &str,
        limit: usize,
        keep: impl Fn(&Item) -> bool,
    ) -> Result<Vec<Item>, Error> {
        let needle = prefix.trim().to_lowercase();
        let items = self.store.read(guild, |r| r.shop_items())?;
        let (mut starts, mut contains): (Vec<Item>, Vec<Item>) = (Vec::new(), Vec::new());
        for item in items.into_iter().filter(|i| keep(i)) {
            let name = item.name.to_lowercase();
            if name.starts_with(&needle) {
                starts.push(item);
            } else if name.contains(&needle) {
                contains.push(item);
            }
        }
        starts.sort_by_key(|i| i.name.to_lowercase());
        contains.sort_by_key(|i| i.name.to_lowercase());
        starts.extend(contains);
        starts.truncate(limit.min(MAX_SEARCH));
        Ok(starts)
    }
}
