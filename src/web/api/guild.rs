//! One server's settings (JSON merge patch), what Discord told us about it (channels, roles,
//! members, for pickers), its role grants, and the Discord sync state of its messages with the
//! admin's retry / repost.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta};
use crate::domain::{GuildConfig, GuildId};
use crate::guild::{ChannelInfo, MemberInfo, RoleInfo};
use crate::guild::{GrantState, RoleGrant};
use crate::guild::{SyncKind, SyncRecord};
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::error::{ApiError, ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

/// The server's settings (the instance defaults until an admin changes one).
#[utoipa::path(get, path = "/api/{server_id}/config", tag = "config",
    params(("server_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = GuildConfig), (status = 401, body = ErrorBody)))]
pub async fn get_config(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
) -> ApiResult<Json<GuildConfig>> {
    Ok(Json(
        blocking(&s, move |svc| svc.guilds.config(guild)).await?,
    ))
}

/// Changes settings (admin) with a JSON merge patch: only the keys sent change (`features`
/// merges key by key); `null` clears an optional setting. An unknown key or a bad value is
/// refused with 422 naming it (`details.field`), and nothing changes.
#[utoipa::path(put, path = "/api/{server_id}/config", tag = "config",
    params(("server_id" = String, Path)),
    request_body(content = GuildConfig, description = "A merge patch: any subset of these keys"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = GuildConfig, description = "The settings after the change"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_config(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(patch): crate::web::body::Body<serde_json::Value>,
) -> ApiResult<Json<GuildConfig>> {
    check_config_patch(&patch)?;
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| {
            svc.guilds.update_config(guild, &patch, &meta)
        })
        .await?,
    ))
}

/// The config keys that hold ids (channels one each, roles a list).
const CHANNEL_KEYS: [&str; 5] = [
    "log_channel",
    "welcome_channel",
    "task_channel_id",
    "shop_channel_id",
    "announcement_channel_id",
];
const ROLE_LIST_KEYS: [&str; 2] = ["admin_roles", "moderator_roles"];

/// Reads the patch's ids as the document types them (strings of digits, `ID_PATTERN`) before
/// the service merges it (which also reads stored rows, where ids may be numbers); the other
/// keys are the service's to check.
fn check_config_patch(patch: &serde_json::Value) -> ApiResult<()> {
    let Some(keys) = patch.as_object() else {
        return Ok(());
    };
    let is_id = |v: &serde_json::Value| v.as_str().is_some_and(crate::web::contract::is_id);
    for (k, v) in keys {
        let ok = if CHANNEL_KEYS.contains(&k.as_str()) {
            v.is_null() || is_id(v)
        } else if ROLE_LIST_KEYS.contains(&k.as_str()) {
            v.as_array().is_some_and(|a| a.iter().all(is_id))
        } else {
            true
        };
        if !ok {
            return Err(ApiError::from(crate::domain::DomainError::invalid(
                k,
                "must be an id: a string of 1 to 19 digits, no leading zero",
            )));
        }
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChannelQuery {
    /// Only channels a message can be posted in (text, news). Default false.
    pub postable_only: Option<bool>,
}

/// The server's channels by position: `id`, `name`, `kind` (text, news, forum, voice,
/// category, other), `position`, `parent`.
#[utoipa::path(get, path = "/api/{server_id}/channels", tag = "config",
    params(("server_id" = String, Path), ChannelQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<ChannelInfo>)))]
pub async fn channels(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<ChannelQuery>,
) -> ApiResult<Json<Vec<ChannelInfo>>> {
    let postable = q.postable_only.unwrap_or(false);
    Ok(Json(
        blocking(&s, move |svc| svc.guilds.channels(guild, postable)).await?,
    ))
}

/// The server's roles: `id`, `name`, `position`, `color`, `managed`.
#[utoipa::path(get, path = "/api/{server_id}/roles", tag = "config",
    params(("server_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<RoleInfo>)))]
pub async fn roles(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
) -> ApiResult<Json<Vec<RoleInfo>>> {
    Ok(Json(
        blocking(&s, move |svc| svc.guilds.roles(guild)).await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    #[param(inline)]
    pub offset: Option<crate::web::contract::Offset>,
    /// 1 to 1000 (default 100).
    #[param(inline)]
    pub limit: Option<crate::web::contract::Ranged<1, 1000>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberPage {
    /// `user`, `name`, `display_name`, `avatar_url`, `seen_at`.
    pub items: Vec<MemberInfo>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// Members Coffer has seen, in user id order (for pickers).
#[utoipa::path(get, path = "/api/{server_id}/members", tag = "config",
    params(("server_id" = String, Path), MemberQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = MemberPage), (status = 400, body = ErrorBody)))]
pub async fn members(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<MemberQuery>,
) -> ApiResult<Json<MemberPage>> {
    let limit = q.limit.map_or(100, |l| l.get());
    let offset = q.offset.map_or(0, |o| o.get());
    let page = blocking(&s, move |svc| svc.guilds.members(guild, offset, limit)).await?;
    Ok(Json(MemberPage {
        items: page.items,
        total: page.total,
        offset: page.offset,
        limit: page.limit,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantQuery {
    /// pending, granted or failed.
    #[param(inline)]
    pub state: Option<crate::web::contract::GrantStateWord>,
}

/// Role rewards recorded by tasks and purchases, oldest first: `id`, `user`, `role`, `reason`,
/// `state` (pending, granted, failed), `error`, `created_at`, `updated_at`.
#[utoipa::path(get, path = "/api/{server_id}/role-grants", tag = "config",
    params(("server_id" = String, Path), GrantQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<RoleGrant>), (status = 400, body = ErrorBody)))]
pub async fn role_grants(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<GrantQuery>,
) -> ApiResult<Json<Vec<RoleGrant>>> {
    let state = match q.state.map(|w| w.as_str()) {
        None => None,
        Some("pending") => Some(GrantState::Pending),
        Some("granted") => Some(GrantState::Granted),
        Some("failed") => Some(GrantState::Failed),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "state",
                "state must be pending, granted or failed",
            ))
        }
    };
    let mut grants = blocking(&s, move |svc| svc.guilds.role_grants(guild, false)).await?;
    grants.retain(|g| state.is_none_or(|s| g.state == s));
    Ok(Json(grants))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// task, shop_item, announcement, embed or review.
    #[param(inline)]
    pub kind: Option<crate::web::contract::SyncKindWord>,
    /// pending, synced, orphaned or failed.
    #[param(inline)]
    pub state: Option<crate::web::contract::SyncStateWord>,
}

fn parse_kind(s: &str) -> ApiResult<SyncKind> {
    SyncKind::parse(s.trim()).ok_or_else(|| {
        ApiError::invalid_param(
            "kind",
            "kind must be task, shop_item, announcement, embed or review",
        )
    })
}

/// The Discord sync state of every message of the server: `kind`, `object`, `channel`,
/// `message_id`, `desired_version`, `synced_version`, `delete`, `state` (pending, synced,
/// orphaned, failed), `attempts`, `next_attempt_at`, `last_error`, `updated_at`.
#[utoipa::path(get, path = "/api/{server_id}/sync", tag = "sync",
    params(("server_id" = String, Path), SyncQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<SyncRecord>), (status = 400, body = ErrorBody)))]
pub async fn sync_records(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<SyncQuery>,
) -> ApiResult<Json<Vec<SyncRecord>>> {
    let kind = q.kind.map(|k| parse_kind(k.as_str())).transpose()?;
    let state = match q.state.map(|w| w.as_str()) {
        None => None,
        Some(v) => Some(
            serde_json::from_value::<crate::guild::SyncState>(serde_json::json!(v)).map_err(
                |_| {
                    ApiError::invalid_param(
                        "state",
                        "state must be pending, synced, orphaned or failed",
                    )
                },
            )?,
        ),
    };
    let mut records = blocking(&s, move |svc| svc.guilds.sync_records(guild)).await?;
    records.retain(|r| kind.is_none_or(|k| r.kind == k) && state.is_none_or(|s| r.state == s));
    Ok(Json(records))
}

/// Retries a message's sync now (admin): attempts and backoff reset, versions kept.
#[utoipa::path(post, path = "/api/{server_id}/sync/{kind}/{object_id}/retry", tag = "sync",
    params(("server_id" = String, Path),
        ("kind" = String, Path, description = "task, shop_item, announcement, embed or review"),
        ("object_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SyncRecord), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_sync(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, kind, object)): Path<(GuildId, String, u64)>,
) -> ApiResult<Json<SyncRecord>> {
    let kind = parse_kind(&kind)?;
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| {
            svc.guilds.retry_sync(guild, kind, object, &meta)
        })
        .await?,
    ))
}

/// Posts a fresh message for an orphaned or failed record (admin): the old message id is
/// forgotten and the reconciler posts a new one.
#[utoipa::path(post, path = "/api/{server_id}/sync/{kind}/{object_id}/repost", tag = "sync",
    params(("server_id" = String, Path),
        ("kind" = String, Path, description = "task, shop_item, announcement, embed or review"),
        ("object_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = SyncRecord), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn repost_sync(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, kind, object)): Path<(GuildId, String, u64)>,
) -> ApiResult<Json<SyncRecord>> {
    let kind = parse_kind(&kind)?;
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| {
            svc.guilds.repost_sync(guild, kind, object, &meta)
        })
        .await?,
    ))
}
