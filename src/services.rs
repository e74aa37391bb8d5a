//! `Services`: the one handle both doors (Discord, web) hold. Every read or write a door needs
//! is a method of one of these services; `app.rs` builds it, nothing here does I/O by itself.

use crate::accounts::Accounts;
use crate::announce::Announce;
use crate::clock::SharedClock;
use crate::custom::CustomCommands;
use crate::economy::Economy;
use crate::events::EventBus;
use crate::guild::{CommandLog, Guilds};
use crate::instance::{BotStatus, Instance};
use crate::shop::Shop;
use crate::store::Store;
use crate::tasks::Tasks;

/// Every service, cheap to clone; the doors (web, Discord) hold one.
#[derive(Clone)]
pub struct Services {
    /// Being removed: doors must not reach the store (issue 8). Use a service method.
    pub store: Store,
    pub economy: Economy,
    pub shop: Shop,
    pub tasks: Tasks,
    pub announce: Announce,
    pub custom: CustomCommands,
    pub guilds: Guilds,
    pub command_log: CommandLog,
    pub instance: Instance,
    /// Dashboard accounts and their login sessions.
    pub accounts: Accounts,
    /// Change events, for subscribers (SSE, the Discord side's listeners).
    pub bus: EventBus,
    /// The clock every rule reads (settable in tests).
    pub clock: SharedClock,
    pub discord_enabled: bool,
    /// The Discord connection's live state (the Discord side updates it, the web reports it).
    pub bot: BotStatus,
}

impl Services {
    pub fn new(store: Store, discord_enabled: bool) -> Services {
        let economy = Economy::new(store.clone());
        Services {
            shop: Shop::new(store.clone(), economy.clone()),
            tasks: Tasks::new(store.clone()),
            announce: Announce::new(store.clone()),
            custom: CustomCommands::new(store.clone()),
            guilds: Guilds::new(store.clone()),
            command_log: CommandLog::new(store.clone()),
            instance: Instance::new(store.clone()),
            accounts: Accounts::new(store.clone()),
            bus: store.bus().clone(),
            clock: store.clock().clone(),
            economy,
            store,
            discord_enabled,
            bot: BotStatus::new(discord_enabled),
        }
    }

    /// The clock's current reading.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// Runs blocking service work (a redb transaction underneath) off the async worker threads,
/// inside the caller's tracing span. A panic or cancellation of the work is an internal error.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::Error> + Send + 'static,
) -> Result<T, crate::Error> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| crate::Error::Store(crate::store::StoreError::Join(e.to_string())))?
}
