//! `/admin ...`: one command with subcommand groups, shown by Discord only to members with Manage
//! Server (`default_member_permissions`) and re-checked on every call by `checks::admin`, since
//! server settings can show the command to anyone.

use poise::serenity_prelude as serenity;

use super::{guild, op_meta};
use crate::discord::reply::respond_blocking;
use crate::discord::{checks, render, user_id, BotError, Ctx};
use crate::domain::{Money, MAX_AMOUNT};
use crate::economy::Adjustment;

/// Server admin tools.
#[poise::command(
    slash_command,
    guild_only,
    subcommands(
        "money",
        "super::admin_tasks::task",
        "super::admin_announce::announce",
        "super::admin_announce::embed",
        "super::admin_config::config",
        "super::admin_shop::admin_shop",
        "super::admin_custom::admin_command",
        "super::admin_sync::admin_sync"
    ),
    subcommand_required,
    default_member_permissions = "MANAGE_GUILD",
    check = "checks::admin"
)]
pub async fn admin(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Change a member's balance.
#[poise::command(
    slash_command,
    subcommands("money_add", "money_remove", "money_set"),
    subcommand_required,
    rename = "money"
)]
pub async fn money(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Add money to a member's balance.
#[poise::command(slash_command, rename = "add")]
pub async fn money_add(
    ctx: Ctx<'_>,
    #[description = "Whose balance"] user: serenity::User,
    #[max_length = 32]
    #[description = "How much, e.g. 500 or 1.5k"]
    amount: String,
    #[max_length = 500]
    #[description = "Why (kept in the ledger)"]
    reason: Option<String>,
) -> Result<(), BotError> {
    let amount = Money::parse(&amount, MAX_AMOUNT)?;
    adjust(ctx, user, Adjustment::Add(amount), reason).await
}

/// Remove money from a member's balance.
#[poise::command(slash_command, rename = "remove")]
pub async fn money_remove(
    ctx: Ctx<'_>,
    #[description = "Whose balance"] user: serenity::User,
    #[max_length = 32]
    #[description = "How much, e.g. 500 or 1.5k"]
    amount: String,
    #[max_length = 500]
    #[description = "Why (kept in the ledger)"]
    reason: Option<String>,
) -> Result<(), BotError> {
    let amount = Money::parse(&amount, MAX_AMOUNT)?;
    adjust(ctx, user, Adjustment::Remove(amount), reason).await
}

/// Set a member's balance to an exact amount.
#[poise::command(slash_command, rename = "set")]
pub async fn money_set(
    ctx: Ctx<'_>,
    #[description = "Whose balance"] user: serenity::User,
    #[max_length = 32]
    #[description = "The new balance, e.g. 0 or 2k"]
    amount: String,
    #[max_length = 500]
    #[description = "Why (kept in the ledger)"]
    reason: Option<String>,
) -> Result<(), BotError> {
    let amount = if amount.trim() == "0" {
        Money::ZERO
    } else {
        Money::parse(&amount, MAX_AMOUNT)?
    };
    adjust(ctx, user, Adjustment::Set(amount), reason).await
}

async fn adjust(
    ctx: Ctx<'_>,
    user: serenity::User,
    adjustment: Adjustment,
    reason: Option<String>,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let target = user_id(user.id);
    let meta = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let out = s.economy.adjust(
            guild,
            target,
            adjustment,
            reason.as_deref().unwrap_or(""),
            &meta,
        )?;
        Ok(render::adjusted(&s.guilds.config(guild)?, target, &out))
    })
    .await
}
