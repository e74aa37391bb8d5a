//! Authentication for the API: HS256 access JWTs (algorithm pinned, `iss`/`aud`/`exp` checked
//! against the services' clock), the session-bound CSRF check for cookie-authenticated writes,
//! and the `Auth` extractor every handler uses. Accounts and sessions are `services.accounts`'.

use std::path::Path;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::WebState;
use crate::accounts::AdminRole;
pub use crate::accounts::{hex, random_token, token_hash};
use crate::domain::Actor;

pub const ISSUER: &str = "coffer";
pub const AUDIENCE: &str = "coffer-dashboard";
pub const ACCESS_COOKIE: &str = "access_token";
pub const REFRESH_COOKIE: &str = "refresh_token";
pub const CSRF_COOKIE: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The cookie names in use. Over https they carry the browser-enforced prefixes: `__Host-`
/// (Secure, path `/`, no Domain: no subdomain can set or shadow it) where the path is `/`, and
/// `__Secure-` for the refresh cookie, whose path is `/api/auth`.
#[derive(Debug, Clone, Copy)]
pub struct CookieNames {
    pub access: &'static str,
    pub refresh: &'static str,
    pub csrf: &'static str,
}

pub fn cookie_names(secure: bool) -> CookieNames {
    if secure {
        CookieNames {
            access: "__Host-access_token",
            refresh: "__Secure-refresh_token",
            csrf: "__Host-csrf_token",
        }
    } else {
        CookieNames {
            access: ACCESS_COOKIE,
            refresh: REFRESH_COOKIE,
            csrf: CSRF_COOKIE,
        }
    }
}

/// Access-token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: AdminRole,
    /// The session family: logout revokes it, and with it every access token it issued.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Signing keys derived from the JWT secret: the JWT key, and an HMAC key for CSRF tokens.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    csrf: ring::hmac::Key,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> JwtKeys {
        // A key of its own for CSRF (derived, so one secret still configures everything).
        let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        let csrf_secret = ring::hmac::sign(&derive, b"coffer csrf key v1");
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            csrf: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, csrf_secret.as_ref()),
        }
    }

    /// The CSRF token of session `sid`: an HMAC of the session id, so a token is good for its
    /// own session only and cannot be chosen by whoever can plant a cookie.
    pub fn csrf_token(&self, sid: &str) -> String {
        hex(ring::hmac::sign(&self.csrf, sid.as_bytes()).as_ref())
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| ApiError::internal(&e))
    }

    /// Verifies signature, algorithm (HS256 only: `none` and every other alg are refused),
    /// issuer and audience, then expiry against `now` (the services' clock).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.algorithms = vec![Algorithm::HS256];
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked below against the services' clock, so tests can move time.
        v.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map_err(|_| {
                ApiError::unauthorized("invalid_token", "Your session is not valid; log in again.")
            })?
            .claims;
        if claims.exp <= now.timestamp() {
            return Err(ApiError::unauthorized(
                "token_expired",
                "Your session has expired; refresh it or log in again.",
            ));
        }
        Ok(claims)
    }
}

/// Equal-time comparison, for CSRF tokens.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `JWT_SECRET_KEY` when set; else the key in `<data_dir>/jwt_secret`, created (mode 0600) with
/// 64 random bytes on first start and reused after.
pub fn load_or_create_secret(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    if let Some(s) = configured {
        // `Config` already refuses a short key; this guards callers that bypass it.
        if s.len() < crate::config::MIN_JWT_SECRET_BYTES {
            anyhow::bail!(
                "JWT_SECRET_KEY is shorter than {} bytes",
                crate::config::MIN_JWT_SECRET_BYTES
            );
        }
        return Ok(s.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt_secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!(
            "{} is too short to be a signing key; delete it to have a new one generated",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    create_private_dir(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let mut b = [0u8; 64];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let key = hex(&b);
    write_private(&path, key.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a JWT signing key");
    Ok(key.into_bytes())
}

/// Like the store's data directory: created owner-only (0700), an existing one left as is.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Bearer,
    Cookie,
}

/// An authenticated dashboard user. Extracting it enforces the rules for the request's method:
/// any write (not GET/HEAD/OPTIONS) needs the `admin` role, and, when authenticated by cookie,
/// a matching `X-CSRF-Token` header.
#[derive(Debug, Clone)]
pub struct Auth {
    pub username: String,
    pub role: AdminRole,
    pub session: String,
    pub via: Via,
    /// When the access token expires (Unix seconds): a live stream ends then.
    pub expires_at: i64,
}

impl Auth {
    pub fn actor(&self) -> Actor {
        Actor::Dashboard(self.username.clone())
    }
}

pub fn is_write(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The CSRF check for a cookie-authenticated write: `X-CSRF-Token` must be the session's CSRF
/// token (`JwtKeys::csrf_token`, also in the `csrf_token` cookie for the page to read). A refusal
/// is logged at warn with the client address and the (sanitised) username.
pub fn check_csrf(
    parts: &Parts,
    state: &WebState,
    session: &str,
    username: &str,
) -> Result<(), ApiError> {
    let header = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if header.is_empty() || !same(header, &state.keys.csrf_token(session)) {
        tracing::warn!(
            client_ip = %super::client_ip::client_ip(parts, &state.settings.trusted_proxies),
            username = %crate::domain::text::sanitize_for_log(username),
            method = %parts.method,
            path = %parts.uri.path(),
            "CSRF check failed; request refused"
        );
        return Err(ApiError::forbidden(
            "csrf_failed",
            "Missing or wrong CSRF token: send the `csrf_token` cookie's value in `X-CSRF-Token`.",
        ));
    }
    Ok(())
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<WebState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Auth, ApiError> {
        authenticate(parts, state, is_write(&parts.method)).await
    }
}

/// An authenticated user for a POST that changes nothing (`transactions/validate`): viewers
/// may use it; a cookie-authenticated call still needs the CSRF header.
#[derive(Debug, Clone)]
pub struct ReadAuth(pub Auth);

impl FromRequestParts<WebState> for ReadAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, ApiError> {
        let auth = authenticate(parts, state, false).await?;
        if auth.via == Via::Cookie && is_write(&parts.method) {
            check_csrf(parts, state, &auth.session, &auth.username)?;
        }
        Ok(ReadAuth(auth))
    }
}

/// Checks the token and its session; with `write`, also the admin role and (cookie) CSRF.
pub async fn authenticate(parts: &Parts, state: &WebState, write: bool) -> Result<Auth, ApiError> {
    {
        let jar = CookieJar::from_headers(&parts.headers);
        let names = cookie_names(state.settings.secure_cookies);
        let (token, via) = match bearer(parts) {
            Some(t) => (t.to_owned(), Via::Bearer),
            None => match jar.get(names.access) {
                Some(c) => (c.value().to_owned(), Via::Cookie),
                None => {
                    return Err(ApiError::unauthorized(
                        "unauthenticated",
                        "Log in first: send a Bearer token or the session cookie.",
                    ))
                }
            },
        };
        let claims = state.keys.verify(&token, state.services.now())?;
        // Logout ends the session; the account may also have been removed or demoted since
        // the token was issued: both are checked on every request.
        // Two point reads of small, hot tables (a few microseconds): run here on the async
        // worker. Through the blocking pool they cost a thread hop there and back on every
        // request (about a fifth of the HTTP benchmark's samples were the scheduler).
        let account = state
            .services
            .accounts
            .live_session(&claims.sid, &claims.sub)?;
        let Some(account) = account else {
            return Err(ApiError::unauthorized(
                "session_revoked",
                "Your session has ended; log in again.",
            ));
        };
        let auth = Auth {
            username: account.username,
            role: account.role,
            session: claims.sid,
            via,
            expires_at: claims.exp,
        };
        if write {
            if auth.role != AdminRole::Admin {
                return Err(ApiError::forbidden(
                    "read_only",
                    "Your dashboard account is read-only (viewer).",
                ));
            }
            if via == Via::Cookie {
                check_csrf(parts, state, &auth.session, &auth.username)?;
            }
        }
        Ok(auth)
    }
}

pub use super::idempotency::IdempotencyKey;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret(None, dir.path()).unwrap();
        let b = load_or_create_secret(None, dir.path()).unwrap();
        assert_eq!(a, b);
        assert!(a.len() >= 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt_secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let c =
            load_or_create_secret(Some("from-env-0123456789-0123456789-xx"), dir.path()).unwrap();
        assert_eq!(c, b"from-env-0123456789-0123456789-xx");
    }
}
