//! Snapshot backups over HTTP (admin accounts only: a snapshot holds every password and
//! session hash): list, take one now, download one, verify one. Restoring is offline only
//! (`coffer restore`): the running app never swaps its own database.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::blocking;
use crate::accounts::AdminRole;
use crate::backup::{BackupAttempt, BackupFile, VerifyReport};
use crate::web::auth::Auth;
use crate::web::error::{ApiError, ApiResult, ErrorBody, Json};
use crate::web::WebState;

/// A backup that could not be read or written is the admin's to fix (folder missing, not
/// writable, disk full): say what happened instead of the generic internal error.
fn backup_error(doing: &'static str) -> impl Fn(crate::Error) -> ApiError {
    move |e| match e {
        crate::Error::Domain(d) => d.into(),
        crate::Error::Store(s) => {
            tracing::error!(error = %s, "{doing} failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "backup_failed",
                format!("{doing} failed: {s}. Nothing was changed."),
            )
        }
    }
}

fn admin_only(auth: &Auth) -> Result<(), ApiError> {
    if auth.role != AdminRole::Admin {
        return Err(ApiError::forbidden(
            "admin_only",
            "Backups hold every account's password hash: only admin accounts may see them.",
        ));
    }
    Ok(())
}

/// The snapshots in the backup folder, newest first: `name`, `bytes`, `created_at`,
/// `checksummed`.
#[utoipa::path(get, path = "/api/backups", tag = "instance",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<BackupFile>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_backups(
    State(s): State<WebState>,
    auth: Auth,
) -> ApiResult<Json<Vec<BackupFile>>> {
    admin_only(&auth)?;
    let list = blocking(&s, |svc| Ok(svc.backups.list())).await?;
    Ok(Json(
        list.map_err(backup_error("Reading the backup folder"))?,
    ))
}

/// The newest attempts to take a snapshot (manual, scheduled, before a restore), newest
/// first, failures with what went wrong. Kept in the database, so they survive a restart.
#[utoipa::path(get, path = "/api/backups/attempts", tag = "instance",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = Vec<BackupAttempt>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn backup_attempts(
    State(s): State<WebState>,
    auth: Auth,
) -> ApiResult<Json<Vec<BackupAttempt>>> {
    admin_only(&auth)?;
    Ok(Json(blocking(&s, |svc| svc.backups.attempts()).await?))
}

/// Takes a consistent snapshot now (writers are not blocked) and prunes old ones by the
/// retention settings.
#[utoipa::path(post, path = "/api/backups", tag = "instance",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 201, body = BackupFile), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn create_backup(
    State(s): State<WebState>,
    auth: Auth,
) -> ApiResult<(StatusCode, Json<BackupFile>)> {
    admin_only(&auth)?;
    let made = blocking(&s, |svc| {
        Ok(svc.backups.create(None).and_then(|made| {
            svc.backups.prune()?;
            Ok(made)
        }))
    })
    .await?
    .map_err(backup_error("The backup"))?;
    tracing::info!(user = %auth.username, backup = %made.name, "backup taken from the dashboard");
    Ok((StatusCode::CREATED, Json(made)))
}

/// Downloads one snapshot (a redb database file).
#[utoipa::path(get, path = "/api/backups/{name}", tag = "instance",
    params(("name" = String, Path, description = "A name from GET /api/backups")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn download_backup(
    State(s): State<WebState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    admin_only(&auth)?;
    let path = {
        let name = name.clone();
        blocking(&s, move |svc| svc.backups.path_of(&name)).await?
    };
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::not_found(format!("Backup {name} not found.")))?;
    let len = file.metadata().await.map(|m| m.len()).ok();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut resp = (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response();
    if let Some(len) = len {
        resp.headers_mut()
            .insert(header::CONTENT_LENGTH, header::HeaderValue::from(len));
    }
    Ok(resp)
}

/// Verifies one snapshot: its checksum, that it opens as a Coffer database, and the ledger of
/// every server in it. `ok: false` lists the problems in words.
#[utoipa::path(post, path = "/api/backups/{name}/verify", tag = "instance",
    params(("name" = String, Path, description = "A name from GET /api/backups")),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = VerifyReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn verify_backup(
    State(s): State<WebState>,
    auth: Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<VerifyReport>> {
    admin_only(&auth)?;
    let report = blocking(&s, move |svc| {
        let path = svc.backups.path_of(&name)?;
        crate::backup::verify(&path, svc.clock.clone())
    })
    .await?;
    Ok(Json(report))
}
