//! Router tests: the real router over a temp store, driven with `oneshot`. Helpers read like the
//! dashboard's own calls: `app.login(..)`, `app.get(path, &token)`, `app.send(..)`.

mod announce;
mod archive;
mod auth;
mod command_log;
mod contract_bodies;
mod economy;
mod export;
mod guild;
mod hardening_input;
mod hardening_login;
mod hardening_sessions;
mod health;
mod idempotency;
mod instance;
mod limits;
mod metrics;
mod openapi;
mod pages;
mod pages_forms;
mod plain_text;
mod serving;
mod shop;
mod stream;
mod tasks;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::domain::{GuildId, Money, Source, UserId};
use crate::economy::{Adjustment, OpMeta};
use crate::services::Services;
use crate::store::admins::AdminRole;
use crate::testing::{self, TestStore};
use crate::web::WebSettings;

pub const SECRET: &[u8] = b"test-secret-0123456789-0123456789-abcdef";
pub const PW: &str = "correct horse battery";
pub const G: GuildId = GuildId(111);
pub const G2: GuildId = GuildId(222);

pub struct TestApp {
    pub ts: TestStore,
    pub services: Services,
    pub app: Router,
    /// The router's shared state (its login throttle, stream counts).
    pub state: crate::web::WebState,
    /// The log buffer behind `/api/logs`.
    pub logs: std::sync::Arc<crate::telemetry::logbuf::LogBuffer>,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The error code of an error answer (and checks the error shape).
    pub fn code(&self) -> &str {
        let e = &self.body["error"];
        assert!(
            e["message"].is_string(),
            "not the error shape: {}",
            self.body
        );
        assert!(e.get("details").is_some(), "no details: {}", self.body);
        e["code"].as_str().unwrap_or("")
    }

    /// Every `Set-Cookie` header.
    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    pub fn cookie(&self, name: &str) -> String {
        self.cookies()
            .iter()
            .find_map(|c| {
                c.strip_prefix(&format!("{name}="))
                    .map(|r| r.split(';').next().unwrap().to_owned())
            })
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", self.cookies()))
    }
}

pub fn settings() -> WebSettings {
    WebSettings {
        jwt_secret: SECRET.to_vec(),
        access_ttl: chrono::Duration::minutes(15),
        refresh_ttl: chrono::Duration::days(7),
        secure_cookies: false,
        trusted_proxies: Vec::new(),
        logs: std::sync::Arc::new(crate::telemetry::logbuf::LogBuffer::new(100)),
    }
}

impl TestApp {
    /// An app with an `admin` and a `viewer` account (password `PW`).
    pub fn new() -> TestApp {
        TestApp::with_settings(settings())
    }

    pub fn with_settings(settings: WebSettings) -> TestApp {
        let ts = testing::store();
        crate::accounts::set_password(&ts.store, "admin", PW, Some(AdminRole::Admin)).unwrap();
        crate::accounts::set_password(&ts.store, "viewer", PW, Some(AdminRole::Viewer)).unwrap();
        let services = Services::new(ts.store.clone(), false);
        let logs = settings.logs.clone();
        let state = crate::web::router::state(services.clone(), settings);
        let app = crate::web::router::router_with_state(state.clone());
        TestApp {
            ts,
            services,
            app,
            state,
            logs,
        }
    }

    pub async fn request(&self, req: Request<Body>) -> Answer {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A request with optional Bearer token, JSON body and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        self.request(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(token), Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Answer {
        self.send(Method::DELETE, path, Some(token), None, &[])
            .await
    }

    /// The newest audit entry of guild `g` (panics when there is none).
    pub fn last_audit(&self, g: GuildId) -> crate::store::audit::AuditEntry {
        let mut last = None;
        self.ts
            .store
            .read(g, |r| {
                r.scan_audit(|e| -> Result<bool, crate::Error> {
                    last = Some(e);
                    Ok(false)
                })
            })
            .unwrap();
        last.expect("no audit entry")
    }

    pub async fn login_answer(&self, user: &str, pw: &str) -> Answer {
        self.send(
            Method::POST,
            "/api/auth/login",
            None,
            Some(serde_json::json!({ "username": user, "password": pw })),
            &[],
        )
        .await
    }

    /// Creates a shop item in guild `g` through the API; its id.
    pub async fn create_item(&self, tok: &str, g: u64, body: serde_json::Value) -> u64 {
        let a = self.post(&format!("/api/{g}/shop"), tok, body).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        a.body["id"].as_u64().unwrap()
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, user: &str) -> String {
        let a = self.login_answer(user, PW).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        a.body["access_token"].as_str().unwrap().to_owned()
    }

    /// Gives `user` in guild `g` a balance through an admin adjustment.
    pub fn fund(&self, g: GuildId, user: u64, amount: i64) -> u64 {
        let out = self
            .services
            .economy
            .adjust(
                g,
                UserId(user),
                Adjustment::Add(Money::new(amount)),
                "seed",
                &OpMeta {
                    actor: crate::domain::Actor::System,
                    source: Source::System,
                    idempotency_key: None,
                },
            )
            .unwrap();
        out.transaction.unwrap().id
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new();
    for path in ["/healthz", "/api/status", "/api/nope"] {
        let a = app.send(Method::GET, path, None, None, &[]).await;
        let csp = a.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert_eq!(a.headers["x-content-type-options"], "nosniff");
        assert_eq!(a.headers["x-frame-options"], "DENY");
        assert_eq!(a.headers["referrer-policy"], "no-referrer");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::new();
    let a = app
        .send(Method::GET, "/api/nope/nothing/here", None, None, &[])
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "not_found");
    let a = app
        .send(Method::DELETE, "/api/status", None, None, &[])
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.code(), "method_not_allowed");
}

#[tokio::test]
async fn malformed_json_and_bad_paths_are_400_in_the_error_shape() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let req = Request::builder()
        .method(Method::PUT)
        .uri(format!("/api/{}/users/5/balance", G.0))
        .header("authorization", format!("Bearer {tok}"))
        .header("content-type", "application/json")
        .body(Body::from("{\"amount\": 5,"))
        .unwrap();
    let a = app.request(req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "malformed_json");
    let a = app
        .put(
            &format!("/api/{}/users/5/balance", G.0),
            &tok,
            serde_json::json!({"amount": "lots"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "invalid_body");
    for (method, path) in [
        (Method::GET, "/api/not-a-number/users".to_owned()),
        (Method::GET, "/api/-5/users".to_owned()),
        (Method::GET, "/api/18446744073709551616/users".to_owned()),
        (Method::GET, format!("/api/{}/users/abc", G.0)),
        (Method::GET, format!("/api/{}/shop/abc", G.0)),
        (
            Method::POST,
            format!("/api/{}/tasks/1/claims/abc/accept", G.0),
        ),
    ] {
        let a = app.send(method, &path, Some(&tok), None, &[]).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}: {}", a.body);
        assert_eq!(a.code(), "invalid_path", "{path}");
    }
    let a = app.get("/api/abc/users", &tok).await;
    let message = a.body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("server_id must be an id"), "{message}");
    let a = app.get(&format!("/api/{}/users?page=x", G.0), &tok).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.code(), "invalid_parameter");
    assert_eq!(a.body["error"]["details"]["field"], "page");
    let a = app
        .get(&format!("/api/{}/users?include_inactive=maybe", G.0), &tok)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error"]["details"]["field"], "include_inactive");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/auth/login")
        .body(Body::from("{}"))
        .unwrap();
    let a = app.request(req).await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(a.code(), "unsupported_media_type");
}

/// The real app on a real port: connect-info wiring, the generated JWT key file, login.
#[tokio::test]
async fn the_served_app_logs_in_over_tcp_and_keeps_its_jwt_key_in_the_data_dir() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::config::Config::defaults();
    config.data_dir = dir.path().to_owned();
    config.auth.admin_username = Some("root".into());
    config.auth.admin_password = Some(crate::config::Secret::new(PW));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::app::run_until(
        config,
        std::sync::Arc::new(crate::clock::SystemClock),
        listener,
        async move {
            let _ = stopped.await;
        },
    ));
    let post = |body: String| async move {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    };
    let mut answer = String::new();
    for _ in 0..50 {
        // The server may still be opening the store.
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            answer =
                post(serde_json::json!({"username": "root", "password": PW}).to_string()).await;
            if !answer.is_empty() {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"access_token\""));
    let wrong =
        post(serde_json::json!({"username": "root", "password": "wrong pw!"}).to_string()).await;
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    assert!(dir.path().join("jwt_secret").exists());
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
