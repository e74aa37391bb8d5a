//! Tasks (bounties) of one server: list, create, read, edit, delete, close/reopen, a task's
//! claims, submissions awaiting review, and accept/reject. Writes go through `Tasks` with the
//! dashboard account as actor (audited) and honour `Idempotency-Key`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{blocking, dashboard_meta, optional_json};
use crate::domain::tasks::{Claim, NewTask, Task, TaskPatch, TaskStatus};
use crate::domain::{GuildId, UserId};
use crate::economy::Page;
use crate::tasks::{AcceptOutcome, ClaimWithTask, DeletedTask, TaskFilter};
use crate::web::auth::{Auth, IdempotencyKey};
use crate::web::error::{ApiError, ApiResult, ErrorBody, Json, Path, Query};
use crate::web::WebState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// active, closed or expired.
    #[param(inline)]
    pub status: Option<crate::web::contract::TaskStatusWord>,
    pub category: Option<String>,
    #[param(inline)]
    pub offset: Option<crate::web::contract::Offset>,
    /// 1 to 500 (default: all).
    #[param(inline)]
    pub limit: Option<crate::web::contract::Ranged<1, 500>>,
}

/// A server's tasks in id order. A task is `id`, `name`, `description`, `reward`,
/// `duration_hours`, `status`, `expires_at`, `max_claims` (-1 = unlimited), `current_claims`,
/// `category`, `role_id`, `role_name`, `created_by`, `created_at`, `updated_at`, `completed`.
#[utoipa::path(get, path = "/api/{server_id}/tasks", tag = "tasks",
    params(("server_id" = String, Path), TaskQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Page<Task>, description = "{items, total, offset, limit}"),
        (status = 400, body = ErrorBody)))]
pub async fn list_tasks(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json<Page<Task>>> {
    let status = match q.status {
        None => None,
        Some(v) => Some(TaskStatus::parse(v.as_str()).ok_or_else(|| {
            ApiError::invalid_param("status", "status must be active, closed or expired")
        })?),
    };
    // No limit: all of them.
    let limit = q.limit.map_or(0, |l| l.get());
    let filter = TaskFilter {
        status,
        category: q.category,
        offset: q.offset.map_or(0, |o| o.get()),
        limit,
    };
    let page = blocking(&s, move |svc| svc.tasks.list(guild, &filter)).await?;
    Ok(Json(page))
}

/// Creates an active task (admin). Body: `name`, `description`, `reward`, `duration_hours`
/// (default 24), `expires_at`, `max_claims` (-1 = unlimited), `category`, `role_id`, `role_name`.
#[utoipa::path(post, path = "/api/{server_id}/tasks", tag = "tasks",
    params(("server_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = NewTask,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = Task), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_task(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path(guild): Path<GuildId>,
    crate::web::body::Body(new): crate::web::body::Body<NewTask>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let meta = dashboard_meta(&auth, key);
    let task = blocking(&s, move |svc| svc.tasks.create(guild, new, &meta)).await?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// One task of this server.
#[utoipa::path(get, path = "/api/{server_id}/tasks/{task_id}", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)))]
pub async fn get_task(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        blocking(&s, move |svc| svc.tasks.get(guild, id)).await?,
    ))
}

/// Edits a task (admin): absent fields stay; `null` clears `expires_at`, `role_id`,
/// `role_name`. Running claims keep their deadlines.
#[utoipa::path(put, path = "/api/{server_id}/tasks/{task_id}", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = TaskPatch,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Task), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_task(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
    crate::web::body::Body(patch): crate::web::body::Body<TaskPatch>,
) -> ApiResult<Json<Task>> {
    let meta = dashboard_meta(&auth, key);
    let task = blocking(&s, move |svc| svc.tasks.edit(guild, id, &patch, &meta)).await?;
    Ok(Json(task))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeletedTaskView {
    pub task: Task,
    pub claims_removed: u64,
}

impl From<DeletedTask> for DeletedTaskView {
    fn from(d: DeletedTask) -> Self {
        DeletedTaskView {
            task: d.task,
            claims_removed: d.claims_removed,
        }
    }
}

/// Deletes a task and its claims (admin). Paid rewards stay in the ledger.
#[utoipa::path(delete, path = "/api/{server_id}/tasks/{task_id}", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = DeletedTaskView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_task(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<DeletedTaskView>> {
    let meta = dashboard_meta(&auth, key);
    let d = blocking(&s, move |svc| svc.tasks.delete(guild, id, &meta)).await?;
    Ok(Json(d.into()))
}

/// Closes a task to new claims (admin); running claims may still be submitted and reviewed.
#[utoipa::path(post, path = "/api/{server_id}/tasks/{task_id}/close", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Task), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn close_task(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Task>> {
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| svc.tasks.close(guild, id, &meta)).await?,
    ))
}

/// Opens a closed or expired task again (admin).
#[utoipa::path(post, path = "/api/{server_id}/tasks/{task_id}/reopen", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Task), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reopen_task(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Task>> {
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| svc.tasks.reopen(guild, id, &meta)).await?,
    ))
}

/// Every claim on one task, in claim order, statuses as of now. A claim is `task_id`, `user`,
/// `status` (in_progress, submitted, accepted, expired), `claimed_at`, `deadline`,
/// `proof_content`, `proof_attachments`, review fields and `reward_transaction`.
#[utoipa::path(get, path = "/api/{server_id}/tasks/{task_id}/claims", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<Claim>), (status = 404, body = ErrorBody)))]
pub async fn task_claims(
    State(s): State<WebState>,
    _auth: Auth,
    Path((guild, id)): Path<(GuildId, u64)>,
) -> ApiResult<Json<Vec<Claim>>> {
    Ok(Json(
        blocking(&s, move |svc| svc.tasks.task_claims(guild, id)).await?,
    ))
}

/// Submitted claims awaiting review, oldest submission first, each with its task.
#[utoipa::path(get, path = "/api/{server_id}/tasks/submissions", tag = "tasks",
    params(("server_id" = String, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<ClaimWithTask>, description = "[{task, claim}]")))]
pub async fn submissions(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
) -> ApiResult<Json<Vec<ClaimWithTask>>> {
    Ok(Json(
        blocking(&s, move |svc| svc.tasks.awaiting_review(guild)).await?,
    ))
}

/// Accepts a submitted claim (admin): pays the reward, records the role grant if any.
#[utoipa::path(post, path = "/api/{server_id}/tasks/{task_id}/claims/{user_id}/accept", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path), ("user_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = AcceptOutcome, description = "{claim, task, transaction, role_grant}"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_claim(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, task, user)): Path<(GuildId, u64, UserId)>,
) -> ApiResult<Json<AcceptOutcome>> {
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| svc.tasks.accept(guild, task, user, &meta)).await?,
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Shown to the member (required).
    #[serde(default)]
    pub reason: String,
}

/// Rejects a submission with a reason (admin); the member may resubmit until the deadline.
#[utoipa::path(post, path = "/api/{server_id}/tasks/{task_id}/claims/{user_id}/reject", tag = "tasks",
    params(("server_id" = String, Path), ("task_id" = u64, Path), ("user_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Apply at most once")),
    request_body = RejectRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Claim, description = "The claim"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reject_claim(
    State(s): State<WebState>,
    auth: Auth,
    IdempotencyKey(key): IdempotencyKey,
    Path((guild, task, user)): Path<(GuildId, u64, UserId)>,
    body: Bytes,
) -> ApiResult<Json<Claim>> {
    let req: RejectRequest = optional_json(&body)?;
    let meta = dashboard_meta(&auth, key);
    Ok(Json(
        blocking(&s, move |svc| {
            svc.tasks.reject(guild, task, user, &req.reason, &meta)
        })
        .await?,
    ))
}
