//! Slash command registration: global by default, or in `dev_guild` only. The serialized command
//! set is hashed per scope and kept by the command-log service, so a restart with unchanged commands makes no
//! registration call at all (Discord limits command writes per day). Each guild's custom commands
//! are its own guild-scoped set.

use poise::serenity_prelude as serenity;

use super::rest::Rest;
use super::Command;
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
/// then the guild's custom commands.
pub fn guild_set(
    builtins: Option<&[Command]>,
    custom: &[CustomCommand],
) -> Vec<serenity::CreateCommand> {
    let mut set = builtins
        .map(poise::builtins::create_application_commands)
        .unwrap_or_default();
    set.extend(custom.iter().map(super::custom::command_builder));
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
        let dev = guild_set(Some(&crate::discord::commands::all()), &[custom]);
        let dev_names = names(&dev);
        assert_eq!(dev_names.first().map(String::as_str), Some("balance"));
        assert_eq!(dev_names.last().map(String::as_str), Some("rules"));
        // A guild never registered in counts as holding this empty set.
        let empty = serde_json::to_vec(&guild_set(None, &[])).unwrap();
        assert_eq!(stable_hash(&empty), stable_hash(b"[]"));
    }
}
