//! Logging: the tracing set-up `main` installs (stderr plus the in-memory ring buffer the
//! dashboard reads), that buffer itself, and the level an admin can change while Coffer runs
//! (`set_level`, a `reload` of the filter). Nothing here decides what is logged.

pub mod logbuf;

use std::sync::OnceLock;

type Reload = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// Replaces the output filter; set once by `init`.
static RELOAD: OnceLock<Reload> = OnceLock::new();

/// Changes the level of every log output (stderr and the dashboard's buffer) until the next
/// start: `level` is a level name or a filter such as `info,coffer=debug`. Without `init`
/// (tests, maintenance commands) it changes nothing and says so.
pub fn set_level(level: &str) -> Result<bool, String> {
    match RELOAD.get() {
        Some(reload) => reload(level).map(|()| true),
        None => Ok(false),
    }
}

/// Installs the process-wide subscriber: `RUST_LOG` wins over `level`; an unparsable filter
/// falls back to `info`. Lines go to stderr (`format`: pretty text or one JSON object per
/// line) and to `logbuf::global()` (`GET /api/logs`).
pub fn init(level: &str, format: crate::config::LogFormat) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use tracing_subscriber::Layer as _;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let _ = RELOAD.set(Box::new(move |level: &str| {
        let next = tracing_subscriber::EnvFilter::try_new(level)
            .map_err(|e| format!("`{level}` is not a log filter: {e}"))?;
        handle
            .reload(next)
            .map_err(|e| format!("the log level could not be changed: {e}"))
    }));
    // The filter applies to the output layers only: the gateway watch must see serenity's
    // errors whatever the log level.
    type Boxed = Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync>;
    let stderr: Boxed = match format {
        crate::config::LogFormat::Pretty => Box::new(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        ),
        crate::config::LogFormat::Json => Box::new(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_writer(std::io::stderr),
        ),
    };
    tracing_subscriber::registry()
        .with(
            stderr
                .and_then(logbuf::global().layer())
                .with_filter(filter),
        )
        .with(crate::discord::gateway_watch::layer())
        .init();
}
