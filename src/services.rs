//! `Services`: the one handle both doors (Discord, web) hold. Every read or write a door needs
//! is a method of one of these services; `app.rs` builds it. Also the two ways service work
//! runs off the async workers: `blocking` (one call) and `Periodic` (background work on a
//! timer: the task sweep, pruning old idempotency keys).

use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::accounts::Accounts;
use crate::announce::Announce;
use crate::backup::{Backups, Retention};
use crate::clock::SharedClock;
use crate::custom::CustomCommands;
use crate::economy::Economy;
use crate::events::EventBus;
use crate::guild::{CommandLog, Guilds};
use crate::instance::{BotStatus, Instance};
use crate::shop::Shop;
use crate::store::Store;
use crate::tasks::Tasks;

/// Every service, cheap to clone; the doors (web, Discord) hold one.
#[derive(Clone)]
pub struct Services {
    pub economy: Economy,
    pub shop: Shop,
    pub tasks: Tasks,
    pub announce: Announce,
    pub custom: CustomCommands,
    pub guilds: Guilds,
    pub command_log: CommandLog,
    pub instance: Instance,
    /// Dashboard accounts and their login sessions.
    pub accounts: Accounts,
    /// Change events, for subscribers (SSE, the Discord side's listeners).
    pub bus: EventBus,
    /// The clock every rule reads (settable in tests).
    pub clock: SharedClock,
    pub discord_enabled: bool,
    /// The Discord connection's live state (the Discord side updates it, the web reports it).
    pub bot: BotStatus,
    /// Snapshot backups of the database.
    pub backups: Backups,
    /// Hours between scheduled backups (`None`: no schedule).
    pub backup_every_hours: Option<u32>,
}

impl Services {
    pub fn new(store: Store, discord_enabled: bool) -> Services {
        let economy = Economy::new(store.clone());
        Services {
            shop: Shop::new(store.clone(), economy.clone()),
            tasks: Tasks::new(store.clone()),
            announce: Announce::new(store.clone()),
            custom: CustomCommands::new(store.clone()),
            guilds: Guilds::new(store.clone()),
            command_log: CommandLog::new(store.clone()),
            instance: Instance::new(store.clone()),
            accounts: Accounts::new(store.clone()),
            bus: store.bus().clone(),
            clock: store.clock().clone(),
            economy,
            discord_enabled,
            bot: BotStatus::new(discord_enabled),
            backups: Backups::new(
                store.clone(),
                store
                    .path()
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join("backups"),
                Retention::default(),
            ),
            backup_every_hours: None,
        }
    }

    /// Backups in `dir` kept by `retention`, taken every `every_hours` while running.
    pub fn with_backups(
        mut self,
        dir: std::path::PathBuf,
        retention: Retention,
        every_hours: Option<u32>,
    ) -> Services {
        self.backups = Backups::new(self.backups.store().clone(), dir, retention);
        self.backup_every_hours = every_hours;
        self
    }

    /// The clock's current reading.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Waits up to `within` for something another part of Coffer does after a commit (the
    /// sync worker granting a role, posting a review): `check` answers (settled, value) and
    /// runs again after each event of `kinds` in `guild`. The value of the last check comes
    /// back either way, so the caller can say what has and has not happened yet.
    pub async fn settle<T: Send + 'static>(
        &self,
        guild: crate::domain::GuildId,
        kinds: &[crate::events::EventKind],
        within: std::time::Duration,
        check: impl Fn(&Services) -> Result<(bool, T), crate::Error> + Send + Sync + 'static,
    ) -> Result<T, crate::Error> {
        let mut sub = self.bus.subscribe(crate::events::EventFilter {
            guilds: [guild].into_iter().collect(),
            kinds: kinds.iter().copied().collect(),
        });
        let deadline = tokio::time::Instant::now() + within;
        let check = std::sync::Arc::new(check);
        loop {
            let (s, c) = (self.clone(), check.clone());
            let (settled, value) = blocking(move || c(&s)).await?;
            if settled || tokio::time::Instant::now() >= deadline {
                return Ok(value);
            }
            match tokio::time::timeout_at(deadline, sub.recv()).await {
                // Closed: nothing more will happen; the next check is the last.
                Ok(Err(crate::events::RecvError::Closed)) | Err(_) => {
                    let (s, c) = (self.clone(), check.clone());
                    return blocking(move || c(&s)).await.map(|(_, v)| v);
                }
                Ok(_) => {}
            }
        }
    }
}

/// Runs blocking service work (a redb transaction underneath) off the async worker threads,
/// inside the caller's tracing span. A panic or cancellation of the work is an internal error.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::Error> + Send + 'static,
) -> Result<T, crate::Error> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .await
        .map_err(|e| crate::Error::Store(crate::store::StoreError::Join(e.to_string())))?
}

/// How often the backup schedule looks whether a snapshot is due.
const BACKUP_CHECK_EVERY: Duration = Duration::from_secs(3600);
/// How often late claims and tasks past their end are expired.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often idempotency records older than `domain::op::KEEP_KEYS_HOURS` are deleted.
pub const PRUNE_KEYS_EVERY: Duration = Duration::from_secs(3600);

impl Services {
    /// Starts the background work; `stop` each before closing the store.
    pub fn spawn_background(&self) -> Vec<Periodic> {
        let tasks = self.tasks.clone();
        let instance = self.instance.clone();
        let mut jobs = vec![
            Periodic::spawn("task sweep", SWEEP_EVERY, move || {
                for (guild, r) in tasks.sweep_all()? {
                    tracing::info!(
                        %guild,
                        expired_claims = r.expired_claims.len(),
                        expired_tasks = r.expired_tasks.len(),
                        "task sweep"
                    );
                }
                Ok(())
            }),
            Periodic::spawn("idempotency key pruning", PRUNE_KEYS_EVERY, move || {
                let pruned = instance.prune_idempotency_keys()?;
                if pruned > 0 {
                    tracing::info!(pruned, "old idempotency keys deleted");
                }
                Ok(())
            }),
        ];
        if let Some(hours) = self.backup_every_hours {
            let backups = self.backups.clone();
            let every = chrono::Duration::hours(i64::from(hours));
            // Checked hourly; a snapshot is taken when the newest is `hours` old (so a
            // restart neither skips one nor takes an extra one).
            jobs.push(Periodic::spawn(
                "scheduled backup",
                BACKUP_CHECK_EVERY,
                move || backups.scheduled(every).map(drop),
            ));
        }
        jobs
    }
}

/// A job run on a blocking thread once at start and then every `every`, until stopped. A
/// failed run is logged and the next one comes on time.
pub struct Periodic {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<()>,
    runs: watch::Receiver<u64>,
}

impl Periodic {
    pub fn spawn<F>(name: &'static str, every: Duration, job: F) -> Periodic
    where
        F: Fn() -> Result<(), crate::Error> + Clone + Send + 'static,
    {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let (count, runs) = watch::channel(0u64);
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tick.tick() => {
                        if let Err(e) = blocking(job.clone()).await {
                            tracing::warn!(job = name, error = %e, "background job failed");
                        }
                        count.send_modify(|n| *n += 1);
                    }
                }
            }
        });
        Periodic { stop, handle, runs }
    }

    /// How many runs have finished; changes after each one (tests wait on it).
    pub fn runs(&self) -> watch::Receiver<u64> {
        self.runs.clone()
    }

    /// Stops the loop and waits for a run in flight, so the store can close after this.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.handle.await {
            tracing::warn!(error = %e, "a background job ended abnormally");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::domain::tasks::ClaimStatus;
    use crate::domain::{GuildId, OpMeta, Source, UserId};

    /// Waits (in paused time, so no real sleeping) until `runs` reaches `n`.
    async fn until_runs(runs: &mut watch::Receiver<u64>, n: u64) {
        runs.wait_for(|r| *r >= n).await.expect("job loop alive");
    }

    #[tokio::test(start_paused = true)]
    async fn a_periodic_job_runs_at_start_then_every_period_and_not_after_stop() {
        let calls = Arc::new(AtomicU64::new(0));
        let c = calls.clone();
        let job = Periodic::spawn("count", Duration::from_secs(60), move || {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(())
        });
        let mut runs = job.runs();
        until_runs(&mut runs, 1).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1, "runs once at start");
        let start = tokio::time::Instant::now();
        until_runs(&mut runs, 3).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(120),
            "then once a minute"
        );
        job.stop().await;
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3, "nothing runs after stop");
    }

    #[tokio::test(start_paused = true)]
    async fn the_task_sweep_expires_late_claims_on_its_own() {
        let ts = crate::testing::store();
        let services = Services::new(ts.store.clone(), false);
        let g = GuildId(5);
        let task = services
            .tasks
            .create(
                g,
                crate::domain::tasks::NewTask {
                    name: "Tidy up".into(),
                    reward: 10,
                    duration_hours: 2,
                    ..Default::default()
                },
                &crate::domain::Actor::System.into(),
            )
            .unwrap();
        let member = OpMeta::user(UserId(5), Source::DiscordCommand);
        services
            .tasks
            .claim(g, task.id, UserId(5), &member)
            .unwrap();
        ts.clock.advance(chrono::Duration::hours(3));
        let jobs = services.spawn_background();
        let mut runs = jobs[0].runs();
        until_runs(&mut runs, 1).await;
        let claim = services.tasks.task_claims(g, task.id).unwrap();
        assert_eq!(claim[0].status, ClaimStatus::Expired);
        for j in jobs {
            j.stop().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn settle_answers_on_the_event_that_settles_it_or_with_the_last_value_at_the_deadline() {
        let ts = crate::testing::store();
        let services = Services::new(ts.store.clone(), false);
        let g = GuildId(5);
        let kinds = [crate::events::EventKind::RoleGrantRecorded];
        let check = move |s: &Services| {
            let grants = s.guilds.role_grants(g, false)?;
            Ok((!grants.is_empty(), grants.len()))
        };
        // Nothing happens: the last value after the wait.
        let started = std::time::Instant::now();
        let n = services
            .settle(g, &kinds, Duration::from_millis(200), check)
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert!(started.elapsed() >= Duration::from_millis(200));
        // A grant recorded meanwhile wakes it at once (long before its 30 s limit).
        let store = ts.store.clone();
        let started = std::time::Instant::now();
        let waiting = tokio::spawn({
            let s = services.clone();
            async move { s.settle(g, &kinds, Duration::from_secs(30), check).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        blocking(move || {
            store.write(g, |w| {
                w.record_role_grant(UserId(1), crate::domain::RoleId(2), "test")?;
                Ok(())
            })
        })
        .await
        .unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), 1);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
