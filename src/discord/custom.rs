//! Custom commands in Discord: each guild's set is registered as guild-scoped slash commands
//! (on guild create and whenever the set changes), and an interaction for a name poise does not
//! know is answered from the guild's custom commands.

use std::sync::Arc;
use std::time::Instant;

use poise::serenity_prelude as serenity;

use super::error::chain;
use super::{guild_id, register, user_id, BotData};
use crate::domain::custom_command::CustomCommand;
use crate::domain::GuildId;
use crate::events::{EventFilter, EventKind, RecvError, Subscription};
use crate::guild::NewCommandLog;
use crate::services::blocking;

/// What Discord shows under a custom command's name.
pub const DESCRIPTION: &str = "A custom command of this server";

/// The slash command registered for one custom command (no options).
pub fn command_builder(c: &CustomCommand) -> serenity::CreateCommand {
    serenity::CreateCommand::new(c.name.clone()).description(DESCRIPTION)
}

/// Registers `guild`'s command set if it changed; failures are logged (the next change or guild
/// create tries again).
pub async fn sync_guild(data: &BotData, guild: GuildId) {
    let Ok(services) = data.services() else {
        return;
    };
    let _one_at_a_time = data.register_lock.lock().await;
    let builtins = (data.dev_guild == Some(guild)).then(super::commands::all);
    let res =
        register::register_guild_if_changed(&data.rest, &services, guild, builtins.as_deref())
            .await;
    if let Err(e) = res {
        tracing::warn!(%guild, error = %format!("{e:#}"), "could not register the guild's custom commands");
    }
}

/// Re-registers a guild's commands whenever its custom commands change. Events are hints: a
/// lagged subscription re-checks every guild the bot is in. Ends when the bot stops.
pub async fn listen(data: Arc<BotData>, cache: Arc<serenity::Cache>, mut sub: Subscription) {
    loop {
        match sub.recv().await {
            Ok(event) => sync_guild(&data, event.guild).await,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "custom command events lagged; re-checking every guild"
                );
                for g in cache.guilds() {
                    sync_guild(&data, guild_id(g)).await;
                }
            }
            Err(RecvError::Closed) => return,
        }
        if data.services().is_err() {
            return;
        }
    }
}

/// The subscription `listen` needs.
pub fn filter() -> EventFilter {
    EventFilter {
        guilds: Default::default(),
        kinds: [EventKind::CustomCommandChanged].into(),
    }
}

/// Answers a command interaction poise has no command for: the guild's custom command of that
/// name (public, placeholders filled in), or a private "not available" note. Never panics.
pub async fn answer(ctx: &serenity::Context, data: &BotData, i: &serenity::CommandInteraction) {
    // Custom commands have no options, so nothing of theirs is ever autocompleted.
    if i.data.autocomplete().is_some() {
        return;
    }
    let started = Instant::now();
    let name = i.data.name.clone();
    let user = user_id(i.user.id);
    let guild = i.guild_id.map(guild_id);
    let cached_name = i
        .guild_id
        .and_then(|g| ctx.cache.guild(g).map(|g| g.name.clone()));
    let text = match (guild, data.services()) {
        (Some(g), Ok(s)) => {
            let name = name.clone();
            blocking(move || {
                let server = match cached_name {
                    Some(n) => n,
                    None => s
                        .guilds
                        .info(g)?
                        .map(|i| i.name)
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| "this server".into()),
                };
                s.custom
                    .respond(g, &name, user, &format!("<@{user}>"), &server)
            })
            .await
        }
        _ => Ok(None),
    };
    let (reply, outcome) = match text {
        Ok(Some(t)) => (super::reply::Reply::public(t), "ok"),
        Ok(None) => {
            tracing::warn!(%name, "interaction for a command Coffer doesn't have");
            (
                super::reply::Reply::private("This command isn't available any more."),
                "unknown_command",
            )
        }
        Err(e) => {
            tracing::error!(%name, error = %chain(&e), "custom command failed");
            (
                super::reply::Reply::private(super::BotError::from(e).user_message()),
                "internal",
            )
        }
    };
    let body = serenity::CreateInteractionResponse::Message(reply.message());
    if let Err(e) = data
        .rest
        .interaction_callback(i.id.get(), &i.token, started, &body)
        .await
    {
        tracing::warn!(error = %chain(&e), "could not answer a custom command");
    }
    if let Some(g) = guild {
        let entry = NewCommandLog {
            command: name,
            kind: "custom_command".into(),
            user,
            duration_ms: started.elapsed().as_millis().min(u128::from(u64::MAX)) as u64,
            outcome: outcome.into(),
        };
        super::log::write(data, g, entry).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Actor;

    #[test]
    fn a_custom_command_registers_as_a_slash_command_without_options() {
        let now = chrono::Utc::now();
        let c = CustomCommand {
            name: "rules".into(),
            response: "Be nice, {user}.".into(),
            created_by: Actor::System,
            created_at: now,
            updated_at: now,
        };
        let v = serde_json::to_value(command_builder(&c)).unwrap();
        assert_eq!(v["name"], "rules");
        assert_eq!(v["description"], DESCRIPTION);
        assert!(v["options"].as_array().is_none_or(|o| o.is_empty()), "{v}");
    }
}
