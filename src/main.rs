//! The `coffer` command line: parse, set up logging, hand over to `app` or a maintenance
//! command. Exit codes: 0 ok, 1 failure, 2 configuration error.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use coffer::clock::SystemClock;
use coffer::config::Config;
use coffer::domain::GuildId;

mod cli;
mod commands;

use cli::{AdminCommand, Cli, Command, LogFormatArg};
use commands::{backup, demo, export, import, import_legacy, restore, set_password, verify};

fn main() -> ExitCode {
    coffer::app::tune_allocator();
    let cli = Cli::parse();
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let mut config = match Config::load(cli.config.as_deref(), &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("coffer: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    if let Some(level) = cli.log_level {
        if !coffer::config::is_log_filter(&level) {
            eprintln!("coffer: configuration error: --log-level: `{level}` is not a log level");
            return ExitCode::from(2);
        }
        config.log_level = level;
    }
    match cli.log_format {
        Some(LogFormatArg::Pretty) => config.log_format = coffer::config::LogFormat::Pretty,
        Some(LogFormatArg::Json) => config.log_format = coffer::config::LogFormat::Json,
        None => {}
    }
    coffer::telemetry::init(&config.log_level, config.log_format);
    let result = match cli.command.unwrap_or(Command::Run) {
        Command::Run => run(config, None),
        Command::Demo { seed_only } => demo(config, seed_only),
        Command::Verify { guild, json } => verify(&config, guild.map(GuildId), json),
        Command::Admin {
            command: AdminCommand::SetPassword { username, role },
        } => set_password(&config, &username, role),
        Command::Backup { command } => backup(&config, command),
        Command::Restore { file } => restore(&config, &file),
        Command::Export {
            guild,
            format,
            output,
        } => export(&config, guild.map(GuildId), format, output.as_deref()),
        Command::Import { file } => import(&config, &file),
        Command::ImportLegacy { folder, guild } => {
            import_legacy(&config, &folder, guild.map(GuildId))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("coffer: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs the app; `banner(address)` is printed once listening (the demo's URL and login).
pub(crate) fn run(
    config: Config,
    banner: Option<fn(std::net::SocketAddr) -> String>,
) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new()?;
    let res = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.web.bind)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.web.bind))?;
        if let (Some(banner), Ok(addr)) = (banner, listener.local_addr()) {
            println!("{}", banner(addr));
        }
        let shutdown = shutdown_signal()?;
        coffer::app::run_until(config, Arc::new(SystemClock), listener, shutdown).await
    });
    // Bounded: a task that never yields (serenity 0.12 spins waiting for a close frame on a
    // socket that is already gone) must not keep the process alive after `run_until` is done.
    rt.shutdown_timeout(std::time::Duration::from_secs(3));
    res?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed before this returns, so a signal
/// that arrives while Coffer is still starting is not lost (nor does it kill the process).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
