//! Custom commands, keyed (guild, name). Names arrive already checked by the domain rules.

use redb::ReadableTable;

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::custom_command::CustomCommand;

impl<T: Tables> View<'_, T> {
    pub fn custom_command(&self, name: &str) -> Result<Option<CustomCommand>, StoreError> {
        let t = self.tx.open(tables::CUSTOM_COMMANDS)?;
        let v = t.get((self.g(), name))?;
        v.map(|v| decode("custom_commands", v.value())).transpose()
    }

    /// Every custom command of the guild, by name.
    pub fn custom_commands(&self) -> Result<Vec<CustomCommand>, StoreError> {
        let t = self.tx.open(tables::CUSTOM_COMMANDS)?;
        let mut out = Vec::new();
        // Names are ASCII, so every key of this guild sorts between "" and "\u{10FFFF}".
        for row in t.range((self.g(), "")..=(self.g(), "\u{10FFFF}"))? {
            out.push(decode("custom_commands", row?.1.value())?);
        }
        Ok(out)
    }
}

impl WriteCtx<'_> {
    pub fn put_custom_command(&self, c: &CustomCommand) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::CUSTOM_COMMANDS)?;
        t.insert((self.g(), c.name.as_str()), encode(c)?.as_slice())?;
        Ok(())
    }

    /// Removes a command; false if there was none.
    pub fn remove_custom_command(&self, name: &str) -> Result<bool, StoreError> {
        let mut t = self.tx.open_table(tables::CUSTOM_COMMANDS)?;
        let existed = t.remove((self.g(), name))?.is_some();
        Ok(existed)
    }
}
