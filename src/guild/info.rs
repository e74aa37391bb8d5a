//! What Discord tells us about a server: name, icon, owner, member count, when Coffer joined or
//! left, and its channels, roles and members (for dashboard pickers and names). The Discord side
//! calls these on gateway events; they are not admin changes, so they are not audited.

use serde::{Deserialize, Serialize};

use super::Guilds;
use crate::domain::{ChannelId, GuildId, RoleId, UserId};
use crate::economy::Page;
use crate::error::Error;
use crate::events::EventKind;
use crate::store::directory::{ChannelInfo, ChannelKind, MemberInfo, RoleInfo};
use crate::store::guilds::GuildInfo;

/// The server facts Discord sends on guild create/update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildProfile {
    pub name: String,
    pub icon_url: Option<String>,
    pub owner_id: Option<UserId>,
    pub member_count: u64,
}

/// A member as Discord describes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberProfile {
    pub user: UserId,
    pub name: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
}

impl Guilds {
    pub fn info(&self, guild: GuildId) -> Result<Option<GuildInfo>, Error> {
        self.store.read(guild, |r| Ok(r.guild_info()?))
    }

    /// Stores name, icon, owner and member count, keeping the joined/left times.
    pub fn upsert_info(&self, guild: GuildId, p: GuildProfile) -> Result<GuildInfo, Error> {
        self.change_info(guild, |info, _| {
            info.name = p.name.clone();
            info.icon_url = p.icon_url.clone();
            info.owner_id = p.owner_id;
            info.member_count = p.member_count;
        })
    }

    /// Coffer was added to the server (or came back): joined now, not left.
    pub fn mark_joined(&self, guild: GuildId) -> Result<GuildInfo, Error> {
        self.change_info(guild, |info, now| {
            if info.joined_at.is_none() || info.left_at.is_some() {
                info.joined_at = Some(now);
            }
            info.left_at = None;
        })
    }

    /// Coffer was removed from the server. Its data is kept.
    pub fn mark_left(&self, guild: GuildId) -> Result<GuildInfo, Error> {
        self.change_info(guild, |info, now| info.left_at = Some(now))
    }

    /// Records the position of Coffer's highest role in the server (`None`: unknown).
    pub fn set_bot_top_role(
        &self,
        guild: GuildId,
        position: Option<i64>,
    ) -> Result<GuildInfo, Error> {
        self.change_info(guild, |info, _| info.bot_top_role = position)
    }

    fn change_info(
        &self,
        guild: GuildId,
        mut f: impl FnMut(&mut GuildInfo, chrono::DateTime<chrono::Utc>) + Send,
    ) -> Result<GuildInfo, Error> {
        self.store.write(guild, |w| {
            let mut info = w.guild_info()?.unwrap_or_default();
            f(&mut info, w.now);
            w.put_guild_info(&info)?;
            w.emit(EventKind::GuildUpdated, vec![]);
            Ok(info)
        })
    }

    /// The server's channels by position; `postable_only` keeps text and news channels (the
    /// ones a message can be posted in).
    pub fn channels(&self, guild: GuildId, postable_only: bool) -> Result<Vec<ChannelInfo>, Error> {
        let all = self.store.read(guild, |r| r.channels())?;
        Ok(all
            .into_iter()
            .filter(|c| !postable_only || matches!(c.kind, ChannelKind::Text | ChannelKind::News))
            .collect())
    }

    /// Replaces the whole channel list (guild create or a full refresh).
    pub fn replace_channels(&self, guild: GuildId, channels: &[ChannelInfo]) -> Result<(), Error> {
        self.store.write(guild, |w| {
            w.replace_channels(channels)?;
            w.emit(EventKind::GuildUpdated, vec![]);
            Ok(())
        })
    }

    pub fn upsert_channel(&self, guild: GuildId, channel: &ChannelInfo) -> Result<(), Error> {
        self.store.write(guild, |w| {
            w.put_channel(channel)?;
            w.emit(EventKind::GuildUpdated, vec![]);
            Ok(())
        })
    }

    pub fn remove_channel(&self, guild: GuildId, channel: ChannelId) -> Result<bool, Error> {
        self.store.write(guild, |w| {
            let existed = w.remove_channel(channel)?;
            w.emit(EventKind::GuildUpdated, vec![]);
            Ok(existed)
        })
    }

    /// The server's roles, highest first.
    pub fn roles(&self, guild: GuildId) -> Result<Vec<RoleInfo>, Error> {
        self.store.read(guild, |r| Ok(r.roles()?))
    }

    pub fn replace_roles(&self, guild: GuildId, roles: &[RoleInfo]) -> Result<(), Error> {
        self.store.write(guild, |w| {
            w.replace_roles(roles)?;
            w.emit(EventKind::GuildUpdated, vec![]);
            Ok(())
        })
    }

    pub fn upsert_role(&self, guild: GuildId, role: &RoleInfo) -> Result<(), Error> {
        self.store.write(guild, |w| {
            w.put_role(role)?;
            w.emit(EventKind::GuildUpdated, vec![]);
            Ok(())
        })
    }

    pub fn remove_role(&self, guild: GuildId, role: RoleId) -> Result<bool, Error> {
        self.store.write(guild, |w| {
            let existed = w.remove_role(role)?;
            w.emit(EventKind::GuildUpdated, vec![]);
            Ok(existed)
        })
    }

    /// Stores (or refreshes) members in one write, stamping `seen_at` with now. No event: this
    /// runs on every member chunk and message and nothing needs to react to it.
    pub fn upsert_members(&self, guild: GuildId, members: &[MemberProfile]) -> Result<(), Error> {
        self.store.write(guild, |w| {
            for m in members {
                w.put_member(&MemberInfo {
                    user: m.user,
                    name: m.name.clone(),
                    display_name: m.display_name.clone(),
                    avatar_url: m.avatar_url.clone(),
                    seen_at: w.now,
                })?;
            }
            Ok(())
        })
    }

    pub fn member(&self, guild: GuildId, user: UserId) -> Result<Option<MemberInfo>, Error> {
        self.store.read(guild, |r| Ok(r.member(user)?))
    }

    /// Members in user id order; `limit` 0 = all.
    pub fn members(
        &self,
        guild: GuildId,
        offset: u64,
        limit: u64,
    ) -> Result<Page<MemberInfo>, Error> {
        let (items, total) = self.store.read(guild, |r| r.members(offset, limit))?;
        Ok(Page {
            items,
            total,
            offset,
            limit,
        })
    }
}

/// Refuses a channel id typed into the dashboard or API (`meta.source`) for `field` when the
/// server's channels are known (the gateway fills and updates the list) and it is not among
/// them; with no list yet, anything is accepted. Discord's own channel options are not checked:
/// Discord only offers the server's channels there, some of which the list may not hold yet.
pub fn check_known_channel<T: crate::store::Tables>(
    view: &crate::store::View<'_, T>,
    meta: &crate::domain::OpMeta,
    field: &str,
    channel: crate::domain::ChannelId,
) -> Result<(), Error> {
    use crate::domain::Source;
    if !matches!(meta.source, Source::Dashboard | Source::Api) {
        return Ok(());
    }
    let known = view.channels()?;
    if !known.is_empty() && !known.iter().any(|c| c.id == channel) {
        return Err(crate::domain::DomainError::invalid(
            field,
            format!("channel {} is not a channel of this server", channel.0),
        )
        .into());
    }
    Ok(())
}
