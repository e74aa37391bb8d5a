//! Custom commands: the old bot's global-looking paths (`/api/commands?server_id=..`, kept so
//! existing scripts work; the server id is required) and the per-server ones. Writes go through
//! `CustomCommands` with the dashboard account as actor (audited).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta};
use crate::domain::custom_command::CustomCommand;
use crate::domain::{GuildId, IdemKey};
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::error::{ApiError, ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerQuery {
    /// The Discord server id (required).
    pub server_id: Option<String>,
}

impl ServerQuery {
    fn guild(&self) -> ApiResult<GuildId> {
        let s = self.server_id.as_deref().unwrap_or("");
        if s.is_empty() {
            return Err(ApiError::invalid_param(
                "server_id",
                "server_id is required: custom commands belong to one server",
            ));
        }
        // 0 is the instance's own namespace, never a server.
        Some(s)
            .filter(|s| crate::web::contract::is_id(s))
            .and_then(|s| s.parse::<u64>().ok())
            .map(GuildId)
            .ok_or_else(|| {
                ApiError::invalid_param("server_id", format!("server_id: `{s}` is not a server id"))
            })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// 1 to 32 of a-z, 0-9, `-`, `_`; not a built-in command.
    pub name: String,
    /// The reply; `{user}`, `{server}`, `{balance}` and `{currency}` are filled in.
    pub response: String,
    /// Replace an existing command of that name (default false: refused with 409).
    #[serde(default)]
    pub overwrite: bool,
}

async fn list(s: &WebState, guild: GuildId) -> ApiResult<Json<Vec<CustomCommand>>> {
    Ok(Json(blocking(s, move |svc| svc.custom.list(guild)).await?))
}

async fn create(
    s: &WebState,
    auth: &Auth,
    key: Option<IdemKey>,
    guild: GuildId,
    req: CommandRequest,
) -> ApiResult<(StatusCode, Json<CustomCommand>)> {
    let meta = dashboard_meta(auth, key);
    let cmd = blocking(s, move |svc| {
        svc.custom
            .create(guild, &req.name, &req.response, req.overwrite, &meta)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(cmd)))
}

async fn delete(
    s: &WebState,
    auth: &Auth,
    key: Option<IdemKey>,
    guild: GuildId,
    name: String,
) -> ApiResult<Json<CustomCommand>> {
    let meta = dashboard_meta(auth, key);
    Ok(Json(
        blocking(s, move |svc| svc.custom.delete(guild, &name, &meta)).await?,
    ))
}

/// A server's custom commands, by name: `name`, `response`, `created_by`, `created_at`,
/// `updated_at`. (Old path; `server_id` is required.)
#[utoipa::path(get, path = "/api/commands", tag = "commands",
    params(ServerQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<CustomCommand>), (status = 400, body = ErrorBody)))]
pub async fn list_legacy(
    State(s): State<WebState>,
    _auth: Auth,
    Query(q): Query<ServerQuery>,
) -> ApiResult<Json<Vec<CustomCommand>>> {
    list(&s, q.guild()?).await
}

/// Creates (or with `overwrite`, replaces) a custom command (admin). Old path; `server_id`
/// is required.
#[utoipa::path(post, path = "/api/commands", tag = "commands",
    params(ServerQuery),
    request_body = CommandRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = CustomCommand), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_legacy(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Query(q): Query<ServerQuery>,
    crate::web::body::Body(req): crate::web::body::Body<CommandRequest>,
) -> ApiResult<(StatusCode, Json<CustomCommand>)> {
    create(&s, &auth, key, q.guild()?, req).await
}

/// Deletes a custom command (admin). Old path; `server_id` is required.
#[utoipa::path(delete, path = "/api/commands/{name}", tag = "commands",
    params(("name" = String, Path), ServerQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CustomCommand, description = "The deleted command"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_legacy(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(name): Path<String>,
    Query(q): Query<ServerQuery>,
) -> ApiResult<Json<CustomCommand>> {
    delete(&s, &auth, key, q.guild()?, name).await
}

/// A server's custom commands, by name.
#[utoipa::path(get, path = "/api/{server_id}/commands", tag = "commands",
    params(("server_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<CustomCommand>)))]
pub async fn list_commands(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
) -> ApiResult<Json<Vec<CustomCommand>>> {
    list(&s, guild).await
}

/// Creates (or with `overwrite`, replaces) a custom command (admin).
#[utoipa::path(post, path = "/api/{server_id}/commands", tag = "commands",
    params(("server_id" = String, Path)),
    request_body = CommandRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = CustomCommand), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_command(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(req): crate::web::body::Body<CommandRequest>,
) -> ApiResult<(StatusCode, Json<CustomCommand>)> {
    create(&s, &auth, key, guild, req).await
}

/// Deletes a custom command (admin).
#[utoipa::path(delete, path = "/api/{server_id}/commands/{name}", tag = "commands",
    params(("server_id" = String, Path), ("name" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = CustomCommand, description = "The deleted command"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_command(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, name)): Path<(GuildId, String)>,
) -> ApiResult<Json<CustomCommand>> {
    delete(&s, &auth, key, guild, name).await
}
