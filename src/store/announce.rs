//! Announcements and embed templates, keyed (guild, id). Plain reads and writes; the announce
//! service decides, bumps the outbox and audits in the same transaction.

use redb::ReadableTable;

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::announce::Announcement;
use crate::domain::embed::EmbedTemplate;

impl<T: Tables> View<'_, T> {
    pub fn announcement(&self, id: u64) -> Result<Option<Announcement>, StoreError> {
        let t = self.tx.open(tables::ANNOUNCEMENTS)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| decode("announcements", v.value())).transpose()
    }

    /// Every announcement of the guild, oldest first.
    pub fn announcements(&self) -> Result<Vec<Announcement>, StoreError> {
        let t = self.tx.open(tables::ANNOUNCEMENTS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(decode("announcements", row?.1.value())?);
        }
        Ok(out)
    }

    pub fn embed_template(&self, id: u64) -> Result<Option<EmbedTemplate>, StoreError> {
        let t = self.tx.open(tables::EMBEDS)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| decode("embeds", v.value())).transpose()
    }

    /// Every embed template of the guild, oldest first.
    pub fn embed_templates(&self) -> Result<Vec<EmbedTemplate>, StoreError> {
        let t = self.tx.open(tables::EMBEDS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(decode("embeds", row?.1.value())?);
        }
        Ok(out)
    }
}

impl WriteCtx<'_> {
    pub fn put_announcement(&self, a: &Announcement) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::ANNOUNCEMENTS)?;
        t.insert((self.g(), a.id), encode(a)?.as_slice())?;
        Ok(())
    }

    pub fn remove_announcement(&self, id: u64) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::ANNOUNCEMENTS)?;
        t.remove((self.g(), id))?;
        Ok(())
    }

    pub fn put_embed_template(&self, e: &EmbedTemplate) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::EMBEDS)?;
        t.insert((self.g(), e.id), encode(e)?.as_slice())?;
        Ok(())
    }

    pub fn remove_embed_template(&self, id: u64) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::EMBEDS)?;
        t.remove((self.g(), id))?;
        Ok(())
    }
}
