//! Coffer's own Discord REST calls (start-up checks, command registration, interaction replies)
//! with one retry policy: 429 waits `retry_after` (a `global` limit pauses every call but the
//! interaction endpoints, which Discord exempts), 5xx and network errors back off briefly, and
//! every call first waits for room in its rate-limit bucket (`ratelimit`). Interaction callbacks
//! are never retried past Discord's 3 s deadline. Serenity's own rate limiter is off when a base
//! URL is set because it ignores the proxy; this layer is what keeps Coffer polite then.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::ratelimit::{Buckets, Route};
use crate::domain::ids::deserialize_u64_or_string;

/// The real Discord; `Config.discord.api_base` replaces it (a proxy, or the fake in tests).
pub const DISCORD_BASE: &str = "https://discord.com";
const API: &str = "/api/v10";
/// Attempts per call, counting the first.
const MAX_ATTEMPTS: u32 = 5;
/// A 429 asking for a longer wait than this fails the call instead of stalling it.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// How long Discord waits for the first answer to an interaction, from when it was sent.
pub const CALLBACK_DEADLINE: Duration = Duration::from_secs(3);
/// A callback attempt must start this much before the deadline to arrive in time.
const CALLBACK_MARGIN: Duration = Duration::from_millis(250);
/// Discord's "Interaction has already been acknowledged".
pub const ALREADY_ACKNOWLEDGED: i64 = 40060;

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("Discord answered {status} to {method} {path}: {message} (code {code})")]
    Status {
        status: u16,
        method: Method,
        path: String,
        code: i64,
        message: String,
    },
    #[error("Discord kept rate limiting {method} {path} (last retry_after {retry_after:?})")]
    RateLimited {
        method: Method,
        path: String,
        retry_after: Duration,
        /// Every call must pause, not just this route.
        global: bool,
    },
    #[error("could not reach Discord for {method} {path}: {source}")]
    Network {
        method: Method,
        path: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("unexpected response body from {path}: {detail}")]
    Decode { path: String, detail: String },
    #[error("the application id is not known yet")]
    NoApplicationId,
    #[error("the 3 s answer deadline of the interaction passed ({path})")]
    DeadlinePassed { path: String },
}

impl RestError {
    /// The HTTP status Discord answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            RestError::Status { status, .. } => Some(*status),
            RestError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

/// The part of a Discord error body we use.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
    retry_after: Option<f64>,
    #[serde(default)]
    global: bool,
}

/// `GET /users/@me`: the bot's own user.
#[derive(Debug, Clone, Deserialize)]
pub struct BotUser {
    #[serde(deserialize_with = "deserialize_u64_or_string")]
    pub id: u64,
    #[serde(default)]
    pub username: String,
}

/// `GET /oauth2/applications/@me`: the application the token belongs to.
#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    #[serde(deserialize_with = "deserialize_u64_or_string")]
    pub id: u64,
    #[serde(default)]
    pub name: String,
    /// Application flags; the `GATEWAY_GUILD_MEMBERS*` bits say whether the Server Members
    /// Intent is enabled in the Developer Portal.
    #[serde(default)]
    pub flags: u64,
}

/// GATEWAY_GUILD_MEMBERS (verified bots) and GATEWAY_GUILD_MEMBERS_LIMITED (under 100 servers).
const MEMBERS_INTENT_FLAGS: u64 = (1 << 14) | (1 << 15);

impl Application {
    /// Whether the Developer Portal has the Server Members Intent enabled.
    pub fn members_intent_enabled(&self) -> bool {
        self.flags & MEMBERS_INTENT_FLAGS != 0
    }
}

/// A REST client for the calls Coffer makes itself.
#[derive(Debug)]
pub struct Rest {
    client: reqwest::Client,
    /// `Bot <token>`.
    auth: String,
    base: String,
    application_id: AtomicU64,
    /// While set, every call waits until then (a global 429), except interaction endpoints.
    global_until: Mutex<Option<Instant>>,
    buckets: Buckets,
}

impl Rest {
    pub fn new(token: &str, base: Option<&str>) -> Result<Rest, reqwest::Error> {
        let token = token.trim();
        let auth = if token.starts_with("Bot ") {
            token.to_owned()
        } else {
            format!("Bot {token}")
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!(
                "DiscordBot (https://github.com/coffer, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .build()?;
        Ok(Rest {
            client,
            auth,
            base: base
                .unwrap_or(DISCORD_BASE)
                .trim_end_matches('/')
                .to_owned(),
            application_id: AtomicU64::new(0),
            global_until: Mutex::new(None),
            buckets: Buckets::default(),
        })
    }

    pub fn set_application_id(&self, id: u64) {
        self.application_id.store(id, Ordering::Release);
    }

    pub fn application_id(&self) -> Result<u64, RestError> {
        match self.application_id.load(Ordering::Acquire) {
            0 => Err(RestError::NoApplicationId),
            id => Ok(id),
        }
    }

    pub async fn current_user(&self) -> Result<BotUser, RestError> {
        self.call(Method::GET, "/users/@me", None::<&()>).await
    }

    pub async fn current_application(&self) -> Result<Application, RestError> {
        self.call(Method::GET, "/oauth2/applications/@me", None::<&()>)
            .await
    }

    /// Replaces the application's global commands (`guild = None`) or one guild's.
    pub async fn put_commands<C: Serialize>(
        &self,
        guild: Option<u64>,
        commands: &C,
    ) -> Result<(), RestError> {
        let app = self.application_id()?;
        let path = match guild {
            Some(g) => format!("/applications/{app}/guilds/{g}/commands"),
            None => format!("/applications/{app}/commands"),
        };
        let _: serde_json::Value = self.call(Method::PUT, &path, Some(commands)).await?;
        Ok(())
    }

    /// The first answer to an interaction (`POST /interactions/{id}/{token}/callback`) that
    /// arrived at `arrived`. Retried (429, 5xx, network) only while the retry still reaches
    /// Discord before the 3 s deadline; a retry answered 40060 means an earlier attempt got
    /// through, so it is a success.
    pub async fn interaction_callback<B: Serialize>(
        &self,
        interaction_id: u64,
        token: &str,
        arrived: std::time::Instant,
        body: &B,
    ) -> Result<(), RestError> {
        let path = format!("/interactions/{interaction_id}/{token}/callback");
        let deadline = Instant::from_std(arrived) + CALLBACK_DEADLINE;
        let body = encode_body(&path, Some(body))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now = Instant::now();
            if now + CALLBACK_MARGIN >= deadline {
                return Err(RestError::DeadlinePassed { path });
            }
            // Long enough for a slow answer; a lost one is settled by the 40060 of a retry.
            let timeout = (deadline - now).max(Duration::from_secs(2));
            let err = match self
                .send_once(&Method::POST, &path, body.as_deref(), Some(timeout))
                .await
            {
                Ok(_) => return Ok(()),
                Err(RestError::Status { code, .. })
                    if code == ALREADY_ACKNOWLEDGED && attempt > 1 =>
                {
                    tracing::info!(
                        path,
                        "an earlier attempt of this callback got through (40060)"
                    );
                    return Ok(());
                }
                Err(e) => e,
            };
            let wait = match &err {
                RestError::RateLimited { retry_after, .. } => *retry_after,
                RestError::Status { status, .. } if *status >= 500 => backoff(attempt) / 2,
                RestError::Network { source, .. } if !source.is_builder() => backoff(attempt) / 2,
                _ => return Err(err),
            };
            if attempt >= MAX_ATTEMPTS || Instant::now() + wait + CALLBACK_MARGIN >= deadline {
                tracing::warn!(path, error = %err, "not retrying the interaction callback: Discord's 3 s deadline would pass");
                return Err(err);
            }
            tracing::warn!(path, error = %err, ?wait, "interaction callback failed; retrying within the deadline");
            tokio::time::sleep(wait).await;
        }
    }

    /// A follow-up message after the first answer.
    pub async fn followup<B: Serialize>(&self, token: &str, body: &B) -> Result<(), RestError> {
        let path = format!("/webhooks/{}/{token}", self.application_id()?);
        let _: serde_json::Value = self.call(Method::POST, &path, Some(body)).await?;
        Ok(())
    }

    /// Edits the original (possibly deferred) answer.
    pub async fn edit_original<B: Serialize>(
        &self,
        token: &str,
        body: &B,
    ) -> Result<(), RestError> {
        let path = format!(
            "/webhooks/{}/{token}/messages/@original",
            self.application_id()?
        );
        let _: serde_json::Value = self.call(Method::PATCH, &path, Some(body)).await?;
        Ok(())
    }

    pub async fn delete_original(&self, token: &str) -> Result<(), RestError> {
        let path = format!(
            "/webhooks/{}/{token}/messages/@original",
            self.application_id()?
        );
        let _: serde_json::Value = self.call(Method::DELETE, &path, None::<&()>).await?;
        Ok(())
    }

    /// One call with the retry policy. `path` is below `/api/v10`. An empty body decodes as
    /// JSON `null`.
    pub async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, RestError> {
        let body = encode_body(path, body)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.send_once(&method, path, body.as_deref(), None).await {
                Ok(bytes) => return decode_body(path, &bytes),
                Err(RestError::Network { source, .. })
                    if attempt < MAX_ATTEMPTS && !source.is_builder() =>
                {
                    let wait = backoff(attempt);
                    tracing::warn!(%method, path, error = %source, ?wait, "Discord unreachable; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(RestError::RateLimited {
                    retry_after,
                    global,
                    ..
                }) if attempt < MAX_ATTEMPTS && retry_after <= MAX_RETRY_AFTER => {
                    tracing::warn!(%method, path, wait = ?retry_after, global, "rate limited by Discord; retrying after retry_after");
                    // A global limit is already recorded; the next attempt waits for it.
                    if !global {
                        tokio::time::sleep(retry_after).await;
                    }
                }
                Err(RestError::Status { status, .. })
                    if status >= 500 && attempt < MAX_ATTEMPTS =>
                {
                    let wait = backoff(attempt);
                    tracing::warn!(%method, path, status, ?wait, "Discord server error; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One attempt, no retry (the caller's error policy decides): still waits out a global
    /// 429 first, and records one it receives. `timeout` bounds the whole request.
    pub async fn call_once<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<T, RestError> {
        let body = encode_body(path, body)?;
        let bytes = self
            .send_once(&method, path, body.as_deref(), Some(timeout))
            .await?;
        decode_body(path, &bytes)
    }

    /// Sends one request and classifies the answer: the body of a 2xx, or the error (a 429
    /// as `RateLimited`, after recording a global limit).
    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        body: Option<&[u8]>,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, RestError> {
        // Discord exempts interaction endpoints (callbacks, and follow-ups on the interaction
        // token) from the global limit: a channel post's global 429 must not hold an answer.
        if !is_interaction_endpoint(path) {
            self.wait_for_global_limit().await;
        }
        let route = Route::new(method, path);
        let permit = self.buckets.acquire(&route).await;
        let url = format!("{}{API}{path}", self.base);
        let mut req = self
            .client
            .request(method.clone(), &url)
            .header("Authorization", &self.auth);
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_vec());
        }
        let network = |source| RestError::Network {
            method: method.clone(),
            path: path.to_owned(),
            source,
        };
        let resp = req.send().await.map_err(|e| {
            crate::metrics::global().discord_response(0, 0);
            network(e)
        })?;
        self.buckets.update(&route, permit, resp.headers()).await;
        let status = resp.status().as_u16();
        let header_retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok());
        let bytes = resp.bytes().await.map_err(network)?;
        if (200..300).contains(&status) {
            crate::metrics::global().discord_response(status, 0);
            return Ok(bytes.to_vec());
        }
        let err: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
        crate::metrics::global().discord_response(status, err.code);
        if status == 429 {
            let secs = err.retry_after.or(header_retry).unwrap_or(1.0);
            let secs = if secs.is_finite() {
                secs.clamp(0.0, 3600.0)
            } else {
                1.0
            };
            let retry_after = Duration::from_secs_f64(secs);
            if err.global {
                *self.global_until.lock().await = Some(Instant::now() + retry_after);
            }
            return Err(RestError::RateLimited {
                method: method.clone(),
                path: path.to_owned(),
                retry_after,
                global: err.global,
            });
        }
        Err(RestError::Status {
            status,
            method: method.clone(),
            path: path.to_owned(),
            code: err.code,
            message: if err.message.is_empty() {
                String::from_utf8_lossy(&bytes).chars().take(200).collect()
            } else {
                err.message
            },
        })
    }

    async fn wait_for_global_limit(&self) {
        let until = *self.global_until.lock().await;
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }
}

/// Interaction callbacks and the webhook routes of interaction tokens (Coffer uses webhooks for
/// nothing else).
fn is_interaction_endpoint(path: &str) -> bool {
    path.starts_with("/interactions/") || path.starts_with("/webhooks/")
}

fn encode_body<B: Serialize + ?Sized>(
    path: &str,
    body: Option<&B>,
) -> Result<Option<Vec<u8>>, RestError> {
    body.map(serde_json::to_vec)
        .transpose()
        .map_err(|e| RestError::Decode {
            path: path.to_owned(),
            detail: e.to_string(),
        })
}

/// An empty body decodes as JSON `null`.
fn decode_body<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, RestError> {
    let slice: &[u8] = if bytes.is_empty() { b"null" } else { bytes };
    serde_json::from_slice(slice).map_err(|e| RestError::Decode {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// 0.5 s, 1 s, 2 s, 4 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.saturating_sub(1).min(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_millis(1000));
        assert_eq!(backoff(9), Duration::from_millis(8000));
    }

    #[test]
    fn token_gets_the_bot_prefix_once_and_base_loses_its_slash() {
        let r = Rest::new(" abc ", Some("http://127.0.0.1:9/")).unwrap();
        assert_eq!(r.auth, "Bot abc");
        assert_eq!(r.base, "http://127.0.0.1:9");
        let r = Rest::new("Bot abc", None).unwrap();
        assert_eq!(r.auth, "Bot abc");
        assert_eq!(r.base, DISCORD_BASE);
        assert!(matches!(
            r.application_id(),
            Err(RestError::NoApplicationId)
        ));
    }

    #[test]
    fn the_members_intent_is_read_from_the_application_flags() {
        let app = |flags: u64| Application {
            id: 1,
            name: String::new(),
            flags,
        };
        assert!(app(1 << 14).members_intent_enabled());
        assert!(app(1 << 15).members_intent_enabled());
        assert!(
            !app(1 << 19).members_intent_enabled(),
            "message content only"
        );
        assert!(!app(0).members_intent_enabled());
    }

    #[test]
    fn rate_limit_body_is_read_without_a_code() {
        let b: ErrorBody = serde_json::from_str(
            r#"{"message":"You are being rate limited.","retry_after":0.25,"global":true}"#,
        )
        .unwrap();
        assert_eq!(b.retry_after, Some(0.25));
        assert!(b.global);
        assert_eq!(b.code, 0);
    }
}
