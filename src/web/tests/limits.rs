//! Input that used to reach a panic or a 5xx (issue 10): out-of-range numbers in query
//! parameters and bodies, oversized bodies, and the viewer-readable validate endpoint.

use axum::http::{Method, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use super::{TestApp, G};

/// Every integer query parameter of the API, with `{}` where the number goes.
const QUERY_ROUTES: &[&str] = &[
    "/api/111/users/inactive?days={}",
    "/api/111/users?page={}",
    "/api/111/users?per_page={}",
    "/api/111/transactions?limit={}",
    "/api/111/transactions?offset={}",
    "/api/111/announcements?offset={}",
    "/api/111/announcements?limit={}",
    "/api/111/tasks?offset={}",
    "/api/111/tasks?limit={}",
    "/api/111/members?offset={}",
    "/api/111/members?limit={}",
    "/api/audit/111?page={}",
    "/api/audit/111?per_page={}",
    "/api/logs?limit={}",
];

/// Bodies with a number in them: `(method, path, field)`.
const BODY_ROUTES: &[(&str, &str)] = &[
    ("/api/111/users/cleanup", "days"),
    ("/api/111/transactions/archive", "days_to_keep"),
];

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(|n| n.to_string()),
        Just(u32::MAX.to_string()),
        Just("120000000".to_owned()),
        Just("0".to_owned()),
    ]
}

/// Issue 10 point 6: `?days=120000000` and `{"days":4294967295}` panicked in the date
/// arithmetic (`DateTime - TimeDelta overflowed`) and answered 500.
#[test]
fn random_integers_in_query_parameters_and_bodies_never_answer_5xx() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let app = TestApp::new();
    let tok = rt.block_on(app.login("admin"));
    app.fund(G, 5, 100);
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let routes = QUERY_ROUTES.len() + BODY_ROUTES.len();
    runner
        .run(&(0..routes, number()), |(i, n)| {
            let a = rt.block_on(async {
                match QUERY_ROUTES.get(i) {
                    Some(r) => app.get(&r.replace("{}", &n), &tok).await,
                    None => {
                        let (path, field) = BODY_ROUTES[i - QUERY_ROUTES.len()];
                        let body: serde_json::Value =
                            serde_json::from_str(&format!("{{\"{field}\": {n}}}")).unwrap();
                        app.post(path, &tok, body).await
                    }
                }
            });
            prop_assert!(
                !a.status.is_server_error(),
                "route {i} with {n}: {} {}",
                a.status,
                a.body
            );
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn the_reported_overflowing_days_are_clear_json_errors() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let a = app
        .get("/api/111/users/inactive?days=120000000", &tok)
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert!(a.body.to_string().contains("days"), "{}", a.body);
    let a = app
        .post(
            "/api/111/users/cleanup",
            &tok,
            json!({"days": 4294967295u64}),
        )
        .await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.body);
    assert!(a.body["error"]["message"].is_string(), "{}", a.body);
    let a = app
        .send(
            Method::GET,
            "/api/111/users/inactive?days=36500",
            Some(&tok),
            None,
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}
