//! Settings updates: a JSON object patch merged into the current `GuildConfig` (nested
//! `features` merges too), each unknown or badly typed key refused by name, then `validate()`.

use serde_json::{Map, Value};

use super::Guilds;
use crate::domain::guild_config::Features;
use crate::domain::OpMeta;
use crate::domain::{ChannelId, DomainError, GuildConfig, GuildId, RoleId, UserId};
use crate::error::Error;
use crate::events::EventKind;
use crate::store::StoreError;

fn as_object(v: Value, what: &str) -> Result<Map<String, Value>, StoreError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(StoreError::Invariant(format!(
            "{what} did not serialize to an object"
        ))),
    }
}

fn to_object<T: serde::Serialize>(v: &T, what: &str) -> Result<Map<String, Value>, StoreError> {
    let v = serde_json::to_value(v).map_err(|e| StoreError::Invariant(e.to_string()))?;
    as_object(v, what)
}

/// Deserializes `{key: value}` alone, so a type error is blamed on `key` (named `field`).
fn check_one<T: serde::de::DeserializeOwned>(
    field: &str,
    key: &str,
    value: &Value,
) -> Result<(), DomainError> {
    let mut one = Map::new();
    one.insert(key.to_owned(), value.clone());
    serde_json::from_value::<T>(Value::Object(one))
        .map(|_| ())
        .map_err(|e| DomainError::invalid(field, format!("has the wrong kind of value ({e})")))
}

/// Merges `patch` (a JSON object of settings) into `current` and validates the result. Unknown
/// keys, wrong types and out-of-range values are refused with the field's name (`features.shop`
/// for nested ones). `null` sets an optional setting to "none".
pub fn apply_patch(current: &GuildConfig, patch: &Value) -> Result<GuildConfig, Error> {
    let Value::Object(patch) = patch else {
        return Err(DomainError::invalid("config", "must be a JSON object of settings").into());
    };
    let mut merged = to_object(current, "GuildConfig")?;
    for (key, value) in patch {
        let Some(slot) = merged.get_mut(key) else {
            return Err(DomainError::invalid(key, "is not a setting Coffer knows").into());
        };
        if key == "features" {
            let Value::Object(fpatch) = value else {
                return Err(DomainError::invalid(
                    "features",
                    "must be an object like {\"shop\": false}",
                )
                .into());
            };
            let Value::Object(features) = slot else {
                return Err(StoreError::Invariant("features is not an object".into()).into());
            };
            for (fk, fv) in fpatch {
                let field = format!("features.{fk}");
                let Some(fslot) = features.get_mut(fk) else {
                    return Err(DomainError::invalid(field, "is not a feature Coffer knows").into());
                };
                check_one::<Features>(&field, fk, fv)?;
                *fslot = fv.clone();
            }
        } else {
            check_one::<GuildConfig>(key, key, value)?;
            *slot = value.clone();
        }
    }
    let next: GuildConfig = serde_json::from_value(Value::Object(merged))
        .map_err(|e| DomainError::invalid("config", e.to_string()))?;
    next.validate()?;
    Ok(next)
}

/// The top-level settings whose values differ, with their old and new values.
fn diff(before: &GuildConfig, after: &GuildConfig) -> Result<(Vec<String>, Value, Value), Error> {
    let (b, a) = (to_object(before, "config")?, to_object(after, "config")?);
    let mut keys = Vec::new();
    let (mut old, mut new) = (Map::new(), Map::new());
    for (k, av) in &a {
        let bv = b.get(k).cloned().unwrap_or(Value::Null);
        if &bv != av {
            keys.push(k.clone());
            old.insert(k.clone(), bv);
            new.insert(k.clone(), av.clone());
        }
    }
    Ok((keys, Value::Object(old), Value::Object(new)))
}

/// The channels `/admin config channel <slot> <channel>` can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelSlot {
    Tasks,
    Shop,
    Announcements,
    Log,
    Welcome,
}

impl ChannelSlot {
    /// The config field it sets.
    pub fn field(self) -> &'static str {
        match self {
            ChannelSlot::Tasks => "task_channel_id",
            ChannelSlot::Shop => "shop_channel_id",
            ChannelSlot::Announcements => "announcement_channel_id",
            ChannelSlot::Log => "log_channel",
            ChannelSlot::Welcome => "welcome_channel",
        }
    }

    pub fn parse(s: &str) -> Result<ChannelSlot, DomainError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tasks" | "task" => Ok(ChannelSlot::Tasks),
            "shop" => Ok(ChannelSlot::Shop),
            "announcements" | "announcement" => Ok(ChannelSlot::Announcements),
            "log" | "logs" => Ok(ChannelSlot::Log),
            "welcome" => Ok(ChannelSlot::Welcome),
            other => Err(DomainError::invalid(
                "channel",
                format!("`{other}` is not one of tasks, shop, announcements, log, welcome"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleSlot {
    Admin,
    Moderator,
}

impl RoleSlot {
    pub fn field(self) -> &'static str {
        match self {
            RoleSlot::Admin => "admin_roles",
            RoleSlot::Moderator => "moderator_roles",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    Add,
    Remove,
}

impl Guilds {
    /// The guild's settings (instance defaults until an admin changes something).
    pub fn config(&self, guild: GuildId) -> Result<GuildConfig, Error> {
        self.store.read(guild, |r| Ok(r.guild_config()?))
    }

    /// The settings and the stored owner (`None` until Discord told us), read together: what a
    /// permission check needs when Discord's cache may not know the owner yet.
    pub fn config_and_owner(&self, guild: GuildId) -> Result<(GuildConfig, Option<UserId>), Error> {
        self.store.read(guild, |r| {
            let owner = r.guild_info()?.and_then(|i| i.owner_id);
            Ok((r.guild_config()?, owner))
        })
    }

    /// Merges a JSON object patch into the settings (see `apply_patch`). A patch that changes
    /// nothing writes nothing.
    pub fn update_config(
        &self,
        guild: GuildId,
        patch: &Value,
        meta: &OpMeta,
    ) -> Result<GuildConfig, Error> {
        self.update_with(guild, meta, "config.update", |_| Ok(patch.clone()))
    }

    /// `/admin config channel <slot> <channel>`; `None` clears it.
    pub fn set_channel(
        &self,
        guild: GuildId,
        slot: ChannelSlot,
        channel: Option<ChannelId>,
        meta: &OpMeta,
    ) -> Result<GuildConfig, Error> {
        let patch = serde_json::json!({ slot.field(): channel });
        self.update_with(guild, meta, "config.set_channel", |_| Ok(patch.clone()))
    }

    /// `/admin config role <admin|moderator> add|remove <role>`. Adding a role already in the
    /// list changes nothing; removing one that is not there is refused.
    pub fn set_role(
        &self,
        guild: GuildId,
        slot: RoleSlot,
        change: RoleChange,
        role: RoleId,
        meta: &OpMeta,
    ) -> Result<GuildConfig, Error> {
        self.update_with(guild, meta, "config.set_role", |cfg| {
            let mut roles = match slot {
                RoleSlot::Admin => cfg.admin_roles.clone(),
                RoleSlot::Moderator => cfg.moderator_roles.clone(),
            };
            match change {
                RoleChange::Add if !roles.contains(&role) => roles.push(role),
                RoleChange::Add => {}
                RoleChange::Remove => {
                    let n = roles.len();
                    roles.retain(|r| *r != role);
                    if roles.len() == n {
                        return Err(DomainError::RoleNotListed {
                            role,
                            list: slot.field().into(),
                        }
                        .into());
                    }
                }
            }
            Ok(serde_json::json!({ slot.field(): roles }))
        })
    }

    /// Reads the settings, builds a patch from them, merges, writes, audits, emits: one txn.
    fn update_with(
        &self,
        guild: GuildId,
        meta: &OpMeta,
        op: &str,
        make_patch: impl Fn(&GuildConfig) -> Result<Value, Error> + Sync,
    ) -> Result<GuildConfig, Error> {
        let actor = &meta.actor;
        self.store.write_once(guild, meta.key(), op, |w| {
            let before = w.guild_config()?;
            let patch = make_patch(&before)?;
            let after = apply_patch(&before, &patch)?;
            for (field, was, now) in [
                ("log_channel", before.log_channel, after.log_channel),
                (
                    "task_channel_id",
                    before.task_channel_id,
                    after.task_channel_id,
                ),
                (
                    "shop_channel_id",
                    before.shop_channel_id,
                    after.shop_channel_id,
                ),
                (
                    "announcement_channel_id",
                    before.announcement_channel_id,
                    after.announcement_channel_id,
                ),
            ] {
                if let Some(c) = now.filter(|c| Some(*c) != was) {
                    super::check_known_channel(w, meta, field, c)?;
                }
            }
            let (changed, old, new) = diff(&before, &after)?;
            if changed.is_empty() {
                return Ok(after);
            }
            w.put_guild_config(&after)?;
            move_channel_messages(w, &before, &after)?;
            // A settings change may fix what Discord refused (a channel, a role): failed
            // messages get one more try.
            w.sync_retry_failed()?;
            w.audit(actor, "config.update", "config", Some(old), Some(new))?;
            w.emit(EventKind::ConfigUpdated, changed);
            Ok(after)
        })
    }
}

/// A new shop or task channel moves every message posted for it (same transaction, so the
/// reconciler cannot miss it): each record is touched with the new channel; with no channel
/// the reconciler takes the message down.
fn move_channel_messages(
    w: &mut crate::store::WriteCtx<'_>,
    before: &GuildConfig,
    after: &GuildConfig,
) -> Result<(), Error> {
    use crate::store::outbox::SyncKind;
    let moved = [
        (
            SyncKind::ShopItem,
            before.shop_channel_id,
            after.shop_channel_id,
        ),
        (
            SyncKind::Task,
            before.task_channel_id,
            after.task_channel_id,
        ),
    ];
    for (kind, old, new) in moved {
        if old == new {
            continue;
        }
        for r in w.sync_records()? {
            if r.kind == kind && !r.delete {
                w.sync_touch(kind, r.object, new)?;
            }
        }
    }
    // Submissions still waiting for a moderator follow the task channel; reviewed ones stay
    // where they were posted.
    if before.task_channel_id != after.task_channel_id {
        for r in w.sync_records()? {
            if r.kind != SyncKind::Review || r.delete {
                continue;
            }
            let Some(mut review) = w.review(r.object)? else {
                continue;
            };
            if review.outcome == crate::domain::tasks::ReviewOutcome::Waiting {
                review.channel = after.task_channel_id;
                w.put_review(&review)?;
                w.sync_touch(SyncKind::Review, r.object, after.task_channel_id)?;
            }
        }
    }
    Ok(())
}
