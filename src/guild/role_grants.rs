//! Role rewards after the fact: a task or shop reward records a pending grant in its own
//! transaction; once Discord has answered the role change, the outcome is recorded here.

use super::Guilds;
use crate::domain::{DomainError, GuildId};
use crate::error::Error;
use crate::store::roles::RoleGrant;

impl Guilds {
    /// Records what Discord answered for grant `id`: `Ok(())` marks it granted, `Err(reason)`
    /// failed with the reason (shown on the dashboard). An unknown id is refused.
    pub fn finish_role_grant(
        &self,
        guild: GuildId,
        id: u64,
        outcome: Result<(), String>,
    ) -> Result<RoleGrant, Error> {
        self.store.write(guild, |w| {
            w.finish_role_grant(id, outcome.clone())?
                .ok_or_else(|| DomainError::NotFound(format!("Role grant {id}")).into())
        })
    }

    /// A failed attempt to try again at `at`; the backoff survives a restart.
    pub fn retry_role_grant(
        &self,
        guild: GuildId,
        id: u64,
        at: chrono::DateTime<chrono::Utc>,
        error: String,
    ) -> Result<Option<RoleGrant>, Error> {
        Ok(self
            .store
            .write(guild, |w| w.retry_role_grant(id, at, error.clone()))?)
    }

    /// One grant, by id.
    pub fn role_grant(&self, guild: GuildId, id: u64) -> Result<Option<RoleGrant>, Error> {
        Ok(self.store.read(guild, |r| r.role_grant(id))?)
    }

    /// Every role grant of the guild, oldest first; `pending_only` for the work list.
    pub fn role_grants(&self, guild: GuildId, pending_only: bool) -> Result<Vec<RoleGrant>, Error> {
        Ok(self.store.read(guild, |r| r.role_grants(pending_only))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{RoleId, UserId};
    use crate::store::roles::GrantState;

    #[test]
    fn finishing_a_grant_records_success_or_the_failure_reason() {
        let ts = crate::testing::store();
        let guilds = Guilds::new(ts.store.clone());
        let g = GuildId(1);
        let (a, b) = ts
            .store
            .write(g, |w| {
                Ok::<_, Error>((
                    w.record_role_grant(UserId(5), RoleId(9), "task:1")?,
                    w.record_role_grant(UserId(6), RoleId(9), "task:1")?,
                ))
            })
            .unwrap();
        let ok = guilds.finish_role_grant(g, a.id, Ok(())).unwrap();
        assert_eq!(ok.state, GrantState::Granted);
        let failed = guilds
            .finish_role_grant(g, b.id, Err("Missing Permissions".into()))
            .unwrap();
        assert_eq!(failed.state, GrantState::Failed);
        assert_eq!(failed.error.as_deref(), Some("Missing Permissions"));
        assert!(guilds.role_grants(g, true).unwrap().is_empty());
        assert_eq!(guilds.role_grants(g, false).unwrap().len(), 2);
        let err = guilds.finish_role_grant(g, 99, Ok(())).unwrap_err();
        assert_eq!(err.user_message(), "Role grant 99 not found.");
    }
}
