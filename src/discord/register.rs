//! Slash command registration: global by default, or in `dev_guild` only. The serialized command
//! set is hashed per scope and kept in the store, so a restart with unchanged commands makes no
//! registration call at all (Discord limits command writes per day).

use poise::serenity_prelude as serenity;

use super::rest::Rest;
use super::Command;
use crate::domain::GuildId;
use crate::store::Store;

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
pub async fn register_if_changed(
    rest: &Rest,
    store: &Store,
    commands: &[Command],
    dev_guild: Option<GuildId>,
) -> anyhow::Result<Registration> {
    let builders: Vec<serenity::CreateCommand> =
        poise::builtins::create_application_commands(commands);
    let json = serde_json::to_vec(&builders)?;
    let hash = stable_hash(&json);
    let app = rest.application_id()?;
    let scope = match dev_guild {
        Some(g) => format!("guild:{app}:{g}"),
        None => format!("global:{app}"),
    };
    let known = {
        let (store, scope) = (store.clone(), scope.clone());
        tokio::task::spawn_blocking(move || store.command_set_hash(&scope)).await??
    };
    if known == Some(hash) {
        tracing::info!(%scope, "slash commands unchanged; not registering");
        return Ok(Registration::Unchanged);
    }
    rest.put_commands(dev_guild.map(GuildId::get), &builders)
        .await?;
    {
        let (store, scope) = (store.clone(), scope.clone());
        tokio::task::spawn_blocking(move || store.set_command_set_hash(&scope, hash)).await??;
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
}
