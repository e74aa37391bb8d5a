//! The role-grant worker: pending grants (whichever door recorded them) -> `add_member_role`
//! -> granted, or failed with the reason in words; server errors are retried with backoff.

use chrono::{DateTime, Utc};

use std::collections::HashMap;

use super::api::{codes, DiscordApi};
use super::policy;
use super::worker::Worker;
use crate::domain::{GuildId, RoleId};
use crate::services::blocking;

impl<A: DiscordApi> Worker<A> {
    /// Pending role grants: granted, failed with the reason, or retried later (the backoff is
    /// stored on the grant, so a restart keeps it; adding a role twice is harmless anyway).
    pub(super) async fn grants(&mut self) -> Option<Vec<DateTime<Utc>>> {
        let guilds = self.services.guilds.clone();
        let pending = match blocking(move || guilds.pending_role_grants_everywhere()).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "could not read pending role grants");
                return Some(vec![self.now() + chrono::Duration::seconds(30)]);
            }
        };
        let mut later = Vec::new();
        // A role the bot may not give (or that is gone) fails every grant of it in this pass
        // after one call: no hammering.
        let mut refused: HashMap<(GuildId, RoleId), String> = HashMap::new();
        for (guild, g) in pending {
            if self.stopping() {
                return None;
            }
            if let Some(reason) = refused.get(&(guild, g.role)).cloned() {
                self.finish_grant(guild, g.id, Err(reason)).await;
                continue;
            }
            if let Some(at) = g.next_attempt_at.filter(|at| *at > self.now()) {
                later.push(at);
                continue;
            }
            let attempts = g.attempts;
            let api = self.api.clone();
            let outcome = match self.call(api.add_member_role(guild, g.user, g.role)).await {
                Ok(()) => Ok(()),
                Err(e) => match policy::on_role_error(&e, attempts, rand::random::<f64>()) {
                    Err(reason) => {
                        let about_role = matches!(
                            e.code,
                            Some(
                                codes::MISSING_PERMISSIONS
                                    | codes::MISSING_ACCESS
                                    | codes::UNKNOWN_ROLE
                            )
                        );
                        if about_role {
                            refused.insert((guild, g.role), reason.clone());
                        }
                        Err(reason)
                    }
                    Ok(delay) => {
                        let at = self.now()
                            + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                        let guilds = self.services.guilds.clone();
                        let error = e.to_string();
                        let id = g.id;
                        let stored =
                            blocking(move || guilds.retry_role_grant(guild, id, at, error)).await;
                        if let Err(e) = stored {
                            tracing::warn!(%guild, grant = id, error = %e, "could not record a role grant retry");
                        }
                        later.push(at);
                        continue;
                    }
                },
            };
            self.finish_grant(guild, g.id, outcome).await;
        }
        Some(later)
    }

    async fn finish_grant(&mut self, guild: GuildId, id: u64, outcome: Result<(), String>) {
        let guilds = self.services.guilds.clone();
        if let Err(e) = blocking(move || guilds.finish_role_grant(guild, id, outcome)).await {
            tracing::warn!(%guild, grant = id, error = %e, "could not record a role grant");
        }
    }
}
