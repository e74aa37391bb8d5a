//! Instance-level endpoints: settings (config-file defaults, read-only, plus runtime settings),
//! the whole-instance export, recent logs, the bot's presence, and the restart request.
//! Changes are audited under server `0` (see `/api/audit/0`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta};
use crate::instance::{BotPresence, RuntimeSettings};
use crate::telemetry::logbuf::{rank, LogLine};
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::error::{ApiError, ApiResult, ErrorBody, Json, Query};
use crate::web::WebState;

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    /// The settings a new server starts with, from `config.toml` (read-only here).
    pub guild_defaults: crate::domain::GuildConfig,
    /// Changeable with `PUT /api/settings`: `dashboard_notice`, `log_buffer_level`.
    pub runtime: RuntimeSettings,
    pub discord_enabled: bool,
    pub version: String,
}

/// Instance settings: the per-server defaults from the config file, and the runtime settings.
#[utoipa::path(get, path = "/api/settings", tag = "instance",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody)))]
pub async fn get_settings(State(s): State<WebState>, _auth: Auth) -> ApiResult<Json<SettingsView>> {
    let view = blocking(&s, |svc| {
        Ok(SettingsView {
            guild_defaults: svc.instance.guild_defaults().clone(),
            runtime: svc.instance.settings()?,
            discord_enabled: svc.discord_enabled,
            version: env!("CARGO_PKG_VERSION").into(),
        })
    })
    .await?;
    Ok(Json(view))
}

/// Changes runtime settings (admin) with a merge patch: `dashboard_notice` (text or null),
/// `log_buffer_level` (trace, debug, info, warn, error: also the level of the console output
/// from now until the next start). Unknown keys or bad values: 422 naming the key. The
/// config-file defaults can't be changed here.
#[utoipa::path(put, path = "/api/settings", tag = "instance",
    request_body(content = RuntimeSettings, description = "A merge patch: any subset of these keys"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = RuntimeSettings, description = "The runtime settings"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    crate::web::body::Body(patch): crate::web::body::Body<serde_json::Value>,
) -> ApiResult<Json<RuntimeSettings>> {
    let meta = dashboard_meta(&auth, key);
    let level_changed = patch.get("log_buffer_level").is_some();
    let next = blocking(&s, move |svc| svc.instance.update_settings(&patch, &meta)).await?;
    s.settings.logs.set_min_level(&next.log_buffer_level);
    if level_changed {
        // The outputs' filter follows, so the buffer can hold what the new level lets through.
        match crate::telemetry::set_level(&next.log_buffer_level) {
            Ok(true) => {
                tracing::info!(level = %next.log_buffer_level, "log level changed on the dashboard")
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "log level not changed"),
        }
    }
    Ok(Json(next))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only this server.
    pub guild: Option<String>,
    /// json (default: everything) or csv (the server's ledger; without `guild`, every
    /// server's, each row led by `guild_id`).
    #[param(inline, value_type = Option<crate::web::contract::FormatWord>)]
    pub format: Option<String>,
}

/// Streams everything as JSON, one server at a time: `{format, version, exported_at,
/// guilds: [{id, info, config, accounts, ledger, items, inventory, tasks, claims,
/// custom_commands}]}` (what `coffer import` reads), all servers or `guild`; or with
/// `format=csv` that server's ledger as CSV (every server's without `guild`).
#[utoipa::path(get, path = "/api/export", tag = "instance",
    params(ExportQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "JSON, or with `format=csv` the ledger as CSV",
            content((serde_json::Value = "application/json"), (String = "text/csv"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn export_instance(
    State(s): State<WebState>,
    _auth: Auth,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let guild = match q.guild.as_deref() {
        None => None,
        Some(g) => match g.parse::<u64>() {
            Ok(id) if crate::web::contract::is_id(g) => Some(crate::domain::GuildId(id)),
            _ => {
                return Err(ApiError::invalid_param(
                    "guild",
                    "guild must be a server id.",
                ))
            }
        },
    };
    let csv = match q.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        _ => {
            return Err(ApiError::invalid_param(
                "format",
                "format must be json or csv.",
            ))
        }
    };
    let instance = s.services.instance.clone();
    let now = s.services.now();
    let stamp = now.format("%Y%m%d-%H%M%S");
    let (body, content_type, name) = match (csv, guild) {
        (true, None) => (
            crate::web::export::stream_body(move |out| instance.write_all_ledgers_csv(out)),
            "text/csv; charset=utf-8",
            format!("coffer-ledgers-{stamp}.csv"),
        ),
        (true, Some(g)) => (
            crate::web::export::stream_body(move |out| instance.write_ledger_csv(g, out)),
            "text/csv; charset=utf-8",
            format!("coffer-ledger-{g}-{stamp}.csv"),
        ),
        (false, g) => (
            crate::web::export::stream_body(move |out| instance.write_export_of(g, now, out)),
            "application/json",
            format!("coffer-export-{stamp}.json"),
        ),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Least severe level shown: trace, debug, info, warn, error.
    #[param(inline)]
    pub level: Option<crate::web::contract::LevelWord>,
    /// Only lines whose message or target contains this (case-insensitive).
    pub q: Option<String>,
    /// The newest this many lines (1 to 2000, default 200).
    #[param(inline)]
    pub limit: Option<crate::web::contract::Ranged<1, 2000>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogsView {
    /// Oldest first: `at`, `level`, `target`, `message`.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<LogLine>,
}

/// Recent log lines of this process (an in-memory ring buffer; lost on restart).
#[utoipa::path(get, path = "/api/logs", tag = "instance",
    params(LogQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = LogsView), (status = 400, body = ErrorBody)))]
pub async fn get_logs(
    State(s): State<WebState>,
    _auth: Auth,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<LogsView>> {
    let level = match q.level {
        None => None,
        Some(l) => Some(rank(l.as_str()).ok_or_else(|| {
            ApiError::invalid_param("level", "level must be trace, debug, info, warn or error")
        })?),
    };
    let limit = q.limit.map_or(200, |l| l.get() as usize);
    Ok(Json(LogsView {
        lines: s.settings.logs.query(level, q.q.as_deref(), limit),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Cleared {
    pub cleared: u64,
}

/// Empties the log buffer (admin; audited as `logs.clear`).
#[utoipa::path(delete, path = "/api/logs", tag = "instance",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Cleared), (status = 403, body = ErrorBody)))]
pub async fn clear_logs(State(s): State<WebState>, auth: Auth) -> ApiResult<Json<Cleared>> {
    let cleared = s.settings.logs.clear() as u64;
    let actor = auth.actor();
    blocking(&s, move |svc| {
        svc.instance.record(
            &actor,
            "logs.clear",
            serde_json::json!({ "cleared": cleared }),
        )
    })
    .await?;
    Ok(Json(Cleared { cleared }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BotStatusView {
    /// online, idle, dnd or invisible.
    pub status: String,
    /// playing, watching, listening, competing or custom.
    pub activity_type: String,
    pub text: String,
    /// The Discord connection: `off` (no token), `connecting`, `connected` or `reconnecting`.
    pub discord: String,
    /// Servers the Discord gateway reported (0 until connected).
    pub discord_guilds: u64,
    pub restart_requested_at: Option<DateTime<Utc>>,
}

async fn status_view(s: &WebState) -> ApiResult<BotStatusView> {
    let (p, restart) = blocking(s, |svc| {
        Ok((svc.instance.presence()?, svc.instance.restart_request()?))
    })
    .await?;
    let bot = s.services.bot.get();
    Ok(BotStatusView {
        status: p.status,
        activity_type: p.activity_type,
        text: p.text,
        discord: bot.connection.as_str().into(),
        discord_guilds: bot.guilds,
        restart_requested_at: restart.map(|r| r.requested_at),
    })
}

/// The presence the bot shows on Discord, and the connection's live state.
#[utoipa::path(get, path = "/api/bot/status", tag = "instance",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = BotStatusView), (status = 401, body = ErrorBody)))]
pub async fn get_bot_status(
    State(s): State<WebState>,
    _auth: Auth,
) -> ApiResult<Json<BotStatusView>> {
    Ok(Json(status_view(&s).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BotStatusRequest {
    /// online (default), idle, dnd or invisible.
    pub status: Option<String>,
    /// playing, watching, listening, competing or custom (default).
    pub activity_type: Option<String>,
    /// At most 128 characters; empty = no activity.
    pub text: Option<String>,
}

/// Sets the bot's presence (admin; audited as `bot.status`, announced as `bot_status_changed`
/// on server 0); the bot applies it to every shard at once. Absent fields keep their current
/// value.
#[utoipa::path(put, path = "/api/bot/status", tag = "instance",
    request_body = BotStatusRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = BotStatusView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_bot_status(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    crate::web::body::Body(req): crate::web::body::Body<BotStatusRequest>,
) -> ApiResult<Json<BotStatusView>> {
    let meta = dashboard_meta(&auth, key);
    blocking(&s, move |svc| {
        let i = &svc.instance;
        let cur = i.presence()?;
        let next = BotPresence {
            // Exactly the document's words: nothing trimmed or lower-cased into one.
            status: req.status.unwrap_or(cur.status),
            activity_type: req.activity_type.unwrap_or(cur.activity_type),
            text: req.text.unwrap_or(cur.text).trim().to_owned(),
        };
        i.set_presence(next, &meta)
    })
    .await?;
    Ok(Json(status_view(&s).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RestartView {
    pub requested_at: DateTime<Utc>,
    pub note: String,
}

/// Restarts the Discord connection (admin; audited as `bot.restart`): records the request and
/// publishes `restart_requested` on server 0; the bot then closes and re-identifies every shard
/// (`discord` reads `reconnecting`, then `connected`). The process and web server keep running.
#[utoipa::path(post, path = "/api/restart", tag = "instance",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 202, body = RestartView), (status = 403, body = ErrorBody)))]
pub async fn restart(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
) -> ApiResult<(StatusCode, Json<RestartView>)> {
    let meta = dashboard_meta(&auth, key);
    let r = blocking(&s, move |svc| svc.instance.request_restart(&meta)).await?;
    let note = if s.services.discord_enabled {
        "Restart requested: the Discord connection closes and reconnects; watch `discord` in \
         GET /api/bot/status."
    } else {
        "Restart recorded, but the Discord bot is off (no DISCORD_TOKEN): nothing to reconnect."
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(RestartView {
            requested_at: r.requested_at,
            note: note.into(),
        }),
    ))
}
