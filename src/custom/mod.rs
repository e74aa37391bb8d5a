//! Custom commands as a service: per-guild canned responses an admin defines. Create (refusing a
//! taken name unless `overwrite`), delete, list, and render for a member. Each change is one
//! store write with an audit entry and a `CustomCommandChanged` event. No Discord types.

use std::sync::{Arc, RwLock};

use crate::domain::custom_command::{
    parse_command_name, render, validate_response, CustomCommand, RenderContext,
};
use crate::domain::money::group_thousands;
use crate::domain::OpMeta;
use crate::domain::{DomainError, GuildId, UserId};
use crate::error::Error;
use crate::events::EventKind;
use crate::store::audit::snapshot;
use crate::store::Store;

pub use crate::domain::custom_command::BUILT_IN_COMMANDS;

/// Most slash commands one guild may hold (Discord refuses a bulk PUT of more with 30032).
pub const MAX_COMMANDS: usize = 100;

#[derive(Clone)]
pub struct CustomCommands {
    store: Store,
    /// The guild whose command set also carries the bot's built-in commands (`discord.dev_guild`)
    /// and how many they are: that guild has fewer slots for custom commands.
    reserved: Arc<RwLock<Option<(GuildId, usize)>>>,
}

impl CustomCommands {
    pub fn new(store: Store) -> CustomCommands {
        CustomCommands {
            store,
            reserved: Arc::default(),
        }
    }

    /// Keeps `builtins` of `guild`'s 100 command slots for the built-in commands registered
    /// there (the dev guild), so creation refuses before Discord would refuse the whole set.
    pub fn reserve_for_builtins(&self, guild: GuildId, builtins: usize) {
        *self.reserved.write().unwrap_or_else(|p| p.into_inner()) = Some((guild, builtins));
    }

    /// How many custom commands `guild` may hold.
    pub fn limit(&self, guild: GuildId) -> usize {
        match *self.reserved.read().unwrap_or_else(|p| p.into_inner()) {
            Some((g, builtins)) if g == guild => MAX_COMMANDS.saturating_sub(builtins),
            _ => MAX_COMMANDS,
        }
    }

    /// Creates `name` -> `response`. A taken name is refused unless `overwrite`, which replaces
    /// the response (keeping who created it and when).
    pub fn create(
        &self,
        guild: GuildId,
        name: &str,
        response: &str,
        overwrite: bool,
        meta: &OpMeta,
    ) -> Result<CustomCommand, Error> {
        let actor = &meta.actor;
        let name = parse_command_name(name)?;
        validate_response(response)?;
        let limit = self.limit(guild);
        self.store.write_once(guild, meta.key(), "command.create", |w| {
            let before = w.custom_command(&name)?;
            let cmd = match &before {
                Some(_) if !overwrite => {
                    return Err(DomainError::Conflict(format!(
                        "A custom command named `{name}` already exists; choose overwrite to replace it."
                    ))
                    .into())
                }
                Some(old) => CustomCommand {
                    response: response.to_owned(),
                    updated_at: w.now,
                    ..old.clone()
                },
                None => {
                    if w.custom_commands()?.len() >= limit {
                        return Err(DomainError::LimitExceeded(limit_message(limit)).into());
                    }
                    CustomCommand {
                        name: name.clone(),
                        response: response.to_owned(),
                        created_by: actor.clone(),
                        created_at: w.now,
                        updated_at: w.now,
                    }
                }
            };
            w.put_custom_command(&cmd)?;
            let action = if before.is_some() {
                "custom_command.update"
            } else {
                "custom_command.create"
            };
            w.audit(
                actor,
                action,
                format!("command:{name}"),
                before.as_ref().and_then(snapshot),
                snapshot(&cmd),
            )?;
            w.emit(EventKind::CustomCommandChanged, vec![name.clone()]);
            Ok(cmd)
        })
    }

    pub fn delete(
        &self,
        guild: GuildId,
        name: &str,
        meta: &OpMeta,
    ) -> Result<CustomCommand, Error> {
        let actor = &meta.actor;
        let name = name.trim().to_lowercase();
        self.store
            .write_once(guild, meta.key(), "command.delete", |w| {
                let cmd = w
                    .custom_command(&name)?
                    .ok_or_else(|| DomainError::NotFound(format!("Custom command `{name}`")))?;
                w.remove_custom_command(&name)?;
                w.audit(
                    actor,
                    "custom_command.delete",
                    format!("command:{name}"),
                    snapshot(&cmd),
                    None,
                )?;
                w.emit(EventKind::CustomCommandChanged, vec![name.clone()]);
                Ok(cmd)
            })
    }

    pub fn get(&self, guild: GuildId, name: &str) -> Result<Option<CustomCommand>, Error> {
        let name = name.trim().to_lowercase();
        self.store.read(guild, |r| Ok(r.custom_command(&name)?))
    }

    /// Every custom command, by name.
    pub fn list(&self, guild: GuildId) -> Result<Vec<CustomCommand>, Error> {
        self.store.read(guild, |r| Ok(r.custom_commands()?))
    }

    /// The response of `name` for `user` (None: no such command), with `{balance}` and
    /// `{currency}` from the store. `user_text` and `server` are what `{user}`/`{server}` become.
    pub fn respond(
        &self,
        guild: GuildId,
        name: &str,
        user: UserId,
        user_text: &str,
        server: &str,
    ) -> Result<Option<String>, Error> {
        let name = name.trim().to_lowercase();
        self.store.read(guild, |r| {
            let Some(cmd) = r.custom_command(&name)? else {
                return Ok(None);
            };
            let cfg = r.guild_config()?;
            let balance = r.account(user)?.map(|a| a.balance.get()).unwrap_or(0);
            let ctx = RenderContext {
                user: user_text.to_owned(),
                server: server.to_owned(),
                balance: group_thousands(balance),
                currency: cfg.currency_name,
            };
            Ok(Some(render(&cmd.response, &ctx)))
        })
    }
}

/// The refusal when a guild's custom command slots are full.
fn limit_message(limit: usize) -> String {
    if limit < MAX_COMMANDS {
        format!(
            "This server can have at most {limit} custom commands (Discord allows {MAX_COMMANDS} \
             commands per server and {} are the bot's own); delete one first.",
            MAX_COMMANDS - limit
        )
    } else {
        format!("A server can have at most {limit} custom commands; delete one first.")
    }
}

#[cfg(test)]
mod tests;
