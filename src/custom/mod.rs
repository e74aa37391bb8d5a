//! Custom commands as a service: per-guild canned responses an admin defines. Create (refusing a
//! taken name unless `overwrite`), delete, list, and render for a member. Each change is one
//! store write with an audit entry and a `CustomCommandChanged` event. No Discord types.

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

/// Most custom commands a guild may have (Discord allows 100 guild slash commands).
pub const MAX_COMMANDS: usize = 100;

#[derive(Clone)]
pub struct CustomCommands {
    store: Store,
}

impl CustomCommands {
    pub fn new(store: Store) -> CustomCommands {
        CustomCommands { store }
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
                    if w.custom_commands()?.len() >= MAX_COMMANDS {
                        return Err(DomainError::LimitExceeded(format!(
                            "A server can have at most {MAX_COMMANDS} custom commands; delete one first."
                        ))
                        .into());
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

#[cfg(test)]
mod tests;
