//! The `task:` button route: Claim (any member), Accept and Reject (moderators and above,
//! re-checked here on every click). Each reads the guild from the interaction; the service
//! refuses unknown, closed or already-reviewed ids, so a stale or forged button changes nothing.

use poise::serenity_prelude as serenity;

use super::review::require_reviewer;
use super::{TaskAction, PREFIX};
use crate::discord::components::{ComponentCtx, ComponentReply, ComponentRoute};
use crate::discord::render::tasks::{claimed, review_outcome};
use crate::discord::BotError;
use crate::domain::tasks::ClaimStatus;
use crate::domain::tasks::ReviewOutcome;
use crate::domain::{DomainError, GuildId, UserId};
use crate::services::blocking;

/// The component route for every `task:` custom id. Slow answers are acknowledged silently so
/// Accept can still edit the review message.
pub fn route() -> ComponentRoute {
    ComponentRoute {
        prefix: PREFIX,
        handler,
        updates_message: true,
    }
}

fn handler(ctx: ComponentCtx<'_>) -> poise::BoxFuture<'_, Result<ComponentReply, BotError>> {
    Box::pin(handle(ctx))
}

async fn handle(ctx: ComponentCtx<'_>) -> Result<ComponentReply, BotError> {
    let guild = ctx
        .guild
        .ok_or_else(|| DomainError::Refused("Task buttons work only in a server.".into()))?;
    let action = TaskAction::parse_arg(ctx.arg).ok_or_else(|| {
        DomainError::Refused("This button is not valid any more; nothing was changed.".into())
    })?;
    match action {
        TaskAction::Claim { task } => claim(&ctx, guild, task).await,
        TaskAction::Accept { task, user } => accept(&ctx, guild, task, user).await,
        TaskAction::Reject { task, user } => reject_form(&ctx, guild, task, user).await,
        TaskAction::RejectReason { .. } => Err(DomainError::Refused(
            "This button is not valid any more; nothing was changed.".into(),
        )
        .into()),
    }
}

async fn claim(
    ctx: &ComponentCtx<'_>,
    guild: GuildId,
    task: u64,
) -> Result<ComponentReply, BotError> {
    let s = ctx.data.services()?;
    let (user, meta) = (ctx.user, ctx.op_meta());
    let reply = blocking(move || {
        let claim = s.tasks.claim(guild, task, user, &meta)?;
        let t = s.tasks.get(guild, task)?;
        Ok(claimed(&s.guilds.config(guild)?, &t, &claim))
    })
    .await?;
    Ok(ComponentReply::Message(reply))
}

async fn accept(
    ctx: &ComponentCtx<'_>,
    guild: GuildId,
    task: u64,
    member: UserId,
) -> Result<ComponentReply, BotError> {
    require_reviewer(ctx.data, guild, ctx.interaction.member.as_ref()).await?;
    let s = ctx.data.services()?;
    let meta = ctx.op_meta();
    let (out, cfg) = blocking(move || {
        let out = s.tasks.accept(guild, task, member, &meta)?;
        Ok((out, s.guilds.config(guild)?))
    })
    .await?;
    // Committed: the reward is paid. The role reward and the member's DM were recorded in the
    // same write; the sync worker carries them out for both doors alike.
    let verdict = ReviewOutcome::Accepted {
        by: crate::domain::Actor::User(ctx.user),
    };
    let body = review_outcome(&cfg, &out.task, &out.claim, &verdict);
    Ok(ComponentReply::UpdateWithComponents(
        body.reply(false),
        body.components,
    ))
}

/// Opens the reason form, after checking there is a submission to reject.
async fn reject_form(
    ctx: &ComponentCtx<'_>,
    guild: GuildId,
    task: u64,
    member: UserId,
) -> Result<ComponentReply, BotError> {
    require_reviewer(ctx.data, guild, ctx.interaction.member.as_ref()).await?;
    let tasks = ctx.data.services()?.tasks;
    let name = blocking(move || {
        let t = tasks.get(guild, task)?;
        let status = tasks
            .user_claims(guild, member)?
            .into_iter()
            .find(|c| c.task.id == task)
            .map(|c| c.claim.status);
        match status {
            Some(ClaimStatus::Submitted) => Ok(t.name),
            Some(s) => Err(DomainError::Conflict(format!(
                "There is no submission to review: this claim is {}.",
                s.as_str().replace('_', " ")
            ))
            .into()),
            None => Err(DomainError::ClaimNotFound {
                user: member,
                task_id: t.id,
                task: t.name,
            }
            .into()),
        }
    })
    .await?;
    let title: String = format!("Reject: {name}").chars().take(45).collect();
    let input = serenity::CreateInputText::new(
        serenity::InputTextStyle::Paragraph,
        "Reason (sent to the member)",
        "reason",
    )
    .min_length(1)
    .max_length(500)
    .required(true);
    let modal = serenity::CreateModal::new(
        TaskAction::RejectReason { task, user: member }.custom_id(),
        title,
    )
    .components(vec![serenity::CreateActionRow::InputText(input)]);
    Ok(ComponentReply::Modal(modal))
}
