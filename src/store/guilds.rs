//! Guild info (what Discord tells us about a server) and per-guild config.

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::{GuildConfig, UserId};

/// What Discord said about a server, kept for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuildInfo {
    pub name: String,
    pub icon_url: Option<String>,
    pub owner_id: Option<UserId>,
    pub member_count: u64,
    pub joined_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    /// The position of Coffer's highest role here (it can grant only roles below it), when
    /// Discord has told us.
    #[serde(default)]
    pub bot_top_role: Option<i64>,
}

impl<T: Tables> View<'_, T> {
    /// The guild's settings: what an admin stored, else the instance defaults.
    pub fn guild_config(&self) -> Result<GuildConfig, StoreError> {
        let t = self.tx.open(tables::CONFIG)?;
        let v = t.get(self.g())?;
        match v {
            Some(v) => decode("config", v.value()),
            None => Ok(self.defaults.clone()),
        }
    }

    pub fn guild_info(&self) -> Result<Option<GuildInfo>, StoreError> {
        let t = self.tx.open(tables::GUILDS)?;
        let v = t.get(self.g())?;
        v.map(|v| decode("guilds", v.value())).transpose()
    }
}

impl WriteCtx<'_> {
    /// Stores a config the caller has validated.
    pub fn put_guild_config(&self, c: &GuildConfig) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::CONFIG)?;
        t.insert(self.g(), encode(c)?.as_slice())?;
        Ok(())
    }

    pub fn put_guild_info(&self, info: &GuildInfo) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::GUILDS)?;
        t.insert(self.g(), encode(info)?.as_slice())?;
        Ok(())
    }
}
