//! Coffer: a Discord economy bot with an embedded redb store and an admin dashboard.
//! Modules follow DESIGN.md; `tests/` builds the real app through this crate.

pub mod accounts;
pub mod announce;
pub mod app;
pub mod clock;
pub mod config;
pub mod custom;
pub mod discord;
pub mod domain;
pub mod economy;
pub mod error;
pub mod events;
pub mod guild;
pub mod instance;
pub mod services;
pub mod shop;
pub mod store;
pub mod tasks;
pub mod telemetry;
#[cfg(test)]
pub mod testing;
pub mod web;

pub use error::{Error, Result};
