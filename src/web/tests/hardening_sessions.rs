//! Issue 10, sessions (points 3, 7, 8, 13): live streams end with their session or token and
//! are capped per session; CSRF bound to the session; the two-tab refresh grace; HSTS and
//! `__Host-` cookies over https.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use super::{settings, TestApp, G, PW};

async fn open_stream(app: &TestApp, token: &str) -> Result<Body, StatusCode> {
    let res = app
        .app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/api/stream")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    if res.status() != StatusCode::OK {
        return Err(res.status());
    }
    Ok(res.into_body())
}

/// Reads the stream until it ends (or `within` passes: then `None`).
async fn read_to_end(mut body: Body, within: Duration) -> Option<String> {
    let mut out = String::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return None,
            Ok(None) => return Some(out),
            Ok(Some(Ok(f))) => {
                if let Ok(d) = f.into_data() {
                    out.push_str(std::str::from_utf8(&d).unwrap());
                }
            }
            Ok(Some(Err(_))) => return Some(out),
        }
    }
}

/// Point 3: a stream kept receiving events after logout.
#[tokio::test]
async fn a_live_stream_ends_when_its_session_logs_out() {
    let app = TestApp::new();
    let login = app.login_answer("admin", PW).await;
    let tok = login.body["access_token"].as_str().unwrap();
    let body = open_stream(&app, tok).await.unwrap();
    let a = app
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            Some(json!({"refresh_token": login.body["refresh_token"]})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let text = read_to_end(body, Duration::from_secs(5))
        .await
        .expect("the stream is still open after logout");
    assert!(
        text.contains("event: session_ended") && text.contains("session_ended"),
        "{text}"
    );
}

/// Point 3 (with point 4): a password reset ends the account's streams too.
#[tokio::test]
async fn a_live_stream_ends_when_the_password_is_reset() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let body = open_stream(&app, &tok).await.unwrap();
    app.services
        .accounts
        .set_password("admin", "a brand new password", None)
        .unwrap();
    assert!(read_to_end(body, Duration::from_secs(5)).await.is_some());
    assert_eq!(
        app.get("/api/servers", &tok).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Point 3: a stream ends when its access token expires.
#[tokio::test]
async fn a_live_stream_ends_when_its_access_token_expires() {
    let app = TestApp::with_settings(crate::web::WebSettings {
        access_ttl: chrono::Duration::seconds(1),
        ..settings()
    });
    let tok = app.login("admin").await;
    let body = open_stream(&app, &tok).await.unwrap();
    let text = read_to_end(body, Duration::from_secs(5))
        .await
        .expect("the stream outlived its token");
    assert!(text.contains("token_expired"), "{text}");
}

/// Point 7: one session holds at most `MAX_STREAMS_PER_SESSION` streams.
#[tokio::test]
async fn a_session_may_hold_only_a_few_live_streams() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let mut open = Vec::new();
    for _ in 0..crate::web::sse::MAX_STREAMS_PER_SESSION {
        open.push(open_stream(&app, &tok).await.unwrap());
    }
    assert_eq!(
        open_stream(&app, &tok).await.unwrap_err(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another session is not affected, and closing a stream frees its slot.
    let other = app.login("admin").await;
    drop(open_stream(&app, &other).await.unwrap());
    drop(open.pop());
    // The stream's task notices the closed body and gives its slot back.
    let mut reopened = false;
    for _ in 0..1000 {
        if open_stream(&app, &tok).await.is_ok() {
            reopened = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(reopened, "the closed stream's slot was not given back");
}

/// Point 13: the CSRF token was a free double-submit (any cookie equal to the header passed).
#[tokio::test]
async fn the_csrf_token_is_bound_to_its_session() {
    let app = TestApp::new();
    let a = app.login_answer("admin", PW).await;
    let b = app.login_answer("admin", PW).await;
    let path = format!("/api/{}/users/7/balance", G.0);
    let put = |cookie: String, csrf: String| {
        let path = path.clone();
        let app = &app;
        async move {
            app.send(
                Method::PUT,
                &path,
                None,
                Some(json!({"amount": 5})),
                &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            )
            .await
            .status
        }
    };
    let access_a = a.cookie("access_token");
    // A planted cookie equal to the header no longer passes.
    let planted = format!("access_token={access_a}; csrf_token=chosen");
    assert_eq!(put(planted, "chosen".into()).await, StatusCode::FORBIDDEN);
    // Session B's token does not work for session A.
    let cookie_a = format!("access_token={access_a}");
    assert_eq!(
        put(cookie_a.clone(), b.cookie("csrf_token")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(a.body["csrf_token"], a.cookie("csrf_token"));
    assert_eq!(put(cookie_a, a.cookie("csrf_token")).await, StatusCode::OK);
}

/// Point 13: two tabs refreshing at once: the slower one sends the token the faster one just
/// rotated; within the grace it gets tokens of its own instead of ending the session.
#[tokio::test]
async fn two_tabs_refreshing_at_once_both_stay_logged_in() {
    let app = TestApp::new();
    let login = app.login_answer("admin", PW).await;
    let r1 = login.body["refresh_token"].clone();
    let app = &app;
    let refresh = |t: serde_json::Value| async move {
        app.send(
            Method::POST,
            "/api/auth/refresh",
            None,
            Some(json!({ "refresh_token": t })),
            &[],
        )
        .await
    };
    let tab1 = refresh(r1.clone()).await;
    app.ts.clock.advance(chrono::Duration::seconds(2));
    let tab2 = refresh(r1.clone()).await;
    assert_eq!(tab1.status, StatusCode::OK, "{}", tab1.body);
    assert_eq!(tab2.status, StatusCode::OK, "{}", tab2.body);
    for t in [&tab1, &tab2] {
        let tok = t.body["access_token"].as_str().unwrap();
        assert_eq!(app.get("/api/servers", tok).await.status, StatusCode::OK);
    }
    // A replay after the grace still ends the session.
    app.ts.clock.advance(crate::accounts::rotation_grace());
    let late = refresh(r1).await;
    assert_eq!(late.code(), "refresh_reused");
}

/// Point 8: over https, HSTS is sent and the cookies carry the `__Host-`/`__Secure-` prefixes.
#[tokio::test]
async fn over_https_responses_carry_hsts_and_prefixed_secure_cookies() {
    let plain = TestApp::new();
    let a = plain.send(Method::GET, "/healthz", None, None, &[]).await;
    assert!(a.headers.get("strict-transport-security").is_none());
    let app = TestApp::with_settings(crate::web::WebSettings {
        secure_cookies: true,
        ..settings()
    });
    let a = app.send(Method::GET, "/healthz", None, None, &[]).await;
    assert!(a.headers["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let login = app.login_answer("admin", PW).await;
    for c in login.cookies() {
        assert!(c.contains("Secure"), "{c}");
    }
    let access = login.cookie("__Host-access_token");
    let csrf = login.cookie("__Host-csrf_token");
    let refresh = login.cookie("__Secure-refresh_token");
    let cookie = format!("__Host-access_token={access}; __Host-csrf_token={csrf}");
    let a = app
        .send(
            Method::PUT,
            &format!("/api/{}/users/7/balance", G.0),
            None,
            Some(json!({"amount": 1})),
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // The unprefixed name is not read over https (a subdomain could have planted it).
    let a = app
        .send(
            Method::GET,
            "/api/servers",
            None,
            None,
            &[("cookie", &format!("access_token={access}"))],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = app
        .send(
            Method::POST,
            "/api/auth/refresh",
            None,
            None,
            &[
                ("cookie", &format!("__Secure-refresh_token={refresh}")),
                ("x-csrf-token", &csrf),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}
