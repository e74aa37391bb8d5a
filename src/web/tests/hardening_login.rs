//! Issue 10, login (points 1, 2, 9): the throttle race and the bound on password checks, per
//! (username, address) doubling delays, trusted proxies, and warn logs of refusals.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

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
    let app = TestApp::new();
    let _guard = crate::testing::capture_logs(&app.logs);
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
