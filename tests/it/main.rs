//! The one integration test binary: the real Coffer app and the real `coffer` binary against
//! fakes of the outside world. Each area adds a module here; `support` starts apps and captures
//! logs, `fake_discord` is the loopback Discord.

// Large `json!` payloads (a whole GUILD_CREATE) need more macro recursion.
#![recursion_limit = "256"]

mod bot_status;
mod browser;
mod cli;
mod crash;
mod discord;
mod discord_shop;
mod discord_tasks;
mod fake_discord;
mod ops;
mod support;
mod sync;
