//! Logging: the tracing set-up `main` installs (stderr plus the in-memory ring buffer the
//! dashboard reads) and that buffer itself. Nothing here decides what is logged.

pub mod logbuf;

/// Installs the process-wide subscriber: `RUST_LOG` wins over `level`; an unparsable filter
/// falls back to `info`. Lines go to stderr and to `logbuf::global()` (`GET /api/logs`).
pub fn init(level: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(logbuf::global().layer())
        .init();
}
