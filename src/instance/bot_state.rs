//! The Discord connection's live state (off, connecting, connected with its guild count,
//! reconnecting): a small shared handle the Discord side updates and the web reads. Holds no
//! serenity types and does no I/O.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where the gateway connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// No Discord token: the bot does not run.
    Off,
    /// Starting, not yet ready.
    Connecting,
    /// Ready on the gateway.
    Connected,
    /// Was connected; a shard is reconnecting (a restart, or a dropped connection).
    Reconnecting,
}

impl Connection {
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Off => "off",
            Connection::Connecting => "connecting",
            Connection::Connected => "connected",
            Connection::Reconnecting => "reconnecting",
        }
    }
}

/// A snapshot of the bot's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BotState {
    pub connection: Connection,
    /// Servers the gateway reported (including ones Discord marks unavailable).
    pub guilds: u64,
}

/// The shared handle; clones see the same state.
#[derive(Debug, Clone)]
pub struct BotStatus(Arc<Mutex<BotState>>);

impl BotStatus {
    /// `connecting` when the bot will run, else `off`.
    pub fn new(discord_enabled: bool) -> BotStatus {
        let connection = if discord_enabled {
            Connection::Connecting
        } else {
            Connection::Off
        };
        BotStatus(Arc::new(Mutex::new(BotState {
            connection,
            guilds: 0,
        })))
    }

    pub fn get(&self) -> BotState {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_connection(&self, connection: Connection) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).connection = connection;
    }

    pub fn set_guilds(&self, guilds: u64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).guilds = guilds;
    }

    /// A shard left the connected stage: `reconnecting` if we were connected (a fresh start
    /// stays `connecting`).
    pub fn connection_lost(&self) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if s.connection == Connection::Connected {
            s.connection = Connection::Reconnecting;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_reconnecting_only_after_it_was_connected() {
        let s = BotStatus::new(true);
        assert_eq!(s.get().connection, Connection::Connecting);
        s.connection_lost();
        assert_eq!(s.get().connection, Connection::Connecting);
        let seen_by_web = s.clone();
        s.set_connection(Connection::Connected);
        s.set_guilds(3);
        s.connection_lost();
        assert_eq!(
            seen_by_web.get(),
            BotState {
                connection: Connection::Reconnecting,
                guilds: 3
            }
        );
        assert_eq!(BotStatus::new(false).get().connection, Connection::Off);
    }
}
