//! Discord's refusals the fake enforces, so a test fails where real Discord would: message and
//! embed sizes (400, 50035 Invalid Form Body), command sets (more than 100: 30032; a string
//! option's `max_length` outside 1..=6000: 50035), the interaction callback deadline (3 s, then
//! 10062 Unknown interaction), a second callback (40060), follow-ups on an interaction never
//! acknowledged (10015 Unknown Webhook), and rate-limit buckets (`X-RateLimit-*` headers, 429).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::State;

/// How long Discord waits for the first answer to an interaction.
pub const CALLBACK_DEADLINE: Duration = Duration::from_secs(3);
/// How long an interaction token takes follow-ups and edits.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

pub const INVALID_FORM_BODY: i64 = 50035;
pub const ALREADY_ACKNOWLEDGED: i64 = 40060;
pub const UNKNOWN_INTERACTION: i64 = 10062;
pub const UNKNOWN_WEBHOOK: i64 = 10015;
pub const TOO_MANY_COMMANDS: i64 = 30032;

/// An interaction the fake sent, as Discord tracks it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sent {
    pub at: Instant,
    pub acknowledged: bool,
}

/// A rate-limit bucket: calls matching `method` and `path_contains` share `limit` per `window`.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    pub method: String,
    pub path_contains: String,
    pub limit: u32,
    pub window: Duration,
    pub started: Option<Instant>,
    pub used: u32,
}

fn form_error(what: String) -> (u16, Value) {
    (
        400,
        json!({"message": "Invalid Form Body", "code": INVALID_FORM_BODY, "errors": what}),
    )
}

fn len(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// A message body (content, embeds) over Discord's limits.
pub(super) fn check_message(body: &Value) -> Option<(u16, Value)> {
    if len(&body["content"]) > 2000 {
        return Some(form_error(format!(
            "content: Must be 2000 or fewer in length (has {})",
            len(&body["content"])
        )));
    }
    let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
    if embeds.len() > 10 {
        return Some(form_error("embeds: Must be 10 or fewer in length".into()));
    }
    let mut total = 0;
    for e in &embeds {
        let fields = e["fields"].as_array().cloned().unwrap_or_default();
        let mut checks = vec![
            ("title", len(&e["title"]), 256),
            ("description", len(&e["description"]), 4096),
            ("footer.text", len(&e["footer"]["text"]), 2048),
            ("author.name", len(&e["author"]["name"]), 256),
            ("fields", fields.len(), 25),
        ];
        for f in &fields {
            checks.push(("fields.name", len(&f["name"]), 256));
            checks.push(("fields.value", len(&f["value"]), 1024));
        }
        for (what, n, max) in checks {
            if n > max {
                return Some(form_error(format!(
                    "embeds.{what}: Must be {max} or fewer in length (has {n})"
                )));
            }
            if what != "fields" {
                total += n;
            }
        }
    }
    (total > 6000).then(|| form_error(format!("embeds: total size {total} is over 6000")))
}

/// A bulk command PUT Discord refuses.
pub(super) fn check_commands(body: &Value) -> Option<(u16, Value)> {
    let cmds = body.as_array()?;
    if cmds.len() > 100 {
        return Some((
            400,
            json!({"message": "Maximum number of application commands reached (100)", "code": TOO_MANY_COMMANDS}),
        ));
    }
    fn walk(v: &Value) -> Option<String> {
        for o in v["options"].as_array().into_iter().flatten() {
            if o["type"] == 3 {
                if let Some(m) = o.get("max_length") {
                    if !m.as_u64().is_some_and(|m| (1..=6000).contains(&m)) {
                        return Some(format!("{}: max_length {m} is not in 1..=6000", o["name"]));
                    }
                }
            }
            if let Some(bad) = walk(o) {
                return Some(bad);
            }
        }
        None
    }
    cmds.iter().find_map(walk).map(form_error)
}

/// The string option values of an invocation longer than the registered command allows:
/// Discord's client refuses to send them, so a test must not inject them.
pub(super) fn too_long_options(registered: &Value, options: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    for o in options.as_array().into_iter().flatten() {
        let spec = registered["options"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == o["name"]);
        let Some(spec) = spec else { continue };
        if let Some(v) = o["value"].as_str() {
            let max = spec["max_length"].as_u64().unwrap_or(6000) as usize;
            if v.chars().count() > max {
                bad.push(format!("{} ({} > {max})", o["name"], v.chars().count()));
            }
        }
        bad.extend(too_long_options(spec, &o["options"]));
    }
    bad
}

/// The fake's answer to an interaction callback for `token`, or `None` to carry it out
/// (answered 204). Marks the interaction acknowledged when carried out.
pub(super) fn callback(state: &State, token: &str) -> Option<(u16, Value)> {
    let mut sent = state.interactions.lock().unwrap();
    let Some(i) = sent.get_mut(token) else {
        return Some((
            404,
            json!({"message": "Unknown interaction", "code": UNKNOWN_INTERACTION}),
        ));
    };
    if i.acknowledged {
        return Some((
            400,
            json!({"message": "Interaction has already been acknowledged.", "code": ALREADY_ACKNOWLEDGED}),
        ));
    }
    if i.at.elapsed() > CALLBACK_DEADLINE {
        return Some((
            404,
            json!({"message": "Unknown interaction", "code": UNKNOWN_INTERACTION}),
        ));
    }
    i.acknowledged = true;
    None
}

/// Follow-ups and edits need an acknowledged interaction whose token is still valid.
pub(super) fn webhook(state: &State, token: &str) -> Option<(u16, Value)> {
    let sent = state.interactions.lock().unwrap();
    let unknown = Some((
        404,
        json!({"message": "Unknown Webhook", "code": UNKNOWN_WEBHOOK}),
    ));
    match sent.get(token) {
        Some(i) if i.acknowledged && i.at.elapsed() <= TOKEN_LIFETIME => None,
        // A token the fake never issued (a hand-made test call): no rule to apply.
        None => None,
        Some(_) => unknown,
    }
}

/// Response headers to add: name and value.
pub(super) type Headers = Vec<(&'static str, String)>;

/// Counts the call against its bucket: the headers to send, and a 429 when the bucket is
/// empty.
pub(super) fn rate_limit(
    state: &State,
    method: &str,
    path: &str,
) -> (Headers, Option<(u16, Value)>) {
    let mut buckets = state.buckets.lock().unwrap();
    let Some((n, b)) = buckets
        .iter_mut()
        .enumerate()
        .find(|(_, b)| b.method == method && path.contains(&b.path_contains))
    else {
        return (Vec::new(), None);
    };
    let now = Instant::now();
    let started = match b.started {
        Some(s) if now.duration_since(s) < b.window => s,
        _ => {
            b.used = 0;
            b.started = Some(now);
            now
        }
    };
    let reset_after = b.window.saturating_sub(now.duration_since(started));
    let limited = b.used >= b.limit;
    if !limited {
        b.used += 1;
    }
    let headers = vec![
        ("x-ratelimit-bucket", format!("fakebucket{n}")),
        ("x-ratelimit-limit", b.limit.to_string()),
        ("x-ratelimit-remaining", (b.limit - b.used).to_string()),
        (
            "x-ratelimit-reset-after",
            format!("{:.3}", reset_after.as_secs_f64()),
        ),
    ];
    let answer = limited.then(|| {
        (
            429,
            json!({"message": "You are being rate limited.", "retry_after": reset_after.as_secs_f64(), "global": false}),
        )
    });
    (headers, answer)
}
