//! `/admin command ...`: create and delete the server's custom commands. The admin level is
//! re-checked here; the change event makes the bot re-register the guild's command set.

use poise::serenity_prelude as serenity;

use super::admin_shop::ensure_admin;
use super::{guild, op_meta};
use crate::discord::reply::{respond_blocking, Reply};
use crate::discord::{BotError, Ctx};
use crate::services::blocking;

async fn custom_choices(ctx: Ctx<'_>, partial: &str) -> Vec<serenity::AutocompleteChoice> {
    let (Ok(guild), Ok(services)) = (guild(ctx), ctx.data().services()) else {
        return Vec::new();
    };
    let (needle, custom) = (partial.trim().to_lowercase(), services.custom);
    let found = blocking(move || {
        Ok(custom
            .list(guild)?
            .into_iter()
            .filter(|c| c.name.contains(&needle))
            .take(25)
            .map(|c| serenity::AutocompleteChoice::new(c.name.clone(), c.name))
            .collect())
    })
    .await;
    found.unwrap_or_else(|e: crate::Error| {
        tracing::warn!(error = %e, "custom command autocomplete failed");
        Vec::new()
    })
}

/// Manage this server's custom commands.
#[poise::command(
    slash_command,
    subcommands("command_create", "command_delete"),
    subcommand_required,
    rename = "command"
)]
pub async fn admin_command(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// Create a command that answers with your text; {user} {server} {balance} {currency} get filled in.
#[poise::command(slash_command, rename = "create")]
pub async fn command_create(
    ctx: Ctx<'_>,
    #[max_length = 32]
    #[description = "The command's name: lowercase letters, digits, - and _"]
    name: String,
    #[max_length = 2000]
    #[description = "What the bot answers"]
    response: String,
    #[description = "Replace a command with the same name"] overwrite: Option<bool>,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let cmd = s
            .custom
            .create(guild, &name, &response, overwrite.unwrap_or(false), &actor)?;
        Ok(Reply::private(format!(
            "Saved /{}. It will appear in this server's command list in a moment.",
            cmd.name
        )))
    })
    .await
}

/// Delete one of this server's custom commands.
#[poise::command(slash_command, rename = "delete")]
pub async fn command_delete(
    ctx: Ctx<'_>,
    #[description = "The command to delete"]
    #[autocomplete = "custom_choices"]
    #[max_length = 32]
    name: String,
) -> Result<(), BotError> {
    ensure_admin(ctx).await?;
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let cmd = s.custom.delete(guild, &name, &actor)?;
        Ok(Reply::private(format!("Deleted /{}.", cmd.name)))
    })
    .await
}
