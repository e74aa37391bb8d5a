//! The `coffer` command line: parse, set up logging, hand over to `app` or a maintenance
//! command. Exit codes: 0 ok, 1 failure, 2 configuration error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use coffer::clock::SystemClock;
use coffer::config::Config;
use coffer::domain::GuildId;
use coffer::store::admins::AdminRole;

#[derive(Parser, Debug)]
#[command(
    name = "coffer",
    version,
    about = "A Discord economy bot with an admin dashboard"
)]
struct Cli {
    /// Configuration file (default: ./config.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Where the database lives (overrides storage.data_dir).
    #[arg(long, global = true, value_name = "PATH")]
    data_dir: Option<PathBuf>,
    /// Log filter: error, warn, info, debug, trace (overrides log.level; RUST_LOG wins).
    #[arg(long, global = true, value_name = "LEVEL")]
    log_level: Option<String>,
    /// Log lines on stderr: pretty (human-readable) or json (one object per line; overrides
    /// log.format).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the bot and the dashboard (the default).
    Run,
    /// A sample server in a separate database (data/demo/): 100 members, a shop, tasks,
    /// announcements and a month of transactions; then the dashboard, with its URL and login.
    Demo {
        /// Create (or reuse) the demo database and exit without serving.
        #[arg(long)]
        seed_only: bool,
    },
    /// Recompute every balance from the ledger and report mismatches (exit 1 if any).
    Verify {
        /// Check only this server.
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Dashboard accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Snapshot backups of the database (in storage.backup_dir).
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
    /// Replace the database with a backup (Coffer must be stopped). The file is verified
    /// first, and the current database is backed up before it is replaced.
    Restore {
        /// A backup file, or the name of one in the backup folder.
        file: PathBuf,
    },
    /// Everything of every server (or one) as JSON, or a server's ledger as CSV, to stdout or
    /// a file.
    Export {
        /// Only this server (required for csv when the database holds several).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Write here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Import a JSON export (Coffer stopped): everything is checked first, then imported in one
    /// transaction or not at all. A server already holding exactly this data is left alone.
    Import { file: PathBuf },
    /// Migrate one server from the Python bot Coffer replaces: its folder of JSON files (users
    /// and balances, inventory, shop items, tasks and claims, configuration, transaction log).
    /// Checked first (every problem with its file and JSON path), then imported in one
    /// transaction or not at all; running it again changes nothing.
    ImportLegacy {
        folder: PathBuf,
        /// The server id (default: the folder's name, when it is a number).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
enum BackupCommand {
    /// Take a consistent snapshot now (while Coffer is stopped; a running Coffer takes them
    /// with `POST /api/backups` and on its schedule).
    Create,
    /// List the snapshots, newest first.
    List,
    /// Check a snapshot: its checksum, that it opens, and the ledger of every server in it
    /// (exit 1 if anything is wrong).
    Verify {
        /// A backup file, or the name of one in the backup folder.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create a dashboard account or reset its password. Reads the password from stdin
    /// (without echo on a terminal).
    SetPassword {
        username: String,
        /// Role for a new account, or a new role for an existing one.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LogFormatArg {
    Pretty,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum RoleArg {
    Admin,
    Viewer,
}

fn main() -> ExitCode {
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
fn run(
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

fn demo(mut config: Config, seed_only: bool) -> anyhow::Result<ExitCode> {
    use coffer::demo;
    let dir = config.data_dir.join("demo");
    config.backup_dir = dir.join("backups");
    config.data_dir = dir;
    // The demo never connects to Discord, whatever the environment says.
    config.discord.token = None;
    let now = chrono::Utc::now();
    let clock = coffer::clock::ManualClock::new(now);
    let store = coffer::app::open_store(&config, clock.clone())?;
    println!(
        "Preparing the demo database {} (a month of activity, done once)...",
        config.db_path().display()
    );
    let s = demo::seed(&store, &clock, now).map_err(cli_error)?;
    drop(store);
    println!(
        "Demo server {} ({}): {} members, {} shop items, {} tasks, {} announcements, {} ledger entries.",
        demo::GUILD,
        if s.created { "created" } else { "reused" },
        s.members,
        s.items,
        s.tasks,
        s.announcements,
        s.ledger_entries
    );
    if seed_only {
        return Ok(ExitCode::SUCCESS);
    }
    run(
        config,
        Some(|addr| {
            format!(
                "Demo dashboard: http://{addr}/  (log in as `{}` with password `{}`; Discord is off)",
                coffer::demo::USERNAME,
                coffer::demo::PASSWORD
            )
        }),
    )
}

fn verify(config: &Config, guild: Option<GuildId>, json: bool) -> anyhow::Result<ExitCode> {
    let store = coffer::app::open_store(config, Arc::new(SystemClock))?;
    let economy = coffer::economy::Economy::new(store.clone());
    let guilds = match guild {
        Some(g) => vec![g],
        None => store.guild_ids()?,
    };
    let mut reports = Vec::new();
    for g in guilds {
        reports.push(economy.validate_guild(g)?);
    }
    let all_ok = reports.iter().all(|r| r.ok);
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        if reports.is_empty() {
            println!("No servers in {}.", config.db_path().display());
        }
        for r in &reports {
            let status = if r.ok { "OK" } else { "MISMATCH" };
            println!(
                "guild {}: {status}: {} accounts, {} ledger entries, {} in circulation",
                r.guild,
                r.accounts,
                r.entries,
                coffer::domain::money::group_thousands(r.total_currency)
            );
            for m in &r.mismatches {
                let stored = m
                    .stored_balance
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "none".into());
                println!(
                    "  user {}: stored {stored}, ledger sum {}",
                    m.user, m.expected_balance
                );
                for p in &m.problems {
                    println!("    - {p}");
                }
            }
        }
        println!(
            "{} server(s) checked: {}",
            reports.len(),
            if all_ok {
                "all consistent"
            } else {
                "MISMATCHES FOUND"
            }
        );
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A service error for the terminal: the refusal in words, or the storage error in full (the
/// operator at the command line needs the path and the cause, not the member-facing words).
fn cli_error(e: coffer::Error) -> anyhow::Error {
    match e {
        coffer::Error::Domain(d) => anyhow::anyhow!("{d}"),
        coffer::Error::Store(s) => anyhow::Error::new(s),
    }
}

/// A file as given, or the snapshot of that name in the backup folder.
fn backup_file(config: &Config, file: &std::path::Path) -> PathBuf {
    let in_folder = config.backup_dir.join(file);
    if !file.exists() && file.components().count() == 1 && in_folder.exists() {
        in_folder
    } else {
        file.to_owned()
    }
}

fn backup(config: &Config, command: BackupCommand) -> anyhow::Result<ExitCode> {
    use coffer::backup::{self, Backups};
    match command {
        BackupCommand::Create => {
            let store = match coffer::store::Store::open(
                &config.db_path(),
                Arc::new(SystemClock),
                Default::default(),
            ) {
                Err(coffer::store::StoreError::AlreadyOpen { .. }) => anyhow::bail!(
                    "Coffer is running with {}: take the backup through the running app \
                     (POST /api/backups, or wait for its schedule), or stop it first",
                    config.db_path().display()
                ),
                other => other?,
            };
            let b = Backups::new(store, config.backup_dir.clone(), config.backup_retention);
            let made = b.create(None).map_err(cli_error)?;
            println!(
                "Backup written: {} ({} bytes)",
                config.backup_dir.join(&made.name).display(),
                made.bytes
            );
        }
        BackupCommand::List => {
            let all = backup::list_dir(&config.backup_dir).map_err(cli_error)?;
            if all.is_empty() {
                println!("No backups in {}.", config.backup_dir.display());
            }
            for f in all {
                println!(
                    "{}  {:>12} bytes  {}{}",
                    f.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    f.bytes,
                    f.name,
                    if f.checksummed { "" } else { "  (no checksum)" }
                );
            }
        }
        BackupCommand::Verify { file } => {
            let path = backup_file(config, &file);
            let r = backup::verify(&path, Arc::new(SystemClock)).map_err(cli_error)?;
            if r.ok {
                println!(
                    "{}: OK ({} server(s), {} accounts, {} ledger entries{})",
                    path.display(),
                    r.servers,
                    r.accounts,
                    r.entries,
                    if r.checksum_ok == Some(true) {
                        ", checksum matches"
                    } else {
                        ", no checksum file"
                    }
                );
            } else {
                println!("{}: DAMAGED", path.display());
                for p in &r.problems {
                    println!("  - {p}");
                }
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn restore(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let path = backup_file(config, file);
    let r = coffer::backup::restore(
        &path,
        &config.db_path(),
        &config.backup_dir,
        Arc::new(SystemClock),
    )
    .map_err(cli_error)?;
    if let Some(prev) = &r.previous {
        println!(
            "The database it replaced was saved as {}.",
            config.backup_dir.join(&prev.name).display()
        );
    }
    println!(
        "Restored {} into {} ({} server(s), {} ledger entries).",
        path.display(),
        r.restored.display(),
        r.verify.servers,
        r.verify.entries
    );
    Ok(ExitCode::SUCCESS)
}

fn export(
    config: &Config,
    guild: Option<GuildId>,
    format: ExportFormat,
    output: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let store = coffer::app::open_store(config, Arc::new(SystemClock))?;
    let instance = coffer::instance::Instance::new(store.clone());
    let known = store.guild_ids()?;
    if let Some(g) = guild {
        anyhow::ensure!(
            known.contains(&g),
            "server {g} is not in {}",
            config.db_path().display()
        );
    }
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match format {
        ExportFormat::Json => instance.write_export_of(guild, store.now(), &mut out)?,
        ExportFormat::Csv => {
            let g = match (guild, known.as_slice()) {
                (Some(g), _) => g,
                (None, [only]) => *only,
                (None, _) => anyhow::bail!(
                    "the CSV export is one server's ledger: name it with --guild ({} servers here)",
                    known.len()
                ),
            };
            instance.write_ledger_csv(g, &mut out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn import(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let doc: coffer::instance::ExportDoc = serde_json::from_slice(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a Coffer export (line {}, column {}): {e}; nothing imported",
            file.display(),
            e.line(),
            e.column()
        )
    })?;
    let store = coffer::app::open_store(config, Arc::new(SystemClock))?;
    let instance = coffer::instance::Instance::new(store);
    let r = match instance.import(doc) {
        Ok(r) => r,
        Err(coffer::Error::Domain(d)) => {
            eprintln!("coffer: {}: {d}", file.display());
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(cli_error(e)),
    };
    println!("{r}");
    Ok(ExitCode::SUCCESS)
}

fn import_legacy(
    config: &Config,
    folder: &std::path::Path,
    guild: Option<GuildId>,
) -> anyhow::Result<ExitCode> {
    let store = coffer::app::open_store(config, Arc::new(SystemClock))?;
    let (doc, legacy) = match coffer::instance::legacy::read_folder(folder, guild, store.defaults())
    {
        Ok(read) => read,
        Err(problems) => {
            eprintln!(
                "coffer: {}: {} problem(s), nothing imported:",
                folder.display(),
                problems.len()
            );
            for p in &problems {
                eprintln!("  - {p}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let instance = coffer::instance::Instance::new(store);
    let r = match instance.import(doc) {
        Ok(r) => r,
        Err(coffer::Error::Domain(d)) => {
            eprintln!("coffer: {}: {d}", folder.display());
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(cli_error(e)),
    };
    println!(
        "Read {} from {}.",
        legacy.files.join(", "),
        folder.display()
    );
    for n in &legacy.notes {
        println!("  note: {n}");
    }
    if r.servers_imported == 0 {
        println!(
            "Server {} is already imported exactly like this: nothing changed.",
            legacy.guild
        );
    } else {
        println!(
            "Imported server {}: {} members, {} transactions from the log + {} opening/correction \
             entries, {} shop items, {} inventory rows, {} tasks, {} claims.",
            legacy.guild,
            legacy.users,
            legacy.log_entries,
            legacy.opening_entries,
            legacy.items,
            legacy.inventory_rows,
            legacy.tasks,
            legacy.claims
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn set_password(
    config: &Config,
    username: &str,
    role: Option<RoleArg>,
) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;
    coffer::accounts::validate_username(username).map_err(|e| anyhow::anyhow!("{e}"))?;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {username}: "))?;
        let again = rpassword::prompt_password("Repeat it: ")?;
        if first != again {
            anyhow::bail!("the two passwords differ; nothing changed");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let store = coffer::app::open_store(config, Arc::new(SystemClock))?;
    let role = role.map(|r| match r {
        RoleArg::Admin => AdminRole::Admin,
        RoleArg::Viewer => AdminRole::Viewer,
    });
    let existed = store.admin(username)?.is_some();
    let account = coffer::accounts::set_password(&store, username, &password, role)
        .map_err(|e| anyhow::anyhow!("{}", e.user_message()))?;
    println!(
        "Password set for `{}` (role: {:?}).",
        account.username, account.role
    );
    if existed {
        println!(
            "Every open dashboard session of `{}` was ended.",
            account.username
        );
    }
    Ok(ExitCode::SUCCESS)
}
