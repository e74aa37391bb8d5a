//! The Discord side of task reviews: who may review, posting a submission to the task channel,
//! and the after-commit work (the member's DM, the role reward). After-commit failures are
//! logged and recorded, never undo the committed review.

use super::super::checks::{self, Level};
use super::super::error::chain;
use super::super::outbound::{is_closed_dm, PostedMessage};
use super::super::render::{tasks::review_message, ChannelMessage};
use super::super::{BotData, BotError, RestError};
use crate::domain::tasks::{Claim, Task};
use crate::domain::{DomainError, GuildConfig, GuildId, UserId};
use crate::guild::RoleGrant;
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

/// Posts the submission with Accept / Reject buttons to the guild's task channel.
pub async fn post_review(
    data: &BotData,
    cfg: &GuildConfig,
    task: &Task,
    claim: &Claim,
) -> Result<PostedMessage, BotError> {
    let channel = cfg.task_channel_id.ok_or_else(no_task_channel)?;
    let body: ChannelMessage = review_message(cfg, task, claim);
    Ok(data
        .rest
        .create_message(channel.get(), &body.create())
        .await?)
}

/// The refusal when no task channel is configured.
pub fn no_task_channel() -> DomainError {
    DomainError::Refused(
        "This server has no task channel yet, so nobody could review your proof. \
         An admin must set one with `/admin config channel tasks #channel`."
            .into(),
    )
}

/// Sends `text` to the member privately. Best effort: a closed DM is routine and only logged.
pub async fn notify(data: &BotData, user: UserId, text: String) -> bool {
    let body = serenity::CreateMessage::new()
        .content(text)
        .allowed_mentions(serenity::CreateAllowedMentions::new());
    match data.rest.direct_message(user.get(), &body).await {
        Ok(_) => true,
        Err(e) if is_closed_dm(&e) => {
            tracing::info!(%user, error = %e, "member does not accept DMs; review notice not sent");
            false
        }
        Err(e) => {
            tracing::warn!(%user, error = %chain(&e), "could not DM the member");
            false
        }
    }
}

/// Gives the role of a recorded grant and records the outcome (granted, or failed with
/// Discord's reason). Never fails the caller.
pub async fn grant_role(data: &BotData, guild: GuildId, grant: &RoleGrant) -> bool {
    let res = data
        .rest
        .add_member_role(guild.get(), grant.user.get(), grant.role.get())
        .await;
    let outcome = res.as_ref().map(|_| ()).map_err(describe);
    if let Err(e) = &res {
        tracing::warn!(%guild, user = %grant.user, role = %grant.role, error = %chain(e), "role reward not given");
    }
    let granted = outcome.is_ok();
    let Ok(services) = data.services() else {
        tracing::warn!(
            grant = grant.id,
            "shutting down; role grant outcome not recorded"
        );
        return granted;
    };
    let (guilds, id) = (services.guilds, grant.id);
    if let Err(e) = blocking(move || guilds.finish_role_grant(guild, id, outcome)).await {
        tracing::error!(grant = id, error = %chain(&e), "could not record the role grant outcome");
    }
    granted
}

/// A short reason for the dashboard: Discord's message and code, or the kind of failure.
fn describe(e: &RestError) -> String {
    match e {
        RestError::Status {
            status,
            code,
            message,
            ..
        } => format!("Discord answered {status}: {message} (code {code})"),
        other => other.to_string(),
    }
}
