//! `Services`: the one handle both doors (Discord, web) hold. Every read or write a door needs
//! is a method of one of these services; `app.rs` builds it, nothing here does I/O by itself.

use crate::announce::Announce;
use crate::custom::CustomCommands;
use crate::economy::Economy;
use crate::guild::Guilds;
use crate::shop::Shop;
use crate::store::Store;
use crate::tasks::Tasks;

/// Every service, cheap to clone; the doors (web, Discord) hold one.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    pub economy: Economy,
    pub shop: Shop,
    pub tasks: Tasks,
    pub announce: Announce,
    pub custom: CustomCommands,
    pub guilds: Guilds,
    pub discord_enabled: bool,
    /// The Discord connection's live state (the Discord side updates it, the web reports it).
    pub bot: crate::instance::BotStatus,
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
            economy,
            store,
            discord_enabled,
            bot: crate::instance::BotStatus::new(discord_enabled),
        }
    }
}
