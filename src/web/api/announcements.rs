//! Announcements and embed templates of one server: list, create, read, edit, delete, pin and
//! unpin, and "announce this task". Writes go through `Announce` with the dashboard account as
//! actor (audited); the reconciler makes the Discord messages match.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta, optional_json};
use crate::announce::{AnnouncementPatch, EmbedTemplatePatch, NewAnnouncement, NewEmbedTemplate};
use crate::domain::announce::Announcement;
use crate::domain::embed::EmbedTemplate;
use crate::domain::{ChannelId, GuildId};
use crate::economy::Page;
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::error::{ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(inline)]
    pub offset: Option<crate::web::contract::Offset>,
    /// 1 to 500 (default: all).
    #[param(inline)]
    pub limit: Option<crate::web::contract::Ranged<1, 500>>,
}

/// A server's announcements, newest first. An announcement is `id`, `title`, `content`,
/// `embed`, `channel`, `pinned`, `allow_mentions`, `scheduled_at`, `origin`, `created_by`,
/// `created_at`, `updated_at`.
#[utoipa::path(get, path = "/api/{server_id}/announcements", tag = "announcements",
    params(("server_id" = String, Path), ListQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Announcement>, description = "{items, total, offset, limit}"),
        (status = 400, body = ErrorBody)))]
pub async fn list_announcements(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<Announcement>>> {
    // No limit: all of them.
    let limit = q.limit.map_or(0, |l| l.get());
    let offset = q.offset.map_or(0, |o| o.get());
    let page = blocking(&s, move |svc| svc.announce.list(guild, offset, limit)).await?;
    Ok(Json(page))
}

/// Creates an announcement (admin) and queues it for posting. Body: `title`, `content`,
/// `embed`, `embed_template` (an embed template id), `channel` (default: the server's
/// announcement channel), `pinned`, `allow_mentions` (let @everyone, @here, role and member
/// mentions in `content` ping; default false, so nothing pings), `scheduled_at`.
#[utoipa::path(post, path = "/api/{server_id}/announcements", tag = "announcements",
    params(("server_id" = String, Path)),
    request_body = NewAnnouncement,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Announcement), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_announcement(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(new): crate::web::body::Body<NewAnnouncement>,
) -> ApiResult<(StatusCode, Json<Announcement>)> {
    if let Some(t) = new.embed_template {
        crate::web::contract::positive_id("embed_template", t)?;
    }
    let meta = dashboard_meta(&auth, key);
    let a = blocking(&s, move |svc| svc.announce.create(guild, new, &meta)).await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// One announcement of this server.
#[utoipa::path(get, path = "/api/{server_id}/announcements/{announcement_id}", tag = "announcements",
    params(("server_id" = String, Path), ("announcement_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Announcement), (status = 404, body = ErrorBody)))]
pub async fn get_announcement(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Announcement>> {
    Ok(Json(
        blocking(&s, move |svc| svc.announce.get(guild, id)).await?,
    ))
}

/// Edits an announcement (admin); its Discord message is edited, not reposted. Absent fields
/// stay; `"embed": null` and `"scheduled_at": null` clear; `allow_mentions` turns pinging on
/// or off for later edits and posts.
#[utoipa::path(put, path = "/api/{server_id}/announcements/{announcement_id}", tag = "announcements",
    params(("server_id" = String, Path), ("announcement_id" = u64, Path)),
    request_body = AnnouncementPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Announcement), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_announcement(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    crate::web::body::Body(patch): crate::web::body::Body<AnnouncementPatch>,
) -> ApiResult<Json<Announcement>> {
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| svc.announce.edit(guild, id, patch, &meta)).await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct DeleteMessageFlag {
    /// Also delete the Discord message (default true); false leaves it up.
    pub delete_discord_message: Option<bool>,
}

/// The flag from the query, else the (optional) body, else true.
fn delete_flag(q: &DeleteMessageFlag, body: &Bytes) -> ApiResult<bool> {
    let b: DeleteMessageFlag = optional_json(body)?;
    Ok(q.delete_discord_message
        .or(b.delete_discord_message)
        .unwrap_or(true))
}

/// Deletes an announcement (admin); `delete_discord_message` (query or body, default true)
/// says whether its Discord message goes too.
#[utoipa::path(delete, path = "/api/{server_id}/announcements/{announcement_id}", tag = "announcements",
    params(("server_id" = String, Path), ("announcement_id" = u64, Path), DeleteMessageFlag),
    request_body(content = DeleteMessageFlag, description = "Optional"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Announcement, description = "The deleted announcement"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_announcement(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    Query(q): Query<DeleteMessageFlag>,
    body: Bytes,
) -> ApiResult<Json<Announcement>> {
    let delete_message = delete_flag(&q, &body)?;
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| {
            svc.announce.delete(guild, id, delete_message, &meta)
        })
        .await?,
    ))
}

/// Pins an announcement's message (admin).
#[utoipa::path(post, path = "/api/{server_id}/announcements/{announcement_id}/pin", tag = "announcements",
    params(("server_id" = String, Path), ("announcement_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Announcement), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pin(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Announcement>> {
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| svc.announce.pin(guild, id, &meta)).await?,
    ))
}

/// Unpins an announcement's message (admin).
#[utoipa::path(post, path = "/api/{server_id}/announcements/{announcement_id}/unpin", tag = "announcements",
    params(("server_id" = String, Path), ("announcement_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Announcement), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unpin(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Announcement>> {
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| svc.announce.unpin(guild, id, &meta)).await?,
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AnnounceTaskRequest {
    /// Where to post (default: the server's announcement channel).
    #[schema(value_type = Option<String>)]
    pub channel: Option<ChannelId>,
}

/// Announces a task (admin): an embed with its reward, time limit and other facts.
#[utoipa::path(post, path = "/api/{server_id}/announcements/task/{task_id}", tag = "announcements",
    params(("server_id" = String, Path), ("task_id" = u64, Path)),
    request_body(content = AnnounceTaskRequest, description = "Optional"),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Announcement), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn announce_task(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, task)): Path<(GuildId, u64)>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Announcement>)> {
    let req: AnnounceTaskRequest = optional_json(&body)?;
    let meta = dashboard_meta(&auth, key);
    let a = blocking(&s, move |svc| {
        svc.announce
            .announce_task_by_id(guild, task, req.channel, &meta)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// A server's embed templates, by name. A template is `id`, `name`, `embed`, `channel`
/// (posted and kept in sync there when set), `created_by`, `created_at`, `updated_at`.
#[utoipa::path(get, path = "/api/{server_id}/embeds", tag = "announcements",
    params(("server_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<EmbedTemplate>)))]
pub async fn list_embeds(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
) -> ApiResult<Json<Vec<EmbedTemplate>>> {
    Ok(Json(
        blocking(&s, move |svc| svc.announce.embeds(guild)).await?,
    ))
}

/// Creates an embed template (admin). Body: `name`, `embed`, `channel`.
#[utoipa::path(post, path = "/api/{server_id}/embeds", tag = "announcements",
    params(("server_id" = String, Path)),
    request_body = NewEmbedTemplate,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = EmbedTemplate), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_embed(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(new): crate::web::body::Body<NewEmbedTemplate>,
) -> ApiResult<(StatusCode, Json<EmbedTemplate>)> {
    let meta = dashboard_meta(&auth, key);
    let t = blocking(&s, move |svc| svc.announce.create_embed(guild, new, &meta)).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// One embed template of this server.
#[utoipa::path(get, path = "/api/{server_id}/embeds/{embed_id}", tag = "announcements",
    params(("server_id" = String, Path), ("embed_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = EmbedTemplate), (status = 404, body = ErrorBody)))]
pub async fn get_embed(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<EmbedTemplate>> {
    Ok(Json(
        blocking(&s, move |svc| svc.announce.embed(guild, id)).await?,
    ))
}

/// Edits an embed template (admin); `"channel": null` takes its posted copy down.
#[utoipa::path(put, path = "/api/{server_id}/embeds/{embed_id}", tag = "announcements",
    params(("server_id" = String, Path), ("embed_id" = u64, Path)),
    request_body = EmbedTemplatePatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = EmbedTemplate), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_embed(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    crate::web::body::Body(patch): crate::web::body::Body<EmbedTemplatePatch>,
) -> ApiResult<Json<EmbedTemplate>> {
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| {
            svc.announce.edit_embed(guild, id, patch, &meta)
        })
        .await?,
    ))
}

/// Deletes an embed template (admin); `delete_discord_message` (default true) also removes a
/// posted copy.
#[utoipa::path(delete, path = "/api/{server_id}/embeds/{embed_id}", tag = "announcements",
    params(("server_id" = String, Path), ("embed_id" = u64, Path), DeleteMessageFlag),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = EmbedTemplate, description = "The deleted template"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_embed(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    Query(q): Query<DeleteMessageFlag>,
    body: Bytes,
) -> ApiResult<Json<EmbedTemplate>> {
    let delete_message = delete_flag(&q, &body)?;
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| {
            svc.announce.delete_embed(guild, id, delete_message, &meta)
        })
        .await?,
    ))
}
