//! Gateway events that keep Coffer's picture of each server current: name, owner, channels,
//! roles and members (guild create/update/delete, channel, role and member events), and the
//! members seen in interactions. Failures are logged; an event never answers anyone.

use poise::serenity_prelude as serenity;

use super::error::chain;
use super::{guild_id, user_id, BotData};
use crate::domain::{ChannelId, GuildId, RoleId, UserId};
use crate::guild::{ChannelInfo, ChannelKind, RoleInfo};
use crate::guild::{GuildProfile, MemberProfile};
use crate::services::blocking;

/// A stored member is refreshed at most this often unless their name or avatar changed.
const MEMBER_REFRESH: chrono::Duration = chrono::Duration::hours(24);

/// Our record of a Discord channel.
pub fn channel_info(c: &serenity::GuildChannel) -> ChannelInfo {
    use serenity::ChannelType as T;
    let kind = match c.kind {
        T::Text => ChannelKind::Text,
        T::News => ChannelKind::News,
        T::Forum => ChannelKind::Forum,
        T::Voice | T::Stage => ChannelKind::Voice,
        T::Category => ChannelKind::Category,
        _ => ChannelKind::Other,
    };
    ChannelInfo {
        id: ChannelId(c.id.get()),
        name: c.name.clone(),
        kind,
        position: i64::from(c.position),
        parent: c.parent_id.map(|p| ChannelId(p.get())),
    }
}

/// Our record of a Discord role.
pub fn role_info(r: &serenity::Role) -> RoleInfo {
    RoleInfo {
        id: RoleId(r.id.get()),
        name: r.name.clone(),
        position: i64::from(r.position),
        color: r.colour.0,
        managed: r.managed,
    }
}

/// Our record of a member: username, server nickname (or global name), avatar.
pub fn member_profile(m: &serenity::Member) -> MemberProfile {
    MemberProfile {
        user: user_id(m.user.id),
        name: m.user.name.clone(),
        display_name: m.nick.clone().or_else(|| m.user.global_name.clone()),
        avatar_url: m.avatar_url().or_else(|| m.user.avatar_url()),
    }
}

/// The server facts of a full guild.
pub fn guild_profile(g: &serenity::Guild) -> GuildProfile {
    GuildProfile {
        name: g.name.clone(),
        icon_url: g.icon_url(),
        owner_id: Some(user_id(g.owner_id)),
        member_count: g.member_count,
    }
}

/// Runs `f` with the services off the async workers; logs instead of failing.
async fn service_work<F>(data: &BotData, what: &'static str, guild: GuildId, f: F)
where
    F: FnOnce(crate::services::Services) -> Result<(), crate::Error> + Send + 'static,
{
    let Ok(services) = data.services() else {
        return;
    };
    match blocking(move || f(services)).await {
        Ok(()) => tracing::debug!(%guild, what, "Discord event stored"),
        Err(e) => {
            tracing::warn!(%guild, what, error = %chain(&e), "could not store a Discord event")
        }
    }
}

/// Handles the guild-tracking events; everything else is ignored.
pub async fn handle(ctx: &serenity::Context, event: &serenity::FullEvent, data: &BotData) {
    use serenity::FullEvent as E;
    match event {
        E::GuildCreate { guild, .. } => {
            let bot = ctx.cache.current_user().id;
            guild_create(data, guild, bot_top_role(guild, bot)).await
        }
        E::GuildUpdate { new_data, .. } => {
            let g = guild_id(new_data.id);
            // A partial guild has no member count: keep the cache's (or the stored) one.
            let cached = ctx.cache.guild(new_data.id).map(|c| c.member_count);
            let profile = GuildProfile {
                name: new_data.name.clone(),
                icon_url: new_data.icon_url(),
                owner_id: Some(user_id(new_data.owner_id)),
                member_count: cached.unwrap_or(0),
            };
            let roles: Vec<RoleInfo> = new_data.roles.values().map(role_info).collect();
            service_work(data, "guild update", g, move |s| {
                let mut profile = profile;
                if cached.is_none() {
                    profile.member_count = s.guilds.info(g)?.map_or(0, |i| i.member_count);
                }
                s.guilds.upsert_info(g, profile)?;
                s.guilds.replace_roles(g, &roles)
            })
            .await;
        }
        E::GuildDelete { incomplete, .. } => {
            let g = guild_id(incomplete.id);
            if incomplete.unavailable {
                tracing::warn!(guild = %g, "guild unavailable (Discord outage); data kept as is");
                return;
            }
            service_work(data, "guild delete", g, move |s| {
                s.guilds.mark_left(g)?;
                tracing::info!(guild = %g, "removed from the guild; marked as left, data kept");
                Ok(())
            })
            .await;
        }
        E::ChannelCreate { channel }
        | E::ChannelUpdate { new: channel, .. }
        | E::CategoryCreate { category: channel } => {
            let (g, info) = (guild_id(channel.guild_id), channel_info(channel));
            service_work(data, "channel upsert", g, move |s| {
                s.guilds.upsert_channel(g, &info)?;
                // Its permissions may now let Coffer post where it was refused.
                retry_failed(&s, g)
            })
            .await;
        }
        E::ChannelDelete { channel, .. } | E::CategoryDelete { category: channel } => {
            let (g, id) = (guild_id(channel.guild_id), ChannelId(channel.id.get()));
            service_work(data, "channel delete", g, move |s| {
                s.guilds.remove_channel(g, id).map(drop)
            })
            .await;
        }
        E::GuildRoleCreate { new } | E::GuildRoleUpdate { new, .. } => {
            let (g, info) = (guild_id(new.guild_id), role_info(new));
            service_work(data, "role upsert", g, move |s| {
                s.guilds.upsert_role(g, &info)
            })
            .await;
            bot_standing_changed(ctx, data, new.guild_id).await;
        }
        E::GuildRoleDelete {
            guild_id: gid,
            removed_role_id,
            ..
        } => {
            let (g, id) = (guild_id(*gid), RoleId(removed_role_id.get()));
            service_work(data, "role delete", g, move |s| {
                s.guilds.remove_role(g, id).map(drop)
            })
            .await;
            bot_standing_changed(ctx, data, *gid).await;
        }
        E::GuildMemberAddition { new_member } => {
            let (g, p) = (guild_id(new_member.guild_id), member_profile(new_member));
            service_work(data, "member add", g, move |s| {
                let user = p.user;
                s.guilds.upsert_members(g, &[p])?;
                set_active(&s, g, user, true)
            })
            .await;
        }
        E::GuildMemberRemoval {
            guild_id: gid,
            user,
            ..
        } => {
            let (g, u) = (guild_id(*gid), user_id(user.id));
            service_work(data, "member remove", g, move |s| {
                set_active(&s, g, u, false)
            })
            .await;
        }
        E::GuildMemberUpdate {
            new: Some(member), ..
        } => {
            let (g, p) = (guild_id(member.guild_id), member_profile(member));
            service_work(data, "member update", g, move |s| {
                s.guilds.upsert_members(g, &[p])
            })
            .await;
            if member.user.id == ctx.cache.current_user().id {
                bot_standing_changed(ctx, data, member.guild_id).await;
            }
        }
        E::GuildMembersChunk { chunk } => {
            let g = guild_id(chunk.guild_id);
            let members: Vec<MemberProfile> = chunk.members.values().map(member_profile).collect();
            service_work(data, "member chunk", g, move |s| {
                s.guilds.upsert_members(g, &members)
            })
            .await;
        }
        _ => {}
    }
}

/// Moves an existing account on or off the leaderboard; members without an account are left
/// alone (no account is created for someone who never used Coffer).
fn set_active(
    s: &crate::services::Services,
    guild: GuildId,
    user: UserId,
    active: bool,
) -> Result<(), crate::Error> {
    match s.economy.find_account(guild, user)? {
        Some(a) if a.active != active => {
            s.economy
                .set_active(guild, user, active, &crate::domain::OpMeta::system())?;
            tracing::info!(%guild, %user, active, "member account activity changed");
        }
        Some(_) => tracing::debug!(%guild, %user, active, "member account already so"),
        None => tracing::debug!(%guild, %user, "member without an account"),
    }
    Ok(())
}

/// Failed messages of the guild get one more try after a change on Discord that may have
/// fixed the refusal.
fn retry_failed(s: &crate::services::Services, guild: GuildId) -> Result<(), crate::Error> {
    let n = s.guilds.retry_failed_after_discord_change(guild)?;
    if n > 0 {
        tracing::info!(%guild, retried = n, "Discord changed; retrying failed messages");
    }
    Ok(())
}

/// Coffer's roles or their order changed: its highest role is stored again (role rewards are
/// checked against it) and failed messages get one more try.
async fn bot_standing_changed(ctx: &serenity::Context, data: &BotData, guild: serenity::GuildId) {
    let bot = ctx.cache.current_user().id;
    let top = ctx
        .cache
        .guild(guild)
        .and_then(|cached| bot_top_role(&cached, bot));
    let g = guild_id(guild);
    service_work(data, "bot roles changed", g, move |s| {
        if top.is_some() {
            s.guilds.set_bot_top_role(g, top)?;
        }
        retry_failed(&s, g)
    })
    .await;
}

/// The position of the bot's highest role in `guild`, when its member entry is there.
pub fn bot_top_role(guild: &serenity::Guild, bot: serenity::UserId) -> Option<i64> {
    let me = guild.members.get(&bot)?;
    me.roles
        .iter()
        .filter_map(|r| guild.roles.get(r))
        .map(|r| i64::from(r.position))
        .max()
        .or(Some(0))
}

async fn guild_create(data: &BotData, guild: &serenity::Guild, bot_top: Option<i64>) {
    let g = guild_id(guild.id);
    let profile = guild_profile(guild);
    let channels: Vec<ChannelInfo> = guild.channels.values().map(channel_info).collect();
    let roles: Vec<RoleInfo> = guild.roles.values().map(role_info).collect();
    let members: Vec<MemberProfile> = guild.members.values().map(member_profile).collect();
    service_work(data, "guild create", g, move |s| {
        s.guilds.upsert_info(g, profile)?;
        s.guilds.mark_joined(g)?;
        s.guilds.replace_channels(g, &channels)?;
        s.guilds.replace_roles(g, &roles)?;
        if bot_top.is_some() {
            s.guilds.set_bot_top_role(g, bot_top)?;
        }
        if !members.is_empty() {
            s.guilds.upsert_members(g, &members)?;
        }
        retry_failed(&s, g)?;
        tracing::info!(guild = %g, channels = channels.len(), roles = roles.len(), "guild stored");
        Ok(())
    })
    .await;
    super::custom::sync_guild(data, g).await;
}

/// Stores the member an interaction carries, unless already stored unchanged within a day (so
/// the common case is one read, no write).
pub async fn remember_member(
    data: &BotData,
    guild: Option<serenity::GuildId>,
    member: Option<&serenity::Member>,
) {
    let (Some(g), Some(m)) = (guild, member) else {
        return;
    };
    let (g, p) = (guild_id(g), member_profile(m));
    service_work(data, "interaction member", g, move |s| {
        if let Some(known) = s.guilds.member(g, p.user)? {
            let fresh = s.now() - known.seen_at < MEMBER_REFRESH;
            let same = known.name == p.name
                && known.display_name == p.display_name
                && known.avatar_url == p.avatar_url;
            if fresh && same {
                return Ok(());
            }
        }
        s.guilds.upsert_members(g, &[p])
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channels_keep_their_kind_position_and_category() {
        let c: serenity::GuildChannel = serde_json::from_value(json!({
            "id": "10", "type": 5, "guild_id": "1", "name": "news", "position": 3,
            "permission_overwrites": [], "nsfw": false, "parent_id": "9"
        }))
        .unwrap();
        assert_eq!(
            channel_info(&c),
            ChannelInfo {
                id: ChannelId(10),
                name: "news".into(),
                kind: ChannelKind::News,
                position: 3,
                parent: Some(ChannelId(9)),
            }
        );
        let v: serenity::GuildChannel = serde_json::from_value(json!({
            "id": "11", "type": 2, "guild_id": "1", "name": "voice", "position": 0,
            "permission_overwrites": [], "nsfw": false, "parent_id": null
        }))
        .unwrap();
        assert_eq!(channel_info(&v).kind, ChannelKind::Voice);
    }

    #[test]
    fn roles_keep_position_colour_and_managed() {
        let r: serenity::Role = serde_json::from_value(json!({
            "id": "20", "guild_id": "1", "name": "VIP", "color": 255, "hoist": false,
            "colors": { "primary_color": 255, "secondary_color": null, "tertiary_color": null },
            "position": 4, "permissions": "0", "managed": true, "mentionable": false
        }))
        .unwrap();
        assert_eq!(
            role_info(&r),
            RoleInfo {
                id: RoleId(20),
                name: "VIP".into(),
                position: 4,
                color: 255,
                managed: true,
            }
        );
    }

    #[test]
    fn a_members_nickname_wins_over_the_global_name() {
        let mut m: serenity::Member = serde_json::from_value(json!({
            "guild_id": "1",
            "user": {"id": "5", "username": "al", "discriminator": "0", "global_name": "Alice",
                     "avatar": "0123456789abcdef0123456789abcdef"},
            "roles": [], "joined_at": "2024-01-01T00:00:00Z", "deaf": false, "mute": false,
            "flags": 0, "nick": "Ally"
        }))
        .unwrap();
        let p = member_profile(&m);
        assert_eq!(p.user, UserId(5));
        assert_eq!(p.name, "al");
        assert_eq!(p.display_name.as_deref(), Some("Ally"));
        assert!(p
            .avatar_url
            .unwrap()
            .contains("/avatars/5/0123456789abcdef0123456789abcdef"));
        m.nick = None;
        assert_eq!(member_profile(&m).display_name.as_deref(), Some("Alice"));
    }
}
