//! What Discord tells us about a server's channels, roles and members, kept so the dashboard can
//! offer pickers and show names without asking Discord. Plain upserts; no rules here.

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::{ChannelId, RoleId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    #[default]
    Text,
    /// Announcement (news) channel.
    News,
    Forum,
    Voice,
    Category,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelInfo {
    pub id: ChannelId,
    pub name: String,
    pub kind: ChannelKind,
    pub position: i64,
    /// The category it sits in, if any.
    #[serde(default)]
    pub parent: Option<ChannelId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleInfo {
    pub id: RoleId,
    pub name: String,
    /// Higher is more powerful; a bot can only grant roles below its own.
    pub position: i64,
    #[serde(default)]
    pub color: u32,
    /// Owned by an integration (bots, boosts): nobody can grant it.
    #[serde(default)]
    pub managed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberInfo {
    pub user: UserId,
    /// The account's username.
    pub name: String,
    /// The server nickname or global display name, when set.
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// When Coffer last heard about this member.
    pub seen_at: DateTime<Utc>,
}

impl<T: Tables> View<'_, T> {
    /// The guild's channels, by position then id.
    pub fn channels(&self) -> Result<Vec<ChannelInfo>, StoreError> {
        let t = self.tx.open(tables::GUILD_CHANNELS)?;
        let mut out: Vec<ChannelInfo> = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(decode("guild_channels", row?.1.value())?);
        }
        out.sort_by_key(|c| (c.position, c.id));
        Ok(out)
    }

    /// The guild's roles, highest first.
    pub fn roles(&self) -> Result<Vec<RoleInfo>, StoreError> {
        let t = self.tx.open(tables::GUILD_ROLES)?;
        let mut out: Vec<RoleInfo> = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            out.push(decode("guild_roles", row?.1.value())?);
        }
        out.sort_by(|a, b| b.position.cmp(&a.position).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    pub fn member(&self, user: UserId) -> Result<Option<MemberInfo>, StoreError> {
        let t = self.tx.open(tables::MEMBERS)?;
        let v = t.get((self.g(), user.0))?;
        v.map(|v| decode("members", v.value())).transpose()
    }

    /// Members in user id order: the `limit` (0 = all) after `offset`, and how many there are.
    pub fn members(&self, offset: u64, limit: u64) -> Result<(Vec<MemberInfo>, u64), StoreError> {
        let t = self.tx.open(tables::MEMBERS)?;
        let limit = if limit == 0 { u64::MAX } else { limit };
        let mut out = Vec::new();
        let mut total = 0u64;
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            let (_, v) = row?;
            if total >= offset && (out.len() as u64) < limit {
                out.push(decode("members", v.value())?);
            }
            total += 1;
        }
        Ok((out, total))
    }
}

impl WriteCtx<'_> {
    /// Replaces the whole channel list (on guild create / a full refresh).
    pub fn replace_channels(&self, channels: &[ChannelInfo]) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::GUILD_CHANNELS)?;
        t.retain_in((self.g(), 0)..=(self.g(), u64::MAX), |_, _| false)?;
        for c in channels {
            t.insert((self.g(), c.id.0), encode(c)?.as_slice())?;
        }
        Ok(())
    }

    pub fn put_channel(&self, c: &ChannelInfo) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::GUILD_CHANNELS)?;
        t.insert((self.g(), c.id.0), encode(c)?.as_slice())?;
        Ok(())
    }

    pub fn remove_channel(&self, id: ChannelId) -> Result<bool, StoreError> {
        let mut t = self.tx.open_table(tables::GUILD_CHANNELS)?;
        let existed = t.remove((self.g(), id.0))?.is_some();
        Ok(existed)
    }

    /// Replaces the whole role list.
    pub fn replace_roles(&self, roles: &[RoleInfo]) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::GUILD_ROLES)?;
        t.retain_in((self.g(), 0)..=(self.g(), u64::MAX), |_, _| false)?;
        for r in roles {
            t.insert((self.g(), r.id.0), encode(r)?.as_slice())?;
        }
        Ok(())
    }

    pub fn put_role(&self, r: &RoleInfo) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::GUILD_ROLES)?;
        t.insert((self.g(), r.id.0), encode(r)?.as_slice())?;
        Ok(())
    }

    pub fn remove_role(&self, id: RoleId) -> Result<bool, StoreError> {
        let mut t = self.tx.open_table(tables::GUILD_ROLES)?;
        let existed = t.remove((self.g(), id.0))?.is_some();
        Ok(existed)
    }

    pub fn put_member(&self, m: &MemberInfo) -> Result<(), StoreError> {
        let mut t = self.tx.open_table(tables::MEMBERS)?;
        t.insert((self.g(), m.user.0), encode(m)?.as_slice())?;
        Ok(())
    }
}
