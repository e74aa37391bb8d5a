//! Who may do what: guild owner > admins (a role in `GuildConfig.admin_roles`, or the Manage
//! Server permission) > moderators (`moderator_roles`) > everyone. Checks reply ephemerally and
//! return false; they run on every call, whatever Discord's `default_member_permissions` showed.

use poise::serenity_prelude as serenity;

use super::reply::{self, Reply};
use super::{BotError, Ctx};
use crate::domain::{GuildConfig, RoleId};
use crate::services::blocking;

/// Permission levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Everyone,
    Moderator,
    Admin,
    Owner,
}

/// What Discord told us about the caller, in our types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFacts {
    pub is_owner: bool,
    /// Manage Server or Administrator in the interaction's resolved permissions.
    pub manage_guild: bool,
    pub roles: Vec<RoleId>,
}

/// The caller's level under the guild's settings.
pub fn level(m: &MemberFacts, cfg: &GuildConfig) -> Level {
    if m.is_owner {
        Level::Owner
    } else if m.manage_guild || m.roles.iter().any(|r| cfg.admin_roles.contains(r)) {
        Level::Admin
    } else if m.roles.iter().any(|r| cfg.moderator_roles.contains(r)) {
        Level::Moderator
    } else {
        Level::Everyone
    }
}

/// Reads the caller's facts from the interaction (and the cached guild for its owner).
pub fn member_facts(ctx: Ctx<'_>) -> MemberFacts {
    let poise::Context::Application(a) = ctx else {
        return MemberFacts::default();
    };
    let Some(member) = a.interaction.member.as_deref() else {
        return MemberFacts::default();
    };
    let perms = member
        .permissions
        .unwrap_or_else(serenity::Permissions::empty);
    let owner = a
        .interaction
        .guild_id
        .and_then(|g| ctx.cache().guild(g).map(|g| g.owner_id));
    MemberFacts {
        is_owner: owner == Some(member.user.id),
        manage_guild: perms.manage_guild() || perms.administrator(),
        roles: member.roles.iter().map(|r| RoleId(r.get())).collect(),
    }
}

/// The facts of a member as a component or modal interaction carries them; `owner` from the
/// stored guild info (components have no cache context).
pub fn facts_from_member(member: &serenity::Member, owner: Option<u64>) -> MemberFacts {
    let perms = member
        .permissions
        .unwrap_or_else(serenity::Permissions::empty);
    MemberFacts {
        is_owner: owner == Some(member.user.id.get()),
        manage_guild: perms.manage_guild() || perms.administrator(),
        roles: member.roles.iter().map(|r| RoleId(r.get())).collect(),
    }
}

/// The caller's level in this guild (everyone outside a guild).
pub async fn caller_level(ctx: Ctx<'_>) -> Result<Level, BotError> {
    let Some(guild) = ctx.guild_id().map(super::guild_id) else {
        return Ok(Level::Everyone);
    };
    let mut facts = member_facts(ctx);
    let guilds = ctx.data().services()?.guilds;
    let (cfg, owner) = blocking(move || guilds.config_and_owner(guild)).await?;
    // The cache may not know the guild yet (just started); the stored info may.
    if !facts.is_owner {
        facts.is_owner = owner.is_some_and(|o| o.get() == ctx.author().id.get());
    }
    Ok(level(&facts, &cfg))
}

async fn require(ctx: Ctx<'_>, needed: Level, what: &str) -> Result<bool, BotError> {
    reply::mark_started(ctx).await;
    if caller_level(ctx).await? >= needed {
        return Ok(true);
    }
    // Checks also run before autocomplete, which cannot carry a message: just offer nothing.
    if let poise::Context::Application(a) = ctx {
        if a.interaction_type == poise::CommandInteractionType::Autocomplete {
            return Ok(false);
        }
    }
    reply::send(
        ctx,
        Reply::private(format!("Only {what} can use this command.")),
    )
    .await?;
    Ok(false)
}

/// Admins and the owner.
pub async fn admin(ctx: Ctx<'_>) -> Result<bool, BotError> {
    require(ctx, Level::Admin, "server admins").await
}

/// Moderators, admins and the owner.
pub async fn moderator(ctx: Ctx<'_>) -> Result<bool, BotError> {
    require(ctx, Level::Moderator, "moderators").await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> GuildConfig {
        GuildConfig {
            admin_roles: vec![RoleId(10)],
            moderator_roles: vec![RoleId(20)],
            ..GuildConfig::default()
        }
    }

    #[test]
    fn the_owner_outranks_everyone() {
        let m = MemberFacts {
            is_owner: true,
            ..Default::default()
        };
        assert_eq!(level(&m, &cfg()), Level::Owner);
    }

    #[test]
    fn an_admin_role_or_manage_server_makes_an_admin() {
        let by_role = MemberFacts {
            roles: vec![RoleId(20), RoleId(10)],
            ..Default::default()
        };
        assert_eq!(level(&by_role, &cfg()), Level::Admin);
        let by_perm = MemberFacts {
            manage_guild: true,
            ..Default::default()
        };
        assert_eq!(level(&by_perm, &cfg()), Level::Admin);
    }

    #[test]
    fn moderator_roles_make_moderators_and_others_are_everyone() {
        let m = MemberFacts {
            roles: vec![RoleId(20)],
            ..Default::default()
        };
        assert_eq!(level(&m, &cfg()), Level::Moderator);
        let nobody = MemberFacts {
            roles: vec![RoleId(99)],
            ..Default::default()
        };
        assert_eq!(level(&nobody, &cfg()), Level::Everyone);
        assert!(Level::Everyone < Level::Moderator && Level::Admin < Level::Owner);
    }
}
