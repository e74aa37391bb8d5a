//! Builds the router: every API route comes from `api::routes()` (so it is in the OpenAPI
//! document), plus `/healthz` (an alias of `/api/health`), `/metrics` and the document itself;
//! unknown routes and methods answer in the API error shape, and every response carries the
//! security headers. The dashboard pages (`pages::routes()`) hang off `/`.

use std::sync::Arc;
use std::time::Instant;

use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::{middleware, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use super::error::{not_found_fallback, ApiError, ErrorBody, ErrorDetail};
use super::{api, auth, headers, idempotency, limits, throttle, WebSettings, WebState};
use crate::services::Services;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Coffer API",
        description = "The Coffer dashboard API. Authenticate with `POST /api/auth/login`; send the \
access token as `Authorization: Bearer <token>` or rely on the HttpOnly cookies (then writes need \
the `csrf_token` cookie's value (`__Host-csrf_token` over https), also returned as \
`csrf_token` at login, in `X-CSRF-Token`). Errors are always \
`{\"error\": {\"code\", \"message\", \"details\"}}`. Writes accept an `Idempotency-Key` header."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "auth", description = "Login, token refresh, logout"),
        (name = "status", description = "Bot status"),
        (name = "servers", description = "Discord servers"),
        (name = "users", description = "Members and balances"),
        (name = "transactions", description = "The ledger"),
        (name = "audit", description = "Admin change log"),
        (name = "shop", description = "Shop items, stock and inventories"),
        (name = "tasks", description = "Tasks, claims and reviews"),
        (name = "announcements", description = "Announcements and embed templates"),
        (name = "config", description = "Server settings, channels, roles, members, role grants"),
        (name = "sync", description = "Discord message sync state"),
        (name = "commands", description = "Custom commands"),
        (name = "instance", description = "Instance settings, export, logs, bot presence, restart"),
        (name = "stream", description = "Live updates (SSE)"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        c.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::ACCESS_COOKIE))),
        );
    }
}

fn documented() -> (Router<WebState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::routes())
        .split_for_parts()
}

/// The OpenAPI 3.1 document of every API route, as the handlers annotate it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented().1
}

/// The document as served: the annotations completed by `contract` (id patterns, the shared
/// error statuses, links).
pub fn openapi_json() -> serde_json::Value {
    served(&documented().1)
}

fn served(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut v = serde_json::to_value(doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not serialize the OpenAPI document");
        serde_json::json!({})
    });
    super::contract::complete(&mut v);
    v
}

/// The whole HTTP app. Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so
/// login throttling can see client addresses.
pub fn router(services: Services, settings: WebSettings) -> Router {
    router_with_state(state(services, settings))
}

/// The state every handler shares (tests keep a copy to look at the throttle).
pub fn state(services: Services, settings: WebSettings) -> WebState {
    if let Ok(runtime) = services.instance.settings() {
        settings.logs.set_min_level(&runtime.log_buffer_level);
    }
    WebState::new(super::WebShared {
        keys: auth::JwtKeys::new(&settings.jwt_secret),
        settings: Arc::new(settings),
        services,
        throttle: Arc::new(throttle::LoginThrottle::default()),
        streams: Default::default(),
        started: Instant::now(),
        db_probe: Default::default(),
    })
}

/// The whole HTTP app over a given state.
pub fn router_with_state(state: WebState) -> Router {
    let (api, doc) = documented();
    let doc_json: Arc<str> = served(&doc).to_string().into();
    let hsts = headers::Hsts(state.settings.secure_cookies);
    // The id check covers the API's routes only (a route layer applies to what is routed so
    // far); the pages parse their own ids.
    api.route_layer(middleware::from_fn(super::contract::check_path_ids))
        .merge(super::pages::routes())
        .route("/healthz", get(api::health::health))
        .route("/metrics", get(super::metrics::metrics))
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc_json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        doc.to_string(),
                    )
                }
            }),
        )
        .fallback(not_found_fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This endpoint does not accept that method.",
            )
        })
        .layer(middleware::from_fn(idempotency::fingerprint_requests))
        .layer(middleware::from_fn(limits::refuse_instance_guild))
        .layer(middleware::from_fn(limits::request_timeout))
        .layer(middleware::map_response(limits::json_413))
        .layer(middleware::map_response_with_state(
            hsts,
            headers::security_headers,
        ))
        .with_state(state)
}
