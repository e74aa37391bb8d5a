//! Live updates over Server-Sent Events from the event bus (`services.bus`): `id:` is the event
//! seq, so a reconnect with `Last-Event-ID` replays exactly what was missed (or gets a `resync`
//! event when the replay buffer no longer holds it, or after lagging). Bursts are batched into
//! one write; a comment line keeps idle connections alive.

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

/// Feeds one client until it disconnects or the bus closes.
async fn pump(bus: EventBus, replay: Option<Replay>, mut sub: Subscription, tx: Tx) {
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
            r = tokio::time::timeout(KEEP_ALIVE, sub.recv()) => r,
        };
        match next {
            Err(_idle) => buf.push_str(": keep-alive\n\n"),
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
    _auth: Auth,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Response> {
    let filter = parse_filter(&q)?;
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
    tokio::spawn(pump(bus, replay, sub, tx));
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
    Json(req): Json<TestEventRequest>,
) -> ApiResult<Json<TestEventResponse>> {
    let guild = req
        .server_id
        .trim()
        .parse::<u64>()
        .map_err(|_| ApiError::invalid_param("server_id", "server_id must be a server id"))?;
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
