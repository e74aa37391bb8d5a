//! The login form and logout. Logging in runs the API's own login (same throttle, same password
//! check, same cookies); logout ends the session the way `POST /api/auth/logout` does.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use maud::html;
use serde::Deserialize;

use super::forms::{form_error, input, FieldErrors, Fields};
use super::layout::bare;
use super::{safe_next, Page, PageResult};
use crate::web::api::auth::{end_session, login as api_login, ClientIp, LoginRequest};
use crate::web::error::Json;
use crate::web::WebState;

#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
    pub done: Option<String>,
}

fn render(next: &str, username: &str, errors: &FieldErrors, note: Option<&str>) -> maud::Markup {
    bare(
        "Log in · Coffer",
        html! {
            h1 { "Coffer" }
            @if let Some(n) = note { p.note role="status" { (n) } }
            form.panel method="post" action="/login" {
                (form_error(errors))
                input type="hidden" name="next" value=(next);
                (input("Username", "username", "text", username, errors, true))
                (input("Password", "password", "password", "", errors, true))
                button type="submit" { "Log in" }
            }
            p.muted { "The first start prints the password of the account " code { "admin" } " in the log." }
        },
    )
}

/// `GET /login`.
pub async fn form(Query(q): Query<NextQuery>) -> maud::Markup {
    let next = safe_next(q.next.as_deref().unwrap_or("/"));
    render(next, "", &FieldErrors::default(), q.done.as_deref())
}

/// Whether the browser says the form came from another site (login CSRF: logging a victim into
/// the attacker's account). `Sec-Fetch-Site` is set by the browser itself and, unlike a
/// comparison of `Origin` with `Host`, survives reverse proxies that rewrite `Host`.
fn from_elsewhere(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// `POST /login`: on success the session cookies are set and the visitor goes where they were
/// headed; otherwise the form again with the reason.
pub async fn submit(
    State(s): State<WebState>,
    ip: ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields::from_pairs(pairs);
    if from_elsewhere(&headers) {
        let mut errors = FieldErrors::default();
        errors.add(
            "_form",
            "This login form was sent from another site; open the dashboard and log in there.",
        );
        return (StatusCode::FORBIDDEN, render("/", "", &errors, None)).into_response();
    }
    let next = safe_next(f.get("next")).to_owned();
    let username = f.get("username").to_owned();
    let req = LoginRequest {
        username: username.clone(),
        password: f.0.get("password").cloned().unwrap_or_default(),
    };
    match api_login(State(s), ip, jar, Json(req)).await {
        Ok((jar, _)) => (jar, Redirect::to(&next)).into_response(),
        Err(e) => {
            let mut errors = FieldErrors::default();
            if e.status == StatusCode::UNAUTHORIZED {
                errors.add("password", e.message.clone());
            } else {
                errors.add("_form", e.message.clone());
            }
            (e.status, render(&next, &username, &errors, None)).into_response()
        }
    }
}

/// `POST /logout` (the account menu's button).
pub async fn logout(
    State(s): State<WebState>,
    page: Page,
    jar: CookieJar,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let f = Fields::from_pairs(pairs);
    // Viewers may log out too: only the CSRF token is checked.
    if !crate::web::auth::same(f.get("csrf"), &page.csrf) {
        return Err(crate::web::error::ApiError::forbidden(
            "csrf_failed",
            "This form has expired; reload the page and try again.",
        )
        .into());
    }
    let jar = end_session(&s, jar, page.auth.session.clone()).await?;
    Ok((jar, Redirect::to("/login?done=Logged%20out.")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(site: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = site {
            h.insert("sec-fetch-site", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn a_login_posted_from_another_site_is_recognised() {
        assert!(!from_elsewhere(&headers(None)), "older browsers, scripts");
        assert!(!from_elsewhere(&headers(Some("same-origin"))));
        assert!(
            !from_elsewhere(&headers(Some("none"))),
            "typed or bookmarked"
        );
        assert!(from_elsewhere(&headers(Some("cross-site"))));
    }
}
