//! Live updates over Server-Sent Events from the event bus (`services.bus`): `id:` is the event
//! seq, so a reconnect with `Last-Event-ID` replays exactly what was missed (or gets a `resync`
//! event when the replay buffer no longer holds it, or after lagging). Bursts are batched into
//! one write; a comment line keeps idle connections alive. A stream ends (with a
//! `session_ended` event) when its session ends or its access token expires, and a session
//! holds at most `MAX_STREAMS_PER_SESSION` streams.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};

use super::auth::Auth;
use super::error::{ApiError, ApiResult, ErrorBody, Json, Query};
use super::WebState;
use crate::domain::GuildId;
use crate::events::{
    Event, EventBus, EventFilter, EventKind, PendingEvent, RecvError, Replay, Subscription,
};

pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events ready within this window after the first go out in one write.
pub const BATCH_WINDOW: Duration = Duration::from_millis(50);
const MAX_BATCH_BYTES: usize = 64 * 1024;

/// Live streams one session may hold open at once (each holds a connection and a task).
pub const MAX_STREAMS_PER_SESSION: usize = 8;

/// Open streams per session.
pub type StreamCounts = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>;

/// One of a session's stream slots; given back when the stream ends.
struct StreamSlot {
    counts: StreamCounts,
    session: String,
}

impl StreamSlot {
    fn take(counts: &StreamCounts, session: &str) -> Option<StreamSlot> {
        let mut map = counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(session.to_owned()).or_insert(0);
        if *n >= MAX_STREAMS_PER_SESSION {
            return None;
        }
        *n += 1;
        crate::metrics::global().sse_client_opened();
        Some(StreamSlot {
            counts: counts.clone(),
            session: session.to_owned(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        crate::metrics::global().sse_client_closed();
        let mut map = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.session) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.session);
            }
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Server ids, comma separated (default: all).
    pub guilds: Option<String>,
    /// Event kinds, comma separated, e.g. `balance_changed,item_bought` (default: all).
    pub events: Option<String>,
    /// Resume after this seq (for clients that cannot send the `Last-Event-ID` header).
    pub last_event_id: Option<u64>,
}

fn parse_filter(q: &StreamQuery) -> ApiResult<EventFilter> {
    let mut guilds = HashSet::new();
    for g in q
        .guilds
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
    {
        let id = g.trim().parse::<u64>().map_err(|_| {
            ApiError::invalid_param(
                "guilds",
                format!("guilds: `{}` is not a server id", g.trim()),
            )
        })?;
        guilds.insert(GuildId(id));
    }
    let mut kinds = HashSet::new();
    for k in q
        .events
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
    {
        let kind: EventKind = serde_json::from_value(serde_json::Value::String(
            k.trim().to_owned(),
        ))
        .map_err(|_| {
            ApiError::invalid_param(
                "events",
                format!("events: `{}` is not an event kind", k.trim()),
            )
        })?;
        kinds.insert(kind);
    }
    Ok(EventFilter { guilds, kinds })
}

fn write_event(buf: &mut String, e: &Event) {
    let data = serde_json::to_string(e).unwrap_or_default();
    buf.push_str(&format!("id: {}\ndata: {data}\n\n", e.seq));
}

/// Tells the client to re-read everything; its `id` makes a later reconnect resume from now.
fn write_resync(buf: &mut String, reason: &str, bus: &EventBus) {
    let last = bus.next_seq().saturating_sub(1);
    buf.push_str(&format!(
        "id: {last}\nevent: resync\ndata: {{\"reason\":\"{reason}\",\"seq\":{last}}}\n\n"
    ));
}

type Tx = mpsc::Sender<Result<Bytes, Infallible>>;

async fn flush(tx: &Tx, buf: &mut String) -> bool {
    if buf.is_empty() {
        return true;
    }
    tx.send(Ok(Bytes::from(std::mem::take(buf)))).await.is_ok()
}

/// What ends a stream besides the client and the bus: its session ending (logout, revocation,
/// a password reset) or its access token expiring.
struct Lifetime {
    services: crate::services::Services,
    session: String,
    username: String,
    ended: tokio::sync::broadcast::Receiver<crate::accounts::SessionEnded>,
    expires: tokio::time::Instant,
    _slot: StreamSlot,
}

impl Lifetime {
    /// Resolves with the reason once the stream must end.
    async fn over(&mut self) -> &'static str {
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(self.expires) => return "token_expired",
                n = self.ended.recv() => match n {
                    Ok(e) if e.ends(&self.session, &self.username) => return "session_ended",
                    Ok(_) => {}
                    // Missed notices: look at the store itself.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        if !self.still_live().await {
                            return "session_ended";
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        std::future::pending::<()>().await;
                    }
                },
            }
        }
    }

    /// Re-reads the session (it may have been ended by another process, e.g. the CLI).
    async fn still_live(&self) -> bool {
        let (svc, sid, user) = (
            self.services.clone(),
            self.session.clone(),
            self.username.clone(),
        );
        tokio::task::spawn_blocking(move || svc.accounts.live_session(&sid, &user))
            .await
            .ok()
            .and_then(Result::ok)
            .is_some_and(|a| a.is_some())
    }
}

fn write_end(buf: &mut String, reason: &str) {
    buf.push_str(&format!(
        "event: session_ended\ndata: {{\"reason\":\"{reason}\"}}\n\n"
    ));
}

/// Feeds one client until it disconnects, the bus closes, or its session ends.
async fn pump(
    bus: EventBus,
    replay: Option<Replay>,
    mut sub: Subscription,
    tx: Tx,
    mut life: Lifetime,
) {
    let mut buf = String::from("retry: 3000\n\n");
    match replay {
        Some(Replay::Events(events)) => events.iter().for_each(|e| write_event(&mut buf, e)),
        Some(Replay::TooOld) => write_resync(&mut buf, "too_old", &bus),
        None => {}
    }
    if !flush(&tx, &mut buf).await {
        return;
    }
    loop {
        let next = tokio::select! {
            _ = tx.closed() => return,
            reason = life.over() => {
                write_end(&mut buf, reason);
                flush(&tx, &mut buf).await;
                return;
            }
            r = tokio::time::timeout(KEEP_ALIVE, sub.recv()) => r,
        };
        match next {
            Err(_idle) => {
                if !life.still_live().await {
                    write_end(&mut buf, "session_ended");
                    flush(&tx, &mut buf).await;
                    return;
                }
                buf.push_str(": keep-alive\n\n")
            }
            Ok(Err(RecvError::Closed)) => return,
            Ok(Err(RecvError::Lagged(_))) => write_resync(&mut buf, "lagged", &bus),
            Ok(Ok(e)) => {
                write_event(&mut buf, &e);
                let deadline = tokio::time::Instant::now() + BATCH_WINDOW;
                while buf.len() < MAX_BATCH_BYTES {
                    match tokio::time::timeout_at(deadline, sub.recv()).await {
                        Ok(Ok(e)) => write_event(&mut buf, &e),
                        Ok(Err(RecvError::Lagged(_))) => {
                            write_resync(&mut buf, "lagged", &bus);
                            break;
                        }
                        Ok(Err(RecvError::Closed)) | Err(_) => break,
                    }
                }
            }
        }
        if !flush(&tx, &mut buf).await {
            return;
        }
    }
}

/// Live change events as `text/event-stream`. Each event is `id: <seq>` plus `data:` holding
/// `{seq, guild, kind, ids, at}`; a `resync` event means "re-read everything".
#[utoipa::path(get, path = "/api/stream", tag = "stream",
    params(StreamQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this event")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "An endless event stream", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn stream(
    State(s): State<WebState>,
    auth: Auth,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Response> {
    let filter = parse_filter(&q)?;
    let Some(slot) = StreamSlot::take(&s.streams, &auth.session) else {
        return Err(ApiError::too_many(
            format!(
                "This session already has {MAX_STREAMS_PER_SESSION} live streams open; close one first."
            ),
            5,
        ));
    };
    let left = auth.expires_at.saturating_sub(s.services.now().timestamp());
    let life = Lifetime {
        services: s.services.clone(),
        ended: s.services.accounts.watch_ended(),
        expires: tokio::time::Instant::now()
            + Duration::from_secs(u64::try_from(left).unwrap_or(0)),
        session: auth.session,
        username: auth.username,
        _slot: slot,
    };
    let last = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::invalid_param("Last-Event-ID", "Last-Event-ID must be an event seq")
                })?,
        ),
        None => q.last_event_id,
    };
    let bus = s.services.bus.clone();
    let (replay, sub) = match last {
        Some(seq) => {
            let (r, sub) = bus.resume(seq, filter);
            (Some(r), sub)
        }
        None => (None, bus.subscribe(filter)),
    };
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(pump(bus, replay, sub, tx, life));
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(ReceiverStream::new(rx)),
    )
        .into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TestEventRequest {
    /// The server the test event is for.
    pub server_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TestEventResponse {
    pub seq: u64,
}

/// Sends a `test` event to every stream watching the server (admin).
#[utoipa::path(post, path = "/api/stream/test", tag = "stream",
    request_body = TestEventRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, body = TestEventResponse), (status = 403, body = ErrorBody)))]
pub async fn send_test_event(
    State(s): State<WebState>,
    auth: Auth,
    crate::web::body::Body(req): crate::web::body::Body<TestEventRequest>,
) -> ApiResult<Json<TestEventResponse>> {
    let guild = req
        .server_id
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|g| *g != 0)
        .ok_or_else(|| ApiError::invalid_param("server_id", "server_id must be a server id"))?;
    let e = s.services.bus.publish(
        GuildId(guild),
        PendingEvent {
            kind: EventKind::Test,
            ids: vec![auth.actor().to_string()],
        },
        s.services.now(),
    );
    Ok(Json(TestEventResponse { seq: e.seq }))
}
