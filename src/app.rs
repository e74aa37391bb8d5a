//! Wiring: opens the store, builds the services, serves the web door and (with a token) the
//! Discord bot, and shuts everything down gracefully when the shutdown future resolves.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::clock::SharedClock;
use crate::config::Config;
use crate::services::Services;
use crate::store::{Store, StoreOptions};

pub fn open_store(config: &Config, clock: SharedClock) -> anyhow::Result<Store> {
    let store = Store::open(
        &config.db_path(),
        clock,
        StoreOptions {
            defaults: config.defaults.clone(),
            event_buffer: config.event_buffer,
            backup_dir: Some(config.backup_dir.clone()),
            cache_bytes: config.cache_bytes,
        },
    )?;
    Ok(store)
}

/// Sets glibc's allocator up for a long-running process with a few busy threads; call first
/// thing, before any other thread starts (`main` and the benchmark do).
/// - Every block of 1 MiB or more goes back to the system when freed. By default glibc raises
///   that threshold after the first large free, so the ~19 MiB an argon2 password check works
///   in stayed with whichever thread's arena ran it: a burst of logins left the process 20-60
///   MB bigger, by chance of which arenas the threads got.
/// - At most two arenas instead of eight per core: each thread that allocated kept its own
///   arena's free space. Measured with `cargo bench --bench store -- --only big` (1,000,000
///   entries): resident size 86-93 MiB before these two settings, 53-57 MiB after; the
///   service rows wrote as fast either way.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Makes sure someone can log in to the dashboard: `ADMIN_USERNAME`/`ADMIN_PASSWORD` create that
/// account when it does not exist; when it exists with another password they reset it (ending
/// its sessions) and say so at warn; when the password already matches nothing changes. With
/// neither and no account at all, an `admin` account gets a random password that is printed
/// once (only its hash is stored).
pub fn bootstrap_admin(config: &Config, store: &Store) -> anyhow::Result<()> {
    use rand::distributions::{Alphanumeric, DistString};
    let accounts = crate::accounts::Accounts::new(store.clone());
    match (&config.auth.admin_username, &config.auth.admin_password) {
        (Some(user), Some(pw)) => {
            let existing = accounts.account(user)?;
            if existing
                .as_ref()
                .is_some_and(|a| crate::accounts::verify_password(&a.password_hash, pw.expose()))
            {
                tracing::info!(username = %user, "dashboard account from ADMIN_USERNAME exists and ADMIN_PASSWORD matches; unchanged");
                return Ok(());
            }
            accounts
                .set_password(user, pw.expose(), None)
                .map_err(|e| {
                    anyhow::anyhow!("ADMIN_USERNAME/ADMIN_PASSWORD: {}", e.user_message())
                })?;
            if existing.is_some() {
                tracing::warn!(username = %user, "ADMIN_PASSWORD differs from the stored password: the password of this existing dashboard account was RESET and its open sessions were ended; unset ADMIN_PASSWORD to keep passwords changed with `coffer admin set-password`");
            } else {
                tracing::info!(username = %user, "created the dashboard account from ADMIN_USERNAME/ADMIN_PASSWORD");
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            anyhow::bail!("set both ADMIN_USERNAME and ADMIN_PASSWORD, or neither");
        }
        (None, None) => {
            if accounts.list()?.is_empty() {
                let pw = Alphanumeric.sample_string(&mut rand::rngs::OsRng, 20);
                accounts.set_password("admin", &pw, None).map_err(|e| {
                    anyhow::anyhow!("creating the first admin: {}", e.user_message())
                })?;
                println!(
                    "Created the dashboard account `admin` with password: {pw}\n\
                     It is shown only this once. Change it with `coffer admin set-password admin`."
                );
            }
        }
    }
    Ok(())
}

/// The start-up warning for a dashboard reachable from outside without https: `PORT` set (a
/// hosted deploy) or a non-loopback bind, and no `web.public_url` starting with https://.
pub fn public_deploy_warning(config: &Config) -> Option<String> {
    let exposed = config.web.port_from_env || !config.web.bind.ip().is_loopback();
    (exposed && !config.web.is_https()).then(|| {
        format!(
            "the dashboard listens on {} but web.public_url is not an https:// address: login \
             cookies are sent without Secure and no HSTS is set. For a public deploy, serve it \
             behind https and set web.public_url (e.g. COFFER_WEB__PUBLIC_URL=https://coffer.example.org)",
            config.web.bind
        )
    })
}

/// Runs Coffer until `shutdown` resolves: web on `listener`, the bot when a token is set.
pub async fn run_until(
    config: Config,
    clock: SharedClock,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || open_store(&config, clock))
            .await
            .context("opening the store")??
    };
    {
        let (config, store) = (config.clone(), store.clone());
        tokio::task::spawn_blocking(move || bootstrap_admin(&config, &store))
            .await
            .context("creating the dashboard account")??;
    }
    if let Some(warning) = public_deploy_warning(&config) {
        tracing::warn!("{warning}");
    }
    let discord_enabled = config.discord.token.is_some();
    if !discord_enabled {
        tracing::warn!(
            "DISCORD_TOKEN is not set: the Discord bot is off; the dashboard and API still run"
        );
    }
    let services = Services::new(store.clone(), discord_enabled).with_backups(
        config.backup_dir.clone(),
        config.backup_retention,
        config.backup_every_hours,
    );
    let background = services.spawn_background();
    let addr = listener.local_addr()?;
    tracing::info!(%addr, db = %config.db_path().display(), "Coffer is running; dashboard at http://{addr}/");
    let web_settings = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || crate::web::WebSettings::from_config(&config))
            .await
            .context("loading the JWT signing key")??
    };
    let app = crate::web::router(services.clone(), web_settings);
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopped = stop.clone();
    let mut server = tokio::spawn(crate::web::serve::serve(
        listener,
        app,
        crate::web::serve::ServeLimits::default(),
        async move { stopped.notified().await },
    ));
    let mut bot = if discord_enabled {
        match crate::discord::start(&config.discord, services.clone()).await {
            Ok(bot) => Some(bot),
            Err(e) => {
                stop.notify_one();
                let _ = server.await;
                for job in background {
                    job.stop().await;
                }
                return Err(e.context("starting the Discord bot"));
            }
        }
    } else {
        None
    };
    // After the bot started: the REST client it checked the token with is the one sync uses.
    let sync = bot.as_ref().map(|b| {
        let opts = crate::sync::SyncOptions::default();
        let api = crate::sync::rest::RestApi::new(b.rest(), opts.request_timeout);
        crate::sync::spawn(services.clone(), Arc::new(api), opts)
    });
    let bot_stopped = async {
        match bot.as_mut() {
            Some(b) => b.stopped().await,
            None => std::future::pending().await,
        }
    };
    let outcome: anyhow::Result<()> = tokio::select! {
        _ = shutdown => {
            tracing::info!("shutting down");
            Ok(())
        }
        res = &mut server => {
            res.context("web server task")?.context("web server")?;
            anyhow::bail!("the web server stopped unexpectedly");
        }
        res = bot_stopped => Err(match res {
            Ok(()) => anyhow::anyhow!("the Discord bot stopped unexpectedly"),
            Err(e) => e,
        }),
    };
    // End live streams (SSE) first, or the server's graceful shutdown would wait on them.
    services.bus.close();
    // `notify_one` keeps a permit, so the server sees it even if not yet waiting.
    stop.notify_one();
    // Before the bot and the store: the reconciler holds the services and the REST client.
    if let Some(sync) = sync {
        sync.stop().await;
    }
    if let Some(bot) = bot {
        if let Err(e) = bot.stop().await {
            tracing::warn!(error = %format!("{e:#}"), "the Discord bot did not stop cleanly");
        }
    }
    for job in background {
        job.stop().await;
    }
    match tokio::time::timeout(std::time::Duration::from_secs(10), &mut server).await {
        Ok(res) => res.context("web server task")?.context("web server")?,
        Err(_) => {
            tracing::warn!("open HTTP requests did not finish within 10 s; closing them");
            server.abort();
        }
    }
    drop(services);
    release_store(store).await;
    outcome?;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Waits (briefly) until no task still holds the store, so the database file is closed and
/// unlocked when `run_until` returns: Discord event handlers and blocking store calls that were
/// in flight at shutdown finish on their own.
async fn release_store(store: Store) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.handle_count() > 1 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                handles = store.handle_count() - 1,
                "some tasks still hold the database after shutdown"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn config_with(user: &str, pw: &str) -> Config {
        let mut c = Config::defaults();
        c.auth.admin_username = Some(user.into());
        c.auth.admin_password = Some(Secret::new(pw));
        c
    }

    /// Issue 10 point 4: ADMIN_USERNAME/ADMIN_PASSWORD reset the password on every start and
    /// kept old sessions; now an unchanged password changes nothing, and a different one resets
    /// it, ends the sessions and says so at warn.
    #[test]
    fn admin_env_creates_once_and_a_different_password_resets_and_ends_sessions() {
        let logs = Arc::new(crate::telemetry::logbuf::LogBuffer::new(50));
        let _guard = crate::testing::capture_logs(&logs);
        let ts = crate::testing::store();
        let accounts = crate::accounts::Accounts::new(ts.store.clone());
        bootstrap_admin(&config_with("root", "first password"), &ts.store).unwrap();
        let ttl = chrono::Duration::days(1);
        let s = accounts.start_session("root", ttl).unwrap();
        // A restart with the same env: the session survives.
        bootstrap_admin(&config_with("root", "first password"), &ts.store).unwrap();
        assert!(accounts.live_session(&s.family, "root").unwrap().is_some());
        // A different ADMIN_PASSWORD: reset, sessions ended, and a warning naming the reset.
        bootstrap_admin(&config_with("root", "second password"), &ts.store).unwrap();
        assert!(accounts.live_session(&s.family, "root").unwrap().is_none());
        assert!(accounts
            .verify_login("root", "second password")
            .unwrap()
            .is_some());
        let warn = logs.query(crate::telemetry::logbuf::rank("warn"), None, 10);
        assert!(
            warn.iter()
                .any(|l| l.message.contains("RESET") && l.message.contains("root")),
            "{warn:#?}"
        );
    }

    /// Issue 10 point 8: a public deploy without https is warned about.
    #[test]
    fn a_public_bind_without_an_https_public_url_is_warned_about() {
        let mut c = Config::defaults();
        assert!(public_deploy_warning(&c).is_none(), "loopback is fine");
        c.web.port_from_env = true;
        let w = public_deploy_warning(&c).unwrap();
        assert!(w.contains("web.public_url") && w.contains("https"), "{w}");
        c.web.public_url = Some("https://coffer.example.org".into());
        assert!(public_deploy_warning(&c).is_none());
        c.web.public_url = Some("http://coffer.example.org".into());
        assert!(public_deploy_warning(&c).is_some());
    }
}
