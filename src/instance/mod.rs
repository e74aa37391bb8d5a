//! Instance-wide state the dashboard can change: runtime settings, the bot's presence, and a
//! restart request; and instance-wide reads: the servers held (`guilds.rs`) and the whole-instance
//! export (`export.rs`). Each change is one write on "guild 0" (the instance) carrying its audit
//! entry and an event there, so it shows in `/api/audit/0` and on the event stream.
//!
//! Restart: `request_restart` only records the request and publishes `RestartRequested`; the
//! Discord side (`discord/presence.rs`, when it runs) restarts its shards on that event. Nothing
//! in the process exits.

mod bot_state;
pub mod export;
mod guilds;
pub mod import;
pub mod legacy;

pub use bot_state::{BotState, BotStatus, Connection};
pub use export::{ExportDoc, GuildExport};
pub use guilds::GuildSummary;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::OpMeta;
use crate::domain::{Actor, DomainError, GuildId};
use crate::error::Error;
use crate::events::EventKind;
use crate::store::audit::snapshot;
use crate::store::Store;

/// The pseudo-guild instance-wide changes are recorded under.
pub const INSTANCE: GuildId = GuildId(0);

const SETTINGS_KEY: &str = "settings";
const PRESENCE_KEY: &str = "bot_presence";
const RESTART_KEY: &str = "restart_request";
/// The longest dashboard notice.
pub const MAX_NOTICE_CHARS: usize = 500;
/// The longest activity text.
pub const MAX_ACTIVITY_CHARS: usize = 128;
/// The bot's presence statuses.
pub const PRESENCE_STATUSES: &[&str] = &["online", "idle", "dnd", "invisible"];
/// The bot's activity kinds.
pub const ACTIVITY_KINDS: &[&str] = &["playing", "watching", "listening", "competing", "custom"];

/// Settings changeable while running (the per-guild defaults come from the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RuntimeSettings {
    /// A banner the dashboard shows every admin; `None` = none.
    pub dashboard_notice: Option<String>,
    /// The least severe level kept in the in-memory log buffer: trace, debug, info, warn, error.
    pub log_buffer_level: String,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            dashboard_notice: None,
            log_buffer_level: "info".into(),
        }
    }
}

/// What the bot shows as its Discord presence. The Discord side reads it on start and on
/// `BotStatusChanged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotPresence {
    /// online, idle, dnd or invisible.
    pub status: String,
    /// playing, watching, listening, competing or custom.
    pub activity_type: String,
    /// The activity text; empty = no activity.
    pub text: String,
}

impl Default for BotPresence {
    fn default() -> Self {
        BotPresence {
            status: "online".into(),
            activity_type: "custom".into(),
            text: String::new(),
        }
    }
}

impl BotPresence {
    pub fn validate(&self) -> Result<(), DomainError> {
        if !PRESENCE_STATUSES.contains(&self.status.as_str()) {
            return Err(DomainError::invalid(
                "status",
                "must be online, idle, dnd or invisible",
            ));
        }
        if !ACTIVITY_KINDS.contains(&self.activity_type.as_str()) {
            return Err(DomainError::invalid(
                "activity_type",
                "must be playing, watching, listening, competing or custom",
            ));
        }
        if self.text.chars().count() > MAX_ACTIVITY_CHARS || self.text.chars().any(char::is_control)
        {
            return Err(DomainError::invalid(
                "text",
                format!("must be at most {MAX_ACTIVITY_CHARS} characters on one line"),
            ));
        }
        Ok(())
    }
}

/// A recorded restart request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartRequest {
    pub requested_at: DateTime<Utc>,
    pub requested_by: Actor,
}

/// Merges `{key: value}` changes into `current`; unknown keys and bad values name the key.
pub fn apply_settings_patch(
    current: &RuntimeSettings,
    patch: &Value,
) -> Result<RuntimeSettings, DomainError> {
    let Value::Object(patch) = patch else {
        return Err(DomainError::invalid(
            "settings",
            "must be a JSON object of settings",
        ));
    };
    let mut next = current.clone();
    for (key, value) in patch {
        match key.as_str() {
            "dashboard_notice" => {
                next.dashboard_notice = match value {
                    Value::Null => None,
                    Value::String(s) if s.trim().is_empty() => None,
                    Value::String(s) if s.chars().count() <= MAX_NOTICE_CHARS => {
                        Some(s.trim().to_owned())
                    }
                    Value::String(_) => {
                        return Err(DomainError::invalid(
                            key,
                            format!("must be at most {MAX_NOTICE_CHARS} characters"),
                        ))
                    }
                    _ => return Err(DomainError::invalid(key, "must be text or null")),
                }
            }
            "log_buffer_level" => {
                // Exactly one of the words (the document's enum), nothing trimmed or folded.
                let level = value.as_str().unwrap_or("").to_owned();
                if !["trace", "debug", "info", "warn", "error"].contains(&level.as_str()) {
                    return Err(DomainError::invalid(
                        key,
                        "must be trace, debug, info, warn or error",
                    ));
                }
                next.log_buffer_level = level;
            }
            _ => return Err(DomainError::invalid(key, "is not a setting Coffer knows")),
        }
    }
    Ok(next)
}

/// The instance service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Instance {
    store: Store,
}

impl Instance {
    /// Readiness: one tiny durable write through the writer (see `Store::probe_write`).
    pub fn probe_write(&self) -> Result<(), Error> {
        Ok(self.store.probe_write()?)
    }
    pub fn new(store: Store) -> Instance {
        Instance { store }
    }

    /// The runtime settings; the defaults until someone changed them.
    /// Deletes idempotency records older than `KEEP_KEYS_HOURS` in every guild (after that a
    /// key is free again); returns how many.
    pub fn prune_idempotency_keys(&self) -> Result<u64, Error> {
        let cutoff = self.store.now() - chrono::Duration::hours(crate::domain::op::KEEP_KEYS_HOURS);
        Ok(self.store.prune_idempotency(cutoff)?)
    }

    pub fn settings(&self) -> Result<RuntimeSettings, Error> {
        Ok(self.store.instance_value(SETTINGS_KEY)?.unwrap_or_default())
    }

    /// Applies a settings patch (see `apply_settings_patch`); audited as `settings.update`.
    pub fn update_settings(&self, patch: &Value, meta: &OpMeta) -> Result<RuntimeSettings, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(INSTANCE, meta.key(), "instance.update_settings", |w| {
                let before: RuntimeSettings = w.instance_value(SETTINGS_KEY)?.unwrap_or_default();
                let after = apply_settings_patch(&before, patch)?;
                if after != before {
                    w.put_instance_value(SETTINGS_KEY, &after)?;
                    w.audit(
                        actor,
                        "settings.update",
                        "instance",
                        snapshot(&before),
                        snapshot(&after),
                    )?;
                    w.emit(EventKind::ConfigUpdated, vec!["instance".into()]);
                }
                Ok(after)
            })
    }

    /// The presence the bot shows; the default until someone set one.
    pub fn presence(&self) -> Result<BotPresence, Error> {
        Ok(self.store.instance_value(PRESENCE_KEY)?.unwrap_or_default())
    }

    /// Stores a new presence; audited as `bot.status`, announced with `BotStatusChanged`.
    pub fn set_presence(&self, presence: BotPresence, meta: &OpMeta) -> Result<BotPresence, Error> {
        let actor = &meta.actor;
        presence.validate()?;
        self.store
            .write_once(INSTANCE, meta.key(), "instance.set_presence", |w| {
                let before: BotPresence = w.instance_value(PRESENCE_KEY)?.unwrap_or_default();
                w.put_instance_value(PRESENCE_KEY, &presence)?;
                w.audit(
                    actor,
                    "bot.status",
                    "instance",
                    snapshot(&before),
                    snapshot(&presence),
                )?;
                w.emit(EventKind::BotStatusChanged, vec![]);
                Ok(presence.clone())
            })
    }

    /// Records an instance-level action that changes no stored value (e.g. clearing logs).
    pub fn record(&self, actor: &Actor, action: &str, detail: Value) -> Result<(), Error> {
        self.store.write(INSTANCE, |w| {
            w.audit(actor, action, "instance", None, Some(detail.clone()))?;
            Ok(())
        })
    }

    /// The last restart request, if any.
    pub fn restart_request(&self) -> Result<Option<RestartRequest>, Error> {
        Ok(self.store.instance_value(RESTART_KEY)?)
    }

    /// Records a restart request and publishes `RestartRequested` (see the module docs).
    pub fn request_restart(&self, meta: &OpMeta) -> Result<RestartRequest, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(INSTANCE, meta.key(), "instance.request_restart", |w| {
                let req = RestartRequest {
                    requested_at: w.now,
                    requested_by: actor.clone(),
                };
                w.put_instance_value(RESTART_KEY, &req)?;
                w.audit(actor, "bot.restart", "instance", None, snapshot(&req))?;
                w.emit(EventKind::RestartRequested, vec![]);
                Ok(req)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn settings_patches_refuse_unknown_keys_and_bad_values_by_name() {
        let cur = RuntimeSettings::default();
        let next = apply_settings_patch(
            &cur,
            &serde_json::json!({"dashboard_notice": " Maintenance at 5 ", "log_buffer_level": "warn"}),
        )
        .unwrap();
        assert_eq!(next.dashboard_notice.as_deref(), Some("Maintenance at 5"));
        assert_eq!(next.log_buffer_level, "warn");
        for (patch, field) in [
            (serde_json::json!({"colour": 1}), "colour"),
            (
                serde_json::json!({"log_buffer_level": "WARN"}),
                "log_buffer_level",
            ),
            (
                serde_json::json!({"dashboard_notice": 5}),
                "dashboard_notice",
            ),
        ] {
            match apply_settings_patch(&cur, &patch) {
                Err(DomainError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn presence_and_restart_are_stored_audited_and_announced() {
        let ts = testing::store();
        let inst = Instance::new(ts.store.clone());
        assert_eq!(inst.presence().unwrap(), BotPresence::default());
        let p = BotPresence {
            status: "idle".into(),
            activity_type: "watching".into(),
            text: "the shop".into(),
        };
        inst.set_presence(p.clone(), &Actor::Cli.into()).unwrap();
        assert_eq!(inst.presence().unwrap(), p);
        let bad = BotPresence {
            status: "asleep".into(),
            ..p.clone()
        };
        assert!(inst.set_presence(bad, &Actor::Cli.into()).is_err());
        let r = inst.request_restart(&Actor::Cli.into()).unwrap();
        assert_eq!(inst.restart_request().unwrap(), Some(r));
        assert_eq!(
            testing::audit_actions(&ts, INSTANCE),
            vec!["bot.restart", "bot.status"]
        );
    }
}
