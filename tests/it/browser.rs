//! The dashboard in a real browser: headless Chromium driven over WebDriver (chromedriver +
//! fantoccini) against the real `coffer` binary. Runs only with `COFFER_BROWSER_TESTS=1`
//! (`.ci/run` sets it and installs Chromium); otherwise it says so and passes.
//! Screenshots go to `target/screenshots/`, and the overview and users page also to
//! `web/screenshots/` for the README.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

const BIN: &str = env!("CARGO_BIN_EXE_coffer");
const USER: &str = "root";
const PASSWORD: &str = "correct horse battery";
const GUILD: u64 = 111;

/// A child process killed when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two free ports (both held while the second is found, so they differ).
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let b = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = |l: &std::net::TcpListener| l.local_addr().expect("addr").port();
    (port(&a), port(&b))
}

fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The real binary on `port`, with an admin account, a temp data dir and `env` on top.
fn start_coffer(dir: &Path, port: u16, env: &[(&str, &str)]) -> Killed {
    let config = dir.join("config.toml");
    std::fs::write(&config, "").expect("config file");
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("COFFER_") || k.starts_with("DISCORD_") || k == "PORT" || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("run")
        .env("COFFER_WEB__BIND", format!("127.0.0.1:{port}"))
        .env("ADMIN_USERNAME", USER)
        .env("ADMIN_PASSWORD", PASSWORD)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = Killed(cmd.spawn().expect("start coffer"));
    wait_listening(port, "coffer");
    child
}

fn start_chromedriver(port: u16) -> Killed {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin} (apt-get install chromium-driver): {e}"));
    let child = Killed(child);
    wait_listening(port, "chromedriver");
    child
}

/// A headless Chromium session; `dark` makes the system prefer a dark colour scheme.
async fn browser(driver_port: u16, dark: bool) -> Client {
    let mut args = vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--force-prefers-reduced-motion",
    ];
    if dark {
        args.push("--blink-settings=preferredColorScheme=0");
    }
    let mut opts = serde_json::json!({ "args": args });
    for bin in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(bin).exists() {
            opts["binary"] = bin.into();
            break;
        }
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), opts);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session")
}

struct Api {
    base: String,
    token: String,
}

impl Api {
    async fn login(base: &str) -> Api {
        let res = reqwest::Client::new()
            .post(format!("{base}/api/auth/login"))
            .header("content-type", "application/json")
            .body(serde_json::json!({"username": USER, "password": PASSWORD}).to_string())
            .send()
            .await
            .expect("login");
        let v: serde_json::Value =
            serde_json::from_str(&res.text().await.expect("body")).expect("json");
        Api {
            base: base.to_owned(),
            token: v["access_token"].as_str().expect("token").to_owned(),
        }
    }

    async fn post(&self, path: &str, body: serde_json::Value) {
        let res = reqwest::Client::new()
            .post(format!("{}/api/{GUILD}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("API call");
        assert_eq!(
            res.status().as_u16(),
            201,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}/api/{GUILD}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let res = req.send().await.expect("API call");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        assert!(status < 300, "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_default()
    }

    async fn add(&self, user: u64, amount: i64) {
        let res = reqwest::Client::new()
            .put(format!("{}/api/{GUILD}/users/{user}/balance", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(serde_json::json!({"amount": amount, "reason": "browser test"}).to_string())
            .send()
            .await
            .expect("balance change");
        assert_eq!(
            res.status().as_u16(),
            200,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
}

/// Logged out, the users page sends the browser to the login form, and back after it; returns
/// once the page's live stream is open.
async fn users_page_after_login(c: &Client, base: &str) {
    c.goto(&format!("{base}/servers/{GUILD}/users"))
        .await
        .expect("open");
    let form = c
        .form(Locator::Css("form[action='/login']"))
        .await
        .expect("login form");
    form.set_by_name("username", USER).await.expect("username");
    form.set_by_name("password", PASSWORD)
        .await
        .expect("password");
    form.submit().await.expect("log in");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("td[data-balance-user='42']"))
        .await
        .expect("the users page after login");
    assert!(c
        .current_url()
        .await
        .expect("url")
        .path()
        .ends_with("/users"));
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("body[data-live='on']"))
        .await
        .expect("the live stream connects");
}

/// Marks the page, so a reload (which forgets the mark) can be told from a live update.
async fn mark_page(c: &Client) {
    c.execute("window.__noReload = 'still here'; return true;", vec![])
        .await
        .expect("mark the page");
}

async fn assert_not_reloaded(c: &Client) {
    let marker = c
        .execute("return window.__noReload || null;", vec![])
        .await
        .expect("marker");
    assert_eq!(
        marker,
        serde_json::json!("still here"),
        "the page was reloaded"
    );
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shoot(c: &Client, name: &str, for_readme: bool) {
    // A loaded machine (the other integration tests run beside this one) can make one capture
    // time out: try again before failing.
    let mut png = c.screenshot().await;
    for _ in 0..3 {
        if png.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        png = c.screenshot().await;
    }
    let png = png.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    std::fs::write(screenshots().join(name), &png).expect("write screenshot");
    if for_readme {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/screenshots");
        std::fs::create_dir_all(&dir).expect("web/screenshots");
        std::fs::write(dir.join(name), &png).expect("write README screenshot");
    }
}

/// Polls `css`'s text until `want` holds (live updates arrive within a second or two).
async fn wait_text(c: &Client, css: &str, want: impl Fn(&str) -> bool, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            last = el.text().await.unwrap_or_default();
            if want(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: `{css}` still reads `{last}`");
}

/// Every dashboard page of the seeded instance (task 1 exists).
fn every_page() -> Vec<String> {
    let mut v: Vec<String> = [
        "/",
        "/notifications",
        "/system",
        "/logs",
        "/backups",
        "/settings",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    for p in [
        "users",
        "users/42",
        "shop",
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
        v.push(format!("/servers/{GUILD}/{p}"));
    }
    v
}

#[tokio::test]
async fn the_dashboard_updates_live_and_creates_shop_items_in_a_real_browser() {
    if std::env::var("COFFER_BROWSER_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: the browser test runs with COFFER_BROWSER_TESTS=1 (needs chromium and chromium-driver)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (web_port, driver_port) = free_ports();
    let _coffer = start_coffer(dir.path(), web_port, &[]);
    let _driver = start_chromedriver(driver_port);
    let base = format!("http://127.0.0.1:{web_port}");
    let api = Api::login(&base).await;
    api.add(42, 1000).await;
    api.add(43, 250).await;
    api.post(
        "/tasks",
        serde_json::json!({"name": "Welcome a newcomer", "reward": 150}),
    )
    .await;

    let c = browser(driver_port, false).await;
    users_page_after_login(&c, &base).await;
    shoot(&c, "users.png", true).await;

    // A balance changes in the background; the page shows it without a reload.
    mark_page(&c).await;
    api.add(42, 4321).await;
    let shown = wait_text(
        &c,
        "td[data-balance-user='42']",
        |t| t.contains("5,321"),
        "live balance",
    )
    .await;
    assert!(shown.contains("5,321"), "{shown}");
    assert_not_reloaded(&c).await;

    // A shop item created through the form is in the list.
    c.goto(&format!("{base}/servers/{GUILD}/shop"))
        .await
        .expect("shop");
    let form = c
        .form(Locator::Css("form#create-item"))
        .await
        .expect("create form");
    form.set_by_name("name", "Browser Badge")
        .await
        .expect("name");
    form.set_by_name("price", "1,250").await.expect("price");
    form.set_by_name("stock", "7").await.expect("stock");
    form.submit().await.expect("create");
    let table = wait_text(
        &c,
        "#shop-items",
        |t| t.contains("Browser Badge"),
        "new item",
    )
    .await;
    assert!(table.contains("1,250"), "{table}");
    let note = c
        .find(Locator::Css("p.note"))
        .await
        .expect("note")
        .text()
        .await
        .expect("text");
    assert!(note.contains("Created Browser Badge"), "{note}");

    // Stock sold or restocked elsewhere shows up without a reload too.
    let items = api.call(reqwest::Method::GET, "/shop", None).await;
    let id = items
        .as_array()
        .and_then(|a| a.iter().find(|i| i["name"] == "Browser Badge"))
        .and_then(|i| i["id"].as_u64())
        .expect("the new item");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("body[data-live='on']"))
        .await
        .expect("the live stream connects");
    api.call(
        reqwest::Method::PUT,
        &format!("/shop/{id}/stock"),
        Some(serde_json::json!({"quantity": 3, "operation": "add"})),
    )
    .await;
    let css = format!("td[data-stock-item='{id}']");
    wait_text(&c, &css, |t| t.trim() == "10", "live stock").await;

    // The embed builder's preview follows the form while typing.
    c.goto(&format!("{base}/servers/{GUILD}/embeds"))
        .await
        .expect("embeds");
    let title = c.find(Locator::Css("#f-title")).await.expect("title field");
    title.send_keys("Weekly raffle").await.expect("type");
    wait_text(
        &c,
        "#embed-preview .title",
        |t| t == "Weekly raffle",
        "embed preview",
    )
    .await;

    // The overview, and no sideways scrolling on a 390 px phone.
    c.goto(&format!("{base}/")).await.expect("overview");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("#servers"))
        .await
        .expect("the server list");
    shoot(&c, "overview.png", true).await;
    // Every page, on a desktop and on a 390 px phone: rendered, and never scrolling sideways.
    let pages = every_page();
    for path in &pages {
        let t = Instant::now();
        c.goto(&format!("{base}{path}")).await.expect("open");
        // Pages left with their live stream open used to keep it (back/forward cache) and
        // stall the next page's load for a minute.
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{path} took {:?} to load",
            t.elapsed()
        );
        let name = format!("page{}.png", path.replace('/', "-"));
        shoot(&c, &name, false).await;
    }
    c.set_window_size(390, 844).await.expect("phone size");
    for path in &pages {
        c.goto(&format!("{base}{path}")).await.expect("open");
        let fits = c
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                vec![],
            )
            .await
            .expect("measure");
        assert_eq!(
            fits,
            serde_json::json!(true),
            "{path} scrolls sideways at 390 px"
        );
    }
    c.goto(&format!("{base}/servers/{GUILD}/users"))
        .await
        .expect("open");
    shoot(&c, "users-phone.png", false).await;
    c.close().await.expect("close the browser");

    // A system that prefers dark gets the dark theme (no switch, no script).
    let dark = browser(driver_port, true).await;
    dark.goto(&format!("{base}/login"))
        .await
        .expect("login page");
    let background = dark
        .execute(
            "return getComputedStyle(document.body).backgroundColor;",
            vec![],
        )
        .await
        .expect("style");
    assert_eq!(
        background,
        serde_json::json!("rgb(21, 23, 28)"),
        "the dark theme"
    );
    shoot(&dark, "login-dark.png", false).await;
    dark.close().await.expect("close the browser");
}

/// A page left open outlives its access token (1 minute here): the stream ends with
/// `token_expired`, the script renews the session with the refresh cookie and listens again,
/// so a later change still shows without a reload, and the next page opens without a login.
#[tokio::test]
async fn an_open_page_renews_its_session_and_stays_live_past_the_token_expiry() {
    if std::env::var("COFFER_BROWSER_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: the browser test runs with COFFER_BROWSER_TESTS=1 (needs chromium and chromium-driver)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (web_port, driver_port) = free_ports();
    let _coffer = start_coffer(
        dir.path(),
        web_port,
        &[("COFFER_AUTH__ACCESS_TOKEN_MINUTES", "1")],
    );
    let _driver = start_chromedriver(driver_port);
    let base = format!("http://127.0.0.1:{web_port}");
    Api::login(&base).await.add(42, 100).await;
    let c = browser(driver_port, false).await;
    users_page_after_login(&c, &base).await;
    mark_page(&c).await;
    let access = |c: &Client| {
        let c = c.clone();
        async move {
            c.get_all_cookies()
                .await
                .expect("cookies")
                .into_iter()
                .find(|k| k.name().ends_with("access_token"))
                .map(|k| k.value().to_owned())
        }
    };
    let before = access(&c).await.expect("an access cookie");
    // Past the token's minute: the stream has ended and been opened again with a new token.
    tokio::time::sleep(Duration::from_secs(62)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = access(&c).await;
        if now.as_deref().is_some_and(|v| v != before) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the access cookie was never renewed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("body[data-live='on']"))
        .await
        .expect("the live stream is open again");
    Api::login(&base).await.add(42, 4321).await;
    wait_text(
        &c,
        "td[data-balance-user='42']",
        |t| t.contains("4,421"),
        "live balance after the token expired",
    )
    .await;
    assert_not_reloaded(&c).await;
    // Still logged in: the next page opens without the login form.
    c.goto(&format!("{base}/servers/{GUILD}/shop"))
        .await
        .expect("shop");
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form#create-item"))
        .await
        .expect("the shop page, not the login form");
    c.close().await.expect("close the browser");
}
