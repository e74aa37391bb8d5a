//! The dashboard pages through the real router, with the browser's cookies: each page renders
//! for an admin, sends a logged-out visitor to the login form and shows a viewer no write form;
//! forms put errors next to their fields, refuse a missing CSRF token and change through the
//! same service calls as the API.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use super::{Answer, TestApp, G, PW};

/// A browser session: the cookie header and the CSRF token forms carry.
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    /// Logs in through the login form, as a browser would.
    pub async fn browser(&self, user: &str) -> Browser {
        let a = self
            .form(
                "/login",
                None,
                &[("username", user), ("password", PW), ("next", "/")],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let access = a.cookie("access_token");
        let csrf = a.cookie("csrf_token");
        Browser {
            cookie: format!("access_token={access}; csrf_token={csrf}"),
            csrf,
        }
    }

    pub async fn page(&self, path: &str, b: Option<&Browser>) -> Answer {
        let mut r = Request::builder().method(Method::GET).uri(path);
        if let Some(b) = b {
            r = r.header("cookie", &b.cookie);
        }
        self.request(r.body(Body::empty()).unwrap()).await
    }

    /// Posts a form (urlencoded) with the browser's cookies.
    pub async fn form(&self, path: &str, b: Option<&Browser>, fields: &[(&str, &str)]) -> Answer {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut r = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(b) = b {
            r = r.header("cookie", &b.cookie);
        }
        self.request(r.body(Body::from(body)).unwrap()).await
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn html(a: &Answer) -> String {
    a.body.as_str().unwrap_or_default().to_owned()
}

/// Post forms on a page other than the account menu's logout.
fn write_forms(page: &str) -> usize {
    page.matches("method=\"post\"").count() - page.matches("action=\"/logout\"").count()
}

/// An app with a member, an item and a task (id 1) in server `G`.
async fn seeded() -> (TestApp, u64) {
    let app = TestApp::new();
    app.fund(G, 42, 1500);
    let tok = app.login("admin").await;
    let item = app
        .create_item(
            &tok,
            G.0,
            serde_json::json!({"name": "Sword", "price": 100, "stock": 5}),
        )
        .await;
    let t = app
        .post(
            &format!("/api/{}/tasks", G.0),
            &tok,
            serde_json::json!({"name": "Write docs", "reward": 50}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
    (app, item)
}

/// Every dashboard page.
fn pages(item: u64) -> Vec<String> {
    let g = G.0;
    let mut v: Vec<String> = [
        "/",
        "/notifications",
        "/system",
        "/logs",
        "/backups",
        "/settings",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for p in [
        "users",
        "users/42",
        "shop",
        &format!("shop/{item}"),
        "tasks",
        "tasks/1",
        "transactions",
        "transactions/validate",
        "announcements",
        "embeds",
        "config",
        "commands",
        "sync",
        "audit",
        "command-log",
    ] {
        v.push(format!("/servers/{g}/{p}"));
    }
    v
}

/// Pages with nothing to change (reports and logs of what happened).
fn read_only_page(p: &str) -> bool {
    ["/", "/notifications", "/system"].contains(&p)
        || p.ends_with("/validate")
        || p.ends_with("/audit")
        || p.ends_with("/command-log")
        || p.ends_with("/sync")
}

#[tokio::test]
async fn every_page_renders_for_an_admin_with_its_forms_and_for_a_viewer_without() {
    let (app, item) = seeded().await;
    let admin = app.browser("admin").await;
    let viewer = app.browser("viewer").await;
    for path in pages(item) {
        let a = app.page(&path, Some(&admin)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        let page = html(&a);
        assert!(page.contains("<nav"), "{path}");
        assert!(page.contains("/static/app.css"), "{path}");
        // Every form carries the session's CSRF token.
        assert_eq!(
            page.matches("method=\"post\"").count(),
            page.matches(&format!("name=\"csrf\" value=\"{}\"", admin.csrf))
                .count(),
            "{path}: a post form without the CSRF token"
        );
        let v = app.page(&path, Some(&viewer)).await;
        assert_eq!(v.status, StatusCode::OK, "{path}");
        let vp = html(&v);
        assert_eq!(write_forms(&vp), 0, "{path}: a viewer sees a write form");
        assert!(vp.contains("Read-only"), "{path}");
    }
    // The admin sees write forms where there are actions.
    for path in pages(item).into_iter().filter(|p| !read_only_page(p)) {
        let page = html(&app.page(&path, Some(&admin)).await);
        assert!(write_forms(&page) > 0, "{path}");
    }
}

#[tokio::test]
async fn a_logged_out_visitor_is_sent_to_the_login_form_and_back() {
    let (app, item) = seeded().await;
    for path in pages(item) {
        let a = app.page(&path, None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{path}");
        let to = a.headers["location"].to_str().unwrap();
        assert!(to.starts_with("/login?next=/"), "{path}: {to}");
    }
    let a = app.page("/login?next=/servers/111/shop", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(html(&a).contains("value=\"/servers/111/shop\""));
    let a = app
        .form(
            "/login",
            None,
            &[
                ("username", "admin"),
                ("password", PW),
                ("next", "/servers/111/shop"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.headers["location"], "/servers/111/shop");
    // Only local paths are followed.
    let a = app
        .form(
            "/login",
            None,
            &[
                ("username", "admin"),
                ("password", PW),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(a.headers["location"], "/");
}

#[tokio::test]
async fn a_wrong_password_is_shown_next_to_the_password_field() {
    let app = TestApp::new();
    let a = app
        .form(
            "/login",
            None,
            &[("username", "admin"), ("password", "nope nope")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let page = html(&a);
    assert!(page.contains("id=\"f-password-error\""), "{page}");
    assert!(page.contains("Wrong username or password."));
    assert!(page.contains("value=\"admin\""), "the username is kept");
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = TestApp::new();
    let b = app.browser("admin").await;
    let a = app.form("/logout", Some(&b), &[("csrf", &b.csrf)]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(a.cookies().iter().any(|c| c.starts_with("access_token=;")));
    let a = app.page("/", Some(&b)).await;
    assert_eq!(
        a.status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
}

#[tokio::test]
async fn the_balance_form_changes_the_balance_through_the_ledger() {
    let (app, _) = seeded().await;
    let b = app.browser("admin").await;
    let path = format!("/servers/{}/users/42/balance", G.0);
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("mode", "add"),
                ("amount", "2,500"),
                ("reason", "prize"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let tok = app.login("admin").await;
    let u = app.get(&format!("/api/{}/users/42", G.0), &tok).await;
    assert_eq!(u.body["account"]["balance"], 4000);
    assert_eq!(
        u.body["recent_transactions"][0]["description"],
        "Added by an admin: prize"
    );
    let page = html(&app.page(&format!("/servers/{}/users", G.0), Some(&b)).await);
    assert!(
        page.contains("4,000"),
        "the list shows the new balance in the currency"
    );
    // Removing more than the member holds: the reason sits next to the amount.
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("mode", "remove"),
                ("amount", "99999"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(&a);
    assert!(page.contains("id=\"f-amount-error\""), "{page}");
    assert!(page.contains("value=\"99999\""), "what was typed is kept");
}

#[tokio::test]
async fn the_shop_form_puts_each_error_next_to_its_field_and_creates_when_valid() {
    let (app, _) = seeded().await;
    let b = app.browser("admin").await;
    let path = format!("/servers/{}/shop", G.0);
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("name", ""),
                ("price", "lots"),
                ("stock", ""),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(&a);
    assert!(page.contains("id=\"f-name-error\""), "{page}");
    assert!(page.contains("`lots` is not a whole number."), "{page}");
    // A refusal from the service lands on the field it names.
    let a = app
        .form(
            &path,
            Some(&b),
            &[("csrf", &b.csrf), ("name", "Shield"), ("price", "-5")],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&a).contains("id=\"f-price-error\""), "{}", html(&a));
    let a = app
        .form(
            &path,
            Some(&b),
            &[
                ("csrf", &b.csrf),
                ("name", "Shield"),
                ("price", "250"),
                ("stock", "3"),
                ("visible", "on"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let page = html(&app.page(&path, Some(&b)).await);
    assert!(page.contains("Shield"));
    assert!(page.contains("250"));
}

#[tokio::test]
async fn a_form_without_the_csrf_token_or_from_a_viewer_changes_nothing() {
    let (app, item) = seeded().await;
    let admin = app.browser("admin").await;
    let viewer = app.browser("viewer").await;
    let path = format!("/servers/{}/shop/{item}/delete", G.0);
    for (b, csrf, want) in [
        (&admin, "", StatusCode::FORBIDDEN),
        (&admin, "0123abcd", StatusCode::FORBIDDEN),
        (&viewer, viewer.csrf.as_str(), StatusCode::FORBIDDEN),
    ] {
        let a = app
            .form(&path, Some(b), &[("csrf", csrf), ("confirm", "yes")])
            .await;
        assert_eq!(a.status, want);
        assert!(
            html(&a).contains("<p class=\"error\""),
            "an error page, not JSON"
        );
    }
    let tok = app.login("admin").await;
    assert_eq!(
        app.get(&format!("/api/{}/shop/{item}", G.0), &tok)
            .await
            .status,
        StatusCode::OK
    );
    // Without the confirmation step nothing is deleted either; with it, the item goes.
    let a = app
        .form(&path, Some(&admin), &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/{}/shop/{item}", G.0), &tok)
            .await
            .status,
        StatusCode::OK
    );
    let a = app
        .form(
            &path,
            Some(&admin),
            &[("csrf", &admin.csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&format!("/api/{}/shop/{item}", G.0), &tok)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_static_assets_are_served_and_the_pages_run_no_inline_script() {
    let (app, _) = seeded().await;
    let b = app.browser("admin").await;
    for (file, mime) in [("app.css", "text/css"), ("app.js", "text/javascript")] {
        let a = app.page(&format!("/static/{file}"), None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with(mime));
    }
    let page = html(&app.page(&format!("/servers/{}/users", G.0), Some(&b)).await);
    assert!(page.contains("<script src=\"/static/app.js"));
    assert!(
        !page.contains("<script>"),
        "the CSP allows no inline script"
    );
    assert!(
        page.contains("<time datetime=\""),
        "times go out as UTC <time> elements"
    );
    assert!(
        page.contains("data-live=\""),
        "live regions are marked for the script"
    );
}

#[tokio::test]
async fn a_login_form_posted_from_another_site_is_refused() {
    let app = TestApp::new();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("username=admin&password={}", enc(PW))))
        .unwrap();
    let a = app.request(req).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.cookies().is_empty(), "no session was started");
}

/// The script subscribes to the kinds a page's live regions name: each must be a real event
/// kind, or `/api/stream` refuses the whole subscription.
#[tokio::test]
async fn every_live_region_names_real_event_kinds() {
    let (app, item) = seeded().await;
    let admin = app.browser("admin").await;
    let mut seen = 0;
    for path in pages(item) {
        let page = html(&app.page(&path, Some(&admin)).await);
        for chunk in page.split("data-live=\"").skip(1) {
            let kinds = &chunk[..chunk.find('"').unwrap_or(0)];
            for k in kinds.split(',') {
                let parsed: Result<crate::events::EventKind, _> =
                    serde_json::from_value(serde_json::Value::String(k.into()));
                assert!(parsed.is_ok(), "{path}: `{k}` is not an event kind");
                seen += 1;
            }
        }
    }
    assert!(seen > 20, "live regions on the pages: {seen}");
}

/// Forms carry a one-time key: a double-clicked or re-sent form changes the balance once.
#[tokio::test]
async fn a_form_sent_twice_applies_once() {
    let (app, _) = seeded().await;
    let b = app.browser("admin").await;
    let page = html(
        &app.page(&format!("/servers/{}/users/42", G.0), Some(&b))
            .await,
    );
    let at = page.find("name=\"idem\" value=\"").expect("the form's key") + 19;
    let idem = &page[at..at + 64];
    let path = format!("/servers/{}/users/42/balance", G.0);
    let fields = [
        ("csrf", b.csrf.as_str()),
        ("idem", idem),
        ("mode", "add"),
        ("amount", "500"),
        ("reason", "bonus"),
    ];
    for _ in 0..2 {
        let a = app.form(&path, Some(&b), &fields).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    }
    let tok = app.login("admin").await;
    let u = app.get(&format!("/api/{}/users/42", G.0), &tok).await;
    assert_eq!(u.body["account"]["balance"], 2000, "1,500 + 500 once");
    // Each rendering of a form has a key of its own.
    let again = html(
        &app.page(&format!("/servers/{}/users/42", G.0), Some(&b))
            .await,
    );
    assert!(!again.contains(idem));
}
