//! The Discord door: starts and stops the poise/serenity bot. Commands parse input, check
//! permissions, call a service off the async workers and render a reply; serenity types stop
//! here (ids become our `GuildId`/`UserId` at the edge).

pub mod checks;
pub mod commands;
pub mod components;
pub mod custom;
pub mod error;
pub mod gateway_watch;
pub mod guild_events;
mod log;
pub mod on_error;
pub mod outbound;
pub mod presence;
pub mod ratelimit;
pub mod register;
pub mod render;
pub mod reply;
pub mod rest;
pub mod shop_buttons;
pub mod tasks;

use std::sync::Arc;

use anyhow::Context as _;
use poise::serenity_prelude as serenity;

use crate::config::DiscordConfig;
use crate::domain::{GuildId, UserId};
use crate::services::Services;

pub use error::BotError;
pub use rest::{Rest, RestError};

/// What to do when Discord refuses the members intent (gateway close code 4014).
pub const MEMBERS_INTENT_FIX: &str =
    "enable Server Members Intent in the Developer Portal, or set discord.members_intent = false";

/// What a fatal gateway error means for the operator, in words that say how to fix it.
fn gateway_error(e: serenity::Error) -> anyhow::Error {
    use serenity::GatewayError as G;
    match e {
        serenity::Error::Gateway(G::DisallowedGatewayIntents) => anyhow::anyhow!(
            "Discord refused the gateway intents (close code 4014): {MEMBERS_INTENT_FIX}"
        ),
        serenity::Error::Gateway(G::InvalidGatewayIntents) => {
            anyhow::anyhow!("Discord refused the gateway intents as invalid (close code 4013)")
        }
        serenity::Error::Gateway(G::InvalidAuthentication) => anyhow::anyhow!(
            "Discord rejected DISCORD_TOKEN on the gateway (close code 4004): check the bot token"
        ),
        other => anyhow::Error::new(other),
    }
}

/// What every command handler can reach.
pub struct BotData {
    /// Taken out on stop, so the store closes when `run_until` returns even if serenity keeps
    /// a task (and with it this struct) alive a little longer.
    services: std::sync::RwLock<Option<Services>>,
    pub rest: Arc<Rest>,
    /// Where the built-in commands are registered instead of globally.
    pub dev_guild: Option<GuildId>,
    /// Registrations run one at a time, so an older command set never lands after a newer one.
    pub register_lock: tokio::sync::Mutex<()>,
}

impl BotData {
    /// The services, or an error once the bot is stopping.
    pub fn services(&self) -> Result<Services, BotError> {
        self.services
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| BotError::Internal("Coffer is shutting down".into()))
    }

    fn release(&self) {
        self.services
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }
}

/// The poise context our commands receive.
pub type Ctx<'a> = poise::Context<'a, Arc<BotData>, BotError>;
/// A command as poise stores it.
pub type Command = poise::Command<Arc<BotData>, BotError>;

/// A running bot.
pub struct Bot {
    data: Arc<BotData>,
    shard_manager: Arc<serenity::ShardManager>,
    /// `None` once the client has finished.
    task: Option<tokio::task::JoinHandle<Result<(), serenity::Error>>>,
    /// Re-registers a guild's custom commands when they change.
    custom_listener: tokio::task::JoinHandle<()>,
    /// Applies presence changes and restart requests.
    presence_listener: tokio::task::JoinHandle<()>,
    status: crate::instance::BotStatus,
}

/// Checks the token, registers the commands (only when they changed), connects the gateway and
/// returns once the client runs. Every start-up failure is an error naming what failed; nothing
/// waits forever.
pub async fn start(cfg: &DiscordConfig, services: Services) -> anyhow::Result<Bot> {
    let token = cfg
        .token
        .as_ref()
        .context("DISCORD_TOKEN is not set")?
        .expose()
        .to_owned();
    let rest =
        Arc::new(Rest::new(&token, cfg.api_base.as_deref()).context("building the HTTP client")?);
    let me = rest.current_user().await.map_err(|e| match e.status() {
        Some(401) => anyhow::anyhow!(
            "Discord rejected DISCORD_TOKEN (401 Unauthorized): check the bot token"
        ),
        _ => anyhow::Error::new(e).context("checking DISCORD_TOKEN with Discord"),
    })?;
    let app = rest
        .current_application()
        .await
        .context("reading the bot's application from Discord")?;
    rest.set_application_id(app.id);
    tracing::info!(bot = %me.username, bot_id = me.id, application = app.id, "Discord token accepted");
    if cfg.members_intent && !app.members_intent_enabled() {
        // Discord would close the gateway with 4014; say it now, in words that fix it.
        tracing::warn!(
            flags = app.flags,
            "the application's Server Members Intent looks disabled: {MEMBERS_INTENT_FIX}"
        );
    }

    let commands = commands::all();
    if let Some(g) = cfg.dev_guild {
        // The dev guild's 100 command slots hold the built-ins too.
        let builtins = poise::builtins::create_application_commands(&commands).len();
        services.custom.reserve_for_builtins(g, builtins);
    }
    register::register_if_changed(&rest, &services, &commands, cfg.dev_guild)
        .await
        .context("registering slash commands with Discord")?;

    let data = Arc::new(BotData {
        services: std::sync::RwLock::new(Some(services.clone())),
        rest: rest.clone(),
        dev_guild: cfg.dev_guild,
        register_lock: tokio::sync::Mutex::new(()),
    });
    let bot_data = data.clone();
    let framework = poise::Framework::builder()
        .options(on_error::framework_options(commands))
        .initialize_owners(false)
        .setup(move |_ctx, ready, _framework| {
            Box::pin(async move {
                tracing::info!(
                    guilds = ready.guilds.len(),
                    "connected to the Discord gateway"
                );
                Ok(data)
            })
        })
        .build();

    let mut http = serenity::HttpBuilder::new(&token).application_id(app.id.into());
    if let Some(base) = &cfg.api_base {
        // Serenity's rate limiter ignores the proxy and would talk to discord.com directly.
        http = http.proxy(base.clone()).ratelimiter_disabled(true);
    }
    let mut intents = serenity::GatewayIntents::GUILDS;
    if cfg.members_intent {
        intents |= serenity::GatewayIntents::GUILD_MEMBERS;
    }
    // The stored presence goes out with IDENTIFY; later changes go to every shard.
    let (activity, online) = presence::presence_data(&presence::stored_presence(&bot_data).await);
    let mut builder = serenity::ClientBuilder::new_with_http(http.build(), intents)
        .framework(framework)
        .event_handler(presence::StatusHandler {
            data: bot_data.clone(),
            status: services.bot.clone(),
        })
        .status(online);
    if let Some(activity) = activity {
        builder = builder.activity(activity);
    }
    let mut client = builder.await.context("building the Discord client")?;
    let shard_manager = client.shard_manager.clone();
    let custom_listener = tokio::spawn(custom::listen(
        bot_data.clone(),
        client.cache.clone(),
        services.bus.subscribe(custom::filter()),
    ));
    let presence_listener = tokio::spawn(presence::listen(
        bot_data.clone(),
        shard_manager.clone(),
        services.bot.clone(),
        services.bus.subscribe(presence::filter()),
    ));
    // As many shards as Discord recommends (`GET /gateway/bot`): one shard takes 2,500 servers.
    let task = tokio::spawn(async move { client.start_autosharded().await });
    Ok(Bot {
        data: bot_data,
        shard_manager,
        task: Some(task),
        custom_listener,
        presence_listener,
        status: services.bot.clone(),
    })
}

impl Bot {
    /// The REST client the bot uses (token, base URL, global rate-limit pause), for the
    /// reconciler's production `DiscordApi`.
    pub fn rest(&self) -> Arc<Rest> {
        self.data.rest.clone()
    }

    /// Resolves only if the client stops on its own (a fatal gateway error such as a rejected
    /// token or disallowed intents).
    pub async fn stopped(&mut self) -> anyhow::Result<()> {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let res = tokio::select! {
            res = task => res,
            () = gateway_watch::sharding_required() => {
                // Serenity would IDENTIFY again forever: say why and stop the client. Not
                // through `shutdown_all`: serenity 0.12 waits for a close frame on the dead
                // socket in a loop that never yields. The runner ends with the runtime.
                tracing::error!("{}", gateway_watch::SHARDING_REQUIRED);
                if let Some(task) = self.task.take() {
                    task.abort();
                }
                anyhow::bail!(gateway_watch::SHARDING_REQUIRED);
            }
        };
        self.task = None;
        match res {
            Ok(Ok(())) => anyhow::bail!("the Discord client stopped"),
            Ok(Err(e)) => Err(gateway_error(e).context("the Discord client stopped")),
            Err(e) => Err(anyhow::anyhow!("the Discord client task failed: {e}")),
        }
    }

    /// Closes every shard and waits for the client to finish.
    pub async fn stop(self) -> anyhow::Result<()> {
        // First, so no restart it is doing races the shutdown.
        self.presence_listener.abort();
        let _ = self.presence_listener.await;
        if self.task.is_some() {
            // (A client `stopped` already ended has no shards left to close.)
            self.shard_manager.shutdown_all().await;
        }
        self.custom_listener.abort();
        let _ = self.custom_listener.await;
        self.status.set_connection(crate::instance::Connection::Off);
        self.data.release();
        let Some(task) = self.task else {
            return Ok(());
        };
        match tokio::time::timeout(std::time::Duration::from_secs(10), task).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(anyhow::anyhow!("the Discord client task failed: {e}")),
            Err(_) => anyhow::bail!("the Discord client did not stop within 10 s"),
        }
    }
}

/// Our id for a serenity guild id.
pub fn guild_id(g: serenity::GuildId) -> GuildId {
    GuildId(g.get())
}

/// Our id for a serenity user id.
pub fn user_id(u: serenity::UserId) -> UserId {
    UserId(u.get())
}
