//! Bot status (public) and the list of servers Coffer knows.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::blocking;
use crate::instance::GuildSummary;
use crate::web::auth::Auth;
use crate::web::error::{ApiResult, ErrorBody, Json};
use crate::web::WebState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    pub online: bool,
    pub uptime_seconds: u64,
    pub guilds: u64,
    pub version: String,
    /// The Discord connection: `off` (no token), `connecting`, `connected` or `reconnecting`.
    pub discord: String,
    /// Servers the Discord gateway reported (0 until connected).
    pub discord_guilds: u64,
}

/// Whether Coffer is up, for how long, and how many servers it holds.
#[utoipa::path(get, path = "/api/status", tag = "status",
    responses((status = 200, body = StatusView)))]
pub async fn status(State(s): State<WebState>) -> ApiResult<Json<StatusView>> {
    let guilds = blocking(&s, |svc| svc.instance.guild_count()).await?;
    let bot = s.services.bot.get();
    Ok(Json(StatusView {
        online: true,
        uptime_seconds: s.started.elapsed().as_secs(),
        guilds,
        version: env!("CARGO_PKG_VERSION").into(),
        discord: bot.connection.as_str().into(),
        discord_guilds: bot.guilds,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServerView {
    pub id: String,
    /// Empty until Discord has told us the name.
    pub name: String,
    pub icon_url: Option<String>,
    pub member_count: u64,
    pub joined_at: Option<DateTime<Utc>>,
    /// Set when the bot was removed from the server (its data is kept).
    pub left_at: Option<DateTime<Utc>>,
    pub accounts: u64,
}

impl From<GuildSummary> for ServerView {
    fn from(g: GuildSummary) -> Self {
        ServerView {
            id: g.id.to_string(),
            name: g.info.name,
            icon_url: g.info.icon_url,
            member_count: g.info.member_count,
            joined_at: g.info.joined_at,
            left_at: g.info.left_at,
            accounts: g.accounts,
        }
    }
}

/// Every server with stored state.
#[utoipa::path(get, path = "/api/servers", tag = "servers",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<ServerView>), (status = 401, body = ErrorBody)))]
pub async fn servers(State(s): State<WebState>, _auth: Auth) -> ApiResult<Json<Vec<ServerView>>> {
    let guilds = blocking(&s, |svc| svc.instance.guilds()).await?;
    Ok(Json(guilds.into_iter().map(ServerView::from).collect()))
}
