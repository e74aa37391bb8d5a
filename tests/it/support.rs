//! Test helpers: `TestApp` runs the real `app::run_until` on a temp data dir with a settable
//! clock, pointed at a `FakeDiscord`; logs from every test go to one captured buffer so tests
//! can assert that serenity dropped no payload.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

use chrono::TimeZone;
use coffer::clock::ManualClock;
use coffer::config::Config;
use coffer::store::Store;
use tokio::sync::oneshot;

use crate::fake_discord::FakeDiscord;

/// The line serenity logs (at DEBUG) when a gateway payload does not deserialize.
pub const UNKNOWN_EVENT: &str = "An unknown event was received";

fn log_buffer() -> &'static Mutex<Vec<u8>> {
    static BUF: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUF.get_or_init(|| Mutex::new(Vec::new()))
}

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        log_buffer()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once for the whole binary.
pub fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::new(
            "info,coffer=debug,serenity::client::dispatch=debug,serenity=warn,poise=debug",
        );
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(|| LogWriter)
            .try_init();
    });
}

/// Everything logged so far by any test in this binary.
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// Fails if serenity dropped a payload as an unknown event.
pub fn assert_no_dropped_payloads() {
    let logs = logs();
    let dropped: Vec<&str> = logs.lines().filter(|l| l.contains(UNKNOWN_EVENT)).collect();
    assert!(
        dropped.is_empty(),
        "serenity dropped payloads:\n{}",
        dropped.join("\n")
    );
}

/// The dashboard account every `TestApp` has (set through `ADMIN_USERNAME`/`ADMIN_PASSWORD`).
pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "it-admin-password-1";

/// A running Coffer.
pub struct TestApp {
    pub config: Config,
    /// Where the web API listens (`http://{web}/api/...`).
    pub web: std::net::SocketAddr,
    pub clock: Arc<ManualClock>,
    pub dir: Arc<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn new_data_dir() -> Arc<tempfile::TempDir> {
    Arc::new(tempfile::tempdir().expect("tempdir"))
}

impl TestApp {
    /// Starts Coffer on a fresh data dir against `fake`.
    pub async fn spawn(fake: &FakeDiscord) -> TestApp {
        TestApp::spawn_in(fake, new_data_dir()).await
    }

    /// Starts Coffer on `dir` (reuse it to simulate a restart) against `fake`.
    pub async fn spawn_in(fake: &FakeDiscord, dir: Arc<tempfile::TempDir>) -> TestApp {
        TestApp::spawn_with(fake, dir, "").await
    }

    /// Starts Coffer with extra `config.toml` sections (e.g. `[discord]\ndev_guild = 1`).
    pub async fn spawn_with(
        fake: &FakeDiscord,
        dir: Arc<tempfile::TempDir>,
        extra_toml: &str,
    ) -> TestApp {
        init_logs();
        let text = format!(
            "[storage]\ndata_dir = {:?}\n{extra_toml}\n",
            dir.path().display().to_string()
        );
        let env: BTreeMap<String, String> = [
            ("DISCORD_TOKEN", "fake-token"),
            ("DISCORD_API_BASE", fake.base_url.as_str()),
            ("ADMIN_USERNAME", ADMIN),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let config = Config::parse("test.toml", &text, &env).expect("valid config");
        let clock = ManualClock::new(
            chrono::Utc
                .with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("time"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let web = listener.local_addr().expect("web addr");
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(coffer::app::run_until(
            config.clone(),
            clock.clone(),
            listener,
            async move {
                let _ = rx.await;
            },
        ));
        TestApp {
            config,
            web,
            clock,
            dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Calls the web API: `method path` with an optional Bearer token and JSON body; returns
    /// the status and the JSON answer (`Null` when empty).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = reqwest::Client::new().request(method, format!("http://{}{path}", self.web));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let res = req.send().await.expect("web API reachable");
        let status = res.status().as_u16();
        let text = res.text().await.expect("web API body");
        let json = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, json)
    }

    /// The value of one series of `GET /metrics` (0 when it is not there yet). The registry is
    /// shared by every app in this test binary, so compare values as "grew by at least".
    pub async fn metric(&self, series: &str) -> f64 {
        let text = reqwest::get(format!("http://{}/metrics", self.web))
            .await
            .expect("metrics reachable")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0.0, |v| v.parse().expect("a number"))
    }

    /// Waits (up to 5 s) until `series` is at least `at_least`; its last value.
    pub async fn wait_metric(&self, series: &str, at_least: f64) -> f64 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let v = self.metric(series).await;
            if v >= at_least || tokio::time::Instant::now() >= deadline {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Logs in as `ADMIN` and returns the access token (retrying while the app starts).
    pub async fn login(&self) -> String {
        let body = serde_json::json!({"username": ADMIN, "password": ADMIN_PASSWORD});
        for _ in 0..100 {
            let res = reqwest::Client::new()
                .post(format!("http://{}/api/auth/login", self.web))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            if let Ok(res) = res {
                let status = res.status().as_u16();
                let v: serde_json::Value =
                    serde_json::from_str(&res.text().await.unwrap_or_default()).unwrap_or_default();
                assert_eq!(status, 200, "login: {v}");
                return v["access_token"].as_str().expect("access token").to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the web API did not come up");
    }

    /// Waits for `run_until` to return on its own (a start-up failure).
    pub async fn exit(mut self) -> anyhow::Result<()> {
        let handle = self.handle.take().expect("running");
        tokio::time::timeout(Duration::from_secs(20), handle)
            .await
            .expect("Coffer did not exit within 20 s")
            .expect("run_until panicked")
    }

    /// Shuts Coffer down and waits for a clean stop.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let handle = self.handle.take().expect("running");
        tokio::time::timeout(Duration::from_secs(20), handle)
            .await
            .expect("Coffer did not stop within 20 s")
            .expect("run_until panicked")
    }

    /// Opens the store of a stopped app (redb allows one opener at a time). Keep a clone of
    /// `dir` alive: the data dir is deleted with the last one.
    pub fn open_store(config: &Config) -> Store {
        coffer::app::open_store(config, Arc::new(coffer::clock::SystemClock)).expect("open store")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs `f` on the services of the store in `dir` before (or between) app runs, to set up data
/// the scenario starts from. The app must not be running on `dir`.
pub fn seed(dir: &tempfile::TempDir, f: impl FnOnce(&coffer::services::Services)) {
    let text = format!(
        "[storage]\ndata_dir = {:?}\n",
        dir.path().display().to_string()
    );
    let config = Config::parse("seed.toml", &text, &BTreeMap::new()).expect("valid config");
    let store = TestApp::open_store(&config);
    f(&coffer::services::Services::new(store, false));
}

/// Waits until some captured log line satisfies `pred` (the app reports gateway events only in
/// its logs and its store, and the store is locked while it runs).
pub async fn wait_for_log(what: &str, pred: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if logs().lines().any(&pred) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for a log line: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
