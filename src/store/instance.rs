//! Instance-wide values (not per guild): the bot's presence, runtime settings, a pending
//! restart request. JSON under a string key in the `instance` table. Writes go through a
//! `WriteCtx` (so they commit with their audit entry and event); reads through the `Store`.

use redb::ReadableTable;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{decode, encode, tables, Store, StoreError, Tables, WriteCtx};

impl Store {
    /// The value stored under `key`, if any.
    pub fn instance_value<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open(tables::INSTANCE)?;
        let v = t.get(key)?;
        v.map(|v| decode("instance", v.value())).transpose()
    }
}

impl WriteCtx<'_> {
    /// Stores `value` under `key`, in this write transaction.
    pub fn put_instance_value<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::INSTANCE)?;
        t.insert(key, encode(value)?.as_slice())?;
        Ok(())
    }

    /// The value stored under `key`, as this transaction sees it.
    pub fn instance_value<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let t = self.tx.open(tables::INSTANCE)?;
        let v = t.get(key)?;
        v.map(|v| decode("instance", v.value())).transpose()
    }
}
