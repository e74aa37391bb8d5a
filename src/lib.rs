//! Coffer: a Discord economy bot with an embedded redb store and an admin dashboard.
//! `tests/` builds the real app through this crate.
//!
//! Layers, each using only the ones below it (no import cycles between top-level modules):
//! - `app` (wiring) -> the doors `discord`, `web` -> `services` (`Services`: every service, the
//!   event bus, the clock; no store) -> the services `economy`, `shop`, `tasks`, `announce`,
//!   `custom`, `guild`, `accounts`, `instance`, `backup` -> `store` (redb; the only module that opens
//!   tables) -> `domain` (types and rules, no I/O).
//! - Beside them: `config`, `clock`, `events`, `error` (the service error), `telemetry`
//!   (logging), `metrics` (the Prometheus registry, a leaf), and `testing` (test-only helpers).

pub mod accounts;
pub mod announce;
pub mod app;
pub mod backup;
pub mod clock;
pub mod config;
pub mod custom;
pub mod demo;
pub mod discord;
pub mod domain;
pub mod economy;
pub mod error;
pub mod events;
pub mod guild;
pub mod instance;
pub mod metrics;
pub mod services;
pub mod shop;
pub mod store;
pub mod sync;
pub mod tasks;
pub mod telemetry;
#[cfg(test)]
pub mod testing;
pub mod web;

pub use error::{Error, Result};
