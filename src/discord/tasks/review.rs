//! The Discord side of task reviews: who may review. The review message itself is posted,
//! edited and deleted by the sync worker (`SyncKind::Review`), whichever door acted.

use super::super::checks::{self, Level};
use super::super::{BotData, BotError};
use crate::domain::{DomainError, GuildId};
use crate::services::blocking;
use poise::serenity_prelude as serenity;

/// The level of the member in an interaction, under the guild's current settings.
pub async fn member_level(
    data: &BotData,
    guild: GuildId,
    member: Option<&serenity::Member>,
) -> Result<Level, BotError> {
    let Some(member) = member else {
        return Ok(Level::Everyone);
    };
    let guilds = data.services()?.guilds;
    let (cfg, owner) = blocking(move || guilds.config_and_owner(guild)).await?;
    let owner = owner.map(|o| o.get());
    Ok(checks::level(
        &checks::facts_from_member(member, owner),
        &cfg,
    ))
}

/// Refuses unless the member is a moderator, an admin or the owner.
pub async fn require_reviewer(
    data: &BotData,
    guild: GuildId,
    member: Option<&serenity::Member>,
) -> Result<(), BotError> {
    if member_level(data, guild, member).await? >= Level::Moderator {
        return Ok(());
    }
    Err(DomainError::Refused("Only moderators can review task submissions.".into()).into())
}

/// The refusal when no task channel is configured.
pub fn no_task_channel() -> DomainError {
    DomainError::Refused(
        "This server has no task channel yet, so nobody could review your proof. \
         An admin must set one with `/admin config channel tasks #channel`."
            .into(),
    )
}
