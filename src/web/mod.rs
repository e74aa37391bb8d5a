//! The HTTP door: for now health and status; the JSON API, auth, SSE and export hang off this
//! router in later work. Handlers call services, never tables.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::Services;

#[derive(Clone)]
pub struct WebState {
    pub services: Services,
    pub started: Arc<Instant>,
}

pub fn router(services: Services) -> Router {
    let state = WebState {
        services,
        started: Arc::new(Instant::now()),
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/status", get(status))
        .with_state(state)
}

async fn status(State(s): State<WebState>) -> Json<serde_json::Value> {
    let guilds = s.services.store.guild_ids().map(|g| g.len()).unwrap_or(0);
    Json(json!({
        "online": true,
        "uptime_seconds": s.started.elapsed().as_secs(),
        "guilds": guilds,
        "version": env!("CARGO_PKG_VERSION"),
        "discord": if s.services.discord_enabled { "connecting" } else { "off" },
    }))
}
