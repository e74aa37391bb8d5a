//! Gateway close codes serenity handles by reconnecting forever. 4011 (sharding required)
//! only makes serenity log "Shard has too many guilds." and IDENTIFY again, which Discord
//! answers with 4011 again: a loop that never connects. Serenity exposes no hook for close
//! codes, so this tracing layer watches for that log line and wakes `Bot::stopped`, which ends
//! the client with words that say what to do. `telemetry::init` installs the layer; without
//! it (in-process tests) nothing is watched and serenity's behaviour is unchanged.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Why Coffer stops after Discord closes a shard with 4011.
pub const SHARDING_REQUIRED: &str = "Discord closed the gateway with 4011 (sharding required): \
     the bot is in more servers than its shards may hold. Restart Coffer: it asks Discord for \
     the recommended shard count (GET /gateway/bot) at every start";

static SEEN_4011: AtomicBool = AtomicBool::new(false);
static NOTIFY: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Resolves once a shard was closed with 4011 (at once if that already happened).
pub async fn sharding_required() {
    loop {
        let notified = NOTIFY.notified();
        if SEEN_4011.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

fn saw_4011() {
    SEEN_4011.store(true, Ordering::SeqCst);
    NOTIFY.notify_waiters();
}

/// The layer `telemetry::init` adds, outside the log-level filter so `RUST_LOG=off` cannot
/// hide a 4011; its own filter keeps every other callsite as cheap as the log level makes it.
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    GatewayWatch.with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target("serenity::gateway", tracing::Level::ERROR),
    )
}

struct GatewayWatch;

struct Message(bool);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 |= format!("{value:?}").contains("Shard has too many guilds");
        }
    }
}

fn watched(meta: &tracing::Metadata<'_>) -> bool {
    meta.is_event()
        && *meta.level() == tracing::Level::ERROR
        && meta.target().starts_with("serenity::gateway")
}

impl<S: Subscriber> Layer<S> for GatewayWatch {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !watched(event.metadata()) {
            return;
        }
        let mut m = Message(false);
        event.record(&mut m);
        if m.0 {
            saw_4011();
        }
    }
}
