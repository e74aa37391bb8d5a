//! The one place a failure becomes a reply: the user gets a short ephemeral message
//! (`BotError::user_message` or a fixed sentence for framework errors), the log gets the cause
//! chain, and the command log gets the outcome. Also the poise options that route here.

use std::sync::Arc;

use poise::serenity_prelude as serenity;

use super::error::chain;
use super::reply::{self, Reply};
use super::{log, BotData, BotError, Command, Ctx};

type FrameworkError<'a> = poise::FrameworkError<'a, Arc<BotData>, BotError>;

/// Slash commands only; every error through [`handle`]; timing starts in the global check;
/// success is logged after the command replied.
pub fn framework_options(
    commands: Vec<Command>,
) -> poise::FrameworkOptions<Arc<BotData>, BotError> {
    poise::FrameworkOptions {
        commands,
        on_error: |e| Box::pin(handle(e)),
        command_check: Some(|ctx| {
            Box::pin(async move {
                reply::mark_started(ctx).await;
                Ok(true)
            })
        }),
        post_command: |ctx| Box::pin(log::record(ctx, crate::guild::OUTCOME_OK)),
        event_handler: |ctx, event, _framework, data| {
            Box::pin(async move {
                match event {
                    serenity::FullEvent::InteractionCreate {
                        interaction: serenity::Interaction::Component(c),
                    } => {
                        super::components::handle(data, &super::components::routes(), c).await;
                        super::guild_events::remember_member(data, c.guild_id, c.member.as_ref())
                            .await;
                    }
                    serenity::FullEvent::InteractionCreate {
                        interaction: serenity::Interaction::Command(c),
                    } => {
                        super::guild_events::remember_member(data, c.guild_id, c.member.as_deref())
                            .await;
                    }
                    _ => super::guild_events::handle(ctx, event, data).await,
                }
                if let serenity::FullEvent::InteractionCreate {
                    interaction: serenity::Interaction::Modal(m),
                } = event
                {
                    super::tasks::handle_modal(data, m).await;
                }
                Ok(())
            })
        },
        // Owners are not used, and asking Discord for them is one more start-up call.
        initialize_owners: false,
        allowed_mentions: Some(serenity::CreateAllowedMentions::new()),
        ..Default::default()
    }
}

/// Answers `text` privately, then records `outcome`. A failed answer is only logged.
async fn answer(ctx: Ctx<'_>, text: String, outcome: &str) {
    if let Err(e) = reply::send(ctx, Reply::private(text)).await {
        tracing::warn!(command = %ctx.command().qualified_name, error = %chain(&e), "could not send the error reply");
    }
    log::record(ctx, outcome).await;
}

/// Maps every framework error to a reply and a log line. Never panics.
pub async fn handle(err: FrameworkError<'_>) {
    match err {
        FrameworkError::Command { error, ctx, .. } => {
            let name = &ctx.command().qualified_name;
            if error.is_refusal() {
                tracing::debug!(command = %name, reason = %error, "command refused");
            } else {
                tracing::error!(command = %name, error = %chain(&error), "command failed");
            }
            answer(ctx, error.user_message(), error.kind()).await;
        }
        FrameworkError::CommandCheckFailed { error, ctx, .. } => match error {
            // The check already answered.
            None => log::record(ctx, "denied").await,
            Some(error) => {
                tracing::error!(command = %ctx.command().qualified_name, error = %chain(&error), "permission check failed");
                answer(ctx, error.user_message(), error.kind()).await;
            }
        },
        FrameworkError::ArgumentParse {
            error, input, ctx, ..
        } => {
            tracing::debug!(command = %ctx.command().qualified_name, ?input, %error, "bad command input");
            answer(
                ctx,
                "I couldn't read one of the options. Please check them and try again.".into(),
                "invalid_input",
            )
            .await;
        }
        FrameworkError::GuildOnly { ctx, .. } => {
            answer(
                ctx,
                "This command works only in a server.".into(),
                "guild_only",
            )
            .await;
        }
        FrameworkError::SubcommandRequired { ctx } => {
            answer(ctx, "Please choose a subcommand.".into(), "invalid_input").await;
        }
        FrameworkError::CommandStructureMismatch {
            description, ctx, ..
        } => {
            tracing::warn!(command = %ctx.command.qualified_name, description, "Discord's copy of the command is outdated");
            answer(
                poise::Context::Application(ctx),
                "This command was just updated. Please try again in a minute.".into(),
                "outdated_command",
            )
            .await;
        }
        FrameworkError::CommandPanic { payload, ctx, .. } => {
            tracing::error!(command = %ctx.command().qualified_name, payload = ?payload, "command panicked");
            answer(
                ctx,
                "Something went wrong on our side; nothing was changed. Please try again.".into(),
                "panic",
            )
            .await;
        }
        FrameworkError::UnknownInteraction {
            interaction,
            framework,
            ctx,
            ..
        } => {
            // Not one of ours: a guild's custom command, or a command that no longer exists.
            super::custom::answer(ctx, framework.user_data, interaction).await;
        }
        FrameworkError::Setup { error, .. } => {
            tracing::error!(error = %chain(&error), "Discord setup failed");
        }
        FrameworkError::EventHandler { error, .. } => {
            tracing::error!(error = %chain(&error), "Discord event handler failed");
        }
        other => match other.ctx() {
            Some(ctx) => {
                tracing::warn!(command = %ctx.command().qualified_name, error = %other, "command not run");
                answer(ctx, "You can't use this command here.".into(), "denied").await;
            }
            None => tracing::warn!(error = %other, "Discord framework error"),
        },
    }
}
