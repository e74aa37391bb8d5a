//! The maintenance subcommands (`verify`, `backup`, `restore`, `export`, `import`,
//! `import-legacy`, `admin set-password`, `demo`): each opens the store, does one job, prints
//! what it did and returns the exit code. `run` (the app itself) is in `main.rs`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use coffer::clock::SystemClock;
use coffer::config::Config;
use coffer::domain::GuildId;
use coffer::store::admins::AdminRole;

use crate::cli::{BackupCommand, ExportFormat, RoleArg};
use crate::run;

pub(crate) fn demo(mut config: Config, seed_only: bool) -> anyhow::Result<ExitCode> {
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

pub(crate) fn verify(
    config: &Config,
    guild: Option<GuildId>,
    json: bool,
) -> anyhow::Result<ExitCode> {
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
pub(crate) fn cli_error(e: coffer::Error) -> anyhow::Error {
    match e {
        coffer::Error::Domain(d) => anyhow::anyhow!("{d}"),
        coffer::Error::Store(s) => anyhow::Error::new(s),
    }
}

/// A file as given, or the snapshot of that name in the backup folder.
pub(crate) fn backup_file(config: &Config, file: &std::path::Path) -> PathBuf {
    let in_folder = config.backup_dir.join(file);
    if !file.exists() && file.components().count() == 1 && in_folder.exists() {
        in_folder
    } else {
        file.to_owned()
    }
}

pub(crate) fn backup(config: &Config, command: BackupCommand) -> anyhow::Result<ExitCode> {
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

pub(crate) fn restore(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
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

pub(crate) fn export(
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

pub(crate) fn import(config: &Config, file: &std::path::Path) -> anyhow::Result<ExitCode> {
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

pub(crate) fn import_legacy(
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

pub(crate) fn set_password(
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
