//! Health checks for load balancers and hosts: liveness (`/api/health`, alias `/healthz`) says
//! the process answers; readiness (`/api/health/ready`) says it can do its job: the database
//! takes a real durable write in time, and Discord is connected (or turned off by config).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::instance::Connection;
use crate::web::WebState;

/// How long the database write may take before the instance counts as not ready.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    pub version: String,
    pub uptime_seconds: u64,
}

/// Liveness: the process is up and serving HTTP. Never touches the database.
#[utoipa::path(get, path = "/api/health", tag = "status",
    responses((status = 200, body = Health)))]
pub async fn health(State(s): State<WebState>) -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_seconds: s.started.elapsed().as_secs(),
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: String,
    /// `ok`, or what went wrong with the probe write.
    pub database: String,
    /// `connected`, `off` (no token: disabled by config), `connecting` or `reconnecting`.
    pub discord: String,
    /// Why it is not ready, one sentence per failing check (empty when ready).
    pub reasons: Vec<String>,
}

/// How long a probe's outcome is reused.
const PROBE_REUSE: Duration = Duration::from_secs(1);

/// The database's state (`ok`, `error`, `timeout`) and why it is not ok.
pub type DbState = (String, Option<String>);

/// One probe write at a time, and its outcome reused for `PROBE_REUSE`.
async fn probe_database(s: &WebState) -> DbState {
    let mut last = s.db_probe.lock().await;
    if let Some((at, outcome)) = last.as_ref() {
        if at.elapsed() < PROBE_REUSE {
            return outcome.clone();
        }
    }
    let services = s.services.clone();
    let probe = crate::services::blocking(move || services.instance.probe_write());
    let outcome = match tokio::time::timeout(WRITE_DEADLINE, probe).await {
        Ok(Ok(())) => ("ok".to_owned(), None),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database refused a write");
            (
                "error".to_owned(),
                Some(format!("the database cannot be written: {e}")),
            )
        }
        Err(_) => (
            "timeout".to_owned(),
            Some(format!(
                "a database write took longer than {} s",
                WRITE_DEADLINE.as_secs()
            )),
        ),
    };
    *last = Some((std::time::Instant::now(), outcome.clone()));
    outcome
}

/// Readiness: a real durable write to the database within 2 s, and Discord connected or
/// disabled. 503 with the reasons otherwise.
#[utoipa::path(get, path = "/api/health/ready", tag = "status",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn ready(State(s): State<WebState>) -> Response {
    let mut reasons = Vec::new();
    let (database, reason) = probe_database(&s).await;
    reasons.extend(reason);
    let connection = s.services.bot.get().connection;
    if !matches!(connection, Connection::Connected | Connection::Off) {
        reasons.push(format!(
            "Discord is {} (not connected yet)",
            connection.as_str()
        ));
    }
    let ready = reasons.is_empty();
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" }.into(),
        database,
        discord: connection.as_str().into(),
        reasons,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}
