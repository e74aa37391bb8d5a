//! `/admin config view|set|channel|role`: the server's settings from Discord. `set` takes one
//! key and one value and goes through `Guilds::update_config` as a JSON patch, so every refusal
//! names the setting; `channel` and `role` are shortcuts for the common ones.

use poise::serenity_prelude as serenity;
use serde_json::{Map, Value};

use super::{guild, op_meta};
use crate::discord::reply::{respond_blocking, Reply};
use crate::discord::{BotError, Ctx};
use crate::domain::{ChannelId, DomainError, GuildConfig, RoleId};
use crate::guild::{ChannelSlot, RoleChange, RoleSlot};

/// View and change this server's Coffer settings.
#[poise::command(
    slash_command,
    rename = "config",
    subcommands("config_view", "config_set", "config_channel", "config_role"),
    subcommand_required
)]
pub async fn config(_ctx: Ctx<'_>) -> Result<(), BotError> {
    Ok(())
}

/// One `key: value` line per setting; channels and roles as mentions.
pub fn config_lines(cfg: &GuildConfig) -> Result<Vec<String>, DomainError> {
    let Ok(Value::Object(map)) = serde_json::to_value(cfg) else {
        return Err(DomainError::Refused(
            "The settings could not be shown.".into(),
        ));
    };
    let mut lines = Vec::new();
    for (k, v) in map {
        let shown = match (k.as_str(), &v) {
            (_, Value::Null) => "not set".to_owned(),
            ("admin_roles" | "moderator_roles", Value::Array(ids)) if ids.is_empty() => {
                "none".to_owned()
            }
            ("admin_roles" | "moderator_roles", Value::Array(ids)) => ids
                .iter()
                .map(|id| format!("<@&{}>", id.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(" "),
            (k, Value::String(id)) if k.ends_with("channel") || k.ends_with("channel_id") => {
                format!("<#{id}>")
            }
            (_, Value::String(s)) => s.clone(),
            (_, Value::Object(o)) => o
                .iter()
                .map(|(fk, fv)| format!("{fk}={fv}"))
                .collect::<Vec<_>>()
                .join(", "),
            (_, other) => other.to_string(),
        };
        lines.push(format!("`{k}`: {shown}"));
    }
    Ok(lines)
}

/// Builds the JSON patch for `/admin config set key value`. The value is read as JSON (numbers,
/// true/false, null) unless the setting holds text, then taken as typed; `features.shop` style
/// keys set one feature.
pub fn patch_for(cfg: &GuildConfig, key: &str, value: &str) -> Result<Value, DomainError> {
    let key = key.trim();
    let value = value.trim();
    let current = serde_json::to_value(cfg).unwrap_or(Value::Null);
    let (path, slot): (Vec<&str>, Option<&Value>) = match key.split_once('.') {
        Some((outer, inner)) => (
            vec![outer, inner],
            current.get(outer).and_then(|o| o.get(inner)),
        ),
        None => (vec![key], current.get(key)),
    };
    if key.is_empty() {
        return Err(DomainError::invalid(
            "key",
            "name a setting, e.g. currency_name",
        ));
    }
    let parsed = match slot {
        Some(Value::String(_)) if !value.eq_ignore_ascii_case("null") => {
            Value::String(value.to_owned())
        }
        _ if value.eq_ignore_ascii_case("none") => Value::Null,
        _ => serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned())),
    };
    let mut patch = parsed;
    for part in path.iter().rev() {
        let mut m = Map::new();
        m.insert((*part).to_owned(), patch);
        patch = Value::Object(m);
    }
    Ok(patch)
}

fn settings_reply(cfg: &GuildConfig, note: Option<String>) -> Result<Reply, DomainError> {
    let embed = serenity::CreateEmbed::new()
        .title("Coffer settings")
        .colour(0x3498DB)
        .description(config_lines(cfg)?.join("\n"));
    let mut r = Reply::embed(embed, true);
    r.content = note;
    Ok(r)
}

/// Show every setting.
#[poise::command(slash_command, rename = "view")]
pub async fn config_view(ctx: Ctx<'_>) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    respond_blocking(ctx, true, move |s| {
        Ok(settings_reply(&s.guilds.config(guild)?, None)?)
    })
    .await
}

/// Change one setting, e.g. key `daily_amount`, value `250`.
#[poise::command(slash_command, rename = "set")]
pub async fn config_set(
    ctx: Ctx<'_>,
    #[max_length = 64]
    #[description = "Setting name, e.g. currency_name or features.shop"]
    key: String,
    #[max_length = 1000]
    #[description = "New value (none to clear)"]
    value: String,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    respond_blocking(ctx, true, move |s| {
        let patch = patch_for(&s.guilds.config(guild)?, &key, &value)?;
        let cfg = s.guilds.update_config(guild, &patch, &actor)?;
        Ok(settings_reply(
            &cfg,
            Some(format!("Saved `{}`.", key.trim())),
        )?)
    })
    .await
}

/// Which channel setting to change.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum ChannelChoice {
    #[name = "tasks"]
    Tasks,
    #[name = "shop"]
    Shop,
    #[name = "announcements"]
    Announcements,
    #[name = "log"]
    Log,
}

impl From<ChannelChoice> for ChannelSlot {
    fn from(c: ChannelChoice) -> ChannelSlot {
        match c {
            ChannelChoice::Tasks => ChannelSlot::Tasks,
            ChannelChoice::Shop => ChannelSlot::Shop,
            ChannelChoice::Announcements => ChannelSlot::Announcements,
            ChannelChoice::Log => ChannelSlot::Log,
        }
    }
}

/// Set where Coffer posts tasks, the shop, announcements or its log.
#[poise::command(slash_command, rename = "channel")]
pub async fn config_channel(
    ctx: Ctx<'_>,
    #[description = "What the channel is for"] purpose: ChannelChoice,
    #[description = "The channel"]
    #[channel_types("Text", "News")]
    channel: serenity::ChannelId,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    let slot = ChannelSlot::from(purpose);
    let id = ChannelId(channel.get());
    respond_blocking(ctx, true, move |s| {
        s.guilds.set_channel(guild, slot, Some(id), &actor)?;
        Ok(Reply::private(format!(
            "`{}` is now <#{id}>.",
            slot.field()
        )))
    })
    .await
}

/// Which staff level a role gives.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum LevelChoice {
    #[name = "admin"]
    Admin,
    #[name = "moderator"]
    Moderator,
}

/// Add or remove.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum ChangeChoice {
    #[name = "add"]
    Add,
    #[name = "remove"]
    Remove,
}

/// Give a role Coffer admin or moderator rights, or take them away.
#[poise::command(slash_command, rename = "role")]
pub async fn config_role(
    ctx: Ctx<'_>,
    #[description = "admin or moderator"] level: LevelChoice,
    #[description = "add or remove"] action: ChangeChoice,
    #[description = "The role"] role: serenity::Role,
) -> Result<(), BotError> {
    let guild = guild(ctx)?;
    let actor = op_meta(ctx);
    let slot = match level {
        LevelChoice::Admin => RoleSlot::Admin,
        LevelChoice::Moderator => RoleSlot::Moderator,
    };
    let change = match action {
        ChangeChoice::Add => RoleChange::Add,
        ChangeChoice::Remove => RoleChange::Remove,
    };
    let id = RoleId(role.id.get());
    respond_blocking(ctx, true, move |s| {
        let cfg = s.guilds.set_role(guild, slot, change, id, &actor)?;
        let list = match slot {
            RoleSlot::Admin => &cfg.admin_roles,
            RoleSlot::Moderator => &cfg.moderator_roles,
        };
        let shown: Vec<String> = list.iter().map(|r| format!("<@&{r}>")).collect();
        Ok(Reply::private(format!(
            "`{}` is now: {}",
            slot.field(),
            if shown.is_empty() {
                "none".into()
            } else {
                shown.join(" ")
            }
        )))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guild::apply_patch;

    #[test]
    fn set_reads_numbers_and_booleans_as_json_and_text_settings_as_typed() {
        let cfg = GuildConfig::default();
        assert_eq!(
            patch_for(&cfg, "daily_amount", "250").unwrap(),
            serde_json::json!({"daily_amount": 250})
        );
        assert_eq!(
            patch_for(&cfg, "currency_name", "123").unwrap(),
            serde_json::json!({"currency_name": "123"})
        );
        assert_eq!(
            patch_for(&cfg, "features.shop", "false").unwrap(),
            serde_json::json!({"features": {"shop": false}})
        );
        assert_eq!(
            patch_for(&cfg, "log_channel", "none").unwrap(),
            serde_json::json!({"log_channel": null})
        );
        let next = apply_patch(&cfg, &patch_for(&cfg, "features.shop", "false").unwrap()).unwrap();
        assert!(!next.features.shop);
    }

    #[test]
    fn a_bad_key_or_value_is_refused_naming_the_setting() {
        let cfg = GuildConfig::default();
        let err = apply_patch(&cfg, &patch_for(&cfg, "daily_amount", "lots").unwrap()).unwrap_err();
        assert!(
            err.user_message().starts_with("daily_amount:"),
            "{}",
            err.user_message()
        );
        let err = apply_patch(&cfg, &patch_for(&cfg, "colour", "red").unwrap()).unwrap_err();
        assert!(
            err.user_message().starts_with("colour:"),
            "{}",
            err.user_message()
        );
    }

    #[test]
    fn the_view_lists_channels_and_roles_as_mentions() {
        let cfg = GuildConfig {
            task_channel_id: Some(ChannelId(55)),
            moderator_roles: vec![RoleId(7), RoleId(8)],
            ..GuildConfig::default()
        };
        let lines = config_lines(&cfg).unwrap().join("\n");
        assert!(lines.contains("`task_channel_id`: <#55>"), "{lines}");
        assert!(lines.contains("`moderator_roles`: <@&7> <@&8>"), "{lines}");
        assert!(lines.contains("`shop_channel_id`: not set"), "{lines}");
        assert!(lines.contains("`currency_name`: coins"), "{lines}");
    }
}
