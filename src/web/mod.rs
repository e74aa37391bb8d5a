//! The HTTP door: the JSON API (`api/`), auth, SSE and CSV export, all on one axum router whose
//! routes are registered through utoipa so the OpenAPI document lists them by construction.
//! Handlers call services and subscribe to `services.bus`; they never touch the store. An
//! `Idempotency-Key` travels into the service in `OpMeta` (`idempotency.rs`).

pub mod api;
pub mod auth;
pub mod body;
pub mod client_ip;
pub mod contract;
pub mod error;
pub mod export;
mod headers;
pub mod idempotency;
pub mod limits;
pub mod metrics;
pub mod pages;
pub mod router;
pub mod serve;
pub mod sse;
pub mod throttle;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Instant;

use crate::services::Services;

pub use router::{openapi, openapi_json, router};

/// What the web door needs besides the services: token lifetimes, the signing key, cookie flags.
#[derive(Clone)]
pub struct WebSettings {
    pub jwt_secret: Vec<u8>,
    pub access_ttl: chrono::Duration,
    pub refresh_ttl: chrono::Duration,
    /// Mark cookies `Secure` with `__Host-` names, and send HSTS (the public URL is https).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client (`web.trusted_proxies`).
    pub trusted_proxies: Vec<crate::config::IpNet>,
    /// The recent log lines `GET /api/logs` serves (the process-wide buffer in production).
    pub logs: Arc<crate::telemetry::logbuf::LogBuffer>,
}

impl std::fmt::Debug for WebSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSettings")
            .field("jwt_secret", &"<redacted>")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("secure_cookies", &self.secure_cookies)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

impl WebSettings {
    /// From the config: `JWT_SECRET_KEY`, else `<data_dir>/jwt_secret` (created on first start).
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<WebSettings> {
        let secret = auth::load_or_create_secret(
            config.auth.jwt_secret.as_ref().map(|s| s.expose()),
            &config.data_dir,
        )?;
        Ok(WebSettings {
            jwt_secret: secret,
            access_ttl: chrono::Duration::minutes(config.auth.access_token_minutes.into()),
            refresh_ttl: chrono::Duration::days(config.auth.refresh_token_days.into()),
            secure_cookies: config.web.is_https(),
            trusted_proxies: config.web.trusted_proxies.clone(),
            logs: crate::telemetry::logbuf::global(),
        })
    }
}

/// Shared by every handler: one allocation, so the per-request copy axum makes of the state
/// is a reference count (it cloned every service handle and the JWT keys' buffers before,
/// about 4.5% of the CPU time of an admin balance change through HTTP).
#[derive(Clone)]
pub struct WebState(Arc<WebShared>);

impl WebState {
    pub fn new(shared: WebShared) -> WebState {
        WebState(Arc::new(shared))
    }
}

impl std::ops::Deref for WebState {
    type Target = WebShared;
    fn deref(&self) -> &WebShared {
        &self.0
    }
}

/// What `WebState` shares.
pub struct WebShared {
    pub services: Services,
    pub settings: Arc<WebSettings>,
    pub keys: auth::JwtKeys,
    pub throttle: Arc<throttle::LoginThrottle>,
    /// Open live streams per session.
    pub streams: sse::StreamCounts,
    pub started: Instant,
    /// The last readiness probe of the database (when, outcome): reused for a second, so a
    /// burst of unauthenticated `/api/health/ready` calls costs one write, not one each.
    pub db_probe: std::sync::Arc<tokio::sync::Mutex<Option<(Instant, api::health::DbState)>>>,
}
