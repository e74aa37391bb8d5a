//! The dashboard: server-rendered maud pages over the same handlers (and so the same service
//! calls) as the JSON API, behind the same cookies. Works without JavaScript; `web/app.js` only
//! adds live updates and local times. Pages never open the store and never decide a rule.

mod assets;
mod charts;
mod config;
mod embeds;
mod forms;
mod guild;
mod instance;
mod layout;
mod login;
mod messages;
mod overview;
mod records;
mod shop;
mod shop_item;
mod task;
mod tasks;
mod transactions;
mod users;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::auth::{authenticate, same, Auth};
use super::error::ApiError;
use super::WebState;
use crate::accounts::AdminRole;
use crate::domain::{GuildId, IdemKey};
use crate::web::auth::IdempotencyKey;

pub use forms::{FieldErrors, Fields};
pub use layout::{money, time, GuildHead};

/// Every dashboard route (pages, forms, static assets).
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(overview::overview))
        .route("/static/{file}", get(assets::asset))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", axum::routing::post(login::logout))
        .merge(overview::routes())
        .merge(users::routes())
        .merge(shop::routes())
        .merge(tasks::routes())
        .merge(transactions::routes())
        .merge(messages::routes())
        .merge(guild::routes())
        .merge(instance::routes())
}

/// A logged-in visitor of a page. Extracting it sends everyone else to the login form (with
/// the page to come back to). Pages show write forms only when `can_write()`.
pub struct Page {
    pub auth: Auth,
    /// The session's CSRF token: every form carries it as the `csrf` field.
    pub csrf: String,
}

impl Page {
    pub fn can_write(&self) -> bool {
        self.auth.role == AdminRole::Admin
    }

    /// The check every form post makes before it changes anything: the admin role and the
    /// session's CSRF token in the form's `csrf` field.
    pub fn check_write(&self, fields: &Fields) -> Result<(), PageError> {
        if !self.can_write() {
            return Err(ApiError::forbidden(
                "read_only",
                "Your dashboard account is read-only (viewer).",
            )
            .into());
        }
        let sent = fields.get("csrf");
        if sent.is_empty() || !same(sent, &self.csrf) {
            tracing::warn!(username = %self.auth.username, "dashboard form refused: CSRF token missing or wrong");
            return Err(ApiError::forbidden(
                "csrf_failed",
                "This form has expired or did not come from the dashboard; reload the page and try again.",
            )
            .into());
        }
        Ok(())
    }
}

impl Page {
    /// The form's one-time key as the API's `Idempotency-Key`: the same form sent twice with the
    /// same fields gets the first answer and changes nothing more; its fingerprint covers every
    /// field (the service adds the account).
    pub fn idem(&self, fields: &Fields) -> IdempotencyKey {
        let token = fields.get("idem");
        if token.is_empty() || token.len() > 64 {
            return IdempotencyKey(None);
        }
        let parts: Vec<Vec<u8>> = fields
            .0
            .iter()
            .filter(|(k, _)| k.as_str() != "csrf" && k.as_str() != "idem")
            .map(|(k, v)| format!("{k}={}", v.trim()).into_bytes())
            .collect();
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let fp = crate::web::idempotency::fingerprint(&refs);
        IdempotencyKey(IdemKey::new(format!("form:{token}"), fp).ok())
    }
}

/// Where the login form sends a visitor back to: a local path only.
pub fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

fn login_redirect(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let target = if parts.method == axum::http::Method::GET {
        here
    } else {
        parts.uri.path()
    };
    let next: String = form_urlencoded_byte(target);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// Percent-encodes everything but unreserved characters and `/`.
fn form_urlencoded_byte(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<WebState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Page, Response> {
        match authenticate(parts, state, false).await {
            Ok(auth) => {
                let csrf = state.keys.csrf_token(&auth.session);
                Ok(Page { auth, csrf })
            }
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(login_redirect(parts)),
            Err(e) => Err(PageError::Api(e).into_response()),
        }
    }
}

/// A page that could not be shown: an error page with the API's status and message, or a
/// redirect.
#[derive(Debug)]
pub enum PageError {
    Api(ApiError),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

impl From<crate::Error> for PageError {
    fn from(e: crate::Error) -> Self {
        PageError::Api(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError::Api(e) = self;
        let body = layout::bare(
            "Coffer: error",
            html! {
                h1 { "Something stopped this page" }
                p.error role="alert" { (e.message) }
                p { a href="/" { "Back to the overview" } }
            },
        );
        (e.status, body).into_response()
    }
}

pub type PageResult<T = Response> = Result<T, PageError>;

/// A 303 to `to` with a short note shown at the top of the next page.
pub fn done(to: &str, note: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{to}{sep}done={}", form_urlencoded_byte(note))).into_response()
}

/// Refuses server id 0 (the instance's own namespace) on per-server pages.
pub fn server(g: GuildId) -> Result<GuildId, PageError> {
    if g.0 == 0 {
        return Err(ApiError::bad_request(
            "invalid_server",
            "Server id 0 is not a Discord server; use the server's id.",
        )
        .into());
    }
    Ok(g)
}

/// A page's own number as one of the API's bounded query values (clamped into its bounds).
pub fn ranged<const MIN: u64, const MAX: u64>(v: u64) -> crate::web::contract::Ranged<MIN, MAX> {
    crate::web::contract::Ranged(v.clamp(MIN, MAX))
}

/// The hidden fields every form carries: the session's CSRF token, and a one-time key for
/// this rendering of the form (`Page::idem`), so a double-clicked or re-sent form applies once.
pub fn csrf_field(page: &Page) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(page.csrf);
        input type="hidden" name="idem" value=(crate::web::auth::random_token());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/servers/1/users"), "/servers/1/users");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
    }

    #[test]
    fn the_next_parameter_is_percent_encoded() {
        assert_eq!(form_urlencoded_byte("/a?b=c&d"), "/a%3Fb%3Dc%26d");
    }
}
