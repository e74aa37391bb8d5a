//! The reconciler: makes Discord's messages match the store (the `discord_sync` outbox), and
//! the side-effect worker both doors share (role grants, DMs). A pure planner decides what to
//! do for one record; a loop applies it through `DiscordApi`; an error policy decides when to
//! look again. Wakes on store events, runs a full pass every 10 minutes, and resumes pending
//! work after a restart. Reads and writes go through services only (`Guilds::sync_backlog`,
//! `finish_sync`, ...), never the store. Files: `plan` (pure planner), `render` (object ->
//! message body), `policy` (Discord errors -> verdict), `worker` (the loop), `calls` (nonce,
//! invalid-response budget), `grants` (role grants).

pub mod api;
mod calls;
mod grants;
mod notices;
pub mod plan;
pub mod policy;
pub mod render;
pub mod rest;
mod worker;

use std::sync::Arc;
use std::time::Duration;

pub use api::{ApiError, DiscordApi, MessageBody};

use crate::services::Services;

/// Timing knobs (tests shorten them).
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// A full pass over every record, whatever the events said.
    pub full_pass_every: Duration,
    /// Timeout of every Discord request.
    pub request_timeout: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full_pass_every: Duration::from_secs(600),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// The running reconciler; `stop` it before closing the store.
pub struct SyncHandle {
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<()>,
    passes: tokio::sync::watch::Receiver<u64>,
}

impl SyncHandle {
    /// How many passes have finished; changes after each (tests wait on it).
    pub fn passes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.passes.clone()
    }

    /// Stops the loop after the action in flight, so the store can close after this.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.handle.await {
            tracing::warn!(error = %e, "the Discord sync loop ended abnormally");
        }
    }
}

/// Starts the reconciler and the side-effect worker over `api`.
pub fn spawn<A: DiscordApi>(services: Services, api: Arc<A>, opts: SyncOptions) -> SyncHandle {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let (worker, passes) = worker::Worker::new(services, api, opts, stop_rx);
    let handle = tokio::spawn(async move {
        let run = worker.run();
        tokio::pin!(run);
        tokio::select! {
            _ = &mut run => {}
            // Asked to stop (or the handle was dropped): the loop finishes the action in
            // flight, waits no longer, and ends.
            _ = stopped => {
                let _ = stop_tx.send(true);
                run.await;
            }
        }
    });
    SyncHandle {
        stop,
        handle,
        passes,
    }
}

#[cfg(test)]
mod tests;
