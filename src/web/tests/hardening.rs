//! Issue 10 (web half), one test or more per point, each failing before its fix: the login
//! throttle race and argon2 bound, per (username, address) delays and trusted proxies, streams
//! ending with their session, CSRF bound to the session, refresh grace, logging, HSTS and
//! `__Host-` cookies, server id 0, 413 shape and the viewer's validate.

use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use super::{settings, TestApp, G, PW};
use crate::web::throttle::{FREE_PER_USER, HASH_SLOTS};

fn login_from(ip: [u8; 4], user: &str, pw: &str, xff: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri("/api/auth/login")
        .header("content-type", "application/json");
    if let Some(x) = xff {
        b = b.header("x-forwarded-for", x);
    }
    let mut req = b
        .body(Body::from(
            json!({"username": user, "password": pw}).to_string(),
        ))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((ip, 4000))));
    req
}

/// Point 1: 100 parallel bad logins for `admin` got 40 answers of 401, each an argon2 run.
#[tokio::test]
async fn a_burst_of_100_parallel_bad_logins_runs_at_most_the_free_password_checks() {
    let app = TestApp::new();
    let answers = futures_util::future::join_all(
        (0..100).map(|_| app.login_answer("admin", "wrong password")),
    )
    .await;
    let unauthorized = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(unauthorized, FREE_PER_USER as usize);
    assert_eq!(unauthorized + refused, 100);
    let (hashed, peak) = app.state.throttle.hash_stats();
    assert_eq!(hashed, u64::from(FREE_PER_USER), "argon2 runs");
    assert!(peak <= HASH_SLOTS, "{peak} password checks ran at once");
}

/// Point 1: distinct usernames and addresses pass the throttle, but argon2 (~19 MiB each) runs
/// in at most `HASH_SLOTS` requests at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_logins_from_many_addresses_hash_at_most_hash_slots_at_once() {
    let app = TestApp::new();
    let answers = futures_util::future::join_all((0..12u8).map(|i| {
        app.request(login_from(
            [10, 0, 1, i],
            &format!("user{i}"),
            "wrong password",
            None,
        ))
    }))
    .await;
    assert!(answers.iter().all(
        |a| a.status == StatusCode::UNAUTHORIZED || a.status == StatusCode::SERVICE_UNAVAILABLE
    ));
    let (hashed, peak) = app.state.throttle.hash_stats();
    assert!(hashed >= 1);
    assert!(peak <= HASH_SLOTS, "{peak} password checks ran at once");
}

/// Point 2: an attacker's failures no longer lock the owner out, and the delays grow.
#[tokio::test]
async fn an_attacker_is_delayed_more_and_more_while_the_owner_logs_in_from_elsewhere() {
    let app = TestApp::new();
    let attacker = [203, 0, 113, 5];
    for _ in 0..FREE_PER_USER {
        let a = app
            .request(login_from(attacker, "admin", "guess guess", None))
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = app
        .request(login_from(attacker, "admin", "guess guess", None))
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.headers["retry-after"], "1");
    app.ts.clock.advance(chrono::Duration::seconds(1));
    let a = app
        .request(login_from(attacker, "admin", "guess guess", None))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = app
        .request(login_from(attacker, "admin", "guess guess", None))
        .await;
    assert_eq!(a.headers["retry-after"], "2", "the delay doubled");
    let owner = app
        .request(login_from([198, 51, 100, 7], "admin", PW, None))
        .await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.body);
}

/// Point 2: `X-Forwarded-For` names the client only when the peer is a trusted proxy.
#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let app = TestApp::with_settings(crate::web::WebSettings {
        trusted_proxies: vec![crate::config::IpNet::parse("10.0.0.0/8").unwrap()],
        ..settings()
    });
    let proxy = [10, 0, 0, 2];
    for _ in 0..FREE_PER_USER {
        app.request(login_from(proxy, "admin", "bad bad bad", Some("192.0.2.1")))
            .await;
    }
    let a = app
        .request(login_from(proxy, "admin", PW, Some("192.0.2.1")))
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not affected.
    let a = app
        .request(login_from(proxy, "admin", PW, Some("192.0.2.99, 10.0.0.3")))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // From an untrusted peer the header is ignored: forging it does not escape the throttle.
    let direct = [192, 0, 2, 200];
    for i in 0..FREE_PER_USER {
        let xff = format!("198.51.100.{i}");
        app.request(login_from(direct, "admin", "bad bad bad", Some(&xff)))
            .await;
    }
    let a = app
        .request(login_from(direct, "admin", PW, Some("198.51.100.77")))
        .await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
}

/// Point 9: failed logins, throttling and CSRF refusals are logged at warn with the client
/// address and a sanitised username.
#[tokio::test]
async fn failed_logins_throttling_and_csrf_refusals_are_logged_at_warn() {
    use tracing_subscriber::layer::SubscriberExt;
    let app = TestApp::new();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(app.logs.layer()));
    let ip = [192, 0, 2, 10];
    for _ in 0..=FREE_PER_USER {
        app.request(login_from(ip, "ad\u{202E}min\n", "nope nope", None))
            .await;
    }
    let login = app.login_answer("admin", PW).await;
    let cookie = format!(
        "access_token={}; csrf_token={}",
        login.cookie("access_token"),
        login.cookie("csrf_token")
    );
    let a = app
        .send(
            Method::PUT,
            &format!("/api/{}/users/7/balance", G.0),
            None,
            Some(json!({"amount": 1})),
            &[("cookie", &cookie), ("x-csrf-token", "forged")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let warn = app
        .logs
        .query(crate::telemetry::logbuf::rank("warn"), None, 100);
    let has = |needle: &str| {
        warn.iter()
            .any(|l| l.message.contains(needle) && l.level == "warn")
    };
    assert!(
        has("failed dashboard login") && has("client_ip=192.0.2.10") && has("username=ad?min"),
        "{warn:#?}"
    );
    assert!(has("dashboard login throttled"), "{warn:#?}");
    assert!(
        has("CSRF check failed") && has("username=admin"),
        "{warn:#?}"
    );
    assert!(
        !warn.iter().any(|l| l.message.contains('\u{202E}')),
        "raw username in the log"
    );
}

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
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(open_stream(&app, &tok).await.is_ok());
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

/// Point 11: server id 0 is the instance namespace, not a server.
#[tokio::test]
async fn server_id_0_is_refused_by_every_per_server_route() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    for (method, path) in [
        (Method::GET, "/api/0/users"),
        (Method::GET, "/api/0/config"),
        (Method::POST, "/api/0/shop"),
        (Method::PUT, "/api/00/users/5/balance"),
        (Method::GET, "/api/0/transactions"),
    ] {
        let a = app
            .send(method, path, Some(&tok), Some(json!({})), &[])
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}: {}", a.body);
        assert_eq!(a.code(), "invalid_server", "{path}");
    }
    // The instance's own audit log stays readable.
    assert_eq!(app.get("/api/audit/0", &tok).await.status, StatusCode::OK);
}

/// Point 13: a 413 from a handler's body extractor was plain text.
#[tokio::test]
async fn an_oversized_body_is_a_413_in_the_json_error_shape() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let big = "x".repeat(3 * 1024 * 1024);
    for path in [
        format!("/api/{}/transactions/validate", G.0),
        format!("/api/{}/users/5/balance", G.0),
        "/api/auth/refresh".to_owned(),
    ] {
        let req = Request::builder()
            .method(if path.ends_with("balance") {
                Method::PUT
            } else {
                Method::POST
            })
            .uri(&path)
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", "application/json")
            .body(Body::from(big.clone()))
            .unwrap();
        let a = app.request(req).await;
        assert_eq!(
            a.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            a.body
        );
        assert_eq!(a.code(), "payload_too_large", "{path}");
    }
}

/// Point 13: viewers may run the read-only validate; other writes stay admin-only.
#[tokio::test]
async fn a_viewer_may_validate_the_ledger_but_not_write() {
    let app = TestApp::new();
    app.fund(G, 5, 10);
    let viewer = app.login("viewer").await;
    let a = app
        .post(
            &format!("/api/{}/transactions/validate", G.0),
            &viewer,
            json!({}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["ok"], true);
    let a = app
        .post(
            &format!("/api/{}/users/cleanup", G.0),
            &viewer,
            json!({"days": 5}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

/// Point 10: names took control characters and bidi overrides (task `"a\u0000"`, a shop item
/// with U+202E); one validator now refuses them everywhere, naming the field.
#[tokio::test]
async fn names_with_control_characters_or_bidi_overrides_are_refused_naming_the_field() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let cases = [
        (
            format!("/api/{}/tasks", G.0),
            json!({"name": "a\u{0000}", "reward": 5}),
            "name",
        ),
        (
            format!("/api/{}/shop", G.0),
            json!({"name": "\u{202E}txt.exe", "price": 5}),
            "name",
        ),
        (
            format!("/api/{}/shop", G.0),
            json!({"name": "Hat", "price": 5, "category": "x\u{2066}y"}),
            "category",
        ),
        (
            format!("/api/{}/tasks", G.0),
            json!({"name": "Art", "reward": 5, "description": "hi\u{200F}"}),
            "description",
        ),
    ];
    for (path, body, field) in cases {
        let a = app.post(&path, &tok, body.clone()).await;
        assert!(
            a.status.is_client_error(),
            "{body}: {} {}",
            a.status,
            a.body
        );
        let text = a.body.to_string();
        assert!(
            text.contains(field) && text.contains("U+"),
            "{body}: {text}"
        );
    }
    let a = app
        .put(
            &format!("/api/{}/config", G.0),
            &tok,
            json!({"currency_name": "coins\u{202D}"}),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert!(a.body.to_string().contains("currency_name"), "{}", a.body);
    // Ordinary names, emoji and other scripts still pass.
    let a = app
        .post(
            &format!("/api/{}/shop", G.0),
            &tok,
            json!({"name": "Café ☕ 日本", "price": 5, "description": "two\nlines"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
}

/// Point 11: channel ids were stored without checking they belong to the server; once the
/// server's channels are known, others are refused naming the field.
#[tokio::test]
async fn channels_not_of_the_server_are_refused_once_its_channels_are_known() {
    use crate::domain::ChannelId;
    use crate::guild::{ChannelInfo, ChannelKind};
    let app = TestApp::new();
    let tok = app.login("admin").await;
    // Unknown list: accepted as before.
    let a = app
        .put(
            &format!("/api/{}/config", G.0),
            &tok,
            json!({"shop_channel_id": "900"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    app.services
        .guilds
        .replace_channels(
            G,
            &[ChannelInfo {
                id: ChannelId(500),
                name: "news".into(),
                kind: ChannelKind::Text,
                position: 0,
                parent: None,
            }],
        )
        .unwrap();
    let a = app
        .put(
            &format!("/api/{}/config", G.0),
            &tok,
            json!({"task_channel_id": "777"}),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert_eq!(a.body["error"]["details"]["field"], "task_channel_id");
    let a = app
        .post(
            &format!("/api/{}/announcements", G.0),
            &tok,
            json!({"title": "Hi", "content": "x", "channel": "777"}),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert_eq!(a.body["error"]["details"]["field"], "channel");
    let a = app
        .post(
            &format!("/api/{}/announcements", G.0),
            &tok,
            json!({"title": "Hi", "content": "x", "channel": "500"}),
        )
        .await;
    assert!(a.status.is_success(), "{} {}", a.status, a.body);
}
