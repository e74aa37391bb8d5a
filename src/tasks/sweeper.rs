//! The periodic sweep: every `SWEEP_EVERY`, `Tasks::sweep_all` expires late claims and tasks
//! past their end. Runs off the async workers and stops (after any sweep in flight) when told.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::Tasks;

/// How often the sweep runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A running sweeper; `stop` it before closing the store.
pub struct Sweeper {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<()>,
}

impl Sweeper {
    /// Sweeps once now, then every `every`, until stopped.
    pub fn spawn(tasks: Tasks, every: Duration) -> Sweeper {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tick.tick() => sweep_once(tasks.clone()).await,
                }
            }
        });
        Sweeper { stop, handle }
    }

    /// Stops the loop and waits for a sweep in flight, so the store can close after this.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.handle.await {
            tracing::warn!(error = %e, "the task sweeper ended abnormally");
        }
    }
}

async fn sweep_once(tasks: Tasks) {
    match crate::store::blocking(move || tasks.sweep_all()).await {
        Ok(changed) => {
            for (guild, r) in changed {
                tracing::info!(
                    %guild,
                    expired_claims = r.expired_claims.len(),
                    expired_tasks = r.expired_tasks.len(),
                    "task sweep"
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "task sweep failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fx, member, G};
    use super::*;
    use crate::domain::tasks::ClaimStatus;
    use crate::domain::UserId;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sweeper_expires_late_claims_on_its_own_and_stops_when_told() {
        let f = fx();
        let t = f.create("Tidy up", 10, 2);
        f.tasks.claim(G, t.id, UserId(5), &member(5)).unwrap();
        f.advance(chrono::Duration::hours(25));
        let sweeper = Sweeper::spawn(f.tasks.clone(), Duration::from_millis(20));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while f.stored_claim(t.id, 5).map(|c| c.status) != Some(ClaimStatus::Expired) {
            assert!(std::time::Instant::now() < deadline, "never swept");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(f.task(t.id).current_claims, 0);
        sweeper.stop().await;
        // Stopped: a claim that becomes late now stays as stored.
        f.tasks.claim(G, t.id, UserId(6), &member(6)).unwrap();
        f.advance(chrono::Duration::hours(25));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            f.stored_claim(t.id, 6).map(|c| c.status),
            Some(ClaimStatus::InProgress)
        );
    }
}
