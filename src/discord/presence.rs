//! The bot's presence and connection state: applies the stored presence (at IDENTIFY, at every
//! READY and on `BotStatusChanged`) to every shard, restarts the shards on `RestartRequested`
//! (the process keeps running), and keeps the shared `BotStatus` the web reports current.

use std::sync::Arc;

use poise::serenity_prelude as serenity;

use super::error::chain;
use super::BotData;
use crate::events::{EventFilter, EventKind, RecvError, Subscription};
use crate::instance::{BotPresence, INSTANCE};
use crate::instance::{BotStatus, Connection};
use crate::services::blocking;

/// The serenity form of a stored presence: no activity when its text is empty.
pub fn presence_data(p: &BotPresence) -> (Option<serenity::ActivityData>, serenity::OnlineStatus) {
    use serenity::ActivityData as A;
    let text = p.text.trim();
    let activity = (!text.is_empty()).then(|| match p.activity_type.as_str() {
        "playing" => A::playing(text),
        "watching" => A::watching(text),
        "listening" => A::listening(text),
        "competing" => A::competing(text),
        _ => A::custom(text),
    });
    let status = match p.status.as_str() {
        "idle" => serenity::OnlineStatus::Idle,
        "dnd" => serenity::OnlineStatus::DoNotDisturb,
        "invisible" => serenity::OnlineStatus::Invisible,
        _ => serenity::OnlineStatus::Online,
    };
    (activity, status)
}

/// The stored presence, or the default when it can't be read (logged).
pub async fn stored_presence(data: &BotData) -> BotPresence {
    let Ok(services) = data.services() else {
        return BotPresence::default();
    };
    let instance = services.instance;
    match blocking(move || instance.presence()).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %chain(&e), "could not read the bot presence; using the default");
            BotPresence::default()
        }
    }
}

/// Sends the stored presence to every running shard (gateway opcode 3).
async fn apply_to_all(data: &BotData, manager: &serenity::ShardManager) {
    let (activity, status) = presence_data(&stored_presence(data).await);
    let runners = manager.runners.lock().await;
    for runner in runners.values() {
        runner.runner_tx.set_presence(activity.clone(), status);
    }
    tracing::info!(shards = runners.len(), ?status, "bot presence applied");
}

/// Closes and restarts every shard; each identifies again and READY marks the bot connected.
async fn restart_shards(manager: &serenity::ShardManager, status: &BotStatus) {
    let shards = manager.shards_instantiated().await;
    tracing::info!(shards = shards.len(), "restarting the Discord connection");
    status.set_connection(Connection::Reconnecting);
    for id in shards {
        manager.restart(id).await;
    }
}

/// Acts on presence changes and restart requests until the bus closes or the bot stops.
pub async fn listen(
    data: Arc<BotData>,
    manager: Arc<serenity::ShardManager>,
    status: BotStatus,
    mut sub: Subscription,
) {
    loop {
        match sub.recv().await {
            Ok(e) if e.kind == EventKind::RestartRequested => {
                restart_shards(&manager, &status).await;
            }
            Ok(_) => apply_to_all(&data, &manager).await,
            // A missed change is harmless to re-apply; a missed restart is not replayed.
            Err(RecvError::Lagged(_)) => apply_to_all(&data, &manager).await,
            Err(RecvError::Closed) => return,
        }
        if data.services().is_err() {
            return;
        }
    }
}

/// The subscription `listen` needs: the instance's presence and restart events.
pub fn filter() -> EventFilter {
    EventFilter {
        guilds: [INSTANCE].into(),
        kinds: [EventKind::BotStatusChanged, EventKind::RestartRequested].into(),
    }
}

/// Tracks the connection for `BotStatus` and applies the presence on every READY (a restarted
/// shard identifies with the presence the client was built with).
pub struct StatusHandler {
    pub data: Arc<BotData>,
    pub status: BotStatus,
}

fn guild_count(ctx: &serenity::Context) -> u64 {
    ctx.cache.guilds().len() as u64
}

#[serenity::async_trait]
impl serenity::EventHandler for StatusHandler {
    async fn ready(&self, ctx: serenity::Context, ready: serenity::Ready) {
        self.status
            .set_guilds((ready.guilds.len() as u64).max(guild_count(&ctx)));
        self.status.set_connection(Connection::Connected);
        let (activity, status) = presence_data(&stored_presence(&self.data).await);
        ctx.set_presence(activity, status);
    }

    async fn shard_stage_update(
        &self,
        _ctx: serenity::Context,
        event: serenity::ShardStageUpdateEvent,
    ) {
        if event.new == serenity::ConnectionStage::Connected {
            self.status.set_connection(Connection::Connected);
        } else {
            self.status.connection_lost();
        }
    }

    async fn guild_create(
        &self,
        ctx: serenity::Context,
        _guild: serenity::Guild,
        _is_new: Option<bool>,
    ) {
        self.status.set_guilds(guild_count(&ctx));
    }

    async fn guild_delete(
        &self,
        ctx: serenity::Context,
        _incomplete: serenity::UnavailableGuild,
        _full: Option<serenity::Guild>,
    ) {
        self.status.set_guilds(guild_count(&ctx));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(status: &str, kind: &str, text: &str) -> BotPresence {
        BotPresence {
            status: status.into(),
            activity_type: kind.into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_stored_presence_maps_to_serenitys_activity_and_status() {
        let (a, s) = presence_data(&presence("dnd", "watching", "the shop"));
        let a = a.unwrap();
        assert_eq!(
            (a.name.as_str(), a.kind, s),
            (
                "the shop",
                serenity::ActivityType::Watching,
                serenity::OnlineStatus::DoNotDisturb
            )
        );
        let (a, s) = presence_data(&presence("invisible", "custom", "Saving up"));
        let a = a.unwrap();
        assert_eq!(
            (a.state.as_deref(), a.kind, s),
            (
                Some("Saving up"),
                serenity::ActivityType::Custom,
                serenity::OnlineStatus::Invisible
            )
        );
    }

    #[test]
    fn an_empty_text_means_no_activity() {
        let (a, s) = presence_data(&presence("idle", "playing", "  "));
        assert!(a.is_none());
        assert_eq!(s, serenity::OnlineStatus::Idle);
    }
}
