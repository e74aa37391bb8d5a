//! Login, refresh, logout and "who am I". Tokens go out both as cookies (HttpOnly, SameSite=Strict)
//! and in the JSON body (for scripts using `Authorization: Bearer`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::blocking;
use crate::accounts::{AdminRole, Refresh};
use crate::domain::text::sanitize_for_log;
use crate::web::auth::{self, cookie_names, Auth, Claims};
pub use crate::web::client_ip::{client_ip, ClientIp};
use crate::web::error::{ApiError, ApiResult, Json};
use crate::web::throttle::Key;
use crate::web::WebState;
use axum::http::StatusCode;

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
    let csrf = state.keys.csrf_token(&claims.sid);
    let names = cookie_names(s.secure_cookies);
    let (access_secs, refresh_secs) = (s.access_ttl.num_seconds(), s.refresh_ttl.num_seconds());
    let secure = s.secure_cookies;
    let jar = jar
        .add(cookie(
            names.access,
            access.clone(),
            "/",
            access_secs,
            secure,
            true,
        ))
        .add(cookie(
            names.refresh,
            refresh.clone(),
            "/api/auth",
            refresh_secs,
            secure,
            true,
        ))
        .add(cookie(
            names.csrf,
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
        (status = 429, description = "Too many failed logins from this address", body = crate::web::error::ErrorBody),
        (status = 503, description = "Too many password checks at once", body = crate::web::error::ErrorBody),
    ))]
pub async fn login(
    State(state): State<WebState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> ApiResult<(CookieJar, Json<TokenResponse>)> {
    let now = state.services.now();
    let (user_key, ip_key) = (Key::user_at(&req.username, &ip), Key::address(&ip));
    let who = sanitize_for_log(req.username.trim());
    if let Err(wait) = state
        .throttle
        .begin(&[user_key.clone(), ip_key.clone()], now)
    {
        tracing::warn!(client_ip = %ip, username = %who, retry_after = wait, "dashboard login throttled");
        return Err(ApiError::too_many(
            format!("Too many failed logins; try again in {wait} s."),
            wait,
        ));
    }
    let Some(slot) = state.throttle.hashing_slot().await else {
        tracing::warn!(client_ip = %ip, username = %who, "dashboard login refused: password checks are saturated");
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "Too many logins at once; try again in a few seconds.",
        )
        .with_retry_after(1));
    };
    let username = req.username.trim().to_owned();
    let svc = state.services.clone();
    let account = state
        .throttle
        .pool
        .run(move || svc.accounts.verify_login(&username, &req.password))
        .await;
    drop(slot);
    let account = match account {
        Some(r) => r?,
        None => return Err(ApiError::internal(&"the password check did not finish")),
    };
    let Some(account) = account else {
        tracing::warn!(client_ip = %ip, username = %who, "failed dashboard login");
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "Wrong username or password.",
        ));
    };
    state.throttle.succeeded(&user_key, &ip_key);
    let session = {
        let (name, ttl) = (account.username.clone(), state.settings.refresh_ttl);
        blocking(&state, move |svc| svc.accounts.start_session(&name, ttl)).await?
    };
    tracing::info!(username = %account.username, client_ip = %ip, "dashboard login");
    issue(
        &state,
        jar,
        account.username,
        account.role,
        session.family,
        session.refresh_token,
    )
}

/// A refresh token, and whether it came from the cookie (then the CSRF header is required).
struct Presented {
    token: String,
    from_cookie: bool,
}

/// The refresh token from the body, else from the cookie.
fn presented_refresh(
    state: &WebState,
    jar: &CookieJar,
    body: &Bytes,
) -> ApiResult<Option<Presented>> {
    if !body.is_empty() {
        let req: RefreshRequest = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {e}"),
            )
        })?;
        if let Some(t) = req.refresh_token.filter(|t| !t.is_empty()) {
            return Ok(Some(Presented {
                token: t,
                from_cookie: false,
            }));
        }
    }
    let name = cookie_names(state.settings.secure_cookies).refresh;
    Ok(jar.get(name).map(|c| Presented {
        token: c.value().to_owned(),
        from_cookie: true,
    }))
}

/// The session a refresh token belongs to; for a cookie, after the session's CSRF check.
async fn session_of(
    state: &WebState,
    parts: &Parts,
    p: &Presented,
) -> ApiResult<Option<(String, String)>> {
    let token = p.token.clone();
    let session = blocking(state, move |svc| svc.accounts.session_of(&token)).await?;
    if let (Some((family, username)), true) = (&session, p.from_cookie) {
        auth::check_csrf(parts, state, family, username)?;
    }
    Ok(session)
}

async fn read_small_body(body: axum::body::Body) -> ApiResult<Bytes> {
    axum::body::to_bytes(body, 64 * 1024).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large.",
        )
    })
}

/// Exchanges a refresh token for new tokens. Each refresh token works once; presenting one that
/// was already used ends the whole session, except within a few seconds of its rotation (two
/// tabs refreshing at once), when it gets a token of its own.
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
    let body = read_small_body(body).await?;
    let Some(presented) = presented_refresh(&state, &jar, &body)? else {
        return Err(ApiError::unauthorized(
            "unauthenticated",
            "No refresh token was sent.",
        ));
    };
    session_of(&state, &parts, &presented).await?;
    let ttl = state.settings.refresh_ttl;
    let token = presented.token;
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
    let names = cookie_names(state.settings.secure_cookies);
    let body = read_small_body(body).await?;
    let mut family = None;
    if let Some(p) = presented_refresh(&state, &jar, &body)? {
        family = session_of(&state, &parts, &p).await?.map(|(f, _)| f);
    }
    if family.is_none() {
        let bearer = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let (access, from_cookie) = match bearer {
            Some(t) => (Some(t), false),
            None => (jar.get(names.access).map(|c| c.value().to_owned()), true),
        };
        if let Some(t) = access {
            if let Ok(c) = state.keys.verify(&t, state.services.now()) {
                if from_cookie {
                    auth::check_csrf(&parts, &state, &c.sid, &c.sub)?;
                }
                family = Some(c.sid);
            }
        }
    }
    let Some(family) = family else {
        return Err(ApiError::unauthorized(
            "unauthenticated",
            "No session to log out of.",
        ));
    };
    let jar = end_session(&state, jar, family).await?;
    Ok((jar, Json(LogoutResponse { logged_out: true })))
}

/// Ends session `family` and returns the jar with every session cookie expired (the API's
/// logout and the dashboard's logout form).
pub async fn end_session(state: &WebState, jar: CookieJar, family: String) -> ApiResult<CookieJar> {
    blocking(state, move |svc| {
        svc.accounts.end_session(&family, "logout")
    })
    .await?;
    let names = cookie_names(state.settings.secure_cookies);
    // Explicit expired cookies, so the browser drops them whatever the request carried.
    let secure = state.settings.secure_cookies;
    let jar = jar
        .add(cookie(names.access, String::new(), "/", 0, secure, true))
        .add(cookie(
            names.refresh,
            String::new(),
            "/api/auth",
            0,
            secure,
            true,
        ))
        .add(cookie(names.csrf, String::new(), "/", 0, secure, false));
    Ok(jar)
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
