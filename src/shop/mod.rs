//! The shop as a service: items (create / edit / delete / stock / bulk toggles), purchases and
//! inventories. Each operation validates, then does one store write that also records the audit
//! entry and the Discord sync outbox bump. No Discord or HTTP types here.

mod admin;
mod inventory;
mod purchase;
mod queries;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use crate::domain::shop::Item;
use crate::domain::DomainError;
use crate::economy::Economy;
use crate::error::Error;
use crate::store::{Store, Tables, View};

pub use admin::{BulkAction, StockOp, MAX_BULK};
pub use inventory::{InventoryEntry, UseOutcome};
pub use purchase::PurchaseOutcome;
pub use queries::ItemFilter;

/// The shop service. Cheap to clone.
#[derive(Clone)]
pub struct Shop {
    store: Store,
    economy: Economy,
}

impl Shop {
    /// `economy` supplies the per-member rate limit shared with other balance operations.
    pub fn new(store: Store, economy: Economy) -> Shop {
        Shop { store, economy }
    }
}

/// The item, or a `NotFound` naming its id.
pub(crate) fn item_or_not_found<T: Tables>(r: &View<'_, T>, id: u64) -> Result<Item, Error> {
    r.shop_item(id)?
        .ok_or_else(|| DomainError::NotFound(format!("Item {id}")).into())
}

/// The audit target of an item.
fn target(id: u64) -> String {
    format!("item:{id}")
}
