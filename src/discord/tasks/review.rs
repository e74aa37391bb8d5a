//! The Discord side of task reviews: who may review, posting a submission to the task channel,
//! and the after-commit work (the member's DM, the role reward). After-commit failures are
//! logged and recorded, never undo the committed review.

use super::super::checks::{self, Level};
use super::super::outbound::PostedMessage;
use super::super::render::{tasks::review_message, ChannelMessage};
use super::super::{BotData, BotError};
use crate::domain::tasks::{Claim, Task};
use crate::domain::{DomainError, GuildConfig, GuildId};
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
    // The same submission always carries the same nonce, so a retried post whose answer was
    // lost shows one review message, not two (Discord dedupes with `enforce_nonce`).
    let create = body
        .create()
        .nonce(serenity::Nonce::String(review_nonce(task, claim)))
        .enforce_nonce(true);
    Ok(data.rest.create_message(channel.get(), &create).await?)
}

/// `r` + 24 hex digits naming the submission (task, member, submission time): at most 25
/// characters, as Discord requires.
pub fn review_nonce(task: &Task, claim: &Claim) -> String {
    let submitted = claim.submitted_at.map_or(0, |t| t.timestamp_millis());
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{}:{}:{}", task.id, claim.user, submitted).as_bytes(),
    );
    let hex: String = digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("r{hex}")
}

/// The refusal when no task channel is configured.
pub fn no_task_channel() -> DomainError {
    DomainError::Refused(
        "This server has no task channel yet, so nobody could review your proof. \
         An admin must set one with `/admin config channel tasks #channel`."
            .into(),
    )
}
