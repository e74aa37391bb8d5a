//! Slash command registration: global by default, or in `dev_guild` only. The serialized command
//! set is hashed per scope and kept by the command-log service, so a restart with unchanged commands makes no
//! registration call at all (Discord limits command writes per day). Each guild's custom commands
//! are its own guild-scoped set.

use poise::serenity_prelude as serenity;

use super::rest::Rest;
use super::Command;
use crate::custom::MAX_COMMANDS;
use crate::domain::custom_command::CustomCommand;
use crate::domain::GuildId;
use crate::services::{blocking, Services};

/// FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// What registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Registered,
    Unchanged,
}

/// Registers `commands` unless the same set is already registered for this application and scope.
/// With `dev_guild` they go to that guild only, together with its custom commands.
pub async fn register_if_changed(
    rest: &Rest,
    services: &Services,
    commands: &[Command],
    dev_guild: Option<GuildId>,
) -> anyhow::Result<Registration> {
    match dev_guild {
        Some(g) => register_guild_if_changed(rest, services, g, Some(commands)).await,
        None => {
            let builders = poise::builtins::create_application_commands(commands);
            put_if_changed(rest, services, None, &builders, false).await
        }
    }
}

/// The command set Coffer keeps in one guild: the built-in commands when it is the dev guild,
/// then the guild's custom commands, never more than Discord's 100 per guild (a bigger bulk PUT
/// is refused whole with 30032): custom commands past the limit are left out, with a warning.
pub fn guild_set(
    builtins: Option<&[Command]>,
    custom: &[CustomCommand],
) -> Vec<serenity::CreateCommand> {
    let mut set = builtins
        .map(poise::builtins::create_application_commands)
        .unwrap_or_default();
    let room = MAX_COMMANDS.saturating_sub(set.len());
    if custom.len() > room {
        tracing::warn!(
            custom = custom.len(),
            registered = room,
            "too many custom commands for Discord's {MAX_COMMANDS} per server; the last ones are not registered"
        );
    }
    set.extend(custom.iter().take(room).map(super::custom::command_builder));
    set
}

/// Registers `guild`'s set (see [`guild_set`]) unless unchanged. A guild Coffer never
/// registered anything in counts as holding an empty set, so guilds without custom commands
/// cost no call.
pub async fn register_guild_if_changed(
    rest: &Rest,
    services: &Services,
    guild: GuildId,
    builtins: Option<&[Command]>,
) -> anyhow::Result<Registration> {
    let custom = {
        let custom = services.custom.clone();
        blocking(move || custom.list(guild)).await?
    };
    let set = guild_set(builtins, &custom);
    put_if_changed(rest, services, Some(guild), &set, builtins.is_none()).await
}

async fn put_if_changed(
    rest: &Rest,
    services: &Services,
    guild: Option<GuildId>,
    builders: &[serenity::CreateCommand],
    absent_means_empty: bool,
) -> anyhow::Result<Registration> {
    let hash = stable_hash(&serde_json::to_vec(builders)?);
    let app = rest.application_id()?;
    let scope = match guild {
        Some(g) => format!("guild:{app}:{g}"),
        None => format!("global:{app}"),
    };
    let known = {
        let (log, scope) = (services.command_log.clone(), scope.clone());
        blocking(move || log.registered_hash(&scope)).await?
    };
    let known = match known {
        None if absent_means_empty => Some(stable_hash(b"[]")),
        k => k,
    };
    if known == Some(hash) {
        tracing::info!(%scope, "slash commands unchanged; not registering");
        return Ok(Registration::Unchanged);
    }
    rest.put_commands(guild.map(GuildId::get), &builders)
        .await?;
    {
        let (log, scope) = (services.command_log.clone(), scope.clone());
        blocking(move || log.set_registered_hash(&scope, hash)).await?;
    }
    tracing::info!(%scope, count = builders.len(), "slash commands registered");
    Ok(Registration::Registered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a_and_sensitive_to_every_byte() {
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(
            stable_hash(b"[{\"name\":\"daily\"}]"),
            stable_hash(b"[{\"name\":\"dailY\"}]")
        );
    }

    #[test]
    fn the_command_set_serializes_the_same_way_twice() {
        let a = serde_json::to_vec(&poise::builtins::create_application_commands(
            &crate::discord::commands::all(),
        ))
        .unwrap();
        let b = serde_json::to_vec(&poise::builtins::create_application_commands(
            &crate::discord::commands::all(),
        ))
        .unwrap();
        assert_eq!(stable_hash(&a), stable_hash(&b));
        let text = String::from_utf8(a).unwrap();
        for name in [
            "balance",
            "daily",
            "give",
            "leaderboard",
            "history",
            "admin",
        ] {
            assert!(
                text.contains(&format!("\"name\":\"{name}\"")),
                "{name} missing: {text}"
            );
        }
    }

    /// Every string option, at any depth.
    fn string_options(
        v: &serde_json::Value,
        path: &str,
        out: &mut Vec<(String, serde_json::Value)>,
    ) {
        for o in v["options"].as_array().into_iter().flatten() {
            let here = format!("{path} {}", o["name"].as_str().unwrap_or("?"));
            if o["type"] == 3 {
                out.push((here.clone(), o["max_length"].clone()));
            }
            string_options(o, &here, out);
        }
    }

    #[test]
    fn every_string_option_has_a_max_length() {
        let set = serde_json::to_value(poise::builtins::create_application_commands(
            &crate::discord::commands::all(),
        ))
        .unwrap();
        let mut found = Vec::new();
        for c in set.as_array().unwrap() {
            string_options(c, c["name"].as_str().unwrap(), &mut found);
        }
        assert!(found.len() > 40, "{found:?}");
        for (option, max) in found {
            let max = max.as_u64();
            assert!(
                max.is_some_and(|m| (1..=6000).contains(&m)),
                "/{option} has max_length {max:?}"
            );
        }
    }

    #[test]
    fn a_guild_set_is_the_dev_builtins_then_the_custom_commands_and_empty_hashes_as_nothing() {
        let now = chrono::Utc::now();
        let custom = CustomCommand {
            name: "rules".into(),
            response: "Be nice.".into(),
            created_by: crate::domain::Actor::System,
            created_at: now,
            updated_at: now,
        };
        let only_custom = guild_set(None, std::slice::from_ref(&custom));
        let names = |set: &[serenity::CreateCommand]| -> Vec<String> {
            serde_json::to_value(set)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&only_custom), ["rules"]);
        let dev_custom = custom.clone();
        let dev = guild_set(Some(&crate::discord::commands::all()), &[custom]);
        let dev_names = names(&dev);
        assert_eq!(dev_names.first().map(String::as_str), Some("balance"));
        assert_eq!(dev_names.last().map(String::as_str), Some("rules"));
        // Never more than Discord's 100: the surplus custom commands are left out.
        let many: Vec<CustomCommand> = (0..95)
            .map(|i| CustomCommand {
                name: format!("c{i}"),
                ..dev_custom.clone()
            })
            .collect();
        let capped = guild_set(Some(&crate::discord::commands::all()), &many);
        assert_eq!(capped.len(), MAX_COMMANDS);
        assert_eq!(names(&capped).last().map(String::as_str), Some("c85"));
        assert_eq!(guild_set(None, &many).len(), 95);
        // A guild never registered in counts as holding this empty set.
        let empty = serde_json::to_vec(&guild_set(None, &[])).unwrap();
        assert_eq!(stable_hash(&empty), stable_hash(b"[]"));
    }
}
