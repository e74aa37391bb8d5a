//! The DM sender: pending notices (owed by a review or an expired claim, whichever door acted)
//! -> `send_dm` -> sent, or failed with the reason. Closed DMs (50007) are routine: recorded and
//! logged once, never retried. Server errors and rate limits are retried with backoff.

use chrono::{DateTime, Utc};

use super::api::{codes, ApiError, DiscordApi};
use super::policy;
use super::worker::Worker;
use crate::services::blocking;

/// What to do after a failed DM: `Ok(delay)` to try again, `Err(reason)` to give up.
pub fn on_dm_error(
    err: &ApiError,
    attempts: u32,
    jitter: f64,
) -> Result<std::time::Duration, String> {
    match (err.status, err.code) {
        (_, Some(codes::CANNOT_DM)) => Err("the member does not accept direct messages".into()),
        (_, Some(codes::UNKNOWN_MEMBER)) => Err("the member has left the server".into()),
        (Some(429), _) => Ok(err.retry_after.unwrap_or(policy::backoff(0, jitter))),
        (None, _) | (Some(500..=599), _) => Ok(policy::backoff(attempts, jitter)),
        (Some(_), _) => Err(format!("Discord refused the message: {err}")),
    }
}

impl<A: DiscordApi> Worker<A> {
    /// Pending notices: sent, failed with the reason, or retried later (the backoff is stored
    /// on the notice). A notice sent but not recorded before a crash is sent again after the
    /// restart: one extra DM is the lesser harm than a lost one.
    pub(super) async fn notices(&mut self) -> Option<Vec<DateTime<Utc>>> {
        let guilds = self.services.guilds.clone();
        let pending = match blocking(move || guilds.pending_notices_everywhere()).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "could not read pending notices");
                return Some(vec![self.now() + chrono::Duration::seconds(30)]);
            }
        };
        let mut later = Vec::new();
        for (guild, n) in pending {
            if self.stopping() {
                return None;
            }
            if let Some(at) = n.next_attempt_at.filter(|at| *at > self.now()) {
                later.push(at);
                continue;
            }
            let attempts = n.attempts;
            let body = serde_json::json!({
                "content": n.text,
                "allowed_mentions": { "parse": [] },
            });
            let api = self.api.clone();
            let outcome = match self.call(api.send_dm(n.user, &body)).await {
                Ok(()) => Ok(()),
                Err(e) => match on_dm_error(&e, attempts, rand::random::<f64>()) {
                    Err(reason) => {
                        tracing::info!(%guild, user = %n.user, about = %n.about, %reason, "DM not delivered");
                        Err(reason)
                    }
                    Ok(delay) => {
                        let at = self.now()
                            + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                        let guilds = self.services.guilds.clone();
                        let error = e.to_string();
                        let id = n.id;
                        let stored =
                            blocking(move || guilds.retry_notice(guild, id, at, error)).await;
                        if let Err(e) = stored {
                            tracing::warn!(%guild, notice = id, error = %e, "could not record a notice retry");
                        }
                        later.push(at);
                        continue;
                    }
                },
            };
            let guilds = self.services.guilds.clone();
            if let Err(e) = blocking(move || guilds.finish_notice(guild, n.id, outcome)).await {
                tracing::warn!(%guild, notice = n.id, error = %e, "could not record a notice");
            }
        }
        Some(later)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::tests::fake::api_error as err;

    #[test]
    fn closed_dms_are_routine_and_server_errors_are_retried() {
        assert!(on_dm_error(&err(Some(403), Some(codes::CANNOT_DM)), 0, 0.5)
            .unwrap_err()
            .contains("does not accept"));
        assert!(on_dm_error(&err(Some(500), None), 0, 0.5).is_ok());
        assert!(on_dm_error(&err(None, None), 3, 0.5).is_ok());
        let mut limited = err(Some(429), None);
        limited.retry_after = Some(std::time::Duration::from_millis(1500));
        assert_eq!(
            on_dm_error(&limited, 0, 0.5),
            Ok(std::time::Duration::from_millis(1500))
        );
        assert!(on_dm_error(&err(Some(400), Some(50035)), 0, 0.5).is_err());
    }
}
