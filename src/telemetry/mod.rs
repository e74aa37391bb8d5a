//! Logging: the tracing set-up `main` installs (stderr plus the in-memory ring buffer the
//! dashboard reads) and that buffer itself. Nothing here decides what is logged.

pub mod logbuf;

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
