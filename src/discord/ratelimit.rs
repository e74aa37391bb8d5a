//! Discord's per-route rate limits, learnt from the `X-RateLimit-*` headers (Bucket, Limit,
//! Remaining, Reset-After), so concurrent calls on one bucket wait for the window to reset
//! instead of collecting 429s. Owns no HTTP: `Rest` asks for a permit before each request and
//! reports the answer's headers after it. The global limit stays in `Rest`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::Method;
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

/// No window is waited for longer than this (Discord's windows are seconds long).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A request's route: `key` names it until Discord says which bucket it is in; `majors` are
/// the top-level ids (channel, guild, webhook and token) that split one bucket into several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    template: String,
    majors: String,
}

impl Route {
    /// `POST /channels/1/messages/2` -> template `POST /channels/{}/messages/{id}`, majors `1`.
    pub fn new(method: &Method, path: &str) -> Route {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut template = format!("{method} ");
        let mut majors = Vec::new();
        for (i, seg) in segments.iter().enumerate() {
            let prev = i.checked_sub(1).map(|p| segments[p]);
            let before = i.checked_sub(2).map(|p| segments[p]);
            let major = matches!(
                prev,
                Some("channels" | "guilds" | "webhooks" | "interactions")
            ) || matches!(before, Some("webhooks" | "interactions"));
            template.push('/');
            if major {
                majors.push(*seg);
                template.push_str("{}");
            } else if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                template.push_str("{id}");
            } else {
                template.push_str(seg);
            }
        }
        Route {
            template,
            majors: majors.join("/"),
        }
    }

    fn own_key(&self) -> String {
        format!("{} {}", self.template, self.majors)
    }
}

/// What one bucket allows now.
#[derive(Debug, Default)]
struct Window {
    /// `None` until an answer told the limit: then one call at a time.
    limit: Option<u32>,
    remaining: u32,
    reset_at: Option<Instant>,
}

/// Held while a call is in flight on a route whose limit is not known yet.
pub struct Permit {
    key: String,
    probe: Option<OwnedMutexGuard<Window>>,
}

/// The buckets of every route Coffer has called.
#[derive(Debug, Default)]
pub struct Buckets {
    /// Route template -> the bucket Discord named for it.
    named: Mutex<HashMap<String, String>>,
    /// Bucket (or route, while unnamed) plus majors -> its window.
    windows: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Window>>>>,
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, PartialEq)]
struct Headers {
    bucket: Option<String>,
    limit: u32,
    remaining: u32,
    reset_after: Duration,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn parse(h: &HeaderMap) -> Option<Headers> {
    let limit = header(h, "x-ratelimit-limit")?.parse().ok()?;
    let remaining = header(h, "x-ratelimit-remaining")?.parse().ok()?;
    let secs: f64 = header(h, "x-ratelimit-reset-after")?.parse().ok()?;
    let secs = if secs.is_finite() {
        secs.clamp(0.0, MAX_WAIT.as_secs_f64())
    } else {
        1.0
    };
    Some(Headers {
        bucket: header(h, "x-ratelimit-bucket").map(str::to_owned),
        limit,
        remaining,
        reset_after: Duration::from_secs_f64(secs),
    })
}

impl Buckets {
    fn key(&self, route: &Route) -> String {
        let named = self.named.lock().unwrap_or_else(|p| p.into_inner());
        match named.get(&route.template) {
            Some(bucket) => format!("{bucket} {}", route.majors),
            None => route.own_key(),
        }
    }

    fn window(&self, key: &str) -> Arc<tokio::sync::Mutex<Window>> {
        self.windows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    /// Waits until the route's bucket has room, and takes one call from it.
    pub async fn acquire(&self, route: &Route) -> Permit {
        loop {
            let key = self.key(route);
            let mut w = self.window(&key).lock_owned().await;
            if self.key(route) != key {
                // Discord named the bucket while we waited: count in that one.
                continue;
            }
            let Some(limit) = w.limit else {
                return Permit {
                    key,
                    probe: Some(w),
                };
            };
            let now = Instant::now();
            if w.reset_at.is_some_and(|r| now >= r) {
                w.remaining = limit;
                w.reset_at = None;
            }
            if w.remaining > 0 {
                w.remaining -= 1;
                return Permit { key, probe: None };
            }
            let until = w.reset_at.unwrap_or(now + Duration::from_secs(1));
            drop(w);
            tracing::debug!(route = %route.template, wait = ?until.saturating_duration_since(now), "rate-limit bucket empty; waiting");
            tokio::time::sleep_until(until.min(now + MAX_WAIT)).await;
        }
    }

    /// Learns from an answer's headers (none: the route is treated as unlimited).
    pub async fn update(&self, route: &Route, permit: Permit, headers: &HeaderMap) {
        let parsed = parse(headers);
        if let Some(bucket) = parsed.as_ref().and_then(|p| p.bucket.clone()) {
            self.named
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(route.template.clone(), bucket);
        }
        let key = self.key(route);
        let Permit {
            key: held_key,
            probe,
        } = permit;
        let mut w = match probe {
            Some(w) if held_key == key => w,
            probe => {
                if let Some(mut old) = probe {
                    // The route's own window is left for the bucket's: waiters re-resolve.
                    old.limit = Some(u32::MAX);
                    old.remaining = u32::MAX;
                }
                self.window(&key).lock_owned().await
            }
        };
        let Some(h) = parsed else {
            if w.limit.is_none() {
                w.limit = Some(u32::MAX);
                w.remaining = u32::MAX;
            }
            return;
        };
        w.remaining = match w.limit {
            Some(_) => w.remaining.min(h.remaining),
            None => h.remaining,
        };
        w.limit = Some(h.limit);
        let reset = Instant::now() + h.reset_after;
        w.reset_at = Some(match w.reset_at {
            Some(r) if r > reset => r,
            _ => reset,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_keep_top_level_ids_and_template_the_rest() {
        let r = Route::new(&Method::PATCH, "/channels/12/messages/34");
        assert_eq!(r.template, "PATCH /channels/{}/messages/{id}");
        assert_eq!(r.majors, "12");
        let w = Route::new(&Method::POST, "/webhooks/9/tok-1");
        assert_eq!(
            (w.template.as_str(), w.majors.as_str()),
            ("POST /webhooks/{}/{}", "9/tok-1")
        );
        assert_ne!(
            Route::new(&Method::POST, "/channels/1/messages"),
            Route::new(&Method::POST, "/channels/2/messages")
        );
        let role = Route::new(&Method::PUT, "/guilds/5/members/6/roles/7");
        assert_eq!(role.template, "PUT /guilds/{}/members/{id}/roles/{id}");
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn headers_are_read_and_bad_ones_ignored() {
        let h = headers(&[
            ("x-ratelimit-bucket", "abc"),
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-remaining", "4"),
            ("x-ratelimit-reset-after", "1.5"),
        ]);
        assert_eq!(
            parse(&h),
            Some(Headers {
                bucket: Some("abc".into()),
                limit: 5,
                remaining: 4,
                reset_after: Duration::from_millis(1500)
            })
        );
        assert_eq!(parse(&headers(&[("x-ratelimit-limit", "x")])), None);
        let huge = headers(&[
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "1e300"),
        ]);
        assert_eq!(parse(&huge).map(|h| h.reset_after), Some(MAX_WAIT));
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_bucket_waits_for_its_reset() {
        let b = Buckets::default();
        let route = Route::new(&Method::POST, "/channels/1/messages");
        let first = b.acquire(&route).await;
        let h = headers(&[
            ("x-ratelimit-bucket", "msg"),
            ("x-ratelimit-limit", "2"),
            ("x-ratelimit-remaining", "1"),
            ("x-ratelimit-reset-after", "2"),
        ]);
        b.update(&route, first, &h).await;
        let start = Instant::now();
        let second = b.acquire(&route).await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "one call left in the window"
        );
        drop(second);
        let _third = b.acquire(&route).await;
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        // Another channel is another bucket.
        let other = Route::new(&Method::POST, "/channels/2/messages");
        let t = Instant::now();
        let _p = b.acquire(&other).await;
        assert_eq!(t.elapsed(), Duration::ZERO);
    }
}
