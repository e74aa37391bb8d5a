//! Login, refresh, logout and "who am I". Tokens go out both as cookies (HttpOnly, SameSite=Strict)
//! and in the JSON body (for scripts using `Authorization: Bearer`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::blocking;
use crate::accounts::{AdminRole, Refresh};
use crate::web::auth::{
    self, random_token, Auth, Claims, ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE,
};
use crate::web::error::{ApiError, ApiResult, Json};
use crate::web::WebState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token; omit it to use the `refresh_token` cookie.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserInfo {
    pub username: String,
    /// `admin` (everything) or `viewer` (read only).
    #[schema(value_type = String, example = "admin")]
    pub role: AdminRole,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Send this in `X-CSRF-Token` on cookie-authenticated writes.
    pub csrf_token: String,
    pub user: UserInfo,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogoutResponse {
    pub logged_out: bool,
}

/// The peer address (from `into_make_service_with_connect_info`); "unknown" without it.
/// Forwarding headers are not trusted: they are the client's to forge.
pub struct ClientIp(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}

fn cookie(
    name: &'static str,
    value: String,
    path: &'static str,
    secs: i64,
    secure: bool,
    http_only: bool,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(http_only)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(time_secs(secs))
        .build()
}

fn time_secs(secs: i64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(secs)
}

/// Signs an access token for a session and sets all three cookies.
fn issue(
    state: &WebState,
    jar: CookieJar,
    username: String,
    role: AdminRole,
    family: String,
    refresh: String,
) -> ApiResult<(CookieJar, Json<TokenResponse>)> {
    let now = state.services.now();
    let s = &state.settings;
    let claims = Claims {
        sub: username.clone(),
        role,
        sid: family,
        iat: now.timestamp(),
        exp: (now + s.access_ttl).timestamp(),
        iss: auth::ISSUER.into(),
        aud: auth::AUDIENCE.into(),
    };
    let access = state.keys.sign(&claims)?;
    let csrf = random_token();
    let (access_secs, refresh_secs) = (s.access_ttl.num_seconds(), s.refresh_ttl.num_seconds());
    let secure = s.secure_cookies;
    let jar = jar
        .add(cookie(
            ACCESS_COOKIE,
            access.clone(),
            "/",
            access_secs,
            secure,
            true,
        ))
        .add(cookie(
            REFRESH_COOKIE,
            refresh.clone(),
            "/api/auth",
            refresh_secs,
            secure,
            true,
        ))
        .add(cookie(
            CSRF_COOKIE,
            csrf.clone(),
            "/",
            refresh_secs,
            secure,
            false,
        ));
    Ok((
        jar,
        Json(TokenResponse {
            access_token: access,
            refresh_token: refresh,
            token_type: "Bearer".into(),
            expires_in: access_secs,
            csrf_token: csrf,
            user: UserInfo { username, role },
        }),
    ))
}

/// Logs in with a dashboard account.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; cookies set", body = TokenResponse),
        (status = 401, description = "Wrong username or password", body = crate::web::error::ErrorBody),
        (status = 429, description = "Too many failed logins", body = crate::web::error::ErrorBody),
    ))]
pub async fn login(
    State(state): State<WebState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> ApiResult<(CookieJar, Json<TokenResponse>)> {
    let now = state.services.now();
    let user_key = format!("user:{}", req.username.trim().to_ascii_lowercase());
    let keys = [user_key.clone(), format!("ip:{ip}")];
    if let Err(wait) = state.throttle.check(&keys, now) {
        return Err(ApiError::too_many(
            format!("Too many failed logins; try again in {wait} s."),
            wait,
        ));
    }
    let username = req.username.trim().to_owned();
    let account = blocking(&state, move |svc| {
        svc.accounts.verify_login(&username, &req.password)
    })
    .await?;
    let Some(account) = account else {
        state.throttle.fail(&keys, now);
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "Wrong username or password.",
        ));
    };
    state.throttle.clear(&user_key);
    let session = {
        let (name, ttl) = (account.username.clone(), state.settings.refresh_ttl);
        blocking(&state, move |svc| svc.accounts.start_session(&name, ttl)).await?
    };
    tracing::info!(username = %account.username, "dashboard login");
    issue(
        &state,
        jar,
        account.username,
        account.role,
        session.family,
        session.refresh_token,
    )
}

/// The refresh token from the body, else from the cookie (then the CSRF header is required).
fn presented_refresh(parts: &Parts, jar: &CookieJar, body: &Bytes) -> ApiResult<Option<String>> {
    if !body.is_empty() {
        let req: RefreshRequest = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {e}"),
            )
        })?;
        if let Some(t) = req.refresh_token.filter(|t| !t.is_empty()) {
            return Ok(Some(t));
        }
    }
    match jar.get(REFRESH_COOKIE) {
        Some(c) => {
            auth::check_csrf(parts, jar)?;
            Ok(Some(c.value().to_owned()))
        }
        None => Ok(None),
    }
}

/// Exchanges a refresh token for new tokens. Each refresh token works once; presenting one that
/// was already used ends the whole session.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    request_body(content = RefreshRequest, description = "Optional: the cookie is used when absent"),
    responses(
        (status = 200, description = "New tokens; cookies set", body = TokenResponse),
        (status = 401, description = "Unknown, expired, reused or revoked token", body = crate::web::error::ErrorBody),
        (status = 403, description = "Cookie refresh without the CSRF header", body = crate::web::error::ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<WebState>,
    req: axum::extract::Request,
) -> ApiResult<(CookieJar, Json<TokenResponse>)> {
    let (parts, body) = req.into_parts();
    let jar = CookieJar::from_headers(&parts.headers);
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| ApiError::bad_request("body_too_large", "The request body is too large."))?;
    let Some(token) = presented_refresh(&parts, &jar, &body)? else {
        return Err(ApiError::unauthorized(
            "unauthenticated",
            "No refresh token was sent.",
        ));
    };
    let ttl = state.settings.refresh_ttl;
    let refreshed = blocking(&state, move |svc| svc.accounts.refresh(&token, ttl)).await?;
    match refreshed {
        Refresh::Rotated {
            account,
            family,
            refresh_token,
        } => issue(
            &state,
            jar,
            account.username,
            account.role,
            family,
            refresh_token,
        ),
        Refresh::Reused { family } => {
            tracing::warn!(%family, "a rotated refresh token was presented again; session revoked");
            Err(ApiError::unauthorized(
                "refresh_reused",
                "This refresh token was already used; the session has been ended. Log in again.",
            ))
        }
        Refresh::Invalid => Err(ApiError::unauthorized(
            "invalid_refresh_token",
            "Your session has ended; log in again.",
        )),
    }
}

/// Ends the session (its refresh token and every access token it issued) and clears the cookies.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    request_body(content = RefreshRequest, description = "Optional"),
    responses(
        (status = 200, description = "Logged out", body = LogoutResponse),
        (status = 401, description = "No valid session was presented", body = crate::web::error::ErrorBody),
    ))]
pub async fn logout(
    State(state): State<WebState>,
    req: axum::extract::Request,
) -> ApiResult<(CookieJar, Json<LogoutResponse>)> {
    let (parts, body) = req.into_parts();
    let jar = CookieJar::from_headers(&parts.headers);
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| ApiError::bad_request("body_too_large", "The request body is too large."))?;
    let mut family = None;
    if let Some(token) = presented_refresh(&parts, &jar, &body)? {
        family = blocking(&state, move |svc| svc.accounts.session_of(&token)).await?;
    }
    if family.is_none() {
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let access = match bearer {
            Some(t) => Some(t),
            None => match jar.get(ACCESS_COOKIE) {
                Some(c) => {
                    auth::check_csrf(&parts, &jar)?;
                    Some(c.value().to_owned())
                }
                None => None,
            },
        };
        if let Some(t) = access {
            family = state
                .keys
                .verify(&t, state.services.now())
                .ok()
                .map(|c| c.sid);
        }
    }
    let Some(family) = family else {
        return Err(ApiError::unauthorized(
            "unauthenticated",
            "No session to log out of.",
        ));
    };
    blocking(&state, move |svc| {
        svc.accounts.end_session(&family, "logout")
    })
    .await?;
    // Explicit expired cookies, so the browser drops them whatever the request carried.
    let secure = state.settings.secure_cookies;
    let jar = jar
        .add(cookie(ACCESS_COOKIE, String::new(), "/", 0, secure, true))
        .add(cookie(
            REFRESH_COOKIE,
            String::new(),
            "/api/auth",
            0,
            secure,
            true,
        ))
        .add(cookie(CSRF_COOKIE, String::new(), "/", 0, secure, false));
    Ok((jar, Json(LogoutResponse { logged_out: true })))
}

/// The logged-in dashboard user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = UserInfo), (status = 401, body = crate::web::error::ErrorBody)))]
pub async fn me(auth: Auth) -> Json<UserInfo> {
    Json(UserInfo {
        username: auth.username,
        role: auth.role,
    })
}
